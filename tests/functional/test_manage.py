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

"""nova-ha-manage against real Nova and simulated pools."""

import json

from nova import objects

from nova_ha_ext.cmd import manage
from nova_ha_ext.reconcile import coordination
from nova_ha_ext.testing import hostile
from nova_ha_ext.testing import xenapi_pools


class TestManage(xenapi_pools.XenAPIPoolsTestCase):

    def test_status_table_and_json(self):
        code, text = self.run_manage('status')
        lines = text.splitlines()
        self.assertEqual(['pool', 'HA', 'plan', 'out', 'of', 'sync',
                          'hosts', 'aggregate', 'worker', 'reasons'],
                         lines[0].split())
        [a] = [line for line in lines if line.startswith('pool-a')]
        [b] = [line for line in lines if line.startswith('pool-b')]
        self.assertIn('ready', a)
        self.assertIn('xs-a1 xs-a2 xs-a3', a)
        # Each aggregate holds exactly its pool's hosts.
        self.assertIn('in step', a)
        # Without [coordination] backend_url, one worker has every pool.
        self.assertIn(coordination.SINGLE_WORKER, a)
        self.assertIn('NOT READY', b)
        self.assertIn('HA is not enabled on the pool', b)
        # pool-b is not HA-ready: monitoring must notice.
        self.assertEqual(manage.ATTENTION, code)

        code, text = self.run_manage('status', '--format', 'json')
        pools = {p['pool']: p for p in json.loads(text)['pools']}
        self.assertTrue(pools['pool-a']['ha_ready'])
        self.assertEqual(0, pools['pool-a']['out_of_sync'])
        self.assertEqual(['xs-a1', 'xs-a2', 'xs-a3'],
                         [h['hostname'] for h in pools['pool-a']['hosts']])
        self.assertFalse(pools['pool-b']['ha_ready'])
        self.assertEqual(coordination.SINGLE_WORKER,
                         pools['pool-a']['owner'])

    def test_status_counts_out_of_sync_and_dead_hosts(self):
        server = self._create_server(flavor_id=self.ha_flavor(),
                                     networks='none', host='xs-a2')
        self.sim.fail_host('pool-a', 'xs-a2')
        self.sim.wait_until_quiet('pool-a')
        code, text = self.run_manage('status', '--format', 'json')
        pool = {p['pool']: p for p in json.loads(text)['pools']}['pool-a']
        self.assertEqual(1, pool['out_of_sync'])
        self.assertEqual({'xs-a1': True, 'xs-a2': False, 'xs-a3': True},
                         {h['hostname']: h['live'] for h in pool['hosts']})
        self.assertEqual([server['id']],
                         [a['instance'] for a in pool['actions']])
        self.assertEqual(manage.ATTENTION, code)

    def test_reconcile_dry_run_prints_plan_and_writes_nothing(self):
        server = self._create_server(flavor_id=self.ha_flavor(),
                                     networks='none', host='xs-a2')
        self.sim.fail_host('pool-a', 'xs-a2')
        self.sim.wait_until_quiet('pool-a')
        new_host = self.vm_of('pool-a', server)['host']

        code, text = self.run_manage('reconcile', '--pool', 'pool-a',
                                     '--dry-run')
        self.assertEqual(manage.ATTENTION, code)
        [row] = [line for line in text.splitlines()
                 if server['id'] in line]
        self.assertIn('relocate', row)
        self.assertIn('dry-run', row)
        self.assertIn(new_host, row)
        self.assertIn('Dry run: 1 pool(s), 1 change(s) to make', text)
        instance = objects.Instance.get_by_uuid(self.ctxt, server['id'])
        self.assertEqual('xs-a2', instance.host)

        code, text = self.run_manage('reconcile', '--pool', 'pool-a')
        self.assertEqual(manage.OK, code)
        self.assertIn('Done: 1 pool(s), 1 change(s) applied, 0 failed', text)
        instance = objects.Instance.get_by_uuid(self.ctxt, server['id'])
        self.assertEqual(new_host, instance.host)

    def test_unknown_pool_is_a_usage_error(self):
        code, text = self.run_manage('reconcile', '--pool', 'pool-z')
        self.assertEqual(manage.ERROR, code)
        self.assertIn('pool-z', text)
        self.assertIn('pool-a, pool-b', text)

    def test_sync_of_an_unknown_pool_is_a_usage_error(self):
        code, text = self.run_manage('sync', '--pool', 'pool-z')
        self.assertEqual(manage.ERROR, code)
        self.assertIn('no aggregate describes pool pool-z', text)

    def test_status_shows_every_pool_when_one_answers_garbage(self):
        server = hostile.HostileXenAPI({'pool.get_all_records': hostile.Raw(
            b'<html>Welcome to nginx</html>', content_type='text/html')})
        server.start()
        self.addCleanup(server.stop)
        self._create_ha_aggregate('pool-0-html', [],
                                  xenapi_pool_url=server.url)
        self._create_ha_aggregate(
            'pool-0-bad-url', [],
            xenapi_pool_url='https://root:s3cr/t+x==@xs-a1:99999')

        code, text = self.run_manage('status')

        self.assertEqual(manage.ATTENTION, code)
        rows = {line.split()[0]: line for line in text.splitlines()[2:]}
        self.assertEqual({'pool-0-bad-url', 'pool-0-html', 'pool-a',
                          'pool-b'}, set(rows))
        self.assertIn('ready', rows['pool-a'])
        self.assertIn('found <html>', rows['pool-0-html'])
        self.assertIn('holds a user name or password', rows['pool-0-bad-url'])
        self.assertNotIn('s3cr', text)

    def test_status_json_never_shows_credentials(self):
        self._create_ha_aggregate(
            'pool-0-bad-url', [],
            xenapi_pool_url='https://root:s3cr/t+x==@xs-a1:99999')
        code, text = self.run_manage('status', '--format', 'json')
        pools = {p['pool']: p for p in json.loads(text)['pools']}
        self.assertIn('holds a user name or password',
                      pools['pool-0-bad-url']['error'])
        self.assertNotIn('s3cr', text)
        self.assertNotIn('x==', text)
        self.assertEqual(self.pool_url('pool-a'), pools['pool-a']['url'])


class TestStatusIgnoredFlavorKeys(xenapi_pools.XenAPIPoolsTestCase):
    """``status`` lists the flavor keys taken for ``ha`` that nothing reads."""

    POOLS = {'pool-a': True}

    def run_status(self, *argv):
        return self.run_manage('status', *argv)

    def _flavor(self, name, extra_specs, microversion):
        self.admin_api.microversion = microversion
        try:
            return self._create_flavor_with_specs(name, extra_specs)
        finally:
            self.admin_api.microversion = self.microversion

    def test_a_healthy_cloud_lists_none(self):
        self._flavor('ha.good', {'ha': 'true'}, '2.86')

        code, text = self.run_status()

        self.assertEqual(manage.OK, code, text)
        self.assertNotIn('ignores', text)
        code, text = self.run_status('--format', 'json')
        self.assertEqual([], json.loads(text)['ignored_flavor_keys'])

    def test_flavors_with_keys_taken_for_ha_need_attention(self):
        # Stored before the API refused it, or below microversion 2.86.
        upper = self._flavor('ha.upper', {'HA': 'true'}, '2.85')
        # Accepted at any microversion: Nova's own validator's key.
        scoped = self._flavor('ha.scoped', {
            'ha': 'true', 'aggregate_instance_extra_specs:ha': 'true'},
            '2.86')

        code, text = self.run_status()

        self.assertEqual(manage.ATTENTION, code)
        lines = text.splitlines()
        self.assertIn('Flavor extra specs that nova-ha-ext ignores (use '
                      'ha=true or ha=false instead):', lines)
        [row] = [line for line in lines if line.startswith('ha.upper ')]
        self.assertIn("'HA' is not 'ha'", row)
        [row] = [line for line in lines if line.startswith('ha.scoped ')]
        self.assertIn("'aggregate_instance_extra_specs:ha'", row)

        code, text = self.run_status('--format', 'json')
        self.assertEqual(manage.ATTENTION, code)
        self.assertEqual(
            {(scoped, 'aggregate_instance_extra_specs:ha', 'true'),
             (upper, 'HA', 'true')},
            {(i['flavor_id'], i['key'], i['value'])
             for i in json.loads(text)['ignored_flavor_keys']})


class TestStatusTiedInstances(xenapi_pools.XenAPIPoolsTestCase):
    """``status`` lists protected instances HA cannot restart elsewhere."""

    POOLS = {'pool-a': True}

    def scenario(self):
        return {'pools': [xenapi_pools.pool_scenario('pool-a', True,
                                                     local_sr_on='xs-a2')]}

    def test_a_protected_instance_with_a_local_disk_is_listed(self):
        tied = self.boot(self.ha_flavor(), 'tied')
        agile = self.boot(self.ha_flavor('ha.other'), 'agile')
        self.add_disk('pool-a', tied, 'local-xs-a2')
        self.add_disk('pool-a', agile, 'sr-hb-a')

        code, text = self.run_manage('status', '--format', 'json')

        self.assertEqual(manage.ATTENTION, code)
        [pool] = json.loads(text)['pools']
        [entry] = pool['tied_vms']
        self.assertEqual((tied['id'], 'local-xs-a2'),
                         (entry['instance'], entry['sr']))
        self.assertIn('cannot restart it on another host', entry['reason'])
        code, text = self.run_manage('status')
        self.assertIn('Protected VMs XenServer HA cannot restart', text)
        self.assertIn(tied['id'], text)
        self.assertNotIn(agile['id'], text)
