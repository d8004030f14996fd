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

"""Properties of the decision over arbitrary pools and Nova views.

Whatever the pool and Nova say, the decision never relocates an instance
anywhere but to the compute node of the live host its one VM runs on, never
writes for an instance Nova is busy with, and, once its relocations are
applied, proposes none again.
"""

import dataclasses

import hypothesis
from hypothesis import strategies as st

from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import hostmap
from nova_ha_ext.xenapi import pool_state

SETTINGS = hypothesis.settings(max_examples=200, derandomize=True,
                               deadline=None)

HOST_COUNT = 5
INSTANCE_UUIDS = tuple('instance-%d' % i for i in range(5))
HOST_REFS = tuple('OpaqueRef:host-%d' % i for i in range(HOST_COUNT))
# Weighted by repetition towards what a pool after a failover looks like.
POWER_STATES = ('Running', 'Running', 'Running', 'Paused', 'Halted',
                'Suspended', 'Crashed')
VM_STATES = ('active', 'active', 'active', 'stopped', 'paused', 'suspended',
             'error', 'resized')
TASK_STATES = (None, None, None, None, None, 'rebooting')
PRIORITIES = (pool_state.PROTECTED, pool_state.BEST_EFFORT,
              pool_state.UNPROTECTED)


@st.composite
def vm_claiming(draw, nova_uuid, index):
    """A VM claiming an instance; mostly consistent, sometimes not."""
    power_state = draw(st.sampled_from(POWER_STATES))
    if draw(st.integers(0, 4)):
        resident_on = (draw(st.sampled_from(HOST_REFS))
                       if power_state in ('Running', 'Paused')
                       else pool_state.NULL_REF)
    else:
        resident_on = draw(st.sampled_from(
            HOST_REFS + (pool_state.NULL_REF, 'OpaqueRef:gone')))
    return pool_state.PoolVM(
        ref='OpaqueRef:vm-%d' % index, uuid='vm-uuid-%d' % index,
        name_label='vm-%d' % index, power_state=power_state,
        resident_on=resident_on,
        ha_restart_priority=draw(st.sampled_from(PRIORITIES)),
        other_config=pool_state.frozen_map({'nova_uuid': nova_uuid}))


@st.composite
def scenarios(draw):
    """A pool, its host map, and Nova's instances on its compute nodes."""
    hosts = tuple(
        pool_state.PoolHost(ref=ref, uuid='uuid-%d' % i,
                            hostname='xs%d' % i, name_label='xs%d' % i,
                            address='192.0.2.%d' % i,
                            live=draw(st.integers(0, 3)) > 0)
        for i, ref in enumerate(HOST_REFS))
    # Some hosts have no compute node; a few nodes sit in a second cell.
    nodes = tuple(
        hostmap.ComputeNode(host='compute-%d' % i, nodename='xs%d' % i,
                            uuid='rp-%d' % i, id=i,
                            cell_uuid=draw(st.sampled_from(
                                ('cell1', 'cell1', 'cell1', 'cell2'))))
        for i in range(HOST_COUNT) if draw(st.integers(0, 4)))
    stray = hostmap.ComputeNode(host='compute-9', nodename='xs9',
                                uuid='rp-9', id=9, cell_uuid='cell1')
    host_map = hostmap.map_hosts(hosts, nodes + (stray,))

    node_choices = st.sampled_from(nodes + (stray,))
    instances = []
    vms = []
    for uuid in draw(st.lists(st.sampled_from(INSTANCE_UUIDS), unique=True,
                              max_size=len(INSTANCE_UUIDS))):
        node = draw(node_choices)
        instances.append(decide.NovaInstance(
            uuid=uuid, host=node.host, node=node.nodename,
            vm_state=draw(st.sampled_from(VM_STATES)),
            task_state=draw(st.sampled_from(TASK_STATES)),
            power_state=1,
            wants_ha=draw(st.sampled_from((True, False, None)))))
        # Mostly one VM per instance, sometimes none or two.
        for _ in range(draw(st.sampled_from((1, 1, 1, 1, 0, 2)))):
            vms.append(draw(vm_claiming(uuid, len(vms))))
    # VMs of instances Nova does not have on this pool.
    for _ in range(draw(st.integers(0, 2))):
        vms.append(draw(vm_claiming('not-in-nova', len(vms))))

    ha = pool_state.PoolHAState(
        uuid='pool', name_label='pool-a', ha_enabled=True,
        ha_host_failures_to_tolerate=1, ha_plan_exists_for=1,
        ha_overcommitted=False, ha_allow_overcommit=False,
        master=HOST_REFS[0], hosts=hosts)
    return (tuple(instances), pool_state.PoolSnapshot(ha=ha, vms=tuple(vms)),
            host_map)


def _relocated(instances, actions):
    targets = {a.instance_uuid: a.target for a in actions
               if a.kind == decide.RELOCATE}
    return tuple(
        dataclasses.replace(i, host=targets[i.uuid].host,
                            node=targets[i.uuid].nodename)
        if i.uuid in targets else i
        for i in instances)


@SETTINGS
@hypothesis.given(scenarios())
def test_relocation_follows_the_pool_and_nothing_else(scenario):
    instances, pool, host_map = scenario
    by_uuid = {i.uuid: i for i in instances}
    claims = pool.vms_by_nova_uuid()
    relocations = [a for a in decide.decide(instances, pool, host_map)
                   if a.kind == decide.RELOCATE]
    # Steer the search towards pools where much is relocated.
    hypothesis.target(float(len(relocations)))

    for action in relocations:
        instance = by_uuid[action.instance_uuid]
        vm, = claims[instance.uuid]
        resident = pool.ha.host(vm.resident_on)
        assert vm.power_state == 'Running'
        assert resident is not None and resident.live
        assert action.target == host_map.node_for(resident.ref)
        assert action.source == host_map.find_node(instance.host,
                                                   instance.node)
        assert action.target != action.source
        assert action.target.cell_uuid == action.source.cell_uuid
        assert instance.vm_state in decide.RELOCATABLE_VM_STATES


@SETTINGS
@hypothesis.given(scenarios())
def test_busy_or_ambiguous_instances_get_no_write(scenario):
    instances, pool, host_map = scenario
    claims = pool.vms_by_nova_uuid()
    actions = decide.decide(instances, pool, host_map)

    for instance in instances:
        mine = [a for a in actions if a.instance_uuid == instance.uuid]
        if (instance.task_state is not None
                or len(claims.get(instance.uuid, ())) != 1):
            assert len(mine) == 1
            assert not mine[0].writes


@SETTINGS
@hypothesis.given(scenarios())
def test_every_action_is_about_one_of_the_instances(scenario):
    instances, pool, host_map = scenario
    actions = decide.decide(instances, pool, host_map)

    assert {a.instance_uuid for a in actions} <= {i.uuid for i in instances}
    assert all(a.rule in decide.RULES for a in actions)
    for instance in instances:
        kinds = [a.kind for a in actions if a.instance_uuid == instance.uuid]
        assert kinds.count(decide.RELOCATE) <= 1
        assert len(kinds) <= 2


@SETTINGS
@hypothesis.given(scenarios())
def test_applied_relocations_are_not_proposed_again(scenario):
    instances, pool, host_map = scenario
    actions = decide.decide(instances, pool, host_map)

    again = decide.decide(_relocated(instances, actions), pool, host_map)

    assert [a for a in again if a.kind == decide.RELOCATE] == []
    assert ([a for a in again if a.kind != decide.RELOCATE]
            == [a for a in actions if a.kind != decide.RELOCATE])
