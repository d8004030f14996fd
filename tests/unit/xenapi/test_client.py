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

"""PoolClient against the pool simulator on loopback.

Every test runs over XML-RPC and over JSON-RPC (``base.over_both_wires``):
the client's guarantees do not depend on the wire.
"""

import dataclasses
import logging
import time

import fixtures
import testtools

from nova_ha_ext.simulator import fixture
from nova_ha_ext.xenapi import client as xenapi_client
from nova_ha_ext.xenapi import exceptions
from nova_ha_ext.xenapi import pool_state
from tests.unit.simulator import base

PASSWORD = base.PASSWORD


def _vms(count, host='xs-a1', priority=''):
    return [{'name_label': 'vm-%d' % i, 'memory_mb': 16, 'host': host,
             'power_state': 'Running', 'ha_restart_priority': priority,
             'other_config': {'nova_uuid': 'uuid-%d' % i}}
            for i in range(count)]


class PoolClientTestCase(testtools.TestCase):

    #: The wire the clients of the test speak (``[xenapi] protocol``).
    wire = base.XMLRPC

    def make_scenario(self):
        return base.scenario(base.pool(vms=_vms(3, priority='restart')),
                             base.pool('pool-b', ha=False))

    def setUp(self):
        super().setUp()
        self.logs = self.useFixture(
            fixtures.FakeLogger(level=logging.DEBUG))
        self.sim_fixture = self.useFixture(
            fixture.SimulatorFixture(self.make_scenario(), tls=self._tls))
        self.sim = self.sim_fixture.simulator

    _tls = False

    def client(self, pool='pool-a', url=None, password=PASSWORD, **kw):
        info = self.sim_fixture.pool(pool)
        kw.setdefault('ca_file', info.ca_file)
        kw.setdefault('allow_plain_http', not self._tls)
        kw.setdefault('protocol', self.wire)
        c = xenapi_client.PoolClient(url or info.url, info.username,
                                     password, name=pool, **kw)
        self.addCleanup(c.close)
        return c

    def assertPasswordNeverLogged(self):
        self.assertNotIn(PASSWORD, self.logs.output)


class TestPoolRead(PoolClientTestCase):

    def test_read_pool_returns_hosts_liveness_ha_and_guest_vms(self):
        snap = self.client().read_pool()
        self.assertTrue(snap.ha.ha_enabled)
        self.assertEqual(1, snap.ha.ha_host_failures_to_tolerate)
        self.assertEqual(['xs-a1', 'xs-a2', 'xs-a3'],
                         [h.hostname for h in snap.ha.hosts])
        self.assertTrue(all(h.live for h in snap.ha.hosts))
        self.assertEqual(snap.ha.host(snap.ha.master).hostname, 'xs-a1')
        self.assertEqual({'uuid-0', 'uuid-1', 'uuid-2'},
                         {vm.nova_uuid for vm in snap.vms})
        # Control domains are not guests.
        self.assertTrue(all(vm.nova_uuid for vm in snap.vms))
        self.assertTrue(all(vm.protected for vm in snap.vms))

    def test_protected_vms_waiting_for_a_restart_are_counted(self):
        # The simulator follows compute_restart_plan: a protected VM that
        # fits nowhere after its host died waits, and the pool has no plan.
        stuck = self.useFixture(fixture.SimulatorFixture(base.scenario(
            base.pool(memory_mb=2048, detection_delay=0.05,
                      restart_delay=0.0, vms=[
                          {'name_label': 'big', 'memory_mb': 2048,
                           'host': 'xs-a3', 'power_state': 'Running',
                           'ha_restart_priority': 'restart'}] + [
                          {'name_label': 'filler-%s' % h, 'memory_mb': 1024,
                           'host': h, 'power_state': 'Running'}
                          for h in ('xs-a1', 'xs-a2')]))))
        stuck.simulator.fail_host('pool-a', 'xs-a3')
        stuck.simulator.wait_until_quiet('pool-a')
        info = stuck.pool('pool-a')
        c = xenapi_client.PoolClient(info.url, 'root', PASSWORD,
                                     allow_plain_http=True,
                                     protocol=self.wire)
        self.addCleanup(c.close)
        state = c.read_ha_state()
        self.assertEqual(1, state.waiting_restarts)
        self.assertIn('1 protected VM waits for a restart',
                      state.readiness().reasons)
        self.assertEqual(1, c.read_pool().ha.waiting_restarts)

    def test_read_pool_costs_four_calls_whatever_the_vm_count(self):
        few = self.client()
        few.read_pool()  # logs in
        self.sim.reset_calls('pool-a')
        few.read_pool()
        calls_few = sum(self.sim.calls('pool-a').values())

        many = self.useFixture(fixture.SimulatorFixture(base.scenario(
            base.pool(memory_mb=65536, vms=_vms(300)))))
        info = many.pool('pool-a')
        c = xenapi_client.PoolClient(info.url, 'root', PASSWORD,
                                     allow_plain_http=True,
                                     protocol=self.wire)
        self.addCleanup(c.close)
        snap = c.read_pool()
        many.simulator.reset_calls('pool-a')
        c.read_pool()
        calls_many = sum(many.simulator.calls('pool-a').values())
        self.assertEqual(300, len(snap.vms))
        self.assertEqual(4, calls_few)
        self.assertEqual(calls_few, calls_many)

    def test_the_client_speaks_the_wire_it_is_told(self):
        c = self.client()
        c.read_pool()
        self.assertEqual(self.wire, c.protocol)

    def test_values_are_immutable(self):
        snap = self.client().read_pool()
        self.assertRaises(dataclasses.FrozenInstanceError, setattr, snap.ha,
                          'ha_enabled', False)
        other_config = snap.vms[0].other_config

        def _change():
            other_config['nova_uuid'] = 'another'
        self.assertRaises(TypeError, _change)

    def test_originator_names_the_project_and_close_logs_out(self):
        c = self.client()
        c.read_ha_state()
        c.close()
        [session] = self.sim.sessions('pool-a')
        self.assertEqual(xenapi_client.ORIGINATOR, session['originator'])
        self.assertTrue(session['logged_out'])

    def test_find_vm_and_protect_it(self):
        c = self.client()
        ref = c.find_vm('uuid-1', 'vm-1')
        c.set_restart_priority(ref, pool_state.UNPROTECTED)
        self.assertEqual('', self.sim.vm('pool-a', 'vm-1')[
            'ha_restart_priority'])
        self.assertIsNone(c.find_vm('no-such-instance', 'vm-1'))


class TestPoolConnection(PoolClientTestCase):

    def test_a_member_url_leads_to_the_master(self):
        info = self.sim_fixture.pool('pool-a')
        c = self.client(url=info.member_urls['xs-a3'])
        c.read_ha_state()
        self.assertEqual(info.url, c.master_url)

    def test_listed_members_reach_the_pool_when_the_first_is_dead(self):
        info = self.sim_fixture.pool('pool-a')
        self.sim.fail_master('pool-a')
        self.sim.wait_until_quiet('pool-a')
        urls = ','.join(info.member_urls[h] for h in sorted(
            info.member_urls))
        c = self.client(url=urls, connect_timeout=1.0)
        self.assertEqual(2, len(c.read_ha_state().live_hosts))
        self.assertEqual(self.sim_fixture.pool('pool-a').url, c.master_url)

    def test_mixed_schemes_are_a_configuration_error(self):
        exc = self.assertRaises(
            exceptions.InvalidConfiguration, xenapi_client.PoolClient,
            'http://127.0.0.1:80,https://127.0.0.2:443', 'root', PASSWORD,
            allow_plain_http=True)
        self.assertIn('mixes http and https', str(exc))

    def test_master_failover_next_call_succeeds_through_new_master(self):
        c = self.client(connect_timeout=1.0, read_timeout=5.0)
        c.read_ha_state()
        old_master = c.master_url
        self.sim.fail_master('pool-a')
        start = time.monotonic()
        state = c.read_ha_state()
        elapsed = time.monotonic() - start
        self.assertNotEqual(old_master, c.master_url)
        self.assertEqual(self.sim_fixture.pool('pool-a').url, c.master_url)
        self.assertEqual(state.host(state.master).address,
                         c.master_url.split('//')[1].split(':')[0])
        self.addDetail('failover_seconds',
                       testtools.content.text_content('%.3f' % elapsed))
        self.assertLess(elapsed, 5.0)

    def test_event_token_does_not_outlive_a_master_failover(self):
        # xapi keeps neither sessions nor event tokens across a master
        # failover (simulator: test_master_failover).
        c = self.client(connect_timeout=1.0, read_timeout=5.0)
        token = c.event_from(['vm', 'host'], '', 0.0)['token']
        self.sim.fail_master('pool-a')
        self.sim.wait_until_quiet('pool-a')
        self.assertRaises(exceptions.EventTokenLost, c.event_from, ['vm'],
                          token, 0.0)
        self.assertTrue(c.event_from(['vm'], '', 0.0)['events'])

    def test_a_pool_whose_members_all_refuse_reports_an_election(self):
        c = self.client(connect_timeout=1.0, read_timeout=5.0,
                        election_timeout=0.5)
        c.read_ha_state()
        for host in ('xs-a2', 'xs-a3', 'xs-a1'):
            self.sim.fail_host('pool-a', host)
        exc = self.assertRaises(exceptions.ElectingMaster, c.read_ha_state)
        self.assertIsInstance(exc, exceptions.PoolUnreachable)
        self.assertIn('electing a master', str(exc))

    def test_expired_session_is_renewed_transparently(self):
        c = self.client()
        c.read_ha_state()
        self.sim.expire_sessions('pool-a')
        c.read_ha_state()
        self.assertEqual(2, len(self.sim.sessions('pool-a')))

    def test_wrong_password_fails_with_a_clear_message(self):
        c = self.client(password='not-the-password')
        exc = self.assertRaises(exceptions.AuthenticationFailed,
                                c.read_ha_state)
        self.assertIn('pool-a', str(exc))
        self.assertIn(self.sim_fixture.pool('pool-a').url, str(exc))
        self.assertIn('connection_password', str(exc))
        self.assertNotIn('not-the-password', str(exc))
        self.assertNotIn('not-the-password', self.logs.output)

    def test_unreachable_url_fails_fast_naming_the_url(self):
        # Nothing listens on this loopback address and port.
        c = self.client(url='http://127.0.0.1:9', connect_timeout=1.0)
        start = time.monotonic()
        exc = self.assertRaises(exceptions.PoolUnreachable, c.read_ha_state)
        self.assertLess(time.monotonic() - start, 5.0)
        self.assertIn('http://127.0.0.1:9', str(exc))
        self.assertIn('pool-a', str(exc))

    def test_slow_master_hits_the_read_timeout(self):
        c = self.client(read_timeout=0.3)
        c.read_ha_state()
        self.sim.set_latency('pool-a', 1.0)
        self.assertRaises(exceptions.PoolUnreachable, c.read_ha_state)

    def test_dropped_connection_is_retried_on_another_member(self):
        c = self.client()
        c.read_ha_state()
        self.sim.drop_connections('pool-a', 1)
        self.assertEqual(3, len(c.read_ha_state().hosts))

    def test_missing_ca_file_is_a_configuration_error(self):
        exc = self.assertRaises(
            exceptions.InvalidConfiguration, xenapi_client.PoolClient,
            'https://127.0.0.1:443', 'root', PASSWORD, name='pool-a',
            ca_file='/nonexistent/ca.pem')
        self.assertIn('ca_file /nonexistent/ca.pem', str(exc))

    def test_not_a_url_is_a_configuration_error(self):
        exc = self.assertRaises(
            exceptions.InvalidConfiguration, xenapi_client.PoolClient,
            'xs-a1.example.com', 'root', PASSWORD)
        self.assertIn('expected https://host[:port]', str(exc))

    def test_failed_call_names_the_method_and_code(self):
        c = self.client()
        exc = self.assertRaises(exceptions.CallFailed, c.call,
                                'VM.get_record', 'OpaqueRef:nonsense')
        self.assertEqual('HANDLE_INVALID', exc.code)
        self.assertIn('VM.get_record', str(exc))

    def test_password_never_logged(self):
        c = self.client()
        c.read_pool()
        self.sim.expire_sessions('pool-a')
        c.read_pool()
        self.sim.fail_master('pool-a')
        c.read_pool()
        c.close()
        self.assertIn('Logged in', self.logs.output)
        self.assertPasswordNeverLogged()


class TestTLS(PoolClientTestCase):

    _tls = True

    def test_verified_tls_with_the_pool_ca(self):
        self.assertTrue(self.client().read_ha_state().ha_enabled)

    def test_unknown_ca_fails_with_a_tls_message(self):
        c = self.client(ca_file=None)
        exc = self.assertRaises(exceptions.PoolUnreachable, c.read_ha_state)
        self.assertIn('TLS', str(exc))
        self.assertIn('ca_file', str(exc))

    def test_insecure_must_be_asked_for_by_name(self):
        c = self.client(ca_file=None, insecure=True)
        self.assertTrue(c.read_ha_state().ha_enabled)
        self.assertIn('verification is off', self.logs.output)


base.over_both_wires(globals())
