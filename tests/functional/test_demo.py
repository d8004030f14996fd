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

"""The demo, run as the README's quick start runs it."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.fixture(scope='module')
def demo():
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools', 'demo.py')],
        capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_demo_runs_every_step_and_passes(demo):
    out = demo.stdout
    assert demo.returncode == 0, out + demo.stderr
    for step in range(1, 7):
        assert '[%d/6]' % step in out
    assert 'HTTP 400' in out and "extra spec 'ha'" in out
    assert 'ha-relocate' in out
    assert 'Reconcile latency, VM running -> Nova updated' in out
    assert out.rstrip().splitlines()[-1].startswith('Demo passed in')


def test_demo_prints_only_its_own_lines(demo):
    # Logs and warnings go to the file named at the start.
    assert demo.stdout.startswith('nova-ha-ext demo:')
    assert 'INFO' not in demo.stdout and 'Traceback' not in demo.stdout
    assert 'ResourceWarning' not in demo.stdout
    assert demo.stderr == ''


def test_demo_creates_each_flavor_before_using_it(demo):
    out = demo.stdout
    assert out.index('openstack flavor create m1.plain') < out.index('[4/6]')


def test_demo_says_why_no_ha_server_went_to_pool_b(demo):
    assert ('No HA server went to pool-b: it is not HA-ready (HA is not '
            'enabled on the pool)') in demo.stdout


def test_demo_says_once_that_a_real_pool_waits_out_its_ha_timeout(demo):
    assert demo.stdout.count('HA timeout') == 1


def test_demo_shows_the_pool_host_by_host_before_and_after(demo):
    lines = demo.stdout.splitlines()
    before = lines.index('    pool-a before:')
    after = lines.index('    pool-a after:')

    assert lines[before + 1].split() == ['xs-a1', 'xs-a2', 'xs-a3']
    assert lines[after + 1].split() == ['xs-a1', 'xs-a2', '(FAILED)',
                                        'xs-a3']
    halted = lines.index('    halted, on no host: plain-1')
    # The two protected VMs of xs-a2 restarted on the other hosts.
    assert ' '.join(lines[after:halted]).count('(moved)') == 2
