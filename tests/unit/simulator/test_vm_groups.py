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

"""VM groups: xapi's licence-gated anti-affinity, in three kinds of pool."""

import testtools

from nova_ha_ext.simulator import scenario
from tests.unit.simulator import base

# vm-a and vm-b run on xs-a1; vm-c is halted. xs-a1 has the most free
# memory only for VMs without a group (see the placement tests).
VMS = [{'name_label': 'vm-a', 'memory_mb': 1024, 'host': 'xs-a1'},
       {'name_label': 'vm-b', 'memory_mb': 1024, 'host': 'xs-a2'},
       {'name_label': 'vm-c', 'memory_mb': 1024},
       {'name_label': 'big', 'memory_mb': 4096, 'host': 'xs-a2'},
       {'name_label': 'bigger', 'memory_mb': 5120, 'host': 'xs-a3'}]


def group_record(name='g', placement='anti_affinity'):
    return {'name_label': name, 'name_description': '',
            'placement': placement}


class LicensedVMGroupsTest(base.SimulatorTestCase):
    """A pool whose licence allows VM groups (restrict_vm_groups=false)."""

    def make_scenario(self):
        return base.scenario(base.pool(vms=VMS, ha=False,
                                       vm_groups='licensed'))

    def setUp(self):
        super().setUp()
        self.api = self.session().xenapi

    def vm(self, name):
        return self.api.VM.get_by_name_label(name)[0]

    def test_pool_restrictions_allow_the_feature(self):
        # features.ml: VM_groups is the negative flag restrict_vm_groups.
        [pool] = self.api.pool.get_all()
        self.assertEqual('false', self.api.pool.get_restrictions(pool)[
            'restrict_vm_groups'])

    def test_create_then_set_groups_keeps_both_sides(self):
        """VM.groups and VM_group.VMs are one relation (datamodel.ml)."""
        group = self.api.VM_group.create(group_record())
        self.api.VM.set_groups(self.vm('vm-a'), [group])
        record = self.api.VM_group.get_record(group)
        self.assertEqual('anti_affinity', record['placement'])
        self.assertEqual([self.vm('vm-a')], record['VMs'])
        self.assertEqual([group], self.api.VM.get_groups(self.vm('vm-a')))
        self.api.VM.set_groups(self.vm('vm-a'), [])
        self.assertEqual([], self.api.VM_group.get_VMs(group))

    def test_placement_defaults_to_normal(self):
        group = self.api.VM_group.create({'name_label': 'n',
                                          'name_description': ''})
        self.assertEqual('normal', self.api.VM_group.get_placement(group))

    def test_a_vm_belongs_to_one_group_at_most(self):
        """xapi_vm.ml set_groups: TOO_MANY_GROUPS."""
        one = self.api.VM_group.create(group_record('one'))
        two = self.api.VM_group.create(group_record('two'))
        self.assertFailure(['TOO_MANY_GROUPS'], self.api.VM.set_groups,
                           self.vm('vm-a'), [one, two])

    def test_control_domains_cannot_join(self):
        """xapi_vm.ml set_groups: OPERATION_NOT_ALLOWED."""
        group = self.api.VM_group.create(group_record())
        dom0 = [r for r, v in self.api.VM.get_all_records().items()
                if v['is_control_domain']][0]
        self.assertFailure(
            ['OPERATION_NOT_ALLOWED', 'Control domains, templates, and '
             'snapshots cannot be added to VM groups.'],
            self.api.VM.set_groups, dom0, [group])

    def test_destroy_takes_the_group_off_its_vms(self):
        """xapi_vm_group.ml destroy."""
        group = self.api.VM_group.create(group_record())
        self.api.VM.set_groups(self.vm('vm-a'), [group])
        self.api.VM_group.destroy(group)
        self.assertEqual([], self.api.VM.get_groups(self.vm('vm-a')))

    def test_start_without_host_keeps_anti_affinity_members_apart(self):
        """xapi_vm_helpers.ml choose_host_for_vm_no_wlb.

        ``rank_hosts_by_placement``: the hosts with the fewest running
        VMs of the group first. Without the group, vm-c would start on
        xs-a1, the host with the most free memory.
        """
        group = self.api.VM_group.create(group_record())
        for name in ('vm-a', 'vm-b', 'vm-c'):
            self.api.VM.set_groups(self.vm(name), [group])
        self.api.VM.start(self.vm('vm-c'), False, False)
        self.assertEqual('xs-a3', self.sim.vm('pool-a', 'vm-c')['host'])

    def test_start_without_group_takes_the_most_free_memory(self):
        self.api.VM.start(self.vm('vm-c'), False, False)
        self.assertEqual('xs-a1', self.sim.vm('pool-a', 'vm-c')['host'])

    def test_normal_groups_do_not_change_placement(self):
        group = self.api.VM_group.create(group_record(placement='normal'))
        for name in ('vm-a', 'vm-c'):
            self.api.VM.set_groups(self.vm(name), [group])
        self.api.VM.start(self.vm('vm-c'), False, False)
        self.assertEqual('xs-a1', self.sim.vm('pool-a', 'vm-c')['host'])

    def test_control_view_lists_the_groups(self):
        group = self.api.VM_group.create(group_record('g1'))
        self.api.VM.set_groups(self.vm('vm-a'), [group])
        [view] = self.sim.vm_groups('pool-a')
        self.assertEqual(('g1', 'anti_affinity', ['vm-a']),
                         (view['name_label'], view['placement'],
                          view['vms']))


class UnlicensedVMGroupsTest(base.SimulatorTestCase):
    """A pool whose licence lacks VM groups (restrict_vm_groups=true)."""

    def make_scenario(self):
        return base.scenario(base.pool(vms=VMS, ha=False,
                                       vm_groups='unlicensed'))

    def setUp(self):
        super().setUp()
        self.api = self.session().xenapi

    def test_create_is_refused_with_licence_restriction(self):
        """Pool_features.assert_enabled: LICENCE_RESTRICTION [VM_groups]."""
        self.assertFailure(['LICENCE_RESTRICTION', 'VM_groups'],
                           self.api.VM_group.create, group_record())
        self.assertEqual({}, self.api.VM_group.get_all_records())

    def test_set_groups_is_refused_with_licence_restriction(self):
        vm = self.api.VM.get_by_name_label('vm-a')[0]
        self.assertFailure(['LICENCE_RESTRICTION', 'VM_groups'],
                           self.api.VM.set_groups, vm, [])

    def test_pool_restrictions_restrict_the_feature(self):
        [pool] = self.api.pool.get_all()
        self.assertEqual('true', self.api.pool.get_restrictions(pool)[
            'restrict_vm_groups'])


class UnsupportedVMGroupsTest(base.SimulatorTestCase):
    """An xapi without VM groups, as the published datamodel (default)."""

    def make_scenario(self):
        return base.scenario(base.pool(vms=VMS, ha=False))

    def setUp(self):
        super().setUp()
        self.api = self.session().xenapi

    def test_vm_group_messages_are_unknown(self):
        self.assertFailure(['MESSAGE_METHOD_UNKNOWN',
                            'VM_group.get_all_records'],
                           self.api.VM_group.get_all_records)
        vm = self.api.VM.get_by_name_label('vm-a')[0]
        self.assertFailure(['MESSAGE_METHOD_UNKNOWN', 'VM.set_groups'],
                           self.api.VM.set_groups, vm, [])

    def test_list_methods_leaves_them_out(self):
        methods = self.api.host.list_methods()
        self.assertIn('VM.start', methods)
        self.assertNotIn('VM.set_groups', methods)
        self.assertNotIn('VM_group.create', methods)

    def test_no_feature_in_pool_restrictions(self):
        [pool] = self.api.pool.get_all()
        self.assertNotIn('restrict_vm_groups',
                         self.api.pool.get_restrictions(pool))


class _HARestartsAndVMGroups(base.SimulatorTestCase):
    """What xapi's HA restarts do with an anti-affinity group.

    xapi_ha_vm_failover.ml ``restart_auto_run_vms``: protected VMs start
    with ``VM.start_on`` the host of ``compute_restart_plan``, a bin
    packing that knows nothing of VM groups; best-effort VMs start with
    ``VM.start`` and no host, whose choice ranks hosts by the group
    (xapi_vm_helpers.ml ``choose_host_for_vm_no_wlb``).
    """

    PRIORITY = 'restart'

    def make_scenario(self):
        # When xs-a2 fails, xs-a1 has the most free memory: the plan's
        # choice; xs-a3 runs no VM of the group.
        vms = [{'name_label': 'vm-a', 'host': 'xs-a1',
                'ha_restart_priority': 'restart'},
               {'name_label': 'vm-b', 'host': 'xs-a2',
                'ha_restart_priority': self.PRIORITY},
               {'name_label': 'filler', 'memory_mb': 2048,
                'host': 'xs-a3'}]
        return base.scenario(base.pool(vms=vms, vm_groups='licensed'))

    def setUp(self):
        super().setUp()
        api = self.session().xenapi
        group = api.VM_group.create(group_record())
        for name in ('vm-a', 'vm-b'):
            api.VM.set_groups(api.VM.get_by_name_label(name)[0], [group])

    def restart_vm_b(self):
        self.sim.fail_host('pool-a', 'xs-a2')
        self.sim.wait_until_quiet('pool-a')
        vm = self.sim.vm('pool-a', 'vm-b')
        self.assertEqual('Running', vm['power_state'])
        return vm['host']


class ProtectedRestartsAndVMGroupsTest(_HARestartsAndVMGroups):

    def test_a_planned_restart_ignores_the_group(self):
        self.assertEqual('xs-a1', self.restart_vm_b())


class BestEffortRestartsAndVMGroupsTest(_HARestartsAndVMGroups):

    PRIORITY = 'best-effort'

    def test_a_restart_without_a_plan_honours_the_group(self):
        self.assertEqual('xs-a3', self.restart_vm_b())


class ScenarioTest(testtools.TestCase):

    def test_an_unknown_kind_of_pool_is_refused_by_name(self):
        data = base.scenario(base.pool(vm_groups='maybe'))
        error = self.assertRaises(scenario.ScenarioError,
                                  scenario.validate, data)
        self.assertIn("pools[0] (pool-a).vm_groups: expected one of "
                      "'unsupported', 'unlicensed', 'licensed', got 'maybe'",
                      str(error))
