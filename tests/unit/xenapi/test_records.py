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

"""XenAPI records to pool values, from reads and from event.from."""

import dataclasses

import testtools

from nova_ha_ext.simulator import fixture
from nova_ha_ext.xenapi import client as xenapi_client
from nova_ha_ext.xenapi import records
from tests.unit.simulator import base

VMS = [{'name_label': 'vm-%d' % i, 'memory_mb': 64,
        'host': 'xs-a%d' % (1 + i % 3), 'power_state': 'Running',
        'ha_restart_priority': 'restart' if i % 2 else '',
        'other_config': {'nova_uuid': 'uuid-%d' % i}} for i in range(6)]


def _vm_event(ref, operation='mod', **fields):
    snapshot = {'uuid': 'u-' + ref, 'name_label': ref,
                'power_state': 'Running', 'resident_on': 'OpaqueRef:h1',
                'other_config': {}, 'is_control_domain': False,
                'is_a_template': False, 'is_a_snapshot': False,
                'ha_restart_priority': 'restart', 'order': '0',
                'start_delay': '0', 'memory_static_max': '1024',
                'VCPUs_max': '2'}
    snapshot.update(fields)
    return {'class': 'vm', 'ref': ref, 'operation': operation,
            'snapshot': snapshot}


class TestPoolRecordCache(testtools.TestCase):
    """The cache on its own: what it keeps and drops."""

    def test_no_pool_record_yet(self):
        cache = records.PoolRecordCache()
        cache.apply([_vm_event('vm1')])
        self.assertRaises(records.NoPoolRecord, cache.snapshot)

    def test_keeps_guest_vms_and_only_the_fields_it_uses(self):
        cache = records.PoolRecordCache()
        cache.apply([_vm_event('vm1'), _vm_event('dom0',
                                                 is_control_domain=True),
                     _vm_event('tmpl', is_a_template=True)])
        self.assertEqual(['vm1'], list(cache._records['vm']))
        self.assertNotIn('VCPUs_max', cache._records['vm']['vm1'])

    def test_deleted_and_templated_vms_leave(self):
        cache = records.PoolRecordCache()
        cache.apply([_vm_event('vm1'), _vm_event('vm2')])
        cache.apply([{'class': 'vm', 'ref': 'vm1', 'operation': 'del'},
                     _vm_event('vm2', is_a_template=True)])
        self.assertEqual({}, cache._records['vm'])


class TestWatchedChanges(testtools.TestCase):
    """What ``apply`` reports: the changes worth a reconciler pass."""

    def setUp(self):
        super().setUp()
        self.cache = records.PoolRecordCache()
        self.cache.apply([_vm_event('vm1'), _vm_event('vm2'),
                          {'class': 'host_metrics', 'ref': 'm1',
                           'operation': 'mod',
                           'snapshot': {'live': True}}])

    def test_the_first_sight_of_a_record_is_no_change(self):
        self.assertEqual(set(), records.PoolRecordCache().apply(
            [_vm_event('vm1')]))
        self.assertEqual(set(), self.cache.apply([_vm_event('vm3')]))

    def test_a_vm_that_moves_or_stops_or_loses_protection(self):
        for field, value in (('resident_on', 'OpaqueRef:h2'),
                             ('power_state', 'Halted'),
                             ('ha_restart_priority', '')):
            cache = records.PoolRecordCache()
            cache.apply([_vm_event('vm1'), _vm_event('vm2')])
            self.assertEqual({('vm', 'vm1')}, cache.apply(
                [_vm_event('vm1', **{field: value})]), field)

    def test_a_host_that_dies(self):
        self.assertEqual({('host_metrics', 'm1')}, self.cache.apply(
            [{'class': 'host_metrics', 'ref': 'm1', 'operation': 'mod',
              'snapshot': {'live': False}}]))

    def test_a_change_of_another_field_is_no_change(self):
        self.assertEqual(set(), self.cache.apply(
            [_vm_event('vm1', name_label='renamed', memory_static_max='1')]))

    def test_a_known_vm_that_is_deleted(self):
        self.assertEqual({('vm', 'vm2')}, self.cache.apply(
            [{'class': 'vm', 'ref': 'vm2', 'operation': 'del'},
             {'class': 'vm', 'ref': 'unknown', 'operation': 'del'}]))

    def test_a_change_and_back_within_a_batch_still_counts(self):
        self.assertEqual({('vm', 'vm1')}, self.cache.apply(
            [_vm_event('vm1', power_state='Halted'), _vm_event('vm1')]))


class TestCacheAgreesWithReads(testtools.TestCase):
    """Over real XML-RPC: the events describe the pool as a read does."""

    def setUp(self):
        super().setUp()
        sim_fixture = self.useFixture(fixture.SimulatorFixture(
            base.scenario(base.pool(vms=VMS))))
        self.sim = sim_fixture.simulator
        info = sim_fixture.pool('pool-a')
        self.client = xenapi_client.PoolClient(
            info.url, info.username, info.password, name='pool-a',
            allow_plain_http=True)
        self.watch = xenapi_client.PoolClient(
            info.url, info.username, info.password, name='pool-a',
            allow_plain_http=True)
        self.addCleanup(self.client.close)
        self.addCleanup(self.watch.close)
        self.cache = records.PoolRecordCache()
        self.token = ''

    def catch_up(self):
        while True:
            result = self.watch.event_from(records.PoolRecordCache.CLASSES,
                                           self.token, 0.0)
            self.token = result['token']
            if not result['events']:
                return
            self.cache.apply(result['events'])

    def assert_agrees(self):
        self.catch_up()
        read = self.client.read_pool()
        self.assertEqual(dataclasses.replace(read, read_at=0),
                         dataclasses.replace(self.cache.snapshot(),
                                             read_at=0))
        return read

    def test_baseline_and_every_change(self):
        self.assertEqual(6, len(self.assert_agrees().vms))
        self.sim.migrate_vm('pool-a', 'vm-0', 'xs-a3')
        self.assert_agrees()
        self.sim.shutdown_vm('pool-a', 'vm-1')
        self.assert_agrees()
        vm2 = self.client.find_vm('uuid-2')
        self.client.set_restart_priority(vm2, '')
        self.assert_agrees()
        self.sim.fail_host('pool-a', 'xs-a2')
        self.sim.wait_until_quiet('pool-a')
        snapshot = self.assert_agrees()
        self.assertFalse({h.hostname: h.live
                          for h in snapshot.ha.hosts}['xs-a2'])
        self.sim.recover_host('pool-a', 'xs-a2')
        self.assert_agrees()
