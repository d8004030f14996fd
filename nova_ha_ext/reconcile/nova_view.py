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

"""Nova's view of a pool: its compute nodes and the instances on them.

Compute nodes and instances live in the cell databases, so the view is read
cell by cell: one query for the cell mappings (unless the caller passes
them), then per cell one query for the compute nodes and, in the cells that
have some of the pool's nodes, one query for their instances with their
flavors. The number of queries does not depend on the number of instances.

The pool names its hosts, not their nova-compute services, so host mappings
cannot say which cell to read: every cell is searched. Nova has no query for
a list of ``hypervisor_hostname`` values, so each cell's compute nodes are
read in one query and the pool's are kept.
"""

import dataclasses
import typing as ty

from oslo_serialization import jsonutils
import sqlalchemy as sa

from nova.compute import instance_actions
from nova import context as nova_context
from nova.db.main import api as main_db
from nova.db.main import models
from nova import objects

from nova_ha_ext import ha_spec
from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import hostmap

#: The instance action the reconciler records for a relocation
#: (:mod:`.apply` writes it).
RELOCATE_ACTION = 'ha-relocate'

#: Nova's own moves, which make volume attachments on the destination host
#: themselves (``nova-manage volume_attachment refresh`` too).
NOVA_MOVE_ACTIONS = (
    instance_actions.MIGRATE, instance_actions.RESIZE,
    instance_actions.REVERT_RESIZE, instance_actions.LIVE_MIGRATION,
    instance_actions.EVACUATE, instance_actions.UNSHELVE,
    instance_actions.NOVA_MANAGE_REFRESH_VOLUME_ATTACHMENT,
)


@dataclasses.dataclass(frozen=True)
class NovaView:
    """What Nova's databases say about a pool's compute nodes."""

    #: The compute nodes found, whose node name was asked for.
    compute_nodes: ty.Tuple[hostmap.ComputeNode, ...]
    #: The instances on those nodes (those of the aggregate's hosts, when
    #: they were given), neither deleted nor soft-deleted.
    instances: ty.Tuple[decide.NovaInstance, ...]
    #: Cell uuid -> ``objects.CellMapping``, for the cells holding the nodes;
    #: :func:`nova_ha_ext.reconcile.apply.apply_actions` writes through them.
    cells: ty.Mapping[str, ty.Any]


def read_nova_view(context, nodenames, cells=None, hosts=None):
    """Read the compute nodes with these node names and their instances.

    :param context: an admin ``nova.context.RequestContext``.
    :param nodenames: the ``hypervisor_hostname`` values to look for, e.g.
        :func:`nova_ha_ext.reconcile.hostmap.nodenames` of a pool's hosts.
    :param cells: the ``objects.CellMapping`` values to search; all cells
        but cell0 when None (one more query, on the API database).
    :param hosts: the compute service hosts of the pool's aggregate: the
        instances of nodes on other hosts are not read (the nodes are, so
        that the host map can say why they are not the pool's); every
        node's when None.
    :returns: a :class:`NovaView`.
    """
    nodenames = frozenset(nodenames)
    if cells is None:
        cells = objects.CellMappingList.get_all(context)
    compute_nodes = []
    instances = []
    cells_used = {}
    for cell in cells:
        if cell.is_cell0():
            continue
        with nova_context.target_cell(context, cell) as cctxt:
            nodes = [
                hostmap.ComputeNode(host=cn.host,
                                    nodename=cn.hypervisor_hostname,
                                    uuid=cn.uuid, id=cn.id,
                                    cell_uuid=cell.uuid)
                for cn in objects.ComputeNodeList.get_all(cctxt)
                if cn.hypervisor_hostname in nodenames]
            if not nodes:
                continue
            cells_used[cell.uuid] = cell
            compute_nodes.extend(nodes)
            ours = [node for node in nodes
                    if hosts is None or node.host in hosts]
            if ours:
                instances.extend(_instances_on(cctxt, ours))
    return NovaView(compute_nodes=tuple(compute_nodes),
                    instances=tuple(instances),
                    cells=cells_used)


def _instances_on(cctxt, nodes):
    """The :class:`~.decide.NovaInstance` values of instances on nodes.

    One column-limited query of ``instances`` joined to its
    ``instance_extra`` row: the six columns the decision needs, the
    instance's own copy of its flavor (the one it was scheduled with) and
    whether its network info cache lists ports. Building an ``Instance``
    and a ``Flavor`` object per instance to read as much costs about twenty
    times as long (2,000 instances: 0.05 s against 0.84 s, see
    doc/benchmarks.md). Then one query for the volume attachments of all
    of them, and, when some attachment has no stashed connector, one for
    their instances' moves (:func:`_volumes_of`).
    """
    wanted = {(node.host, node.nodename) for node in nodes}
    hosts = sorted({node.host for node in nodes})
    inst = models.Instance.__table__
    extra = models.InstanceExtra.__table__
    cache = models.InstanceInfoCache.__table__
    # The database says whether the cache lists ports: the cache itself,
    # a few KiB per instance, stays where it is.
    has_ports = sa.and_(cache.c.network_info.isnot(None),
                        cache.c.network_info.notin_(('', '[]')))
    # ``node`` is checked here: the pool's (host, node) pairs are few and
    # a host's instances are what the index on ``host`` finds.
    query = sa.select(
        inst.c.uuid, inst.c.host, inst.c.node, inst.c.vm_state,
        inst.c.task_state, inst.c.power_state, extra.c.flavor,
        has_ports.label('has_ports'),
    ).select_from(inst.outerjoin(
        extra, extra.c.instance_uuid == inst.c.uuid).outerjoin(
        cache, cache.c.instance_uuid == inst.c.uuid)).where(
        inst.c.host.in_(hosts), inst.c.deleted == 0).order_by(inst.c.uuid)
    with main_db.get_context_manager(cctxt).reader.using(cctxt) as session:
        rows = [row for row in session.execute(query).all()
                if (row.host, row.node) in wanted]
        volumes = _volumes_of(session, hosts, {row.uuid for row in rows})
    return [_nova_instance(row, volumes.get(row.uuid, ())) for row in rows]


def _volumes_of(session, hosts, uuids):
    """The :class:`~.decide.VolumeAttachment` values of these instances.

    :returns: instance uuid -> its attachments, ordered by volume id.
    """
    inst = models.Instance.__table__
    bdm = models.BlockDeviceMapping.__table__
    query = sa.select(
        bdm.c.instance_uuid, bdm.c.volume_id, bdm.c.attachment_id,
        bdm.c.device_name, bdm.c.connection_info, bdm.c.created_at,
    ).select_from(bdm.join(inst, inst.c.uuid == bdm.c.instance_uuid)).where(
        inst.c.host.in_(hosts), inst.c.deleted == 0, bdm.c.deleted == 0,
        bdm.c.destination_type == 'volume',
        bdm.c.attachment_id.isnot(None)).order_by(bdm.c.volume_id)
    rows = [row for row in session.execute(query).all()
            if row.instance_uuid in uuids]
    unstashed = {row.instance_uuid for row in rows
                 if _stashed_host(row.connection_info) is None}
    relocated_at = _last_relocations(session, unstashed)
    volumes = {}
    for row in rows:
        host = _stashed_host(row.connection_info)
        relocated = relocated_at.get(row.instance_uuid)
        volumes.setdefault(row.instance_uuid, []).append(
            decide.VolumeAttachment(
                volume_id=row.volume_id, attachment_id=row.attachment_id,
                device_name=row.device_name, connector_host=host,
                predates_relocation=bool(
                    host is None and relocated is not None and
                    row.created_at is not None and
                    row.created_at < relocated)))
    return {uuid: tuple(v) for uuid, v in volumes.items()}


def _stashed_host(connection_info):
    """The host of the connector stashed in a ``connection_info``."""
    if not connection_info:
        return None
    try:
        connector = jsonutils.loads(connection_info).get('connector')
        return connector.get('host') or None
    except (ValueError, AttributeError, TypeError):
        return None


def _last_relocations(session, uuids):
    """When each instance was last relocated by the reconciler.

    :returns: instance uuid -> the start time of its last ``ha-relocate``
        action, for the instances whose last move was one (Nova makes
        the attachments of its own moves on the destination itself).
    """
    if not uuids:
        return {}
    actions = models.InstanceAction.__table__
    query = sa.select(
        actions.c.instance_uuid, actions.c.action, actions.c.start_time,
    ).where(actions.c.instance_uuid.in_(sorted(uuids)),
            actions.c.action.in_((RELOCATE_ACTION,) + NOVA_MOVE_ACTIONS),
            actions.c.deleted == 0).order_by(actions.c.start_time,
                                             actions.c.id)
    last = {}
    for row in session.execute(query).all():
        last[row.instance_uuid] = row  # ordered: the last one wins
    return {uuid: row.start_time for uuid, row in last.items()
            if row.action == RELOCATE_ACTION}


def _stored_flavor(flavor_json):
    """Name and extra specs of the current flavor in ``instance_extra``.

    :raises ValueError: the instance has no readable stored flavor.
    """
    if not flavor_json:
        raise ValueError('the instance has no stored flavor')
    try:
        data = jsonutils.loads(flavor_json)['cur']['nova_object.data']
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError('its stored flavor cannot be read (%s)' % exc)
    return data.get('name'), data.get('extra_specs') or {}


def _nova_instance(row, volumes=()):
    """The :class:`~.decide.NovaInstance` of one row of the query above."""
    try:
        name, extra_specs = _stored_flavor(row.flavor)
        wants_ha = ha_spec.flavor_requests_ha(extra_specs, name)
        policy = ha_spec.restart_policy(extra_specs, name)
        error = ''
    except ValueError as exc:  # ha_spec.InvalidHAValue is one too
        # decide() reports it; guessing the owner's intent would be wrong.
        wants_ha = policy = None
        error = str(exc)
    return decide.NovaInstance(
        uuid=row.uuid, host=row.host, node=row.node,
        vm_state=row.vm_state, task_state=row.task_state,
        power_state=row.power_state, wants_ha=wants_ha,
        ha_spec_error=error, restart_policy=policy,
        has_ports=bool(row.has_ports),
        volumes=tuple(volumes))
