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

"""How a pool's aggregate drifts from the pool, and what sync changes."""

import types

from nova_ha_ext.reconcile import discovery
from nova_ha_ext.reconcile import hostmap
from nova_ha_ext.reconcile import membership
from nova_ha_ext.xenapi import pool_state


def _host(name, **other_config):
    return pool_state.PoolHost(
        ref='OpaqueRef:%s' % name, uuid='uuid-%s' % name, hostname=name,
        name_label=name, address='192.0.2.1', live=True,
        other_config=pool_state.frozen_map(other_config))


def _node(nodename, host=None):
    return hostmap.ComputeNode(host=host or nodename, nodename=nodename,
                               uuid='rp-%s' % nodename)


def _aggregate(id, name, hosts, ha='true'):
    return types.SimpleNamespace(id=id, name=name, hosts=list(hosts),
                                 metadata={'ha': ha})


def _drift(pool_hosts, nodes, aggregate_hosts, other_aggregates=()):
    target = discovery.PoolTarget(name='pool-a', url='https://xs1',
                                  aggregate_id=1,
                                  hosts=tuple(aggregate_hosts))
    hosts = [_host(h) for h in pool_hosts]
    host_map = hostmap.map_hosts(hosts, nodes)
    aggregates = [_aggregate(1, 'pool-a', aggregate_hosts)]
    aggregates.extend(other_aggregates)
    return membership.compare(target, hosts, host_map, aggregates)


def test_an_aggregate_holding_the_pool_hosts_is_in_step():
    drift = _drift(['xs1', 'xs2'], [_node('xs1'), _node('xs2')],
                   ['xs1', 'xs2'])

    assert drift.in_step
    assert drift.problems() == []


def test_a_pool_host_missing_from_the_aggregate_is_named_by_compute_host():
    drift = _drift(['xs1', 'xs2'],
                   [_node('xs1'), _node('xs2', host='compute-2')], ['xs1'])

    assert drift.missing == (membership.MissingHost('xs2', 'compute-2'),)
    assert not drift.in_step


def test_a_pool_host_without_compute_node_is_missing_with_the_reason():
    drift = _drift(['xs1', 'xs2'], [_node('xs1')], ['xs1'])

    assert drift.missing == (membership.MissingHost(
        'xs2', None, "no Nova compute node has hypervisor_hostname 'xs2'"),)


def test_an_aggregate_host_not_in_the_pool_is_foreign():
    drift = _drift(['xs1'], [_node('xs1')], ['xs1', 'old-host'])

    assert drift.foreign == ('old-host',)
    assert drift.problems() == ['aggregate host old-host is not in the pool']


def test_a_host_in_another_ha_aggregate_is_shared():
    other = _aggregate(2, 'pool-b', ['xs1', 'xs9'])
    plain = _aggregate(3, 'rack-1', ['xs1'], ha='false')

    drift = _drift(['xs1'], [_node('xs1')], ['xs1'], [other, plain])

    assert drift.shared == {'xs1': ('pool-b',)}
    assert not drift.in_step


def test_plan_adds_missing_hosts_and_removes_foreign_ones():
    drift = membership.Drift(
        pool='pool-a', missing=(membership.MissingHost('xs2', 'compute-2'),),
        foreign=('old-host',))

    changes = membership.plan(drift, {'old-host': 0})

    assert [(c.kind, c.host) for c in changes] == [
        (membership.ADD, 'compute-2'), (membership.REMOVE, 'old-host')]


def test_plan_keeps_a_foreign_host_nova_has_instances_on():
    drift = membership.Drift(pool='pool-a', foreign=('old-host',))

    [change] = membership.plan(drift, {'old-host': 2})

    assert change.kind == membership.KEEP
    assert '2 instance(s)' in change.reason


def test_plan_cannot_add_a_host_without_compute_node():
    drift = membership.Drift(pool='pool-a', missing=(
        membership.MissingHost('xs2', None, 'no compute node'),))

    [change] = membership.plan(drift, {})

    assert (change.kind, change.host, change.reason) == (
        membership.CANNOT_ADD, 'xs2', 'no compute node')
