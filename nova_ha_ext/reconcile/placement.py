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
target's: the same resources, the same consumer, project and user, guarded
by the consumer generation. If placement refuses (not enough capacity, a
concurrent change), nothing has changed and the old allocations stay.
Allocations are never deleted.

Allocations on child providers of the source compute node (bandwidth on
a network device, a vGPU) move to the provider under the target node with
the same traits and resource classes (:class:`ProviderTrees`); where none
matches, they stay where they are and the move says so. Allocations on
providers outside the source tree (a sharing provider) are kept.

One instance moves with one ``PUT /allocations/{consumer}``. The instances
of a host failure move together (:meth:`AllocationMover.move_many`): one
``GET /allocations/{consumer}`` each, for its generation, then one
``POST /allocations`` for all of them, which placement applies atomically,
as Nova's own ``move_allocations`` does. If placement refuses the batch,
nothing has moved and each instance is tried alone, so that one instance
placement refuses does not hold the others back.
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
#: Placement microversion with provider trees (``in_tree``, root uuid).
TREE_VERSION = '1.14'


class AllocationMoveFailed(Exception):
    """Placement did not move (or move back) a consumer's allocations."""


@dataclasses.dataclass(frozen=True)
class AllocationMove:
    """A move done by :meth:`AllocationMover.move_many`, enough to undo it."""

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
    #: Old provider -> new provider, for every provider whose allocations
    #: moved (the compute node's and its children's).
    providers: ty.Mapping[str, str] = dataclasses.field(
        default_factory=dict)
    #: Child providers of the source whose allocations stayed, because no
    #: provider under the target matches them.
    kept: ty.Tuple[str, ...] = ()


class AllocationMover:
    """Move an instance's allocations between compute node providers."""

    def __init__(self, report_client=None):
        """:param report_client: a ``SchedulerReportClient``; Nova's
        process-wide one when None.
        """
        self._client = report_client or report.report_client_singleton()

    def consumers_on(self, context, providers):
        """Which providers hold each consumer's allocations.

        One ``GET /resource_providers/{uuid}/allocations`` per provider,
        whatever the number of consumers.

        :param providers: resource provider uuids, e.g. a pool's compute
            nodes'.
        :returns: consumer uuid -> the frozenset of those providers that
            hold some of its allocations.
        :raises AllocationMoveFailed: placement could not be read.
        """
        held = {}
        for rp in sorted(set(providers)):
            try:
                resp = self._client.get(
                    '/resource_providers/%s/allocations' % rp,
                    global_request_id=context.global_id)
            except ks_exc.ClientException as exc:
                raise AllocationMoveFailed(
                    "placement is unreachable, could not read the "
                    "allocations of provider %s: %s" % (rp, exc))
            if resp.status_code != 200:
                raise AllocationMoveFailed(
                    "placement refused to show the allocations of provider "
                    "%s: HTTP %s: %s" % (rp, resp.status_code,
                                         _error_detail(resp)))
            for consumer in resp.json()['allocations']:
                held.setdefault(consumer, set()).add(rp)
        return {consumer: frozenset(rps) for consumer, rps in held.items()}

    def move_many(self, context, moves):
        """Move several consumers' allocations, in one write where possible.

        Each consumer's allocations move from its source provider to its
        target; allocations against other providers (e.g. a sharing
        provider) are kept as they are. Nothing is written for a consumer
        whose allocations are already on the target, or that has none.

        :param moves: ``(consumer_uuid, source_rp, target_rp)`` tuples, one
            per consumer.
        :returns: consumer uuid -> an :class:`AllocationMove`, or the
            :class:`AllocationMoveFailed` that says why that consumer's
            allocations did not move (they are then unchanged).
        """
        # What placement says of provider trees holds for this call only:
        # a mover is shared by a worker's passes, and trees change.
        trees = ProviderTrees(self._client)
        outcomes, planned = {}, []
        for consumer_uuid, source_rp, target_rp in moves:
            try:
                move, allocations = self._plan(context, trees, consumer_uuid,
                                               source_rp, target_rp)
            except AllocationMoveFailed as exc:
                outcomes[consumer_uuid] = exc
                continue
            outcomes[consumer_uuid] = move
            if move.moved:
                planned.append((move, allocations))
        if len(planned) > 1:
            try:
                self._post(context, planned)
                return outcomes
            except AllocationMoveFailed as exc:
                LOG.info("Placement refused to move %(count)d instances' "
                         "allocations together (%(error)s); moving them one "
                         "by one.", {'count': len(planned), 'error': exc})
        for move, allocations in planned:
            try:
                self._write(context, move, allocations)
            except AllocationMoveFailed as exc:
                outcomes[move.consumer_uuid] = exc
        return outcomes

    def _plan(self, context, trees, consumer_uuid, source_rp, target_rp):
        """Read a consumer's allocations and work out its move.

        :returns: the :class:`AllocationMove` it will be once written, and
            the allocations to write (None when there is nothing to move).
        :raises AllocationMoveFailed: placement could not be read, or holds
            the consumer's allocations somewhere unexpected.
        """
        current = self._read(context, consumer_uuid)
        allocations = {rp: dict(alloc['resources'])
                       for rp, alloc in current.get('allocations', {}).items()}

        def unchanged(detail):
            return AllocationMove(consumer_uuid, source_rp, target_rp,
                                  moved=False, detail=detail), None

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

        providers = {source_rp: target_rp}
        kept = []
        for rp in sorted(allocations):
            if rp == source_rp or not trees.is_child_of(
                    context, rp, source_rp):
                continue
            match = trees.match(context, rp, allocations[rp],
                                source_rp, target_rp)
            if match is None:
                kept.append(rp)
            else:
                providers[rp] = match
        moved = {}
        for rp, resources in allocations.items():
            new_rp = providers.get(rp, rp)
            moved.setdefault(new_rp, {}).update(resources)
        generation = current['consumer_generation']
        detail = ('allocations moved from provider %s to provider %s'
                  % (source_rp, target_rp))
        for old_rp, new_rp in sorted(providers.items()):
            if old_rp != source_rp:
                detail += ', and from child provider %s to %s' % (
                    old_rp, new_rp)
        for rp in kept:
            LOG.warning("Allocations %(resources)s stay on provider %(rp)s "
                        "of the old host: no provider under %(target)s has "
                        "its traits and resource classes.",
                        {'resources': allocations[rp], 'rp': rp,
                         'target': target_rp}, instance_uuid=consumer_uuid)
            detail += ('; allocations %s kept on child provider %s of the '
                       'old host: no provider under %s matches its traits '
                       'and resource classes'
                       % (_resources(allocations[rp]), rp, target_rp))
        move = AllocationMove(
            consumer_uuid, source_rp, target_rp, moved=True, detail=detail,
            previous=allocations, project_id=current['project_id'],
            user_id=current['user_id'], generation=generation + 1,
            providers=providers, kept=tuple(kept))
        return move, moved

    def undo(self, context, move):
        """Put back the allocations a :meth:`move_many` replaced.

        Only if nobody changed the consumer since: the write is guarded by
        the generation the move left behind.

        :raises AllocationMoveFailed: placement refused; the allocations
            stay on the target provider.
        """
        if not move.moved:
            return
        self._send(context, 'put', '/allocations/%s' % move.consumer_uuid,
                   _consumer_payload(move.previous, move.generation,
                                     move.project_id, move.user_id),
                   what="move the allocations of instance %s back from "
                        "provider %s to provider %s"
                        % (move.consumer_uuid, move.target_rp,
                           move.source_rp))
        _log_moved(move.consumer_uuid, move.previous[move.source_rp],
                   move.target_rp, move.source_rp, how='back ')

    def _read(self, context, consumer_uuid):
        try:
            return self._client.get_allocs_for_consumer(context,
                                                        consumer_uuid)
        except (ks_exc.ClientException,
                exception.ConsumerAllocationRetrievalFailed) as exc:
            raise AllocationMoveFailed(
                "could not read the allocations of instance %s from "
                "placement: %s" % (consumer_uuid, exc))

    def _write(self, context, move, allocations):
        """One ``PUT /allocations/{consumer}``: one planned move."""
        self._send(context, 'put', '/allocations/%s' % move.consumer_uuid,
                   _consumer_payload(allocations, move.generation - 1,
                                     move.project_id, move.user_id),
                   what=_describe(move))
        _log_moved(move.consumer_uuid, move.previous[move.source_rp],
                   move.source_rp, move.target_rp)

    def _post(self, context, planned):
        """One ``POST /allocations``: all planned moves, or none of them."""
        self._send(context, 'post', '/allocations',
                   {move.consumer_uuid: _consumer_payload(
                       allocations, move.generation - 1, move.project_id,
                       move.user_id)
                    for move, allocations in planned},
                   what="move the allocations of %d instances together"
                        % len(planned))
        for move, _allocations in planned:
            _log_moved(move.consumer_uuid, move.previous[move.source_rp],
                       move.source_rp, move.target_rp)

    def _send(self, context, method, url, payload, what):
        try:
            resp = getattr(self._client, method)(
                url, payload, version=CONSUMER_GENERATION_VERSION,
                global_request_id=context.global_id)
        except ks_exc.ClientException as exc:
            raise AllocationMoveFailed(
                "placement is unreachable, could not %s: %s" % (what, exc))
        if resp.status_code != 204:
            raise AllocationMoveFailed(
                "placement refused to %s: HTTP %s: %s"
                % (what, resp.status_code, _error_detail(resp)))


class ProviderTrees:
    """What placement says of provider trees, read once per provider.

    Only relocations with allocations beyond the compute node's own
    provider read anything: one ``GET /resource_providers/{uuid}`` per such
    provider, then, per target tree, one ``GET /resource_providers?in_tree``
    and the traits and inventories of its providers.
    """

    def __init__(self, client):
        self._client = client
        self._providers = {}
        self._trees = {}
        self._details = {}

    def is_child_of(self, context, rp, root_rp):
        """Whether provider ``rp`` is in the tree rooted at ``root_rp``."""
        return self._provider(context, rp)['root_provider_uuid'] == root_rp

    def match(self, context, child_rp, resources, source_rp, target_rp):
        """The provider under ``target_rp`` that can take ``child_rp``'s
        allocations, or None.

        A match has the child's traits and an inventory of every resource
        class allocated on it. Among several, the one named like the child
        with the target node's name for the source node's wins (Neutron and
        Nova name child providers after their compute node); otherwise
        there is no match.
        """
        child = self._provider(context, child_rp)
        traits, _ = self._detail(context, child_rp)
        candidates = [
            p for p in self._tree(context, target_rp)
            if p['uuid'] != target_rp and
            self._detail(context, p['uuid'])[0] == traits and
            set(resources) <= self._detail(context, p['uuid'])[1]]
        if len(candidates) == 1:
            return candidates[0]['uuid']
        source_name = self._provider(context, source_rp)['name']
        target_name = self._provider(context, target_rp)['name']
        wanted = child['name'].replace(source_name, target_name, 1)
        named = [p for p in candidates if p['name'] == wanted]
        return named[0]['uuid'] if len(named) == 1 else None

    def _get(self, context, url, what):
        try:
            resp = self._client.get(url, version=TREE_VERSION,
                                    global_request_id=context.global_id)
        except ks_exc.ClientException as exc:
            raise AllocationMoveFailed("placement is unreachable, could not "
                                       "read %s: %s" % (what, exc))
        if resp.status_code != 200:
            raise AllocationMoveFailed(
                "placement refused to show %s: HTTP %s: %s"
                % (what, resp.status_code, _error_detail(resp)))
        return resp.json()

    def _provider(self, context, rp):
        if rp not in self._providers:
            self._providers[rp] = self._get(
                context, '/resource_providers/%s' % rp, 'provider %s' % rp)
        return self._providers[rp]

    def _tree(self, context, root_rp):
        if root_rp not in self._trees:
            self._trees[root_rp] = self._get(
                context, '/resource_providers?in_tree=%s' % root_rp,
                'the provider tree of %s' % root_rp)['resource_providers']
            for provider in self._trees[root_rp]:
                self._providers.setdefault(provider['uuid'], provider)
        return self._trees[root_rp]

    def _detail(self, context, rp):
        """A provider's traits and the resource classes it has."""
        if rp not in self._details:
            traits = self._get(context, '/resource_providers/%s/traits' % rp,
                               'the traits of provider %s' % rp)['traits']
            inventories = self._get(
                context, '/resource_providers/%s/inventories' % rp,
                'the inventories of provider %s' % rp)['inventories']
            self._details[rp] = (frozenset(traits), frozenset(inventories))
        return self._details[rp]


def _resources(resources):
    return ', '.join('%s=%s' % item for item in sorted(resources.items()))


def _consumer_payload(allocations, generation, project_id, user_id):
    return {
        'allocations': {rp: {'resources': resources}
                        for rp, resources in allocations.items()},
        'consumer_generation': generation,
        'project_id': project_id,
        'user_id': user_id,
    }


def _describe(move):
    return ("move the allocations of instance %s from provider %s to "
            "provider %s" % (move.consumer_uuid, move.source_rp,
                             move.target_rp))


def _log_moved(consumer_uuid, resources, source_rp, target_rp, how=''):
    LOG.info("Moved allocations %(resources)s %(how)sfrom provider "
             "%(source)s to provider %(target)s.",
             {'resources': resources, 'how': how, 'source': source_rp,
              'target': target_rp}, instance_uuid=consumer_uuid)


def _error_detail(resp):
    """Placement's error details on one line."""
    try:
        details = [err.get('detail') or err.get('title') or ''
                   for err in resp.json()['errors']]
    except (ValueError, KeyError, TypeError, AttributeError):
        details = [resp.text]
    return ' '.join(' '.join(details).split())
