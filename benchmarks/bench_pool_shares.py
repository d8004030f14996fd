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

"""How evenly the pools are shared between reconciler workers, and how many
change owner when a worker joins or leaves.

360 seeded random cases of 2 to 4 workers (member ids as
``default_member_id()`` makes them) and 4 to 100 pools, shared by
:func:`nova_ha_ext.reconcile.assignment.assign` and, for comparison, by
tooz's hash ring at its default partition count (what the workers used
before). For each case a worker joins, one of the original workers leaves,
and a pool is added.

    python -m benchmarks shares
"""

import collections
import math
import random
import statistics
import time

from tooz import hashring
from tooz import partitioner

from nova_ha_ext.reconcile import assignment

CASES = 360
SEED = 13


def tooz_ring(pools, members):
    """The previous release's share: tooz's hash ring, weight 1 each."""
    ring = hashring.HashRing(
        [], partitions=partitioner.Partitioner.DEFAULT_PARTITION_NUMBER)
    for member in sorted(members):
        ring.add_node(member.encode(), 1)
    return {pool: next(iter(ring.get_nodes(
        partitioner.Partitioner._hash_object(pool)))).decode()
        for pool in pools}


def _cases(rng):
    for _ in range(CASES):
        workers = rng.randint(2, 4)
        pools = ['pool-%s' % rng.getrandbits(32)
                 for _ in range(rng.randint(4, 100))]
        members = ['ctl%d-%d-%06x' % (i, rng.randint(100, 99999),
                                      rng.getrandbits(24))
                   for i in range(workers + 1)]
        yield pools, members[:-1], members[-1]


def _moved(before, after):
    return sum(1 for pool in before if before[pool] != after[pool])


def measure(share):
    rng = random.Random(SEED)
    figures = collections.Counter()
    excess = {'join': [], 'leave': []}
    added = []
    for pools, members, newcomer in _cases(rng):
        owners = share(pools, members)
        loads = collections.Counter(owners.values())
        loads = [loads[m] for m in members]
        bound = math.ceil(len(pools) / len(members))
        if max(loads) > bound + 1 or min(loads) == 0:
            figures['outside'] += 1
        figures['spread'] = max(figures['spread'], max(loads) - min(loads))

        joined = share(pools, members + [newcomer])
        minimum = sum(1 for m in joined.values() if m == newcomer)
        moves = _moved(owners, joined)
        figures['join moves'] += moves
        figures['join minimum'] += minimum
        excess['join'].append(moves - minimum)

        leaver = members[0]
        left = share(pools, members[1:])
        minimum = sum(1 for m in owners.values() if m == leaver)
        moves = _moved(owners, left)
        figures['leave moves'] += moves
        figures['leave minimum'] += minimum
        excess['leave'].append(moves - minimum)

        more = share(pools + ['pool-new'], members)
        added.append(_moved(owners, more))
    return figures, excess, added


def _timing(pools, workers):
    names = ['pool-%d' % i for i in range(pools)]
    members = ['ctl%d' % i for i in range(workers)]
    samples = []
    for _ in range(7):
        start = time.perf_counter()
        assignment.assign(names, members)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    print('%d cases: 2-4 workers, 4-100 pools (seed %d)' % (CASES, SEED))
    print('| share | cases with a worker over ceil(pools/workers)+1 or '
          'with none | largest spread | moves per join: mean (minimum) | '
          'moves per leave: mean (minimum) | all moves / minimum (join, '
          'leave) | largest excess (join, leave) | pools moved when one '
          'is added: mean, max |')
    print('|---|---:|---:|---:|---:|---:|---:|---:|')
    for name, share in (('tooz hash ring', tooz_ring),
                        ('assignment.assign', assignment.assign)):
        figures, excess, added = measure(share)
        print('| %s | %d of %d | %d | %.1f (%.1f) | %.1f (%.1f) | '
              '%.2fx, %.2fx | %d, %d | %.2f, %d |' % (
                  name, figures['outside'], CASES, figures['spread'],
                  figures['join moves'] / CASES,
                  figures['join minimum'] / CASES,
                  figures['leave moves'] / CASES,
                  figures['leave minimum'] / CASES,
                  figures['join moves'] / figures['join minimum'],
                  figures['leave moves'] / figures['leave minimum'],
                  max(excess['join']), max(excess['leave']),
                  statistics.mean(added), max(added)))
    for pools, workers in ((100, 4), (1000, 10)):
        print('assign(%d pools, %d workers): %.1f ms (median of 7)'
              % (pools, workers, _timing(pools, workers) * 1000))
