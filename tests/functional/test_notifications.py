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

"""What the reconciler announces, received from a real oslo.messaging bus.

Real Nova in-process, the simulator's pools over XML-RPC, and the
notifications sent through oslo.messaging's in-memory transport with the
``messaging`` driver, received by a notification listener.
"""

import json
import threading

from nova import context as nova_context

from nova_ha_ext import conf
from nova_ha_ext.notifications import notifier as ha_notifier
from nova_ha_ext.notifications import passes
from nova_ha_ext.reconcile import engine
from nova_ha_ext.reconcile import runner
from nova_ha_ext.testing import notification_bus
from nova_ha_ext.testing import waiting
from tests.functional import test_reconciler

RELOCATE = ('ha_instance.relocate.start', 'ha_instance.relocate.end',
            'ha_instance.relocate.error')


class NotificationsTestCase(test_reconciler.ReconcilerTestCase):

    def setUp(self):
        super().setUp()
        self.bus = notification_bus.NotificationBus(conf.CONF).start()
        self.addCleanup(self.bus.stop)
        self.flags(driver=['messaging'], group='oslo_messaging_notifications')
        self.flags(notification_format='versioned', group='notifications')
        self.notifier = ha_notifier.HANotifier(
            conf.CONF, host='reconciler-1', transport=self.bus.transport)
        self.addCleanup(self.notifier.close)
        self.reconciler = engine.Reconciler(
            conf.CONF, notifier=passes.PassNotifier(self.notifier))
        self.addCleanup(self.reconciler.close)

    def reconcile(self, pool='pool-a', **kw):
        report = super().reconcile(pool, **kw)
        self.bus.wait_for_all(self.notifier)
        return report


class TestFailoverNotifications(NotificationsTestCase):

    def test_one_relocate_end_per_relocated_instance(self):
        ha1 = self.boot_on('xs-a2', self.ha, 'ha1')
        ha2 = self.boot_on('xs-a2', self.ha, 'ha2')
        plain = self.boot_on('xs-a2', self.plain, 'plain')
        other = self.boot_on('xs-a3', self.ha, 'other')
        old_rp = self._get_provider_uuid_by_host('xs-a2')
        pool_uuid = self.xenapi('pool-a').pool.get_uuid(
            self.xenapi('pool-a').pool.get_all()[0])

        self.fail('xs-a2')
        self.reconcile()
        # A second pass finds Nova in step: it announces no relocation.
        self.reconcile()

        ends = {n['payload']['nova_ha_ext_object.data']['instance_uuid']: n
                for n in self.bus.of('ha_instance.relocate.end')}
        self.assertEqual(2, len(self.bus.of('ha_instance.relocate.end')))
        self.assertEqual({ha1['id'], ha2['id']}, set(ends))
        self.assertEqual(2, len(self.bus.of('ha_instance.relocate.start')))
        self.assertEqual([], self.bus.of('ha_instance.relocate.error'))
        for server in (ha1, ha2):
            new_host = self.vm_of('pool-a', server)['host']
            end = ends[server['id']]
            self.assertEqual(('INFO', 'nova-ha-reconciler:reconciler-1'),
                             (end['priority'], end['publisher_id']))
            data = notification_bus.data(end)
            self.assertEqual({
                'instance_uuid': server['id'],
                'pool': {'uuid': pool_uuid, 'name': 'pool-a',
                         'aggregate': 'pool-a'},
                'rule': 'relocate',
                'old_host': 'xs-a2', 'old_node': 'xs-a2',
                'new_host': new_host, 'new_node': new_host,
                'allocations_from': old_rp,
                'allocations_to': self._get_provider_uuid_by_host(new_host),
                'ports': [], 'volumes': [], 'bindings_pending': None,
                'fault': None,
            }, {k: v for k, v in data.items() if k != 'reason'})
            self.assertIn('XenServer runs the VM on host %s' % new_host,
                          data['reason'])
            # Nova's view agrees with what was announced.
            self.assertEqual(new_host, self.server_host(server))
        # Each instance's start came before its end.
        order = [(n['event_type'], notification_bus.data(n)['instance_uuid'])
                 for n in self.bus.received if n['event_type'] in RELOCATE]
        for server in (ha1, ha2):
            self.assertLess(
                order.index(('ha_instance.relocate.start', server['id'])),
                order.index(('ha_instance.relocate.end', server['id'])))
        self.assertNotIn(plain['id'], ends)
        self.assertNotIn(other['id'], ends)

        # The dead host, once; the readiness the worker found, once.
        [fenced] = self.bus.of('ha_pool.host.fenced')
        self.assertEqual('xs-a2', notification_bus.data(fenced)['hostname'])
        [readiness] = self.bus.of('ha_pool.readiness.update')
        self.assertFalse(notification_bus.data(readiness)['ready'])


class TestReadinessNotifications(NotificationsTestCase):

    def test_a_readiness_change_is_one_update(self):
        self.boot_on('xs-a2', self.ha, 'ha1')
        self.reconcile()
        [first] = self.bus.of('ha_pool.readiness.update')
        self.assertEqual((True, []),
                         (notification_bus.data(first)['ready'],
                          notification_bus.data(first)['reasons']))

        self.fail('xs-a2')
        self.reconcile()
        updates = self.bus.of('ha_pool.readiness.update')
        self.assertEqual(2, len(updates))
        data = notification_bus.data(updates[1])
        self.assertFalse(data['ready'])
        self.assertIn('only 2 live host(s); HA needs at least 3',
                      data['reasons'][0])

        # Nothing changed: the next pass says nothing.
        self.reconcile()
        self.assertEqual(2, len(self.bus.of('ha_pool.readiness.update')))

    def test_a_dry_run_announces_nothing(self):
        self.boot_on('xs-a2', self.ha, 'ha1')
        self.fail('xs-a2')
        self.reconcile(dry_run=True)
        self.assertEqual(0, self.notifier.sent)
        self.assertEqual([], self.bus.received)


class TestXenServerMessageNotifications(NotificationsTestCase):

    def test_a_host_failure_alert_is_republished_once_across_a_reseed(self):
        self.flags(interval=3600, event_timeout=1.0,
                   event_settle_seconds=0.05, group='ha_reconciler')
        self.boot_on('xs-a2', self.ha, 'ha1')
        reports = []
        run = runner.ReconcilerRunner(
            conf.CONF, nova_context.get_admin_context,
            notifier=self.notifier, on_report=reports.append)
        seedings = []
        seeded = threading.Condition()
        observe = run.xenserver_messages.observe

        def observe_and_count(name, events, seeding):
            observe(name, events, seeding)
            if seeding:
                with seeded:
                    seedings.append(name)
        # Counts the watchers' first batches; the watchers are made by the
        # runner's first pass, after this.
        run.xenserver_messages.observe = observe_and_count
        run.start()
        self.addCleanup(run.stop)
        waiting.wait_for(lambda: seedings, 10, "the watcher's first read")

        self.fail('xs-a2')
        [alert] = self.bus.wait_for('ha_pool.xenserver_message')
        data = notification_bus.data(alert)
        self.assertEqual(('HA_HOST_FAILED', 'Host', 3,
                          "Server 'xs-a2' has failed", 'pool-a'),
                         (data['name'], data['cls'], data['priority'],
                          data['body'], data['pool']['name']))
        self.assertEqual('WARN', alert['priority'])

        # Two more passes; then the master fails: the watcher's token dies
        # with it, and the watcher reads the pool from an empty token again,
        # where xapi lists every message it keeps.
        passes_before = len(reports)
        run.trigger('pool-a')
        waiting.wait_for(lambda: len(reports) >= passes_before + 1, 10,
                         'a pass')
        run.trigger('pool-a')
        waiting.wait_for(lambda: len(reports) >= passes_before + 2, 10,
                         'another pass')
        self.sim.fail_master('pool-a')
        waiting.wait_for(lambda: len(seedings) >= 2, 30,
                         "the watcher's new first read")
        self.bus.wait_for('ha_pool.xenserver_message', count=2, timeout=30)
        self.bus.wait_for_all(self.notifier)
        alerts = [notification_bus.data(n) for n in
                  self.bus.of('ha_pool.xenserver_message')]
        failed = [a['body'] for a in alerts if a['name'] == 'HA_HOST_FAILED']
        self.assertEqual(["Server 'xs-a2' has failed",
                          "Server 'xs-a1' has failed"], failed)
        uuids = [a['uuid'] for a in alerts]
        self.assertEqual(len(set(uuids)), len(uuids))
        self.assertEqual(len(uuids), run.xenserver_messages.published)


class TestStatusShowsXenServerAlerts(test_reconciler.ReconcilerTestCase):

    def test_status_lists_the_latest_ha_alerts_of_each_pool(self):
        code, text = self.run_manage('status')
        self.assertNotIn('Recent XenServer HA alerts', text)

        self.boot_on('xs-a2', self.ha, 'ha1')
        self.fail('xs-a2')
        code, text = self.run_manage('status')
        section = text.split('Recent XenServer HA alerts (newest first):\n')
        self.assertEqual(2, len(section), text)
        [row] = [line for line in section[1].splitlines()
                 if 'HA_HOST_FAILED' in line]
        self.assertTrue(row.startswith('pool-a'))
        self.assertIn("Server 'xs-a2' has failed", row)

        code, text = self.run_manage('status', '--format', 'json')
        pool = {p['pool']: p for p in json.loads(text)['pools']}['pool-a']
        self.assertEqual(['HA_HOST_FAILED'],
                         [a['name'] for a in pool['xenserver_ha_alerts']])
        self.assertIsNone(pool['xenserver_ha_alerts_error'])
        self.assertEqual(self.xenapi('pool-a').host.get_uuid(
            self.xenapi('pool-a').host.get_by_name_label('xs-a2')[0]),
            pool['xenserver_ha_alerts'][0]['obj_uuid'])
