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

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_demo_runs_every_step_and_passes():
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools', 'demo.py')],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for step in range(1, 7):
        assert '[%d/6]' % step in out
    assert 'HTTP 400' in out and "extra spec 'ha'" in out
    assert 'ha-relocate' in out
    assert 'Reconcile latency, VM running -> Nova updated' in out
    assert out.rstrip().splitlines()[-1].startswith('Demo passed in')
    # Logs go to the file named at the start, not to the terminal.
    assert 'INFO' not in out and 'Traceback' not in out
    assert result.stderr == ''
