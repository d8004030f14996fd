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

"""What the commands say about themselves, run as real processes."""

import importlib.metadata
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
SAMPLE_SCENARIO = 'etc/nova-ha-ext/simulator-scenario.yaml'


def _unwrapped(text):
    """``text`` without blanks: argparse wraps help at blanks and hyphens."""
    return ''.join(text.split())


def _run(*argv, **kwargs):
    return subprocess.run([str(BIN / argv[0])] + list(argv[1:]),
                          capture_output=True, text=True, timeout=120,
                          **kwargs)


@pytest.mark.parametrize('command', [
    'nova-ha-manage', 'nova-ha-reconciler', 'nova-ha-xapi-simulator',
    'nova-ha-status'])
def test_version_is_nova_ha_ext_version(command):
    result = _run(command, '--version')

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == importlib.metadata.version('nova-ha-ext')
    assert importlib.metadata.version('nova') not in result.stdout


def test_reconciler_help_says_what_it_does():
    result = _run('nova-ha-reconciler', '--help')

    assert result.returncode == 0, result.stderr
    text = _unwrapped(result.stdout)
    assert _unwrapped('Keep Nova in step with XenServer HA.') in text
    assert 'ha-relocate' in text
    assert _unwrapped('--config-file /etc/nova/nova.conf --config-file '
                      '/etc/nova/nova-ha-ext.conf') in text


def test_manage_help_says_what_it_does():
    result = _run('nova-ha-manage', '--help')

    assert result.returncode == 0, result.stderr
    text = _unwrapped(result.stdout)
    assert _unwrapped('The state of every XenServer HA pool') in text
    for command in ('status', 'reconcile', 'sync'):
        assert command in text


def test_simulator_help_names_the_sample_scenario():
    result = _run('nova-ha-xapi-simulator', '--help')

    assert result.returncode == 0, result.stderr
    assert SAMPLE_SCENARIO in _unwrapped(result.stdout)
    assert (ROOT / SAMPLE_SCENARIO).is_file()


def test_demo_help_prints_usage_without_preparing_anything(tmp_path):
    venv = tmp_path / 'venv'
    env = dict(os.environ, NOVA_HA_EXT_VENV=str(venv))

    result = subprocess.run(['bash', str(ROOT / 'tools' / 'demo.sh'),
                             '--help'], capture_output=True, text=True,
                            timeout=60, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('Usage: tools/demo.sh [--help]')
    assert not venv.exists()


def test_demo_refuses_an_unknown_argument(tmp_path):
    venv = tmp_path / 'venv'
    env = dict(os.environ, NOVA_HA_EXT_VENV=str(venv))

    result = subprocess.run(['bash', str(ROOT / 'tools' / 'demo.sh'),
                             '--fast'], capture_output=True, text=True,
                            timeout=60, env=env)

    assert result.returncode == 2
    assert 'demo.sh: unknown argument: --fast' in result.stderr
    assert not venv.exists()
