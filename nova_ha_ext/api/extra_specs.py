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

"""Validator of the ``ha`` flavor extra spec for Nova's API.

Registered on the ``nova.api.extra_spec_validators`` stevedore namespace, so
that from microversion 2.86 on Nova refuses ``ha=maybe`` with HTTP 400.
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
]


def register():
    return EXTRA_SPEC_VALIDATORS
