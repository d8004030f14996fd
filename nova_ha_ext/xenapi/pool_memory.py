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

"""A pool's memory as XenServer HA's failover planner counts it.

xapi plans with "ultra-conservative" figures
(``xapi_ha_vm_failover.ml`` ``compute_restart_plan``): a host's free memory
is its total less its own overhead less, for every VM resident on it,
``memory_static_max`` (``memory_dynamic_max`` for the control domain) plus
the VM's ``memory_overhead``; a protected VM needs its
``memory_static_max`` plus overhead wherever it restarts. The hosts that
count are the live set (live and enabled), and the protected VMs those
that should always run (``ha_always_run`` with priority ``restart``):
best-effort VMs are not in the plan.

:class:`PoolMemory` is that view of one read of the pool, and
:meth:`PoolMemory.headroom` the biggest protected VM a host can still take
(:func:`failover_plan.headroom`).
"""

import dataclasses
import typing as ty

from nova_ha_ext.xenapi import failover_plan
from nova_ha_ext.xenapi import pool_state

MIB = 1024 * 1024

#: The VMs whose memory the plan counts: every VM that runs (the control
#: domains too) and the protected ones that wait for a restart.
PLANNED_VMS_QUERY = ('field "power_state"="Running" or '
                     'field "power_state"="Paused" or '
                     '(field "ha_always_run"="true" and '
                     'field "ha_restart_priority"="restart")')

_RUNNING = pool_state.RESIDENT_POWER_STATES


def _int(value):
    return int(value or 0)


def vm_size(rec):
    """Memory a VM needs to restart: static max plus its overhead."""
    return _int(rec.get('memory_static_max')) + _int(
        rec.get('memory_overhead'))


def is_protected(rec):
    """helpers.ml vm_should_always_run: in the failover plan."""
    return (bool(rec.get('ha_always_run')) and
            rec.get('ha_restart_priority') == pool_state.PROTECTED)


@dataclasses.dataclass(frozen=True)
class PoolMemory:
    """The planner's hosts and protected VMs of one read of a pool."""

    #: ``(host ref, free bytes)`` of the live set, by host uuid.
    hosts: ty.Tuple[ty.Tuple[str, int], ...] = ()
    #: ``(vm ref, bytes, host ref or None)`` of the protected VMs, by VM
    #: uuid; None when the VM runs on no host of the live set.
    protected: ty.Tuple[ty.Tuple[str, int, ty.Optional[str]], ...] = ()
    #: Every host of the pool, live or not (it chooses xapi's heuristic).
    total_hosts: int = 0

    @classmethod
    def from_records(cls, ha, vm_records):
        """Build it from a :class:`pool_state.PoolHAState` and VM records.

        :param vm_records: ref -> record of at least the VMs
            :data:`PLANNED_VMS_QUERY` selects.
        """
        used = {}
        for rec in vm_records.values():
            host = rec.get('resident_on')
            if rec.get('power_state') not in _RUNNING or not host:
                continue
            memory = (rec.get('memory_dynamic_max')
                      if rec.get('is_control_domain')
                      else rec.get('memory_static_max'))
            used[host] = used.get(host, 0) + _int(memory) + _int(
                rec.get('memory_overhead'))
        live = sorted((h for h in ha.hosts if h.live and h.enabled),
                      key=lambda h: h.uuid)
        hosts = tuple((h.ref, h.memory_total - h.memory_overhead -
                       used.get(h.ref, 0)) for h in live)
        refs = {ref for ref, _free in hosts}
        protected = []
        for ref, rec in sorted(vm_records.items(),
                               key=lambda item: item[1].get('uuid', '')):
            if not is_protected(rec) or rec.get('is_control_domain'):
                continue
            host = rec.get('resident_on')
            running = rec.get('power_state') in _RUNNING
            protected.append((ref, vm_size(rec),
                              host if running and host in refs else None))
        return cls(hosts=hosts, protected=tuple(protected),
                   total_hosts=len(ha.hosts))

    def headroom(self, host_ref, failures):
        """Bytes of the biggest protected VM ``host_ref`` can take.

        0 when the host is not in the live set or the pool has no plan for
        ``failures`` host failures even now.
        """
        return failover_plan.headroom(self.hosts, self.protected,
                                      self.total_hosts, failures, host_ref,
                                      granularity=MIB)
