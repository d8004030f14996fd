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

"""The decision table, row by row (doc/decision-table.md)."""

import dataclasses
import pathlib
import re
import typing as ty

import pytest

from nova_ha_ext import ha_spec
from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import hostmap
from nova_ha_ext.xenapi import pool_state

DECISION_TABLE = (pathlib.Path(__file__).resolve().parents[3]
                  / 'doc' / 'decision-table.md')

UUID = '5b8e0f4e-8e1e-4f43-9a55-6d5f2d1c0a01'
OTHER_UUID = '5b8e0f4e-8e1e-4f43-9a55-6d5f2d1c0a02'
NULL = pool_state.NULL_REF


def _host(n, live=True):
    return pool_state.PoolHost(
        ref='OpaqueRef:xs%d' % n, uuid='host-uuid-%d' % n,
        hostname='xs%d' % n, name_label='xs%d' % n,
        address='10.0.0.%d' % n, live=live)


def _node(n, cell='cell1'):
    return hostmap.ComputeNode(host='compute-%d' % n, nodename='xs%d' % n,
                               uuid='rp-%d' % n, id=n, cell_uuid=cell)


# The pool: xs1 and xs2 live, xs3 dead, xs4 live without a compute node,
# xs5 live but its compute node is in another cell.
XS1, XS2, XS3, XS4, XS5 = (_host(1), _host(2), _host(3, live=False),
                           _host(4), _host(5))
N1, N2, N3, N5 = _node(1), _node(2), _node(3), _node(5, cell='cell2')
HOSTS = (XS1, XS2, XS3, XS4, XS5)
HOST_MAP = hostmap.map_hosts(HOSTS, (N1, N2, N3, N5))
UNKNOWN_NODE = hostmap.ComputeNode(host='compute-9', nodename='xs9',
                                   uuid='rp-9', id=9, cell_uuid='cell1')


# The same pool 10 s after xs3 died: within the HA timeout (60 s).
JUST_DIED = tuple(dataclasses.replace(h, not_live_for=10.0) if h is XS3
                  else h for h in HOSTS)
# Right after a master failover: every live host is disabled.
ALL_DISABLED = tuple(dataclasses.replace(h, enabled=False) if h.live
                     else dataclasses.replace(h, not_live_for=600.0)
                     for h in HOSTS)


def _pool(*vms, hosts=HOSTS):
    ha = pool_state.PoolHAState(
        uuid='pool-uuid', name_label='pool-a', ha_enabled=True,
        ha_host_failures_to_tolerate=1, ha_plan_exists_for=1,
        ha_overcommitted=False, ha_allow_overcommit=False,
        master=XS1.ref, hosts=hosts)
    return pool_state.PoolSnapshot(ha=ha, vms=tuple(vms))


def _instance(node=N1, vm_state='active', task_state=None, wants_ha=True,
              ha_spec_error='', uuid=UUID, volumes=(), policy=None):
    return decide.NovaInstance(
        uuid=uuid, host=node.host, node=node.nodename, vm_state=vm_state,
        task_state=task_state, power_state=1, wants_ha=wants_ha,
        ha_spec_error=ha_spec_error, has_ports=True, volumes=volumes,
        restart_policy=policy)


def _volume(connector_host=None, predates_relocation=False, n=1):
    return decide.VolumeAttachment(
        volume_id='volume-%d' % n, attachment_id='attachment-%d' % n,
        device_name='/dev/xvdb', connector_host=connector_host,
        predates_relocation=predates_relocation)


def _port(host, n=1, owner='compute:nova', **profile):
    return decide.PortBinding(
        port_id='port-%d' % n, host=host,
        profile=pool_state.frozen_map(profile), device_owner=owner)


def _vm(resident=XS1, power_state='Running', priority='restart',
        ref='OpaqueRef:vm1', nova_uuid=UUID, order=0, start_delay=0):
    resident_on = resident if isinstance(resident, str) else resident.ref
    return pool_state.PoolVM(
        ref=ref, uuid=ref.replace('OpaqueRef:', 'uuid-'),
        name_label='instance-1', power_state=power_state,
        resident_on=resident_on, ha_restart_priority=priority,
        order=order, start_delay=start_delay,
        other_config=pool_state.frozen_map({'nova_uuid': nova_uuid}))


class Row(ty.NamedTuple):
    rule: str
    instance: decide.NovaInstance
    vms: tuple
    #: The (kind, rule) of each action expected, in order.
    expected: tuple
    #: Words the first action's reason must contain.
    reason_words: tuple = ()
    #: Where placement has the allocations (None: not read).
    allocations: ty.Optional[dict] = None
    hosts: tuple = HOSTS


ROWS = (
    # Gates.
    Row('task-in-progress', _instance(task_state='rebooting'),
        (_vm(resident=XS2),),
        ((decide.SKIP, 'task-in-progress'),), ('rebooting',)),
    Row('several-vms', _instance(),
        (_vm(ref='OpaqueRef:vm1'), _vm(resident=XS2, ref='OpaqueRef:vm2')),
        ((decide.SKIP, 'several-vms'),),
        ('2 VMs', 'OpaqueRef:vm1', 'OpaqueRef:vm2')),
    Row('no-vm', _instance(), (),
        ((decide.MISSING, 'no-vm'),), ('pool-a', UUID, 'nothing is deleted')),
    Row('unknown-node', _instance(node=UNKNOWN_NODE), (_vm(resident=XS2),),
        ((decide.SKIP, 'unknown-node'),), ('xs9', 'compute-9')),
    Row('unknown-power-state', _instance(), (_vm(power_state='Crashed'),),
        ((decide.SKIP, 'unknown-power-state'),), ('Crashed',)),
    Row('foreign-host', _instance(), (_vm(resident='OpaqueRef:stranger'),),
        ((decide.SKIP, 'foreign-host'),), ('OpaqueRef:stranger', 'pool-a')),
    Row('running-nowhere', _instance(), (_vm(resident=NULL),),
        ((decide.SKIP, 'running-nowhere'),), ('Running', 'no host')),
    Row('halted-on-host', _instance(), (_vm(power_state='Halted'),),
        ((decide.SKIP, 'halted-on-host'),), ('Halted', 'xs1')),
    Row('host-not-live', _instance(), (_vm(resident=XS3),),
        ((decide.SKIP, 'host-not-live'),), ('xs3', 'not live')),
    # Location, the VM on a live host.
    Row('host-unmapped', _instance(), (_vm(resident=XS4),),
        ((decide.SKIP, 'host-unmapped'),),
        ('xs4', "no Nova compute node has hypervisor_hostname 'xs4'")),
    Row('allocations-elsewhere', _instance(), (_vm(),),
        ((decide.MOVE_ALLOCATIONS, 'allocations-elsewhere'),),
        ('rp-3', 'rp-1'), allocations={UUID: frozenset(['rp-3'])}),
    Row('bindings-pending', _instance(volumes=(_volume('xs3'),)),
        (_vm(),), ((decide.BIND, 'bindings-pending'),),
        ('volume-1', 'compute-1')),
    Row('in-sync', _instance(), (_vm(),), ()),
    Row('not-running-elsewhere', _instance(),
        (_vm(resident=XS2, power_state='Paused'),),
        ((decide.SKIP, 'not-running-elsewhere'),), ('Paused', 'xs2')),
    Row('vm-state-not-relocatable', _instance(vm_state='error'),
        (_vm(resident=XS2),),
        ((decide.SKIP, 'vm-state-not-relocatable'),), ("'error'", 'xs2')),
    Row('other-cell', _instance(), (_vm(resident=XS5),),
        ((decide.SKIP, 'other-cell'),), ('cell2', 'cell1')),
    Row('relocate', _instance(node=N3), (_vm(resident=XS2),),
        ((decide.RELOCATE, 'relocate'),), ('xs2', 'compute-3')),
    # Location, the VM on no host.
    Row('ha-restart-pending', _instance(node=N3),
        (_vm(resident=NULL, power_state='Halted'),),
        ((decide.SKIP, 'ha-restart-pending'),),
        ('xs3', 'may still restart it', '60 s'), hosts=JUST_DIED),
    Row('ha-restart-failed', _instance(node=N3),
        (_vm(resident=NULL, power_state='Halted'),),
        ((decide.HA_RESTART_FAILED, 'ha-restart-failed'),),
        ('xs3', 'has not restarted')),
    Row('unprotected-halted', _instance(node=N3, wants_ha=False),
        (_vm(resident=NULL, power_state='Halted', priority=''),),
        ((decide.SKIP, 'unprotected-halted'),),
        ('not protected', 'stays on compute-3')),
    Row('not-resident', _instance(),
        (_vm(resident=NULL, power_state='Halted'),), ()),
    # Protection.
    Row('ha-spec-invalid',
        _instance(wants_ha=None,
                  ha_spec_error="flavor m1.odd has ha='maybe', which is not "
                                "boolean-like"),
        (_vm(priority=''),),
        ((decide.SKIP, 'ha-spec-invalid'),), ('m1.odd', "'maybe'")),
    Row('protect', _instance(), (_vm(priority=''),),
        ((decide.PROTECT, 'protect'),), ('asks for HA',)),
    Row('restart-policy', _instance(policy=ha_spec.RestartPolicy(
        order=2, start_delay=30)), (_vm(),),
        ((decide.PROTECT, 'restart-policy'),),
        ('order 2', 'start_delay 30 s', 'order 0')),
    Row('unprotect', _instance(wants_ha=False), (_vm(priority='restart'),),
        ((decide.UNPROTECT, 'unprotect'),), ('does not ask for HA',)),
    Row('protection-in-sync', _instance(wants_ha=False), (_vm(priority=''),),
        ()),
)


@pytest.mark.parametrize('row', ROWS, ids=lambda row: row.rule)
def test_decision_table_row(row):
    actions = decide.decide([row.instance],
                            _pool(*row.vms, hosts=row.hosts), HOST_MAP,
                            allocations=row.allocations)

    assert [(a.kind, a.rule) for a in actions] == list(row.expected)
    assert all(a.instance_uuid == row.instance.uuid for a in actions)
    for word in row.reason_words:
        assert word in actions[0].reason


def test_every_rule_is_tested_and_documented_in_order():
    documented = re.findall(r'^\| `([a-z-]+)` \|',
                            DECISION_TABLE.read_text(), re.MULTILINE)

    assert documented == list(decide.RULES)
    assert [row.rule for row in ROWS] == list(decide.RULES)


def test_restart_is_pending_while_every_live_host_is_disabled():
    # xapi_ha.ml on_database_engine_ready disables every host after a
    # master failover; the HA monitor restarts nothing until they enable
    # themselves.
    vm = _vm(resident=NULL, power_state='Halted')
    action, = decide.decide([_instance(node=N3)],
                            _pool(vm, hosts=ALL_DISABLED), HOST_MAP)
    assert (action.kind, action.rule) == (decide.SKIP, 'ha-restart-pending')
    action, = decide.decide(
        [_instance(node=N3)],
        _pool(vm, hosts=tuple(dataclasses.replace(h, not_live_for=600.0)
                              for h in HOSTS)), HOST_MAP)
    assert action.rule == 'ha-restart-failed'


def test_relocate_names_source_target_and_vm():
    action, = decide.decide([_instance(node=N3)],
                            _pool(_vm(resident=XS2)), HOST_MAP)

    assert action.source == N3
    assert action.target == N2
    assert action.vm_ref == 'OpaqueRef:vm1'
    assert action.writes


def test_relocation_does_not_need_nova_host_to_be_dead():
    action, = decide.decide([_instance(node=N1)],
                            _pool(_vm(resident=XS2)), HOST_MAP)

    assert (action.kind, action.source, action.target) == (
        decide.RELOCATE, N1, N2)


@pytest.mark.parametrize('vm_state', decide.RELOCATABLE_VM_STATES)
def test_every_relocatable_vm_state_is_relocated(vm_state):
    action, = decide.decide([_instance(vm_state=vm_state)],
                            _pool(_vm(resident=XS2)), HOST_MAP)

    assert action.kind == decide.RELOCATE


@pytest.mark.parametrize('vm_state', ['building', 'error', 'rescued',
                                      'resized', 'shelved', 'soft-delete'])
def test_other_vm_states_are_not_relocated(vm_state):
    action, = decide.decide([_instance(vm_state=vm_state)],
                            _pool(_vm(resident=XS2)), HOST_MAP)

    assert (action.kind, action.rule) == (decide.SKIP,
                                          'vm-state-not-relocatable')


def test_protect_sets_restart_on_the_vm():
    action, = decide.decide([_instance()], _pool(_vm(priority='')),
                            HOST_MAP)

    assert (action.vm_ref, action.priority) == ('OpaqueRef:vm1', 'restart')


def test_best_effort_is_raised_to_restart_for_an_ha_flavor():
    action, = decide.decide([_instance()],
                            _pool(_vm(priority='best-effort')), HOST_MAP)

    assert (action.kind, action.priority) == (decide.PROTECT, 'restart')


def test_a_best_effort_flavor_lowers_a_restart_vm_with_its_policy():
    policy = ha_spec.RestartPolicy(priority='best-effort', order=1,
                                   start_delay=5)
    action, = decide.decide([_instance(policy=policy)],
                            _pool(_vm(priority='restart')), HOST_MAP)

    assert (action.kind, action.rule, action.priority, action.order,
            action.start_delay) == (decide.PROTECT, 'protect',
                                    'best-effort', 1, 5)


def test_a_vm_with_the_flavors_policy_is_in_sync():
    policy = ha_spec.RestartPolicy(order=3, start_delay=10)

    assert decide.decide([_instance(policy=policy)],
                         _pool(_vm(order=3, start_delay=10)), HOST_MAP) == []


def test_unprotect_leaves_order_and_start_delay_alone():
    action, = decide.decide([_instance(wants_ha=False)],
                            _pool(_vm(order=4, start_delay=9)), HOST_MAP)

    assert (action.rule, action.order, action.start_delay) == (
        'unprotect', None, None)


def test_unprotect_clears_the_priority():
    action, = decide.decide([_instance(wants_ha=False)],
                            _pool(_vm(priority='best-effort')), HOST_MAP)

    assert (action.kind, action.priority) == (decide.UNPROTECT, '')


def test_relocated_vm_with_protection_drift_gets_both_in_order():
    actions = decide.decide([_instance(node=N3)],
                            _pool(_vm(resident=XS2, priority='')), HOST_MAP)

    assert [a.kind for a in actions] == [decide.RELOCATE, decide.PROTECT]


def test_invalid_ha_spec_does_not_stop_relocation():
    actions = decide.decide(
        [_instance(node=N3, wants_ha=None, ha_spec_error='bad flavor')],
        _pool(_vm(resident=XS2)), HOST_MAP)

    assert [(a.kind, a.rule) for a in actions] == [
        (decide.RELOCATE, 'relocate'), (decide.SKIP, 'ha-spec-invalid')]


def test_failed_ha_restart_still_fixes_protection_drift():
    actions = decide.decide(
        [_instance(node=N3)],
        _pool(_vm(resident=NULL, power_state='Halted',
                  priority='best-effort')), HOST_MAP)

    assert [a.kind for a in actions] == [decide.HA_RESTART_FAILED,
                                         decide.PROTECT]


def test_location_skip_leaves_protection_alone():
    actions = decide.decide([_instance()],
                            _pool(_vm(resident=XS4, priority='')), HOST_MAP)

    assert [a.kind for a in actions] == [decide.SKIP]


def test_stopped_instance_with_halted_vm_on_dead_host_is_in_sync():
    actions = decide.decide(
        [_instance(node=N3, vm_state='stopped')],
        _pool(_vm(resident=NULL, power_state='Halted')), HOST_MAP)

    assert actions == []


def test_suspended_vm_on_dead_host_counts_as_not_restarted():
    action, = decide.decide(
        [_instance(node=N3)],
        _pool(_vm(resident=NULL, power_state='Suspended')), HOST_MAP)

    assert action.kind == decide.HA_RESTART_FAILED


def test_vms_of_other_instances_are_ignored():
    actions = decide.decide(
        [_instance()],
        _pool(_vm(), _vm(ref='OpaqueRef:stray', resident=XS3,
                         nova_uuid=OTHER_UUID),
              _vm(ref='OpaqueRef:plain', nova_uuid='')),
        HOST_MAP)

    assert actions == []


def test_actions_follow_the_order_of_the_instances():
    first = _instance(uuid=OTHER_UUID)
    second = _instance(node=N3)
    actions = decide.decide(
        [first, second],
        _pool(_vm(resident=XS2),
              _vm(ref='OpaqueRef:vm2', resident=XS2, nova_uuid=OTHER_UUID)),
        HOST_MAP)

    assert [a.instance_uuid for a in actions] == [OTHER_UUID, UUID]


def test_only_relocate_moves_bind_protect_and_unprotect_write():
    assert decide.WRITE_KINDS == {decide.RELOCATE, decide.MOVE_ALLOCATIONS,
                                  decide.BIND, decide.PROTECT,
                                  decide.UNPROTECT}


# Ports and volumes: what still names another host follows the instance.

def test_relocation_is_followed_by_the_ports_and_volumes():
    ports = {UUID: (_port('compute-3'), _port('compute-3', n=2))}
    relocate, bind = decide.decide(
        [_instance(node=N3, volumes=(_volume(), _volume(n=2)))],
        _pool(_vm(resident=XS2)), HOST_MAP, ports=ports)

    assert (relocate.kind, bind.kind, bind.rule) == (
        decide.RELOCATE, decide.BIND, 'relocate')
    assert (bind.source, bind.target) == (N3, N2)
    assert [p.port_id for p in bind.ports] == ['port-1', 'port-2']
    assert [v.volume_id for v in bind.volumes] == ['volume-1', 'volume-2']
    assert dict(bind.connector) == XS2.volume_connector()
    assert bind.writes


def test_relocation_without_ports_or_volumes_needs_no_bind():
    actions = decide.decide([_instance(node=N3)],
                            _pool(_vm(resident=XS2)), HOST_MAP,
                            ports={UUID: ()})

    assert [a.kind for a in actions] == [decide.RELOCATE]


def test_what_already_names_the_target_does_not_move_again():
    ports = {UUID: (_port('compute-2'), _port('compute-3', n=2))}
    _, bind = decide.decide(
        [_instance(node=N3, volumes=(_volume('xs2'), _volume('xs3', n=2)))],
        _pool(_vm(resident=XS2)), HOST_MAP, ports=ports)

    assert [p.port_id for p in bind.ports] == ['port-2']
    assert [v.volume_id for v in bind.volumes] == ['volume-2']


def test_port_bound_elsewhere_on_an_instance_in_sync_is_bound_here():
    action, = decide.decide([_instance()], _pool(_vm()), HOST_MAP,
                            ports={UUID: (_port('compute-3'),)})

    assert (action.kind, action.rule) == (decide.BIND, 'bindings-pending')
    assert action.target == N1
    assert 'port-1' in action.reason and 'compute-3' in action.reason


def test_unbound_port_is_left_to_nova():
    actions = decide.decide([_instance()], _pool(_vm()), HOST_MAP,
                            ports={UUID: (_port(''),)})

    assert actions == []


@pytest.mark.parametrize('volume, follows', [
    (_volume('xs1'), False),
    (_volume('xs3'), True),
    (_volume(None, predates_relocation=True), True),
    (_volume(None, predates_relocation=False), False),
])
def test_attachment_follows_when_it_names_another_host(volume, follows):
    actions = decide.decide([_instance(volumes=(volume,))], _pool(_vm()),
                            HOST_MAP)

    assert [a.kind for a in actions] == ([decide.BIND] if follows else [])


def test_instance_being_resized_keeps_its_bindings():
    actions = decide.decide([_instance(vm_state='resized')], _pool(_vm()),
                            HOST_MAP, ports={UUID: (_port('compute-3'),)})

    assert actions == []


def test_bindings_do_not_follow_a_skip():
    actions = decide.decide([_instance(node=N3)],
                            _pool(_vm(resident=XS2, power_state='Paused')),
                            HOST_MAP, ports={UUID: (_port('compute-3'),)})

    assert [(a.kind, a.rule) for a in actions] == [
        (decide.SKIP, 'not-running-elsewhere')]


# Allocations: placement must have each instance where Nova and XenServer do.

def test_allocations_on_the_instance_node_are_in_sync():
    actions = decide.decide([_instance()], _pool(_vm()), HOST_MAP,
                            allocations={UUID: frozenset(['rp-1'])})

    assert actions == []


def test_allocations_elsewhere_move_to_the_instance_node():
    action, = decide.decide([_instance(node=N2)], _pool(_vm(resident=XS2)),
                            HOST_MAP, allocations={UUID: frozenset(['rp-1'])})

    assert (action.kind, action.allocations_from, action.target) == (
        decide.MOVE_ALLOCATIONS, 'rp-1', N2)
    assert action.writes


def test_allocations_on_several_nodes_are_not_guessed():
    action, = decide.decide(
        [_instance()], _pool(_vm()), HOST_MAP,
        allocations={UUID: frozenset(['rp-2', 'rp-3'])})

    assert (action.kind, action.rule) == (decide.SKIP,
                                          'allocations-elsewhere')
    assert 'rp-2, rp-3' in action.reason


@pytest.mark.parametrize('allocations', [None, {}])
def test_allocations_not_read_or_not_found_are_left_alone(allocations):
    actions = decide.decide([_instance()], _pool(_vm()), HOST_MAP,
                            allocations=allocations)

    assert actions == []


def test_relocation_moves_allocations_from_where_they_are():
    action, = decide.decide([_instance(node=N1)], _pool(_vm(resident=XS2)),
                            HOST_MAP, allocations={UUID: frozenset(['rp-3'])})

    assert (action.kind, action.source, action.target,
            action.allocations_from) == (decide.RELOCATE, N1, N2, 'rp-3')
    assert 'rp-3' in action.reason


def test_allocations_and_bindings_both_follow_an_instance_in_sync():
    actions = decide.decide([_instance()], _pool(_vm()), HOST_MAP,
                            ports={UUID: (_port('compute-3'),)},
                            allocations={UUID: frozenset(['rp-3'])})

    assert [a.kind for a in actions] == [decide.MOVE_ALLOCATIONS,
                                         decide.BIND]
