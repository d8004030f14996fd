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

"""Applying actions: the paths that never reach a database.

Relocation against real Nova is tested in
``tests/functional/test_reconcile_apply.py``.
"""

import types

from nova_ha_ext.reconcile import apply
from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import hostmap
from nova_ha_ext.reconcile import outcome
from nova_ha_ext.reconcile import pause
from nova_ha_ext.reconcile import placement

UUID = 'b0b5d4a4-2b34-4a53-9f6e-5c4c1c3f0e01'
SOURCE = hostmap.ComputeNode('h1', 'h1', 'rp-1', 1, 'cell1')
TARGET = hostmap.ComputeNode('h2', 'h2', 'rp-2', 2, 'cell1')
CONTEXT = types.SimpleNamespace(global_id='req-1')

RELOCATE = decide.Action(decide.RELOCATE, UUID, 'relocate', 'moved',
                         source=SOURCE, target=TARGET, vm_ref='OpaqueRef:vm')
PROTECT = decide.Action(decide.PROTECT, UUID, 'protect', 'drift',
                        vm_ref='OpaqueRef:vm', priority='restart')
REPORTS = (
    decide.Action(decide.SKIP, UUID, 'task-in-progress', 'busy'),
    decide.Action(decide.MISSING, UUID, 'no-vm', 'no VM'),
    decide.Action(decide.HA_RESTART_FAILED, UUID, 'ha-restart-failed',
                  'not restarted'),
)


class RefusingMover:
    """A placement that refuses every move."""

    def __init__(self):
        self.moves = []

    def move_many(self, context, moves):
        self.moves.extend(moves)
        refused = placement.AllocationMoveFailed('placement refused: capacity')
        return {consumer: refused for consumer, _source, _target in moves}


def test_reports_are_passed_through():
    results = apply.apply_actions(CONTEXT, REPORTS, cells={})

    assert [(r.status, r.detail) for r in results] == [
        (outcome.REPORTED, 'busy'), (outcome.REPORTED, 'no VM'),
        (outcome.REPORTED, 'not restarted')]


def test_dry_run_touches_neither_placement_nor_the_pool():
    mover, protected = RefusingMover(), []

    results = apply.apply_actions(
        CONTEXT, [RELOCATE, PROTECT], cells={}, mover=mover, dry_run=True,
        set_protection=lambda *args: protected.append(args))

    assert [r.status for r in results] == [outcome.DRY_RUN, outcome.DRY_RUN]
    assert results[0].detail == 'would relocate: moved'
    assert (mover.moves, protected) == ([], [])


def test_a_paused_pool_gets_no_write_and_says_why():
    mover, protected = RefusingMover(), []
    paused = pause.Pause(by='ops@ctl1', at='2026-12-01T17:00:00Z',
                         reason='firmware')
    bind = decide.Action(decide.BIND, UUID, 'relocate', 'ports follow',
                         source=SOURCE, target=TARGET)

    results = apply.apply_actions(
        CONTEXT, [RELOCATE, bind, PROTECT] + list(REPORTS), cells={},
        mover=mover, paused=paused,
        set_protection=lambda *args: protected.append(args))

    assert [r.status for r in results] == [outcome.PAUSED] * 3 + [
        outcome.REPORTED] * 3
    assert results[0].detail == ('held, the pool is paused by ops@ctl1 at '
                                 '2026-12-01T17:00:00Z: firmware; would '
                                 'relocate: moved')
    assert (mover.moves, protected) == ([], [])


def test_placement_refusal_fails_the_relocation_only():
    mover, protected = RefusingMover(), []

    results = apply.apply_actions(
        CONTEXT, [RELOCATE, PROTECT], cells={'cell1': object()},
        mover=mover, set_protection=lambda *args: protected.append(args))

    assert [r.status for r in results] == [outcome.FAILED, outcome.APPLIED]
    assert results[0].detail == ('placement refused: capacity; the instance '
                                 'stays on h1')
    assert protected == [('OpaqueRef:vm', 'restart')]


def test_relocation_in_an_unknown_cell_fails_before_placement():
    mover = RefusingMover()

    result, = apply.apply_actions(CONTEXT, [RELOCATE], cells={}, mover=mover)

    assert result.status == outcome.FAILED
    assert 'cell cell1 of compute node h1 is not known' in result.detail
    assert mover.moves == []


def test_protection_without_a_xenapi_session_fails_with_the_reason():
    result, = apply.apply_actions(CONTEXT, [PROTECT], cells={})

    assert result.status == outcome.FAILED
    assert result.detail == ("cannot set ha_restart_priority='restart' on "
                             "VM OpaqueRef:vm: no XenAPI session was given")
