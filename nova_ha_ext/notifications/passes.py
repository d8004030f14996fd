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

"""What a reconciler pass announces, and when.

:class:`PassNotifier` is called by the engine around the writes of a pass
that decided (:meth:`~PassNotifier.relocating` before,
:meth:`~PassNotifier.pass_done` after); dry runs announce nothing.

* ``ha_instance.relocate.start`` before the writes of each relocation,
  then ``.end`` when it was applied (with the ports and volumes that
  followed) or ``.error`` when it was not (with why).
* ``ha_pool.readiness.update`` when the pool's readiness or its reasons
  differ from what this worker last announced.
* ``ha_instance.restart_failed`` and ``ha_instance.missing`` when a pass
  first finds them; again only after a pass found the instance fine.
* ``ha_pool.host.fenced`` when a pass first finds a host of an HA pool
  not live (XenServer declared it dead); again only after it was live.

What was announced is remembered per worker, in memory, by pool uuid: a
worker that starts, or takes a pool over from another worker, announces
the pool's readiness, its failed restarts, missing instances and dead hosts
once, as it finds them, whether or not another worker already did.
"""

import functools
import threading

from oslo_log import log as logging

from nova_ha_ext.notifications import objects
from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import outcome

LOG = logging.getLogger(__name__)

RELOCATE_START = 'ha_instance.relocate.start'
RELOCATE_END = 'ha_instance.relocate.end'
RELOCATE_ERROR = 'ha_instance.relocate.error'
READINESS_UPDATE = 'ha_pool.readiness.update'
RESTART_FAILED = 'ha_instance.restart_failed'
MISSING = 'ha_instance.missing'
HOST_FENCED = 'ha_pool.host.fenced'

#: Action kinds announced when first seen, and their event types.
_PROBLEMS = {decide.HA_RESTART_FAILED: RESTART_FAILED,
             decide.MISSING: MISSING}


def _never_raises(method):
    """Announcing is never a reason for a pass to fail."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception:
            LOG.exception("Could not announce what a pass did (%s)",
                          method.__name__)
    return wrapper


def pool_payload(ha, aggregate):
    """The pool of a ``PoolHAState``, as payloads name it."""
    return objects.HAPoolPayload(uuid=ha.uuid, name=ha.name_label or ha.uuid,
                                 aggregate=aggregate)


class PassNotifier:
    """Announce what passes did and saw.

    :param notifier: an :class:`~.notifier.HANotifier`.
    :param allow_two_host_pools: ``[xenapi] allow_two_host_pools``, which
        readiness depends on.
    """

    def __init__(self, notifier, allow_two_host_pools=False):
        self.notifier = notifier
        self._allow_two = allow_two_host_pools
        self._lock = threading.Lock()
        #: pool uuid -> (ready, reasons) last announced
        self._readiness = {}
        #: pool uuid -> {(action kind, instance uuid)} announced
        self._problems = {}
        #: pool uuid -> {host uuid} announced dead
        self._fenced = {}

    @property
    def enabled(self):
        return self.notifier.enabled

    @_never_raises
    def relocating(self, context, aggregate, snapshot, actions):
        """``relocate.start`` for each relocation about to be written."""
        if not self.enabled:
            return
        pool = pool_payload(snapshot.ha, aggregate)
        binds = {a.instance_uuid: a for a in actions
                 if a.kind == decide.BIND}
        for action in actions:
            if action.kind == decide.RELOCATE:
                bind = binds.get(action.instance_uuid)
                self.notifier.emit(context, RELOCATE_START, _relocation(
                    pool, action,
                    ports=[p.port_id for p in bind.ports] if bind else [],
                    volumes=[v.volume_id for v in bind.volumes]
                    if bind else []))

    @_never_raises
    def pass_done(self, context, aggregate, report, instances=()):
        """Announce what a pass that decided did and found.

        :param report: its :class:`~nova_ha_ext.reconcile.engine.
            PassReport`.
        :param instances: the pass's ``NovaInstance`` values (where Nova
            has the instances the announcements name).
        """
        if not self.enabled or report.dry_run or report.snapshot is None:
            return
        ha = report.snapshot.ha
        pool = pool_payload(ha, aggregate)
        if getattr(report, 'paused', None) is None:
            # A paused pool's pass writes nothing: no relocation began.
            self._relocations(context, pool, report.results)
        self._readiness_changed(context, pool, ha)
        self._first_problems(context, pool, report,
                             {i.uuid: i for i in instances})
        self._dead_hosts(context, pool, ha)

    def _relocations(self, context, pool, results):
        binds = {r.action.instance_uuid: r for r in results
                 if r.action.kind == decide.BIND}
        for result in results:
            action = result.action
            if action.kind != decide.RELOCATE:
                continue
            if result.status != outcome.APPLIED:
                self.notifier.emit(context, RELOCATE_ERROR, _relocation(
                    pool, action, fault=result.detail))
                continue
            bind = binds.get(action.instance_uuid)
            followed = bind is None or bind.status == outcome.APPLIED
            self.notifier.emit(context, RELOCATE_END, _relocation(
                pool, action,
                ports=[p.port_id for p in bind.action.ports]
                if bind and followed else [],
                volumes=[v.volume_id for v in bind.action.volumes]
                if bind and followed else [],
                bindings_pending=None if followed else bind.detail))

    def _readiness_changed(self, context, pool, ha):
        readiness = ha.readiness(allow_two_host_pools=self._allow_two)
        now = (readiness.ready, tuple(readiness.reasons))
        with self._lock:
            if self._readiness.get(ha.uuid) == now:
                return
            self._readiness[ha.uuid] = now
        self.notifier.emit(context, READINESS_UPDATE,
                           objects.HAPoolReadinessPayload(
                               pool=pool, ready=readiness.ready,
                               reasons=list(readiness.reasons)))

    def _first_problems(self, context, pool, report, instances):
        found = {(r.action.kind, r.action.instance_uuid): r.action
                 for r in report.results if r.action.kind in _PROBLEMS}
        with self._lock:
            known = self._problems.get(pool.uuid, set())
            self._problems[pool.uuid] = set(found)
        new = sorted(set(found) - known)
        if not new:
            return
        vms = {vm.ref: vm.uuid for vm in report.snapshot.vms}
        for key in new:
            action = found[key]
            instance = instances.get(action.instance_uuid)
            self.notifier.emit(context, _PROBLEMS[action.kind],
                               objects.HAInstancePayload(
                                   instance_uuid=action.instance_uuid,
                                   pool=pool,
                                   host=getattr(instance, 'host', '') or '',
                                   node=getattr(instance, 'node', '') or '',
                                   vm_uuid=vms.get(action.vm_ref),
                                   reason=action.reason, rule=action.rule))

    def _dead_hosts(self, context, pool, ha):
        dead = {h.uuid: h for h in ha.hosts
                if ha.ha_enabled and not h.live}
        with self._lock:
            known = self._fenced.get(ha.uuid, set())
            self._fenced[ha.uuid] = set(dead)
        for uuid in sorted(set(dead) - known):
            host = dead[uuid]
            self.notifier.emit(context, HOST_FENCED,
                               objects.HAPoolHostPayload(
                                   pool=pool, uuid=host.uuid,
                                   hostname=host.hostname,
                                   name_label=host.name_label,
                                   address=host.address))


def _relocation(pool, action, ports=(), volumes=(), bindings_pending=None,
                fault=None):
    source, target = action.source, action.target
    return objects.HAInstanceRelocatePayload(
        instance_uuid=action.instance_uuid, pool=pool, reason=action.reason,
        rule=action.rule, old_host=source.host, old_node=source.nodename,
        new_host=target.host, new_node=target.nodename,
        allocations_from=action.allocations_from or source.uuid,
        allocations_to=target.uuid, ports=list(ports), volumes=list(volumes),
        bindings_pending=bindings_pending, fault=fault)
