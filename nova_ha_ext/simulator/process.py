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

"""A simulator in a process of its own, as a pool runs on machines of its own.

For benchmarks and tests that must not share a process (or its GIL) with
the simulator: :class:`SimulatorProcess` starts ``nova-ha-xapi-simulator``
on a scenario, reads the URLs it prints, and drives it through its HTTP
control interface (:class:`~nova_ha_ext.simulator.control.ControlClient`).
"""

import collections
import json
import os
import subprocess
import sys

from nova_ha_ext.simulator import control

#: ``nova-ha-xapi-simulator`` of this interpreter, console script or not.
COMMAND = [sys.executable, '-c', 'import sys; from nova_ha_ext.cmd import '
           'simulator; sys.exit(simulator.main())']


class SimulatorProcess(object):
    """``nova-ha-xapi-simulator`` serving ``pools`` in a child process.

    :param pools: the scenario's pools (``scenario.generate(...)['pools']``
        or dicts of the same shape).
    :param directory: where the scenario file (and the log) are written.
    :param log: a file for the simulator's stderr; inherited when None.
    :param popen: ``subprocess.Popen`` or a callable with its signature
        (e.g. one that ties the child's life to the caller's).
    :raises RuntimeError: the simulator did not start, with its log's end.
    """

    def __init__(self, pools, directory, log=None, control_timeout=120,
                 popen=subprocess.Popen):
        path = os.path.join(directory, 'scenario.json')
        with open(path, 'w') as f:
            json.dump({'pools': list(pools)}, f)
        self.log = log
        err = open(log, 'ab') if log else None
        try:
            self.proc = popen(COMMAND + ['--scenario', path, '--json'],
                              stdout=subprocess.PIPE, stderr=err, text=True)
        finally:
            if err is not None:
                err.close()
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError('the simulator did not start:\n%s'
                               % self._tail())
        #: What the simulator printed: ``control_url`` and ``pools``.
        self.info = json.loads(line)
        self.control_url = self.info['control_url']
        self.control = control.ControlClient(self.control_url,
                                             control_timeout)
        self.pools = {p['name']: p for p in self.info['pools']}

    def _tail(self, lines=50):
        if not self.log:
            return ''
        try:
            with open(self.log, errors='replace') as f:
                return ''.join(collections.deque(f, lines))
        except OSError:
            return ''

    def stop(self, timeout=30):
        """SIGTERM, then SIGKILL after ``timeout`` seconds."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()

    def do(self, pool, action, **args):
        """``POST /pools/<pool>/<action>``: fail_host, wait_until_quiet..."""
        return self.control.do(pool, action, **args)

    def get(self, pool, view):
        """``GET /pools/<pool>/<view>``: vms, hosts, calls..."""
        return self.control.get(pool, view)

    def urls(self, pool):
        """Every member's URL, the master's first, comma-separated."""
        info = self.pools[pool]
        members = [info['url']] + sorted(
            u for u in info['member_urls'].values() if u != info['url'])
        return ','.join(members)
