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

"""The simulator in a process of its own, driven over HTTP."""

import XenAPI

from nova_ha_ext.simulator import process
from nova_ha_ext.testing import waiting
from tests.unit.simulator import base

VMS = [{'name_label': 'vm-1', 'memory_mb': 64, 'host': 'xs-a2',
        'power_state': 'Running', 'ha_restart_priority': 'restart'}]


def test_serves_the_scenario_and_obeys_its_control(tmp_path):
    sim = process.SimulatorProcess([base.pool(vms=VMS)], str(tmp_path),
                                   log=str(tmp_path / 'simulator.log'))
    try:
        assert sim.proc.poll() is None
        urls = sim.urls('pool-a').split(',')
        assert urls[0] == sim.pools['pool-a']['url']
        assert sorted(urls) == sorted(
            sim.pools['pool-a']['member_urls'].values())
        session = XenAPI.Session(urls[0])
        session.xenapi.login_with_password('root', base.PASSWORD, '1.0',
                                           'test')
        assert len(session.xenapi.host.get_all()) == 3

        sim.do('pool-a', 'fail_host', host='xs-a2')
        sim.do('pool-a', 'wait_until_quiet', timeout=10)

        [vm] = sim.get('pool-a', 'vms')
        assert vm['host'] in ('xs-a1', 'xs-a3')
        assert vm['power_state'] == 'Running'
    finally:
        sim.stop()
    assert sim.proc.poll() is not None


def test_a_simulator_that_cannot_start_says_why(tmp_path):
    bad = base.pool()
    bad['hosts'] = []
    log = tmp_path / 'simulator.log'
    try:
        process.SimulatorProcess([bad], str(tmp_path), log=str(log))
    except RuntimeError as exc:
        message = str(exc)
    else:
        raise AssertionError('the simulator started without hosts')
    assert message.startswith('the simulator did not start:')
    # The log's end, where the simulator said what is wrong.
    waiting.wait_for(log.read_text, 5, 'the log')
    assert log.read_text().strip().splitlines()[-1] in message
