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


"""``nova-ha-status upgrade check`` as an operator runs it: a process.

A scratch nova.conf points at SQLite databases made by ``nova-manage``.
"""

import json
import os
import subprocess
import sys

import pytest

BIN = os.path.dirname(sys.executable)
CHECKS = ['Scheduler filter', 'Extra spec validator',
          'Pools of the HA aggregates', 'Flavor keys',
          'Coordination of reconciler workers']


def _run(*argv):
    return subprocess.run([os.path.join(BIN, argv[0])] + list(argv[1:]),
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope='module')
def nova_conf(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('nova')
    conf = tmp / 'nova.conf'
    conf.write_text(
        '[DEFAULT]\ntransport_url = fake:/\n'
        '[api_database]\nconnection = sqlite:///%(tmp)s/api.db\n'
        '[database]\nconnection = sqlite:///%(tmp)s/main.db\n'
        '[oslo_concurrency]\nlock_path = %(tmp)s/locks\n'
        '[filter_scheduler]\n'
        'available_filters = nova.scheduler.filters.all_filters\n'
        'available_filters = nova_ha_ext.scheduler.filters.ha_aggregate.'
        'HAAggregateFilter\n' % {'tmp': tmp})
    for what in ('api_db', 'db'):
        result = _run('nova-manage', '--config-file', str(conf), what,
                      'sync')
        assert result.returncode == 0, result.stderr
    return conf


def _check(nova_conf, tmp_path, enabled):
    filters = tmp_path / 'filters.conf'
    filters.write_text('[filter_scheduler]\nenabled_filters = %s\n'
                       % enabled)
    return _run('nova-ha-status', '--config-file', str(nova_conf),
                '--config-file', str(filters), 'upgrade', 'check', '--json')


def test_all_checks_succeed_and_exit_0(nova_conf, tmp_path):
    result = _check(nova_conf, tmp_path, 'ComputeFilter,HAAggregateFilter')

    assert result.returncode == 0, result.stdout + result.stderr
    checks = json.loads(result.stdout)['checks']
    assert [c['check'] for c in checks] == CHECKS
    assert {c['result'] for c in checks} == {0}


def test_a_failure_exits_2_and_names_the_fix(nova_conf, tmp_path):
    result = _check(nova_conf, tmp_path, 'ComputeFilter')

    assert result.returncode == 2, result.stdout + result.stderr
    checks = {c['check']: c for c in json.loads(result.stdout)['checks']}
    assert checks['Scheduler filter']['result'] == 2
    assert 'HAAggregateFilter is not in [filter_scheduler] enabled_filters' \
        in checks['Scheduler filter']['details']


def test_without_nova_conf_it_says_what_to_pass(tmp_path):
    result = _run('nova-ha-status', 'upgrade', 'check')

    assert result.returncode == 255
    assert 'no database configured' in result.stderr
    assert '--config-file /etc/nova/nova.conf' in result.stderr
    assert 'Traceback' not in result.stderr
