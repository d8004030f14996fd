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

"""The wire format and the generic errors, checked over raw XML-RPC and
raw JSON-RPC v1.0 and v2.0 (``tests/unit/simulator/test_jsonrpc.py`` has
what only JSON-RPC has)."""

import re
import xmlrpc.client

from nova_ha_ext.simulator import datamodel
from nova_ha_ext.testing import waiting
from tests.unit.simulator import base

REF = re.compile(r'^OpaqueRef:[0-9a-f-]{36}$')
VMS = [{'name_label': 'vm1', 'memory_mb': 2048, 'vcpus': 2,
        'host': 'xs-a1', 'ha_restart_priority': 'restart', 'order': 3,
        'other_config': {'nova_uuid': 'b5b4e6a4-2a3c-4c43-9b8a-2f7b2a1f6c11'}},
       {'name_label': 'vm2', 'power_state': 'Halted'}]


class WireTest(base.SimulatorTestCase):

    def make_scenario(self):
        return base.scenario(base.pool(vms=VMS))

    def setUp(self):
        super(WireTest, self).setUp()
        self.url = self.fixture.pool('pool-a').url
        ok, self.handle = self.raw(self.url, 'session.login_with_password',
                                   'root', base.PASSWORD)
        self.assertTrue(ok, self.handle)

    def value(self, method, *args):
        ok, result = self.raw(self.url, method, self.handle, *args)
        self.assertTrue(ok, result)
        return result

    def error(self, method, *args):
        ok, result = self.raw(self.url, method, self.handle, *args)
        self.assertFalse(ok, result)
        for item in result:
            self.assertIsInstance(item, str)
        return result

    def test_session_ref_and_envelope(self):
        self.assertRegex(self.handle, REF)

    def test_record_types_on_the_wire(self):
        vm = self.value('VM.get_by_name_label', 'vm1')[0]
        self.assertRegex(vm, REF)
        record = self.value('VM.get_record', vm)
        self.assertEqual(str(2048 * 1024 * 1024), record['memory_static_max'])
        self.assertEqual('2', record['VCPUs_max'])
        self.assertEqual('3', record['order'])
        self.assertIs(False, record['is_a_template'])
        self.assertIs(True, record['ha_always_run'])
        self.assertEqual('Running', record['power_state'])
        self.assertRegex(record['resident_on'], REF)
        self.assertEqual('OpaqueRef:NULL', record['suspend_VDI'])
        self.assertIsInstance(record['HVM_shadow_multiplier'], float)
        self.assertIsInstance(record['snapshot_time'], xmlrpc.client.DateTime)
        self.assertEqual('19700101T00:00:00Z', record['snapshot_time'].value)
        self.assertEqual([], record['VIFs'])
        self.assertEqual({'nova_uuid': 'b5b4e6a4-2a3c-4c43-9b8a-2f7b2a1f6c11'},
                         record['other_config'])
        self.assertEqual(['0'], self.value('host.get_record', record[
            'resident_on'])['virtual_hardware_platform_versions'])

    def test_records_carry_every_datamodel_field(self):
        dm = datamodel.load()
        for cls, getter in (('VM', 'VM.get_all_records'),
                            ('host', 'host.get_all_records'),
                            ('host_metrics', 'host_metrics.get_all_records'),
                            ('pool', 'pool.get_all_records'),
                            ('SR', 'SR.get_all_records')):
            records = self.value(getter)
            self.assertTrue(records)
            for record in records.values():
                self.assertEqual(set(dm.classes[cls].fields), set(record),
                                 cls)
        session = self.value('session.get_record', self.handle)
        self.assertEqual(set(dm.classes['session'].fields), set(session))

    def test_field_getters_and_setters(self):
        vm = self.value('VM.get_by_name_label', 'vm2')[0]
        self.assertEqual('Halted', self.value('VM.get_power_state', vm))
        self.assertEqual('-1', self.value('VM.get_domid', vm))
        self.value('VM.set_name_description', vm, 'a VM')
        self.assertEqual('a VM', self.value('VM.get_name_description', vm))
        self.value('VM.add_to_other_config', vm, 'k', 'v')
        self.assertEqual(['MAP_DUPLICATE_KEY', 'VM', 'other_config', vm, 'k'],
                         self.error('VM.add_to_other_config', vm, 'k', 'w'))
        self.value('VM.remove_from_other_config', vm, 'k')
        self.value('VM.remove_from_other_config', vm, 'absent')
        self.assertEqual({}, self.value('VM.get_other_config', vm))
        self.value('VM.add_tags', vm, 'gold')
        self.value('VM.add_tags', vm, 'gold')
        self.assertEqual(['gold'], self.value('VM.get_tags', vm))
        host = self.value('host.get_all')[0]
        self.value('VM.set_affinity', vm, host)
        self.assertEqual(host, self.value('VM.get_affinity', vm))
        self.value('VM.set_affinity', vm, 'OpaqueRef:NULL')
        self.assertEqual('OpaqueRef:NULL', self.value('VM.get_affinity', vm))

    def test_lookups(self):
        vm = self.value('VM.get_by_name_label', 'vm1')[0]
        uuid = self.value('VM.get_uuid', vm)
        self.assertEqual(vm, self.value('VM.get_by_uuid', uuid))
        self.assertEqual([], self.value('VM.get_by_name_label', 'nope'))
        self.assertEqual(['UUID_INVALID', 'VM', 'nope'],
                         self.error('VM.get_by_uuid', 'nope'))
        pool = self.value('pool.get_all')[0]
        master = self.value('pool.get_master', pool)
        self.assertEqual('xs-a1', self.value('host.get_hostname', master))
        metrics = self.value('host.get_metrics', master)
        self.assertIs(True, self.value('host_metrics.get_live', metrics))
        self.assertEqual(str(8192 * 1024 * 1024),
                         self.value('host_metrics.get_memory_total', metrics))

    def test_unknown_method(self):
        for name in ('VM.no_such_call', 'nosuchclass.get_all', 'VIF.get_all',
                     'Async.event.from'):
            self.assertEqual(['MESSAGE_METHOD_UNKNOWN', name],
                             self.error(name))

    def test_parameter_count_mismatch_counts_leave_the_session_out(self):
        # xapi's generated dispatcher (ocaml/idl/ocaml_backend/gen_server.ml)
        # counts the message's own parameters, not the session.
        vm = self.value('VM.get_all')[0]
        self.assertEqual(['MESSAGE_PARAMETER_COUNT_MISMATCH', 'VM.start', '3',
                          '1'], self.error('VM.start', vm))
        self.assertEqual(['MESSAGE_PARAMETER_COUNT_MISMATCH', 'VM.get_all',
                          '0', '1'], self.error('VM.get_all', 'extra'))

    def test_invalid_handles_and_types(self):
        self.assertEqual(['HANDLE_INVALID', 'VM', 'OpaqueRef:nope'],
                         self.error('VM.get_record', 'OpaqueRef:nope'))
        host = self.value('host.get_all')[0]
        self.assertEqual(['HANDLE_INVALID', 'VM', host],
                         self.error('VM.get_record', host))
        vm = self.value('VM.get_by_name_label', 'vm2')[0]
        self.assertEqual(['HANDLE_INVALID', 'host', 'OpaqueRef:NULL'],
                         self.error('VM.start_on', vm, 'OpaqueRef:NULL',
                                    False, False))
        self.assertEqual(['FIELD_TYPE_ERROR', 'start_paused'],
                         self.error('VM.start', vm, 'yes', False))
        self.assertEqual(['FIELD_TYPE_ERROR', 'value'],
                         self.error('VM.set_order', vm, 'ten'))
        # Ints are accepted as ints or as decimal strings, like xapi.
        self.value('VM.set_order', vm, '7')
        self.value('VM.set_start_delay', vm, 2)
        self.assertEqual('7', self.value('VM.get_order', vm))

    def test_negative_order_and_start_delay_are_refused_as_xapi_does(self):
        # xapi_vm.ml set_order / set_start_delay -> xapi_vm_helpers.ml
        # invalid_value: INVALID_VALUE [what is wrong, the value].
        vm = self.value('VM.get_by_name_label', 'vm2')[0]
        self.assertEqual(
            ['INVALID_VALUE', 'order must be non-negative', '-1'],
            self.error('VM.set_order', vm, '-1'))
        self.assertEqual(
            ['INVALID_VALUE', 'start_delay must be non-negative', '-5'],
            self.error('VM.set_start_delay', vm, -5))
        self.value('VM.set_order', vm, '0')
        self.assertEqual('0', self.value('VM.get_order', vm))

    def test_message_in_datamodel_but_not_simulated(self):
        vm = self.value('VM.get_by_name_label', 'vm2')[0]
        self.assertEqual(['NOT_IMPLEMENTED', 'VM.snapshot'],
                         self.error('VM.snapshot', vm, 'snap'))

    def test_underscore_aliases(self):
        self.assertEqual(self.value('VM.get_all'), self.value('VM_get_all'))
        metrics = self.value('host_metrics_get_all')
        self.assertEqual(3, len(metrics))
        result = self.value('event_from', ['pool'], '', 0.0)
        self.assertEqual(1, len(result['events']))
        self.assertEqual(result['events'], self.value(
            'event.from', ['pool'], '', 0.0)['events'])

    def test_async_call_returns_a_task(self):
        vm = self.value('VM.get_by_name_label', 'vm2')[0]
        task = self.value('Async.VM.start', vm, False, False)
        self.assertRegex(task, REF)
        waiting.wait_for(
            lambda: self.value('task.get_status', task) != 'pending', 5,
            'the task ending', interval=0.01)
        record = self.value('task.get_record', task)
        self.assertEqual('success', record['status'])
        self.assertEqual('Async.VM.start', record['name_label'])
        self.assertEqual('Running', self.value('VM.get_power_state', vm))
        failed = self.value('Async.VM.start', vm, False, False)
        self.sim.wait_until_quiet('pool-a')
        record = self.value('task.get_record', failed)
        self.assertEqual('failure', record['status'])
        self.assertEqual(['VM_BAD_POWER_STATE', vm, 'halted', 'running'],
                         record['error_info'])
        self.value('task.destroy', failed)
        self.assertEqual(['HANDLE_INVALID', 'task', failed],
                         self.error('task.get_record', failed))

    def test_void_result_is_empty_string(self):
        vm = self.value('VM.get_by_name_label', 'vm2')[0]
        self.assertEqual('', self.value('VM.set_order', vm, 1))


class WireTestOverJsonRpc(WireTest):
    """The same calls over JSON-RPC v2.0, and JSON's own spelling."""

    wire = base.JSONRPC

    def test_record_types_on_the_wire(self):
        """Types as ``ocaml-rpc``'s jsonrpc.ml ``rpc_to_json`` writes them.

        ``Int`` as a number without a point, ``Float`` with one, ``Bool``,
        ``DateTime`` and ``String`` as strings (wire-protocol.md, JSON-RPC).
        """
        vm = self.value('VM.get_by_name_label', 'vm1')[0]
        status, reply = base.json_request(self.url, {
            'jsonrpc': '2.0', 'method': 'VM.get_record',
            'params': [self.handle, vm], 'id': 1})
        self.assertEqual(200, status)
        record = reply['result']
        for field, value in (('memory_static_max', 2048 * 1024 * 1024),
                             ('VCPUs_max', 2), ('order', 3)):
            self.assertIs(int, type(record[field]), field)
            self.assertEqual(value, record[field])
        self.assertIs(False, record['is_a_template'])
        self.assertIs(True, record['ha_always_run'])
        self.assertEqual('Running', record['power_state'])
        self.assertRegex(record['resident_on'], REF)
        self.assertEqual('OpaqueRef:NULL', record['suspend_VDI'])
        self.assertIs(float, type(record['HVM_shadow_multiplier']))
        self.assertEqual('19700101T00:00:00Z', record['snapshot_time'])
        self.assertEqual([], record['VIFs'])
        self.assertEqual({'nova_uuid': 'b5b4e6a4-2a3c-4c43-9b8a-2f7b2a1f6c11'},
                         record['other_config'])
        status, reply = base.json_request(self.url, {
            'jsonrpc': '2.0', 'method': 'host.get_record',
            'params': [self.handle, record['resident_on']], 'id': 2})
        self.assertEqual([0], reply['result'][
            'virtual_hardware_platform_versions'])


class WireTestOverJsonRpc10(WireTestOverJsonRpc):
    """The same calls over JSON-RPC v1.0."""

    json_version = '1.0'
