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

"""Master failover as xapi does it.

xapi_pool_transition.ml restarts xapi on the new master and the members;
xapi_ha.ml on_database_engine_ready disables every host until it enables
itself; sessions are not persisted; event tokens belong to one master.
"""

import socket
import threading
import time

from tests.unit.simulator import base

# xs-a3 has the lowest uuid: the simulator's HA daemon picks it.
UUIDS = ('33333333-0000-4000-8000-000000000001',
         '22222222-0000-4000-8000-000000000002',
         '11111111-0000-4000-8000-000000000003')
VMS = [
    {'name_label': 'on-master', 'memory_mb': 1024, 'host': 'xs-a1',
     'power_state': 'Running', 'ha_restart_priority': 'restart'},
    {'name_label': 'on-member', 'memory_mb': 1024, 'host': 'xs-a2',
     'power_state': 'Running', 'ha_restart_priority': 'restart'},
]


def failover_pool(**timing):
    data = base.pool(vms=VMS, detection_delay=0.05, restart_delay=0.0,
                     **timing)
    for host, uuid in zip(data['hosts'], UUIDS):
        host['uuid'] = uuid
    return data


class MasterFailoverTest(base.SimulatorTestCase):

    def make_scenario(self):
        return base.scenario(failover_pool(failover_seconds=0.5,
                                           enable_seconds=0.2))

    def address(self, hostname):
        url = self.fixture.pool('pool-a').member_urls[hostname]
        host, port = url.split('//')[1].rsplit(':', 1)
        return host, int(port)

    def refuses(self, hostname):
        try:
            socket.create_connection(self.address(hostname), 1).close()
        except ConnectionRefusedError:
            return True
        return False

    def test_every_survivor_refuses_connections_while_xapi_restarts(self):
        self.sim.fail_master('pool-a')
        self.wait_for(lambda: self.sim.ha('pool-a')['electing'],
                      what='the election')
        self.assertTrue(all(self.refuses(h)
                            for h in ('xs-a1', 'xs-a2', 'xs-a3')))
        self.sim.wait_until_quiet('pool-a')
        self.assertFalse(self.refuses('xs-a3'))
        self.assertFalse(self.refuses('xs-a2'))

    def test_ha_daemon_chooses_the_new_master(self):
        self.sim.fail_master('pool-a')
        self.sim.wait_until_quiet('pool-a')
        info = self.fixture.pool('pool-a')
        self.assertEqual('xs-a3', info.master)
        member = self.new_session(info.member_urls['xs-a2'])
        new_ip = info.url.split('//')[1].rsplit(':', 1)[0]
        self.assertFailure(['HOST_IS_SLAVE', new_ip],
                           member.xenapi.login_with_password, 'root',
                           base.PASSWORD)

    def test_sessions_are_not_persisted(self):
        handle = self.session().handle
        self.sim.fail_master('pool-a')
        self.sim.wait_until_quiet('pool-a')
        self.assertEqual((False, ['SESSION_INVALID', handle]),
                         self.raw(self.fixture.pool('pool-a').url,
                                  'pool.get_all', handle))
        self.assertTrue(all(s['expired'] for s in self.sim.sessions('pool-a')
                            if s['ref'] == handle))

    def test_hosts_are_disabled_until_they_enable_themselves(self):
        self.sim.fail_master('pool-a')
        self.wait_for(lambda: self.sim.ha('pool-a')['electing'],
                      what='the election')
        self.wait_for(lambda: not self.sim.ha('pool-a')['electing'],
                      what='xapi back on the new master')
        enabled = {h['hostname']: h['enabled']
                   for h in self.sim.hosts('pool-a')}
        self.assertFalse(enabled['xs-a3'] and enabled['xs-a2'])
        self.sim.wait_until_quiet('pool-a')
        enabled = {h['hostname']: h['enabled']
                   for h in self.sim.hosts('pool-a')}
        self.assertEqual({'xs-a1': False, 'xs-a2': True, 'xs-a3': True},
                         enabled)

    def test_vms_of_the_dead_master_restart_once_hosts_are_enabled(self):
        self.sim.fail_master('pool-a')
        self.sim.wait_until_quiet('pool-a')
        vm = self.sim.vm('pool-a', 'on-master')
        self.assertEqual('Running', vm['power_state'])
        self.assertIn(vm['host'], ('xs-a2', 'xs-a3'))

    def test_old_token_means_nothing_on_the_new_master(self):
        api = self.session().xenapi
        token = api.event_from(['vm'], '', 0.0)['token']
        vm = api.VM.get_by_name_label('on-member')[0]
        for i in range(20):
            api.VM.set_name_description(vm, str(i))
        token = api.event_from(['vm'], token, 0.0)['token']
        self.sim.fail_master('pool-a')
        self.sim.wait_until_quiet('pool-a')
        api = self.session().xenapi
        # The restart of on-master happened after the token, yet the old
        # token finds nothing: only a fresh read tells the truth.
        self.assertEqual([], api.event_from(['vm'], token, 0.2)['events'])
        names = {e['snapshot']['name_label']: e['snapshot']['power_state']
                 for e in api.event_from(['vm'], '', 0.0)['events']}
        self.assertEqual('Running', names['on-master'])

    def test_long_poll_to_the_dead_master_is_cut(self):
        info = self.fixture.pool('pool-a')
        api = self.session().xenapi
        token = api.event_from(['pool'], '', 0.0)['token']
        outcome = {}
        started = threading.Event()

        def watch():
            watcher = base.new_session(info.url, self.wire)
            watcher.xenapi.login_with_password('root', base.PASSWORD)
            started.set()
            begin = time.monotonic()
            try:
                watcher.xenapi.event_from(['task'], token, 30.0)
            except OSError as e:
                outcome['error'] = e
            outcome['after'] = time.monotonic() - begin
            watcher('close')()
        thread = threading.Thread(target=watch)
        thread.start()
        started.wait(5)
        self.wait_for(lambda: len(self.sim.sessions('pool-a')) == 2,
                      what='the watcher session')
        self.sim.fail_master('pool-a')
        thread.join(10)
        self.assertIn('error', outcome)
        self.assertLess(outcome['after'], 5)


class MasterFailoverWithoutHATest(base.SimulatorTestCase):

    def make_scenario(self):
        data = failover_pool()
        del data['ha']
        return base.scenario(data)

    def test_members_elect_a_master_without_ha_but_restart_nothing(self):
        self.sim.fail_master('pool-a')
        self.sim.wait_until_quiet('pool-a')
        self.assertEqual('xs-a3', self.fixture.pool('pool-a').master)
        vm = self.sim.vm('pool-a', 'on-master')
        self.assertEqual(('Running', 'xs-a1'), (vm['power_state'],
                                                vm['host']))


base.over_both_wires(globals())
