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

"""Properties of the share of pools between reconciler workers.

Over 360 cases of 2 to 4 workers and 4 to 100 pools (the cases in which
tooz's hash ring left a worker with none, or with more than one pool over
its share, 200 times): every worker owns ``floor`` or ``ceil`` of
``pools / workers``; every worker computes the same owners from the same
members; and when a worker joins or leaves, at most ``2 * minimum + 2``
pools change owner, where ``minimum`` is what must move (the newcomer's
share, or the leaver's pools).
"""

import collections
import math

import hypothesis
from hypothesis import strategies as st
import testtools

from nova_ha_ext.reconcile import assignment

SETTINGS = hypothesis.settings(max_examples=360, derandomize=True,
                               deadline=None)

NAMES = st.text('abcdefghijklmnopqrstuvwxyz0123456789-.', min_size=1,
                max_size=24)


@st.composite
def clouds(draw):
    """``(pools, members, newcomer)``: 4-100 pools, 2-4 workers."""
    pools = draw(st.lists(NAMES, min_size=4, max_size=100, unique=True))
    members = draw(st.lists(NAMES.map('worker-{}'.format), min_size=2,
                            max_size=4, unique=True))
    newcomer = draw(NAMES.map('worker-{}'.format).filter(
        lambda m: m not in members))
    return pools, members, newcomer


def shares(owners, members):
    counts = collections.Counter(owners.values())
    return {member: counts[member] for member in members}


def moved(before, after):
    return sorted(pool for pool in before if before[pool] != after[pool])


class TestShares(testtools.TestCase):

    @hypothesis.given(clouds())
    @SETTINGS
    def test_each_worker_owns_the_floor_or_ceiling_of_its_share(self, cloud):
        pools, members, _ = cloud
        fair = len(pools) / len(members)

        loads = shares(assignment.assign(pools, members), members)

        self.assertLessEqual(max(loads.values()), math.ceil(fair), loads)
        self.assertGreaterEqual(min(loads.values()), math.floor(fair), loads)

    @hypothesis.given(clouds())
    @SETTINGS
    def test_every_pool_has_exactly_one_owner_among_the_members(self, cloud):
        pools, members, _ = cloud

        owners = assignment.assign(pools, members)

        self.assertEqual(set(pools), set(owners))
        self.assertLessEqual(set(owners.values()), set(members))

    @hypothesis.given(clouds(), st.randoms(use_true_random=False))
    @SETTINGS
    def test_every_worker_computes_the_same_owners(self, cloud, rnd):
        pools, members, _ = cloud
        expected = assignment.assign(pools, members)
        # Another worker read the members in another order, and discovered
        # the pools in another order.
        other_members = members + members[:1]
        other_pools = list(pools)
        rnd.shuffle(other_members)
        rnd.shuffle(other_pools)

        self.assertEqual(expected,
                         assignment.assign(other_pools, other_members))

    def test_two_workers_share_four_pools_two_each(self):
        owners = assignment.assign(['pool-a', 'pool-b', 'pool-c', 'pool-d'],
                                   ['w1', 'w2'])

        self.assertEqual({'w1': 2, 'w2': 2}, shares(owners, ['w1', 'w2']))

    def test_three_workers_share_six_pools_two_each(self):
        members = ['w1', 'w2', 'w3']

        owners = assignment.assign(['pool-%d' % i for i in range(6)],
                                   members)

        self.assertEqual({'w1': 2, 'w2': 2, 'w3': 2},
                         shares(owners, members))

    def test_fewer_pools_than_workers_leave_some_workers_idle(self):
        members = ['w1', 'w2', 'w3']

        owners = assignment.assign(['pool-a', 'pool-b'], members)

        self.assertEqual([0, 1, 1], sorted(shares(owners, members).values()))

    def test_without_members_no_pool_has_an_owner(self):
        self.assertEqual({'pool-a': None, 'pool-b': None},
                         assignment.assign(['pool-a', 'pool-b'], []))

    def test_without_pools_nothing_is_owned(self):
        self.assertEqual({}, assignment.assign([], ['w1', 'w2']))

    def test_owners_do_not_change_between_releases(self):
        # Workers of two releases run side by side during an upgrade: they
        # must agree, so the hash and the order are part of the interface.
        self.assertEqual(
            {'pool-a': 'w1', 'pool-b': 'w1', 'pool-c': 'w2',
             'pool-d': 'w3', 'pool-e': 'w2', 'pool-f': 'w3'},
            assignment.assign(['pool-a', 'pool-b', 'pool-c', 'pool-d',
                               'pool-e', 'pool-f'], ['w1', 'w2', 'w3']))


class TestMoves(testtools.TestCase):

    @hypothesis.given(clouds())
    @SETTINGS
    def test_a_join_moves_at_most_twice_the_newcomers_share_plus_two(
            self, cloud):
        pools, members, newcomer = cloud
        before = assignment.assign(pools, members)

        after = assignment.assign(pools, members + [newcomer])

        minimum = shares(after, [newcomer])[newcomer]
        self.assertLessEqual(len(moved(before, after)), 2 * minimum + 2)

    @hypothesis.given(clouds())
    @SETTINGS
    def test_a_leave_moves_at_most_twice_the_leavers_pools_plus_two(
            self, cloud):
        pools, members, newcomer = cloud
        # From 3 to 5 workers, one leaves.
        members = members + [newcomer]
        leaver = members[0]
        before = assignment.assign(pools, members)

        after = assignment.assign(pools, members[1:])

        minimum = shares(before, [leaver])[leaver]
        self.assertLessEqual(len(moved(before, after)), 2 * minimum + 2)
