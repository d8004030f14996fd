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

"""The one place where the reconciler talks to placement.

An instance XenServer restarted on another host keeps its resources; only
the provider changes. :class:`AllocationMover` moves an instance's
allocations from the source compute node's resource provider to the
target's in one ``PUT /allocations/{consumer}``: the same resources, the
same consumer, project and user, guarded by the consumer generation. If
placement refuses (not enough capacity, a concurrent change), nothing has
changed and the old allocations stay. Allocations are never deleted.
"""

import dataclasses
import typing as ty

from keystoneauth1 import exceptions as ks_exc
from oslo_log import log as logging

from nova import exception
from nova.scheduler.client import report

LOG = logging.getLogger(__name__)

#: Placement microversion with consumer generations.
CONSUMER_GENERATION_VERSION = report.CONSUMER_GENERATION_VERSION


class AllocationMoveFailed(Exception):
    """Placement did not move (or move back) a consumer's allocations."""


@dataclasses.dataclass(frozen=True)
class AllocationMove:
    """A move done by :meth:`AllocationMover.move`, enough to undo it."""

    consumer_uuid: str
    source_rp: str
    target_rp: str
    #: Whether placement was written; False when there was nothing to move.
    moved: bool
    #: What happened, in the operator's words.
    detail: str
    #: The allocations before the move: {provider uuid: {resource: amount}}.
    previous: ty.Mapping[str, ty.Mapping[str, int]] = dataclasses.field(
        default_factory=dict)
    project_id: ty.Optional[str] = None
    user_id: ty.Optional[str] = None
    #: The consumer generation the move left behind.
    generation: ty.Optional[int] = None


class AllocationMover:
    """Move an instance's allocations between compute node providers."""

    def __init__(self, report_client=None):
        """:param report_client: a ``SchedulerReportClient``; Nova's
        process-wide one when None.
        """
        self._client = report_client or report.report_client_singleton()

    def move(self, context, consumer_uuid, source_rp, target_rp):
        """Move the consumer's allocations from one provider to another.

        Allocations against other providers (e.g. a sharing provider) are
        kept as they are. Returns without writing when the allocations are
        already on the target, or when the consumer has none at all.

        :raises AllocationMoveFailed: placement could not be read, holds the
            consumer's allocations somewhere unexpected, or refused the
            move. Placement is then unchanged.
        :returns: an :class:`AllocationMove`.
        """
        current = self._read(context, consumer_uuid)
        allocations = {rp: dict(alloc['resources'])
                       for rp, alloc in current.get('allocations', {}).items()}

        def unchanged(detail):
            return AllocationMove(consumer_uuid, source_rp, target_rp,
                                  moved=False, detail=detail)

        if not allocations:
            LOG.warning("Instance has no allocations in placement; "
                        "'nova-manage placement heal_allocations' can "
                        "create them on its new compute node.",
                        instance_uuid=consumer_uuid)
            return unchanged('no allocations to move')
        if source_rp in allocations and target_rp in allocations:
            raise AllocationMoveFailed(
                "instance %s has allocations on both provider %s and "
                "provider %s; not moving them"
                % (consumer_uuid, source_rp, target_rp))
        if source_rp not in allocations:
            if target_rp in allocations:
                return unchanged('allocations already on provider %s'
                                 % target_rp)
            raise AllocationMoveFailed(
                "instance %s has no allocation on provider %s but on %s; "
                "not moving them"
                % (consumer_uuid, source_rp,
                   ', '.join(sorted(allocations))))

        moved = {rp: resources for rp, resources in allocations.items()
                 if rp != source_rp}
        moved[target_rp] = allocations[source_rp]
        generation = current['consumer_generation']
        self._write(context, consumer_uuid, moved, generation,
                    current['project_id'], current['user_id'],
                    what="move the allocations of instance %s from provider "
                         "%s to provider %s"
                         % (consumer_uuid, source_rp, target_rp))
        LOG.info("Moved allocations %(resources)s from provider %(source)s "
                 "to provider %(target)s.",
                 {'resources': allocations[source_rp], 'source': source_rp,
                  'target': target_rp}, instance_uuid=consumer_uuid)
        return AllocationMove(
            consumer_uuid, source_rp, target_rp, moved=True,
            detail='allocations moved from provider %s to provider %s'
                   % (source_rp, target_rp),
            previous=allocations, project_id=current['project_id'],
            user_id=current['user_id'], generation=generation + 1)

    def undo(self, context, move):
        """Put back the allocations a :meth:`move` replaced.

        Only if nobody changed the consumer since: the write is guarded by
        the generation the move left behind.

        :raises AllocationMoveFailed: placement refused; the allocations
            stay on the target provider.
        """
        if not move.moved:
            return
        self._write(context, move.consumer_uuid, move.previous,
                    move.generation, move.project_id, move.user_id,
                    what="move the allocations of instance %s back from "
                         "provider %s to provider %s"
                         % (move.consumer_uuid, move.target_rp,
                            move.source_rp))
        LOG.info("Moved allocations back from provider %(target)s to "
                 "provider %(source)s.",
                 {'target': move.target_rp, 'source': move.source_rp},
                 instance_uuid=move.consumer_uuid)

    def _read(self, context, consumer_uuid):
        try:
            return self._client.get_allocs_for_consumer(context,
                                                        consumer_uuid)
        except (ks_exc.ClientException,
                exception.ConsumerAllocationRetrievalFailed) as exc:
            raise AllocationMoveFailed(
                "could not read the allocations of instance %s from "
                "placement: %s" % (consumer_uuid, exc))

    def _write(self, context, consumer_uuid, allocations, generation,
               project_id, user_id, what):
        payload = {
            'allocations': {rp: {'resources': resources}
                            for rp, resources in allocations.items()},
            'consumer_generation': generation,
            'project_id': project_id,
            'user_id': user_id,
        }
        try:
            resp = self._client.put(
                '/allocations/%s' % consumer_uuid, payload,
                version=CONSUMER_GENERATION_VERSION,
                global_request_id=context.global_id)
        except ks_exc.ClientException as exc:
            raise AllocationMoveFailed(
                "placement is unreachable, could not %s: %s" % (what, exc))
        if resp.status_code != 204:
            raise AllocationMoveFailed(
                "placement refused to %s: HTTP %s: %s"
                % (what, resp.status_code, _error_detail(resp)))


def _error_detail(resp):
    """Placement's error details on one line."""
    try:
        details = [err.get('detail') or err.get('title') or ''
                   for err in resp.json()['errors']]
    except (ValueError, KeyError, TypeError, AttributeError):
        details = [resp.text]
    return ' '.join(' '.join(details).split())
