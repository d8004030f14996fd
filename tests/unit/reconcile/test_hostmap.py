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

"""Mapping XenServer hosts to Nova compute nodes."""

import pytest

from nova_ha_ext.reconcile import hostmap
from nova_ha_ext.xenapi import pool_state


def _host(name, hostname=None, **other_config):
    return pool_state.PoolHost(
        ref='OpaqueRef:%s' % name, uuid='uuid-%s' % name,
        hostname=name if hostname is None else hostname, name_label=name,
        address='192.0.2.1', live=True,
        other_config=pool_state.frozen_map(other_config))


def _node(nodename, host=None, cell='cell1'):
    return hostmap.ComputeNode(host=host or 'compute-%s' % nodename,
                               nodename=nodename, uuid='rp-%s' % nodename,
                               id=1, cell_uuid=cell)


def _reasons(host_map):
    return {entry.host.ref: entry.reason for entry in host_map.unmapped}


def test_host_maps_to_the_node_named_after_its_hostname():
    xs1, xs2 = _host('xs1'), _host('xs2')
    n1, n2 = _node('xs1'), _node('xs2')

    host_map = hostmap.map_hosts([xs1, xs2], [n2, n1])

    assert dict(host_map.by_host_ref) == {xs1.ref: n1, xs2.ref: n2}
    assert host_map.unmapped == ()


def test_service_host_comes_from_the_node_found():
    xs1 = _host('xs1')

    host_map = hostmap.map_hosts([xs1], [_node('xs1', host='domu-17')])

    assert host_map.node_for(xs1.ref).host == 'domu-17'


def test_other_config_overrides_the_hostname():
    xs1 = _host('xs1', nova_hypervisor_hostname='legacy-node-1')
    legacy = _node('legacy-node-1')

    host_map = hostmap.map_hosts([xs1], [_node('xs1'), legacy])

    assert host_map.node_for(xs1.ref) == legacy
    assert hostmap.nodename_for(xs1) == 'legacy-node-1'


def test_blank_override_falls_back_to_the_hostname():
    xs1 = _host('xs1', nova_hypervisor_hostname='  ')

    host_map = hostmap.map_hosts([xs1], [_node('xs1')])

    assert host_map.node_for(xs1.ref) == _node('xs1')


def test_names_are_compared_exactly():
    xs1 = _host('xs1', hostname='XS1')

    host_map = hostmap.map_hosts([xs1], [_node('xs1')])

    assert host_map.node_for(xs1.ref) is None


def test_host_without_a_node_is_unmapped_with_the_name_looked_for():
    xs1 = _host('xs1')

    host_map = hostmap.map_hosts([xs1], [_node('xs2')])

    assert host_map.node_for(xs1.ref) is None
    assert _reasons(host_map) == {
        xs1.ref: "no Nova compute node has hypervisor_hostname 'xs1'"}


def test_host_without_any_name_is_unmapped():
    nameless = _host('xs1', hostname='')

    host_map = hostmap.map_hosts([nameless], [_node('xs1')])

    assert 'has no hostname' in host_map.why_unmapped(nameless.ref)


def test_name_shared_by_two_nodes_is_ambiguous():
    xs1 = _host('xs1')

    host_map = hostmap.map_hosts(
        [xs1], [_node('xs1', host='a', cell='cell1'),
                _node('xs1', host='b', cell='cell2')])

    assert host_map.node_for(xs1.ref) is None
    assert "2 Nova compute nodes have hypervisor_hostname 'xs1'" in (
        host_map.why_unmapped(xs1.ref))


def test_two_hosts_naming_one_node_are_both_unmapped():
    xs1 = _host('xs1')
    xs2 = _host('xs2', nova_hypervisor_hostname='xs1')

    host_map = hostmap.map_hosts([xs1, xs2], [_node('xs1'), _node('xs2')])

    assert dict(host_map.by_host_ref) == {}
    assert _reasons(host_map) == {
        xs1.ref: "hosts xs1, xs2 all map to Nova compute node 'xs1'",
        xs2.ref: "hosts xs1, xs2 all map to Nova compute node 'xs1'"}


def test_reverse_lookups():
    xs1 = _host('xs1')
    n1, other = _node('xs1'), _node('elsewhere')

    host_map = hostmap.map_hosts([xs1], [n1, other])

    assert host_map.host_ref_for(n1) == xs1.ref
    assert host_map.host_ref_for(other) is None
    assert host_map.find_node('compute-elsewhere', 'elsewhere') == other
    assert host_map.find_node('compute-elsewhere', 'xs1') is None
    assert host_map.why_unmapped(xs1.ref) is None


def test_nodenames_to_read_from_nova():
    hosts = [_host('xs1'), _host('xs2', nova_hypervisor_hostname='n2'),
             _host('xs3', hostname='')]

    assert hostmap.nodenames(hosts) == {'xs1', 'n2'}


def test_map_is_read_only():
    host_map = hostmap.map_hosts([_host('xs1')], [_node('xs1')])

    with pytest.raises(TypeError):
        host_map.by_host_ref['OpaqueRef:xs9'] = _node('xs9')


def test_compute_node_prints_as_its_host_and_node():
    assert str(_node('xs1', host='xs1')) == 'xs1'
    assert str(_node('xs1', host='domu-1')) == 'domu-1 (node xs1)'


# The pool's aggregate bounds what its hosts may name.

def test_a_node_outside_the_aggregate_is_not_the_pools():
    # A host of pool B names a node of pool A in other_config.
    xs1 = _host('xs1', nova_hypervisor_hostname='a-node')
    a_node = _node('a-node', host='compute-a')

    host_map = hostmap.map_hosts([xs1], [a_node],
                                 aggregate=('pool-b', {'compute-b'}))

    assert host_map.node_for(xs1.ref) is None
    assert host_map.find_node('compute-a', 'a-node') is None
    reason = _reasons(host_map)[xs1.ref]
    assert "'a-node'" in reason and 'compute-a' in reason
    assert 'pool-b' in reason and 'sync --pool pool-b' in reason


def test_nodes_inside_the_aggregate_map_as_before():
    xs1, xs2 = _host('xs1'), _host('xs2')
    n1, n2 = _node('xs1'), _node('xs2')

    host_map = hostmap.map_hosts(
        [xs1, xs2], [n1, n2],
        aggregate=('pool-a', {'compute-xs1', 'compute-xs2'}))

    assert dict(host_map.by_host_ref) == {xs1.ref: n1, xs2.ref: n2}
