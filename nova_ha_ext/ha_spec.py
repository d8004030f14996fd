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

"""The HA rules: the one place that parses ``ha`` values.

Two questions are answered here and nowhere else:

* Does a flavor ask for HA? Its extra spec ``ha`` is boolean-like
  (``true``/``false``, ``yes``/``no``, ``on``/``off``, ``1``/``0``, any case).
* Is an aggregate an HA aggregate, i.e. a XenServer pool whose HA can restart
  instances? Its metadata ``ha`` is boolean-like too.

Only the key ``ha`` itself counts. Keys an operator may take for it
(:func:`near_miss`: ``HA``, ``ha `` with a space, ``ha:foo``,
``aggregate_instance_extra_specs:ha``) are read by no part of nova-ha-ext;
they are refused by the API where Nova lets a validator refuse them, and
reported by the scheduler and ``nova-ha-manage status``.

A flavor that asks for HA may say how XenServer HA restarts its instances
(:func:`restart_policy`): ``ha:restart_priority`` (``restart``, the
default, or ``best-effort``), ``ha:order`` and ``ha:start_delay``
(integers >= 0, default 0), which become the VM's ``ha_restart_priority``,
``order`` and ``start_delay``. Best-effort VMs are not in XenServer's
failover plan: they take no headroom, and HA tries them once.

A host is an *HA host* when at least one of its aggregates is an HA
aggregate. An aggregate saying ``ha=false`` does not veto another aggregate
of the same host saying ``ha=true``: HA is a property of the XenServer pool,
and the pool's aggregate is the one that says so. Aggregates that say nothing
about ``ha`` (availability zones, tenant isolation, ...) are not HA.
"""

import dataclasses

from oslo_log import log as logging
from oslo_utils import strutils

from nova_ha_ext.xenapi import pool_state

LOG = logging.getLogger(__name__)

#: The flavor extra spec and the aggregate metadata key.
HA_KEY = 'ha'

#: The prefix of the compute node stats in which the driver mixin reports
#: the host's XenServer pool; ``ComputeCapabilitiesFilter`` matches unscoped
#: extra specs against stats, so none of them may be named ``ha``.
POOL_STAT_PREFIX = 'xenapi_pool_'

#: The pool's uuid.
POOL_UUID_STAT = POOL_STAT_PREFIX + 'uuid'
#: ``true`` or ``false``: the pool's ``ha_enabled``.
POOL_HA_ENABLED_STAT = POOL_STAT_PREFIX + 'ha_enabled'
#: The pool's ``ha_plan_exists_for``.
POOL_PLAN_EXISTS_FOR_STAT = POOL_STAT_PREFIX + 'ha_plan_exists_for'
#: ``true`` or ``false``: the pool's ``ha_overcommitted``.
POOL_OVERCOMMITTED_STAT = POOL_STAT_PREFIX + 'ha_overcommitted'
#: Whether the host's XenServer pool is HA-ready: ``true``, ``false`` or
#: ``unknown``.
POOL_READY_STAT = POOL_STAT_PREFIX + 'ha_ready'
#: Why the pool is not HA-ready, ``; ``-separated.
POOL_NOT_READY_REASONS_STAT = POOL_STAT_PREFIX + 'ha_not_ready_reasons'
#: The biggest protected VM, in MiB, that the host's pool takes on that
#: host without breaking its failover plan; ``unknown`` when it cannot say.
POOL_HEADROOM_STAT = POOL_STAT_PREFIX + 'ha_headroom_mb'
#: The VMs in the pool's failover plan (priority ``restart``) when the
#: headroom was computed.
POOL_PROTECTED_STAT = POOL_STAT_PREFIX + 'ha_protected_vms'
#: Every stat the mixin reports.
POOL_STATS = (POOL_UUID_STAT, POOL_HA_ENABLED_STAT, POOL_PLAN_EXISTS_FOR_STAT,
              POOL_OVERCOMMITTED_STAT, POOL_READY_STAT,
              POOL_NOT_READY_REASONS_STAT, POOL_HEADROOM_STAT,
              POOL_PROTECTED_STAT)

#: Flavor extra specs of the restart policy of an HA flavor.
RESTART_PRIORITY_KEY = 'ha:restart_priority'
ORDER_KEY = 'ha:order'
START_DELAY_KEY = 'ha:start_delay'
RESTART_POLICY_KEYS = (RESTART_PRIORITY_KEY, ORDER_KEY, START_DELAY_KEY)

#: ``ha:restart_priority`` values, as ``VM.ha_restart_priority`` takes them.
RESTART = pool_state.PROTECTED
BEST_EFFORT = pool_state.BEST_EFFORT
RESTART_PRIORITIES = (RESTART, BEST_EFFORT)

#: XenAPI ints are 64-bit.
_MAX_INT = 2 ** 63 - 1

_TRUE = frozenset(strutils.TRUE_STRINGS)
_FALSE = frozenset(strutils.FALSE_STRINGS)

# (aggregate id, bad value) pairs already warned about, so that a bad value is
# reported once per process rather than for every host on every request.
_warned_aggregates = set()


class InvalidHAValue(ValueError):
    """An ``ha`` value is not boolean-like."""

    def __init__(self, owner, value):
        self.owner = owner
        self.value = value
        super().__init__(
            "%s has %s=%r, which is not boolean-like; use one of: %s"
            % (owner, HA_KEY, value, ', '.join(accepted_values())))


class InvalidRestartPolicy(ValueError):
    """A restart policy extra spec has a value XenServer would not take."""

    def __init__(self, key, value, expected, owner=None):
        self.key = key
        self.value = value
        super().__init__(
            "%sextra spec '%s' must be %s, got '%s'"
            % ('%s has ' % owner if owner else '', key, expected, value))


@dataclasses.dataclass(frozen=True)
class RestartPolicy:
    """How XenServer HA restarts the VM of an HA instance."""

    priority: str = RESTART
    order: int = 0
    start_delay: int = 0

    @property
    def in_plan(self):
        """Whether the VM counts in the pool's failover plan (headroom)."""
        return self.priority == RESTART


def parse_policy_value(key, value, owner=None):
    """Parse one restart policy extra spec strictly.

    :returns: the priority string, or the integer for ``ha:order`` and
        ``ha:start_delay``.
    :raises InvalidRestartPolicy: naming the key and what it takes.
    """
    text = str(value).strip()
    if key == RESTART_PRIORITY_KEY:
        if text not in RESTART_PRIORITIES:
            raise InvalidRestartPolicy(
                key, value, 'one of: %s' % ', '.join(RESTART_PRIORITIES),
                owner)
        return text
    expected = 'an integer >= 0%s' % (
        ' (seconds)' if key == START_DELAY_KEY else '')
    if not text.isdigit() or not text.isascii():
        raise InvalidRestartPolicy(key, value, expected, owner)
    if int(text) > _MAX_INT:
        raise InvalidRestartPolicy(key, value, expected + ' below 2**63',
                                   owner)
    return int(text)


def restart_policy(extra_specs, flavor_name=None):
    """The restart policy of a flavor that asks for HA, or None.

    :raises InvalidHAValue: ``ha`` is not boolean-like.
    :raises InvalidRestartPolicy: a restart policy key has a bad value
        (stored before validation existed, or below microversion 2.86).
    """
    if not flavor_requests_ha(extra_specs, flavor_name=flavor_name):
        return None
    owner = "flavor %s" % flavor_name if flavor_name else None
    values = {}
    for key, field in ((RESTART_PRIORITY_KEY, 'priority'),
                       (ORDER_KEY, 'order'),
                       (START_DELAY_KEY, 'start_delay')):
        if key in extra_specs:
            values[field] = parse_policy_value(key, extra_specs[key], owner)
    return RestartPolicy(**values)


def accepted_values():
    """The values an operator may give ``ha``, for messages."""
    return sorted(_TRUE) + sorted(_FALSE)


def parse_ha_value(value, owner='value'):
    """Parse a boolean-like ``ha`` value strictly.

    :param value: the string (or bool) to parse.
    :param owner: what carries the value, for the error message.
    :raises InvalidHAValue: if the value is not boolean-like.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidHAValue(owner, value)


def flavor_requests_ha(extra_specs, flavor_name=None):
    """Return True if a flavor's extra specs ask for HA.

    A flavor without the ``ha`` extra spec does not ask for HA.

    :param extra_specs: the flavor's extra specs (a dict of strings).
    :param flavor_name: the flavor's name, for the error message.
    :raises InvalidHAValue: if ``ha`` is set but not boolean-like. Nova's API
        refuses such a value since microversion 2.86; older flavors may still
        carry one, and guessing what their owner meant would be wrong.
    """
    value = (extra_specs or {}).get(HA_KEY)
    if value is None:
        return False
    owner = "flavor %s" % flavor_name if flavor_name else "the flavor"
    return parse_ha_value(value, owner=owner)


def restart_priority(wants_ha):
    """The ``VM.ha_restart_priority`` of an instance whose flavor does, or
    does not, ask for HA: XenServer HA restarts the former and leaves the
    latter where they fell.
    """
    return pool_state.PROTECTED if wants_ha else pool_state.UNPROTECTED


def near_miss(key):
    """Why a flavor extra spec key looks like ``ha`` but is not it.

    :returns: the reason, for messages, or None when ``key`` is ``ha`` or
        unrelated to it.
    """
    if key == HA_KEY or key in RESTART_POLICY_KEYS:
        return None
    scope, colon, name = key.rpartition(':')
    if not colon:
        if key.strip().lower() == HA_KEY:
            return ("%r is not %r: nova-ha-ext reads only the key %r, in "
                    "lower case and without spaces" % (key, HA_KEY, HA_KEY))
    elif scope.split(':', 1)[0].strip().lower() == HA_KEY:
        return ("%r is in the scope '%s:', of which nova-ha-ext reads only "
                "%s: it reads the unscoped key %r for HA itself"
                % (key, HA_KEY, ', '.join(RESTART_POLICY_KEYS), HA_KEY))
    elif name.strip().lower() == HA_KEY:
        return ("%r is not %r: nova-ha-ext reads only the unscoped key %r"
                % (key, HA_KEY, HA_KEY))
    return None


def near_miss_keys(extra_specs):
    """The keys of ``extra_specs`` that :func:`near_miss` reports, sorted."""
    return sorted(key for key in (extra_specs or {}) if near_miss(key))


def aggregate_is_ha(aggregate):
    """Return True if an aggregate's metadata marks it as an HA aggregate.

    A value that is not boolean-like makes the aggregate non-HA and is
    logged once as a warning naming the aggregate and the value.

    :param aggregate: an ``objects.Aggregate`` or anything with ``id``,
        ``name`` and ``metadata``.
    """
    value = (aggregate.metadata or {}).get(HA_KEY)
    if value is None:
        return False
    try:
        return parse_ha_value(value)
    except InvalidHAValue:
        key = (aggregate.id, value)
        if key not in _warned_aggregates:
            _warned_aggregates.add(key)
            LOG.warning(
                "Aggregate %(name)s (id %(id)s) has metadata "
                "%(key)s=%(value)r which is not boolean-like; treating it "
                "as a non-HA aggregate. Set it to 'true' or 'false' with: "
                "openstack aggregate set --property %(key)s=true %(name)s",
                {'name': aggregate.name, 'id': aggregate.id, 'key': HA_KEY,
                 'value': value})
        return False


def host_is_ha(aggregates):
    """Return True if at least one of a host's aggregates is HA."""
    return any(aggregate_is_ha(agg) for agg in aggregates)


def pool_headroom(stats):
    """A host's pool HA headroom and protected VM count, from its stats.

    :returns: ``(headroom MiB, protected VMs)``; ``(None, None)`` when the
        host reports no headroom (no driver mixin, an older one, or
        ``unknown``).
    """
    if not stats:
        return None, None
    room = stats.get(POOL_HEADROOM_STAT)
    if room is None:
        return None, None
    try:
        return int(room), int(stats[POOL_PROTECTED_STAT])
    except (KeyError, TypeError, ValueError):
        return None, None


def pool_is_ready(stats):
    """Whether a host's compute node stats say its pool is HA-ready.

    :returns: True or False when the host reports pool stats (``unknown``,
        XenAPI unreachable, counts as False), None when it reports none
        (its driver does not use the mixin).
    """
    value = (stats or {}).get(POOL_READY_STAT)
    if value is None:
        return None
    return str(value).lower() == 'true'
