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
answers ``No_plan_exists``).  The planning itself is
:mod:`nova_ha_ext.xenapi.failover_plan`, xapi's binpack.ml as plain
functions, shared with the driver mixin so the headroom it reports is
what this pool then accepts.  Hosts are ordered by uuid and VMs by uuid,
as ``compute_restart_plan`` orders them.
"""

from nova_ha_ext.simulator import alerts
from nova_ha_ext.simulator import database
from nova_ha_ext.simulator.database import Failure
from nova_ha_ext.simulator import datamodel
from nova_ha_ext.simulator import scenario as scenario_mod
from nova_ha_ext.xenapi import failover_plan
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

    def _sorted_states(self):
        pool = self.pool
        return sorted(pool.hosts.values(),
                      key=lambda s: pool.host_obj(s)['uuid'])

    def _view(self, delta=(), disabled=()):
        """The planner's live hosts and protected VMs.

        Returns ``(hosts, vms)`` as :func:`failover_plan.restart_plan`
        takes them: ``[(hostname, free)]`` and ``[(ref, size, hostname or
        None)]``.  ``delta`` holds ``(vm_ref, hostname, size, protected,
        sign)`` hypothetical changes (xapi's ``configuration_change``): +1
        a VM arrives on a host, -1 it leaves.  ``disabled`` are hostnames
        to leave out as if disabled (``hosts_to_disable``).
        """
        pool = self.pool
        free = {}
        vms = {}
        for state in self._sorted_states():
            live = self.in_live_set(state) and state.hostname not in disabled
            if live:
                free[state.hostname] = pool.free(state)
            for ref, size in state.protected.items():
                vms[ref] = [size, state.hostname if live else None]
        table = self.db.tables['VM']
        for ref in pool.waiting:
            vms[ref] = [pool.footprint(table[ref]), None]
        for ref, name, size, protected, sign in delta:
            if name in free:
                free[name] -= sign * size
            if sign < 0:
                if ref in vms:
                    vms[ref][1] = None
            elif protected:
                vms[ref] = [size, name if name in free else None]
            else:
                vms.pop(ref, None)
        hosts = list(free.items())
        ordered = sorted(vms, key=lambda ref: table[ref]['uuid'])
        return hosts, [(ref, vms[ref][0], vms[ref][1]) for ref in ordered]

    def plan_for(self, failures, delta=(), disabled=()):
        """plan_for_n_failures: True for Plan_exists_for_all_VMs."""
        hosts, vms = self._view(delta, disabled)
        return failover_plan.plan_for_n_failures(
            hosts, vms, len(self.pool.hosts), failures)

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
        if self.plan_for(ntol):
            plan_for, overcommitted = ntol, False
        else:
            plan_for = min(ntol, self.max_failures())
            overcommitted = True
            self._alert_overcommitted(obj, plan_for)
        self.db.update(obj, ha_plan_exists_for=plan_for,
                       ha_overcommitted=overcommitted)

    def _alert_overcommitted(self, obj, plan_for):
        """The alerts of mark_pool_as_overcommitted.

        A drop in the failures planned for, with the new figure as body;
        and, on the transition only, that the pool is overcommitted.
        """
        if plan_for < obj['ha_plan_exists_for']:
            alerts.alert(self.db, alerts.HA_POOL_DROP_IN_PLAN_EXISTS_FOR,
                         'Pool', obj['uuid'], str(plan_for))
        if not obj['ha_overcommitted']:
            alerts.alert(
                self.db, alerts.HA_POOL_OVERCOMMITTED, 'Pool', obj['uuid'],
                "The failover tolerance for pool '%s' has dropped and the "
                "initially specified number of host failures to tolerate "
                "can no longer be guaranteed" % obj['name_label'])

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
        if not self.plan_for(needed):
            return
        after = needed if failures is None else failures
        if not self.plan_for(after, delta, disabled):
            raise Failure('HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN')

    def vm_delta(self, vm, hostname, sign, priority=None):
        """One hypothetical change for :meth:`assert_kept`."""
        protected = (vm['ha_restart_priority'] if priority is None
                     else priority) == 'restart'
        return (vm.ref, hostname, self.pool.footprint(vm), protected, sign)

    def max_failures(self, priorities=None):
        """pool.ha_compute_(hypothetical_)max_host_failures_to_tolerate.

        xapi_pool.ml ha_compute_hypothetical_max_host_failures_to_tolerate:
        with ``priorities``, the protected VMs are exactly those it gives
        ``restart``, whatever the pool protects now.
        """
        hosts, vms = self._view()
        if priorities is not None:
            pool = self.pool
            table = self.db.tables['VM']
            live = dict(hosts)
            vms = []
            for ref in sorted((r for r, p in priorities.items()
                               if p == 'restart'),
                              key=lambda r: table[r]['uuid']):
                vm = table[ref]
                host = None
                if (vm['power_state'] in RUNNING_STATES and
                        vm['resident_on'] != datamodel.NULL_REF):
                    host = pool.state_of(vm['resident_on']).hostname
                vms.append((ref, pool.footprint(vm),
                            host if host in live else None))
        return failover_plan.max_failures(hosts, vms, len(self.pool.hosts))

    def exists(self, failures):
        """pool.ha_failover_plan_exists."""
        return self.plan_for(failures)

    def restart_plan(self):
        """compute_restart_plan: where the waiting protected VMs restart.

        ``{vm ref: hostname}`` for the protected VMs that run on no host
        of the live set (hosts that are up).
        """
        pool = self.pool
        hosts, vms = self._view()
        up = {s.hostname for s in pool.hosts.values() if s.mode == 'up'}
        hosts = [(h, free) for h, free in hosts if h in up]
        vms = [(ref, size, h if h in up else None) for ref, size, h in vms]
        plan = failover_plan.restart_plan(hosts, vms, len(pool.hosts))
        return dict(plan.plan)

    def vm_failover_plan(self, failed_hosts, failed_vms):
        """pool.ha_compute_vm_failover_plan.

        xapi_pool.ml ha_compute_vm_failover_plan: the hosts that are live
        (host_metrics.live; enabled or not) and not among ``failed_hosts``
        take ``failed_vms`` by compute_evacuation_plan's bin packing, in
        the order given; a VM that is not agile says why
        (Agility.vm_assert_agile), one that fits nowhere
        HOST_NOT_ENOUGH_FREE_MEMORY.
        """
        pool = self.pool
        failed = set(failed_hosts)
        hosts = [(s.ref, pool.free(s)) for s in self._sorted_states()
                 if pool.is_live(s) and s.ref not in failed]
        table = self.db.tables['VM']
        result = {}
        agile = []
        for ref in failed_vms:
            error = self._agility_error(table[ref])
            if error:
                result[ref] = {'error_code': error}
            else:
                agile.append((ref, pool.footprint(table[ref])))
        plan = dict(failover_plan.biggest_fit_decreasing(agile, hosts))
        for ref, _size in agile:
            result[ref] = ({'host': plan[ref]} if ref in plan else
                           {'error_code': 'HOST_NOT_ENOUGH_FREE_MEMORY'})
        return result

    def _agility_error(self, vm):
        """agility.ml vm_assert_agile's error code for a VM's disks.

        None when every SR is shared and plugged on every enabled host
        (is_sr_properly_shared).
        """
        pool = self.pool
        for sr in pool.vm_srs(vm):
            plugged = {self.db.get('PBD', pbd)['host'] for pbd in sr['PBDs']
                       if self.db.get('PBD', pbd)['currently_attached']}
            if not sr['shared'] or any(
                    s.ref not in plugged for s in pool.hosts.values()
                    if pool.host_obj(s)['enabled']):
                return 'HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED'
        return None

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
