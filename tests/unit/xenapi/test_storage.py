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

"""Protected VMs HA cannot restart, read from the simulator over XML-RPC."""

from nova_ha_ext.testing import pools
from nova_ha_ext.xenapi import storage
from tests.unit.simulator import base as sim_base
from tests.unit.simulator import test_vm as sim_vm
from tests.unit.xenapi import test_client


class StorageTestCase(test_client.PoolClientTestCase):
    """pool-a with a shared SR and, with ``LOCAL``, a local SR on xs-a2."""

    LOCAL = True

    def make_scenario(self):
        data = sim_base.pool()
        data['srs'] = [sr for sr in data['srs'] if sr['shared']]
        if self.LOCAL:
            data['srs'].append({'name_label': 'local-a2', 'shared': False,
                                'type': 'ext', 'host': 'xs-a2'})
        return sim_base.scenario(data)

    def setUp(self):
        super().setUp()
        self.pool = self.client()
        self.api = self.pool.call
        self.srs = {rec['name_label']: ref for ref, rec in
                    self.api('SR.get_all_records').items()}
        self.host_refs = [h.ref for h in self.pool.read_ha_state().hosts]

    def vm(self, name, sr_name, priority, nova_uuid=None):
        record = sim_vm.vm_record(name)
        if nova_uuid:
            record['other_config'] = {'nova_uuid': nova_uuid}
        vm = self.api('VM.create', record)
        vdi = self.api('VDI.create', pools.vdi_record(
            self.srs[sr_name]))
        self.api('VBD.create', pools.vbd_record(vm, vdi))
        self.api('VM.set_ha_restart_priority', vm, priority)
        return vm

    def tied(self):
        self.sim.reset_calls('pool-a')
        tied = storage.read_tied_vms(self.pool, self.host_refs)
        return tied, sum(self.sim.calls('pool-a').values())


class TestTiedVMs(StorageTestCase):

    def test_protected_vms_on_an_unshared_sr_are_tied(self):
        tied = self.vm('tied', 'local-a2', 'restart', nova_uuid='inst-1')
        self.vm('plain', 'local-a2', '')
        self.vm('agile', 'sr-hb', 'restart')

        [found], calls = self.tied()

        self.assertEqual((tied, 'inst-1', 'local-a2'),
                         (found.ref, found.nova_uuid, found.sr_name))
        self.assertIn('instance inst-1 is protected', found.reason())
        self.assertIn('SR local-a2', found.reason())
        self.assertEqual(5, calls)

    def test_no_disk_on_the_unshared_sr_costs_three_calls(self):
        self.vm('agile', 'sr-hb', 'restart')

        self.assertEqual(((), 3), self.tied())


class TestEveryStorageShared(StorageTestCase):

    LOCAL = False

    def test_two_calls_when_every_sr_is_shared(self):
        self.vm('agile', 'sr-hb', 'restart')

        self.assertEqual(((), 2), self.tied())


def test_an_sr_missing_a_host_is_not_properly_shared():
    srs = {'sr-1': {'name_label': 'nfs', 'shared': True},
           'sr-2': {'name_label': 'iscsi', 'shared': True}}
    pbds = {'p1': {'SR': 'sr-1', 'host': 'h1', 'currently_attached': True},
            'p2': {'SR': 'sr-1', 'host': 'h2', 'currently_attached': True},
            'p3': {'SR': 'sr-2', 'host': 'h1', 'currently_attached': True},
            'p4': {'SR': 'sr-2', 'host': 'h2', 'currently_attached': False}}

    assert storage.unshared_srs(srs, pbds, ['h1', 'h2']) == {
        'sr-2': 'iscsi'}
