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

"""``[ha_filter] require_pool_ha_ready``: the pool's readiness, as a table.

Hosts report their pool's readiness in the compute node stat
``xenapi_pool_ha_ready`` (the driver mixin); hosts without the mixin report
nothing and are judged by their aggregates alone.
"""

from nova import objects
from nova.scheduler import filters
from nova.scheduler import host_manager
from oslo_config import fixture as config_fixture
from oslo_utils.fixture import uuidsentinel
import pytest

from nova_ha_ext import conf
from nova_ha_ext import ha_spec
from nova_ha_ext.scheduler.filters import ha_aggregate

objects.register_all()

HA_POOL = objects.Aggregate(id=1, name='pool-ha', hosts=[],
                            metadata={'ha': 'true'})
PLAIN = objects.Aggregate(id=2, name='pool-plain', hosts=[], metadata={})

# Host name -> (aggregates, stats reported by its compute node)
HOSTS = {
    'ha-ready': ([HA_POOL], {'xenapi_pool_ha_ready': 'true'}),
    'ha-not-ready': ([HA_POOL], {'xenapi_pool_ha_ready': 'false'}),
    'ha-unknown': ([HA_POOL], {'xenapi_pool_ha_ready': 'unknown'}),
    'ha-no-stats': ([HA_POOL], {}),
    'plain-ready': ([PLAIN], {'xenapi_pool_ha_ready': 'true'}),
    'plain-not-ready': ([PLAIN], {'xenapi_pool_ha_ready': 'false'}),
}

# (flavor extra specs, require_pool_ha_ready, hosts that pass)
TABLE = [
    ({'ha': 'true'}, True, {'ha-ready', 'ha-no-stats'}),
    ({'ha': 'true'}, False, {'ha-ready', 'ha-not-ready', 'ha-unknown',
                             'ha-no-stats'}),
    # Readiness only restricts flavors that ask for HA.
    ({}, True, set(HOSTS)),
    ({'ha': 'false'}, True, set(HOSTS)),
]


@pytest.fixture
def config():
    fixture = config_fixture.Config(conf.CONF)
    fixture.setUp()
    yield fixture
    fixture.cleanUp()


def _hosts():
    hosts = []
    for name, (aggregates, stats) in sorted(HOSTS.items()):
        host = host_manager.HostState(name, name, uuidsentinel.cell)
        host.aggregates = aggregates
        host.stats = dict(stats)
        hosts.append(host)
    return hosts


def _spec(extra_specs):
    return objects.RequestSpec(
        flavor=objects.Flavor(name='f', extra_specs=dict(extra_specs)),
        scheduler_hints={}, instance_uuid=uuidsentinel.instance)


@pytest.mark.parametrize('specs, require_ready, expected', TABLE)
def test_pool_readiness_verdicts(config, specs, require_ready, expected):
    config.config(require_pool_ha_ready=require_ready, group='ha_filter')
    ha_filter = ha_aggregate.HAAggregateFilter()
    spec = _spec(specs)
    per_host = {h.host for h in _hosts() if ha_filter.host_passes(h, spec)}
    through_nova = {h.host for h in filters.HostFilterHandler()
                    .get_filtered_objects([ha_filter], _hosts(), spec, 0)}
    assert per_host == expected
    assert through_nova == expected


@pytest.mark.parametrize('stats, expected', [
    ({'xenapi_pool_ha_ready': 'true'}, True),
    ({'xenapi_pool_ha_ready': 'True'}, True),
    ({'xenapi_pool_ha_ready': 'false'}, False),
    ({'xenapi_pool_ha_ready': 'unknown'}, False),
    ({}, None),
    (None, None),
])
def test_pool_is_ready_reads_the_mixin_stat(stats, expected):
    assert ha_spec.pool_is_ready(stats) is expected
