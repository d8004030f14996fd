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

"""A host's HA headroom with xapi's planner, as the driver mixin computes it.

Pools of 16, 32 and 64 hosts with 256 GiB each, every host running 40 to
60 protected VMs of 0.25, 0.5 or 1 GiB (fixed seed); the headroom of one
host for one and two host failures to tolerate. 32 hosts and two failures
is the largest case xapi still checks exhaustively (every ordered pair of
failing hosts: C(32, 2) * 2! = 992 < 3500); beyond, its approximation.

    python -m benchmarks headroom
"""

import random
import statistics
import time

from nova_ha_ext.xenapi import failover_plan

GIB = 1024 ** 3
MIB = 1024 ** 2
POOLS = ((16, 40), (32, 60), (64, 60))
REPEATS = 3
SEED = 20261


def _pool(hosts, per_host, rng):
    vms = []
    free = []
    for i in range(hosts):
        name = 'h%02d' % i
        sizes = [rng.choice((1, 2, 4)) * GIB // 4 for _ in range(per_host)]
        vms.extend(('%s-vm%d' % (name, j), size, name)
                   for j, size in enumerate(sizes))
        free.append((name, 256 * GIB - sum(sizes)))
    return free, vms


def main():
    rng = random.Random(SEED)
    print('| hosts | protected VMs | failures | heuristic | headroom | '
          'seconds (median of %d) |' % REPEATS)
    print('|---:|---:|---:|---|---:|---:|')
    for hosts, per_host in POOLS:
        free, vms = _pool(hosts, per_host, rng)
        for failures in (1, 2):
            times = []
            for _ in range(REPEATS):
                start = time.perf_counter()
                room = failover_plan.headroom(free, vms, hosts, failures,
                                              'h00', granularity=MIB)
                times.append(time.perf_counter() - start)
            print('| %d | %d | %d | %s | %d MiB | %.3f |' % (
                hosts, len(vms), failures,
                failover_plan.choose_heuristic(hosts, failures),
                room // MIB, statistics.median(times)))


if __name__ == '__main__':
    main()
