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

"""Scenario loading and validation."""

import json
import os

import fixtures
import testtools

from nova_ha_ext.simulator import scenario
from tests.unit.simulator import base

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
EXAMPLE = os.path.join(REPO, 'etc', 'nova-ha-ext', 'simulator-scenario.yaml')


def with_pool(**changes):
    pool = base.pool(vms=[{'name_label': 'vm1', 'host': 'xs-a1'}])
    pool.update(changes)
    return {'pools': [pool]}


class ScenarioTest(testtools.TestCase):

    def assertInvalid(self, message, data):
        e = self.assertRaises(scenario.ScenarioError, scenario.load, data)
        self.assertIn(message, str(e))

    def test_example_file_loads(self):
        loaded = scenario.load(EXAMPLE)
        self.assertEqual(['pool-a', 'pool-b'],
                         [p.name for p in loaded.pools])
        pool_a = loaded.pool('pool-a')
        self.assertTrue(pool_a.ha.enabled)
        self.assertEqual('sr-hb', pool_a.ha.heartbeat_sr)
        self.assertEqual(3, len(pool_a.hosts))
        self.assertFalse(loaded.pool('pool-b').ha.enabled)
        self.assertEqual('xs-b1', loaded.pool('pool-b').master)

    def test_json_file_and_defaults(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'scenario.json')
        with open(path, 'w') as f:
            json.dump({'pools': [{'name': 'p', 'hosts': [
                {'hostname': 'h', 'memory_mb': 1024}],
                'vms': [{'name_label': 'v', 'host': 'h'}]}]}, f)
        pool = scenario.load(path).pools[0]
        self.assertEqual(('root', '', 0.5), (pool.username, pool.password,
                                             pool.detection_delay))
        self.assertEqual(('Running', 1024, 1), (pool.vms[0].power_state,
                                                pool.vms[0].memory_mb,
                                                pool.vms[0].vcpus))

    def test_realistic_timing_scales_xapi_figures(self):
        # xapi_globs.ml: ha_default_timeout_base 60 s, ha_monitor_interval
        # 20 s; xapi_ha_vm_failover.ml: 120 s between start attempts.
        data = {'pools': [{'name': 'p', 'timing': 'realistic',
                           'time_scale': 0.01, 'vm_start_seconds': 0.2,
                           'hosts': [{'hostname': 'h', 'memory_mb': 1024}]}]}
        pool = scenario.load(data).pools[0]
        self.assertEqual((0.6, 0.2, 1.2, 0.2),
                         (pool.detection_delay, pool.monitor_interval,
                          pool.restart_backoff, pool.vm_start_seconds))
        self.assertInvalid("timing: expected one of 'fast', 'realistic'",
                           with_pool(timing='slow'))

    def test_errors_name_the_key_and_value(self):
        self.assertInvalid('scenario: unknown key', {'pool': []})
        self.assertInvalid('scenario.pools: required key missing', {})
        self.assertInvalid('at least one pool', {'pools': []})
        self.assertInvalid("pools[0] (pool-a).hosts[1].memory_mb: expected "
                           "an integer >= 1, got 'lots'",
                           _host_change(1, memory_mb='lots'))
        self.assertInvalid("pools[0] (pool-a).vms[0]: unknown key 'memroy_mb'",
                           with_pool(vms=[{'name_label': 'v',
                                           'memroy_mb': 1}]))
        self.assertInvalid("vms[0].host: no host named 'xs-z1'",
                           with_pool(vms=[{'name_label': 'v',
                                           'host': 'xs-z1'}]))
        self.assertInvalid("vms[0].power_state: expected one of 'Halted', "
                           "'Running', 'Paused', 'Suspended', got 'On'",
                           with_pool(vms=[{'name_label': 'v',
                                           'host': 'xs-a1',
                                           'power_state': 'On'}]))
        self.assertInvalid("vms[0].ha_restart_priority: expected one of",
                           with_pool(vms=[{'name_label': 'v',
                                           'ha_restart_priority': 'always'}]))
        self.assertInvalid("vms[0].other_config.nova_uuid: keys and values "
                           "must be strings",
                           with_pool(vms=[{'name_label': 'v',
                                           'other_config': {
                                               'nova_uuid': 12}}]))
        self.assertInvalid("vms[0].host: a Halted VM is not resident",
                           with_pool(vms=[{'name_label': 'v',
                                           'host': 'xs-a1',
                                           'power_state': 'Halted'}]))
        self.assertInvalid("vms[1].host: 'xs-a1' has 8192 MiB of memory, "
                           "the VMs placed on it need 12288 MiB",
                           with_pool(vms=[{'name_label': 'v1',
                                           'memory_mb': 6144,
                                           'host': 'xs-a1'},
                                          {'name_label': 'v2',
                                           'memory_mb': 6144,
                                           'host': 'xs-a1'}]))
        self.assertInvalid("hosts[1].hostname: duplicate hostname 'xs-a1'",
                           _host_change(1, hostname='xs-a1'))
        self.assertInvalid("pools[1].name: duplicate pool name 'pool-a'",
                           {'pools': [base.pool(), base.pool()]})
        self.assertInvalid("master: no host named 'xs-q'",
                           with_pool(master='xs-q'))
        self.assertInvalid("detection_delay: expected a number of seconds",
                           with_pool(detection_delay=-1))
        self.assertInvalid("vms[0].uuid: expected a UUID, got 'abc'",
                           with_pool(vms=[{'name_label': 'v',
                                           'uuid': 'abc'}]))

    def test_ha_errors(self):
        self.assertInvalid("ha.heartbeat_sr: no SR named 'nope'",
                           with_pool(ha={'enabled': True,
                                         'heartbeat_sr': 'nope'}))
        self.assertInvalid("ha.heartbeat_sr: SR 'local' is not shared",
                           with_pool(ha={'enabled': True,
                                         'heartbeat_sr': 'local'}))
        self.assertInvalid("ha.heartbeat_sr: required when ha.enabled",
                           with_pool(ha={'enabled': True}))
        self.assertInvalid("ha.enabled: HA needs at least 2 hosts",
                           {'pools': [base.pool(hosts=1)]})
        self.assertInvalid("ha.enabled: expected true or false, got 'yes'",
                           with_pool(ha={'enabled': 'yes'}))
        self.assertInvalid("ha: unknown key 'ntol'", with_pool(ha={'ntol': 1}))

    def test_invalid_file(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'scenario.yaml')
        with open(path, 'w') as f:
            f.write('pools: [\n')
        self.assertInvalid('not valid YAML/JSON', path)
        self.assertInvalid('cannot read scenario', path + '.missing')

    def test_generate(self):
        data = scenario.generate(hosts=4, vms=10, host_memory_mb=4096,
                                 vm_memory_mb=512)
        pool = scenario.load(data).pools[0]
        self.assertEqual(4, len(pool.hosts))
        self.assertEqual(10, len(pool.vms))
        protected = [v for v in pool.vms
                     if v.ha_restart_priority == 'restart']
        self.assertEqual(6, len(protected))
        self.assertEqual({'xs-00', 'xs-01', 'xs-02', 'xs-03'},
                         {v.host for v in protected})
        self.assertEqual(10, len({v.other_config['nova_uuid']
                                  for v in pool.vms}))
        self.assertRaises(ValueError, scenario.generate, hosts=1, vms=10,
                          host_memory_mb=1024, vm_memory_mb=512)


def _host_change(index, **changes):
    data = with_pool()
    data['pools'][0]['hosts'][index].update(changes)
    return data
