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

"""Validators of the ``ha`` flavor extra spec for Nova's API.

Registered on the ``nova.api.extra_spec_validators`` stevedore namespace, so
that from microversion 2.86 on Nova refuses with HTTP 400 ``ha=maybe`` and
the keys an operator may take for ``ha`` that Nova lets a plugin refuse.

Nova looks a key up by its exact name first, then tries each validator's
name pattern in turn, and accepts an unscoped key that none claims. A key in
a namespace that some validator's pattern declares (the part before its
first ``:``), but that no pattern matches, is refused; any other scoped key
is accepted. Names are matched case-sensitively. So:

* ``HA``, ``Ha``, ``ha `` (any case, spaces around): claimed by a pattern
  without ``:`` and refused.
* ``ha:restart_priority``, ``ha:order``, ``ha:start_delay``: validated by
  name (Nova looks a key up by name before any pattern).
* ``ha:foo``, ``HA:foo``: claimed by a pattern whose namespace part is the
  ``ha`` namespace in any case, and refused.
* ``aggregate_instance_extra_specs:ha`` is left alone: Nova's own validator
  of that namespace claims it, and only shadowing it under its exact name
  would refuse it, for a key that Nova's AggregateInstanceExtraSpecsFilter
  reads. ``<other namespace>:ha`` is left alone too: a pattern claiming it
  would declare every namespace, and Nova would then refuse every unknown
  scoped key. Nova already refuses it in its own namespaces (``hw:ha``,
  ``capabilities:ha``).

The scheduler filter and ``nova-ha-manage status`` report what is accepted.
"""

from nova.api.validation.extra_specs import base
from nova import exception

from nova_ha_ext import ha_spec


class HAExtraSpecValidator(base.ExtraSpecValidator):
    """Boolean validator whose message names the key and the valid values."""

    def validate(self, name, value):
        try:
            ha_spec.parse_ha_value(value)
        except ha_spec.InvalidHAValue:
            raise exception.ValidationError(
                "Validation failed; extra spec '%s' must be boolean-like "
                "(one of: %s), got '%s'."
                % (name, ', '.join(ha_spec.accepted_values()), value))


class RestartPolicyValidator(base.ExtraSpecValidator):
    """A restart policy key: its message names the key and what it takes."""

    def validate(self, name, value):
        try:
            ha_spec.parse_policy_value(name, value)
        except ha_spec.InvalidRestartPolicy as exc:
            raise exception.ValidationError("Validation failed; %s." % exc)


class NearMissValidator(base.ExtraSpecValidator):
    """Refuses every key its pattern claims that looks like ``ha``.

    :param pattern: the name pattern, in the form Nova matches it; it names
        no parameter, so it is given as it is rather than built from
        ``name``.
    """

    def __init__(self, name, description, pattern):
        super().__init__(name=name, description=description,
                         value={'type': str})
        self.name_regex = pattern

    def validate(self, name, value):
        reason = ha_spec.near_miss(name)
        if reason:
            raise exception.ValidationError(
                "Validation failed; extra spec %s. Set '%s' instead, for "
                "example: openstack flavor set --property %s=true <flavor>"
                % (reason, ha_spec.HA_KEY, ha_spec.HA_KEY))


EXTRA_SPEC_VALIDATORS = [
    HAExtraSpecValidator(
        name=ha_spec.HA_KEY,
        description=(
            'Whether instances of this flavor are highly available: they '
            'are scheduled only to hosts of an aggregate with metadata '
            'ha=true (a XenServer pool with HA enabled) and are protected '
            'by XenServer HA, which restarts them on another host of the '
            'pool when their host fails. Requires the HAAggregateFilter '
            'scheduler filter of nova-ha-ext.'
        ),
        value={
            'type': bool,
            'description': 'Whether the instance is highly available.',
        },
    ),
    RestartPolicyValidator(
        name=ha_spec.RESTART_PRIORITY_KEY,
        description=(
            'How XenServer HA restarts instances of an HA flavor (ha=true) '
            'when their host fails: "restart" (the default) keeps them in '
            'the pool\'s failover plan, so the scheduler places them only '
            'where the plan has room; "best-effort" leaves them out of the '
            'plan and HA tries to restart them once, after the others.'
        ),
        value={
            'type': str,
            'enum': list(ha_spec.RESTART_PRIORITIES),
            'description': 'The VM\'s ha_restart_priority.',
        },
    ),
    RestartPolicyValidator(
        name=ha_spec.ORDER_KEY,
        description=(
            'The point in XenServer HA\'s restart sequence at which '
            'instances of an HA flavor restart: lower first (default 0).'
        ),
        value={'type': int, 'min': 0,
               'description': 'The VM\'s order.'},
    ),
    RestartPolicyValidator(
        name=ha_spec.START_DELAY_KEY,
        description=(
            'Seconds XenServer HA waits after restarting an instance of an '
            'HA flavor before it goes on to the next order (default 0).'
        ),
        value={'type': int, 'min': 0,
               'description': 'The VM\'s start_delay, in seconds.'},
    ),
    # Neither name can be typed (the API allows no parentheses in keys), so
    # neither is ever looked up by name: only their patterns claim keys.
    NearMissValidator(
        name='ha (in another case or with spaces)',
        description='Refused: nova-ha-ext reads only the key ha.',
        # No ':' in it: Nova takes the part before one as a namespace.
        pattern=r'\s*[hH][aA]\s*'),
    NearMissValidator(
        name='ha:{key} (in any case)',
        description='Refused: nova-ha-ext reads only the unscoped key ha.',
        pattern=r'\s*[hH][aA]\s*:.*'),
]


def register():
    return EXTRA_SPEC_VALIDATORS
