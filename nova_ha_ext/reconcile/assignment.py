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

"""Which reconciler worker owns which pool: rendezvous hashing, bounded.

:func:`assign` is a pure function of the pool names and the live workers'
member ids, so every worker and ``nova-ha-manage status`` compute the same
owners from the same membership read, with no further coordination.

Each pool ranks the workers by a hash of the pool and the worker (rendezvous
or "highest random weight" hashing). Pools are taken in a fixed order, by a
hash of their own name, and each goes to the first worker of its ranking
that still has room. A worker has room for ``pools // workers`` pools, and
for one more while fewer than ``pools % workers`` workers hold one more, so
every worker ends up with ``floor(pools / workers)`` or
``ceil(pools / workers)`` pools: never none while there are at least as
many pools as workers.

Rankings do not depend on the other workers, so when one joins mostly the
pools that rank it first move to it, and when one leaves mostly its own
pools move; the load bound moves a few more (figures in
``doc/benchmarks.md``).
"""

import hashlib


def _score(*parts):
    digest = hashlib.blake2b('\0'.join(parts).encode('utf-8'),
                             digest_size=8).digest()
    return int.from_bytes(digest, 'big')


def assign(pools, members):
    """Share ``pools`` out over ``members``.

    :param pools: pool (aggregate) names; order and repeats do not matter.
    :param members: the live workers' member ids (str); order and repeats
        do not matter.
    :returns: ``{pool: member id}``; every pool maps to None when there is
        no member.
    """
    pools = sorted(set(pools), key=lambda pool: (_score(pool), pool))
    members = sorted(set(members))
    if not members:
        return dict.fromkeys(pools)
    base, extra = divmod(len(pools), len(members))
    load = dict.fromkeys(members, 0)
    owners = {}
    for pool in pools:
        ranking = sorted(members,
                         key=lambda member: (-_score(pool, member), member))
        for member in ranking:
            if load[member] < base or (load[member] == base and extra):
                if load[member] == base:
                    extra -= 1
                load[member] += 1
                owners[pool] = member
                break
    return owners
