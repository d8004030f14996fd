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

"""The coordination rules, in one module the options and workers share."""

import subprocess
import sys

from oslo_config import cfg
import pytest

from nova_ha_ext import conf as ha_conf
from nova_ha_ext.reconcile import backend
from nova_ha_ext.reconcile import coordination
from nova_ha_ext.reconcile import guard

# Checks the options in a fresh interpreter; prints the modules it loaded.
CHECK_OPTIONS = """
import sys
from oslo_config import cfg
from nova_ha_ext import conf as ha_conf
conf = cfg.ConfigOpts()
ha_conf.register_opts(conf)
conf([])
conf.set_override('backend_url', 'file:///tmp/coordination', 'coordination')
ha_conf.check(conf)
print(' '.join(sorted(m for m in sys.modules if m.startswith('nova_ha_ext'))))
"""


@pytest.fixture
def conf():
    conf = cfg.ConfigOpts()
    ha_conf.register_opts(conf)
    conf([])
    yield conf
    conf.reset()


def test_checking_the_options_does_not_load_the_coordinator():
    loaded = subprocess.run(
        [sys.executable, '-c', CHECK_OPTIONS], check=True,
        capture_output=True, text=True).stdout.split()
    assert 'nova_ha_ext.reconcile.backend' in loaded
    assert 'nova_ha_ext.reconcile.coordination' not in loaded
    assert 'nova_ha_ext.reconcile.guard' not in loaded


def test_the_options_and_the_coordinator_refuse_a_heartbeat_alike(conf):
    conf.set_override('member_timeout', 3, 'coordination')
    conf.set_override('heartbeat_interval', 1.5, 'coordination')
    problem = backend.heartbeat_problem(1.5, 3)
    assert 'at most a third of it (1.00 s)' in problem

    with pytest.raises(cfg.Error) as by_options:
        ha_conf.check(conf)
    with pytest.raises(coordination.CoordinationError) as by_worker:
        coordination.PoolCoordinator(conf)
    expected = ('invalid value for [coordination] heartbeat_interval: %s'
                % problem)
    assert str(by_options.value) == expected
    assert str(by_worker.value) == expected


def test_a_third_of_the_member_timeout_is_enough():
    assert backend.heartbeat_problem(1.0, 3) is None
    assert backend.heartbeat_problem(1.01, 3) is not None


def test_each_job_has_its_module():
    """The URL checks and the worker guard are not the coordinator's."""
    for name in ('backend_url_problem', 'backend_options',
                 'installed_backends', 'single_worker_guard', 'WorkerGuard'):
        assert not hasattr(coordination, name), name
    assert coordination.WorkerAlreadyRunning is guard.WorkerAlreadyRunning
    assert issubclass(guard.WorkerAlreadyRunning,
                      coordination.CoordinationError)
