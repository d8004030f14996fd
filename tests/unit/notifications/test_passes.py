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

"""What a pass announces, and what it announces only once."""

import dataclasses

from nova_ha_ext.notifications import passes
from nova_ha_ext.reconcile import apply
from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import engine
from nova_ha_ext.reconcile import hostmap
from nova_ha_ext.reconcile import outcome
from nova_ha_ext.xenapi import pool_state
from tests.unit.notifications import recording

POOL_UUID = '4a3c1f0e-8d2b-4c55-9e1f-6b7a2d9c0e13'
INSTANCE = 'd5f0e7a2-3b41-4c8e-a9d6-1f2e3c4b5a69'
OTHER = '1b2c3d4e-5f60-4718-9a0b-c1d2e3f40516'
SOURCE = hostmap.ComputeNode('xs-a2', 'xs-a2',
                             '7c9e2b1a-5d3f-4e8a-b6c2-0a1f9e8d7c65')
TARGET = hostmap.ComputeNode('xs-a3', 'xs-a3',
                             '2e8f4a6c-1b3d-4f5e-8a7c-9d0b1e2f3a47')


def _host(n, live=True):
    return pool_state.PoolHost(
        ref='OpaqueRef:h%d' % n,
        uuid='00000000-0000-4000-8000-00000000000%d' % n,
        hostname='xs-a%d' % n, name_label='xs-a%d' % n,
        address='192.0.2.%d' % n, live=live)


def _snapshot(live=(True, True, True), ha_enabled=True, vms=()):
    ha = pool_state.PoolHAState(
        uuid=POOL_UUID, name_label='pool-a', ha_enabled=ha_enabled,
        ha_host_failures_to_tolerate=1, ha_plan_exists_for=1,
        ha_overcommitted=False, ha_allow_overcommit=False,
        master='OpaqueRef:h1',
        hosts=tuple(_host(i + 1, up) for i, up in enumerate(live)))
    return pool_state.PoolSnapshot(ha=ha, vms=tuple(vms))


def _report(snapshot, results=(), dry_run=False):
    return engine.PassReport(pool='ha-pool-a', url='https://xs-a1',
                             snapshot=snapshot, results=tuple(results),
                             dry_run=dry_run)


def _relocate(uuid=INSTANCE):
    return decide.Action(decide.RELOCATE, uuid, 'relocate',
                         'XenServer runs the VM on host xs-a3',
                         source=SOURCE, target=TARGET, vm_ref='OpaqueRef:v')


def _bind(uuid=INSTANCE):
    return decide.Action(
        decide.BIND, uuid, 'relocate', 'after the relocation...',
        source=SOURCE, target=TARGET,
        ports=(decide.PortBinding('port-1', 'xs-a2'),),
        volumes=(decide.VolumeAttachment('vol-1', 'att-1'),))


def _instance(uuid, host='xs-a2'):
    return decide.NovaInstance(uuid=uuid, host=host, node=host,
                               vm_state='active', task_state=None,
                               power_state=1, wants_ha=True)


def _notifier():
    recorder = recording.RecordingNotifier()
    return passes.PassNotifier(recorder), recorder


def test_relocation_start_then_end_with_what_moved():
    notifier, sent = _notifier()
    snapshot = _snapshot()
    actions = [_relocate(), _bind()]
    notifier.relocating(None, 'ha-pool-a', snapshot, actions)
    notifier.pass_done(None, 'ha-pool-a', _report(snapshot, [
        apply.Result(actions[0], outcome.APPLIED, 'relocated'),
        apply.Result(actions[1], outcome.APPLIED, '1 port(s) bound')]))

    [start] = sent.of(passes.RELOCATE_START)
    [end] = sent.of(passes.RELOCATE_END)
    assert sent.of(passes.RELOCATE_ERROR) == []
    for payload in (start, end):
        assert (payload.instance_uuid, payload.old_host, payload.old_node,
                payload.new_host, payload.new_node) == (
            INSTANCE, 'xs-a2', 'xs-a2', 'xs-a3', 'xs-a3')
        assert (payload.allocations_from, payload.allocations_to) == (
            SOURCE.uuid, TARGET.uuid)
        assert (payload.ports, payload.volumes) == (['port-1'], ['vol-1'])
        assert (payload.pool.uuid, payload.pool.name,
                payload.pool.aggregate) == (POOL_UUID, 'pool-a',
                                            'ha-pool-a')
    assert end.bindings_pending is None and end.fault is None


def test_ports_that_did_not_follow_are_pending_in_the_end():
    notifier, sent = _notifier()
    actions = [_relocate(), _bind()]
    notifier.pass_done(None, 'ha-pool-a', _report(_snapshot(), [
        apply.Result(actions[0], outcome.APPLIED, 'relocated'),
        apply.Result(actions[1], outcome.FAILED, 'port port-1: Neutron says '
                     'no')]))
    [end] = sent.of(passes.RELOCATE_END)
    assert (end.ports, end.volumes) == ([], [])
    assert end.bindings_pending == 'port port-1: Neutron says no'


def test_a_relocation_not_applied_is_an_error_with_the_reason():
    notifier, sent = _notifier()
    action = _relocate()
    notifier.pass_done(None, 'ha-pool-a', _report(_snapshot(), [
        apply.Result(action, outcome.FAILED, 'the instance was deleted')]))
    assert sent.of(passes.RELOCATE_END) == []
    [error] = sent.of(passes.RELOCATE_ERROR)
    assert error.fault == 'the instance was deleted'


def test_a_dry_run_announces_nothing():
    notifier, sent = _notifier()
    action = _relocate()
    notifier.pass_done(None, 'ha-pool-a', _report(
        _snapshot(live=(True, False, True)),
        [apply.Result(action, outcome.DRY_RUN, 'would relocate')],
        dry_run=True))
    assert sent.sent == []


def test_readiness_is_announced_on_change_only():
    notifier, sent = _notifier()
    for live in ((True, True, True), (True, True, True), (True, False, True),
                 (True, False, True), (True, True, True)):
        notifier.pass_done(None, 'ha-pool-a', _report(_snapshot(live)))
    updates = sent.of(passes.READINESS_UPDATE)
    # The first pass says what it found; then one per change.
    assert [(u.ready, len(u.reasons)) for u in updates] == [
        (True, 0), (False, 1), (True, 0)]
    assert 'only 2 live host(s)' in updates[1].reasons[0]


def test_failed_restarts_and_missing_instances_are_announced_once():
    notifier, sent = _notifier()
    vm = pool_state.PoolVM(ref='OpaqueRef:v', uuid='0e9d8c7b-6a5f-4e3d-'
                           '8c1b-0a9f8e7d6c5b', name_label='vm',
                           power_state='Halted',
                           resident_on=pool_state.NULL_REF)
    snapshot = _snapshot(live=(True, False, True), vms=[vm])
    failed = decide.Action(decide.HA_RESTART_FAILED, INSTANCE,
                           'ha-restart-failed', 'not restarted',
                           vm_ref=vm.ref)
    missing = decide.Action(decide.MISSING, OTHER, 'no-vm', 'no VM')
    instances = [_instance(INSTANCE), _instance(OTHER, 'xs-a1')]
    results = [apply.Result(failed, outcome.REPORTED, 'not restarted'),
               apply.Result(missing, outcome.REPORTED, 'no VM')]
    for _pass in range(2):
        notifier.pass_done(None, 'ha-pool-a', _report(snapshot, results),
                           instances)
    [restart_failed] = sent.of(passes.RESTART_FAILED)
    assert (restart_failed.instance_uuid, restart_failed.vm_uuid,
            restart_failed.host, restart_failed.rule) == (
        INSTANCE, vm.uuid, 'xs-a2', 'ha-restart-failed')
    [gone] = sent.of(passes.MISSING)
    assert (gone.instance_uuid, gone.vm_uuid, gone.host) == (
        OTHER, None, 'xs-a1')

    # Once a pass finds it fine, a new failure is news again.
    notifier.pass_done(None, 'ha-pool-a', _report(snapshot, results[1:]),
                       instances)
    notifier.pass_done(None, 'ha-pool-a', _report(snapshot, results),
                       instances)
    assert len(sent.of(passes.RESTART_FAILED)) == 2
    assert len(sent.of(passes.MISSING)) == 1


def test_a_dead_host_of_an_ha_pool_is_announced_once():
    notifier, sent = _notifier()
    for live in ((True, True, True), (True, False, True),
                 (True, False, True)):
        notifier.pass_done(None, 'ha-pool-a', _report(_snapshot(live)))
    [fenced] = sent.of(passes.HOST_FENCED)
    assert (fenced.hostname, fenced.uuid, fenced.address) == (
        'xs-a2', _host(2).uuid, '192.0.2.2')
    # Without HA a host that is not live was not fenced by the pool.
    notifier, sent = _notifier()
    notifier.pass_done(None, 'ha-pool-a', _report(
        _snapshot((True, False, True), ha_enabled=False)))
    assert sent.of(passes.HOST_FENCED) == []


def test_announcing_never_fails_the_pass():
    notifier, sent = _notifier()
    broken = dataclasses.replace(_relocate(), target=None)
    # A bad value is logged, not raised.
    notifier.relocating(None, 'ha-pool-a', _snapshot(), [broken])
    assert sent.sent == []
