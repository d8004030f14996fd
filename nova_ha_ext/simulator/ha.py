# Copyright 2026 The nova-ha-ext Authors.
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""The order in which XenServer HA restarts VMs after a host failure.

Where each VM restarts is the failover plan
(:mod:`nova_ha_ext.xenapi.failover_plan`, kept by :mod:`pool_ha`); this is
when: ``xapi_ha_vm_failover.ml`` ``restart_auto_run_vms`` starts protected
VMs by ascending ``order``, then gives best-effort VMs one try.
"""

import collections


RestartCandidate = collections.namedtuple(
    'RestartCandidate', ['key', 'priority', 'order', 'start_delay', 'name'])


def order_groups(candidates):
    """VMs to start together, by ascending ``order``.

    xapi_ha_vm_failover.ml starts the VMs of one ``order`` in parallel
    and the next order when they are done; a negative order comes last
    (``order_f``).  Within a group VMs are listed by name.
    """
    def order(c):
        return c.order if c.order >= 0 else float('inf')

    groups = collections.OrderedDict()
    for c in sorted(candidates, key=lambda c: (order(c), c.name, c.key)):
        groups.setdefault(order(c), []).append(c)
    return list(groups.values())


def restart_order(candidates):
    """The order in which HA restarts VMs after a host failure.

    Protected VMs (``restart``) come first, by ascending ``order``, then by
    name so the sequence is deterministic; after starting each of them the
    restart waits its ``start_delay`` seconds.  Best-effort VMs follow in
    the same order and get a single attempt.  VMs with no restart priority
    are left halted.
    """
    def key(c):
        return (c.order, c.name, c.key)

    protected = sorted((c for c in candidates if c.priority == 'restart'),
                       key=key)
    best_effort = sorted(
        (c for c in candidates if c.priority == 'best-effort'), key=key)
    return protected, best_effort
