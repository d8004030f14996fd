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

"""One pass over a pool: read both views, decide, apply, report (no loop).

:class:`Reconciler` owns one XenAPI client and one lock per pool. A pass of
a pool costs four XenAPI calls (five when anti-affinity server groups have
members there, see :mod:`.affinity`) and a constant number of DB queries
(plus a constant per relocated instance); passes of one pool never overlap,
whether the periodic task or the event watcher asked for them. A pool that
does not answer, answers nonsense, or whose aggregate's URL cannot be used
is reported with the reason, and the other pools go on.

With a :class:`~nova_ha_ext.reconcile.coordination.PoolCoordinator`, every
pass that writes holds the pool's lock in the coordination backend: a pool
changing hands between workers is never acted on by two at once. A pool
whose lock another worker holds is reported skipped.
"""

import dataclasses
import threading
import time
import typing as ty

from oslo_log import log as logging

from nova_ha_ext.reconcile import affinity
from nova_ha_ext.reconcile import apply
from nova_ha_ext.reconcile import coordination
from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import discovery
from nova_ha_ext.reconcile import hostmap
from nova_ha_ext.reconcile import nova_view
from nova_ha_ext.reconcile import outcome
from nova_ha_ext.reconcile import pause
from nova_ha_ext.reconcile import placement
from nova_ha_ext.reconcile import ports
from nova_ha_ext.reconcile import services
from nova_ha_ext.xenapi import client as xenapi_client
from nova_ha_ext.xenapi import exceptions as xenapi_exc

LOG = logging.getLogger(__name__)

#: The coordination lock of a pool by its own uuid, whatever aggregate
#: describes it.
POOL_UUID_LOCK = 'uuid-%s'


def _label(ha):
    return ha.name_label or ha.uuid


class UnknownPool(LookupError):
    """Pools were asked for by names that no aggregate has."""


@dataclasses.dataclass(frozen=True)
class PassReport:
    """What one pass over one pool saw and did."""

    pool: str
    url: str
    #: None when the pool answered; else why it could not be reconciled.
    error: ty.Optional[str] = None
    #: The pool as read (a ``PoolSnapshot``), when it answered.
    snapshot: ty.Any = None
    results: ty.Tuple[apply.Result, ...] = ()
    seconds: float = 0.0
    dry_run: bool = False
    #: Why another worker's pool was not reconciled here (see
    #: :mod:`.coordination`); None when it was.
    skipped: ty.Optional[str] = None
    #: What went wrong in the pass outside any one instance's actions
    #: (e.g. Neutron could not be read), in the operator's words.
    problems: ty.Tuple[str, ...] = ()
    #: The pool's :class:`~.pause.Pause` when it is paused: nothing was
    #: written for it, and the writes are reported as ``paused``.
    paused: ty.Any = None
    #: What became of the compute services of its hosts
    #: (:class:`~.services.ServiceChange`).
    services: ty.Tuple[ty.Any, ...] = ()
    #: Its anti-affinity server groups (:class:`~.affinity.
    #: AffinityReport`), when they could be read.
    anti_affinity: ty.Any = None

    @property
    def reachable(self):
        return self.error is None

    def count(self, status=None, kind=None):
        return sum(1 for r in self.results
                   if (status is None or r.status == status) and
                   (kind is None or r.action.kind == kind))

    @property
    def out_of_sync(self):
        """How many instances got an action: in-sync ones get none."""
        return len({r.action.instance_uuid for r in self.results})

    @property
    def failed(self):
        steps = self.anti_affinity.steps if self.anti_affinity else ()
        return (self.count(status=outcome.FAILED) + len(self.problems) +
                sum(1 for c in self.services
                    if c.status == outcome.FAILED) +
                sum(1 for s in steps if s.status == outcome.FAILED))


def _with_not_live_times(snapshot, since):
    """The snapshot with each dead host's time not live, as passes saw it.

    ``since`` maps host refs to when a pass first saw them not live, or is
    None before the pool's first pass: hosts already dead then died at an
    unknown time (``not_live_for`` stays None). Returns the snapshot and
    the updated mapping.
    """
    now = snapshot.read_at or time.monotonic()
    first_pass = since is None
    since = {} if first_pass else dict(since)
    hosts = []
    for host in snapshot.ha.hosts:
        if host.live:
            since.pop(host.ref, None)
            hosts.append(host)
            continue
        first = since.setdefault(host.ref, now)
        if not first_pass:
            host = dataclasses.replace(host, not_live_for=now - first)
        hosts.append(host)
    ha = dataclasses.replace(snapshot.ha, hosts=tuple(hosts))
    return dataclasses.replace(snapshot, ha=ha), since


class Reconciler:
    """Reconcile every pool that Nova's aggregates describe.

    :param conf: the ``ConfigOpts`` with ``[xenapi]`` and ``[ha_reconciler]``.
    :param client_factory: ``client_factory(target, long_poll=None)``
        returns a new ``PoolClient`` for a :class:`discovery.PoolTarget`;
        ``long_poll`` is None for the client the passes share, and for an
        event watcher's own client the seconds its ``event.from`` calls
        may wait, which its timeouts must exceed.
    :param coordinator: a started ``PoolCoordinator`` whose pool locks
        guard every pass that writes; none when None.
    :param binder: the :class:`~nova_ha_ext.reconcile.ports.PortBinder`
        reading and moving port bindings; one using Nova's Neutron API when
        None.
    :param mover: the :class:`~nova_ha_ext.reconcile.placement.
        AllocationMover` reading and moving allocations; one using Nova's
        report client when None.
    :param notifier: a :class:`~nova_ha_ext.notifications.passes.
        PassNotifier` announcing what passes do; none when None.
    """

    def __init__(self, conf, client_factory=None, coordinator=None,
                 binder=None, mover=None, notifier=None):
        self._conf = conf
        self.notifier = notifier
        self._coordinator = coordinator
        self._binder = binder or ports.PortBinder()
        self._mover_obj = mover
        self._client_factory = client_factory or self._default_client
        self._lock = threading.Lock()
        self._clients = {}
        self._pool_locks = {}
        self._targets = {}
        #: Pool uuid -> the aggregate (pool name) that reconciles it.
        self._pool_uuids = {}
        # Per pool, when a pass first saw each host not live (monotonic).
        self._not_live_since = {}
        self._services = services.ServiceFollower()
        self._affinity = affinity.AntiAffinity()

    @property
    def _mover(self):
        # Nova's report client reads [placement] when it is made: only
        # when a pass first needs placement.
        if self._mover_obj is None:
            self._mover_obj = placement.AllocationMover()
        return self._mover_obj

    def _default_client(self, target, long_poll=None):
        if long_poll is None:
            return xenapi_client.PoolClient.from_conf(
                self._conf, url=target.url, name=target.name)
        return xenapi_client.PoolClient.from_conf(
            self._conf, url=target.url, name=target.name,
            read_timeout=long_poll + self._conf.xenapi.connect_timeout,
            call_timeout=long_poll + self._conf.xenapi.call_timeout)

    def watch_client(self, target):
        """A new client for ``target``'s event watcher, which owns it.

        Its long polls would hold a shared client's lock, and need a read
        timeout and a deadline longer than the poll.
        """
        return self._client_factory(
            target, long_poll=self._conf.ha_reconciler.event_timeout)

    def discover(self, context):
        """Read the pools from Nova's aggregates; return their targets."""
        targets = discovery.discover_pools(context, self._conf)
        with self._lock:
            self._targets = {t.name: t for t in targets}
            for name in list(self._clients):
                old = self._clients[name]
                if name not in self._targets or old[0] != self._targets[
                        name].url:
                    old[1].close()
                    del self._clients[name]
        return targets

    @property
    def targets(self):
        with self._lock:
            return dict(self._targets)

    def client(self, name):
        """The shared client of a pool (created on first use)."""
        with self._lock:
            target = self._targets[name]
            entry = self._clients.get(name)
            if entry is None:
                entry = (target.url, self._client_factory(target))
                self._clients[name] = entry
            return entry[1]

    def _pool_lock(self, name):
        with self._lock:
            return self._pool_locks.setdefault(name, threading.Lock())

    def reconcile_pool(self, context, name, dry_run=False, snapshot=None):
        """One pass over one pool. Never raises for a pool's own trouble.

        :param snapshot: the pool as its event watcher last saw it; the pool
            is read when None.
        """
        target = self.targets[name]
        start = time.monotonic()
        if target.error is not None:
            return PassReport(pool=name, url=target.url, error=target.error,
                              dry_run=dry_run)
        with self._pool_lock(name):
            try:
                if self._coordinator is None or dry_run:
                    return self._pass(context, target, start, dry_run,
                                      snapshot)
                with self._coordinator.lock(name) as held:
                    return self._pass(context, target, start, dry_run,
                                      snapshot, held)
            except coordination.PoolUnavailable as exc:
                LOG.info("Pool %s not reconciled here: %s", name, exc)
                return PassReport(pool=name, url=target.url,
                                  skipped=str(exc),
                                  seconds=time.monotonic() - start)
            except Exception as exc:
                # A bug or an outage met in one pool's pass must not keep
                # the other pools from theirs.
                LOG.exception("Pass over pool %s failed", name)
                return PassReport(pool=name, url=target.url,
                                  error='the pass failed: %s: %s' % (
                                      type(exc).__name__, exc),
                                  seconds=time.monotonic() - start,
                                  dry_run=dry_run)

    def _pass(self, context, target, start, dry_run, snapshot, held=None):
        name = target.name
        full_read = snapshot is None
        try:
            client = self.client(name)
            if snapshot is None:
                snapshot = client.read_pool()
        except xenapi_exc.PoolError as exc:
            LOG.warning("Pool %s cannot be read: %s", name, exc)
            return PassReport(pool=name, url=target.url, error=str(exc),
                              seconds=time.monotonic() - start,
                              dry_run=dry_run)
        snapshot, self._not_live_since[name] = _with_not_live_times(
            snapshot, self._not_live_since.get(name))
        duplicate = self._claim(snapshot.ha, name)
        if duplicate is not None:
            LOG.warning("Pool %s not reconciled: %s", name, duplicate)
            return PassReport(pool=name, url=target.url, snapshot=snapshot,
                              seconds=time.monotonic() - start,
                              dry_run=dry_run, problems=(duplicate,))
        if held is None:
            return self._decide_and_apply(context, target, start, dry_run,
                                          snapshot, client, full_read)
        # Two aggregates may reach one pool through different URLs, and
        # two workers own them: the pool's own uuid keeps them apart.
        try:
            with self._coordinator.lock(POOL_UUID_LOCK % snapshot.ha.uuid,
                                        check_owner=False):
                return self._decide_and_apply(
                    context, target, start, dry_run, snapshot, client,
                    full_read, held)
        except coordination.PoolLocked:
            return PassReport(
                pool=name, url=target.url, snapshot=snapshot,
                seconds=time.monotonic() - start, dry_run=dry_run,
                problems=("pool %s (uuid %s) is being reconciled under "
                          "another aggregate that reaches it; two "
                          "aggregates must not describe one pool"
                          % (_label(snapshot.ha), snapshot.ha.uuid),))

    def _claim(self, ha, name):
        """Claim a pool, by its uuid, for the aggregate ``name``.

        :returns: None when the aggregate may reconcile the pool; else why
            not: another aggregate that still describes the pool claimed
            it first (the first in name order, in a full pass).
        """
        with self._lock:
            owner = self._pool_uuids.get(ha.uuid)
            if owner is None or owner == name or owner not in self._targets:
                self._pool_uuids[ha.uuid] = name
                return None
        return ("aggregate %s reaches the same XenServer pool as aggregate "
                "%s (pool %s, uuid %s), which reconciles it; remove %s "
                "from one of them"
                % (name, owner, _label(ha), ha.uuid,
                   self._conf.ha_reconciler.pool_url_metadata_key))

    def _decide_and_apply(self, context, target, start, dry_run, snapshot,
                          client, full_read, held=None):
        name = target.name
        # Only compute nodes of the aggregate's hosts may be the pool's.
        aggregate_hosts = frozenset(target.hosts)
        view = nova_view.read_nova_view(
            context, hostmap.nodenames(snapshot.ha.hosts),
            hosts=aggregate_hosts)
        host_map = hostmap.map_hosts(snapshot.ha.hosts, view.compute_nodes,
                                     aggregate=(name, aggregate_hosts))
        problems = []
        try:
            bindings = self._binder.read(
                context, [i.uuid for i in view.instances if i.has_ports])
        except ports.PortError as exc:
            # Relocations still follow the pool; the ports follow them
            # once Neutron answers (the bindings-pending row).
            LOG.warning("Pool %s: %s; port bindings are left as they are "
                        "in this pass.", name, exc)
            problems.append(str(exc))
            bindings = {}
        allocations = None
        if full_read:
            # Where placement has each instance, against the pool's compute
            # nodes: one read per node. Event-driven passes, which follow a
            # failover, leave this slow drift to the periodic ones.
            try:
                allocations = self._mover.consumers_on(
                    context, [node.uuid for node in host_map.nodes])
            except placement.AllocationMoveFailed as exc:
                LOG.warning("Pool %s: %s; allocations are not checked in "
                            "this pass.", name, exc)
                problems.append(str(exc))
        actions = decide.decide(view.instances, snapshot, host_map,
                                ports=bindings, allocations=allocations)
        if held is not None:
            # The pool may have moved to another worker while this one read
            # (a pause longer than the member timeout): then write nothing.
            held.ensure()
        guard = held.ensure if held is not None else None
        paused = pause.read(context, target.aggregate_id)
        if paused is None and not dry_run:
            guard = pause.guard(context, target, then=guard)
        if self.notifier is not None and not dry_run and paused is None:
            self.notifier.relocating(context, name, snapshot, actions)
        results = apply.apply_actions(
            context, actions, view.cells,
            set_protection=client.set_restart_policy, mover=self._mover,
            binder=self._binder, dry_run=dry_run, guard=guard, paused=paused)
        service_changes = ()
        if self._conf.ha_reconciler.manage_compute_service:
            service_changes = tuple(self._services.follow(
                context, name, snapshot.ha.hosts, host_map, view.cells,
                dry_run=dry_run, paused=paused, guard=guard))
        try:
            groups = self._affinity.check(context, name, snapshot, client,
                                          dry_run=dry_run, paused=paused,
                                          guard=guard)
        except Exception as exc:
            LOG.warning("Pool %s: anti-affinity server groups not checked: "
                        "%s", name, exc)
            problems.append('anti-affinity server groups not checked: %s'
                            % exc)
            groups = None
        report = PassReport(pool=name, url=target.url, snapshot=snapshot,
                            results=tuple(results),
                            seconds=time.monotonic() - start,
                            dry_run=dry_run, problems=tuple(problems),
                            paused=paused, services=service_changes,
                            anti_affinity=groups)
        if self.notifier is not None:
            self.notifier.pass_done(context, name, report, view.instances)
        applied = report.count(status=outcome.APPLIED)
        if applied or report.failed:
            LOG.info("Pool %s: %d change(s) applied, %d failed, in %.2f s",
                     name, applied, report.failed, report.seconds)
        held_back = report.count(status=outcome.PAUSED)
        if held_back:
            LOG.info("Pool %s is %s; %d change(s) held.", name,
                     paused.describe(), held_back)
        return report

    def reconcile(self, context, names=None, dry_run=False):
        """A pass over every pool (or those named), one after the other."""
        self.discover(context)
        wanted = sorted(self.targets) if names is None else list(names)
        unknown = [n for n in wanted if n not in self.targets]
        if unknown:
            raise UnknownPool(
                "no aggregate describes pool(s) %s; pools are aggregates "
                "with %s metadata: %s" % (
                    ', '.join(unknown),
                    self._conf.ha_reconciler.pool_url_metadata_key,
                    ', '.join(sorted(self.targets)) or 'none'))
        return [self.reconcile_pool(context, name, dry_run=dry_run)
                for name in wanted]

    def close(self):
        with self._lock:
            for _url, client in self._clients.values():
                client.close()
            self._clients.clear()
