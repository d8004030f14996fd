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

"""Aggregate drift in ``nova-ha-manage status``, and ``sync``, against real
Nova and simulated pools.

pool-a has a fourth XenServer host, xs-a4, that joined the pool after its
aggregate was made: at first it has no nova-compute; :meth:`compute_joins`
starts one, as the operator deploying it would.
"""

import json

from nova import objects

from nova_ha_ext.cmd import manage
from nova_ha_ext.testing import xenapi_pools

NEW_HOST = 'xs-a4'


class TestPoolMembership(xenapi_pools.XenAPIPoolsTestCase):

    def scenario(self):
        return {'pools': [xenapi_pools.pool_scenario('pool-a', True, hosts=4),
                          xenapi_pools.pool_scenario('pool-b', False)]}

    def setUp(self):
        self.not_deployed = {NEW_HOST}
        super().setUp()

    def start_xenapi_compute(self, pool, hostname):
        if hostname in self.not_deployed:
            return None
        return super().start_xenapi_compute(pool, hostname)

    def compute_joins(self, hostname=NEW_HOST):
        self.not_deployed.discard(hostname)
        self.start_xenapi_compute('pool-a', hostname)

    def aggregate_hosts(self, pool):
        return sorted(objects.Aggregate.get_by_id(
            self.ctxt, self.aggregates[pool]['id']).hosts)

    def move_host(self, host, from_pool, to_pool):
        self.admin_api.remove_host_from_aggregate(
            self.aggregates[from_pool]['id'], host)
        self.admin_api.add_host_to_aggregate(
            self.aggregates[to_pool]['id'], host)

    def status(self):
        code, text = self.run_manage('status', '--format', 'json')
        return code, {p['pool']: p['aggregate']
                      for p in json.loads(text)['pools']}

    # status

    def test_status_reports_a_pool_host_without_compute_node(self):
        code, drift = self.status()

        self.assertEqual([{
            'hostname': NEW_HOST, 'compute_host': None,
            'reason': "no Nova compute node has hypervisor_hostname "
                      "'xs-a4'"}], drift['pool-a']['missing'])
        self.assertEqual(manage.ATTENTION, code)

    def test_status_reports_a_compute_host_missing_from_the_aggregate(self):
        self.compute_joins()

        code, text = self.run_manage('status')

        [row] = [line for line in text.splitlines()
                 if line.startswith('pool-a')]
        self.assertIn('DRIFTED', row)
        self.assertIn('Aggregate pool-a has drifted from its pool '
                      '(nova-ha-manage sync --pool pool-a):\n'
                      '  XenServer host xs-a4: compute host xs-a4 is not in '
                      'the aggregate\n', text)
        self.assertEqual(manage.ATTENTION, code)

    def test_status_reports_an_aggregate_host_not_in_the_pool(self):
        self.compute_joins()
        self.move_host('xs-b1', 'pool-b', 'pool-a')

        code, drift = self.status()

        self.assertEqual(['xs-b1'], drift['pool-a']['foreign'])
        self.assertEqual({}, drift['pool-a']['shared'])
        self.assertEqual(['xs-b1'], [h['compute_host']
                                     for h in drift['pool-b']['missing']])
        self.assertEqual(manage.ATTENTION, code)

    def test_status_reports_a_host_in_two_ha_aggregates(self):
        self.compute_joins()
        self.admin_api.add_host_to_aggregate(self.aggregates['pool-a']['id'],
                                             'xs-b1')

        code, drift = self.status()

        self.assertEqual({'xs-b1': ['pool-a']}, drift['pool-b']['shared'])
        self.assertEqual([], drift['pool-b']['missing'])
        self.assertEqual({'xs-b1': ['pool-b']}, drift['pool-a']['shared'])
        self.assertEqual(manage.ATTENTION, code)

    def test_status_says_an_aggregate_in_step(self):
        self.compute_joins()
        self.admin_api.add_host_to_aggregate(self.aggregates['pool-a']['id'],
                                             NEW_HOST)

        code, drift = self.status()

        for pool in ('pool-a', 'pool-b'):
            self.assertEqual({'in_step': True, 'missing': [], 'foreign': [],
                              'shared': {}}, drift[pool])
        # pool-b is still not HA-ready.
        self.assertEqual(manage.ATTENTION, code)

    # sync

    def test_sync_adds_a_host_that_joined_the_pool(self):
        self.compute_joins()

        code, text = self.run_manage('sync', '--pool', 'pool-a')

        self.assertEqual(manage.OK, code, text)
        [row] = [line for line in text.splitlines() if NEW_HOST in line]
        self.assertEqual(['pool-a', NEW_HOST, 'add', 'applied'],
                         row.split()[:4])
        self.assertIn('Done: aggregate pool-a, 1 host(s) added, 0 removed, '
                      '0 failed.', text)
        self.assertEqual(['xs-a1', 'xs-a2', 'xs-a3', NEW_HOST],
                         self.aggregate_hosts('pool-a'))
        # As 'openstack aggregate add host' does, placement follows too.
        self.assertIn(self.aggregates['pool-a']['uuid'],
                      self._get_provider_aggregates(
                          self._get_provider_uuid_by_host(NEW_HOST)))
        self.assertTrue(self.status()[1]['pool-a']['in_step'])

    def test_sync_dry_run_writes_nothing(self):
        self.compute_joins()
        self.move_host('xs-b1', 'pool-b', 'pool-a')

        code, text = self.run_manage('sync', '--pool', 'pool-a',
                                     '--dry-run')

        self.assertEqual(manage.ATTENTION, code)
        self.assertIn('Dry run: aggregate pool-a, 1 host(s) to add, 1 to '
                      'remove.', text)
        self.assertEqual(['xs-a1', 'xs-a2', 'xs-a3', 'xs-b1'],
                         self.aggregate_hosts('pool-a'))
        self.assertNotIn(self.aggregates['pool-a']['uuid'],
                         self._get_provider_aggregates(
                             self._get_provider_uuid_by_host(NEW_HOST)))

    def test_sync_removes_a_host_not_in_the_pool(self):
        self.compute_joins()
        self.move_host('xs-b1', 'pool-b', 'pool-a')

        code, text = self.run_manage('sync', '--pool', 'pool-a')

        self.assertEqual(manage.OK, code, text)
        self.assertIn('Done: aggregate pool-a, 1 host(s) added, 1 removed, '
                      '0 failed.', text)
        self.assertEqual(['xs-a1', 'xs-a2', 'xs-a3', NEW_HOST],
                         self.aggregate_hosts('pool-a'))
        self.assertNotIn(self.aggregates['pool-a']['uuid'],
                         self._get_provider_aggregates(
                             self._get_provider_uuid_by_host('xs-b1')))

    def test_sync_keeps_a_host_nova_still_has_instances_on(self):
        self.compute_joins()
        self._create_server(flavor_id=self.plain_flavor(), networks='none',
                            host='xs-b1')
        self.move_host('xs-b1', 'pool-b', 'pool-a')

        code, text = self.run_manage('sync', '--pool', 'pool-a')

        self.assertEqual(manage.ATTENTION, code)
        [row] = [line for line in text.splitlines() if 'xs-b1' in line]
        self.assertEqual(['pool-a', 'xs-b1', 'keep', 'reported'],
                         row.split()[:4])
        self.assertIn('Nova still has 1 instance(s) on it', row)
        self.assertIn('xs-b1', self.aggregate_hosts('pool-a'))

    def test_sync_cannot_add_a_host_without_compute_node(self):
        code, text = self.run_manage('sync', '--pool', 'pool-a')

        self.assertEqual(manage.ATTENTION, code)
        [row] = [line for line in text.splitlines() if NEW_HOST in line]
        self.assertEqual(['pool-a', NEW_HOST, 'cannot-add', 'reported'],
                         row.split()[:4])
        self.assertIn("no Nova compute node has hypervisor_hostname", row)
        self.assertEqual(['xs-a1', 'xs-a2', 'xs-a3'],
                         self.aggregate_hosts('pool-a'))

    def test_sync_of_an_unreachable_pool_changes_nothing(self):
        self.compute_joins()
        # Nothing listens on port 9 (discard) of loopback.
        self.admin_api.post_aggregate_action(
            self.aggregates['pool-a']['id'], {'set_metadata': {'metadata': {
                'xenapi_pool_url': 'http://127.0.0.1:9'}}})

        code, text = self.run_manage('sync', '--pool', 'pool-a')

        self.assertEqual(manage.ATTENTION, code)
        self.assertIn('Pool pool-a is unreachable, nothing changed:', text)
        self.assertEqual(['xs-a1', 'xs-a2', 'xs-a3'],
                         self.aggregate_hosts('pool-a'))

    def test_sync_of_an_unknown_pool_is_a_usage_error(self):
        code, text = self.run_manage('sync', '--pool', 'pool-z')

        self.assertEqual(manage.ERROR, code)
        self.assertIn('pool-z', text)
        self.assertIn('pool-a, pool-b', text)
