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

"""The simulator in a process that eventlet monkey-patched (like Nova's)."""

import os
import subprocess
import sys
import textwrap

import testtools

SCRIPT = textwrap.dedent('''
    import eventlet
    eventlet.monkey_patch()

    import threading
    import time

    import XenAPI

    from nova_ha_ext.simulator import fixture

    scenario = {'pools': [{
        'name': 'p', 'password': 's', 'detection_delay': 0.05,
        'restart_delay': 0.05,
        'ha': {'enabled': True, 'heartbeat_sr': 'hb'},
        'srs': [{'name_label': 'hb', 'shared': True}],
        'hosts': [{'hostname': 'h1', 'memory_mb': 4096},
                  {'hostname': 'h2', 'memory_mb': 4096}],
        'vms': [{'name_label': 'vm1', 'host': 'h2',
                 'ha_restart_priority': 'restart'}]}]}
    sim = fixture.SimulatorFixture(scenario, control_port=0)
    sim.setUp()
    info = sim.pool('p')
    session = XenAPI.Session(info.url)
    session.xenapi.login_with_password('root', 's')
    token = session.xenapi.event_from(['vm'], '', 0.0)['token']
    states = []
    watching = threading.Event()

    def watch():
        global token
        watcher = XenAPI.Session(info.url)
        watcher.xenapi.login_with_password('root', 's')
        watching.set()
        deadline = time.time() + 10
        while time.time() < deadline and ('vm1', 'Running') not in states:
            batch = watcher.xenapi.event_from(['vm'], token, 1.0)
            token = batch['token']
            states.extend((e['snapshot']['name_label'],
                           e['snapshot']['power_state'])
                          for e in batch['events'])

    thread = threading.Thread(target=watch)
    thread.start()
    # The token predates the failure: the watcher sees it whenever it
    # polls; the host fails once it is logged in and about to long-poll.
    assert watching.wait(10)
    sim.simulator.fail_host('p', 'h2')
    thread.join()
    sim.simulator.wait_until_quiet()
    assert states == [('vm1', 'Halted'), ('vm1', 'Running')], states
    assert sim.simulator.vm('p', 'vm1')['host'] == 'h1'
    sim.cleanUp()
    print('ok')
''')


class EventletTest(testtools.TestCase):

    def test_runs_monkey_patched(self):
        env = dict(os.environ, PYTHONWARNINGS='ignore')
        result = subprocess.run([sys.executable, '-c', SCRIPT],
                                capture_output=True, text=True, timeout=60,
                                env=env)
        self.assertEqual((0, 'ok\n'), (result.returncode, result.stdout),
                         result.stderr)
