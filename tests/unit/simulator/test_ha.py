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

"""Failover planning over the wire, restart order and enable_ha."""

import testtools

from nova_ha_ext.simulator import ha
from tests.unit.simulator import base

GIB = 1024 * 1024 * 1024


class RestartOrderTest(testtools.TestCase):

    def test_restart_order(self):
        c = ha.RestartCandidate
        candidates = [c('r3', 'restart', 2, 0, 'z'), c('n', '', 0, 0, 'n'),
                      c('b1', 'best-effort', 0, 0, 'b'),
                      c('r1', 'restart', 0, 5, 'y'),
                      c('r2', 'restart', 0, 0, 'x')]
        protected, best_effort = ha.restart_order(candidates)
        self.assertEqual(['r2', 'r1', 'r3'], [p.key for p in protected])
        self.assertEqual(['b1'], [b.key for b in best_effort])


VMS = [{'name_label': 'p1', 'memory_mb': 4096, 'host': 'xs-a1',
        'ha_restart_priority': 'restart'},
       {'name_label': 'p2', 'memory_mb': 4096, 'host': 'xs-a2',
        'ha_restart_priority': 'restart'},
       {'name_label': 'u1', 'memory_mb': 6144, 'power_state': 'Halted'},
       {'name_label': 'u2', 'memory_mb': 3072, 'power_state': 'Halted'}]


class PlanOverWireTest(base.SimulatorTestCase):

    def make_scenario(self):
        return base.scenario(base.pool(vms=VMS))

    def setUp(self):
        super(PlanOverWireTest, self).setUp()
        self.api = self.session().xenapi
        self.pool = self.api.pool.get_all()[0]
        self.vms = base.refs_by_name(self.api)
        self.hosts = base.refs_by_name(self.api, 'host')

    def pool_field(self, name):
        return self.api.pool.get_record(self.pool)[name]

    def test_plan_fields_and_queries(self):
        record = self.api.pool.get_record(self.pool)
        self.assertIs(True, record['ha_enabled'])
        self.assertEqual('1', record['ha_host_failures_to_tolerate'])
        self.assertEqual('1', record['ha_plan_exists_for'])
        self.assertIs(False, record['ha_overcommitted'])
        self.assertEqual(1, len(record['ha_statefiles']))
        self.assertEqual('2', self.api.pool.
                         ha_compute_max_host_failures_to_tolerate())
        self.assertTrue(self.api.pool.ha_failover_plan_exists('2'))
        self.assertFalse(self.api.pool.ha_failover_plan_exists('3'))

    def test_hypothetical_priorities(self):
        # xapi_pool.ml ha_compute_hypothetical_max_host_failures_to_tolerate:
        # the VMs the configuration gives "restart" are the protected VMs,
        # whatever the pool protects now.
        self.api.VM.start_on(self.vms['u1'], self.hosts['xs-a3'], False,
                             False)
        compute = (self.api.pool.
                   ha_compute_hypothetical_max_host_failures_to_tolerate)
        both = {self.vms['p1']: 'restart', self.vms['p2']: 'restart'}
        self.assertEqual('1', compute(both))
        # Protecting u1 (6 GiB on xs-a3) too leaves no room for it
        # elsewhere.
        self.assertEqual('0', compute(dict(both, **{
            self.vms['u1']: 'restart'})))
        # p1 alone: xapi's planner lets hosts fail one after the other
        # (binpack.ml plan_always_possible); after xs-a1, p1 restarts on
        # xs-a2 (most room), and when xs-a2 fails too it needs 4 GiB that
        # xs-a3 (2 GiB free) does not have.
        self.assertEqual('1', compute({self.vms['p1']: 'restart',
                                       self.vms['p2']: ''}))
        # Nothing protected: every host may fail (compute_max_host_failures
        # bisects up to the number of hosts).
        self.assertEqual('3', compute({}))
        self.assertFailure(['INVALID_VALUE', 'ha_restart_priority', 'x'],
                           compute, {self.vms['p1']: 'x'})

    def test_start_that_breaks_the_plan_is_refused(self):
        self.api.VM.start_on(self.vms['u1'], self.hosts['xs-a3'], False,
                             False)
        self.assertEqual('1', self.pool_field('ha_plan_exists_for'))
        self.assertFailure(['HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN'],
                           self.api.VM.start, self.vms['u2'], False, False)
        self.assertFailure(['HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN'],
                           self.api.VM.start_on, self.vms['u2'],
                           self.hosts['xs-a1'], False, False)
        self.assertFailure(['HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN'],
                           self.api.VM.set_ha_restart_priority,
                           self.vms['u1'], 'restart')
        self.assertEqual('', self.api.VM.get_ha_restart_priority(
            self.vms['u1']))
        self.api.pool.set_ha_allow_overcommit(self.pool, True)
        self.api.VM.start_on(self.vms['u2'], self.hosts['xs-a1'], False,
                             False)
        self.assertEqual('0', self.pool_field('ha_plan_exists_for'))
        self.assertIs(True, self.pool_field('ha_overcommitted'))
        self.api.VM.hard_shutdown(self.vms['u2'])
        self.assertEqual('1', self.pool_field('ha_plan_exists_for'))
        self.assertIs(False, self.pool_field('ha_overcommitted'))

    def test_failures_to_tolerate(self):
        self.api.VM.start_on(self.vms['u1'], self.hosts['xs-a3'], False,
                             False)
        self.assertFailure(['HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN'],
                           self.api.pool.set_ha_host_failures_to_tolerate,
                           self.pool, '2')
        self.assertFailure(['INVALID_VALUE', 'ha_host_failures_to_tolerate',
                            '-1'],
                           self.api.pool.set_ha_host_failures_to_tolerate,
                           self.pool, '-1')
        self.api.VM.hard_shutdown(self.vms['u1'])
        self.api.pool.set_ha_host_failures_to_tolerate(self.pool, '2')
        self.assertEqual('2', self.pool_field('ha_plan_exists_for'))
        self.api.pool.set_ha_host_failures_to_tolerate(self.pool, '0')
        self.assertEqual('0', self.pool_field('ha_plan_exists_for'))
        self.assertIs(False, self.pool_field('ha_overcommitted'))


class EnableHATest(base.SimulatorTestCase):

    def make_scenario(self):
        srs = [{'name_label': 'shared', 'shared': True, 'type': 'nfs'},
               {'name_label': 'local', 'shared': False, 'type': 'ext'},
               {'name_label': 'isos', 'shared': True, 'type': 'iso'}]
        return base.scenario(
            base.pool('pool-a'),
            base.pool('pool-b', ha=False, srs=srs),
            base.pool('pool-c', hosts=1, ha=False),
            base.pool('pool-d', hosts=2, ha=False, srs=[srs[1]]))

    def srs(self, api):
        return base.refs_by_name(api, 'SR')

    def test_enable_and_disable(self):
        api = self.session('pool-b').xenapi
        pool = api.pool.get_all()[0]
        api.pool.set_ha_host_failures_to_tolerate(pool, '1')
        api.pool.enable_ha([self.srs(api)['shared']], {'timeout': '60'})
        record = api.pool.get_record(pool)
        self.assertIs(True, record['ha_enabled'])
        self.assertEqual({'timeout': '60'}, record['ha_configuration'])
        self.assertEqual(1, len(record['ha_statefiles']))
        self.assertEqual('1', record['ha_plan_exists_for'])
        host = record['master']
        self.assertEqual(record['ha_statefiles'],
                         api.host.get_ha_statefiles(host))
        self.assertFailure(['HA_IS_ENABLED'], api.pool.enable_ha, [], {})
        api.pool.disable_ha()
        record = api.pool.get_record(pool)
        self.assertIs(False, record['ha_enabled'])
        self.assertEqual([], record['ha_statefiles'])
        self.assertEqual('0', record['ha_plan_exists_for'])
        self.assertFailure(['HA_NOT_ENABLED'], api.pool.disable_ha)
        # With no SR given, xapi picks a shared SR that can hold it.
        api.pool.enable_ha([], {})
        self.assertTrue(api.pool.get_ha_enabled(pool))

    def test_enable_failures(self):
        api = self.session('pool-b').xenapi
        srs = self.srs(api)
        self.assertFailure(['HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED',
                            srs['local']], api.pool.enable_ha,
                           [srs['local']], {})
        self.assertFailure(['INCOMPATIBLE_STATEFILE_SR', 'iso'],
                           api.pool.enable_ha, [srs['isos']], {})
        self.assertFailure(['HANDLE_INVALID', 'SR', 'OpaqueRef:nope'],
                           api.pool.enable_ha, ['OpaqueRef:nope'], {})
        self.sim.fail_host('pool-b', 'xs-b3')
        self.sim.wait_until_quiet('pool-b')
        dead = base.refs_by_name(api, 'host')['xs-b3']
        self.assertFailure(['HOST_OFFLINE', dead], api.pool.enable_ha,
                           [srs['shared']], {})
        self.assertFalse(api.pool.get_ha_enabled(api.pool.get_all()[0]))

    def test_enable_needs_hosts_and_storage(self):
        self.assertFailure(['HA_IS_ENABLED'],
                           self.session('pool-a').xenapi.pool.enable_ha, [],
                           {})
        self.assertFailure(['HA_TOO_FEW_HOSTS'],
                           self.session('pool-c').xenapi.pool.enable_ha, [],
                           {})
        self.assertFailure(['CANNOT_CREATE_STATE_FILE'],
                           self.session('pool-d').xenapi.pool.enable_ha, [],
                           {})


class VMFailoverPlanTest(base.SimulatorTestCase):
    """pool.ha_compute_vm_failover_plan, and what a failure then does.

    xapi_pool.ml ha_compute_vm_failover_plan: the live hosts other than
    the failed ones take the VMs by xapi_ha_vm_failover.ml
    compute_evacuation_plan (binpack.ml biggest_fit_decreasing); a VM
    that fits nowhere gets error_code HOST_NOT_ENOUGH_FREE_MEMORY.
    """

    def make_scenario(self):
        # xs-a1 (the master) 5 GiB free, xs-a2 1 GiB, xs-a3 3 GiB.
        vms = [{'name_label': 'p0', 'memory_mb': 4096, 'host': 'xs-a2',
                'ha_restart_priority': 'restart'},
               {'name_label': 'p1', 'memory_mb': 3072, 'host': 'xs-a2',
                'ha_restart_priority': 'restart'},
               {'name_label': 'big', 'memory_mb': 5120, 'host': 'xs-a3',
                'ha_restart_priority': 'restart'},
               {'name_label': 'plain', 'memory_mb': 3072, 'host': 'xs-a1'}]
        return base.scenario(base.pool(vms=vms, detection_delay=0.05,
                                       restart_delay=0.0))

    def setUp(self):
        super().setUp()
        self.api = self.session().xenapi
        self.vms = base.refs_by_name(self.api)
        self.hosts = base.refs_by_name(self.api, 'host')
        self.names = {ref: name for name, ref in self.hosts.items()}

    def plan(self, *failed):
        vms = sorted((ref for name, ref in self.vms.items()
                      if self.api.VM.get_resident_on(ref) in
                      [self.hosts[h] for h in failed] and
                      not self.api.VM.get_is_control_domain(ref)),
                     key=self.api.VM.get_uuid)
        return self.api.pool.ha_compute_vm_failover_plan(
            [self.hosts[h] for h in failed], vms)

    def test_plan_is_what_the_pool_does_when_the_host_fails(self):
        plan = self.plan('xs-a2')
        self.assertEqual({self.vms['p0'], self.vms['p1']}, set(plan))
        planned = {vm: self.names[where['host']]
                   for vm, where in plan.items()}
        # Biggest fit decreasing: p0 (4 GiB) to the roomiest host, xs-a1,
        # which keeps 1 GiB; p1 (3 GiB) to the roomiest then, xs-a3.
        self.assertEqual({self.vms['p0']: 'xs-a1', self.vms['p1']: 'xs-a3'},
                         planned)
        self.sim.fail_host('pool-a', 'xs-a2')
        self.sim.wait_until_quiet('pool-a')
        for vm, host in planned.items():
            record = self.api.VM.get_record(vm)
            self.assertEqual(('Running', self.hosts[host]),
                             (record['power_state'], record['resident_on']))

    def test_a_vm_that_fits_nowhere_says_so(self):
        plan = self.plan('xs-a1', 'xs-a3')
        self.assertEqual({'error_code': 'HOST_NOT_ENOUGH_FREE_MEMORY'},
                         plan[self.vms['big']])

    def test_the_plan_changes_nothing(self):
        before = self.api.pool.get_record(self.api.pool.get_all()[0])
        self.plan('xs-a2')
        self.assertEqual(before, self.api.pool.get_record(
            self.api.pool.get_all()[0]))
        self.assertEqual(self.hosts['xs-a2'],
                         self.api.VM.get_resident_on(self.vms['p0']))


base.over_both_wires(globals())
