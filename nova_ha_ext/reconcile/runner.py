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

"""The loop that decides when to pass which pool: periodic and on events.

:class:`ReconcilerRunner` runs a full pass over every pool it owns each
``[ha_reconciler] interval`` seconds and, with ``watch_events``, one
:class:`~nova_ha_ext.reconcile.watcher.PoolWatcher` per owned pool whose
changes queue a pass of that pool right away. The passes run on a bounded
pool of threads (``[ha_reconciler] parallel_passes``), one pass per pool
at a time: a pool that answers slowly, or not at all, holds one thread
until ``[xenapi] call_timeout``, and the other pools' passes go on.
``nova-ha-reconciler`` wraps it in an oslo.service service; tests and the
demo run it in-process.

Which pools a worker owns is the
:class:`~nova_ha_ext.reconcile.coordination.PoolCoordinator`'s answer:
every pool without ``[coordination] backend_url``, a share of them with it.
When the workers change, the coordinator calls back and the runner starts a
full pass at once: it takes up the pools it gained (and watches them) and
drops the watchers of the pools it lost.
"""

from concurrent import futures
import functools
import threading
import time

from oslo_log import log as logging

from nova_ha_ext.notifications import notifier as ha_notifier
from nova_ha_ext.notifications import passes
from nova_ha_ext.notifications import xenserver
from nova_ha_ext.reconcile import coordination
from nova_ha_ext.reconcile import engine
from nova_ha_ext.reconcile import watcher

LOG = logging.getLogger(__name__)

#: The oldest a watcher's snapshot may be for a pass to use it instead of
#: reading the pool: about what a read of a large pool takes itself.
SNAPSHOT_MAX_AGE = 1.0


class ReconcilerRunner:
    """Periodic and event-driven passes over every pool.

    :param conf: the ``ConfigOpts`` with ``[xenapi]`` and ``[ha_reconciler]``.
    :param context_factory: returns an admin ``RequestContext``.
    :param on_report: optional ``on_report(PassReport)``, called after each
        pass (for tests, the demo and metrics).
    :param coordinator: a ``PoolCoordinator`` (not started) whose
        ``on_change`` calls :meth:`members_changed`; one from ``conf`` when
        None.
    :param recorder: optional, ``recorder.record(PassReport, kind)`` after
        each pass, ``kind`` ``periodic`` or ``event`` (see
        :mod:`nova_ha_ext.metrics.recorder`).
    :param notifier: the :class:`~nova_ha_ext.notifications.notifier.
        HANotifier` of the passes and XenServer's alerts; one from ``conf``
        when None.
    """

    def __init__(self, conf, context_factory, reconciler=None,
                 on_report=None, coordinator=None, recorder=None,
                 notifier=None):
        self._conf = conf
        self._context_factory = context_factory
        self.coordinator = coordinator or coordination.PoolCoordinator(
            conf, on_change=self.members_changed)
        self.notifier = notifier or ha_notifier.HANotifier(conf)
        self.reconciler = reconciler or engine.Reconciler(
            conf, coordinator=self.coordinator,
            notifier=passes.PassNotifier(
                self.notifier, conf.xenapi.allow_two_host_pools))
        self.xenserver_messages = xenserver.XenServerMessages(
            self.notifier, conf.ha_reconciler.xenserver_message_max_age)
        self._on_report = on_report
        self._recorder = recorder
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._queued = set()
        self._snapshots = {}
        self._rebalance = False
        self._owned = None
        self._watchers = {}
        self._thread = None
        self._executor = None
        self._passes = set()
        #: pool -> whether the pass to run once its current one ends is a
        #: full one (a fresh read)
        self._again = {}
        self._retry_full_at = None
        #: pool name -> the last PassReport
        self.last_reports = {}

    def start(self):
        """Join the workers, then start passing.

        :raises coordination.WorkerAlreadyRunning: without a coordination
            backend, another worker runs on this host.
        :raises coordination.CoordinationError: the backend URL is unusable.
        """
        self.coordinator.start(wait=True)
        self._executor = futures.ThreadPoolExecutor(
            max_workers=self._conf.ha_reconciler.parallel_passes,
            thread_name_prefix='ha-pass')
        self._thread = threading.Thread(target=self._run,
                                        name='ha-reconciler', daemon=True)
        self._thread.start()

    def stop(self, timeout=10.0):
        """Stop watching and passing; the pass under way finishes."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        # Tell every watcher first, then wait for them together: each one
        # ends when its long poll returns, up to event_timeout later.
        watchers = list(self._watchers.values())
        for w in watchers:
            w.stop(0)
        deadline = time.monotonic() + timeout
        for w in watchers:
            w.stop(max(0.0, deadline - time.monotonic()))
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._executor is not None:
            with self._wake:
                running = list(self._passes)
            futures.wait(running, max(0.0, deadline - time.monotonic()))
            self._executor.shutdown(wait=False, cancel_futures=True)
        self.reconciler.close()
        self.notifier.close(max(0.0, deadline - time.monotonic()))
        # Last: leaving the group hands this worker's pools to the others
        # at once, and no pass of ours is under way any more.
        self.coordinator.stop()

    def trigger(self, pool, snapshot=None):
        """Queue a pass of ``pool`` (called from watcher threads).

        :param snapshot: the pool as its watcher's events describe it; the
            pass uses it instead of reading the pool if it is still fresh
            (:data:`SNAPSHOT_MAX_AGE`) when the pass starts.
        """
        with self._wake:
            self._queued.add(pool)
            if snapshot is not None:
                self._snapshots[pool] = snapshot
            else:
                self._snapshots.pop(pool, None)
            self._wake.notify_all()

    def watcher(self, pool):
        """The :class:`~nova_ha_ext.reconcile.watcher.PoolWatcher` of
        ``pool``, or None when the pool is not watched (yet).
        """
        return self._watchers.get(pool)

    def members_changed(self, coordinator):
        """Workers came or went: the coordinator's ``on_change``, called
        from its heartbeat thread. The next full pass starts at once.
        """
        with self._wake:
            self._rebalance = True
            self._wake.notify_all()

    def _fresh_snapshot(self, pool):
        with self._wake:
            snapshot = self._snapshots.pop(pool, None)
        if (snapshot is not None and
                time.monotonic() - snapshot.read_at <= SNAPSHOT_MAX_AGE):
            return snapshot
        return None

    def _run(self):
        interval = self._conf.ha_reconciler.interval
        next_full = time.monotonic()
        while not self._stop.is_set():
            with self._wake:
                while (not self._stop.is_set() and not self._queued and
                       not self._rebalance and self._retry_full_at is None
                       and time.monotonic() < next_full):
                    self._wake.wait(max(0.0, next_full - time.monotonic()))
                queued, self._queued = self._queued, set()
                rebalance, self._rebalance = self._rebalance, False
            if self._stop.is_set():
                break
            context = self._context_factory()
            try:
                if rebalance or time.monotonic() >= next_full:
                    next_full = time.monotonic() + interval
                    self._full_pass(context)
                else:
                    for pool in sorted(queued):
                        if (pool in self.reconciler.targets and
                                self.coordinator.owns(pool)):
                            self._dispatch(context, pool, full=False)
            except Exception:
                # A bug or a database outage must not end the service.
                LOG.exception("Reconciliation pass failed; retrying at the "
                              "next trigger or period.")
            with self._wake:
                retry, self._retry_full_at = self._retry_full_at, None
            if retry is not None:
                # A pool's lock was still held by a worker that is handing
                # it over: try again shortly.
                next_full = min(next_full, retry)

    def _full_pass(self, context):
        """Start a pass of every owned pool, reading each afresh."""
        targets = self.reconciler.discover(context)
        self.coordinator.set_pools(t.name for t in targets)
        owned = [t for t in targets if self.coordinator.owns(t.name)]
        self._log_ownership(targets, owned)
        # At debug: says the loop is alive even with no pool to pass.
        LOG.debug("Full pass over %d of %d pools", len(owned), len(targets))
        if self._conf.ha_reconciler.watch_events:
            self._sync_watchers([t for t in owned if t.error is None])
        for target in owned:
            if self._stop.is_set():
                break
            self._dispatch(context, target.name, full=True)

    def _dispatch(self, context, pool, full):
        """Start a pass of ``pool`` on a pass thread.

        If one is under way, the new one runs when it ends: passes of one
        pool never overlap, nor queue up more than one behind another.
        """
        with self._wake:
            if pool in self._again or any(
                    f.pool == pool for f in self._passes):
                self._again[pool] = self._again.get(pool, False) or full
                return
            try:
                future = self._executor.submit(self._pass, context, pool,
                                               full)
            except RuntimeError:
                return  # stopping: the executor takes no more passes
            future.pool = pool
            self._passes.add(future)
        future.add_done_callback(self._pass_done)

    def _pass(self, context, pool, full):
        snapshot = None if full else self._fresh_snapshot(pool)
        report = self.reconciler.reconcile_pool(context, pool,
                                                snapshot=snapshot)
        self._report(report, 'periodic' if full else 'event')
        if report.skipped is not None and full:
            with self._wake:
                self._retry_full_at = time.monotonic() + max(
                    1.0, self.coordinator.heartbeat_interval)
                self._wake.notify_all()

    def _pass_done(self, future):
        if not future.cancelled() and future.exception() is not None:
            LOG.error("Pass over pool %s failed: %s", future.pool,
                      future.exception())
        with self._wake:
            self._passes.discard(future)
            full = self._again.pop(future.pool, None)
        if full is None or self._stop.is_set():
            return
        if full:
            self._dispatch(self._context_factory(), future.pool, True)
        else:
            with self._wake:
                self._queued.add(future.pool)
                self._wake.notify_all()

    def _log_ownership(self, targets, owned):
        names = tuple(t.name for t in owned)
        if names == self._owned:
            return
        self._owned = names
        if self.coordinator.coordinated:
            LOG.info("Worker %s reconciles %d of %d pools: %s",
                     self.coordinator.member_id, len(names), len(targets),
                     ', '.join(names) or 'none')

    def _report(self, report, kind):
        self.last_reports[report.pool] = report
        if self._recorder is not None:
            self._recorder.record(report, kind)
        if self._on_report is not None:
            self._on_report(report)

    def _sync_watchers(self, targets):
        wanted = {t.name: t for t in targets}
        for name in list(self._watchers):
            if name not in wanted:
                # Not waited for: it ends when its long poll returns, up to
                # event_timeout later, and its pool is no longer passed here.
                self._watchers.pop(name).stop(0)
        for name, target in wanted.items():
            if name in self._watchers:
                continue
            opts = self._conf.ha_reconciler
            w = watcher.PoolWatcher(
                name, functools.partial(self.reconciler.watch_client, target),
                self.trigger,
                event_timeout=opts.event_timeout,
                settle_seconds=opts.event_settle_seconds,
                max_backoff=opts.reconnect_max_backoff,
                on_events=self.xenserver_messages.observe)
            self._watchers[name] = w
            w.start()
