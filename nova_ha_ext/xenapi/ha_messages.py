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

"""XenServer's HA alerts: the pool's ``message`` objects about HA.

xapi tells the administrator what its HA did with messages (XenCenter's
alerts): a record of ``uuid``, ``name``, ``priority`` (1 critical to 5
informational), ``cls`` and ``obj_uuid`` (the object it is about),
``timestamp`` and ``body``. The HA ones are named in
``ocaml/xapi-consts/api_messages.ml``; xapi raises them from
``xapi_ha.ml`` (statefile and heartbeat trouble),
``xapi_ha_vm_failover.ml`` (a host failed, a protected VM could not be
restarted, the pool overcommitted or its plan shrank) and
``xapi_host_crashdump.ml`` (a host that comes back was fenced).

``event.from`` reports each message once, as an ``add`` with its record,
to a subscriber of ``message`` (from an empty token: every message the
pool keeps); :func:`read_recent` reads them with one call.
"""

import dataclasses
import datetime
import xmlrpc.client

#: api_messages.ml: XenServer's HA alerts.
HA_MESSAGE_NAMES = frozenset((
    'HA_STATEFILE_LOST',
    'HA_HEARTBEAT_APPROACHING_TIMEOUT',
    'HA_STATEFILE_APPROACHING_TIMEOUT',
    'HA_XAPI_HEALTHCHECK_APPROACHING_TIMEOUT',
    'HA_NETWORK_BONDING_ERROR',
    'HA_POOL_OVERCOMMITTED',
    'HA_POOL_DROP_IN_PLAN_EXISTS_FOR',
    'HA_PROTECTED_VM_RESTART_FAILED',
    'HA_HOST_FAILED',
    'HA_HOST_WAS_FENCED',
))

#: The event class to subscribe to.
EVENT_CLASS = 'message'

#: The one call reading them (xapi_message.ml get_all_records_where).
HA_MESSAGES_QUERY = ' or '.join('field "name"="%s"' % name
                                for name in sorted(HA_MESSAGE_NAMES))

_FORMATS = ('%Y%m%dT%H:%M:%SZ', '%Y%m%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%SZ',
            '%Y-%m-%dT%H:%M:%S')


class BadMessage(ValueError):
    """A message record this client cannot read."""


@dataclasses.dataclass(frozen=True)
class HAMessage:
    """One of XenServer's HA alerts."""

    ref: str
    uuid: str
    name: str
    #: 1 (critical) to 5 (informational).
    priority: int
    #: The class of the object it is about: ``VM``, ``Host``, ``Pool``...
    cls: str
    obj_uuid: str
    #: When xapi created it, in UTC.
    timestamp: datetime.datetime
    body: str = ''

    def __str__(self):
        text = '%s (priority %d) on %s %s' % (self.name, self.priority,
                                              self.cls, self.obj_uuid)
        return text + (': %s' % self.body if self.body else '')


def parse_timestamp(value):
    """A XenAPI ``datetime`` (XML-RPC or JSON-RPC) as an aware datetime."""
    if isinstance(value, xmlrpc.client.DateTime):
        value = value.value
    if isinstance(value, datetime.datetime):
        return (value if value.tzinfo else
                value.replace(tzinfo=datetime.timezone.utc))
    if isinstance(value, str):
        for fmt in _FORMATS:
            try:
                return datetime.datetime.strptime(value, fmt).replace(
                    tzinfo=datetime.timezone.utc)
            except ValueError:
                continue
    raise BadMessage('timestamp %r is not a XenAPI datetime' % (value,))


def from_record(ref, record):
    """An :class:`HAMessage` from a ``message`` record.

    :raises BadMessage: a field is missing or of the wrong type.
    """
    try:
        return HAMessage(
            ref=ref, uuid=str(record['uuid']), name=str(record['name']),
            priority=int(record['priority']), cls=str(record['cls']),
            obj_uuid=str(record['obj_uuid']),
            timestamp=parse_timestamp(record['timestamp']),
            body=str(record.get('body') or ''))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadMessage('message %s: %s' % (ref, exc)) from None


def is_ha(record):
    """Whether a ``message`` record is one of the HA alerts."""
    return isinstance(record, dict) and record.get('name') in \
        HA_MESSAGE_NAMES


def read_recent(client, limit=10):
    """The pool's latest HA alerts, newest first: one XenAPI call.

    :param client: a :class:`~nova_ha_ext.xenapi.client.PoolClient`.
    :returns: at most ``limit`` :class:`HAMessage` values; records that
        cannot be read are left out.
    """
    found = client.call('message.get_all_records_where', HA_MESSAGES_QUERY)
    messages = []
    for ref, record in (found or {}).items():
        try:
            messages.append(from_record(ref, record))
        except BadMessage:
            continue
    messages.sort(key=lambda m: (m.timestamp, m.uuid), reverse=True)
    return messages[:limit]
