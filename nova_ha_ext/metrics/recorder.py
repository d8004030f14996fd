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


"""Turn the reconciler's pass reports into Prometheus metrics.

The passes know nothing of metrics: each returns a
:class:`~nova_ha_ext.reconcile.engine.PassReport`, and the runner hands it
to :meth:`Recorder.record`. What a report says about its pool is reduced
to plain figures first (:func:`pool_figures`, a pure function); the
recorder keeps the latest figures of each pool and counts what happened
(relocations, skips, passes) in counters and histograms of its own
registry, never prometheus_client's global one.

The per-pool gauges are not set here: :mod:`.collector` reads the latest
figures when Prometheus scrapes, and only for the pools this worker owns
then, so that a pool that moved to another worker is reported by that one
alone.
"""

import dataclasses
import threading
import time
import typing as ty

from oslo_log import log as logging
import prometheus_client

from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import outcome

LOG = logging.getLogger(__name__)

#: The skip rule of an instance whose protected VM XenServer HA may still
#: be restarting: waiting, not stuck.
PENDING_RULE = 'ha-restart-pending'

# Pass kinds: what asked for the pass.
PERIODIC = 'periodic'
EVENT = 'event'

# Pass results.
OK = 'ok'
FAILED = 'failed'
UNREACHABLE = 'unreachable'
SKIPPED = 'skipped'

#: Seconds; a pass of a large pool after a failure takes a few seconds, a
#: pool that does not answer up to ``[xenapi] call_timeout``.
PASS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0,
                120.0, 300.0)
#: Seconds from a VM seen running on its new host to Nova updated.
RELOCATION_BUCKETS = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0,
                      120.0, 300.0, 600.0)


@dataclasses.dataclass(frozen=True)
class PoolFigures:
    """What the latest pass of a pool said about it, as plain numbers.

    Figures the pass could not know (its pool did not answer) are None.
    """

    reachable: bool
    #: Whether XenServer HA can restart the pool's protected VMs; False
    #: when the pool did not answer.
    ready: bool
    ha_plan_exists_for: ty.Optional[int] = None
    hosts_live: ty.Optional[int] = None
    hosts: ty.Optional[int] = None
    #: Instances the pass found out of step with the pool (every instance
    #: that got an action, skipped and pending ones included), as
    #: ``nova-ha-manage status`` counts them.
    out_of_sync: ty.Optional[int] = None
    #: Instances left alone because the views were uncertain.
    skipped: ty.Optional[int] = None
    #: Instances whose protected VM XenServer HA may still restart.
    pending: ty.Optional[int] = None
    #: Consecutive passes that found instances out of sync, pending ones
    #: aside: 1 after a failover that the pass fixed, more when Nova did
    #: not catch up.
    out_of_sync_passes: int = 0
    #: When the pass ended (seconds since the epoch).
    passed_at: float = 0.0


def _instances(report, predicate):
    return {r.action.instance_uuid for r in report.results
            if predicate(r.action)}


def pool_figures(report, allow_two_host_pools=False, previous=None,
                 passed_at=0.0):
    """The figures of a pool after the pass ``report`` (pure).

    :param previous: the pool's figures before this pass, for the count of
        consecutive passes out of sync; None for the first pass.
    :returns: a :class:`PoolFigures`, or ``previous`` when the pass was
        skipped because another worker had the pool: it saw nothing.
    """
    if report.skipped is not None:
        return previous
    streak = previous.out_of_sync_passes if previous is not None else 0
    if not report.reachable or report.snapshot is None:
        return PoolFigures(reachable=False, ready=False,
                           out_of_sync_passes=streak, passed_at=passed_at)
    ha = report.snapshot.ha
    pending = _instances(report, lambda a: (a.kind == decide.SKIP and
                                            a.rule == PENDING_RULE))
    skipped = _instances(report, lambda a: (a.kind == decide.SKIP and
                                            a.rule != PENDING_RULE))
    out_of_sync = report.out_of_sync
    streak = streak + 1 if out_of_sync - len(pending) > 0 else 0
    return PoolFigures(
        reachable=True,
        ready=ha.readiness(allow_two_host_pools=allow_two_host_pools).ready,
        ha_plan_exists_for=ha.ha_plan_exists_for,
        hosts_live=sum(1 for h in ha.hosts if h.live),
        hosts=len(ha.hosts),
        out_of_sync=out_of_sync,
        skipped=len(skipped),
        pending=len(pending),
        out_of_sync_passes=streak,
        passed_at=passed_at)


def pass_result(report):
    """``ok``, ``failed``, ``unreachable`` or ``skipped``."""
    if report.skipped is not None:
        return SKIPPED
    if not report.reachable:
        return UNREACHABLE
    return FAILED if report.failed else OK


class Recorder:
    """Counts what the passes did, and keeps each pool's latest figures.

    :param registry: the ``prometheus_client.CollectorRegistry`` to
        register on (the project's, not the library's global one).
    :param allow_two_host_pools: ``[xenapi] allow_two_host_pools``, for the
        readiness verdict.
    :param clock: the monotonic clock of the snapshots' ``read_at``.
    :param wall_clock: seconds since the epoch, for the last pass's time.
    """

    def __init__(self, registry, allow_two_host_pools=False,
                 clock=time.monotonic, wall_clock=time.time):
        self._allow_two = allow_two_host_pools
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._figures = {}
        #: pool -> {instance uuid: when a pass first saw its VM running
        #: elsewhere}, for relocations that did not apply at once.
        self._first_seen = {}
        self.relocations = prometheus_client.Counter(
            'nova_ha_relocations', 'Instances whose host, node and '
            'allocations the reconciler moved to where XenServer runs '
            'their VM, by result (applied, failed).',
            ('pool', 'result'), registry=registry)
        self.skips = prometheus_client.Counter(
            'nova_ha_skips', 'Instances a pass left alone, by decision '
            'table rule (doc/decision-table.md); once per pass.',
            ('pool', 'rule'), registry=registry)
        self.ha_messages = prometheus_client.Counter(
            'nova_ha_xenserver_ha_messages', 'XenServer HA messages '
            '(HA_HOST_FAILED, HA_POOL_OVERCOMMITTED, ...) received from '
            'a pool, by message name.',
            ('pool', 'name'), registry=registry)
        self.passes = prometheus_client.Counter(
            'nova_ha_passes', 'Passes over a pool, by kind (periodic, '
            'event) and result (ok, failed, unreachable, skipped).',
            ('pool', 'kind', 'result'), registry=registry)
        self.pass_seconds = prometheus_client.Histogram(
            'nova_ha_pass_duration_seconds', 'Wall time of a pass over a '
            'pool, by kind.', ('kind',), buckets=PASS_BUCKETS,
            registry=registry)
        self.relocation_seconds = prometheus_client.Histogram(
            'nova_ha_relocation_latency_seconds', 'Seconds from the pool '
            'read (or event) that first showed a VM running on its new '
            'host to the end of the pass that moved its instance there '
            'in Nova.', buckets=RELOCATION_BUCKETS, registry=registry)

    def record(self, report, kind=PERIODIC):
        """Take in one pass's report. Never raises: metrics must not stop
        the reconciler.
        """
        try:
            self._record(report, kind)
        except Exception:
            LOG.exception("Could not record the metrics of a pass over "
                          "pool %s", report.pool)

    def _record(self, report, kind):
        now = self._clock()
        pool = report.pool
        result = pass_result(report)
        self.passes.labels(pool, kind, result).inc()
        if result != SKIPPED:
            self.pass_seconds.labels(kind).observe(report.seconds)
        for relocation_result in (outcome.APPLIED, outcome.FAILED):
            # Zero from the first pass on, so that rate() sees the first.
            self.relocations.labels(pool, relocation_result)
        with self._lock:
            figures = pool_figures(report, self._allow_two,
                                   self._figures.get(pool),
                                   self._wall_clock())
            if figures is not None:
                self._figures[pool] = figures
            if report.snapshot is None or report.dry_run:
                return
            first_seen = self._first_seen.setdefault(pool, {})
            latencies = self._relocated(report, first_seen, now)
        for seconds in latencies:
            self.relocation_seconds.observe(seconds)

    def _relocated(self, report, first_seen, now):
        """Count relocations and skips; the latencies of the applied."""
        latencies = []
        relocating = set()
        read_at = report.snapshot.read_at
        for r in report.results:
            action = r.action
            if action.kind == decide.SKIP:
                self.skips.labels(report.pool, action.rule).inc()
            if action.kind != decide.RELOCATE:
                continue
            if r.status not in (outcome.APPLIED, outcome.FAILED):
                continue
            self.relocations.labels(report.pool, r.status).inc()
            seen = first_seen.get(action.instance_uuid, read_at)
            if r.status == outcome.FAILED:
                first_seen[action.instance_uuid] = seen
                relocating.add(action.instance_uuid)
            elif seen:
                latencies.append(max(0.0, now - seen))
        for uuid in set(first_seen) - relocating:
            del first_seen[uuid]
        return latencies

    def ha_message(self, pool, name):
        """Count one XenServer HA message of ``pool``. Never raises."""
        try:
            self.ha_messages.labels(pool, name).inc()
        except Exception:
            LOG.exception("Could not count HA message %r of pool %s", name,
                          pool)

    def figures(self):
        """``{pool: PoolFigures}`` of every pool passed here."""
        with self._lock:
            return dict(self._figures)
