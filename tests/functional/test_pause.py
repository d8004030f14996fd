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

"""A pool paused for maintenance: read and reported, nothing written."""

import json

from nova import objects

from nova_ha_ext.cmd import manage
from nova_ha_ext import conf
from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import engine
from nova_ha_ext.reconcile import outcome
from nova_ha_ext.reconcile import pause
from tests.functional import test_reconciler

REASON = 'firmware upgrade of xs-a2, ticket OPS-1234'


class TestPause(test_reconciler.ReconcilerTestCase):

    def metadata(self):
        return objects.Aggregate.get_by_id(
            self.ctxt, self.aggregates['pool-a']['id']).metadata

    def pause(self, *extra):
        return self.run_manage('pause', '--pool', 'pool-a', *extra)

    def assert_not_moved(self, server, rp):
        self.assertEqual('xs-a2', self.server_host(server))
        self.assertEqual({rp}, set(self._get_allocations_by_server_uuid(
            server['id'])))
        self.assertNotIn('ha-relocate', [
            a['action'] for a in self.api.get_instance_actions(server['id'])])

    def test_a_failover_during_a_pause_moves_nothing_until_resumed(self):
        server = self.boot_on('xs-a2', self.ha, 'ha')
        rp = self._get_provider_uuid_by_host('xs-a2')
        code, out = self.pause('--reason', REASON)
        self.assertEqual(manage.OK, code, out)
        self.assertIn('paused by ', out)

        self.fail('xs-a2')
        report = self.reconcile()
        [result] = report.results
        # decide still says what it would do; nothing is written.
        self.assertEqual((decide.RELOCATE, outcome.PAUSED),
                         (result.action.kind, result.status))
        self.assertIn(REASON, result.detail)
        self.assertEqual(REASON, report.paused.reason)
        self.assert_not_moved(server, rp)
        # Nor is the dead host's compute service disabled.
        self.assertFalse(objects.Service.get_by_compute_host(
            self.ctxt, 'xs-a2').disabled)
        # Another worker reads the same aggregate: paused for it too.
        other = engine.Reconciler(conf.CONF)
        self.addCleanup(other.close)
        [again] = other.reconcile(self.ctxt, ['pool-a'])
        self.assertEqual([outcome.PAUSED], [r.status for r in again.results])
        self.assert_not_moved(server, rp)

        code, out = self.run_manage('reconcile', '--pool', 'pool-a')
        self.assertEqual(manage.ATTENTION, code)
        self.assertIn('paused', out)
        self.assert_not_moved(server, rp)

        code, out = self.run_manage('resume', '--pool', 'pool-a')
        self.assertEqual(manage.OK, code, out)
        self.assertIn(REASON, out)
        [result] = self.reconcile().results
        self.assertEqual((decide.RELOCATE, outcome.APPLIED),
                         (result.action.kind, result.status))
        self.assertEqual(self.vm_of('pool-a', server)['host'],
                         self.server_host(server))
        self.assertTrue(objects.Service.get_by_compute_host(
            self.ctxt, 'xs-a2').disabled)

    def test_status_shows_who_paused_the_pool_when_and_why(self):
        self.pause('--reason', REASON)
        code, text = self.run_manage('status', '--format', 'json')
        pools = {p['pool']: p for p in json.loads(text)['pools']}
        paused = pools['pool-a']['paused']
        self.assertEqual(REASON, paused['reason'])
        self.assertEqual(pause.who(), paused['by'])
        self.assertRegex(paused['at'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
        # Paused is not "all is well": monitoring must notice.
        self.assertEqual(manage.ATTENTION, code)
        code, text = self.run_manage('status')
        self.assertIn('Paused pools', text)
        [row] = [line for line in text.splitlines()
                 if line.startswith('pool-a') and REASON in line]
        self.assertIn(pause.who(), row)

    def test_unknown_pool_is_refused(self):
        code, out = self.run_manage('pause', '--pool', 'pool-z',
                                    '--reason', REASON)
        self.assertEqual(manage.ERROR, code)
        self.assertIn('no aggregate describes pool pool-z', out)
        self.assertIn('pool-a', out)
        code, out = self.run_manage('resume', '--pool', 'pool-z')
        self.assertEqual(manage.ERROR, code)
        self.assertNotIn(pause.PAUSED_REASON, self.metadata())

    def test_an_empty_reason_is_refused(self):
        for reason in ('', '   '):
            code, out = self.pause('--reason', reason)
            self.assertEqual(manage.ERROR, code)
            self.assertIn('a reason is needed to pause pool pool-a', out)
        self.assertFalse(set(pause.KEYS) & set(self.metadata()))

    def test_a_reason_nova_cannot_keep_is_refused(self):
        code, out = self.pause('--reason', 'x' * 256)
        self.assertEqual(manage.ERROR, code)
        self.assertIn('at most 255', out)
        self.assertFalse(set(pause.KEYS) & set(self.metadata()))

    def test_pausing_a_paused_pool_is_refused_and_keeps_the_first(self):
        self.pause('--reason', REASON)
        before = self.metadata()
        code, out = self.pause('--reason', 'something else')
        self.assertEqual(manage.ERROR, code)
        self.assertIn('pool pool-a is already paused by', out)
        self.assertIn(REASON, out)
        self.assertIn('nova-ha-manage resume --pool pool-a', out)
        self.assertEqual(before, self.metadata())

    def test_resuming_a_pool_that_is_not_paused_is_refused(self):
        code, out = self.run_manage('resume', '--pool', 'pool-a')
        self.assertEqual(manage.ERROR, code)
        self.assertIn('pool pool-a is not paused', out)

    def test_resume_removes_the_pause_from_the_aggregate(self):
        self.pause('--reason', REASON)
        self.assertEqual(REASON, self.metadata()[pause.PAUSED_REASON])
        self.run_manage('resume', '--pool', 'pool-a')
        self.assertFalse(set(pause.KEYS) & set(self.metadata()))
        # The pool's own metadata is untouched.
        self.assertEqual('true', self.metadata()['ha'])

    def test_a_pause_during_a_pass_stops_the_writes_left(self):
        target = self.reconciler.discover(self.ctxt)[0]
        guard = pause.guard(self.ctxt, target, every=0)
        guard()  # not paused: writes may go on
        self.pause('--reason', REASON)
        error = self.assertRaises(pause.PoolPaused, guard)
        self.assertIn(REASON, str(error))

    def test_the_guard_reads_the_pause_at_most_once_a_second(self):
        target = self.reconciler.discover(self.ctxt)[0]
        guard = pause.guard(self.ctxt, target, every=3600)
        guard()
        self.pause('--reason', REASON)
        guard()  # read within the hour: not seen yet
        self.assertRaises(pause.PoolPaused,
                          pause.guard(self.ctxt, target, every=3600))
