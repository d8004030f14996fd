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
        self.assertRegex(batch['token'], r'^\d{20},\d{20}$')
        int(batch['events'][0]['id'])

    def test_event_records_carry_xapi_fields(self):
        # xapi_event.ml from_inner (event_of): id, timestamp "0.0", class,
        # operation, ref and snapshot; no obj_uuid.
        batch = self.api.event_from(['vm'], '', 0.0)
        event = batch['events'][0]
        self.assertEqual({'id', 'timestamp', 'class', 'operation', 'ref',
                          'snapshot'}, set(event))
        self.assertEqual('0.0', event['timestamp'])

    def test_valid_ref_counts_cover_every_table(self):
        # xapi_event.ml from_inner: valid_ref_counts folds over the whole
        # tableset, whatever the subscription.
        batch = self.api.event_from(['vm'], '', 0.0)
        # One shared SR plugged on the three hosts, one SR plugged nowhere.
        self.assertEqual({'vm': 4, 'host': 3, 'host_metrics': 3, 'pool': 1,
                          'sr': 2, 'pbd': 3, 'vdi': 0, 'vbd': 0, 'task': 0,
                          'session': 1},
                         batch['valid_ref_counts'])

    def test_batch_lists_adds_then_mods_then_dels(self):
        # xapi_event.ml from_inner builds the list from deletes, mods and
        # creates by prepending: adds come first, dels last, whatever
        # their ids.
        token = self.api.event_from(['vm'], '', 0.0)['token']
        doomed = self.api.VM.create(test_vm.vm_record('doomed'))
        token = self.api.event_from(['vm'], token, 0.0)['token']
        self.api.VM.destroy(doomed)
        vm = self.api.VM.get_by_name_label('vm1')[0]
        self.api.VM.set_name_description(vm, 'changed')
        new = self.api.VM.create(test_vm.vm_record('new'))
        batch = self.api.event_from(['vm'], token, 0.0)
        self.assertEqual([('add', new), ('mod', vm), ('del', doomed)],
                         [(e['operation'], e['ref'])
                          for e in batch['events']])
        ids = [int(e['id']) for e in batch['events']]
        self.assertNotEqual(sorted(ids), ids)

    def test_token_moves_only_for_subscribed_changes(self):
        # xapi_event.ml from_inner: "last" is the latest change to an
        # object the caller subscribed to.
        token = self.api.event_from(['vm'], '', 0.0)['token']
        pool = self.api.pool.get_all()[0]
        self.api.pool.set_name_description(pool, 'not watched')
        batch = self.api.event_from(['vm'], token, 0.0)
        self.assertEqual(([], token), (batch['events'], batch['token']))

    def test_logout_wakes_a_waiting_call_with_session_invalid(self):
        # xapi_event.ml with_call: ending the session invalidates its
        # calls, which raise SESSION_INVALID.
        info = self.fixture.pool('pool-a')
        ref = self.raw(info.url, 'session.login_with_password',
                       info.username, info.password)[1]
        token = self.raw(info.url, 'event.from', ref, ['vm'], '', 0.0)[1][
            'token']
        results = []
        waiter = threading.Thread(target=lambda: results.append(
            self.raw(info.url, 'event.from', ref, ['vm'], token, 30.0)))
        waiter.start()
        self.wait_for(lambda: any(
            s['ref'] == ref for s in self.sim.sessions('pool-a')),
            what='the session')
        self.sim.expire_sessions('pool-a')
        waiter.join(10)
        self.assertEqual((False, ['SESSION_INVALID', ref]), results[0])

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
        self.assertEqual(('del', new), (event['operation'], event['ref']))
        self.assertNotIn('snapshot', event)
        self.assertFailure(['UUID_INVALID'], self.api.VM.get_by_uuid, uuid)
        # Created and deleted since the token: nothing to report.
        other = self.api.VM.create(test_vm.vm_record('brief'))
        self.api.VM.destroy(other)
        self.assertEqual([], self.api.event_from(['vm'], batch['token'],
                                                 0.0)['events'])

    def test_bad_token(self):
        # xapi_event.ml Token.of_string: both halves must be integers.
        for token in ('garbage', '12', '1,2,3', 'a,b', '12,garbage'):
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


base.over_both_wires(globals())
