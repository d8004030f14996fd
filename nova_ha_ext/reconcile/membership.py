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

"""Aggregate membership: does a pool's aggregate hold the pool's hosts?

Hosts join a XenServer pool with XenServer's tools and a Nova aggregate with
Nova's; nothing keeps the two in step. The pool is the truth: its aggregate
should hold the nova-compute host of every XenServer host of the pool
(:mod:`.hostmap` says which one that is) and nothing else, and no host
should be in two HA aggregates.

:func:`compare` (pure) says how an aggregate has drifted from its pool;
:func:`plan` (pure) what :func:`sync` changes to bring it back: it adds the
missing hosts and removes the foreign ones, as ``openstack aggregate add
host`` and ``remove host`` do, through Nova's ``AggregateAPI``. A host that
Nova still has instances on is never removed: the filter needs the
aggregate to keep them on HA hosts when they move.
"""

import dataclasses
import typing as ty

from nova.compute import api as compute_api
from nova import context as nova_context
from nova import exception
from nova import objects

from nova_ha_ext import ha_spec
from nova_ha_ext.reconcile import hostmap
from nova_ha_ext.reconcile import nova_view
from nova_ha_ext.reconcile import outcome
from nova_ha_ext.xenapi import pool_state

# What sync does with a host, and what became of it.
ADD = 'add'
REMOVE = 'remove'
#: A foreign host kept in the aggregate: Nova still has instances on it.
KEEP = 'keep'
#: A host of the pool that has no compute node to add.
CANNOT_ADD = 'cannot-add'


@dataclasses.dataclass(frozen=True)
class MissingHost:
    """A host of the pool whose compute host is not in the aggregate."""

    #: The XenServer host's ``hostname``.
    hostname: str
    #: Its nova-compute host, or None when it has no compute node.
    compute_host: ty.Optional[str] = None
    #: Why it has no compute node (see :mod:`.hostmap`).
    reason: str = ''


@dataclasses.dataclass(frozen=True)
class Drift:
    """How a pool's aggregate differs from the pool."""

    pool: str
    #: XenServer hosts whose compute host is not in the aggregate.
    missing: ty.Tuple[MissingHost, ...] = ()
    #: Aggregate hosts that are the compute host of no host of the pool.
    foreign: ty.Tuple[str, ...] = ()
    #: Aggregate host -> the names of the other HA aggregates holding it.
    shared: ty.Mapping[str, ty.Tuple[str, ...]] = dataclasses.field(
        default_factory=lambda: pool_state.frozen_map({}))

    @property
    def in_step(self):
        return not (self.missing or self.foreign or self.shared)

    def problems(self):
        """One line per drifted host, in the operator's words."""
        lines = []
        for host in self.missing:
            if host.compute_host is None:
                lines.append('XenServer host %s has no compute node: %s'
                             % (host.hostname, host.reason))
            else:
                lines.append('XenServer host %s: compute host %s is not in '
                             'the aggregate' % (host.hostname,
                                                host.compute_host))
        for host in self.foreign:
            lines.append('aggregate host %s is not in the pool' % host)
        for host, others in sorted(self.shared.items()):
            lines.append('host %s is also in HA aggregate(s) %s'
                         % (host, ', '.join(others)))
        return lines

    def as_dict(self):
        return {
            'in_step': self.in_step,
            'missing': [dataclasses.asdict(h) for h in self.missing],
            'foreign': list(self.foreign),
            'shared': {h: list(o) for h, o in sorted(self.shared.items())},
        }


@dataclasses.dataclass(frozen=True)
class Change(outcome.Step):
    """One host that sync adds, removes, keeps or cannot add."""

    kind: str
    host: str
    reason: str
    status: str = outcome.PLANNED


def compare(target, hosts, host_map, aggregates):
    """How the aggregate of a pool differs from the pool (pure).

    :param target: the pool's :class:`~.discovery.PoolTarget`.
    :param hosts: the pool's :class:`~nova_ha_ext.xenapi.pool_state.PoolHost`
        values, as read.
    :param host_map: the :class:`~.hostmap.HostMap` of ``hosts``.
    :param aggregates: every Nova aggregate (``objects.Aggregate`` values or
        look-alikes), to find the hosts that are in two HA aggregates.
    :returns: a :class:`Drift`.
    """
    in_aggregate = set(target.hosts)
    missing = []
    pool_hosts = set()
    for host in hosts:
        node = host_map.node_for(host.ref)
        if node is None:
            missing.append(MissingHost(
                host.hostname or host.uuid,
                reason=host_map.why_unmapped(host.ref) or ''))
            continue
        pool_hosts.add(node.host)
        if node.host not in in_aggregate:
            missing.append(MissingHost(host.hostname, node.host))
    shared = {}
    for agg in sorted(aggregates, key=lambda a: a.name):
        if agg.id == target.aggregate_id or not ha_spec.aggregate_is_ha(agg):
            continue
        for host in in_aggregate.intersection(agg.hosts or ()):
            shared.setdefault(host, []).append(agg.name)
    return Drift(pool=target.name,
                 missing=tuple(sorted(missing, key=lambda h: h.hostname)),
                 foreign=tuple(sorted(in_aggregate - pool_hosts)),
                 shared=pool_state.frozen_map(
                     {h: tuple(o) for h, o in shared.items()}))


def plan(drift, instances_on):
    """What sync changes to bring the aggregate back to its pool (pure).

    :param drift: the pool's :class:`Drift`.
    :param instances_on: foreign host -> how many instances Nova has on it.
    :returns: a list of :class:`Change`, additions first.
    """
    changes = []
    for host in drift.missing:
        if host.compute_host is None:
            changes.append(Change(CANNOT_ADD, host.hostname, host.reason))
        else:
            changes.append(Change(
                ADD, host.compute_host,
                'XenServer host %s is in the pool' % host.hostname))
    for host in drift.foreign:
        count = instances_on.get(host, 0)
        if count:
            changes.append(Change(
                KEEP, host, 'not in the pool, but Nova still has %d '
                'instance(s) on it: move them first' % count))
        else:
            changes.append(Change(REMOVE, host, 'not in the pool'))
    return changes


def read_drifts(context, pools):
    """Read Nova's side of these pools and compare.

    :param pools: (:class:`~.discovery.PoolTarget`, ``PoolSnapshot``) pairs,
        the snapshot being the pool as read.
    :returns: pool name -> :class:`Drift`.
    """
    aggregates = objects.AggregateList.get_all(context)
    drifts = {}
    for target, snapshot in pools:
        hosts = snapshot.ha.hosts
        view = nova_view.read_nova_view(context, hostmap.nodenames(hosts))
        host_map = hostmap.map_hosts(hosts, view.compute_nodes)
        drifts[target.name] = compare(target, hosts, host_map, aggregates)
    return drifts


def instances_on_hosts(context, hosts):
    """How many instances (not deleted) Nova has on each compute host."""
    counts = dict.fromkeys(hosts, 0)
    if not hosts:
        return counts
    for cell in objects.CellMappingList.get_all(context):
        if cell.is_cell0():
            continue
        with nova_context.target_cell(context, cell) as cctxt:
            found = objects.InstanceList.get_uuids_by_hosts(cctxt,
                                                            list(hosts))
        for host, uuids in found.items():
            counts[host] += len(uuids)
    return counts


def sync(context, target, drift, dry_run=False):
    """Make the aggregate's hosts those of the pool, as Nova's API would.

    :returns: the list of :class:`Change` with their status: applied,
        failed (with Nova's reason), dry-run, or reported (kept and
        cannot-add, which need the operator).
    """
    changes = plan(drift, instances_on_hosts(context, drift.foreign))
    aggregate_api = compute_api.AggregateAPI()
    done = []
    for change in changes:
        if change.kind not in (ADD, REMOVE):
            done.append(change.with_status(outcome.REPORTED))
            continue
        if dry_run:
            done.append(change.with_status(outcome.DRY_RUN))
            continue
        try:
            if change.kind == ADD:
                aggregate_api.add_host_to_aggregate(
                    context, target.aggregate_id, change.host)
            else:
                aggregate_api.remove_host_from_aggregate(
                    context, target.aggregate_id, change.host)
        except exception.NovaException as exc:
            done.append(change.with_status(outcome.FAILED, str(exc)))
        else:
            done.append(change.with_status(outcome.APPLIED))
    return done
