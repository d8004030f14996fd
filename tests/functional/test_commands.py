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

"""The console scripts as an operator runs them: real processes.

A scratch nova.conf points at SQLite databases created by ``nova-manage``.
"""

import os
import signal
import subprocess
import sys

import pytest

from nova_ha_ext.testing import waiting

BIN = os.path.dirname(sys.executable)


def _run(*argv, timeout=120):
    return subprocess.run([os.path.join(BIN, argv[0])] + list(argv[1:]),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope='module')
def nova_conf(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('nova')
    conf = tmp / 'nova.conf'
    conf.write_text(
        '[DEFAULT]\ntransport_url = fake:/\n'
        '[api_database]\nconnection = sqlite:///%s/api.db\n'
        '[database]\nconnection = sqlite:///%s/main.db\n'
        '[ha_reconciler]\ninterval = 1\n' % (tmp, tmp))
    # At debug, each full pass of the reconciler says so.
    debug = tmp / 'debug.conf'
    debug.write_text('[DEFAULT]\ndebug = true\n')
    for what in ('api_db', 'db'):
        result = _run('nova-manage', '--config-file', str(conf), what, 'sync')
        assert result.returncode == 0, result.stderr
    return conf


def _wait_for_line(log, text, proc, timeout=60):
    """Wait until ``text`` is in the log file ``log`` of ``proc``."""
    def logged():
        assert proc.poll() is None, log.read_text()
        return text in log.read_text()
    waiting.wait_for(logged, timeout, repr(text), log.read_text,
                     interval=0.1)


def test_reconciler_runs_and_stops_gracefully_on_sigterm(nova_conf, tmp_path):
    log = tmp_path / 'reconciler.log'
    with open(log, 'w') as out:
        proc = subprocess.Popen(
            [os.path.join(BIN, 'nova-ha-reconciler'), '--config-file',
             str(nova_conf), '--config-file',
             str(nova_conf.parent / 'debug.conf')],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_line(log, 'Starting nova-ha-reconciler', proc)
        # Two full passes (interval = 1): the loop goes on after the first.
        waiting.wait_for(
            lambda: log.read_text().count('Full pass over 0 of 0 pools') >= 2,
            60, 'two full passes', log.read_text, interval=0.1)
        assert proc.poll() is None, log.read_text()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert rc == 0, text
    assert 'Caught SIGTERM signal, graceful exiting' in text
    assert 'Traceback' not in text


def _start_reconciler(*conf_files, log):
    argv = [os.path.join(BIN, 'nova-ha-reconciler')]
    for conf in conf_files:
        argv += ['--config-file', str(conf)]
    with open(log, 'w') as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)


def test_second_worker_without_a_backend_is_refused(nova_conf, tmp_path):
    locks = tmp_path / 'locks'
    extra = tmp_path / 'locks.conf'
    extra.write_text('[oslo_concurrency]\nlock_path = %s\n' % locks)
    first = _start_reconciler(nova_conf, extra, log=tmp_path / 'first.log')
    try:
        # It says so once it holds this host's guard.
        _wait_for_line(tmp_path / 'first.log',
                       'requires [coordination] backend_url', first)

        second = _run('nova-ha-reconciler', '--config-file', str(nova_conf),
                      '--config-file', str(extra))

        assert second.returncode == 2, second.stderr
        assert 'pid %d' % first.pid in second.stderr
        assert '[coordination] backend_url' in second.stderr
        assert 'Traceback' not in second.stderr
        # The first one is unaffected.
        assert first.poll() is None
        text = (tmp_path / 'first.log').read_text()
        assert 'requires [coordination] backend_url' in text
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=20)


def test_bad_option_value_stops_the_reconciler_naming_it(nova_conf,
                                                         tmp_path):
    bad = tmp_path / 'bad.conf'
    bad.write_text('[ha_reconciler]\ninterval = 0\n')
    result = _run('nova-ha-reconciler', '--config-file', str(nova_conf),
                  '--config-file', str(bad))
    assert result.returncode == 2
    assert ('invalid value for [ha_reconciler] interval: Should be greater '
            'than or equal to 1') in result.stderr
    assert 'Traceback' not in result.stderr


def test_manage_without_nova_conf_says_what_is_missing(tmp_path):
    empty = tmp_path / 'empty.conf'
    empty.write_text('[DEFAULT]\n')
    result = _run('nova-ha-manage', '--config-file', str(empty), 'status')
    assert result.returncode == 2
    assert '--config-file /etc/nova/nova.conf' in result.stderr
    assert 'Traceback' not in result.stderr


def test_manage_status_with_no_pools_needs_attention(nova_conf):
    result = _run('nova-ha-manage', '--config-file', str(nova_conf),
                  'status')
    assert result.returncode == 1
    assert 'No pools: no aggregate has xenapi_pool_url metadata.' in (
        result.stdout)


def test_manage_unknown_command_is_a_usage_error(nova_conf):
    result = _run('nova-ha-manage', '--config-file', str(nova_conf),
                  'frobnicate')
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr


@pytest.mark.parametrize('command', ['nova-ha-manage', 'nova-ha-reconciler'])
def test_a_bad_ca_file_stops_the_command_naming_the_option(
        nova_conf, tmp_path, command):
    not_pem = tmp_path / 'ca.pem'
    not_pem.write_text('not a certificate\n')
    for ca_file, problem in (
            ('/nonexistent/ca.pem', 'does not exist or is not readable'),
            (str(not_pem), 'holds no usable CA certificate')):
        bad = tmp_path / 'bad.conf'
        bad.write_text('[xenapi]\nca_file = %s\n' % ca_file)
        result = _run(command, '--config-file', str(nova_conf),
                      '--config-file', str(bad),
                      *(['status'] if command == 'nova-ha-manage' else []))
        assert result.returncode == 2, result.stderr
        assert ('invalid value for [xenapi] ca_file: %s %s'
                % (ca_file, problem)) in result.stderr
        assert 'Traceback' not in result.stderr


def test_reconciler_without_a_database_says_what_manage_says(tmp_path):
    empty = tmp_path / 'empty.conf'
    empty.write_text('[DEFAULT]\n')
    manage = _run('nova-ha-manage', '--config-file', str(empty), 'status')
    reconciler = _run('nova-ha-reconciler', '--config-file', str(empty),
                      timeout=60)
    assert (manage.returncode, reconciler.returncode) == (2, 2)
    message = ('no database configured: [api_database] connection and '
               '[database] connection are unset (pass --config-file '
               '/etc/nova/nova.conf')
    assert message in manage.stderr
    assert message in reconciler.stderr
    assert 'Traceback' not in manage.stderr + reconciler.stderr


@pytest.mark.parametrize('command', ['nova-ha-manage', 'nova-ha-reconciler'])
def test_a_backend_password_needing_encoding_is_refused_masked(
        nova_conf, tmp_path, command):
    secret = 'ab/cd+ef=='
    bad = tmp_path / 'coordination.conf'
    bad.write_text('[coordination]\nbackend_url = redis://:%s@redis.example'
                   '.com:6379\n' % secret)
    result = _run(command, '--config-file', str(nova_conf),
                  '--config-file', str(bad),
                  *(['status'] if command == 'nova-ha-manage' else []),
                  timeout=60)
    assert result.returncode == 2, result.stderr
    assert 'redis://:***@redis.example.com:6379' in result.stderr
    assert 'percent-encoded' in result.stderr
    for part in (secret, 'cd+ef'):
        assert part not in result.stderr + result.stdout
