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

"""VM lifecycle with xapi's power-state and capacity errors."""

from tests.unit.simulator import base

GIB = 1024 * 1024 * 1024
VMS = [{'name_label': 'big', 'memory_mb': 6144, 'host': 'xs-a1'},
       {'name_label': 'halted', 'memory_mb': 3072, 'power_state': 'Halted'},
       {'name_label': 'huge', 'memory_mb': 7168, 'power_state': 'Halted'}]


def vm_record(name, memory=GIB):
    return {
        'name_label': name, 'name_description': '', 'user_version': '1',
        'is_a_template': False, 'affinity': 'OpaqueRef:NULL',
        'memory_static_max': str(memory), 'memory_dynamic_max': str(memory),
        'memory_dynamic_min': str(memory), 'memory_static_min': str(memory),
        'VCPUs_params': {}, 'VCPUs_max': '1', 'VCPUs_at_startup': '1',
        'actions_after_shutdown': 'destroy',
        'actions_after_reboot': 'restart', 'actions_after_crash': 'restart',
        'PV_bootloader': '', 'PV_kernel': '', 'PV_ramdisk': '', 'PV_args': '',
        'PV_bootloader_args': '', 'PV_legacy_args': '',
        'HVM_boot_policy': 'BIOS order', 'HVM_boot_params': {},
        'platform': {}, 'PCI_bus': '', 'recommendations': '',
        'other_config': {'nova_uuid': 'n-' + name},
    }


class VMLifecycleTest(base.SimulatorTestCase):

    def make_scenario(self):
        return base.scenario(base.pool(vms=VMS, ha=False))

    def setUp(self):
        super(VMLifecycleTest, self).setUp()
        self.api = self.session().xenapi
        self.vms = base.refs_by_name(self.api)
        self.hosts = base.refs_by_name(self.api, 'host')

    def test_create_start_shutdown_destroy(self):
        vm = self.api.VM.create(vm_record('new'))
        record = self.api.VM.get_record(vm)
        self.assertEqual('Halted', record['power_state'])
        self.assertEqual('n-new', record['other_config']['nova_uuid'])
        self.api.VM.start_on(vm, self.hosts['xs-a2'], False, False)
        self.assertEqual(self.hosts['xs-a2'], self.api.VM.get_resident_on(vm))
        self.assertIn(vm, self.api.host.get_resident_VMs(self.hosts['xs-a2']))
        # xapi_vm_lifecycle.ml assert_initial_power_state_in lists every
        # allowed state (allowed_power_states), joined by ";".
        self.assertFailure(['VM_BAD_POWER_STATE', vm, 'halted;suspended',
                            'running'], self.api.VM.destroy, vm)
        self.api.VM.clean_shutdown(vm)
        self.assertEqual('OpaqueRef:NULL', self.api.VM.get_resident_on(vm))
        self.assertFailure(['VM_BAD_POWER_STATE', vm,
                            'paused;suspended;running', 'halted'],
                           self.api.VM.hard_shutdown, vm)
        self.assertFailure(['VM_BAD_POWER_STATE', vm, 'paused;running',
                            'halted'], self.api.VM.hard_reboot, vm)
        self.api.VM.destroy(vm)
        self.assertFailure(['HANDLE_INVALID', 'VM', vm],
                           self.api.VM.get_record, vm)

    def test_create_checks_required_fields_and_memory(self):
        record = vm_record('x')
        del record['memory_static_max']
        self.assertFailure(['FIELD_TYPE_ERROR', 'memory_static_max'],
                           self.api.VM.create, record)
        record = vm_record('x')
        record['memory_static_min'] = str(2 * GIB)
        self.assertFailure(['MEMORY_CONSTRAINT_VIOLATION'],
                           self.api.VM.create, record)
        record = vm_record('x')
        record['actions_after_crash'] = 'explode'
        self.assertFailure(['FIELD_TYPE_ERROR', 'actions_after_crash'],
                           self.api.VM.create, record)

    def test_start_picks_a_host_with_room(self):
        vm = self.vms['huge']
        self.api.VM.start(vm, False, False)
        self.assertNotEqual(self.hosts['xs-a1'],
                            self.api.VM.get_resident_on(vm))
        self.assertFailure(['VM_BAD_POWER_STATE', vm, 'halted', 'running'],
                           self.api.VM.start, vm, False, False)

    def test_memory_is_enforced(self):
        vm = self.vms['halted']
        self.assertFailure(['HOST_NOT_ENOUGH_FREE_MEMORY', str(3 * GIB),
                            str(2 * GIB)],
                           self.api.VM.start_on, vm, self.hosts['xs-a1'],
                           False, False)
        metrics = self.api.host.get_metrics(self.hosts['xs-a1'])
        self.assertEqual(str(2 * GIB),
                         self.api.host_metrics.get_memory_free(metrics))
        self.assertEqual(str(2 * GIB),
                         self.api.host.compute_free_memory(
                             self.hosts['xs-a1']))
        self.api.VM.start_on(self.vms['huge'], self.hosts['xs-a2'], False,
                             False)
        self.assertFailure(['HOST_NOT_ENOUGH_FREE_MEMORY', str(6 * GIB),
                            str(1 * GIB)],
                           self.api.VM.pool_migrate, self.vms['big'],
                           self.hosts['xs-a2'], {})

    def test_no_host_available(self):
        for name in ('xs-a2', 'xs-a3'):
            vm = self.api.VM.create(vm_record('filler-' + name, 7 * GIB))
            self.api.VM.start_on(vm, self.hosts[name], False, False)
        self.assertFailure(['NO_HOSTS_AVAILABLE'], self.api.VM.start,
                           self.vms['huge'], False, False)

    def test_pool_migrate(self):
        vm = self.vms['big']
        self.api.VM.pool_migrate(vm, self.hosts['xs-a3'], {'live': 'true'})
        self.assertEqual(self.hosts['xs-a3'], self.api.VM.get_resident_on(vm))
        self.assertNotIn(vm,
                         self.api.host.get_resident_VMs(self.hosts['xs-a1']))
        self.assertFailure(['VM_BAD_POWER_STATE', self.vms['halted'],
                            'running', 'halted'],
                           self.api.VM.pool_migrate, self.vms['halted'],
                           self.hosts['xs-a2'], {})

    def test_host_not_live_and_disabled(self):
        self.sim.fail_host('pool-a', 'xs-a2')
        self.sim.wait_until_quiet('pool-a')
        self.assertFailure(['HOST_NOT_LIVE'], self.api.VM.start_on,
                           self.vms['halted'], self.hosts['xs-a2'], False,
                           False)
        self.api.host.disable(self.hosts['xs-a3'])
        self.assertFailure(['HOST_DISABLED', self.hosts['xs-a3']],
                           self.api.VM.start_on, self.vms['halted'],
                           self.hosts['xs-a3'], False, False)
        self.api.host.enable(self.hosts['xs-a3'])
        self.api.VM.start_on(self.vms['halted'], self.hosts['xs-a3'], False,
                             False)

    def test_pause_and_reboot(self):
        vm = self.vms['big']
        domid = self.api.VM.get_domid(vm)
        self.api.VM.clean_reboot(vm)
        self.assertNotEqual(domid, self.api.VM.get_domid(vm))
        self.api.VM.pause(vm)
        self.assertEqual('Paused', self.api.VM.get_power_state(vm))
        self.assertFailure(['VM_BAD_POWER_STATE', vm, 'running', 'paused'],
                           self.api.VM.clean_shutdown, vm)
        self.api.VM.unpause(vm)
        self.api.VM.hard_shutdown(vm)

    def test_control_domain_is_protected(self):
        dom0 = self.api.host.get_control_domain(self.hosts['xs-a1'])
        self.assertTrue(self.api.VM.get_is_control_domain(dom0))
        self.assertFailure(['OPERATION_NOT_ALLOWED'],
                           self.api.VM.hard_shutdown, dom0)
        self.assertFailure(['OPERATION_NOT_ALLOWED'], self.api.VM.destroy,
                           dom0)

    def test_restart_priority_validation(self):
        vm = self.vms['halted']
        self.assertFailure(['INVALID_VALUE', 'ha_restart_priority', 'always'],
                           self.api.VM.set_ha_restart_priority, vm, 'always')
        self.api.VM.set_ha_restart_priority(vm, 'best-effort')
        self.assertEqual('best-effort',
                         self.api.VM.get_ha_restart_priority(vm))
        self.assertFalse(self.api.VM.get_ha_always_run(vm))

    def test_out_of_band_changes(self):
        self.sim.migrate_vm('pool-a', 'big', 'xs-a2')
        self.assertEqual('xs-a2', self.sim.vm('pool-a', 'big')['host'])
        self.sim.shutdown_vm('pool-a', 'big')
        self.assertEqual('Halted', self.api.VM.get_power_state(
            self.vms['big']))
        self.sim.start_vm('pool-a', 'big', 'xs-a3')
        self.assertEqual(self.hosts['xs-a3'],
                         self.api.VM.get_resident_on(self.vms['big']))


base.over_both_wires(globals())
