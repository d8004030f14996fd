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

"""PoolWatcher against the simulator's event.from, over real XML-RPC."""

import dataclasses
import threading
import time

import testtools

from nova_ha_ext.reconcile import watcher
from nova_ha_ext.simulator import fixture
from nova_ha_ext.testing import waiting
from nova_ha_ext.xenapi import client as xenapi_client
from tests.unit.simulator import base

VMS = [{'name_label': 'vm-1', 'memory_mb': 64, 'host': 'xs-a1',
        'power_state': 'Running', 'ha_restart_priority': 'restart',
        'other_config': {'nova_uuid': 'uuid-1'}}]


class TestPoolWatcher(testtools.TestCase):

    #: The wire of the watcher's client: every test runs on both.
    wire = base.XMLRPC

    def setUp(self):
        super().setUp()
        self.sim_fixture = self.useFixture(fixture.SimulatorFixture(
            base.scenario(base.pool(vms=VMS))))
        self.sim = self.sim_fixture.simulator
        self.changes = []
        self.snapshots = []
        self.errors = []
        self.changed = threading.Event()
        #: Set when an event.from answer with events reached the watcher.
        self.answered = threading.Event()
        self.clients = []

    def start(self, url=None, settle_seconds=0.05, **kw):
        info = self.sim_fixture.pool('pool-a')
        answered = self.answered

        class Client(xenapi_client.PoolClient):
            def event_from(self, classes, token, timeout):
                result = super().event_from(classes, token, timeout)
                if token and result['events']:
                    answered.set()
                return result

        def factory():
            client = Client(
                url or info.url, info.username, info.password,
                name='pool-a', connect_timeout=1.0, read_timeout=5.0,
                allow_plain_http=True, protocol=self.wire)
            self.clients.append(client)
            return client

        def on_change(name, snapshot):
            self.changes.append((name, time.monotonic()))
            self.snapshots.append(snapshot)
            self.changed.set()

        w = watcher.PoolWatcher(
            'pool-a', factory, on_change,
            on_error=lambda name, exc: self.errors.append(exc),
            event_timeout=1.0, settle_seconds=settle_seconds,
            max_backoff=0.2, **kw)
        w.start()
        self.addCleanup(w.stop, 5)
        self.watcher = w
        return w

    def wait_for_baseline(self):
        self.assertTrue(self.watcher.seeded.wait(5), 'no baseline')

    def test_seeded_once_the_baseline_is_in(self):
        w = self.start()
        self.assertTrue(w.seeded.wait(5))
        # The baseline itself asks for no pass.
        self.assertEqual([], self.changes)
        self.assertGreaterEqual(self.sim.calls('pool-a')['event.from'], 1)

    def test_not_seeded_while_the_pool_does_not_answer(self):
        w = self.start(url='http://127.0.0.1:9')
        waiting.wait_for(lambda: len(self.errors) >= 2, 5,
                         'two failed attempts')
        self.assertFalse(w.seeded.is_set())

    def test_a_vm_changing_host_asks_for_a_pass(self):
        self.start()
        self.wait_for_baseline()
        self.assertEqual([], self.changes)
        start = time.monotonic()
        self.sim.migrate_vm('pool-a', 'vm-1', 'xs-a3')
        self.assertTrue(self.changed.wait(5))
        self.assertEqual('pool-a', self.changes[0][0])
        self.assertLess(self.changes[0][1] - start, 2.0)
        # The events came over the wire the watcher's client was told.
        self.assertEqual([self.wire], [c.protocol for c in self.clients])

    def test_changes_during_the_settle_wait_ask_for_one_pass(self):
        # The second move arrives while the watcher waits for related
        # events: the pass it asks for reads both, so it asks only once.
        self.start(settle_seconds=0.5)
        self.wait_for_baseline()
        self.sim.migrate_vm('pool-a', 'vm-1', 'xs-a3')
        # The watcher has the first move: it waits out the settle time.
        self.assertTrue(self.answered.wait(5))
        self.sim.migrate_vm('pool-a', 'vm-1', 'xs-a2')
        self.assertTrue(self.changed.wait(5))
        # The long-poll after the pass ends empty (its timeout): a second
        # call-back would have come before it.
        calls = self.sim.calls('pool-a')['event.from']
        waiting.wait_for(
            lambda: self.sim.calls('pool-a')['event.from'] >= calls + 2, 5,
            'a long-poll after the pass')
        self.assertEqual(1, len(self.changes))
        self.assertGreaterEqual(
            self.sim.calls('pool-a').get('event.from'), 3)

    def test_a_host_failure_asks_for_a_pass(self):
        self.start()
        self.wait_for_baseline()
        self.sim.fail_host('pool-a', 'xs-a2')
        self.assertTrue(self.changed.wait(5))

    def test_the_pass_gets_the_pool_as_the_events_left_it(self):
        self.start()
        self.wait_for_baseline()
        self.sim.migrate_vm('pool-a', 'vm-1', 'xs-a3')
        self.assertTrue(self.changed.wait(5))

        snapshot = self.snapshots[0]
        info = self.sim_fixture.pool('pool-a')
        client = xenapi_client.PoolClient(info.url, info.username,
                                          info.password, name='pool-a',
                                          allow_plain_http=True)
        self.addCleanup(client.close)
        read = client.read_pool()
        self.assertEqual(dataclasses.replace(read, read_at=0),
                         dataclasses.replace(snapshot, read_at=0))
        vm, = snapshot.vms
        self.assertEqual('xs-a3', {h.ref: h.hostname for h in
                                   snapshot.ha.hosts}[vm.resident_on])

    def test_a_master_failover_resets_session_token_and_records(self):
        # xapi keeps neither sessions nor event tokens across a master
        # failover (simulator: test_master_failover): the watcher reads
        # the pool again and asks for a pass that sees every change.
        self.start()
        self.wait_for_baseline()
        self.sim.migrate_vm('pool-a', 'vm-1', 'xs-a1')
        self.sim.fail_master('pool-a')
        self.sim.wait_until_quiet('pool-a')
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.changed.wait(0.1):
                self.changed.clear()
                snapshot = self.snapshots[-1]
                if snapshot is not None and snapshot.vms and \
                        snapshot.vms[0].power_state == 'Running' and \
                        snapshot.ha.host(snapshot.ha.master).hostname != \
                        'xs-a1':
                    break
        else:
            self.fail('no pass saw the pool after the failover')
        vm, = snapshot.vms
        self.assertEqual(self.sim.vm('pool-a', 'vm-1')['host'],
                         snapshot.ha.host(vm.resident_on).hostname)
        self.assertEqual([], [e for e in self.errors
                              if 'electing' not in str(e)])

    def test_an_unreachable_pool_is_retried_with_backoff(self):
        self.start(url='http://127.0.0.1:9')
        waiting.wait_for(lambda: len(self.errors) >= 3, 5,
                         'three failed attempts')
        self.assertIn('127.0.0.1:9', str(self.errors[0]))
        self.assertEqual([], self.changes)

    def test_stop_ends_the_thread(self):
        w = self.start()
        self.wait_for_baseline()
        w.stop(5)
        self.assertFalse(w.running)


class TestBadRecordInEvents(testtools.TestCase):

    def test_the_pass_reads_the_pool_itself(self):
        w = watcher.PoolWatcher('pool-a', lambda: None, lambda *args: None)
        pool = {'uuid': 'pool-uuid', 'name_label': 'pool-a',
                'master': 'OpaqueRef:h1', 'ha_enabled': True,
                'ha_host_failures_to_tolerate': '1',
                'ha_plan_exists_for': '1', 'ha_overcommitted': False,
                'ha_allow_overcommit': False, 'ha_statefiles': []}
        w._cache.apply([
            {'class': 'pool', 'operation': 'add', 'ref': 'OpaqueRef:p',
             'snapshot': pool},
            # A host record without its uuid.
            {'class': 'host', 'operation': 'add', 'ref': 'OpaqueRef:h1',
             'snapshot': {'hostname': 'xs-a1'}}])

        with self.assertLogs(watcher.LOG.logger, 'WARNING') as logs:
            self.assertIsNone(w._snapshot())
        self.assertIn('bad record', logs.output[0])


base.over_both_wires(globals())
