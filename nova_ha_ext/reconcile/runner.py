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

"""The reconciler's run loop: periodic full passes plus event-driven ones.

:class:`ReconcilerRunner` runs a full pass over every pool each
``[ha_reconciler] interval`` seconds and, with ``watch_events``, one
:class:`~nova_ha_ext.reconcile.watcher.PoolWatcher` per pool whose changes
queue a pass of that pool right away. One worker thread runs the passes,
so passes never overlap. ``nova-ha-reconciler`` wraps it in an oslo.service
service; tests and the demo run it in-process.
"""

import threading
import time

from oslo_log import log as logging

from nova_ha_ext.reconcile import engine
from nova_ha_ext.reconcile import watcher
from nova_ha_ext.xenapi import client as xenapi_client

LOG = logging.getLogger(__name__)


class ReconcilerRunner:
    """Periodic and event-driven passes over every pool.

    :param conf: the ``ConfigOpts`` with ``[xenapi]`` and ``[ha_reconciler]``.
    :param context_factory: returns an admin ``RequestContext``.
    :param on_report: optional ``on_report(PassReport)``, called after each
        pass (for tests, the demo and metrics).
    """

    def __init__(self, conf, context_factory, reconciler=None,
                 on_report=None):
        self._conf = conf
        self._context_factory = context_factory
        self.reconciler = reconciler or engine.Reconciler(conf)
        self._on_report = on_report
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._queued = set()
        self._full_pass_due = True
        self._watchers = {}
        self._thread = None
        #: pool name -> the last PassReport
        self.last_reports = {}

    def start(self):
        self._thread = threading.Thread(target=self._run,
                                        name='ha-reconciler', daemon=True)
        self._thread.start()

    def stop(self, timeout=10.0):
        """Stop watching and passing; the pass under way finishes."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for w in list(self._watchers.values()):
            w.stop(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
        self.reconciler.close()

    def trigger(self, pool):
        """Queue a pass of ``pool`` (called from watcher threads)."""
        with self._wake:
            self._queued.add(pool)
            self._wake.notify_all()

    def _run(self):
        interval = self._conf.ha_reconciler.interval
        next_full = time.monotonic()
        while not self._stop.is_set():
            with self._wake:
                while (not self._stop.is_set() and not self._queued and
                       time.monotonic() < next_full):
                    self._wake.wait(max(0.0, next_full - time.monotonic()))
                queued, self._queued = self._queued, set()
            if self._stop.is_set():
                break
            context = self._context_factory()
            try:
                if time.monotonic() >= next_full:
                    next_full = time.monotonic() + interval
                    self._full_pass(context)
                else:
                    for pool in sorted(queued):
                        if pool in self.reconciler.targets:
                            self._report(self.reconciler.reconcile_pool(
                                context, pool))
            except Exception:
                # A bug or a database outage must not end the service.
                LOG.exception("Reconciliation pass failed; retrying at the "
                              "next trigger or period.")

    def _full_pass(self, context):
        targets = self.reconciler.discover(context)
        if self._conf.ha_reconciler.watch_events:
            self._sync_watchers(targets)
        for target in targets:
            if self._stop.is_set():
                return
            self._report(self.reconciler.reconcile_pool(context, target.name))

    def _report(self, report):
        self.last_reports[report.pool] = report
        if self._on_report is not None:
            self._on_report(report)

    def _sync_watchers(self, targets):
        wanted = {t.name: t for t in targets}
        for name in list(self._watchers):
            if name not in wanted:
                self._watchers.pop(name).stop()
        for name, target in wanted.items():
            if name in self._watchers:
                continue
            opts = self._conf.ha_reconciler
            w = watcher.PoolWatcher(
                name, self._watch_client_factory(target), self.trigger,
                event_timeout=opts.event_timeout,
                settle_seconds=opts.event_settle_seconds,
                max_backoff=opts.reconnect_max_backoff)
            self._watchers[name] = w
            w.start()

    def _watch_client_factory(self, target):
        def factory():
            # Long-polls need a read timeout longer than the poll.
            return xenapi_client.PoolClient.from_conf(
                self._conf, url=target.url, name=target.name,
                read_timeout=self._conf.ha_reconciler.event_timeout +
                self._conf.xenapi.connect_timeout)
        return factory
