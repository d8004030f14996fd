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

"""Disks and the SRs they are on: where a VM may run, and what HA can do.

xapi runs a VM only on a host where every SR of its disks has a plugged PBD
(``ocaml/xapi/xapi_vm_helpers.ml`` ``assert_can_see_SRs``, failing with
``VM_REQUIRES_SR [vm, sr]``); an SR is properly shared when every host has
one (``ocaml/xapi/agility.ml`` ``is_sr_properly_shared``). A protected VM
whose disk is on a host's local SR is not agile: when its host dies,
XenServer HA has nowhere to restart it.
"""

from nova_ha_ext.testing import pools
from tests.unit.simulator import base
from tests.unit.simulator import test_vm

NULL = 'OpaqueRef:NULL'


class StorageTest(base.SimulatorTestCase):

    def make_scenario(self):
        data = base.pool()
        # xs-a1 is the master; xs-a2 has a local SR.
        data['srs'].append({'name_label': 'local-a2', 'shared': False,
                            'type': 'ext', 'host': 'xs-a2'})
        return base.scenario(data)

    def setUp(self):
        super().setUp()
        self.api = self.session().xenapi
        self.hosts = base.refs_by_name(self.api, 'host')
        self.srs = base.refs_by_name(self.api, 'SR')

    def vm_with_disk_on(self, sr_name, name='vm'):
        vm = self.api.VM.create(test_vm.vm_record(name))
        vdi = self.api.VDI.create(pools.vdi_record(self.srs[sr_name]))
        self.api.VBD.create(pools.vbd_record(vm, vdi))
        return vm

    def test_a_shared_sr_is_plugged_on_every_host_a_local_one_on_its_own(self):
        def hosts_of(sr_name):
            return sorted(
                self.api.host.get_hostname(self.api.PBD.get_host(pbd))
                for pbd in self.api.SR.get_PBDs(self.srs[sr_name]))
        self.assertEqual(['xs-a1', 'xs-a2', 'xs-a3'], hosts_of('sr-hb'))
        self.assertEqual(['xs-a2'], hosts_of('local-a2'))
        self.assertEqual([], hosts_of('local'))

    def test_disks_are_linked_both_ways(self):
        vm = self.vm_with_disk_on('sr-hb')
        [vbd] = self.api.VM.get_VBDs(vm)
        vdi = self.api.VBD.get_VDI(vbd)
        self.assertEqual([vbd], self.api.VDI.get_VBDs(vdi))
        self.assertEqual(self.srs['sr-hb'], self.api.VDI.get_SR(vdi))
        self.assertIn(vdi, self.api.SR.get_VDIs(self.srs['sr-hb']))

    def test_a_vdi_on_an_unknown_sr_is_refused(self):
        self.assertFailure(['HANDLE_INVALID', 'SR'], self.api.VDI.create,
                           pools.vdi_record('OpaqueRef:no-such-sr'))

    def test_a_vm_runs_only_where_its_disks_srs_are_plugged(self):
        vm = self.vm_with_disk_on('local-a2')
        self.assertFailure(
            ['VM_REQUIRES_SR', vm, self.srs['local-a2']],
            self.api.VM.start_on, vm, self.hosts['xs-a3'], False, False)
        self.api.VM.start_on(vm, self.hosts['xs-a2'], False, False)
        self.assertEqual(self.hosts['xs-a2'], self.api.VM.get_resident_on(vm))

    def test_ha_cannot_restart_a_protected_vm_on_a_local_sr(self):
        tied = self.vm_with_disk_on('local-a2', 'tied')
        agile = self.vm_with_disk_on('sr-hb', 'agile')
        for vm in (tied, agile):
            self.api.VM.set_ha_restart_priority(vm, 'restart')
            self.api.VM.start_on(vm, self.hosts['xs-a2'], False, False)

        self.sim.fail_host('pool-a', 'xs-a2')
        self.sim.wait_until_quiet('pool-a')

        self.assertEqual('Running', self.api.VM.get_power_state(agile))
        self.assertNotEqual(self.hosts['xs-a2'],
                            self.api.VM.get_resident_on(agile))
        self.assertEqual(('Halted', NULL),
                         (self.api.VM.get_power_state(tied),
                          self.api.VM.get_resident_on(tied)))


base.over_both_wires(globals())
