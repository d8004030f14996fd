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

"""XenServer's HA alerts re-published once, from the pool's event watcher.

The pool is the simulator over real XML-RPC; the watcher is the reconciler's.
"""

import datetime
import logging
import threading

import fixtures
import prometheus_client
import testtools

from nova_ha_ext.metrics import exporter
from nova_ha_ext.metrics import recorder
from nova_ha_ext.notifications import xenserver
from nova_ha_ext.reconcile import watcher
from nova_ha_ext.simulator import fixture
from nova_ha_ext.testing import waiting
from nova_ha_ext.xenapi import client as xenapi_client
from tests.unit.notifications import recording
from tests.unit.simulator import base

NOW = datetime.datetime(2026, 12, 1, 17, 0, 0, tzinfo=datetime.timezone.utc)
POOL_UUID = '4a3c1f0e-8d2b-4c55-9e1f-6b7a2d9c0e13'


def _event(name, uuid, age, ref='OpaqueRef:m1', cls='Host'):
    stamp = (NOW - datetime.timedelta(seconds=age)).strftime(
        '%Y%m%dT%H:%M:%SZ')
    return {'class': 'message', 'operation': 'add', 'ref': ref,
            'snapshot': {'uuid': uuid, 'name': name, 'priority': '3',
                         'cls': cls, 'obj_uuid': 'host-uuid',
                         'timestamp': stamp, 'body': 'b'}}


POOL_EVENT = {'class': 'pool', 'operation': 'mod', 'ref': 'OpaqueRef:p',
              'snapshot': {'uuid': POOL_UUID,
                           'name_label': 'pool-a'}}


class TestRepublishRules(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.sent = recording.RecordingNotifier()
        self.messages = xenserver.XenServerMessages(
            self.sent, max_age=600, clock=lambda: NOW)

    def test_old_alerts_listed_at_a_watchers_start_are_history(self):
        self.messages.observe('ha-pool-a', [
            POOL_EVENT,
            _event('HA_HOST_FAILED', 'old', age=3600, ref='OpaqueRef:1'),
            _event('HA_HOST_FAILED', 'young', age=60, ref='OpaqueRef:2')],
            seeding=True)
        self.assertEqual(['young'], [p.uuid for _t, p in self.sent.sent])
        # An old one arriving live (a late batch) is news all the same.
        self.messages.observe('ha-pool-a', [
            _event('HA_HOST_WAS_FENCED', 'late', age=3600)])
        self.assertEqual(['young', 'late'],
                         [p.uuid for _t, p in self.sent.sent])

    def test_only_ha_alerts_are_republished(self):
        self.messages.observe('ha-pool-a', [
            POOL_EVENT, _event('VM_STARTED', 'vm', age=0),
            _event('HA_POOL_OVERCOMMITTED', 'ha', age=0, cls='Pool')])
        [(event_type, payload)] = self.sent.sent
        self.assertEqual(('ha_pool.xenserver_message', 'HA_POOL_OVERCOMMITTED',
                          3, 'Pool', POOL_UUID, 'pool-a',
                          'ha-pool-a'),
                         (event_type, payload.name, payload.priority,
                          payload.cls, payload.pool.uuid, payload.pool.name,
                          payload.pool.aggregate))

    def test_the_log_line_names_the_pool(self):
        log = self.useFixture(fixtures.FakeLogger(
            name='nova_ha_ext.notifications.xenserver',
            level=logging.INFO))
        self.messages.observe('ha-pool-a', [
            POOL_EVENT, _event('HA_HOST_FAILED', 'u', age=0)])
        self.assertIn('Pool pool-a (aggregate ha-pool-a): XenServer HA says '
                      'HA_HOST_FAILED (priority 3) on Host host-uuid: b',
                      log.output)

    def test_each_alert_counts_once_in_the_metrics(self):
        registry = prometheus_client.CollectorRegistry()
        rec = recorder.Recorder(registry)
        exporter.activate(rec)
        self.addCleanup(exporter.deactivate, rec)
        alert = _event('HA_HOST_FAILED', 'u', age=0)
        self.messages.observe('ha-pool-a', [POOL_EVENT, alert])
        self.messages.observe('ha-pool-a', [alert], seeding=True)
        self.assertEqual(1, registry.get_sample_value(
            'nova_ha_xenserver_ha_messages_total',
            {'pool': 'ha-pool-a', 'name': 'HA_HOST_FAILED'}))

    def test_an_unreadable_alert_is_skipped_with_a_warning(self):
        bad = _event('HA_HOST_FAILED', 'u', age=0)
        bad['snapshot']['priority'] = 'high'
        log = self.useFixture(fixtures.FakeLogger(
            name='nova_ha_ext.notifications.xenserver'))
        self.messages.observe('ha-pool-a', [POOL_EVENT, bad])
        self.assertEqual([], self.sent.sent)
        self.assertIn('cannot be read', log.output)


class TestRepublishFromTheWatcher(testtools.TestCase):
    """From the simulator's host failure to one notification."""

    def setUp(self):
        super().setUp()
        self.sim_fixture = self.useFixture(fixture.SimulatorFixture(
            base.scenario(base.pool(vms=[
                {'name_label': 'vm-1', 'memory_mb': 64, 'host': 'xs-a2',
                 'ha_restart_priority': 'restart'}]))))
        self.sim = self.sim_fixture.simulator
        self.sent = recording.RecordingNotifier()
        self.messages = xenserver.XenServerMessages(self.sent, max_age=3600)
        self.seedings = 0
        self.lock = threading.Lock()

    def observe(self, name, events, seeding):
        self.messages.observe(name, events, seeding)
        if seeding:
            with self.lock:
                self.seedings += 1

    def start(self):
        info = self.sim_fixture.pool('pool-a')

        def factory():
            return xenapi_client.PoolClient(
                info.url, info.username, info.password, name='ha-pool-a',
                connect_timeout=1.0, read_timeout=5.0,
                allow_plain_http=True)

        w = watcher.PoolWatcher('ha-pool-a', factory, lambda *a: None,
                                event_timeout=1.0, settle_seconds=0.0,
                                max_backoff=0.2, on_events=self.observe)
        w.start()
        self.addCleanup(w.stop, 5)
        return w

    def wait_seedings(self, count):
        waiting.wait_for(lambda: self.seedings >= count, 10,
                         '%d seeding batch(es)' % count)

    def alerts(self, name):
        return [p for _t, p in self.sent.sent if p.name == name]

    def test_a_host_failure_alert_is_republished_once(self):
        first = self.start()
        self.wait_seedings(1)
        self.sim.fail_host('pool-a', 'xs-a2')
        waiting.wait_for(lambda: self.alerts('HA_HOST_FAILED'), 10,
                         'HA_HOST_FAILED re-published')
        # A new watcher reads from an empty token: xapi lists the alert
        # again, and it is not re-published.
        first.stop(5)
        self.start()
        self.wait_seedings(2)
        [alert] = self.alerts('HA_HOST_FAILED')
        host = [h for h in self.sim.hosts('pool-a')
                if h['hostname'] == 'xs-a2'][0]
        self.assertEqual(('Host', host['uuid'], 3,
                          "Server 'xs-a2' has failed", 'pool-a'),
                         (alert.cls, alert.obj_uuid, alert.priority,
                          alert.body, alert.pool.name))
        self.assertEqual(1, self.messages.published)

    def test_a_master_failover_reseed_does_not_republish(self):
        self.start()
        self.wait_seedings(1)
        self.sim.fail_master('pool-a')
        # The watcher's token dies with the old master: it seeds again.
        self.wait_seedings(2)
        waiting.wait_for(lambda: self.alerts('HA_HOST_FAILED'), 10,
                         'HA_HOST_FAILED re-published')
        self.sim.wait_until_quiet('pool-a')
        self.sim.recover_host('pool-a', 'xs-a1')
        waiting.wait_for(lambda: self.alerts('HA_HOST_WAS_FENCED'), 10,
                         'HA_HOST_WAS_FENCED re-published')
        self.assertEqual(1, len(self.alerts('HA_HOST_FAILED')))
        # The election disables every host for a while, which costs the
        # plan (HA_POOL_OVERCOMMITTED...): each alert goes out once too.
        uuids = [p.uuid for _t, p in self.sent.sent]
        self.assertEqual(sorted(set(uuids)), sorted(uuids))
        self.assertEqual(len(uuids), self.messages.published)
