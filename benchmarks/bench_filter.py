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

"""HAAggregateFilter against Nova's AggregateInstanceExtraSpecsFilter.

Both filters get the same host states, built as Nova's HostManager builds
them (each host in 1 to 3 aggregates, aggregate objects shared between
hosts, 20% of the aggregates with ``ha=true``), and the same flavor with the
extra spec ``ha=true``; both run through Nova's own
``HostFilterHandler.get_filtered_objects``. Logging is at INFO, Nova's
default, so neither filter formats its debug messages.

    python -m benchmarks filter
"""

import logging
import random
import statistics
import time

from nova import objects
from nova.scheduler import filters
from nova.scheduler.filters import aggregate_instance_extra_specs
from nova.scheduler import host_manager
from oslo_utils.fixture import uuidsentinel

from nova_ha_ext.scheduler.filters import ha_aggregate

HOST_COUNTS = (1000, 10000)
REPEATS = 7
# Each timed sample filters about this many hosts, so small clouds are timed
# over several requests rather than one too short to measure.
HOSTS_PER_SAMPLE = 20000
HA_SHARE = 0.2
SEED = 20260


def _aggregates(count, rng):
    """Aggregates as an operator tags them: pools, AZs, tenant isolation."""
    aggregates = []
    ha_ids = set(rng.sample(range(count), int(count * HA_SHARE)))
    for i in range(count):
        if i in ha_ids:
            metadata = {'ha': 'true'}
        elif i % 3 == 0:
            metadata = {'ha': 'false'}
        elif i % 3 == 1:
            metadata = {'availability_zone': 'az%d' % (i % 4)}
        else:
            metadata = {'filter_tenant_id': 'tenant%d' % i, 'ssd': 'true'}
        aggregates.append(objects.Aggregate(
            id=i + 1, name='agg%d' % i, hosts=[], metadata=metadata))
    return aggregates


def _host_states(count, rng):
    aggregates = _aggregates(max(10, count // 10), rng)
    hosts = []
    for i in range(count):
        host = host_manager.HostState(
            'host%05d' % i, 'node%05d' % i, uuidsentinel.cell)
        host.aggregates = rng.sample(aggregates, rng.randint(1, 3))
        hosts.append(host)
    return hosts


def _request_spec():
    flavor = objects.Flavor(name='ha.small', extra_specs={'ha': 'true'})
    return objects.RequestSpec(flavor=flavor, scheduler_hints={},
                               instance_uuid=uuidsentinel.instance)


def _run(handler, fltr, hosts, spec):
    return handler.get_filtered_objects([fltr], hosts, spec, index=0)


def _sample(handler, fltr, hosts, spec, loops):
    start = time.perf_counter()
    for _ in range(loops):
        _run(handler, fltr, hosts, spec)
    return (time.perf_counter() - start) / loops


def _configure_logging():
    """Log as Nova does without ``debug = True``: INFO and above."""
    logging.basicConfig(level=logging.INFO)
    logging.getLogger().setLevel(logging.INFO)


def main():
    _configure_logging()
    objects.register_all()
    handler = filters.HostFilterHandler()
    contenders = [
        ('HAAggregateFilter', ha_aggregate.HAAggregateFilter()),
        ('AggregateInstanceExtraSpecsFilter',
         aggregate_instance_extra_specs.AggregateInstanceExtraSpecsFilter()),
    ]
    debug = any(logging.getLogger(fltr.__module__).isEnabledFor(logging.DEBUG)
                for _, fltr in contenders)
    print('logging: %s' % ('DEBUG (figures include log formatting)'
                           if debug else 'INFO (debug messages skipped)'))
    spec = _request_spec()
    rng = random.Random(SEED)
    for count in HOST_COUNTS:
        hosts = _host_states(count, rng)
        passing = {name: [h.host for h in _run(handler, fltr, hosts, spec)]
                   for name, fltr in contenders}
        [ours, in_tree] = passing.values()
        print('\n%d hosts, %d aggregates, flavor ha=true: %d hosts pass; '
              'same passing hosts for both filters: %s'
              % (count, len({id(a) for h in hosts for a in h.aggregates}),
                 len(ours), 'yes' if ours == in_tree else 'NO'))
        loops = max(1, HOSTS_PER_SAMPLE // count)
        samples = {name: [] for name, _ in contenders}
        for _ in range(REPEATS):
            # Interleaved, so that both see the same machine noise.
            for name, fltr in contenders:
                samples[name].append(
                    _sample(handler, fltr, hosts, spec, loops))
        rates = {}
        for name, _ in contenders:
            seconds = statistics.median(samples[name])
            rates[name] = count / seconds
            print('  %-34s %12.0f hosts/s  (median of %d x %d requests, '
                  '%.2f ms per request)'
                  % (name, rates[name], REPEATS, loops, seconds * 1000))
        print('  ratio HAAggregateFilter / AggregateInstanceExtraSpecsFilter:'
              ' %.1fx' % (rates['HAAggregateFilter'] /
                          rates['AggregateInstanceExtraSpecsFilter']))
