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

"""The nova-compute service of a dead XenServer host: disabled while down.

When XenServer declares a host dead (``host_metrics.live`` false: HA fenced
it, or it stopped answering), Nova's scheduler still sees its nova-compute
service as up until the service misses its heartbeats, and may place new
instances there. The reconciler disables the service as ``openstack compute
service set --disable --disable-reason ...`` does (``HostAPI.
service_update``: the ``Service`` saved, then the compute service asked to
sync the ``COMPUTE_STATUS_DISABLED`` trait when it is up), with a
``disabled_reason`` that starts with :data:`REASON_PREFIX`, and enables it
again when the host is live, but only if the reason is still its own: an
operator's disable is never undone, and a service an operator enabled while
the host was down is not disabled again until the host has been live.

A compute service that manages several XenServer hosts is disabled only
when all of them are dead, and enabled when one is live.

:func:`plan` is pure; :class:`ServiceFollower` reads the services (one
query per cell) and writes.
"""

import dataclasses
import threading
import typing as ty

from oslo_log import log as logging
from oslo_utils import timeutils

from nova.compute import api as compute_api
from nova import context as nova_context
from nova import objects

from nova_ha_ext.reconcile import outcome

LOG = logging.getLogger(__name__)

#: Every ``disabled_reason`` written by the reconciler starts with this:
#: it is how a disable is known to be ours.
REASON_PREFIX = 'nova-ha-ext:'
BINARY = 'nova-compute'

DISABLE = 'disable-service'
ENABLE = 'enable-service'
#: A dead host's service an operator disabled (or enabled after we
#: disabled it): left alone.
KEEP = 'keep-service'


@dataclasses.dataclass(frozen=True)
class ServiceState:
    """A nova-compute service, as far as this module cares."""

    host: str
    disabled: bool
    disabled_reason: ty.Optional[str] = None

    @property
    def disabled_by_us(self):
        return self.disabled and (self.disabled_reason or '').startswith(
            REASON_PREFIX)


@dataclasses.dataclass(frozen=True)
class ServiceChange(outcome.Step):
    """What the pass does, or would do, with one compute service."""

    kind: str
    #: The nova-compute service host.
    host: str
    reason: str
    status: str = outcome.PLANNED

    def as_dict(self):
        return dataclasses.asdict(self)


def disabled_reason(pool, hostnames):
    """The ``disabled_reason`` the reconciler writes (under 255 chars)."""
    return ('%s XenServer host %s of pool %s is not live (since %s); '
            're-enabled by nova-ha-ext when it is'
            % (REASON_PREFIX, ', '.join(sorted(hostnames)), pool,
               timeutils.utcnow().replace(microsecond=0).isoformat() + 'Z')
            )[:255]


def compute_hosts(hosts, host_map):
    """Compute service host -> (its XenServer hostnames, any of them live).

    :param hosts: the pool's ``PoolHost`` values.
    :param host_map: their :class:`~.hostmap.HostMap`.
    """
    found = {}
    for host in hosts:
        node = host_map.node_for(host.ref)
        if node is None:
            continue
        names, live = found.get(node.host, ((), False))
        found[node.host] = (names + (host.hostname or host.uuid,),
                            live or host.live)
    return found


def plan(pool, hosts, host_map, services, handled):
    """What to do with the compute services of a pool's hosts (pure).

    :param pool: the pool's name, for the reason.
    :param services: compute service host -> :class:`ServiceState`.
    :param handled: compute service hosts already dealt with since their
        XenServer hosts died (disabled by us, or found disabled or
        re-enabled by an operator): not disabled again.
    :returns: a list of :class:`ServiceChange`, by host.
    """
    changes = []
    for host, (names, live) in sorted(compute_hosts(hosts,
                                                    host_map).items()):
        service = services.get(host)
        if service is None:
            continue
        if live:
            if service.disabled_by_us:
                changes.append(ServiceChange(
                    ENABLE, host, 'XenServer host %s is live again and the '
                    'service was disabled by nova-ha-ext'
                    % ', '.join(names)))
            continue
        if host in handled or service.disabled_by_us:
            continue
        if service.disabled:
            changes.append(ServiceChange(
                KEEP, host, 'XenServer host %s is not live; the service was '
                'already disabled by an operator (%s) and is left as it is'
                % (', '.join(names), service.disabled_reason or 'no reason')))
            continue
        changes.append(ServiceChange(
            DISABLE, host, disabled_reason(pool, names)))
    return changes


class ServiceFollower:
    """Keeps the compute services of a worker's pools in step with them."""

    def __init__(self):
        self._lock = threading.Lock()
        #: Pool -> compute service hosts handled since their hosts died.
        self._handled = {}

    def follow(self, context, pool, hosts, host_map, cells, dry_run=False,
               paused=None, guard=None):
        """Disable the services of dead hosts, re-enable ours when live.

        :param cells: cell uuid -> ``CellMapping``, where the nodes are.
        :param paused: the pool's ``Pause``: changes are reported as
            :data:`outcome.PAUSED` and not made.
        :param guard: called before each write; raises when this worker
            may no longer write for the pool.
        :returns: the :class:`ServiceChange` values, with their status.
        """
        found = self._read(context, hosts, host_map, cells)
        services = {host: ServiceState(host, service.disabled,
                                       service.disabled_reason)
                    for host, (service, _) in found.items()}
        with self._lock:
            handled = set(self._handled.get(pool, ()))
        live = {h for h, (_, up) in compute_hosts(hosts, host_map).items()
                if up}
        handled -= live
        done = []
        for change in plan(pool, hosts, host_map, services, handled):
            if change.kind == KEEP:
                handled.add(change.host)
                LOG.info('Pool %s: compute service %s: %s.', pool,
                         change.host, change.reason)
                done.append(change.with_status(outcome.REPORTED))
                continue
            if dry_run:
                done.append(change.with_status(outcome.DRY_RUN))
                continue
            if paused is not None:
                done.append(change.with_status(outcome.PAUSED))
                continue
            service, cell_uuid = found[change.host]
            done.append(self._apply(context, pool, change, service,
                                    cells[cell_uuid], guard))
            if change.kind == DISABLE and done[-1].status == outcome.APPLIED:
                handled.add(change.host)
        if not dry_run:
            with self._lock:
                self._handled[pool] = handled
        return done

    @staticmethod
    def _read(context, hosts, host_map, cells):
        """The compute services of the pool's hosts: one query per cell.

        :returns: compute service host -> (``objects.Service``, cell uuid).
        """
        wanted = {}
        for host in hosts:
            node = host_map.node_for(host.ref)
            if node is not None and node.cell_uuid in cells:
                wanted.setdefault(node.cell_uuid, set()).add(node.host)
        found = {}
        for cell_uuid, names in wanted.items():
            with nova_context.target_cell(context,
                                          cells[cell_uuid]) as cctxt:
                for service in objects.ServiceList.get_by_binary(
                        cctxt, BINARY, include_disabled=True):
                    if service.host in names:
                        found[service.host] = (service, cell_uuid)
        return found

    @staticmethod
    def _apply(context, pool, change, service, cell, guard):
        try:
            if guard is not None:
                guard()
            with nova_context.target_cell(context, cell) as cctxt:
                if change.kind == DISABLE:
                    service.disabled = True
                    service.disabled_reason = change.reason
                else:
                    service.disabled = False
                    service.disabled_reason = None
                # The code path of the os-services API (microversion 2.53).
                compute_api.HostAPI().service_update(cctxt, service)
        except Exception as exc:
            LOG.warning('Pool %s: could not %s %s: %s', pool,
                        change.kind.replace('-service', ''), change.host, exc)
            return change.with_status(outcome.FAILED, '%s; not done: %s'
                                      % (change.reason, exc))
        LOG.warning('Pool %s: %s compute service %s: %s', pool,
                    'disabled' if change.kind == DISABLE else 'enabled',
                    change.host, change.reason)
        return change.with_status(outcome.APPLIED)
