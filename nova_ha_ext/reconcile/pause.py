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

"""A pause per pool, for maintenance: a paused pool is read, not written.

``nova-ha-manage pause --pool P --reason "..."`` keeps the pause in the
pool's aggregate metadata (who, when and why), through Nova's
``AggregateAPI`` as ``openstack aggregate set --property`` does; ``resume``
removes it. Every reconciler worker and every ``nova-ha-manage`` reads the
aggregate, so all of them see the same pause, whichever wrote it.

A pass over a paused pool still reads the pool and Nova and decides, so that
``status`` and the pass's report say what it would do; it writes nothing
for the pool: not to placement, the database, Neutron, Cinder, the compute
services nor XenAPI. The pause is read again before the writes
(:func:`guard`, at most once a second), so a pause that lands during a
pass stops the writes left.
"""

import dataclasses
import getpass
import socket
import time

from oslo_log import log as logging
from oslo_utils import timeutils

from nova.compute import api as compute_api
from nova import objects

LOG = logging.getLogger(__name__)

#: The aggregate metadata keys holding a pause.
PAUSED_BY = 'ha_paused_by'
PAUSED_AT = 'ha_paused_at'
PAUSED_REASON = 'ha_paused_reason'
KEYS = (PAUSED_BY, PAUSED_AT, PAUSED_REASON)

#: Nova keeps aggregate metadata values in 255 characters.
MAX_VALUE_LENGTH = 255
#: How often, at most, a pass's writes read the pause again.
GUARD_SECONDS = 1.0


class PauseError(ValueError):
    """A pause or resume that cannot be done; nothing was changed."""


class PoolPaused(Exception):
    """Raised by :func:`guard` when the pool was paused during a pass."""


@dataclasses.dataclass(frozen=True)
class Pause:
    """Who paused a pool, when, and why."""

    #: ``user@hostname`` of whoever ran ``nova-ha-manage pause``.
    by: str
    #: When, in UTC (ISO 8601).
    at: str
    reason: str

    def describe(self):
        return 'paused by %s at %s: %s' % (self.by, self.at, self.reason)

    def as_dict(self):
        return dataclasses.asdict(self)


def from_metadata(metadata):
    """The pause kept in an aggregate's metadata, or None (pure)."""
    metadata = metadata or {}
    reason = metadata.get(PAUSED_REASON)
    if not reason:
        return None
    return Pause(by=metadata.get(PAUSED_BY) or 'unknown',
                 at=metadata.get(PAUSED_AT) or 'unknown', reason=reason)


def read(context, aggregate_id):
    """The pause of one pool's aggregate (one API DB query), or None."""
    return from_metadata(
        objects.Aggregate.get_by_id(context, aggregate_id).metadata)


def read_all(context):
    """Aggregate id -> its :class:`Pause`, for every paused aggregate."""
    return {agg.id: paused
            for agg in objects.AggregateList.get_all(context)
            for paused in [from_metadata(agg.metadata)] if paused}


def guard(context, target, then=None, every=GUARD_SECONDS):
    """A ``guard`` for :func:`~.apply.apply_actions` that sees a new pause.

    The aggregate is read again at most once every ``every`` seconds (the
    guard runs before each write of a relocation): a pause that lands
    during a pass stops its writes within that time, for one query per
    ``every`` seconds rather than one per write.

    :param target: the pool's :class:`~.discovery.PoolTarget`.
    :param then: another guard to call after this one (e.g. the pool
        lock's ``ensure``), or None.
    """
    last = [None]

    def check():
        now = time.monotonic()
        if last[0] is None or now - last[0] >= every:
            paused = read(context, target.aggregate_id)
            if paused is not None:
                raise PoolPaused('pool %s was %s' % (target.name,
                                                     paused.describe()))
            last[0] = now
        if then is not None:
            then()
    return check


def who():
    """``user@hostname`` of this process, as a pause records it."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in the environment or passwd
        user = 'unknown'
    return '%s@%s' % (user, socket.gethostname())


def pause(context, target, reason, by=None):
    """Pause a pool: keep who, when and why in its aggregate.

    :param target: the pool's :class:`~.discovery.PoolTarget`.
    :raises PauseError: the reason is empty or too long, or the pool is
        already paused; nothing was changed.
    :returns: the :class:`Pause` written.
    """
    reason = (reason or '').strip()
    if not reason:
        raise PauseError(
            'a reason is needed to pause pool %s, for whoever finds it '
            'paused: --reason "..."' % target.name)
    if len(reason) > MAX_VALUE_LENGTH:
        raise PauseError(
            'the reason is %d characters long; Nova keeps at most %d in '
            'aggregate metadata: shorten it' % (len(reason),
                                                MAX_VALUE_LENGTH))
    current = read(context, target.aggregate_id)
    if current is not None:
        raise PauseError(
            'pool %s is already %s; resume it first (nova-ha-manage resume '
            '--pool %s) to pause it again'
            % (target.name, current.describe(), target.name))
    paused = Pause(by=(by or who())[:MAX_VALUE_LENGTH],
                   at=timeutils.utcnow().replace(microsecond=0).isoformat()
                   + 'Z', reason=reason)
    compute_api.AggregateAPI().update_aggregate_metadata(
        context, target.aggregate_id, {PAUSED_BY: paused.by,
                                       PAUSED_AT: paused.at,
                                       PAUSED_REASON: paused.reason})
    LOG.warning('Pool %s %s; nothing is written for it until it is '
                'resumed.', target.name, paused.describe())
    return paused


def resume(context, target):
    """Remove a pool's pause.

    :raises PauseError: the pool is not paused; nothing was changed.
    :returns: the :class:`Pause` removed.
    """
    current = read(context, target.aggregate_id)
    if current is None:
        raise PauseError('pool %s is not paused' % target.name)
    # A None value removes the key (Aggregate.update_metadata).
    compute_api.AggregateAPI().update_aggregate_metadata(
        context, target.aggregate_id, dict.fromkeys(KEYS))
    LOG.warning('Pool %s resumed (it was %s).', target.name,
                current.describe())
    return current
