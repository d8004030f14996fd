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

"""Fault injection and inspection: the Python API and the HTTP interface."""

import http.client
import json
import time
import urllib.parse

import XenAPI

from tests.unit.simulator import base

VMS = [{'name_label': 'vm1', 'memory_mb': 1024, 'host': 'xs-a2',
        'ha_restart_priority': 'restart',
        'other_config': {'nova_uuid': '0b5a3b8e-5c4f-4a71-8f0e-6d7c1e2a9b01'}}]


class FaultTest(base.SimulatorTestCase):

    def make_scenario(self):
        return base.scenario(base.pool(vms=VMS), base.pool('pool-b',
                                                           ha=False))

    def test_latency(self):
        api = self.session().xenapi
        self.sim.set_latency('pool-a', 0.2)
        start = time.monotonic()
        api.VM.get_all()
        self.assertGreaterEqual(time.monotonic() - start, 0.2)
        self.sim.set_latency('pool-a', 0)
        start = time.monotonic()
        api.VM.get_all()
        self.assertLess(time.monotonic() - start, 0.2)

    def test_dropped_connections(self):
        session = self.session()
        self.sim.drop_connections('pool-a', 2)
        # xmlrpc.client retries once on a reused connection closed without
        # a response, so two drops reach the caller.
        self.assertRaises(http.client.RemoteDisconnected,
                          session.xenapi.VM.get_all)
        self.assertEqual(3, len(session.xenapi.host.get_all()))
        self.assertEqual(0, self.sim.calls('pool-a')['VM.get_all'])
        self.assertEqual(1, self.sim.calls('pool-a')['host.get_all'])

    def test_calls_are_counted_per_pool(self):
        api = self.session().xenapi
        api.VM.get_all_records()
        api.VM.get_all_records()
        api.event_from(['vm'], '', 0.0)
        self.assertRaises(XenAPI.Failure, api.VM.nope)
        calls = self.sim.calls('pool-a')
        self.assertEqual({'session.login_with_password': 1,
                          'VM.get_all_records': 2, 'event.from': 1,
                          'VM.nope': 1}, dict(calls))
        self.assertEqual({}, dict(self.sim.calls('pool-b')))
        self.sim.reset_calls('pool-a')
        self.assertEqual({}, dict(self.sim.calls('pool-a')))

    def test_inspection(self):
        [vm] = self.sim.vms('pool-a')
        self.assertEqual('vm1', vm['name_label'])
        self.assertEqual('xs-a2', vm['host'])
        self.assertEqual('0b5a3b8e-5c4f-4a71-8f0e-6d7c1e2a9b01',
                         vm['nova_uuid'])
        self.assertEqual(vm, self.sim.vm('pool-a', vm['nova_uuid']))
        self.assertEqual(vm, self.sim.vm('pool-a', vm['uuid']))
        self.assertEqual(4, len(self.sim.vms('pool-a', True)))
        hosts = self.sim.hosts('pool-a')
        self.assertEqual(['xs-a1', 'xs-a2', 'xs-a3'],
                         [h['hostname'] for h in hosts])
        self.assertEqual([True, False, False], [h['master'] for h in hosts])
        self.assertEqual(7168, hosts[1]['memory_free_mb'])
        ha = self.sim.ha('pool-a')
        self.assertEqual((True, 1, 1), (ha['enabled'],
                                        ha['host_failures_to_tolerate'],
                                        ha['plan_exists_for']))
        self.assertRaises(self.sim_error(), self.sim.vm, 'pool-a', 'nope')
        self.assertRaises(self.sim_error(), self.sim.hosts, 'pool-z')
        self.assertRaises(self.sim_error(), self.sim.fail_host, 'pool-a',
                          'xs-z9')

    def sim_error(self):
        from nova_ha_ext.simulator import control
        return control.SimulatorError

    def test_wait_until_quiet_times_out(self):
        self.sim.fail_host('pool-b', 'xs-b2')
        self.assertRaises(TimeoutError, self.sim.wait_until_quiet, 'pool-b',
                          0.0)
        self.sim.wait_until_quiet('pool-b', 5)


class ControlHTTPTest(base.SimulatorTestCase):

    control_port = 0

    def make_scenario(self):
        return base.scenario(base.pool(vms=VMS))

    def request(self, method, path, body=None):
        url = urllib.parse.urlparse(self.sim.control_url)
        self.assertEqual('127.0.0.1', url.hostname)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        self.addCleanup(conn.close)
        data = json.dumps(body) if body is not None else None
        conn.request(method, path, data,
                     {'Content-Type': 'application/json'})
        response = conn.getresponse()
        return response.status, json.loads(response.read())

    def test_inspect(self):
        status, body = self.request('GET', '/pools')
        self.assertEqual(200, status)
        [info] = body['result']
        self.assertEqual(self.fixture.pool('pool-a').as_dict(), info)
        status, body = self.request('GET', '/pools/pool-a/vms/vm1')
        self.assertEqual((200, 'xs-a2'), (status, body['result']['host']))
        status, body = self.request('GET', '/pools/pool-a/ha')
        self.assertEqual(1, body['result']['plan_exists_for'])
        self.assertEqual(404, self.request('GET', '/pools/nope/vms')[0])
        self.assertEqual(404, self.request('GET', '/pools/pool-a/nope')[0])

    def test_faults(self):
        status, body = self.request('POST', '/pools/pool-a/fail_host',
                                    {'host': 'xs-a2'})
        self.assertEqual((200, {'result': None}), (status, body))
        status, _body = self.request('POST', '/pools/pool-a/wait_until_quiet',
                                     {'timeout': 10})
        self.assertEqual(200, status)
        status, body = self.request('GET', '/pools/pool-a/vms/vm1')
        self.assertIn(body['result']['host'], ('xs-a1', 'xs-a3'))
        status, body = self.request('POST', '/pools/pool-a/migrate_vm',
                                    {'vm': 'vm1', 'host': 'xs-a2'})
        self.assertEqual(409, status)
        self.assertEqual(['HOST_NOT_LIVE'], body['details'])
        self.assertEqual(200, self.request(
            'POST', '/pools/pool-a/recover_host', {'host': 'xs-a2'})[0])
        self.assertEqual(200, self.request(
            'POST', '/pools/pool-a/migrate_vm',
            {'vm': 'vm1', 'host': 'xs-a2'})[0])
        self.assertEqual(200, self.request('POST', '/expire_sessions')[0])
        self.assertEqual(200, self.request(
            'POST', '/pools/pool-a/set_latency', {'seconds': 0})[0])

    def test_bad_requests(self):
        status, body = self.request('POST', '/pools/pool-a/fail_host', {})
        self.assertEqual(400, status)
        self.assertIn("missing argument 'host'", body['error'])
        status, body = self.request('POST', '/pools/pool-a/fail_host',
                                    {'host': 'xs-a2', 'when': 'now'})
        self.assertEqual(400, status)
        self.assertIn("unknown argument 'when'", body['error'])
        status, body = self.request('POST', '/pools/pool-a/explode', {})
        self.assertEqual(404, status)
        self.assertIn('fail_host', body['error'])
        status, body = self.request('POST', '/pools/pool-a/fail_host',
                                    {'host': 'xs-q'})
        self.assertEqual(404, status)
        self.assertIn('xs-q', body['error'])
