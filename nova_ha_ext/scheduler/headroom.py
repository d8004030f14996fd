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

"""A pool's HA headroom as this scheduler sees it within a burst of boots.

Each compute node reports its pool's headroom for a protected VM started on
it (``xenapi_pool_ha_headroom_mb``) and how many VMs the pool's plan held
then (``xenapi_pool_ha_protected_vms``), once per resource update. Several
HA boots before the next update would all see the same figure; so this
scheduler process counts what it placed itself:

* **Placements are seen by their consumption.** Nova consumes the selected
  host's state (``HostState.consume_from_request``, which sets
  ``updated``); the filter remembers, per pool, the hosts it passed for an
  HA request with the ``updated`` they had, and before judging a pool's
  hosts again, a remembered host whose ``updated`` moved while its stats
  stayed the same object was the one selected.
* **A placement counts until the pool reports it.** It is recorded with the
  number of protected VMs the pool will hold once it is protected
  (``expected``): the count the host reported, plus the placements still
  pending in that pool, plus one. A host's reading that shows fewer than
  ``expected`` protected VMs does not include it, and its memory comes off
  that host's headroom; once a reading of the pool shows ``expected``, it
  is forgotten.

What remains (the "window", see doc/architecture.md): other scheduler
processes, a plain request consuming a remembered host (counted as HA:
safe), a protected VM deleted or another one protected meanwhile (the
count then lags or leads), and subtracting sizes is an estimate of xapi's
bin packing. Protection at spawn stays the last guard.
"""

import dataclasses
import threading
import time

#: Seconds a host passed for an HA request is watched for its selection.
OFFER_SECONDS = 60.0


@dataclasses.dataclass(frozen=True)
class Placement:
    """An HA instance this scheduler placed on a pool."""

    memory_mb: int
    #: Protected VMs the pool holds once this one is protected.
    expected: int


class Offer:
    """One HA instance to place: at most one of its hosts is selected."""

    __slots__ = ('since', 'memory_mb', 'placed')

    def __init__(self, memory_mb):
        self.since = time.monotonic()
        self.memory_mb = memory_mb
        self.placed = False


class PlacementTally:
    """Per pool, the HA memory placed here that the pool has not reported.

    Thread-safe: the scheduler serves requests concurrently.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._placed = {}  # pool uuid -> [Placement]
        # pool uuid -> {host key: (host_state, updated, stats, protected,
        # offer)}: the last HA request each host was passed for.
        self._watched = {}

    def watch(self, host_state, pool, protected, offer):
        """Watch a host passed for ``offer``: Nova may consume it next."""
        hosts = self._watched.get(pool)
        if hosts is None:
            hosts = self._watched.setdefault(pool, {})
        hosts[id(host_state)] = (host_state, host_state.updated,
                                 host_state.stats, protected, offer)

    def settle(self, pool):
        """Record the placements Nova made on ``pool`` since it was watched.

        A watched host whose ``updated`` moved while its stats stayed the
        same object was consumed: the first one of an offer is its
        placement.
        """
        hosts = self._watched.get(pool)
        if not hosts:
            return
        consumed = [key for key, (host_state, updated, stats, _p, _o)
                    in hosts.items()
                    if host_state.updated is not updated and
                    host_state.stats is stats]
        if not consumed:
            return
        now = time.monotonic()
        with self._lock:
            for key in consumed:
                entry = hosts.pop(key, None)
                if entry is None:
                    continue
                _hs, _u, _s, protected, offer = entry
                if offer.placed or now - offer.since > OFFER_SECONDS:
                    continue
                offer.placed = True
                self._add(pool, offer.memory_mb, protected)

    def _add(self, pool, memory_mb, protected):
        placed = self._placed.setdefault(pool, [])
        pending = sum(1 for p in placed if p.expected > protected)
        placed.append(Placement(memory_mb, protected + pending + 1))

    def pending_mb(self, pool, protected):
        """Memory placed on ``pool`` that a reading of ``protected``
        protected VMs does not include.
        """
        placed = self._placed.get(pool)
        if not placed:
            return 0
        with self._lock:
            return sum(p.memory_mb for p in placed if p.expected > protected)

    def reported(self, pool, protected):
        """A reading of ``pool`` shows ``protected`` VMs: forget older."""
        if not self._placed.get(pool):
            return
        with self._lock:
            self._placed[pool] = [p for p in self._placed.get(pool, ())
                                  if p.expected > protected]
