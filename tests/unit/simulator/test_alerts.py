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

"""XenServer's HA alerts: the pool's messages, where xapi creates them."""

import logging

import fixtures

from nova_ha_ext.xenapi import ha_messages
from tests.unit.simulator import base


def _messages(api, name=None):
    return [rec for rec in api.message.get_all_records().values()
            if name is None or rec['name'] == name]


def _uuid_of(api, cls, name):
    return getattr(api, cls).get_uuid(base.refs_by_name(api, cls)[name])


class HostFailureAlertTest(base.SimulatorTestCase):

    def make_scenario(self):
        return base.scenario(base.pool(vms=[
            {'name_label': 'p', 'memory_mb': 1024, 'host': 'xs-a2',
             'ha_restart_priority': 'restart'}]))

    def test_a_host_declared_dead_raises_ha_host_failed(self):
        """xapi_ha_vm_failover.ml restart_auto_run_vms: the master, seeing
        a live host leave the live set, adds HA_HOST_FAILED (priority 3,
        api_messages.ml) about the host, body "Server '<name>' has failed".
        """
        api = self.session().xenapi
        self.sim.fail_host('pool-a', 'xs-a2')
        self.sim.wait_until_quiet('pool-a')

        failed = _messages(api, 'HA_HOST_FAILED')
        self.assertEqual(1, len(failed), failed)
        self.assertEqual(
            ('3', 'Host', _uuid_of(api, 'host', 'xs-a2'),
             "Server 'xs-a2' has failed"),
            (failed[0]['priority'], failed[0]['cls'], failed[0]['obj_uuid'],
             failed[0]['body']))
        self.assertTrue(failed[0]['timestamp'])
        # Nothing says it was fenced until it boots again.
        self.assertEqual([], _messages(api, 'HA_HOST_WAS_FENCED'))

    def test_a_fenced_host_that_boots_says_it_was_fenced(self):
        """xapi_host_crashdump.ml resynchronise: xapi starting on a host of
        an HA pool, with no crash dump and no clean shutdown, adds
        HA_HOST_WAS_FENCED (priority 4) about the host, with no body.
        """
        api = self.session().xenapi
        self.sim.fail_host('pool-a', 'xs-a2')
        self.sim.wait_until_quiet('pool-a')
        self.sim.recover_host('pool-a', 'xs-a2')

        fenced = _messages(api, 'HA_HOST_WAS_FENCED')
        self.assertEqual([('4', 'Host', _uuid_of(api, 'host', 'xs-a2'), '')],
                         [(m['priority'], m['cls'], m['obj_uuid'],
                           m['body']) for m in fenced])

    def test_event_from_lists_each_message_once_as_an_add(self):
        """xapi_event.ml from_inner: messages, kept outside the database,
        come to subscribers of "message" as adds with their record; an
        empty token lists every message kept.
        """
        api = self.session().xenapi
        token = api.event_from(['message'], '', 0.0)['token']
        self.sim.fail_host('pool-a', 'xs-a2')
        self.sim.wait_until_quiet('pool-a')

        batch = api.event_from(['message'], token, 0.0)
        self.assertEqual([('message', 'add', 'HA_HOST_FAILED')],
                         [(e['class'], e['operation'], e['snapshot']['name'])
                          for e in batch['events']])
        self.assertEqual([], api.event_from(['message'], batch['token'],
                                            0.0)['events'])
        # Not in valid_ref_counts: xapi counts its database's tables.
        self.assertNotIn('message', batch['valid_ref_counts'])
        again = api.event_from(['message'], '', 0.0)['events']
        self.assertEqual([batch['events'][0]['ref']],
                         [e['ref'] for e in again])

    def test_the_ha_query_reads_the_alerts_in_one_call(self):
        """xapi_message.ml get_all_records_where filters on the record's
        fields: the query the client sends finds the HA alerts only.
        """
        api = self.session().xenapi
        pool_uuid = api.pool.get_uuid(api.pool.get_all()[0])
        api.message.create('VM_STARTED', '5', 'Pool', pool_uuid, 'not HA')
        self.sim.fail_host('pool-a', 'xs-a2')
        self.sim.wait_until_quiet('pool-a')

        found = api.message.get_all_records_where(
            ha_messages.HA_MESSAGES_QUERY)
        self.assertEqual(['HA_HOST_FAILED'],
                         [m['name'] for m in found.values()])
        self.assertEqual(2, len(api.message.get_all()))

    def test_create_refuses_an_object_that_does_not_exist(self):
        """xapi_message.ml create: check_uuid, else UUID_INVALID."""
        api = self.session().xenapi
        self.assertFailure(['UUID_INVALID', 'VM', 'no-such-vm'],
                           api.message.create, 'HA_HOST_FAILED', '3', 'VM',
                           'no-such-vm', '')
        self.assertEqual([], _messages(api))


class RestartFailedAlertTest(base.SimulatorTestCase):

    def make_scenario(self):
        vms = [{'name_label': 'big', 'memory_mb': 6144, 'host': 'xs-a3',
                'ha_restart_priority': 'restart'}]
        vms += [{'name_label': 'filler-%s' % h, 'memory_mb': 4096,
                 'host': h} for h in ('xs-a1', 'xs-a2')]
        return base.scenario(base.pool(
            vms=vms, detection_delay=0.05, restart_delay=0.0,
            monitor_interval=0.02, restart_backoff=0.05))

    def test_a_protected_vm_that_cannot_restart_is_alerted_once(self):
        """xapi_ha_vm_failover.ml restart_auto_run_vms,
        consider_sending_failed_alert_for: HA_PROTECTED_VM_RESTART_FAILED
        (priority 2) about the VM, at most once while it keeps failing
        (the restart_failed table), however often the HA monitor retries.
        """
        log = self.useFixture(fixtures.FakeLogger(
            name='nova_ha_ext.simulator.failover', level=logging.INFO))
        api = self.session().xenapi
        self.sim.fail_host('pool-a', 'xs-a3')
        # The HA monitor (xapi_ha.ml ha_monitor) tries it again and again.
        self.wait_for(lambda: log.output.count('no host can restart big')
                      >= 3, what='three restart attempts')

        failed = _messages(api, 'HA_PROTECTED_VM_RESTART_FAILED')
        self.assertEqual([('2', 'VM', _uuid_of(api, 'VM', 'big'), '')],
                         [(m['priority'], m['cls'], m['obj_uuid'],
                           m['body']) for m in failed])

    def test_a_pool_becoming_overcommitted_is_alerted_on_the_transition(self):
        """xapi_ha_vm_failover.ml mark_pool_as_overcommitted: only when the
        pool was not overcommitted, HA_POOL_OVERCOMMITTED (priority 3)
        about the pool. This pool has no plan for 'big' from the start, so
        the host failure that leaves it waiting adds no second one.
        """
        api = self.session().xenapi
        self.sim.fail_host('pool-a', 'xs-a3')
        self.sim.wait_until_quiet('pool-a')

        over = _messages(api, 'HA_POOL_OVERCOMMITTED')
        self.assertEqual(1, len(over), over)
        self.assertEqual(('3', 'Pool', api.pool.get_uuid(
            api.pool.get_all()[0])), (over[0]['priority'], over[0]['cls'],
                                      over[0]['obj_uuid']))
        self.assertIn("pool 'pool-a' has dropped", over[0]['body'])


class PlanDropAlertTest(base.SimulatorTestCase):

    def make_scenario(self):
        vms = [{'name_label': 'p-%s' % h, 'memory_mb': 3000, 'host': h,
                'ha_restart_priority': 'restart'}
               for h in ('xs-a1', 'xs-a2')]
        return base.scenario(base.pool(vms=vms, memory_mb=4096,
                                       detection_delay=0.05))

    def test_a_drop_in_the_plan_is_alerted_with_the_new_figure(self):
        """xapi_ha_vm_failover.ml mark_pool_as_overcommitted: when the
        failures planned for drop, HA_POOL_DROP_IN_PLAN_EXISTS_FOR
        (priority 3) about the pool, the new figure as body; and the pool
        is overcommitted now (HA_POOL_OVERCOMMITTED).
        """
        api = self.session().xenapi
        pool = api.pool.get_all()[0]
        self.assertEqual('1', api.pool.get_ha_plan_exists_for(pool))
        self.assertEqual([], _messages(api))

        # Without xs-a3, neither protected VM has a host to go to.
        self.sim.fail_host('pool-a', 'xs-a3')
        self.sim.wait_until_quiet('pool-a')

        self.assertEqual('0', api.pool.get_ha_plan_exists_for(pool))
        drop = _messages(api, 'HA_POOL_DROP_IN_PLAN_EXISTS_FOR')
        self.assertEqual([('3', 'Pool', api.pool.get_uuid(pool), '0')],
                         [(m['priority'], m['cls'], m['obj_uuid'],
                           m['body']) for m in drop])
        self.assertEqual(1, len(_messages(api, 'HA_POOL_OVERCOMMITTED')))
