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

"""xapi's failover planner: each test names the xapi function it follows.

xapi-project/xen-api at e2ee48d6, ``ocaml/xapi/binpack.ml`` and
``ocaml/xapi/xapi_ha_vm_failover.ml``.
"""

import testtools

from nova_ha_ext.xenapi import failover_plan as fp

GIB = 1024 ** 3


def hosts(**free):
    """Hosts with free memory in GiB, in the order given."""
    return [(name, gib * GIB) for name, gib in free.items()]


def vm(name, gib, host=None):
    return (name, gib * GIB, host)


class BiggestFitDecreasingTest(testtools.TestCase):
    """binpack.ml biggest_fit_decreasing."""

    def test_each_vm_goes_to_the_host_with_most_room_left(self):
        plan = fp.biggest_fit_decreasing([('a', 3), ('b', 2), ('c', 2)],
                                         [('x', 4), ('y', 4)])
        self.assertEqual([('a', 'x'), ('b', 'y'), ('c', 'y')], plan)

    def test_a_vm_that_does_not_fit_the_roomiest_host_is_left_out(self):
        # A packing exists (3+3 | 2+2+2) but xapi's does not find it: the
        # last 2 is left out, so a plan needing it does not exist.
        plan = fp.biggest_fit_decreasing(
            [('a', 3), ('b', 3), ('c', 2), ('d', 2), ('e', 2)],
            [('x', 6), ('y', 6)])
        self.assertEqual(4, len(plan))
        self.assertNotIn('e', dict(plan))

    def test_smaller_vms_still_fit_after_one_is_left_out(self):
        plan = fp.biggest_fit_decreasing([('big', 5), ('small', 1)],
                                         [('x', 4)])
        self.assertEqual([('small', 'x')], plan)


class HeuristicTest(testtools.TestCase):
    """binpack.ml choose_heuristic."""

    def test_exhaustive_for_small_pools(self):
        self.assertEqual(fp.EXHAUSTIVE, fp.choose_heuristic(32, 1))
        # C(16, 3) * 3! = 3360 < 3500
        self.assertEqual(fp.EXHAUSTIVE, fp.choose_heuristic(16, 3))

    def test_approximate_beyond_32_hosts_or_3500_sequences(self):
        self.assertEqual(fp.APPROXIMATE, fp.choose_heuristic(33, 1))
        # C(17, 3) * 3! = 4080
        self.assertEqual(fp.APPROXIMATE, fp.choose_heuristic(17, 3))
        self.assertEqual(fp.APPROXIMATE, fp.choose_heuristic(32, 30))

    def test_approximation_assumes_every_vm_is_the_biggest(self):
        # simulate_failure_approximation: every failed VM counts as the
        # biggest (4 GiB) and the host with most such slots fails. Here
        # only h39 has a 4 GiB slot, so no plan, although h39 could take
        # the big VM and any other host the small one.
        pool = [('h%d' % i, 3 * GIB) for i in range(39)] + [('h39', 8 * GIB)]
        vms = [vm('big', 4, 'h0'), vm('small', 1, 'h1')]
        self.assertFalse(fp.plan_for_n_failures(pool, vms, 40, 1))
        # Forty 4 GiB slots: four VMs of one host fit in 39 of them.
        pool = [('h%d' % i, 4 * GIB) for i in range(40)]
        vms = [vm('big', 4, 'h0')] + [vm('s%d' % i, 1, 'h0')
                                      for i in range(3)]
        self.assertTrue(fp.plan_for_n_failures(pool, vms, 40, 1))
        # The same three hosts' worth on a small pool is packed exactly.
        self.assertTrue(fp.plan_for_n_failures(
            [('h0', 3 * GIB), ('h1', 3 * GIB), ('h39', 8 * GIB)],
            [vm('big', 4, 'h0'), vm('small', 1, 'h1')], 3, 1))


class PlanForNFailuresTest(testtools.TestCase):
    """xapi_ha_vm_failover.ml plan_for_n_failures, compute_restart_plan."""

    def test_every_failure_of_one_host_is_planned_for(self):
        pool = hosts(a=4, b=4, c=4)
        vms = [vm('p1', 4, 'a'), vm('p2', 4, 'b')]
        self.assertTrue(fp.plan_for_n_failures(pool, vms, 3, 1))
        # Two failures: a and b die, c takes one of two 4 GiB VMs.
        self.assertFalse(fp.plan_for_n_failures(pool, vms, 3, 2))
        self.assertEqual(1, fp.max_failures(pool, vms, 3))

    def test_failures_follow_one_another(self):
        # binpack.ml plan_always_possible: a then b fail, in both orders.
        # p1 (a) restarts on c (most room); then c... is not failing; b's
        # p2 must fit on what c has left: 5 - 3 = 2 < 3. No plan for 2.
        pool = hosts(a=1, b=1, c=5)
        vms = [vm('p1', 3, 'a'), vm('p2', 3, 'b')]
        self.assertFalse(fp.plan_for_n_failures(pool, vms, 3, 2))
        self.assertTrue(fp.plan_for_n_failures(pool, vms, 3, 1))

    def test_vms_waiting_for_a_restart_are_placed_first(self):
        pool = hosts(a=2, b=2, c=2)
        self.assertFalse(fp.plan_for_n_failures(pool, [vm('w', 3)], 3, 0))
        restart = fp.restart_plan(pool, [vm('w', 3)], 3)
        self.assertEqual(('w',), restart.unplaced)
        restart = fp.restart_plan(pool, [vm('w', 2), vm('p', 1, 'b')], 3)
        self.assertEqual((('w', 'a'),), restart.plan)
        self.assertEqual((('a', 0), ('b', 2 * GIB), ('c', 2 * GIB)),
                         restart.config.hosts)

    def test_as_many_failures_as_live_hosts_never_has_a_plan(self):
        # plan_trivially_never_possible
        self.assertFalse(fp.plan_for_n_failures(
            hosts(a=8, b=8), [vm('p', 1, 'a')], 3, 2))
        self.assertTrue(fp.plan_for_n_failures(hosts(a=8, b=8), [], 3, 2))

    def test_more_failures_than_hosts_has_no_plan(self):
        # check_configuration fails, and plan_for_n_failures answers
        # No_plan_exists.
        self.assertFalse(fp.plan_for_n_failures(hosts(a=8), [], 1, 2))


class HeadroomTest(testtools.TestCase):
    """assert_new_vm_preserves_ha_plan, as a size."""

    def test_an_empty_pool_takes_what_the_host_has_free(self):
        pool = hosts(a=8, b=8, c=8)
        self.assertEqual(8 * GIB, fp.headroom(pool, [], 3, 1, 'a'))

    def test_the_tightest_failure_bounds_the_headroom(self):
        # A new VM s on a: when b fails its 6 GiB VM needs a host with 6
        # GiB left, and a has 8 - s: s <= 2. (When a fails, s restarts on
        # c's 5 GiB.)
        pool = hosts(a=8, b=2, c=5)
        vms = [vm('p', 6, 'b')]
        self.assertEqual(2 * GIB, fp.headroom(pool, vms, 3, 1, 'a'))
        self.assertTrue(fp.plan_for_n_failures(
            [('a', 6 * GIB), ('b', 2 * GIB), ('c', 5 * GIB)],
            vms + [vm('new', 2, 'a')], 3, 1))
        self.assertFalse(fp.plan_for_n_failures(
            [('a', 6 * GIB - 1), ('b', 2 * GIB), ('c', 5 * GIB)],
            vms + [('new', 2 * GIB + 1, 'a')], 3, 1))

    def test_headroom_depends_on_the_host(self):
        pool = hosts(a=8, b=2, c=5)
        vms = [vm('p', 6, 'b')]
        # On c: whichever of b or c fails, a's 8 GiB take its VM; c has
        # 5 GiB free to start the new VM.
        self.assertEqual(5 * GIB, fp.headroom(pool, vms, 3, 1, 'c'))
        self.assertEqual(0, fp.headroom(pool, vms, 3, 1, 'nowhere'))

    def test_no_headroom_without_a_plan(self):
        pool = hosts(a=2, b=2, c=2)
        self.assertEqual(0, fp.headroom(pool, [vm('w', 3)], 3, 1, 'a'))

    def test_headroom_is_a_whole_number_of_mib(self):
        pool = [('a', 8 * GIB + 12345), ('b', 9 * GIB), ('c', 9 * GIB)]
        self.assertEqual(8 * GIB, fp.headroom(pool, [], 3, 1, 'a'))
