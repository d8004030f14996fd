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

"""event.from: tokens, class filters, add/mod/del, long polling."""

import threading
import time
import xmlrpc.client

from tests.unit.simulator import base
from tests.unit.simulator import test_vm

VMS = [{'name_label': 'vm1', 'memory_mb': 1024, 'host': 'xs-a1'}]


class EventTest(base.SimulatorTestCase):

    def make_scenario(self):
        return base.scenario(base.pool(vms=VMS, ha=False))

    def setUp(self):
        super(EventTest, self).setUp()
        self.api = self.session().xenapi

    def test_empty_token_returns_every_object_as_add(self):
        batch = self.api.event_from(['*'], '', 0.0)
        counts = {}
        for event in batch['events']:
            self.assertEqual('add', event['operation'])
            counts[event['class']] = counts.get(event['class'], 0) + 1
        self.assertEqual({'vm': 4, 'host': 3, 'host_metrics': 3, 'pool': 1,
                          'sr': 2}, counts)
        self.assertEqual({'vm': 4, 'host': 3, 'host_metrics': 3, 'pool': 1,
                          'sr': 2, 'task': 0}, batch['valid_ref_counts'])
        self.assertRegex(batch['token'], r'^\d{20},\d{20}$')
        event = batch['events'][0]
        self.assertEqual({'id', 'timestamp', 'class', 'operation', 'ref',
                          'obj_uuid', 'snapshot'}, set(event))
        self.assertIsInstance(event['timestamp'], xmlrpc.client.DateTime)
        self.assertEqual(event['snapshot']['uuid'], event['obj_uuid'])
        int(event['id'])

    def test_class_filters_are_case_insensitive(self):
        vm = self.api.VM.get_by_name_label('vm1')[0]
        for classes in (['vm'], ['VM'], ['Vm/%s' % vm]):
            batch = self.api.event_from(classes, '', 0.0)
            classes_seen = {e['class'] for e in batch['events']}
            self.assertEqual({'vm'}, classes_seen, classes)
        batch = self.api.event_from(['vm/%s' % vm], '', 0.0)
        self.assertEqual([vm], [e['ref'] for e in batch['events']])
        self.assertEqual([], self.api.event_from(['nosuch'], '', 0.0)[
            'events'])

    def test_mod_add_del_and_coalescing(self):
        token = self.api.event_from(['vm'], '', 0.0)['token']
        vm = self.api.VM.get_by_name_label('vm1')[0]
        self.api.VM.set_name_description(vm, 'one')
        self.api.VM.set_name_description(vm, 'two')
        batch = self.api.event_from(['vm'], token, 0.0)
        [event] = batch['events']
        self.assertEqual(('mod', 'two'), (event['operation'], event[
            'snapshot']['name_description']))
        token = batch['token']
        new = self.api.VM.create(test_vm.vm_record('new'))
        batch = self.api.event_from(['vm'], token, 0.0)
        self.assertEqual([('add', new)], [(e['operation'], e['ref'])
                                          for e in batch['events']])
        token = batch['token']
        uuid = self.api.VM.get_uuid(new)
        self.api.VM.destroy(new)
        batch = self.api.event_from(['vm'], token, 0.0)
        [event] = batch['events']
        self.assertEqual(('del', new, uuid), (event['operation'],
                                              event['ref'],
                                              event['obj_uuid']))
        self.assertNotIn('snapshot', event)
        # Created and deleted since the token: nothing to report.
        other = self.api.VM.create(test_vm.vm_record('brief'))
        self.api.VM.destroy(other)
        self.assertEqual([], self.api.event_from(['vm'], batch['token'],
                                                 0.0)['events'])

    def test_bad_token(self):
        for token in ('garbage', '12', '1,2,3', 'a,b'):
            self.assertFailure(['EVENT_FROM_TOKEN_PARSE_FAILURE', token],
                               self.api.event_from, ['vm'], token, 0.0)

    def test_timeout_returns_no_events(self):
        token = self.api.event_from(['vm'], '', 0.0)['token']
        start = time.monotonic()
        batch = self.api.event_from(['vm'], token, 0.3)
        elapsed = time.monotonic() - start
        self.assertEqual([], batch['events'])
        self.assertGreaterEqual(elapsed, 0.3)
        self.assertLess(elapsed, 2)
        self.assertEqual(token, batch['token'])

    def test_long_poll_wakes_on_change(self):
        token = self.api.event_from(['vm'], '', 0.0)['token']
        vm = self.api.VM.get_by_name_label('vm1')[0]
        timer = threading.Timer(0.3, self.sim.migrate_vm,
                                ('pool-a', 'vm1', 'xs-a2'))
        timer.start()
        self.addCleanup(timer.cancel)
        cpu = time.process_time()
        start = time.monotonic()
        batch = self.api.event_from(['vm'], token, 10.0)
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 0.25)
        self.assertLess(elapsed, 3)
        self.assertEqual([vm], [e['ref'] for e in batch['events']])
        # Nobody spun while waiting (client and server share this process).
        self.assertLess(time.process_time() - cpu, 0.25)

    def test_inject_and_current_id(self):
        first = int(self.api.event.get_current_id())
        pool = self.api.pool.get_all()[0]
        token = self.api.event.inject('pool', pool)
        self.assertGreater(int(self.api.event.get_current_id()), first)
        batch = self.api.event_from(['pool'], token, 0.0)
        self.assertEqual([pool], [e['ref'] for e in batch['events']])
        self.assertFailure(['HANDLE_INVALID'], self.api.event.inject, 'VM',
                           pool)
