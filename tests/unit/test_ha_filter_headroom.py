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

"""HAAggregateFilter and the pool's HA headroom, with real HostStates.

Nova's own filter handler runs the filter and Nova's ``HostState``
consumes the selected host, as the scheduler does between the instances
of a burst.
"""

import logging

from nova import objects
from nova.scheduler import filters
from nova.scheduler import host_manager
from oslo_utils.fixture import uuidsentinel

from nova_ha_ext.scheduler.filters import ha_aggregate

objects.register_all()

HA_POOL = objects.Aggregate(id=1, name='pool-a', hosts=[],
                            metadata={'ha': 'true'})
HA_POOL_B = objects.Aggregate(id=2, name='pool-b', hosts=[],
                              metadata={'ha': 'true'})


def _host(name, pool, headroom, protected=1, aggregate=HA_POOL):
    host = host_manager.HostState(name, name, uuidsentinel.cell)
    host.aggregates = [aggregate]
    host.stats = {'xenapi_pool_ha_ready': 'true', 'xenapi_pool_uuid': pool,
                  'xenapi_pool_ha_headroom_mb': str(headroom),
                  'xenapi_pool_ha_protected_vms': str(protected)}
    host.free_ram_mb = 16384
    host.free_disk_mb = 100000
    return host


def _spec(memory_mb, **extra):
    flavor = objects.Flavor(name='ha.%d' % memory_mb, memory_mb=memory_mb,
                            root_gb=1, ephemeral_gb=0, vcpus=1,
                            extra_specs=dict({'ha': 'true'}, **extra))
    return objects.RequestSpec(flavor=flavor, scheduler_hints={},
                               instance_uuid=uuidsentinel.instance,
                               num_instances=1, numa_topology=None,
                               pci_requests=None)


def _passing(fltr, hosts, spec):
    handler = filters.HostFilterHandler()
    return {h.host for h in handler.get_filtered_objects(
        [fltr], hosts, spec, index=0)}


def _reading(host, headroom, protected):
    """A resource update: new stats, as Nova's HostState gets them."""
    host.stats = dict(host.stats,
                      xenapi_pool_ha_headroom_mb=str(headroom),
                      xenapi_pool_ha_protected_vms=str(protected))


def test_a_flavor_passes_up_to_the_headroom_and_no_further():
    fltr = ha_aggregate.HAAggregateFilter()
    hosts = [_host('a1', 'pool-a', 2048), _host('a2', 'pool-a', 1024)]

    assert _passing(fltr, hosts, _spec(2048)) == {'a1'}
    assert _passing(fltr, hosts, _spec(2049)) == set()


def test_a_refused_host_says_why_at_debug(caplog):
    caplog.set_level(logging.DEBUG, logger=ha_aggregate.__name__)
    _passing(ha_aggregate.HAAggregateFilter(),
             [_host('a1', 'pool-a', 1024)], _spec(2048))

    [message] = [r.getMessage() for r in caplog.records
                 if r.levelno == logging.DEBUG]
    assert "failover plan takes at most 1024 MiB" in message
    assert "the flavor needs 2048 MiB" in message


def test_best_effort_flavors_take_no_headroom():
    spec = _spec(4096, **{'ha:restart_priority': 'best-effort'})

    assert _passing(ha_aggregate.HAAggregateFilter(),
                    [_host('a1', 'pool-a', 0)], spec) == {'a1'}


def test_hosts_without_headroom_stats_are_judged_without_it():
    host = _host('a1', 'pool-a', 0)
    del host.stats['xenapi_pool_ha_headroom_mb']

    assert _passing(ha_aggregate.HAAggregateFilter(), [host],
                    _spec(4096)) == {'a1'}


def test_a_bad_restart_policy_passes_no_host():
    spec = _spec(1024, **{'ha:order': '-1'})

    assert _passing(ha_aggregate.HAAggregateFilter(),
                    [_host('a1', 'pool-a', 8192)], spec) == set()


def test_a_burst_counts_what_it_placed_on_the_pool():
    fltr = ha_aggregate.HAAggregateFilter()
    a1 = _host('a1', 'pool-a', 3072)
    a2 = _host('a2', 'pool-a', 3072)
    b1 = _host('b1', 'pool-b', 3072, aggregate=HA_POOL_B)
    spec = _spec(2048)
    assert _passing(fltr, [a1, a2, b1], spec) == {'a1', 'a2', 'b1'}
    # Nova selects a1 and consumes it; no resource update yet.
    a1.consume_from_request(spec)

    # Pool A has 1024 MiB left on every host, pool B all of it.
    assert _passing(fltr, [a1, a2, b1], spec) == {'b1'}
    b1.consume_from_request(spec)
    assert _passing(fltr, [a1, a2, b1], _spec(1024)) == {'a1', 'a2', 'b1'}
    assert _passing(fltr, [a1, a2, b1], spec) == set()


def test_a_placement_counts_until_the_pool_reports_it():
    fltr = ha_aggregate.HAAggregateFilter()
    a1 = _host('a1', 'pool-a', 4096, protected=1)
    a2 = _host('a2', 'pool-a', 4096, protected=1)
    spec = _spec(3072)
    _passing(fltr, [a1, a2], spec)
    a1.consume_from_request(spec)
    assert _passing(fltr, [a1, a2], spec) == set()

    # A reading taken before the VM was protected still lacks it.
    _reading(a1, 1024, protected=1)
    assert _passing(fltr, [a1, a2], _spec(1024)) == {'a2'}
    # Once a reading shows it protected (2 VMs), its headroom is the
    # pool's word again.
    _reading(a1, 2048, protected=2)
    _reading(a2, 2048, protected=2)
    assert _passing(fltr, [a1, a2], _spec(2048)) == {'a1', 'a2'}


def test_a_host_not_selected_is_not_counted():
    fltr = ha_aggregate.HAAggregateFilter()
    a1 = _host('a1', 'pool-a', 2048)
    spec = _spec(2048)
    _passing(fltr, [a1], spec)
    # Nova chose nothing (e.g. placement refused): nothing consumed.
    assert _passing(fltr, [a1], spec) == {'a1'}


def test_best_effort_flavors_still_need_an_ha_ready_pool():
    # XenServer HA restarts best-effort VMs only when HA is on.
    host = _host('a1', 'pool-a', 8192)
    host.stats['xenapi_pool_ha_ready'] = 'false'
    spec = _spec(1024, **{'ha:restart_priority': 'best-effort'})

    assert _passing(ha_aggregate.HAAggregateFilter(), [host], spec) == set()
