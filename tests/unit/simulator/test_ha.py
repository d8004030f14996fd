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

"""Failover planning (plain functions and over the wire) and enable_ha."""

import time

import testtools

from nova_ha_ext.simulator import ha
from tests.unit.simulator import base

GIB = 1024 * 1024 * 1024


def host(name, free, protected=(), receives=True):
    return ha.HostLoad(name, free, tuple(protected), receives)


class PlanTest(testtools.TestCase):

    def test_bin_packing(self):
        self.assertTrue(ha.fits([], []))
        self.assertTrue(ha.fits([2, 2], [4]))
        self.assertFalse(ha.fits([3, 3], [4, 2]))
        self.assertFalse(ha.fits([5], [4, 4]))
        # First-fit decreasing misses this packing; the search finds it.
        items, bins = [5, 4, 4, 3, 2, 2], [10, 10]
        self.assertIsNone(ha.first_fit_decreasing(items, bins))
        self.assertTrue(ha.fits(items, bins))

    def test_plan_for_small_pools_is_exact(self):
        hosts = [host('a', 4, [2]), host('b', 4, [2]), host('c', 4)]
        self.assertTrue(ha.plan_exists(hosts, 1))
        self.assertTrue(ha.plan_exists(hosts, 2))
        self.assertFalse(ha.plan_exists(hosts, 3))
        self.assertEqual(2, ha.max_failures(hosts))
        self.assertEqual(1, ha.max_failures(hosts, limit=1))
        # Fragmentation: 3 + 3 fits in 4 + 2 by total, not by packing.
        hosts = [host('a', 0, [3, 3]), host('b', 4), host('c', 2)]
        self.assertFalse(ha.plan_exists(hosts, 1))
        self.assertEqual(0, ha.max_failures(hosts))

    def test_disabled_hosts_do_not_receive(self):
        hosts = [host('a', 4, [2]), host('b', 4, receives=False)]
        self.assertFalse(ha.plan_exists(hosts, 1))
        self.assertTrue(ha.plan_exists([host('a', 4, [2]), host('b', 4)], 1))

    def test_no_protected_vms_always_has_a_plan(self):
        hosts = [host('a', 0), host('b', 0), host('c', 0)]
        self.assertEqual(2, ha.max_failures(hosts))
        self.assertTrue(ha.plan_exists(hosts, 3))

    def test_large_pools_use_worst_case_candidates(self):
        # 40 hosts: C(40, 3) = 9880 failure sets, too many to enumerate.
        hosts = [host('h%02d' % i, 10) for i in range(40)]
        self.assertEqual(39, ha.max_failures(hosts))
        # Three hosts carry big protected VMs; together they do not fit.
        hosts[0] = host('h00', 0, [5] * 30)
        hosts[1] = host('h01', 0, [5] * 30)
        hosts[2] = host('h02', 0, [5] * 20)
        self.assertTrue(ha.plan_exists(hosts, 2))
        self.assertFalse(ha.plan_exists(hosts, 3))
        self.assertEqual(2, ha.max_failures(hosts))
        # A VM bigger than any free space breaks even one failure.
        hosts[5] = host('h05', 0, [11])
        self.assertFalse(ha.plan_exists(hosts, 1))

    def test_64_hosts_is_fast(self):
        hosts = [host('h%02d' % i, 100 * GIB, [GIB] * 78) for i in range(64)]
        start = time.monotonic()
        self.assertEqual(3, ha.max_failures(hosts, limit=3))
        self.assertTrue(ha.plan_exists(hosts, 20))
        self.assertFalse(ha.plan_exists(hosts, 60))
        self.assertLess(time.monotonic() - start, 5)

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
        self.api.VM.start_on(self.vms['u1'], self.hosts['xs-a3'], False,
                             False)
        compute = (self.api.pool.
                   ha_compute_hypothetical_max_host_failures_to_tolerate)
        self.assertEqual('1', compute({}))
        # Protecting u1 (6 GiB on xs-a3) leaves no room for it elsewhere.
        self.assertEqual('0', compute({self.vms['u1']: 'restart'}))
        self.assertEqual('2', compute({self.vms['p1']: '',
                                       self.vms['p2']: ''}))
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


base.over_both_wires(globals())
