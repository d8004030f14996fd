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

"""The one place that maps a XenServer host to a Nova compute node.

A XenServer host maps to the Nova compute node whose
``hypervisor_hostname`` equals the host's ``hostname``: that is the node
name the XenServer driver reported. The nova-compute service host is the
``host`` of the node found, whatever its name.

When a deployment named its compute nodes otherwise, the operator says which
node a XenServer host is, on the host itself::

    xe host-param-set uuid=<host uuid> \\
        other-config:nova_hypervisor_hostname=<hypervisor_hostname>

An empty value means "not set". Names are compared exactly, as Nova does.

A host is left unmapped, with the reason, when no compute node has its name,
when several compute nodes have it (e.g. in two cells), when several hosts
of the pool name the same compute node, or when the compute node's service
host is not in the pool's aggregate: guessing would move instances to the
wrong place, and a pool's hosts (which may name any node they like in
``other_config``) must never reach a node of another pool.
"""

import collections
import dataclasses
import typing as ty

from nova_ha_ext.xenapi import pool_state

#: ``host.other_config`` key naming the Nova compute node of a XenServer host.
HYPERVISOR_HOSTNAME_KEY = 'nova_hypervisor_hostname'


@dataclasses.dataclass(frozen=True)
class ComputeNode:
    """A Nova compute node, as the reconciler needs it."""

    #: The nova-compute service host (``Instance.host``).
    host: str
    #: The node's ``hypervisor_hostname`` (``Instance.node``).
    nodename: str
    #: The compute node uuid, which is its placement resource provider uuid.
    uuid: str
    #: The node's id in its cell database (``Instance.compute_id``).
    id: ty.Optional[int] = None
    #: The uuid of the cell whose database holds the node and its instances.
    cell_uuid: ty.Optional[str] = None

    def __str__(self):
        if self.host == self.nodename:
            return self.host
        return '%s (node %s)' % (self.host, self.nodename)


@dataclasses.dataclass(frozen=True)
class UnmappedHost:
    """A XenServer host with no Nova compute node, and why."""

    host: pool_state.PoolHost
    reason: str


@dataclasses.dataclass(frozen=True)
class HostMap:
    """Which Nova compute node each XenServer host of a pool is."""

    #: Host ref -> the host's compute node.
    by_host_ref: ty.Mapping[str, ComputeNode]
    #: The pool's hosts without a compute node.
    unmapped: ty.Tuple[UnmappedHost, ...] = ()
    #: Every compute node the map was built from, mapped or not.
    nodes: ty.Tuple[ComputeNode, ...] = ()

    def node_for(self, host_ref):
        """The compute node of the host with this ref, or None."""
        return self.by_host_ref.get(host_ref)

    def host_ref_for(self, node):
        """The ref of the XenServer host that is this compute node, or None."""
        for ref, mapped in self.by_host_ref.items():
            if mapped == node:
                return ref
        return None

    def find_node(self, host, nodename):
        """The compute node with this service host and node name, or None."""
        for node in self.nodes:
            if node.host == host and node.nodename == nodename:
                return node
        return None

    def why_unmapped(self, host_ref):
        """Why the host with this ref has no compute node, or None."""
        for entry in self.unmapped:
            if entry.host.ref == host_ref:
                return entry.reason
        return None


def nodename_for(host):
    """The ``hypervisor_hostname`` a XenServer host should have in Nova.

    :param host: a :class:`~nova_ha_ext.xenapi.pool_state.PoolHost`.
    :returns: the override from ``other_config`` if set, else the host's
        ``hostname``; None if neither is set.
    """
    override = (host.other_config.get(HYPERVISOR_HOSTNAME_KEY) or '').strip()
    return override or host.hostname or None


def nodenames(hosts):
    """The node names of these XenServer hosts, to read them from Nova."""
    return frozenset(filter(None, (nodename_for(host) for host in hosts)))


def map_hosts(hosts, compute_nodes, aggregate=None):
    """Map each XenServer host of a pool to its Nova compute node.

    :param hosts: the pool's :class:`~nova_ha_ext.xenapi.pool_state.PoolHost`
        values.
    :param compute_nodes: :class:`ComputeNode` values, at least those whose
        node name is one of :func:`nodenames` of ``hosts``.
    :param aggregate: the pool's aggregate, as ``(name, compute hosts)``:
        only compute nodes whose service host is in it may be the pool's
        (the map holds no other); any node when None.
    :returns: a :class:`HostMap`.
    """
    compute_nodes = tuple(compute_nodes)
    outside = {}
    if aggregate is not None:
        aggregate_name, aggregate_hosts = aggregate
        outside = {node.nodename: node for node in compute_nodes
                   if node.host not in aggregate_hosts}
        compute_nodes = tuple(node for node in compute_nodes
                              if node.host in aggregate_hosts)
    nodes_by_name = collections.defaultdict(list)
    for node in compute_nodes:
        nodes_by_name[node.nodename].append(node)

    found = {}
    unmapped = []
    for host in hosts:
        name = nodename_for(host)
        candidates = nodes_by_name.get(name, []) if name else []
        if not name:
            unmapped.append(UnmappedHost(
                host, "host %s has no hostname and no other-config:%s"
                % (host.uuid, HYPERVISOR_HOSTNAME_KEY)))
        elif not candidates and name in outside:
            unmapped.append(UnmappedHost(
                host, "Nova compute node %r is on compute host %s, which is "
                "not in the pool's aggregate %s; if it is one of the "
                "pool's, add it (nova-ha-manage sync --pool %s)"
                % (name, outside[name].host, aggregate_name,
                   aggregate_name)))
        elif not candidates:
            unmapped.append(UnmappedHost(
                host, "no Nova compute node has hypervisor_hostname %r"
                % name))
        elif len(candidates) > 1:
            unmapped.append(UnmappedHost(
                host, "%d Nova compute nodes have hypervisor_hostname %r "
                "(%s)" % (len(candidates), name,
                          ', '.join(sorted(n.uuid for n in candidates)))))
        else:
            found[host.ref] = (host, candidates[0])

    hosts_by_node = collections.defaultdict(list)
    for host, node in found.values():
        hosts_by_node[node].append(host)
    by_host_ref = {}
    for node, claimants in hosts_by_node.items():
        if len(claimants) == 1:
            by_host_ref[claimants[0].ref] = node
            continue
        names = ', '.join(sorted(h.name_label or h.ref for h in claimants))
        for host in claimants:
            unmapped.append(UnmappedHost(
                host, "hosts %s all map to Nova compute node %r"
                % (names, node.nodename)))

    return HostMap(by_host_ref=pool_state.frozen_map(by_host_ref),
                   unmapped=tuple(unmapped),
                   nodes=compute_nodes)
