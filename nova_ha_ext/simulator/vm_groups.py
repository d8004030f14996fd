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

"""VM groups, as xapi has them: licence-gated, and left out of the
published datamodel.

A pool's scenario says which xapi it runs (``vm_groups``):

* ``unsupported`` (the default, as the published datamodel): an xapi
  without VM groups; ``VM_group.*`` and ``VM.set_groups`` answer
  ``MESSAGE_METHOD_UNKNOWN``;
* ``unlicensed``: ``pool.restrictions`` has ``restrict_vm_groups=true``;
  ``VM_group.create`` and ``VM.set_groups`` fail with
  ``LICENCE_RESTRICTION [VM_groups]`` (``Pool_features.assert_enabled``)
  and placement ignores groups (``Pool_features.is_enabled``);
* ``licensed``: ``restrict_vm_groups=false``; groups are kept and placement
  honours anti-affinity.

What xapi does with an anti-affinity group (xapi at e2ee48d6):

* ``VM.start`` without a host (``xapi_vm_helpers.ml``
  ``choose_host_for_vm_no_wlb``, ``rank_hosts_by_placement``): the VM's
  affinity host first, then the hosts by how many running VMs of its group
  they hold, fewest first (``host_to_vm_count_map``);
* an HA restart on the host of the restart plan (``xapi_ha_vm_failover.ml``
  ``restart_auto_run_vms``: ``compute_restart_plan``, a bin packing that
  knows nothing of groups, then ``VM.start_on`` the planned host) does
  **not** honour it; the restarts without a plan (no complete plan, the
  final retry of a failed start) are ``VM.start`` without a host and do.
  The simulator's failover follows both (:mod:`.failover`);
* ``host.evacuate`` plans anti-affinity VMs apart
  (``compute_anti_aff_evac_plan``); the simulator does not model
  ``host.evacuate``.
"""

from nova_ha_ext.simulator.database import Failure
from nova_ha_ext.simulator import datamodel
from nova_ha_ext.xenapi import pool_state

FEATURE = 'VM_groups'
#: ``pool.restrictions`` key of the feature (features.ml, a negative flag).
RESTRICTION = 'restrict_vm_groups'
ANTI_AFFINITY = 'anti_affinity'


class VMGroups(object):
    """The VM groups of one pool; every method runs under the pool's lock."""

    def __init__(self, pool, mode):
        self.pool = pool
        self.mode = mode

    @property
    def db(self):
        return self.pool.db

    def restrictions(self):
        """The ``pool.restrictions`` entry of the feature, if xapi has it."""
        if self.mode == 'unsupported':
            return {}
        return {RESTRICTION: 'true' if self.mode == 'unlicensed'
                else 'false'}

    def knows(self, message):
        """Whether this pool's xapi has the message at all."""
        return message.feature is None or self.mode != 'unsupported'

    @property
    def enabled(self):
        """``Pool_features.is_enabled ~f:VM_groups``."""
        return self.mode == 'licensed'

    def _assert_enabled(self):
        if not self.enabled:
            raise Failure('LICENCE_RESTRICTION', FEATURE)

    def create(self, record):
        """VM_group.create (xapi_vm_group.ml ``create``)."""
        self._assert_enabled()
        values = self.pool.constructor_values('VM_group', record)
        values['VMs'] = []
        return self.db.create('VM_group', values).ref

    def destroy(self, group):
        """VM_group.destroy: its VMs leave it (xapi_vm_group.ml)."""
        for ref in group['VMs']:
            vm = self.db.tables['VM'].get(ref)
            if vm is not None:
                self.db.update(vm, groups=[g for g in vm['groups']
                                           if g != group.ref])
        self.db.destroy(group)

    def set_groups(self, vm, groups):
        """VM.set_groups (xapi_vm.ml ``set_groups``)."""
        self._assert_enabled()
        if (vm['is_control_domain'] or vm['is_a_template'] or
                vm['is_a_snapshot']):
            raise Failure('OPERATION_NOT_ALLOWED',
                          'Control domains, templates, and snapshots cannot '
                          'be added to VM groups.')
        if len(groups) > 1:
            raise Failure('TOO_MANY_GROUPS')
        new = [g.ref for g in groups]
        # One relation, two fields (datamodel.ml: VM.groups, VM_group.VMs).
        for ref in vm['groups']:
            if ref not in new and ref in self.db.tables['VM_group']:
                group = self.db.tables['VM_group'][ref]
                self.db.update(group, VMs=[v for v in group['VMs']
                                           if v != vm.ref])
        for group in groups:
            if vm.ref not in group['VMs']:
                self.db.update(group, VMs=group['VMs'] + [vm.ref])
        self.db.update(vm, groups=new)

    def vm_destroyed(self, vm):
        """A destroyed VM leaves its groups."""
        for ref in vm['groups']:
            group = self.db.tables['VM_group'].get(ref)
            if group is not None:
                self.db.update(group, VMs=[v for v in group['VMs']
                                           if v != vm.ref])

    def anti_affinity_group(self, vm):
        """The VM's anti-affinity group, when placement honours it.

        xapi_vm_helpers.ml ``vm_has_anti_affinity``: the first group of the
        VM whose placement is ``anti_affinity``, if the feature is enabled.
        """
        if not self.enabled:
            return None
        for ref in vm['groups']:
            group = self.db.tables['VM_group'].get(ref)
            if group is not None and group['placement'] == ANTI_AFFINITY:
                return group
        return None

    def members_on(self, group):
        """Host ref -> how many VMs of the group run there.

        xapi_vm_helpers.ml ``host_to_vm_count_map``: a VM counts on the
        host it is scheduled to be resident on, else on the host it is
        Running on (a Paused VM does not count).
        """
        counts = {}
        for ref in group['VMs']:
            vm = self.db.tables['VM'].get(ref)
            if vm is None:
                continue
            host = vm['scheduled_to_be_resident_on']
            if (host == datamodel.NULL_REF and
                    vm['power_state'] == pool_state.RUNNING):
                host = vm['resident_on']
            if host != datamodel.NULL_REF:
                counts[host] = counts.get(host, 0) + 1
        return counts

    def rank(self, vm):
        """``rank(host_ref)``: the VM's placement rank on a host, or None.

        Lower is better: a host with fewer running VMs of the VM's
        anti-affinity group first (``rank_hosts_by_placement``). None when
        the VM has no such group, or the feature is not enabled.
        """
        group = self.anti_affinity_group(vm)
        if group is None:
            return None
        counts = self.members_on(group)
        return lambda host_ref: counts.get(host_ref, 0)
