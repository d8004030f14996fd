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

"""Host failure, HA restarts, master failover and isolation, end to end."""

import socket
import time

from tests.unit.simulator import base

NULL = 'OpaqueRef:NULL'
GIB = 1024 * 1024 * 1024
VMS = [
    {'name_label': 'p-late', 'memory_mb': 1024, 'host': 'xs-a2',
     'ha_restart_priority': 'restart', 'order': 2},
    {'name_label': 'p-second', 'memory_mb': 1024, 'host': 'xs-a2',
     'ha_restart_priority': 'restart', 'order': 1, 'start_delay': 1},
    {'name_label': 'p-first', 'memory_mb': 2048, 'host': 'xs-a2',
     'ha_restart_priority': 'restart', 'order': 0},
    {'name_label': 'be', 'memory_mb': 1024, 'host': 'xs-a2',
     'ha_restart_priority': 'best-effort'},
    {'name_label': 'unprot', 'memory_mb': 1024, 'host': 'xs-a2'},
    {'name_label': 'other', 'memory_mb': 1024, 'host': 'xs-a1',
     'ha_restart_priority': 'restart'},
    {'name_label': 'master-vm', 'memory_mb': 1024, 'host': 'xs-a1',
     'ha_restart_priority': 'restart'},
]


class Watcher(object):
    """Collects event.from events in order, with arrival times."""

    def __init__(self, session, classes):
        self.api = session.xenapi
        self.classes = classes
        self.token = self.api.event_from(classes, '', 0.0)['token']
        self.events = []

    def poll_until(self, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = self.api.event_from(self.classes, self.token, 0.5)
            self.token = batch['token']
            ids = [int(e['id']) for e in batch['events']]
            assert ids == sorted(ids), ids
            for event in batch['events']:
                self.events.append((time.monotonic(), event))
            if predicate(self):
                return
        raise AssertionError('events never satisfied the condition: %s'
                             % [(e['class'], e['snapshot'].get('name_label'))
                                for _t, e in self.events])

    def vm_states(self, name):
        return [(t, e['snapshot']['power_state'], e['snapshot']['resident_on'])
                for t, e in self.events
                if e['class'] == 'vm' and
                e['snapshot']['name_label'] == name]


class HAFailoverTest(base.SimulatorTestCase):

    def make_scenario(self):
        return base.scenario(base.pool(vms=VMS, detection_delay=0.3,
                                       restart_delay=0.1))

    def test_failover_seen_through_event_from(self):
        session = self.session()
        hosts = base.refs_by_name(session.xenapi, 'host')
        dead = hosts['xs-a2']
        dead_metrics = session.xenapi.host.get_metrics(dead)
        watcher = Watcher(session, ['VM', 'Host_Metrics'])

        start = time.monotonic()
        self.sim.fail_host('pool-a', 'xs-a2')
        # The failure is detected later (detection_delay): the host is
        # still live when fail_host returns.
        self.assertIs(True, session.xenapi.host_metrics.get_live(
            dead_metrics))

        def done(w):
            return all(any(s == 'Running' for _t, s, _h in w.vm_states(n))
                       for n in ('p-first', 'p-second', 'p-late', 'be'))
        watcher.poll_until(done)
        self.sim.wait_until_quiet('pool-a')

        live_events = [(t, e) for t, e in watcher.events
                       if e['class'] == 'host_metrics' and
                       e['ref'] == dead_metrics]
        self.assertTrue(live_events)
        self.assertIs(False, live_events[0][1]['snapshot']['live'])
        self.assertEqual('mod', live_events[0][1]['operation'])
        self.assertGreaterEqual(live_events[0][0] - start, 0.3)

        running_at = {}
        for name in ('p-first', 'p-second', 'p-late', 'be', 'unprot'):
            states = self.wait_states(watcher, name)
            self.assertEqual(('Halted', NULL), states[0][1:], name)
            self.assertGreaterEqual(states[0][0] - start, 0.3)
            if name == 'unprot':
                self.assertEqual(['Halted'], [s for _t, s, _h in states])
                continue
            self.assertEqual('Running', states[-1][1], name)
            self.assertIn(states[-1][2], (hosts['xs-a1'], hosts['xs-a3']))
            running_at[name] = states[-1][0]
        # Restarts follow order, wait start_delay, best-effort comes last.
        self.assertLess(running_at['p-first'], running_at['p-late'])
        self.assertLess(running_at['p-second'], running_at['p-late'])
        # p-second's start_delay of 1 s separates it from p-late (times
        # measured to prove the delay, not to wait for anything).
        self.assertGreaterEqual(running_at['p-late'] - running_at['p-second'],
                                0.5)
        self.assertLess(running_at['p-late'], running_at['be'])
        ids = {}
        for _t, e in watcher.events:
            snapshot = e['snapshot']
            if e['class'] == 'vm' and snapshot['power_state'] == 'Running':
                ids[snapshot['name_label']] = int(e['id'])
        self.assertEqual(['p-first', 'p-second', 'p-late', 'be'],
                         sorted(ids, key=ids.get))
        self.assertEqual([], self.wait_states(watcher, 'other'))

        vm = self.sim.vm('pool-a', 'unprot')
        self.assertEqual(('Halted', None), (vm['power_state'], vm['host']))
        self.assertEqual({'state': 'failed', 'live': False}, {
            k: v for k, v in self.host_info('xs-a2').items()
            if k in ('state', 'live')})
        self.assertEqual([], self.host_info('xs-a2')['vms'])
        self.assertRaises(ConnectionRefusedError, socket.create_connection,
                          self.address('xs-a2'), 1)

    def wait_states(self, watcher, name):
        return watcher.vm_states(name)

    def host_info(self, hostname):
        return [h for h in self.sim.hosts('pool-a')
                if h['hostname'] == hostname][0]

    def address(self, hostname):
        url = self.fixture.pool('pool-a').member_urls[hostname]
        host, port = url.split('//')[1].rsplit(':', 1)
        return host, int(port)

    def test_recovered_host_rejoins(self):
        self.sim.fail_host('pool-a', 'xs-a2')
        self.sim.wait_until_quiet('pool-a')
        self.sim.recover_host('pool-a', 'xs-a2')
        info = self.host_info('xs-a2')
        self.assertTrue(info['live'])
        self.assertEqual('up', info['state'])
        session = self.new_session(self.fixture.pool('pool-a').member_urls[
            'xs-a2'])
        self.assertFailure(['HOST_IS_SLAVE'],
                           session.xenapi.login_with_password, 'root',
                           base.PASSWORD)

    def test_recovery_before_detection_is_not_a_failure(self):
        self.sim.fail_host('pool-a', 'xs-a3')
        self.sim.recover_host('pool-a', 'xs-a3')
        self.sim.wait_until_quiet('pool-a')
        self.assertTrue(self.host_info('xs-a3')['live'])

    def test_isolated_host_is_fenced(self):
        self.sim.isolate_host('pool-a', 'xs-a2')
        self.sim.wait_until_quiet('pool-a')
        self.assertEqual('failed', self.host_info('xs-a2')['state'])
        self.assertEqual('Running', self.sim.vm('pool-a', 'p-first')[
            'power_state'])
        self.assertNotEqual('xs-a2', self.sim.vm('pool-a', 'p-first')['host'])
        self.sim.recover_host('pool-a', 'xs-a2')
        self.assertTrue(self.host_info('xs-a2')['live'])


class SmallPoolTest(base.SimulatorTestCase):

    def make_scenario(self):
        return base.scenario(
            base.pool('pool-a', hosts=2, memory_mb=4096, vms=[
                {'name_label': 'm', 'memory_mb': 3072, 'host': 'xs-a1',
                 'ha_restart_priority': 'restart'},
                {'name_label': 'p', 'memory_mb': 3072, 'host': 'xs-a2',
                 'ha_restart_priority': 'restart'}],
                ha=True, ntol=0),
            base.pool('pool-b', vms=[
                {'name_label': 'v', 'memory_mb': 1024, 'host': 'xs-b2'}],
                ha=False))

    def test_master_side_survives_a_two_host_partition(self):
        self.sim.isolate_host('pool-a', 'xs-a1')
        self.sim.wait_until_quiet('pool-a')
        hosts = {h['hostname']: h for h in self.sim.hosts('pool-a')}
        self.assertEqual('up', hosts['xs-a1']['state'])
        self.assertTrue(hosts['xs-a1']['master'])
        self.assertEqual('failed', hosts['xs-a2']['state'])
        # No room on xs-a1: the protected VM waits for capacity.
        self.assertEqual(['p'], self.sim.ha('pool-a')['pending_restarts'])
        self.assertEqual('Halted', self.sim.vm('pool-a', 'p')['power_state'])
        self.sim.recover_host('pool-a', 'xs-a1')
        self.sim.wait_until_quiet('pool-a')
        self.assertEqual('xs-a2', self.sim.vm('pool-a', 'p')['host'])
        self.assertEqual([], self.sim.ha('pool-a')['pending_restarts'])

    def test_without_ha_vms_stay_running_on_a_dead_host(self):
        api = self.session('pool-b').xenapi
        vm = api.VM.get_by_name_label('v')[0]
        host = api.VM.get_resident_on(vm)
        self.sim.fail_host('pool-b', 'xs-b2')
        self.sim.wait_until_quiet('pool-b')
        metrics = api.host.get_metrics(host)
        self.assertIs(False, api.host_metrics.get_live(metrics))
        self.assertEqual(('Running', host), (api.VM.get_power_state(vm),
                                             api.VM.get_resident_on(vm)))
        self.assertFailure(['CANNOT_CONTACT_HOST', host],
                           api.VM.hard_shutdown, vm)
        self.sim.recover_host('pool-b', 'xs-b2')
        # The host rebooted: the VM died with it.
        self.assertEqual(('Halted', NULL), (api.VM.get_power_state(vm),
                                            api.VM.get_resident_on(vm)))

    def test_isolation_without_ha_keeps_vms_running(self):
        api = self.session('pool-b').xenapi
        vm = api.VM.get_by_name_label('v')[0]
        host = api.VM.get_resident_on(vm)
        self.sim.isolate_host('pool-b', 'xs-b2')
        self.sim.wait_until_quiet('pool-b')
        self.assertIs(False, api.host_metrics.get_live(
            api.host.get_metrics(host)))
        self.sim.recover_host('pool-b', 'xs-b2')
        self.assertIs(True, api.host_metrics.get_live(
            api.host.get_metrics(host)))
        self.assertEqual(('Running', host), (api.VM.get_power_state(vm),
                                             api.VM.get_resident_on(vm)))
        # xapi_vm.ml power_state_reset trusts a live host with its VMs.
        self.assertFailure(['HOST_IS_LIVE', host], api.VM.power_state_reset,
                           vm)
        self.assertEqual('Running', api.VM.get_power_state(vm))

    def test_declare_dead_resets_vms_without_ha(self):
        api = self.session('pool-b').xenapi
        vm = api.VM.get_by_name_label('v')[0]
        host = api.VM.get_resident_on(vm)
        master = api.pool.get_master(api.pool.get_all()[0])
        # xapi_host.ml precheck_destroy_declare_dead: a live host, and the
        # master itself, are refused.
        self.assertFailure(['HOST_IS_LIVE', master], api.host.declare_dead,
                           master)
        self.assertFailure(['HOST_IS_LIVE', host], api.host.declare_dead,
                           host)
        self.assertEqual(('Running', host), (api.VM.get_power_state(vm),
                                             api.VM.get_resident_on(vm)))
        self.sim.fail_host('pool-b', 'xs-b2')
        self.sim.wait_until_quiet('pool-b')
        api.host.declare_dead(host)
        self.assertEqual(('Halted', NULL), (api.VM.get_power_state(vm),
                                            api.VM.get_resident_on(vm)))
        # xapi_host.ml declare_dead: the host is disabled, nothing else.
        self.assertIs(False, api.host.get_enabled(host))
        api.VM.start(vm, False, False)
        self.assertNotEqual(host, api.VM.get_resident_on(vm))


base.over_both_wires(globals())
