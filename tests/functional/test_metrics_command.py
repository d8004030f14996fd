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


"""``[ha_reconciler] metrics_listen`` stops nova-ha-reconciler at start-up
when it cannot be served, naming the option: a real process.
"""

import os
import socket
import subprocess
import sys

import pytest

BIN = os.path.dirname(sys.executable)


@pytest.fixture
def nova_conf(tmp_path):
    conf = tmp_path / 'nova.conf'
    conf.write_text(
        '[DEFAULT]\ntransport_url = fake:/\n'
        '[api_database]\nconnection = sqlite:///%(tmp)s/api.db\n'
        '[database]\nconnection = sqlite:///%(tmp)s/main.db\n'
        '[oslo_concurrency]\nlock_path = %(tmp)s/locks\n' % {'tmp': tmp_path})
    return conf


def _reconciler(nova_conf, tmp_path, listen):
    metrics = tmp_path / 'metrics.conf'
    metrics.write_text('[ha_reconciler]\nmetrics_listen = %s\n' % listen)
    return subprocess.run(
        [os.path.join(BIN, 'nova-ha-reconciler'), '--config-file',
         str(nova_conf), '--config-file', str(metrics)],
        capture_output=True, text=True, timeout=120)


def test_a_value_without_port_exits_2(nova_conf, tmp_path):
    result = _reconciler(nova_conf, tmp_path, 'metrics.example.com')

    assert result.returncode == 2, result.stdout + result.stderr
    assert ("nova-ha-reconciler: invalid value for [ha_reconciler] "
            "metrics_listen: 'metrics.example.com' has no port"
            in result.stderr)
    assert 'Traceback' not in result.stderr


def test_an_address_in_use_exits_2(nova_conf, tmp_path):
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _reconciler(nova_conf, tmp_path, str(port))

    assert result.returncode == 2, result.stdout + result.stderr
    assert ('nova-ha-reconciler: cannot listen on [ha_reconciler] '
            'metrics_listen 127.0.0.1:%d: Address already in use' % port
            in result.stderr)
    assert 'Traceback' not in result.stderr
