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

"""XenServer HA's failover planner, as plain functions over memory figures.

The same rules as xapi's, so that what nova-ha-ext predicts is what the pool
decides: ``ocaml/xapi/binpack.ml`` (the bin packing and its two heuristics)
and the planning half of ``ocaml/xapi/xapi_ha_vm_failover.ml``
(``compute_restart_plan``, ``plan_for_n_failures``,
``compute_max_host_failures_to_tolerate``). Used by the driver mixin (the
headroom it reports) and by the simulator (the plan it keeps), so the two
cannot drift apart. No Nova, no XenAPI: hosts and VMs are plain ids with
sizes in bytes.

* **Bin packing** is xapi's ``biggest_fit_decreasing``: VMs biggest first,
  each into the host with the most free memory left, or left out.
* **A plan for r failures** exists when the protected VMs that run on no
  live host (waiting for a restart) are all placed first, and then, for
  every set of r live hosts failing one after the other in every order,
  the VMs of each failed host are placed on the hosts still up. xapi
  checks that exhaustively when the pool has at most 32 hosts and
  ``C(n, r) * r!`` is below 3500 (``n`` counts every host of the pool,
  live or not); otherwise with its conservative approximation: every
  failed VM as big as the biggest protected VM, the hosts that can take
  most of them fail, and those that hold most protected VMs lose them.
* Agility is the caller's business: xapi pins protected VMs that cannot run
  on every host and then answers "excluding non-agile VMs", which leaves
  the pool overcommitted. Callers give only agile VMs here and treat a pool
  with non-agile protected VMs as not ready.
"""

import collections
import dataclasses
import math
import typing as ty

#: binpack.ml choose_heuristic: beyond this many hosts, approximate.
MAX_EXHAUSTIVE_HOSTS = 32
#: binpack.ml choose_heuristic: C(n, r) * r! below this, exhaustive.
EXHAUSTIVE_LIMIT = 3500

EXHAUSTIVE = 'exhaustive'
APPROXIMATE = 'approximate'


class _NoPlan(Exception):
    """binpack.ml's ``Stop``: a failure sequence cannot be planned for."""


def biggest_fit_decreasing(things, bins):
    """xapi's bin packing: ``[(thing, bin), ...]`` for the things that fit.

    :param things: ``[(id, size), ...]``; placed biggest first (ties in the
        order given).
    :param bins: ``[(id, free), ...]``; each thing goes to the bin with the
        most free memory left (ties in the order given), or is left out if
        it does not fit there.
    """
    things = sorted(things, key=lambda t: -t[1])
    bins = sorted(bins, key=lambda b: -b[1])
    mapping = []
    for thing, size in things:
        if not bins or bins[0][1] - size < 0:
            continue
        (first, room), rest = bins[0], bins[1:]
        remaining = room - size
        # binpack.ml insert: before the first bin with no more room.
        i = 0
        while i < len(rest) and rest[i][1] > remaining:
            i += 1
        bins = rest[:i] + [(first, remaining)] + rest[i:]
        mapping.append((thing, first))
    return mapping


@dataclasses.dataclass(frozen=True)
class Configuration:
    """binpack.ml ``configuration``: live hosts, protected VMs, placement.

    ``hosts`` are ``(host, free bytes)`` of the hosts that can take VMs,
    ``vms`` maps each protected VM to its size in bytes, ``placement`` each
    VM that runs on one of ``hosts`` to that host, ``total_hosts`` counts
    every host of the pool (it chooses the heuristic).
    """

    hosts: ty.Tuple[ty.Tuple[str, int], ...]
    vms: ty.Mapping[str, int]
    placement: ty.Tuple[ty.Tuple[str, str], ...]
    total_hosts: int
    num_failures: int

    def valid(self):
        """binpack.ml check_configuration, as a verdict."""
        hosts = {h for h, _free in self.hosts}
        return (all(vm in self.vms and host in hosts
                    for vm, host in self.placement) and
                0 <= self.num_failures <= self.total_hosts)


def _account(hosts, vms, plan):
    """binpack.ml account: take the planned VMs' memory off their hosts."""
    needed = collections.Counter()
    for vm, host in plan:
        needed[host] += vms[vm]
    return tuple((h, free - needed[h]) for h, free in hosts)


def apply_plan(config, plan):
    """binpack.ml apply_plan: the configuration once ``plan`` is done."""
    planned = {vm for vm, _host in plan}
    untouched = tuple(p for p in config.placement if p[0] not in planned)
    return dataclasses.replace(
        config, hosts=_account(config.hosts, config.vms, plan),
        placement=tuple(plan) + untouched)


def choose_heuristic(total_hosts, num_failures):
    """binpack.ml choose_heuristic: :data:`EXHAUSTIVE` or the other."""
    if total_hosts > MAX_EXHAUSTIVE_HOSTS:
        return APPROXIMATE
    checks = (math.comb(total_hosts, num_failures) *
              math.factorial(num_failures))
    # binpack.ml computes this in int64 and approximates on overflow.
    if checks >= 2 ** 63 or checks >= EXHAUSTIVE_LIMIT:
        return APPROXIMATE
    return EXHAUSTIVE


def _trivially_never_possible(config):
    n = len(config.hosts)
    return (n < config.num_failures or
            (n == config.num_failures and bool(config.vms)))


def _simulate_failure(config, dead):
    """binpack.ml simulate_failure: restart one dead host's VMs."""
    failed = [vm for vm, host in config.placement if host == dead]
    hosts = tuple(h for h in config.hosts if h[0] != dead)
    plan = biggest_fit_decreasing([(vm, config.vms[vm]) for vm in failed],
                                  hosts)
    if len(plan) != len(failed):
        raise _NoPlan()
    moved = dict(plan)
    return dataclasses.replace(
        config, hosts=_account(hosts, config.vms, plan),
        placement=tuple((vm, moved.get(vm, host))
                        for vm, host in config.placement),
        num_failures=config.num_failures - 1)


def _exhaustive(config):
    """binpack.ml plan_always_possible: every failure set, in every order.

    The ordered sequences of ``num_failures`` distinct hosts are exactly the
    permutations of every combination; walked depth first, the state after
    a sequence's first failures is shared by every sequence that starts
    with them. Only sizes matter to whether VMs fit, so the state is each
    host's free memory and the sizes of the VMs it holds.
    """
    free = dict(config.hosts)
    lists = collections.defaultdict(list)
    for vm, host in config.placement:
        lists[host].append(config.vms[vm])
    held = {h: tuple(sizes) for h, sizes in lists.items()}

    def fail(free, held, depth):
        if depth == 0:
            return
        for dead in list(free):
            items = held.get(dead, ())
            rest = {h: room for h, room in free.items() if h != dead}
            plan = biggest_fit_decreasing(list(enumerate(items)),
                                          list(rest.items()))
            if len(plan) != len(items):
                raise _NoPlan()
            if depth == 1:
                continue
            # Copy on write: only the hosts that take VMs get new lists.
            moved = dict(held)
            moved.pop(dead, None)
            for index, host in plan:
                rest[host] -= items[index]
                moved[host] = moved.get(host, ()) + (items[index],)
            fail(rest, moved, depth - 1)

    fail(free, held, config.num_failures)


def _trunc_div(a, b):
    """OCaml's Int64.div: rounds towards zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _approximate(config):
    """binpack.ml simulate_failure_approximation."""
    biggest = max(config.vms.values(), default=0)
    if biggest <= 0:
        # Int64.div by zero raises in xapi: plan_for_n_failures answers
        # No_plan_exists.
        raise _NoPlan()
    capacity = sorted((_trunc_div(free, biggest)
                       for _h, free in config.hosts), reverse=True)
    left = sum(capacity[config.num_failures:])
    counts = collections.Counter(host for _vm, host in config.placement)
    per_host = sorted((counts[h] for h, _free in config.hosts), reverse=True)
    if sum(per_host[:config.num_failures]) > left:
        raise _NoPlan()


def plan_always_possible(config):
    """True if every ``num_failures`` host failures can be planned for."""
    try:
        if _trivially_never_possible(config):
            return False
        if choose_heuristic(config.total_hosts,
                            config.num_failures) == EXHAUSTIVE:
            _exhaustive(config)
        elif config.vms:
            _approximate(config)
        return True
    except _NoPlan:
        return False


@dataclasses.dataclass(frozen=True)
class RestartPlan:
    """compute_restart_plan's answer.

    ``plan`` places the protected VMs that run nowhere (biggest first),
    ``unplaced`` those that fit nowhere, ``config`` is the pool once the
    plan is done: what future failures are planned from.
    """

    plan: ty.Tuple[ty.Tuple[str, str], ...]
    unplaced: ty.Tuple[str, ...]
    config: Configuration


def restart_plan(hosts, vms, total_hosts, num_failures=0):
    """xapi_ha_vm_failover.ml compute_restart_plan, for agile VMs.

    :param hosts: ``[(host, free bytes), ...]`` of the live set (live and
        enabled hosts), in a deterministic order (xapi: by host uuid).
    :param vms: ``[(vm, size bytes, host or None), ...]`` of the protected
        VMs, ``host`` the live-set host it runs on or None when it runs on
        none, in a deterministic order (xapi: by VM uuid).
    """
    sizes = {vm: size for vm, size, _host in vms}
    live = {h for h, _free in hosts}
    placement = tuple((vm, host) for vm, _size, host in vms if host in live)
    offline = [(vm, size) for vm, size, host in vms if host not in live]
    config = Configuration(hosts=tuple(hosts), vms=sizes,
                           placement=placement, total_hosts=total_hosts,
                           num_failures=num_failures)
    plan = tuple(biggest_fit_decreasing(offline, hosts))
    planned = {vm for vm, _host in plan}
    return RestartPlan(
        plan=plan,
        unplaced=tuple(vm for vm, _size in offline if vm not in planned),
        config=apply_plan(config, plan))


def plan_for_n_failures(hosts, vms, total_hosts, num_failures):
    """xapi_ha_vm_failover.ml plan_for_n_failures, for agile VMs.

    True for ``Plan_exists_for_all_VMs``. Arguments as
    :func:`restart_plan`.
    """
    restart = restart_plan(hosts, vms, total_hosts, num_failures)
    if restart.unplaced or not restart.config.valid():
        return False
    return plan_always_possible(restart.config)


def max_failures(hosts, vms, total_hosts):
    """compute_max_host_failures_to_tolerate: the most failures planned for.

    xapi bisects over 0..total_hosts assuming a plan for n failures implies
    one for fewer; so does this.
    """
    low, high = 0, total_hosts
    if not plan_for_n_failures(hosts, vms, total_hosts, 0):
        return 0
    while low < high:
        mid = (low + high + 1) // 2
        if plan_for_n_failures(hosts, vms, total_hosts, mid):
            low = mid
        else:
            high = mid - 1
    return low


def headroom(hosts, vms, total_hosts, num_failures, on_host,
             granularity=1024 * 1024):
    """The biggest new protected VM ``on_host`` can take, keeping the plan.

    What ``VM.set_ha_restart_priority(restart)`` on a VM just started on
    ``on_host`` would accept (``assert_new_vm_preserves_ha_plan``): the VM
    takes its memory off ``on_host`` and joins the protected VMs there, and
    a plan for ``num_failures`` failures must still exist. Found by
    bisection in steps of ``granularity`` bytes (answers are multiples of
    it), assuming a smaller VM fits wherever a bigger one does.

    :returns: the size in bytes; 0 when ``on_host`` is not in ``hosts`` or
        no plan exists even without a new VM.
    """
    free = dict(hosts)
    if on_host not in free:
        return 0
    new_vm = object()

    def fits(units):
        size = units * granularity
        grown = [(h, room - size if h == on_host else room)
                 for h, room in hosts]
        return plan_for_n_failures(grown, list(vms) + [(new_vm, size,
                                                        on_host)],
                                   total_hosts, num_failures)

    if not plan_for_n_failures(hosts, vms, total_hosts, num_failures):
        return 0
    low, high = 0, max(free[on_host], 0) // granularity
    # Most often the host's own free memory is the bound: one plan decides.
    if high and fits(high):
        return high * granularity
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low * granularity
