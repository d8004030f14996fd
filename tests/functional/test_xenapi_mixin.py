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

"""XenAPIPoolHAMixin in real nova-compute services against simulated pools.

pool-a is a ready 3-host HA pool, pool-b a 3-host pool with HA disabled;
both are Nova aggregates with ``ha=true``.
"""

import logging
import time

import fixtures

from nova import context as nova_context
from nova import objects
from nova.scheduler import host_manager

from nova_ha_ext.testing import hostile
from nova_ha_ext.testing import xenapi_pools
from nova_ha_ext.virt.xenapi import fake as xenapi_fake
from nova_ha_ext.virt.xenapi import mixin

TRAIT = mixin.HA_READY_TRAIT


class TestPoolHAReporting(xenapi_pools.XenAPIPoolsTestCase):

    def _stats(self, hostname):
        node = objects.ComputeNode.get_by_nodename(self.ctxt, hostname)
        return node.stats

    def _traits(self, hostname):
        rp_uuid = self._get_provider_uuid_by_host(hostname)
        return set(self._get_provider_traits(rp_uuid))

    def _scheduler_stats(self, hostname):
        hm = host_manager.HostManager()
        states = hm.get_host_states_by_uuids(
            nova_context.get_admin_context(), None, objects.RequestSpec())
        [state] = [s for s in states if s.nodename == hostname]
        return state.stats

    def test_trait_and_stats_on_the_right_compute_nodes(self):
        pool_a = self.sim_fixture.pool('pool-a')
        for host in ('xs-a1', 'xs-a2', 'xs-a3'):
            self.assertIn(TRAIT, self._traits(host))
            stats = self._stats(host)
            self.assertEqual(pool_a.uuid, stats['xenapi_pool_uuid'])
            self.assertEqual('true', stats['xenapi_pool_ha_enabled'])
            self.assertEqual('1', stats['xenapi_pool_ha_plan_exists_for'])
            self.assertEqual('false', stats['xenapi_pool_ha_overcommitted'])
            self.assertEqual('true', stats['xenapi_pool_ha_ready'])
            self.assertNotIn('ha', stats)
        for host in ('xs-b1', 'xs-b2', 'xs-b3'):
            self.assertNotIn(TRAIT, self._traits(host))
            stats = self._stats(host)
            self.assertEqual('false', stats['xenapi_pool_ha_enabled'])
            self.assertEqual('false', stats['xenapi_pool_ha_ready'])
            self.assertIn('HA is not enabled',
                          stats['xenapi_pool_ha_not_ready_reasons'])
        # The scheduler sees the same stats in its host states.
        self.assertEqual('true', self._scheduler_stats('xs-a2')[
            'xenapi_pool_ha_ready'])
        self.assertEqual('false', self._scheduler_stats('xs-b2')[
            'xenapi_pool_ha_ready'])

    def test_protected_vms_stuck_waiting_make_the_pool_not_ready(self):
        # xapi_ha_vm_failover.ml compute_restart_plan plans the Halted
        # protected VMs too: one that fits nowhere leaves no plan.
        api = self.xenapi('pool-a')
        [pool_ref] = api.pool.get_all()
        api.pool.set_ha_allow_overcommit(pool_ref, True)
        hosts = {h['hostname']: h for h in self.sim.hosts('pool-a')}
        big = api.VM.create(xenapi_fake.vm_record(
            'big', hosts['xs-a3']['memory_free_mb'], 1))
        api.VM.set_ha_restart_priority(big, 'restart')
        api.VM.start_on(big, api.host.get_by_name_label('xs-a3')[0], False,
                        False)
        for host in ('xs-a1', 'xs-a2'):
            filler = api.VM.create(xenapi_fake.vm_record(
                'filler-' + host, hosts[host]['memory_free_mb'] // 2, 1))
            api.VM.start_on(filler, api.host.get_by_name_label(host)[0],
                            False, False)
        self.sim.fail_host('pool-a', 'xs-a3')
        self.sim.wait_until_quiet('pool-a')
        self._run_periodics()

        self.assertNotIn(TRAIT, self._traits('xs-a1'))
        stats = self._stats('xs-a1')
        self.assertEqual('false', stats['xenapi_pool_ha_ready'])
        self.assertIn('1 protected VM waits for a restart',
                      stats['xenapi_pool_ha_not_ready_reasons'])

    def test_ha_servers_follow_readiness_then_get_novalidhost(self):
        flavor = self.ha_flavor()
        server = self.boot(flavor, name='first')
        self.assertTrue(server['OS-EXT-SRV-ATTR:host'].startswith('xs-a'))

        # The operator moves HA from pool-a to pool-b.
        api_b = self.xenapi('pool-b')
        sr = api_b.SR.get_by_name_label('sr-hb-b')[0]
        api_b.pool.enable_ha([sr], {})
        self.xenapi('pool-a').pool.disable_ha()
        self._run_periodics()

        for host in ('xs-a1', 'xs-a2', 'xs-a3'):
            self.assertNotIn(TRAIT, self._traits(host))
        for host in ('xs-b1', 'xs-b2', 'xs-b3'):
            self.assertIn(TRAIT, self._traits(host))
        for i in range(3):
            server = self.boot(flavor, name='moved-%d' % i)
            self.assertTrue(server['OS-EXT-SRV-ATTR:host'].startswith('xs-b'))

        self.xenapi('pool-b').pool.disable_ha()
        self._run_periodics()
        server = self.boot(flavor, name='nowhere', expected_state='ERROR')
        self.assertIn('No valid host', server['fault']['message'])

    def test_ha_server_vm_is_protected_and_plain_is_not(self):
        ha = self.boot(self.ha_flavor(), name='ha')
        plain = self.boot(self.plain_flavor(), name='plain')
        self.assertEqual('restart', self.vm_of('pool-a', ha)[
            'ha_restart_priority'])
        pool = 'pool-a' if plain['OS-EXT-SRV-ATTR:host'].startswith(
            'xs-a') else 'pool-b'
        vm = self.vm_of(pool, plain)
        self.assertEqual('', vm['ha_restart_priority'])
        self.assertEqual('Running', vm['power_state'])
        self.assertEqual(plain['OS-EXT-SRV-ATTR:host'], vm['host'])


class TestResizeProtection(xenapi_pools.XenAPIPoolsTestCase):
    """Resize between an HA and a plain flavor changes the protection.

    A cold migration moves the same VM within its pool (shared storage), so
    this cloud has one pool only.
    """

    POOLS = {'pool-a': True}

    def test_resize_to_plain_unprotects_and_revert_protects_again(self):
        server = self.boot(self.ha_flavor(), name='resized')
        self.assertEqual('restart', self.vm_of('pool-a', server)[
            'ha_restart_priority'])
        server = self._resize_server(server, self.plain_flavor())
        vm = self.vm_of('pool-a', server)
        self.assertEqual('', vm['ha_restart_priority'])
        self.assertEqual(server['OS-EXT-SRV-ATTR:host'], vm['host'])
        server = self._revert_resize(server)
        vm = self.vm_of('pool-a', server)
        self.assertEqual('restart', vm['ha_restart_priority'])
        self.assertEqual('Running', vm['power_state'])
        self.assertEqual(server['OS-EXT-SRV-ATTR:host'], vm['host'])


class TestXenAPIDown(xenapi_pools.XenAPIPoolsTestCase):

    POOLS = {'pool-a': True}

    def test_unreachable_pool_reports_unknown_and_removes_trait(self):
        rp = self._get_provider_uuid_by_host('xs-a1')
        self.assertIn(TRAIT, self._get_provider_traits(rp))
        logs = self.useFixture(fixtures.FakeLogger(level=logging.INFO))
        # Every member stops answering.
        for host in ('xs-a1', 'xs-a2', 'xs-a3'):
            self.sim.fail_host('pool-a', host)
        self.sim.wait_until_quiet('pool-a')
        self._run_periodics()
        self.assertNotIn(TRAIT, self._get_provider_traits(rp))
        node = objects.ComputeNode.get_by_nodename(self.ctxt, 'xs-a1')
        self.assertEqual('unknown', node.stats['xenapi_pool_ha_ready'])

        def errors():
            return [line for line in logs.output.splitlines()
                    if 'Cannot read the HA state' in line]
        # One error per compute and period, not one per call.
        self.assertEqual(3, len(errors()))
        # Within pool_state_cache_seconds the failure is not read again.
        self.flags(pool_state_cache_seconds=3600, group='xenapi')
        self._run_periodics()
        self.assertEqual(3, len(errors()))
        self.assertNotIn(xenapi_pools.PASSWORD, logs.output)


class TestBadConnectionSettings(xenapi_pools.XenAPIPoolsTestCase):

    POOLS = {'pool-a': True}

    def _start_with(self, hostname, **flags):
        logs = self.useFixture(fixtures.FakeLogger(level=logging.INFO))
        self.flags(group='xenapi', **flags)
        self._start_compute(hostname)
        self._run_periodics()
        node = objects.ComputeNode.get_by_nodename(self.ctxt, hostname)
        return node, logs.output

    def test_wrong_password_is_reported_and_compute_keeps_running(self):
        url = self.sim_fixture.pool('pool-a').member_urls['xs-a2']
        self.computes['xs-a2'].stop()
        del self.computes['xs-a2']
        node, output = self._start_with(
            'xs-a2', connection_url=url, connection_password='wrong-pw')
        self.assertEqual('unknown', node.stats['xenapi_pool_ha_ready'])
        self.assertIn('refused user', output)
        self.assertNotIn('wrong-pw', output)
        self.assertNotIn(TRAIT, self._get_provider_traits(
            self._get_provider_uuid_by_host('xs-a2')))

    def test_unreachable_url_is_reported(self):
        self.computes['xs-a3'].stop()
        del self.computes['xs-a3']
        start = time.monotonic()
        node, output = self._start_with(
            'xs-a3', connection_url='http://127.0.0.1:9')
        self.assertLess(time.monotonic() - start, 30)
        self.assertEqual('unknown', node.stats['xenapi_pool_ha_ready'])
        self.assertIn('http://127.0.0.1:9', output)

    def test_bad_ca_file_is_reported(self):
        self.computes['xs-a3'].stop()
        del self.computes['xs-a3']
        node, output = self._start_with(
            'xs-a3', connection_url='https://127.0.0.1:9',
            ca_file='/nonexistent/ca.pem')
        self.assertEqual('unknown', node.stats['xenapi_pool_ha_ready'])
        self.assertIn('ca_file /nonexistent/ca.pem', output)

    def test_garbage_from_the_pool_reports_unknown_without_the_trait(self):
        self.computes['xs-a3'].stop()
        del self.computes['xs-a3']
        server = self.useFixture(_Hostile({
            'pool.get_all_records': hostile.Raw(
                b'<html><body>Welcome to nginx</body></html>',
                content_type='text/html')}))
        node, output = self._start_with('xs-a3', connection_url=server.url)
        self.assertEqual('unknown', node.stats['xenapi_pool_ha_ready'])
        self.assertNotIn(TRAIT, self._get_provider_traits(
            self._get_provider_uuid_by_host('xs-a3')))
        self.assertIn('expected <methodResponse>, found <html>', output)
        self.assertNotIn('Traceback', output)

    def test_plain_http_is_refused_unless_allowed(self):
        url = self.sim_fixture.pool('pool-a').member_urls['xs-a3']
        self.computes['xs-a3'].stop()
        del self.computes['xs-a3']
        node, output = self._start_with('xs-a3', connection_url=url,
                                        allow_plain_http=False)
        self.assertEqual('unknown', node.stats['xenapi_pool_ha_ready'])
        self.assertIn('allow_plain_http = True', output)

    def test_plain_http_when_allowed_is_warned_about(self):
        url = self.sim_fixture.pool('pool-a').member_urls['xs-a3']
        self.computes['xs-a3'].stop()
        del self.computes['xs-a3']
        node, output = self._start_with('xs-a3', connection_url=url)
        self.assertEqual('true', node.stats['xenapi_pool_ha_ready'])
        self.assertEqual(1, output.count('reached over plain http'))

    def test_credentials_in_the_url_are_refused_and_never_shown(self):
        self.computes['xs-a3'].stop()
        del self.computes['xs-a3']
        node, output = self._start_with(
            'xs-a3', connection_url='https://root:s3cr/t@127.0.0.1:99999')
        self.assertEqual('unknown', node.stats['xenapi_pool_ha_ready'])
        self.assertIn('holds a user name or password', output)
        self.assertNotIn('s3cr', output)


class TestTiedInstances(xenapi_pools.XenAPIPoolsTestCase):
    """A protected instance whose disk only its host sees."""

    POOLS = {'pool-a': True}

    def scenario(self):
        return {'pools': [xenapi_pools.pool_scenario('pool-a', True,
                                                     local_sr_on='xs-a2')]}

    def test_its_host_is_not_ready_and_says_which_instance(self):
        server = self._create_server(name='tied', flavor_id=self.ha_flavor(),
                                     networks='none', host='xs-a2')
        self.add_disk('pool-a', server, 'local-xs-a2')

        self._run_periodics()

        node = objects.ComputeNode.get_by_nodename(self.ctxt, 'xs-a2')
        self.assertEqual('false', node.stats['xenapi_pool_ha_ready'])
        reasons = node.stats['xenapi_pool_ha_not_ready_reasons']
        self.assertIn('instance %s is protected' % server['id'], reasons)
        self.assertIn('local-xs-a2', reasons)
        self.assertNotIn(TRAIT, set(self._get_provider_traits(
            self._get_provider_uuid_by_host('xs-a2'))))
        # The other hosts' failures lose nothing: they stay ready.
        node = objects.ComputeNode.get_by_nodename(self.ctxt, 'xs-a1')
        self.assertEqual('true', node.stats['xenapi_pool_ha_ready'])
        self.assertIn(TRAIT, set(self._get_provider_traits(
            self._get_provider_uuid_by_host('xs-a1'))))


class _Hostile(fixtures.Fixture):
    """A hostile XenAPI server on loopback for one test."""

    def __init__(self, answers):
        super().__init__()
        self.server = hostile.HostileXenAPI(answers)

    def _setUp(self):
        self.server.start()
        self.addCleanup(self.server.stop)
        self.url = self.server.url
