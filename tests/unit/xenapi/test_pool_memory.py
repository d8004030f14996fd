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

"""A pool's HA headroom, read over XML-RPC and checked against the pool.

The headroom of a host is what ``VM.set_ha_restart_priority`` then accepts
on a VM started there (xapi_vm.ml set_ha_restart_priority ->
xapi_ha_vm_failover.ml assert_new_vm_preserves_ha_plan).
"""

from nova_ha_ext.xenapi import exceptions
from nova_ha_ext.xenapi import pool_memory
from tests.unit.simulator import base
from tests.unit.simulator import test_vm
from tests.unit.xenapi import test_client

MIB = 1024 * 1024


class TestPoolHeadroom(test_client.PoolClientTestCase):
    """Three 8 GiB hosts, two protected VMs and a best-effort one.

    A protected 4 GiB VM on xs-a1, one of 5 GiB on xs-a2, a best-effort
    1 GiB VM on xs-a3.
    """

    def make_scenario(self):
        vms = [{'name_label': 'p1', 'memory_mb': 4096, 'host': 'xs-a1',
                'power_state': 'Running', 'ha_restart_priority': 'restart'},
               {'name_label': 'p2', 'memory_mb': 5120, 'host': 'xs-a2',
                'power_state': 'Running', 'ha_restart_priority': 'restart'},
               {'name_label': 'b1', 'memory_mb': 1024, 'host': 'xs-a3',
                'power_state': 'Running',
                'ha_restart_priority': 'best-effort'}]
        return base.scenario(base.pool(vms=vms))

    def setUp(self):
        super().setUp()
        self.pool = self.client()
        self.hosts = {h.hostname: h.ref
                      for h in self.pool.read_ha_state().hosts}

    def read(self):
        self.sim.reset_calls('pool-a')
        ha, memory = self.pool.read_ha_memory()
        return ha, memory, sum(self.sim.calls('pool-a').values())

    def start_protected(self, hostname, mib):
        vm = self.pool.call('VM.create',
                            test_vm.vm_record('new-%d' % mib, mib * MIB))
        self.pool.call('VM.start_on', vm, self.hosts[hostname], False,
                       False)
        self.pool.call('VM.set_ha_restart_priority', vm, 'restart')
        return vm

    def test_the_read_costs_four_calls(self):
        ha, memory, calls = self.read()
        self.assertEqual(4, calls)
        self.assertEqual(0, ha.waiting_restarts)
        # Best-effort VMs are not in xapi's plan (vm_should_always_run).
        self.assertEqual(2, len(memory.protected))
        self.assertEqual(3, memory.total_hosts)

    def test_free_memory_is_counted_as_xapi_plans(self):
        _ha, memory, _calls = self.read()
        free = dict(memory.hosts)
        # Static max of every resident VM, best-effort ones included.
        self.assertEqual({self.hosts['xs-a1']: 4096 * MIB,
                          self.hosts['xs-a2']: 3072 * MIB,
                          self.hosts['xs-a3']: 7168 * MIB}, free)

    def test_a_vm_of_the_headroom_is_protected_and_one_mib_more_is_not(self):
        _ha, memory, _calls = self.read()
        # On xs-a3: if xs-a2 fails, its 5 GiB VM needs a host with 5 GiB
        # left, which only xs-a3 has (7 GiB less the new VM): 2 GiB.
        headroom = memory.headroom(self.hosts['xs-a3'], 1)
        self.assertEqual(2048 * MIB, headroom)
        error = self.assertRaises(exceptions.CallFailed,
                                  self.start_protected, 'xs-a3',
                                  headroom // MIB + 1)
        self.assertEqual('HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN',
                         error.code)
        self.start_protected('xs-a3', headroom // MIB)
        ha, memory, _calls = self.read()
        self.assertEqual((1, False), (ha.ha_plan_exists_for,
                                      ha.ha_overcommitted))
        self.assertEqual(3, len(memory.protected))

    def test_headroom_of_each_host(self):
        _ha, memory, _calls = self.read()
        # xs-a1 (4 GiB free): when xs-a1 fails, p1 (4 GiB) takes xs-a3,
        # the roomiest, and the new VM must fit in the 3 GiB left on
        # either host.
        self.assertEqual(3072 * MIB, memory.headroom(self.hosts['xs-a1'], 1))
        # xs-a2 (3 GiB free): p2 takes xs-a3 and the new VM xs-a1's 4 GiB;
        # the host's own free memory is the bound.
        self.assertEqual(3072 * MIB, memory.headroom(self.hosts['xs-a2'], 1))
        self.assertEqual(0, memory.headroom('OpaqueRef:nowhere', 1))

    def test_a_dead_host_changes_the_headroom(self):
        self.sim.fail_host('pool-a', 'xs-a1')
        self.sim.wait_until_quiet('pool-a')
        ha, memory, _calls = self.read()
        # p1 restarted on xs-a3 (most room); two hosts left cannot plan
        # for a further failure of either: no room for anything.
        self.assertEqual(2, len(memory.hosts))
        self.assertEqual(0, memory.headroom(self.hosts['xs-a3'], 1))
        self.assertEqual(0, memory.headroom(self.hosts['xs-a1'], 1))

    def test_the_query_selects_running_and_waiting_protected_vms(self):
        refs = self.pool.call('VM.get_all_where',
                              pool_memory.PLANNED_VMS_QUERY)
        names = sorted(self.pool.call('VM.get_name_label', ref)
                       for ref in refs)
        self.assertEqual(['b1', 'p1', 'p2'],
                         [n for n in names if not n.startswith('Control')])
