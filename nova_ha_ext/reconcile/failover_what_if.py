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

"""What XenServer HA would do if some hosts of a pool failed.

The pool answers, not a model of it: ``pool.ha_compute_vm_failover_plan``
is xapi's own planner (``xapi_pool.ml``), given the protected VMs running
on the hosts that would fail. Nothing is written, to the pool or to Nova.

The answer is for those hosts failing now: protected VMs already waiting
for a restart elsewhere, and best-effort VMs (tried once, after the
protected ones, wherever they fit then), are not in it.
"""

import dataclasses
import typing as ty

from nova import context as nova_context
from nova import objects

from nova_ha_ext.xenapi import pool_state

_RUNNING = pool_state.RESIDENT_POWER_STATES

#: The error xapi gives a VM that fits on no surviving host.
NO_ROOM = 'HOST_NOT_ENOUGH_FREE_MEMORY'


@dataclasses.dataclass(frozen=True)
class Restart:
    """Where one VM of a failed host would restart, or why not."""

    vm_ref: str
    vm_name: str
    nova_uuid: ty.Optional[str]
    from_host: str
    #: The hostname it would restart on; None when it would not.
    to_host: ty.Optional[str] = None
    #: xapi's error code when it would not restart.
    error: ty.Optional[str] = None
    best_effort: bool = False

    @property
    def restarts(self):
        return self.to_host is not None

    @property
    def outcome(self):
        if self.best_effort:
            return 'best-effort: one try after the protected VMs, not planned'
        if self.restarts:
            return self.to_host
        if self.error == NO_ROOM:
            return 'DOES NOT FIT (%s)' % self.error
        return 'CANNOT RESTART (%s)' % self.error

    def as_dict(self):
        return {'vm': self.vm_ref, 'vm_name': self.vm_name,
                'instance': self.nova_uuid, 'from': self.from_host,
                'restarts_on': self.to_host, 'error': self.error,
                'best_effort': self.best_effort}


@dataclasses.dataclass(frozen=True)
class WhatIf:
    rows: ty.List[Restart]
    best_effort: ty.List[Restart]


def compute(client, snapshot, failed_refs):
    """Ask the pool where the failed hosts' protected VMs would restart.

    One call beyond the snapshot's read, none when no protected VM runs on
    the failed hosts.

    :param snapshot: the pool's :class:`pool_state.PoolSnapshot`.
    :param failed_refs: refs of the hosts assumed to fail.
    """
    names = {h.ref: h.hostname for h in snapshot.ha.hosts}
    failed = set(failed_refs)
    on_failed = [vm for vm in snapshot.vms
                 if vm.resident_on in failed and vm.power_state in _RUNNING]
    protected = [vm for vm in on_failed
                 if vm.ha_restart_priority == pool_state.PROTECTED]
    answer = {}
    if protected:
        # xapi packs VMs of one size in the order given: by uuid, as its
        # restart plan orders them (snapshot.vms is by uuid).
        answer = client.call('pool.ha_compute_vm_failover_plan',
                             list(failed_refs), [vm.ref for vm in protected])
    rows = []
    for vm in protected:
        where = answer.get(vm.ref) or {}
        host = where.get('host')
        rows.append(Restart(
            vm.ref, vm.name_label, vm.nova_uuid, names[vm.resident_on],
            to_host=names.get(host) if host else None,
            error=None if host else where.get('error_code', NO_ROOM)))
    best_effort = [Restart(vm.ref, vm.name_label, vm.nova_uuid,
                           names[vm.resident_on], best_effort=True)
                   for vm in on_failed
                   if vm.ha_restart_priority == pool_state.BEST_EFFORT]
    return WhatIf(rows, best_effort)


def instance_names(context, uuids):
    """``{uuid: display name}`` of these Nova instances, one query a cell."""
    if not uuids:
        return {}
    mappings = objects.InstanceMappingList.get_by_instance_uuids(
        context, list(uuids))
    cells = {}
    for mapping in mappings:
        if mapping.cell_mapping is not None:
            cells.setdefault(mapping.cell_mapping.uuid,
                             (mapping.cell_mapping, []))[1].append(
                mapping.instance_uuid)
    names = {}
    for cell, cell_uuids in cells.values():
        with nova_context.target_cell(context, cell) as cctxt:
            for instance in objects.InstanceList.get_by_filters(
                    cctxt, {'uuid': cell_uuids}, expected_attrs=[]):
                names[instance.uuid] = instance.display_name
    return names
