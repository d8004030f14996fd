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

"""Failover planning for pool HA, as plain functions over memory figures.

A pool has a failover plan for ``k`` host failures when, for every set of
``k`` live hosts that could fail together, the protected VMs running on
them (``ha_restart_priority = "restart"``) fit into the free memory of the
surviving hosts that can receive VMs.  That is a bin-packing question for
every failure set:

* small pools are answered exactly: every failure set is enumerated (up to
  :data:`MAX_SUBSETS` of them) and each packing is searched exhaustively
  (up to :data:`SEARCH_BUDGET` steps, after which first-fit decreasing
  decides);
* larger pools check a few worst-case candidate failure sets: the ``k``
  hosts with the largest protected load plus free memory (which is the
  exact worst case of the necessary "total memory" condition, so a failure
  there is certain), the ``k`` with the largest protected load, the ``k``
  with the most free memory and the ``k`` holding the biggest protected
  VMs, each packed with first-fit decreasing.

Both can only err towards "no plan", never claim a plan that does not
exist for the failure sets they consider.  xapi uses its own binpacking
heuristics, so figures can differ from a real pool's on edge cases.
"""

import collections
import itertools
import math

MAX_SUBSETS = 256
SEARCH_BUDGET = 20000

HostLoad = collections.namedtuple('HostLoad',
                                  ['name', 'free', 'protected', 'receives'])
HostLoad.__doc__ = """One live host as the planner sees it.

``free`` is its free memory in bytes, ``protected`` the memory sizes of
the protected VMs running on it, ``receives`` whether VMs can be restarted
on it (the host is enabled).
"""


def first_fit_decreasing(items, bins):
    """Place items (sizes) into bins (capacities) biggest first.

    Returns the list of bin indexes chosen for the items in the order of
    ``sorted(items, reverse=True)``, or None if some item does not fit.
    """
    remaining = list(bins)
    order = sorted(range(len(remaining)), key=lambda i: -remaining[i])
    placement = []
    for size in sorted(items, reverse=True):
        for i in order:
            if remaining[i] >= size:
                remaining[i] -= size
                placement.append(i)
                break
        else:
            return None
    return placement


def _exact_fit(items, bins):
    """Exhaustive search; True/False, or None when the budget runs out."""
    items = sorted(items, reverse=True)
    remaining = sorted(bins, reverse=True)
    budget = [SEARCH_BUDGET]

    def place(index):
        if index == len(items):
            return True
        budget[0] -= 1
        if budget[0] < 0:
            raise StopIteration()
        size = items[index]
        tried = set()
        for i, room in enumerate(remaining):
            # Bins with the same room are interchangeable: try one.
            if room < size or room in tried:
                continue
            tried.add(room)
            remaining[i] -= size
            if place(index + 1):
                return True
            remaining[i] += size
        return False

    try:
        return place(0)
    except StopIteration:
        return None


def fits(items, bins):
    """True if all items can be packed into the bins."""
    if not items:
        return True
    biggest = max(items)
    if not bins or sum(items) > sum(bins) or biggest > max(bins):
        return False
    # Every bin holds at least room // biggest items whatever their sizes:
    # enough of those settles the common case without packing.
    if sum(room // biggest for room in bins) >= len(items):
        return True
    if first_fit_decreasing(items, bins) is not None:
        return True
    return bool(_exact_fit(items, bins))


def _survives(hosts, failed):
    items = []
    bins = []
    for i, host in enumerate(hosts):
        if i in failed:
            items.extend(host.protected)
        elif host.receives:
            bins.append(host.free)
    return fits(items, bins)


def _candidate_sets(hosts, k):
    n = len(hosts)

    def top(key):
        ranked = sorted(range(n), key=lambda i: (-key(hosts[i]), i))
        return frozenset(ranked[:k])

    return {
        top(lambda h: sum(h.protected) + (h.free if h.receives else 0)),
        top(lambda h: sum(h.protected)),
        top(lambda h: h.free if h.receives else 0),
        top(lambda h: max(h.protected) if h.protected else 0),
    }


def restart_offline(hosts, offline):
    """The hosts after restarting the offline protected VMs, or None.

    ``offline`` are the sizes of protected VMs that run on no host of the
    plan (halted, waiting for a restart, or on a disabled or dead host).
    Like xapi_ha_vm_failover.ml compute_restart_plan, they are placed
    before any future failure is considered; if one fits nowhere there is
    no plan at all (plan_for_n_failures: No_plan_exists).
    """
    if not offline:
        return list(hosts)
    hosts = list(hosts)
    free = {i: h.free for i, h in enumerate(hosts) if h.receives}
    placement = place(list(enumerate(offline)), free)
    if len(placement) < len(offline):
        return None
    extra = collections.defaultdict(list)
    for key, host in placement.items():
        extra[host].append(offline[key])
    return [h._replace(free=h.free - sum(extra[i]),
                       protected=h.protected + tuple(extra[i]))
            for i, h in enumerate(hosts)]


def plan_exists(hosts, failures, offline=()):
    """True if the protected VMs survive any ``failures`` host failures.

    ``offline`` protected VMs must first find a host (see
    :func:`restart_offline`).
    """
    hosts = restart_offline(hosts, offline)
    if hosts is None:
        return False
    if failures <= 0:
        return True
    if failures >= len(hosts):
        return not any(h.protected for h in hosts)
    if math.comb(len(hosts), failures) <= MAX_SUBSETS:
        sets = itertools.combinations(range(len(hosts)), failures)
    else:
        sets = _candidate_sets(hosts, failures)
    return all(_survives(hosts, set(failed)) for failed in sets)


def max_failures(hosts, limit=None):
    """The largest ``k`` (at most ``limit``) with a plan for ``k`` failures.

    Without a limit the answer is at most the number of hosts less one: a
    pool with no host left cannot restart anything.
    """
    hosts = list(hosts)
    ceiling = max(len(hosts) - 1, 0)
    if limit is not None:
        ceiling = min(ceiling, limit)
    best = 0
    for k in range(1, ceiling + 1):
        if not plan_exists(hosts, k):
            break
        best = k
    return best


def place(vms, free):
    """Choose a host for each VM to restart, biggest first.

    ``vms`` is a list of ``(key, size)``, ``free`` maps host name to free
    memory.  Returns ``{key: host name}`` for the VMs that fit (first-fit
    decreasing over the hosts with the most free memory first).
    """
    remaining = dict(free)
    hosts = sorted(remaining, key=lambda h: -remaining[h])
    result = {}
    for key, size in sorted(vms, key=lambda vm: -vm[1]):
        for host in hosts:
            if remaining[host] >= size:
                remaining[host] -= size
                result[key] = host
                break
    return result


RestartCandidate = collections.namedtuple(
    'RestartCandidate', ['key', 'priority', 'order', 'start_delay', 'name'])


def order_groups(candidates):
    """VMs to start together, by ascending ``order``.

    xapi_ha_vm_failover.ml starts the VMs of one ``order`` in parallel
    and the next order when they are done; a negative order comes last
    (``order_f``).  Within a group VMs are listed by name.
    """
    def order(c):
        return c.order if c.order >= 0 else float('inf')

    groups = collections.OrderedDict()
    for c in sorted(candidates, key=lambda c: (order(c), c.name, c.key)):
        groups.setdefault(order(c), []).append(c)
    return list(groups.values())


def restart_order(candidates):
    """The order in which HA restarts VMs after a host failure.

    Protected VMs (``restart``) come first, by ascending ``order``, then by
    name so the sequence is deterministic; after starting each of them the
    restart waits its ``start_delay`` seconds.  Best-effort VMs follow in
    the same order and get a single attempt.  VMs with no restart priority
    are left halted.
    """
    def key(c):
        return (c.order, c.name, c.key)

    protected = sorted((c for c in candidates if c.priority == 'restart'),
                       key=key)
    best_effort = sorted(
        (c for c in candidates if c.priority == 'best-effort'), key=key)
    return protected, best_effort
