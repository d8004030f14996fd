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

"""Apply ``bind`` actions: an instance's ports and volumes follow it.

:func:`bind_all` makes what outside Nova still names another host follow
the instances of a pass, one step at a time for all of them: their Neutron
port bindings (:mod:`.ports`), then their Cinder volume attachments
(:mod:`.volumes`), then their network info caches. An instance that moved
on, went or got a task since the pass read it is left alone; a port or
volume that fails does not stop the others, and the next pass finds it
again (decision table row ``bindings-pending``).
"""

import sqlalchemy as sa

from nova import context as nova_context
from nova.db.main import api as db_api
from nova.db.main import models
from nova import exception
from nova import objects

from nova_ha_ext.reconcile import ports
from nova_ha_ext.reconcile import volumes


def bind_all(context, actions, cells, binder, attacher, moves, zones):
    """Apply a pass's ``bind`` actions, one step at a time for all of them.

    Every instance's ports are bound before any volume moves, and the info
    caches are refreshed last: after a host failure, the network of the
    last instance waits for nothing but the other instances' ports.

    :param moves: instance uuid -> its relocation's ``AllocationMove``,
        whose ``providers`` say where the allocations of ports with a
        resource request went.
    :param zones: ``zones(host)`` is the availability zone of a host.
    :returns: per action, in order, ``(done, detail)``: whether everything
        followed, and what was done or what failed, in the operator's words.
    """
    bindings = [_Binding(action) for action in actions]
    _check_still_there(context, bindings, cells)
    for binding in bindings:
        binding.bind_ports(binder, zones(binding.action.target.host),
                           getattr(moves.get(binding.action.instance_uuid),
                                   'providers', None))
    for binding in bindings:
        binding.move_volumes(attacher)
    for binding in bindings:
        binding.refresh_cache(binder)
    return [binding.outcome() for binding in bindings]


def _check_still_there(context, bindings, cells):
    """Stop the binds of instances that moved, went or got a task since
    the pass read them: one query per cell.
    """
    inst = models.Instance.__table__
    by_cell = {}
    for binding in bindings:
        cell = cells.get(binding.action.target.cell_uuid)
        if cell is None:
            binding.stopped = ("cell %s of compute node %s is not known"
                               % (binding.action.target.cell_uuid,
                                  binding.action.target))
            continue
        by_cell.setdefault(cell.uuid, (cell, []))[1].append(binding)
    for cell, members in by_cell.values():
        with nova_context.target_cell(context, cell) as cctxt:
            with db_api.get_context_manager(cctxt).reader.using(
                    cctxt) as session:
                rows = {row.uuid: row for row in session.execute(sa.select(
                    inst.c.uuid, inst.c.host, inst.c.node,
                    inst.c.task_state).where(
                    inst.c.uuid.in_([b.action.instance_uuid
                                     for b in members]),
                    inst.c.deleted == 0))}
        for binding in members:
            binding.cctxt = cctxt
            binding.stopped = _moved_on(binding.action.target, rows.get(
                binding.action.instance_uuid))


def _moved_on(target, row):
    """Why an instance read as on ``target`` no longer is, or None."""
    if row is None:
        return "the instance was deleted"
    if row.task_state is not None:
        return ("task %r started since the pass read the instance; the "
                "next pass decides again" % row.task_state)
    if (row.host, row.node) != (target.host, target.nodename):
        return ("the instance is on node %s of host %s now, not on %s; the "
                "next pass decides again" % (row.node, row.host, target))
    return None


class _Binding:
    """One ``bind``: an instance's ports and volumes, and what came of them.

    A ``stopped`` bind does nothing; a port or volume that fails does not
    stop the others.
    """

    def __init__(self, action):
        self.action = action
        self.cctxt = self.stopped = None
        self.problems = []
        self.done = []
        self.bound = 0

    def bind_ports(self, binder, availability_zone, providers):
        if self.stopped or not self.action.ports:
            return
        target = self.action.target
        failures = binder.bind(self.cctxt, self.action.instance_uuid,
                               self.action.ports, target.host,
                               availability_zone, providers)
        self.problems.extend(str(f) for f in failures)
        self.bound = len(self.action.ports) - len(failures)
        if self.bound:
            self.done.append('%d port(s) bound to host %s'
                             % (self.bound, target.host))

    def move_volumes(self, attacher):
        if self.stopped or not self.action.volumes:
            return
        bdms = {bdm.volume_id: bdm for bdm in
                objects.BlockDeviceMappingList.get_by_instance_uuid(
                    self.cctxt, self.action.instance_uuid)}
        moved = 0
        for volume in self.action.volumes:
            bdm = bdms.get(volume.volume_id)
            if bdm is None or bdm.attachment_id != volume.attachment_id:
                self.problems.append(
                    "volume %s: its attachment changed since it was read; "
                    "the next pass decides again" % volume.volume_id)
                continue
            try:
                attacher.move(self.cctxt, self.action.instance_uuid, bdm,
                              self.action.connector)
                moved += 1
            except volumes.AttachmentError as exc:
                self.problems.append(str(exc))
        if moved:
            self.done.append('%d volume attachment(s) moved to host %s'
                             % (moved, self.action.connector.get('host')))

    def refresh_cache(self, binder):
        if self.stopped or not self.bound:
            return
        try:
            instance = objects.Instance.get_by_uuid(
                self.cctxt, self.action.instance_uuid,
                expected_attrs=['info_cache'])
            binder.refresh_info_cache(self.cctxt, instance)
        except (ports.PortError, exception.InstanceNotFound) as exc:
            self.problems.append(
                "could not refresh the network info cache: %s" % exc)

    def outcome(self):
        if self.stopped:
            return False, self.stopped
        if self.problems:
            return False, '; '.join(
                self.problems +
                (['done: ' + ', '.join(self.done)] if self.done else []))
        return True, ', '.join(self.done)
