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

"""Watch a pool with XenAPI ``event.from`` and ask for a pass on change.

One :class:`PoolWatcher` thread per pool long-polls ``event.from`` on a
client of its own. When a VM changes host or power state, or a host's
liveness changes, it waits a moment for related events (one host failure
restarts many VMs), takes in what arrived meanwhile, and calls
``on_change(pool, snapshot)``. After an outage it reconnects with
exponential backoff and asks for a pass, since events may have been missed
meanwhile. When its session dies with its token (a master failover: xapi
keeps neither sessions nor tokens across it) it starts again at once: a
new session, a full read, a new token, and a pass.

The events carry the records that changed, so the watcher keeps the pool's
records current (:class:`~nova_ha_ext.xenapi.records.PoolRecordCache`) and
hands the pass a snapshot built from them: an event-driven pass need not
read the pool again.
"""

import threading

from oslo_log import log as logging

from nova_ha_ext.xenapi import exceptions as xenapi_exc
from nova_ha_ext.xenapi import ha_messages
from nova_ha_ext.xenapi import records

LOG = logging.getLogger(__name__)

#: What the watcher subscribes to: what a pool snapshot is built from.
EVENT_CLASSES = records.PoolRecordCache.CLASSES

# Non-blocking event.from calls that drain the backlog before a pass: a
# bound, so that a pool whose VMs never stop changing still gets passes.
_MAX_DRAINS = 5


class PoolWatcher:
    """Long-poll one pool's events in a thread; call back on changes.

    :param name: the pool's name, passed to the callbacks.
    :param client_factory: returns a new ``PoolClient`` for this pool; the
        watcher owns it (its long-polls would block a shared client).
    :param on_change: ``on_change(name, snapshot)``, called in the
        watcher's thread; ``snapshot`` is the pool's
        :class:`~nova_ha_ext.xenapi.pool_state.PoolSnapshot` as the events
        describe it, or None when they do not (yet) make up a pool.
    :param on_error: ``on_error(name, exc)`` when the pool stops answering.
    :param on_events: ``on_events(name, events, seeding)`` with every
        batch of events, ``seeding`` when it answers an empty token; the
        watcher then subscribes to the pool's ``message`` objects too.
    """

    def __init__(self, name, client_factory, on_change, on_error=None,
                 event_timeout=30.0, settle_seconds=0.2, max_backoff=60.0,
                 on_events=None):
        self.name = name
        self._on_events = on_events
        self._classes = EVENT_CLASSES + (
            (ha_messages.EVENT_CLASS,) if on_events is not None else ())
        self._client_factory = client_factory
        self._on_change = on_change
        self._on_error = on_error
        self._event_timeout = event_timeout
        self._settle = settle_seconds
        self._max_backoff = max_backoff
        self._stop = threading.Event()
        #: Set while the watcher holds a baseline of the pool (its first
        #: ``event.from`` answer): from then on a change triggers a pass.
        #: For whoever must know that a change will be seen (tests, the
        #: demo); cleared when the watcher starts again from scratch.
        self.seeded = threading.Event()
        self._thread = None
        self._cache = records.PoolRecordCache()

    def start(self):
        self._thread = threading.Thread(
            target=self._run, name='pool-watcher-%s' % self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout=None):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self):
        return self._thread is not None and self._thread.is_alive()

    def _drain(self, client, token):
        """Take in what arrived during the settle wait, without waiting.

        Those events are part of the change the pass about to run will
        read; left for the next long-poll, they would ask for a second,
        redundant pass. Returns the new token.
        """
        for _attempt in range(_MAX_DRAINS):
            result = client.event_from(self._classes, token, 0.0)
            token = result['token']
            events = result.get('events', ())
            self._cache.apply(events)
            self._observe(events, seeding=False)
            if not events:
                break
        return token

    def _observe(self, events, seeding):
        """Hand a batch to ``on_events``; its trouble is not the watcher's."""
        if self._on_events is None or not events:
            return
        try:
            self._on_events(self.name, events, seeding)
        except Exception:
            LOG.exception("Pool %s: the events could not be handed on.",
                          self.name)

    def _snapshot(self):
        """The pool as the events describe it; None to have the pass read
        it (no pool record yet, or a record the events carried is bad).
        """
        try:
            return self._cache.snapshot()
        except records.NoPoolRecord:
            return None
        except records.BadRecord as exc:
            LOG.warning("Pool %s: an event carried a bad record (%s); the "
                        "pass reads the pool itself.", self.name, exc)
            return None

    def _run(self):
        backoff = 1.0
        client = None
        token = ''
        seeded = False
        resync = False
        while not self._stop.is_set():
            wait = 0.0
            try:
                if client is None:
                    client = self._client_factory()
                result = client.event_from(self._classes, token,
                                           self._event_timeout)
                token = result['token']
                events = result.get('events', ())
                # A pass is worth it when a VM changed host, power state
                # or protection, or a host its liveness.
                changed = bool(self._cache.apply(events))
                self._observe(events, seeding=not seeded)
                if not seeded:
                    # The first answer lists every object: a baseline. After
                    # an outage, events may have been lost: ask for a pass.
                    seeded = True
                    self.seeded.set()
                    changed = resync
                    resync = False
                backoff = 1.0
                if changed and not self._stop.is_set():
                    if self._settle:
                        self._stop.wait(self._settle)
                    token = self._drain(client, token)
                    self._on_change(self.name, self._snapshot())
            except xenapi_exc.EventTokenLost as exc:
                # The client is logged in to the (new) master: only the
                # token and what it stood for are lost.
                LOG.info("Pool %s: %s; reading the pool again.", self.name,
                         exc)
                token = ''
                seeded = False
                self.seeded.clear()
                resync = True
                self._cache.clear()
                continue
            except xenapi_exc.PoolError as exc:
                if backoff == 1.0:
                    LOG.warning("Pool %s: event watching stopped: %s; "
                                "retrying with backoff up to %.0f s.",
                                self.name, exc, self._max_backoff)
                if self._on_error is not None:
                    self._on_error(self.name, exc)
                resync = True
                wait = backoff
            except Exception:
                LOG.exception("Pool %s: unexpected error in the event "
                              "watcher; restarting it.", self.name)
                resync = True
                wait = backoff
            else:
                continue
            # Start again from a new session and a new baseline.
            if client is not None:
                client.close()
            client = None
            token = ''
            seeded = False
            self.seeded.clear()
            self._cache.clear()
            if wait:
                self._stop.wait(wait)
                backoff = min(backoff * 2, self._max_backoff)
        if client is not None:
            client.close()
