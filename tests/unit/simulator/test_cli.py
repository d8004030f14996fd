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

"""The nova-ha-xapi-simulator command, run as a real process."""

import json
import os
import signal
import subprocess
import sys
import urllib.request

import fixtures
import testtools
import XenAPI

from tests.unit.simulator import test_scenario


def _command(*args):
    return [sys.executable, '-c',
            'import sys; from nova_ha_ext.cmd import simulator; '
            'sys.exit(simulator.main())'] + list(args)


class CLITest(testtools.TestCase):

    def start(self, *args):
        proc = subprocess.Popen(_command(*args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

        def stop():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        self.addCleanup(stop)
        return proc

    def test_serves_until_sigterm(self):
        proc = self.start('--scenario', test_scenario.EXAMPLE, '--json')
        info = json.loads(proc.stdout.readline())
        pools = {p['name']: p for p in info['pools']}
        self.assertEqual({'pool-a', 'pool-b'}, set(pools))
        pool_a = pools['pool-a']
        self.assertEqual('xs-a1', pool_a['master'])
        self.assertEqual(3, len(pool_a['member_urls']))
        session = XenAPI.Session(pool_a['url'])
        self.addCleanup(session('close'))
        session.xenapi.login_with_password(pool_a['username'],
                                           pool_a['password'])
        names = {r['name_label'] for r in
                 session.xenapi.VM.get_all_records().values()}
        self.assertIn('instance-00000001', names)
        with urllib.request.urlopen(info['control_url'] +
                                    '/pools/pool-b/hosts', timeout=10) as r:
            hosts = json.loads(r.read())['result']
        self.assertEqual(['xs-b1', 'xs-b2', 'xs-b3'],
                         [h['hostname'] for h in hosts])
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(0, proc.wait(timeout=10))
        self.assertRaises(OSError, session.xenapi.VM.get_all)

    def test_prints_urls(self):
        proc = self.start('--scenario', test_scenario.EXAMPLE)
        lines = []
        while not lines or not lines[-1].startswith('control '):
            line = proc.stdout.readline()
            self.assertTrue(line, 'the command ended early')
            lines.append(line.rstrip('\n'))
        self.assertRegex(lines[0], r'^pool pool-a: master xs-a1 '
                                   r'http://127\.\d+\.1\.1:\d+ \(user root\)$')
        self.assertRegex(lines[1], r'^  host xs-a1 http://127\.\d+\.1\.1:\d+$')
        self.assertRegex(lines[-1], r'^control http://127\.0\.0\.1:\d+$')
        proc.send_signal(signal.SIGINT)
        self.assertEqual(0, proc.wait(timeout=10))

    def test_invalid_scenario(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'bad.yaml')
        with open(path, 'w') as f:
            f.write('pools:\n  - name: p\n    hosts: []\n')
        result = subprocess.run(_command('--scenario', path),
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(2, result.returncode)
        self.assertIn('invalid scenario: pools[0] (p).hosts: a pool needs at '
                      'least one host', result.stderr)
