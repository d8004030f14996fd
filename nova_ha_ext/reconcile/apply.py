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

"""Apply the reconciler's decisions: the writes to Nova.

A ``relocate`` is all or nothing per instance:

1. placement: the instance's allocations move from the source compute
   node's provider to the target's (:mod:`.placement`), those of all the
   pass's relocations in one write; if placement refuses, nothing else
   happens and the next pass tries again;
2. the cell database, in one transaction: the instance's ``host``, ``node``
   and ``compute_id`` change only if it still has the host and node that
   were read, no task, and a relocatable vm_state (a compare-and-swap), and
   an ``ha-relocate`` instance action with one ``ha_relocate`` event records
   the move for ``openstack server event list``;
3. if step 2 fails, the allocations are moved back.

The instance's ``availability_zone`` follows its new host in step 2, as in
Nova's own moves.

A ``bind`` (:mod:`.bindings`) makes what outside Nova still names another
host follow the instance: its Neutron port bindings (:mod:`.ports`), then
its Cinder volume attachments (:mod:`.volumes`), then its network info
cache. It comes right
after the ``relocate`` of the same instance, and only if that relocation
was applied, or alone for an instance already in sync whose bindings were
left behind (``bindings-pending``). Each port and volume moves on its own;
what fails is reported with the port or volume, Neutron's or Cinder's
answer, and the next pass tries it again: every step leaves one active
binding per port and a block device mapping naming an attachment that
exists, so a retry always starts from a state it understands.

Nothing here creates a Migration record: when the old host's nova-compute
comes back, an ``evacuation`` record would make it destroy the VM, which on
shared storage is the only copy. Nothing here deletes an instance or an
allocation, or changes a vm_state or power_state.

``protect`` and ``unprotect`` change the VM, not Nova: the caller passes the
XenAPI edge as ``set_protection(vm_ref, priority[, order, start_delay])``,
a callable that sets ``VM.ha_restart_priority`` (and, for ``protect``, the
VM's ``order`` and ``start_delay`` first) and raises an exception with a
readable message when it cannot.

Round trips: none per pass; per relocated instance, one placement read
and a constant number of database queries; one placement write for all
the relocations of a pass (:meth:`.placement.AllocationMover.move_many`).
Per ``bind``: two database reads, one Neutron write per moved port (plus a
binding delete) and a cache refresh, four Cinder calls and two mapping
saves per moved volume.
"""

import dataclasses

from oslo_context import context as common_context
from oslo_log import log as logging
from oslo_utils import timeutils

import sqlalchemy as sa

from nova import availability_zones
from nova import context as nova_context
from nova.db.main import api as db_api
from nova.db.main import models
from nova import exception
from nova import objects

from nova_ha_ext.reconcile import bindings
from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import nova_view
from nova_ha_ext.reconcile import outcome
from nova_ha_ext.reconcile import placement
from nova_ha_ext.reconcile import ports
from nova_ha_ext.reconcile import volumes

LOG = logging.getLogger(__name__)

#: The instance action and its event, as the os-instance-actions API shows.
ACTION_NAME = nova_view.RELOCATE_ACTION
EVENT_NAME = 'ha_relocate'


@dataclasses.dataclass(frozen=True)
class Result:
    """What became of one action."""

    action: decide.Action
    #: One of :mod:`.outcome`: ``APPLIED``, ``FAILED``, ``DRY_RUN`` (a write
    #: not made), ``PAUSED`` (a write held by a pause) or ``REPORTED`` (an
    #: action that only reports).
    status: str
    #: What was done or why it failed, in the operator's words.
    detail: str = ''


def apply_actions(context, actions, cells, set_protection=None,
                  mover=None, binder=None, attacher=None, dry_run=False,
                  guard=None, paused=None):
    """Apply a pass's actions and say what became of each.

    One action failing does not stop the others.

    :param context: an admin ``nova.context.RequestContext``.
    :param actions: :class:`~nova_ha_ext.reconcile.decide.Action` values.
    :param cells: cell uuid -> ``objects.CellMapping``, e.g.
        :attr:`nova_ha_ext.reconcile.nova_view.NovaView.cells`.
    :param set_protection: ``set_protection(vm_ref, priority[, order,
        start_delay])`` sets a VM's restart policy; without it, protect and
        unprotect fail.
    :param mover: a :class:`~nova_ha_ext.reconcile.placement.
        AllocationMover`; one using Nova's report client when None.
    :param binder: a :class:`~nova_ha_ext.reconcile.ports.PortBinder`;
        one using Nova's Neutron API when None.
    :param attacher: a :class:`~nova_ha_ext.reconcile.volumes.
        AttachmentMover`; one using Nova's Cinder API when None.
    :param dry_run: write nothing, anywhere; writes are reported as
        :data:`outcome.DRY_RUN`.
    :param guard: called right before the placement write, before each
        database write and before the binds; raises (e.g.
        ``PoolUnavailable``) when this worker must no longer write for the
        pool: the write is not made, a relocation's allocations are moved
        back, and the writes left are not attempted.
    :param paused: the pool's :class:`~nova_ha_ext.reconcile.pause.Pause`,
        or None: a paused pool gets no write; writes are reported as
        :data:`outcome.PAUSED`.
    :returns: one :class:`Result` per action, in order.
    """
    guard = _Guard(guard)
    moves = {}
    if not dry_run and paused is None:
        placed = [a for a in actions
                  if a.kind in (decide.RELOCATE, decide.MOVE_ALLOCATIONS) and
                  a.source.cell_uuid in cells]
        if placed and guard.check():
            if mover is None:
                mover = placement.AllocationMover()
            # One placement write for all of them (a host failure moves
            # many instances at once); the database follows one by one.
            moves = mover.move_many(
                context, [(a.instance_uuid,
                           a.allocations_from or a.source.uuid,
                           a.target.uuid) for a in placed])
    zones = _ZoneCache(context)
    results = []
    relocations = {}
    binds = []
    for action in actions:
        uuid = action.instance_uuid
        if not action.writes:
            result = _report(action)
        elif dry_run:
            result = Result(action, outcome.DRY_RUN, 'would %s: %s'
                            % (action.kind, action.reason))
        elif paused is not None:
            result = Result(action, outcome.PAUSED,
                            'held, the pool is %s; would %s: %s'
                            % (paused.describe(), action.kind,
                               action.reason))
        elif guard.lost and uuid not in moves:
            result = _failed(action, 'not attempted: %s' % guard.lost)
        elif action.kind == decide.RELOCATE:
            result = relocations[uuid] = _relocate(
                context, action, cells, mover, moves.get(uuid), zones, guard)
        elif action.kind == decide.MOVE_ALLOCATIONS:
            result = _moved_allocations(action, moves.get(uuid))
        elif action.kind == decide.BIND:
            relocation = relocations.get(uuid)
            if relocation is not None and relocation.status != outcome.APPLIED:
                result = Result(action, outcome.REPORTED,
                                'not attempted: the instance was not '
                                'relocated')
            else:
                binds.append((len(results), action))
                result = None  # set below, with the other binds
        else:
            result = _set_protection(action, set_protection)
        results.append(result)
    if binds and not guard.check():
        for index, action in binds:
            results[index] = _failed(action, 'not attempted: %s'
                                     % guard.lost)
    elif binds:
        outcomes = bindings.bind_all(
            context, [action for _, action in binds], cells,
            binder or ports.PortBinder(),
            attacher or volumes.AttachmentMover(), moves, zones)
        for (index, action), (done, detail) in zip(binds, outcomes):
            results[index] = (Result(action, outcome.APPLIED, detail) if done
                              else _failed(action, detail))
    return results


class _Guard:
    """The caller's ``guard``, and why it stopped the writes, once it did."""

    def __init__(self, guard):
        self._guard = guard
        #: Why the writes stopped; None while they may go on.
        self.lost = None

    def check(self):
        """Whether writes may go on (a failed guard stops the rest too)."""
        if self.lost is None and self._guard is not None:
            try:
                self._guard()
            except Exception as exc:
                self.lost = "this worker may no longer write: %s" % exc
                LOG.warning("Stopping the pass's writes: %s", self.lost)
        return self.lost is None


class _ZoneCache:
    """The availability zone of each host, read once per pass."""

    def __init__(self, context):
        self._context = context
        self._zones = {}

    def __call__(self, host):
        if host not in self._zones:
            self._zones[host] = availability_zones.get_host_availability_zone(
                self._context, host)
        return self._zones[host]


def _report(action):
    if action.kind == decide.SKIP:
        LOG.info("Not reconciled: %s", action.reason,
                 instance_uuid=action.instance_uuid)
    else:
        LOG.warning("%s: %s", action.kind, action.reason,
                    instance_uuid=action.instance_uuid)
    return Result(action, outcome.REPORTED, action.reason)


def _moved_allocations(action, move):
    """The result of a ``move_allocations``: placement's half is all."""
    if isinstance(move, placement.AllocationMoveFailed):
        return _failed(action, str(move))
    LOG.info("Moved the allocations of the instance to %(target)s, where "
             "Nova and XenServer have it: %(detail)s.",
             {'target': action.target, 'detail': move.detail},
             instance_uuid=action.instance_uuid)
    return Result(action, outcome.APPLIED, move.detail)


def _relocate(context, action, cells, mover, move, zones, guard):
    """The database half of a relocation whose placement half is ``move``.

    :param move: what ``mover.move_many`` said of this instance: an
        ``AllocationMove`` or the ``AllocationMoveFailed`` that stopped it.
    :param zones: ``zones(host)`` is the availability zone of a host.
    :param guard: a :class:`_Guard`, checked before the database write.
    """
    source, target = action.source, action.target
    cell = cells.get(source.cell_uuid)
    if cell is None:
        return _failed(action, "cell %s of compute node %s is not known"
                       % (source.cell_uuid, source))
    if isinstance(move, placement.AllocationMoveFailed):
        return _failed(action, "%s; the instance stays on %s"
                       % (move, source))
    if not guard.check():
        return _compensate(context, action, mover, move, guard.lost)

    with nova_context.target_cell(context, cell) as cctxt:
        try:
            _move_instance(cctxt, action, zones(action.target.host))
        except exception.InstanceUpdateConflict as exc:
            problem = ("the instance changed since it was read (expected "
                       "%s, found %s)" % (exc.kwargs.get('expected'),
                                          exc.kwargs.get('actual')))
            return _compensate(context, action, mover, move, problem)
        except exception.InstanceNotFound:
            return _compensate(context, action, mover, move,
                               "the instance was deleted")
        except Exception as exc:
            LOG.exception("Could not relocate the instance from %s to %s.",
                          source, target, instance_uuid=action.instance_uuid)
            return _compensate(context, action, mover, move,
                               "the database refused the change: %s" % exc)

    LOG.info("Relocated the instance from %(source)s to %(target)s: "
             "%(reason)s; %(placement)s.",
             {'source': source, 'target': target, 'reason': action.reason,
              'placement': move.detail},
             instance_uuid=action.instance_uuid)
    return Result(action, outcome.APPLIED, 'relocated from %s to %s; %s'
                  % (source, target, move.detail))


def _move_instance(cctxt, action, availability_zone):
    """Compare-and-swap the instance's host and record the action.

    One transaction: the instance row changes and the action is recorded
    together, or neither happens.

    :param cctxt: a context targeted at the instance's cell, used by nobody
        else: the action is found by its request id.
    """
    source, target = action.source, action.target
    uuid = action.instance_uuid
    cctxt.request_id = common_context.generate_request_id()
    cctxt.timestamp = timeutils.utcnow()
    with db_api.get_context_manager(cctxt).writer.using(cctxt) as session:
        _compare_and_swap(session, uuid, source, {
            'host': target.host, 'node': target.nodename,
            'compute_id': target.id, 'availability_zone': availability_zone,
            'updated_at': cctxt.timestamp})
        # The relocation is over when it is recorded: the action and its
        # event are written finished, one row each, with create() rather
        # than action_start()/event_start() and their finish calls, which
        # would take five more queries to say the same.
        objects.InstanceAction(
            cctxt, action=ACTION_NAME, instance_uuid=uuid,
            request_id=cctxt.request_id, user_id=cctxt.user_id,
            project_id=cctxt.project_id, start_time=cctxt.timestamp,
            finish_time=cctxt.timestamp, updated_at=cctxt.timestamp).create()
        objects.InstanceActionEvent(
            cctxt, event=EVENT_NAME, start_time=cctxt.timestamp,
            finish_time=cctxt.timestamp, result='Success', host=target.host,
            details='XenServer HA runs the instance on %s, no longer on %s'
                    % (target, source)).create(uuid, cctxt.request_id)


def _compare_and_swap(session, uuid, source, values):
    """Change the instance only if it is still as the pass read it.

    One ``UPDATE ... WHERE``: still on the source host and node, no task
    under way, a relocatable vm_state, not deleted. Nova's
    ``instance_update(expected=...)`` checks the same after loading the
    instance with its metadata, which costs a relocation three queries and
    the objects more.

    :raises nova.exception.InstanceNotFound: the instance is gone.
    :raises nova.exception.InstanceUpdateConflict: it changed; the
        exception's ``expected`` and ``actual`` say how.
    """
    inst = models.Instance.__table__
    expected = {'host': source.host, 'node': source.nodename,
                'task_state': None,
                'vm_state': list(decide.RELOCATABLE_VM_STATES)}
    changed = session.execute(sa.update(inst).where(
        inst.c.uuid == uuid, inst.c.deleted == 0,
        inst.c.host == source.host, inst.c.node == source.nodename,
        inst.c.task_state.is_(None),
        inst.c.vm_state.in_(decide.RELOCATABLE_VM_STATES)).values(**values))
    if changed.rowcount == 1:
        return
    row = session.execute(sa.select(
        inst.c.host, inst.c.node, inst.c.task_state, inst.c.vm_state).where(
        inst.c.uuid == uuid, inst.c.deleted == 0)).first()
    if row is None:
        raise exception.InstanceNotFound(instance_id=uuid)
    raise exception.InstanceUpdateConflict(
        instance_uuid=uuid, expected=expected, actual=dict(row._mapping))


def _compensate(context, action, mover, move, problem):
    try:
        mover.undo(context, move)
    except placement.AllocationMoveFailed as exc:
        LOG.error("Instance not relocated (%(problem)s) and its allocations "
                  "could not be moved back: %(error)s. Move them back to "
                  "provider %(source)s by hand.",
                  {'problem': problem, 'error': exc,
                   'source': move.source_rp},
                  instance_uuid=action.instance_uuid)
        return Result(action, outcome.FAILED,
                      "%s; the instance stays on %s, but its allocations "
                      "could not be moved back from provider %s: %s"
                      % (problem, action.source, action.target.uuid, exc))
    return _failed(action, "%s; the instance stays on %s%s"
                   % (problem, action.source,
                      ' and its allocations were moved back'
                      if move.moved else ''))


def _set_protection(action, set_protection):
    if set_protection is None:
        return _failed(action, "cannot set ha_restart_priority=%r on VM %s: "
                       "no XenAPI session was given"
                       % (action.priority, action.vm_ref))
    try:
        if action.order is None and action.start_delay is None:
            set_protection(action.vm_ref, action.priority)
        else:
            set_protection(action.vm_ref, action.priority, action.order,
                           action.start_delay)
    except Exception as exc:
        return _failed(action, "could not set ha_restart_priority=%r on VM "
                       "%s: %s" % (action.priority, action.vm_ref, exc))
    LOG.info("Set ha_restart_priority=%(priority)r on VM %(vm)s: %(reason)s.",
             {'priority': action.priority, 'vm': action.vm_ref,
              'reason': action.reason}, instance_uuid=action.instance_uuid)
    return Result(action, outcome.APPLIED,
                  'ha_restart_priority set to %r on VM %s'
                  % (action.priority, action.vm_ref))


def _failed(action, detail):
    LOG.warning("Could not %s: %s", action.kind, detail,
                instance_uuid=action.instance_uuid)
    return Result(action, outcome.FAILED, detail)
