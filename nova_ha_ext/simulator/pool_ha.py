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

"""A pool's HA configuration and failover plan, as xapi keeps them.

The plan follows ``xapi_ha_vm_failover.ml``: the hosts that count are the
"live set" (live and enabled, ``get_live_set``); protected VMs not running
on one of them -- Halted ones waiting for a restart, and those on a
disabled or dead host -- are placed first (``compute_restart_plan``); if
one cannot be placed there is no plan at all (``plan_for_n_failures``
answers ``No_plan_exists``).  The bin packing itself is :mod:`ha`, plain
functions over memory figures.
"""

from nova_ha_ext.simulator import database
from nova_ha_ext.simulator.database import Failure
from nova_ha_ext.simulator import ha
from nova_ha_ext.simulator import scenario as scenario_mod
from nova_ha_ext.xenapi import pool_state

RUNNING_STATES = pool_state.RESIDENT_POWER_STATES


class PoolHA(object):
    """pool.enable_ha and friends, and the plan they keep current.

    Runs under the owning pool's lock.
    """

    def __init__(self, pool):
        self.pool = pool
        self.db = pool.db

    # The failover plan --------------------------------------------------

    def in_live_set(self, state):
        """Whether a host counts in the plan: live and enabled."""
        pool = self.pool
        return pool.is_live(state) and pool.host_obj(state)['enabled']

    def _view(self, delta=(), disabled=()):
        """The planner's hosts and offline protected VM sizes.

        ``delta`` holds ``(vm_ref, hostname, size, protected, sign)``
        hypothetical changes: +1 adds a VM to a host, -1 removes one.
        ``disabled`` are hostnames to leave out as if disabled.
        """
        pool = self.pool
        loads = {}
        offline = []
        for name, state in pool.hosts.items():
            protected = [size for size, count in state.protected.items()
                         for _i in range(count)]
            if self.in_live_set(state) and name not in disabled:
                loads[name] = [pool.free(state), protected]
            else:
                offline.extend(protected)
        arriving = set()
        for ref, name, size, protected, sign in delta:
            if sign > 0:
                arriving.add(ref)
            if name not in loads:
                if protected and sign < 0 and size in offline:
                    offline.remove(size)
                elif protected and sign > 0:
                    offline.append(size)
                continue
            loads[name][0] -= sign * size
            if protected:
                if sign > 0:
                    loads[name][1].append(size)
                elif size in loads[name][1]:
                    loads[name][1].remove(size)
        vms = self.db.tables['VM']
        offline.extend(pool.footprint(vms[ref]) for ref in pool.waiting
                       if ref not in arriving)
        hosts = [ha.HostLoad(name, free, tuple(prot), True)
                 for name, (free, prot) in loads.items()]
        return hosts, offline

    def refresh(self):
        """Recompute pool.ha_plan_exists_for and ha_overcommitted.

        As xapi_ha_vm_failover.ml update_pool_status and
        mark_pool_as_overcommitted.
        """
        obj = self.pool.pool_obj
        if not obj['ha_enabled']:
            self.db.update(obj, ha_plan_exists_for=0, ha_overcommitted=False)
            return
        ntol = obj['ha_host_failures_to_tolerate']
        hosts, offline = self._view()
        settled = ha.restart_offline(hosts, offline)
        if settled is None:
            plan_for, overcommitted = 0, True
        else:
            plan_for = ha.max_failures(settled, limit=ntol)
            overcommitted = plan_for < ntol
        self.db.update(obj, ha_plan_exists_for=plan_for,
                       ha_overcommitted=overcommitted)

    def assert_kept(self, delta=(), disabled=(), failures=None):
        """Refuse a change that would break the failover plan.

        xapi_ha_vm_failover.ml assert_configuration_change_preserves_ha_plan:
        only a plan for ``ha_plan_exists_for`` failures that exists now and
        would not after the change blocks it.
        """
        obj = self.pool.pool_obj
        if not obj['ha_enabled'] or obj['ha_allow_overcommit']:
            return
        needed = obj['ha_plan_exists_for']
        hosts, offline = self._view()
        if not ha.plan_exists(hosts, needed, offline):
            return
        hosts, offline = self._view(delta, disabled)
        after = needed if failures is None else failures
        if not ha.plan_exists(hosts, after, offline):
            raise Failure('HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN')

    def vm_delta(self, vm, hostname, sign, priority=None):
        """One hypothetical change for :meth:`assert_kept`."""
        protected = (vm['ha_restart_priority'] if priority is None
                     else priority) == 'restart'
        return (vm.ref, hostname, self.pool.footprint(vm), protected, sign)

    def max_failures(self, priorities=None):
        """pool.ha_compute_(hypothetical_)max_host_failures_to_tolerate."""
        delta = []
        vms = self.db.tables['VM']
        for ref, priority in (priorities or {}).items():
            vm = vms[ref]
            if vm['power_state'] not in RUNNING_STATES:
                continue
            state = self.pool.state_of(vm['resident_on'])
            delta.append(self.vm_delta(vm, state.hostname, -1))
            delta.append(self.vm_delta(vm, state.hostname, +1, priority))
        hosts, offline = self._view(delta)
        settled = ha.restart_offline(hosts, offline)
        return 0 if settled is None else ha.max_failures(settled)

    def exists(self, failures):
        """pool.ha_failover_plan_exists."""
        hosts, offline = self._view()
        return ha.plan_exists(hosts, failures, offline)

    # Configuration ------------------------------------------------------

    def turn_on(self, sr, configuration):
        """HA on, with one statefile on ``sr``."""
        pool = self.pool
        statefile = database.new_ref()
        self.db.update(pool.pool_obj, ha_enabled=True,
                       ha_statefiles=[statefile],
                       ha_configuration=dict(configuration),
                       ha_cluster_stack='xhad')
        addresses = [s.address for s in pool.hosts.values()]
        for state in pool.hosts.values():
            self.db.update(pool.host_obj(state), ha_statefiles=[statefile],
                           ha_network_peers=[a for a in addresses
                                             if a != state.address])

    def enable(self, srs, configuration):
        """pool.enable_ha, with xapi's checks in xapi's order."""
        pool = self.pool
        if pool.pool_obj['ha_enabled']:
            raise Failure('HA_IS_ENABLED')
        if len(pool.hosts) < 2:
            raise Failure('HA_TOO_FEW_HOSTS')
        for state in pool.hosts.values():
            if not pool.is_live(state):
                raise Failure('HOST_OFFLINE', state.ref)
        if srs:
            sr = srs[0]
        else:
            capable = [sr for sr in self.db.all('SR')
                       if sr['shared'] and sr['type'] not in
                       scenario_mod.STATEFILE_INCAPABLE_SR_TYPES]
            if not capable:
                raise Failure('CANNOT_CREATE_STATE_FILE')
            sr = capable[0]
        if sr['type'] in scenario_mod.STATEFILE_INCAPABLE_SR_TYPES:
            raise Failure('INCOMPATIBLE_STATEFILE_SR', sr['type'])
        if not sr['shared']:
            raise Failure('HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED', sr.ref)
        self.turn_on(sr, configuration)
        self.refresh()

    def disable(self):
        """pool.disable_ha."""
        pool = self.pool
        if not pool.pool_obj['ha_enabled']:
            raise Failure('HA_NOT_ENABLED')
        self.db.update(pool.pool_obj, ha_enabled=False, ha_statefiles=[],
                       ha_configuration={}, ha_cluster_stack='')
        for state in pool.hosts.values():
            self.db.update(pool.host_obj(state), ha_statefiles=[],
                           ha_network_peers=[])
        self.refresh()

    def set_failures_to_tolerate(self, value):
        """pool.set_ha_host_failures_to_tolerate.

        xapi_ha_vm_failover.ml assert_nfailures_change_preserves_ha_plan.
        """
        if value < 0:
            raise Failure('INVALID_VALUE', 'ha_host_failures_to_tolerate',
                          value)
        self.assert_kept(failures=value)
        self.db.update(self.pool.pool_obj,
                       ha_host_failures_to_tolerate=value)
        self.refresh()

    def set_allow_overcommit(self, value):
        """pool.set_ha_allow_overcommit."""
        self.db.update(self.pool.pool_obj, ha_allow_overcommit=value)
        self.refresh()
