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

"""affinity.breaches and affinity.mirror_plan: pure functions."""

import testtools

from nova_ha_ext.reconcile import affinity
from nova_ha_ext.xenapi import pool_state

NULL = pool_state.NULL_REF


def host(name, live=True):
    return pool_state.PoolHost(ref='h-' + name, uuid='u-' + name,
                               hostname=name, name_label=name, address='',
                               live=live)


def vm(uuid, on, power_state='Running'):
    return pool_state.PoolVM(
        ref='vm-' + uuid, uuid='vu-' + uuid, name_label=uuid,
        power_state=power_state, resident_on='h-' + on if on else NULL,
        other_config=pool_state.frozen_map({'nova_uuid': uuid}))


def snapshot(vms, hosts=('xs-a1', 'xs-a2', 'xs-a3'), dead=()):
    ha = pool_state.PoolHAState(
        uuid='pool', name_label='pool-a', ha_enabled=True,
        ha_host_failures_to_tolerate=1, ha_plan_exists_for=1,
        ha_overcommitted=False, ha_allow_overcommit=False, master='h-xs-a1',
        hosts=tuple(host(h, h not in dead) for h in hosts))
    return pool_state.PoolSnapshot(ha=ha, vms=tuple(vms))


GROUP = affinity.ServerGroup('g1', 'web', ('i1', 'i2', 'i3'))


class BreachesTest(testtools.TestCase):

    def test_members_apart_are_fine(self):
        pool = snapshot([vm('i1', 'xs-a1'), vm('i2', 'xs-a2')])
        self.assertEqual((), affinity.breaches([GROUP], pool))

    def test_members_on_one_host_are_a_breach(self):
        pool = snapshot([vm('i1', 'xs-a1'), vm('i2', 'xs-a2'),
                         vm('i3', 'xs-a2')])
        [breach] = affinity.breaches([GROUP], pool)
        self.assertEqual(('g1', 'xs-a2', ('i2', 'i3')),
                         (breach.group, breach.host, breach.instances))
        self.assertIn('web (g1)', breach.describe())

    def test_max_server_per_host_is_honoured(self):
        group = affinity.ServerGroup('g1', 'web', ('i1', 'i2'),
                                     max_per_host=2)
        pool = snapshot([vm('i1', 'xs-a1'), vm('i2', 'xs-a1')])
        self.assertEqual((), affinity.breaches([group], pool))

    def test_only_running_vms_on_live_hosts_count(self):
        pool = snapshot([vm('i1', 'xs-a1'), vm('i2', 'xs-a1', 'Paused'),
                         vm('i3', 'xs-a2')], dead=('xs-a2',))
        self.assertEqual((), affinity.breaches([GROUP], pool))


class MirrorPlanTest(testtools.TestCase):

    def test_a_missing_group_is_created_and_joined(self):
        pool = snapshot([vm('i1', 'xs-a1'), vm('i2', 'xs-a2')])
        steps = affinity.mirror_plan([GROUP], pool, {})
        self.assertEqual([(affinity.CREATE, None), (affinity.JOIN, 'i1'),
                          (affinity.JOIN, 'i2')],
                         [(s.kind, s.instance) for s in steps])

    def test_a_group_in_step_needs_nothing(self):
        pool = snapshot([vm('i1', 'xs-a1'), vm('i2', 'xs-a2')])
        groups = {'OpaqueRef:g': {'name_label': 'nova-anti-affinity-g1',
                                  'placement': 'anti_affinity',
                                  'VMs': ['vm-i1', 'vm-i2']}}
        self.assertEqual([], affinity.mirror_plan([GROUP], pool, groups))

    def test_a_vm_in_someone_elses_group_is_left_there(self):
        pool = snapshot([vm('i1', 'xs-a1'), vm('i2', 'xs-a2')])
        groups = {'OpaqueRef:o': {'name_label': 'ops', 'placement': 'normal',
                                  'VMs': ['vm-i2']}}
        steps = affinity.mirror_plan([GROUP], pool, groups)
        self.assertEqual([affinity.CREATE, affinity.JOIN, affinity.FOREIGN],
                         [s.kind for s in steps])
        self.assertIn('ops', steps[-1].reason)

    def test_a_group_with_one_member_in_the_pool_is_not_mirrored(self):
        pool = snapshot([vm('i1', 'xs-a1')])
        self.assertEqual([], affinity.mirror_plan([GROUP], pool, {}))
