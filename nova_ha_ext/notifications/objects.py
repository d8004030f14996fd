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

"""The notifications of nova-ha-ext and their payloads.

Every event type has a sample in ``doc/notifications/<event type>.json``
(:data:`EVENT_TYPES`); a unit test keeps the samples' fields and versions
in step with the classes below. A payload gets a new version whenever its
fields change: a minor one for an added field, a major one for a removed
or changed one, as Nova does.
"""

from oslo_versionedobjects import fields

from nova_ha_ext.notifications import base


@base.NotificationRegistry.register
class HAPoolPayload(base.NotificationPayloadBase):
    """A XenServer pool, and the Nova aggregate that describes it."""

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'uuid': fields.UUIDField(),
        #: The pool's name_label (its uuid when it has none).
        'name': fields.StringField(),
        #: The aggregate with the pool's URL in its metadata.
        'aggregate': fields.StringField(),
    }


@base.NotificationRegistry.register
class HAInstanceRelocatePayload(base.NotificationPayloadBase):
    """An instance that follows its VM to the host XenServer HA chose."""

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'instance_uuid': fields.UUIDField(),
        'pool': fields.ObjectField('HAPoolPayload'),
        #: Why, in the operator's words, and the decision table row.
        'reason': fields.StringField(),
        'rule': fields.StringField(),
        'old_host': fields.StringField(),
        'old_node': fields.StringField(),
        'new_host': fields.StringField(),
        'new_node': fields.StringField(),
        #: The compute node providers the allocations move from and to.
        'allocations_from': fields.UUIDField(),
        'allocations_to': fields.UUIDField(),
        #: ``start``: the ports and volumes that are to follow; ``end``:
        #: those that followed.
        'ports': fields.ListOfStringsField(),
        'volumes': fields.ListOfStringsField(),
        #: ``end``: what did not follow yet, and why (the next pass tries
        #: again); None when everything followed.
        'bindings_pending': fields.StringField(nullable=True),
        #: ``error``: why the instance was not relocated.
        'fault': fields.StringField(nullable=True),
    }


@base.NotificationRegistry.register
class HAPoolReadinessPayload(base.NotificationPayloadBase):
    """Whether XenServer HA can restart the pool's protected VMs."""

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'pool': fields.ObjectField('HAPoolPayload'),
        'ready': fields.BooleanField(),
        #: Why not, in the operator's words; empty when ready.
        'reasons': fields.ListOfStringsField(),
    }


@base.NotificationRegistry.register
class HAInstancePayload(base.NotificationPayloadBase):
    """An instance the reconciler cannot make agree, and why."""

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'instance_uuid': fields.UUIDField(),
        'pool': fields.ObjectField('HAPoolPayload'),
        #: Where Nova has the instance.
        'host': fields.StringField(),
        'node': fields.StringField(),
        #: The VM that claims the instance; None when none does.
        'vm_uuid': fields.UUIDField(nullable=True),
        'reason': fields.StringField(),
        'rule': fields.StringField(),
    }


@base.NotificationRegistry.register
class HAPoolHostPayload(base.NotificationPayloadBase):
    """A XenServer host of a pool."""

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'pool': fields.ObjectField('HAPoolPayload'),
        'uuid': fields.UUIDField(),
        'hostname': fields.StringField(),
        'name_label': fields.StringField(),
        'address': fields.StringField(),
    }


@base.NotificationRegistry.register
class HAXenServerMessagePayload(base.NotificationPayloadBase):
    """One of XenServer's HA alerts (a ``message`` object of the pool)."""

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'pool': fields.ObjectField('HAPoolPayload'),
        'uuid': fields.UUIDField(),
        #: e.g. ``HA_HOST_FAILED`` (xapi's api_messages.ml).
        'name': fields.StringField(),
        #: 1 (critical) to 5 (informational).
        'priority': fields.IntegerField(),
        #: The class of the object it is about: VM, Host, Pool, SR...
        'cls': fields.StringField(),
        'obj_uuid': fields.StringField(),
        'timestamp': fields.DateTimeField(),
        'body': fields.StringField(),
    }


def _notification(name, payload):
    """A notification class carrying a ``payload`` of that class."""
    cls = type(name, (base.NotificationBase,), {
        '__doc__': 'A notification with a %s.' % payload,
        'VERSION': '1.0',
        'fields': {'payload': fields.ObjectField(payload)},
    })
    cls.__module__ = __name__
    return base.NotificationRegistry.register(cls)


HAInstanceRelocateNotification = _notification(
    'HAInstanceRelocateNotification', 'HAInstanceRelocatePayload')
HAPoolReadinessNotification = _notification(
    'HAPoolReadinessNotification', 'HAPoolReadinessPayload')
HAInstanceNotification = _notification(
    'HAInstanceNotification', 'HAInstancePayload')
HAPoolHostNotification = _notification(
    'HAPoolHostNotification', 'HAPoolHostPayload')
HAXenServerMessageNotification = _notification(
    'HAXenServerMessageNotification', 'HAXenServerMessagePayload')

#: Every event type sent, and its notification class and priority. Each
#: has its sample: ``doc/notifications/<event type>.json``.
EVENT_TYPES = {
    'ha_instance.relocate.start': (HAInstanceRelocateNotification,
                                   base.INFO),
    'ha_instance.relocate.end': (HAInstanceRelocateNotification, base.INFO),
    'ha_instance.relocate.error': (HAInstanceRelocateNotification,
                                   base.ERROR),
    'ha_pool.readiness.update': (HAPoolReadinessNotification, base.INFO),
    'ha_instance.restart_failed': (HAInstanceNotification, base.ERROR),
    'ha_instance.missing': (HAInstanceNotification, base.WARN),
    'ha_pool.host.fenced': (HAPoolHostNotification, base.WARN),
    'ha_pool.xenserver_message': (HAXenServerMessageNotification,
                                  base.INFO),
}


def notification(event_type, host, payload, priority=None):
    """The notification of ``event_type`` from ``host`` with ``payload``.

    :param priority: when not the event type's own (a XenServer message
        takes its priority from the message's).
    """
    cls, default = EVENT_TYPES[event_type]
    priority = priority or default
    obj, _, rest = event_type.partition('.')
    action, phase = rest, None
    if rest.rsplit('.', 1)[-1] in (base.START, base.END, base.PHASE_ERROR):
        action, _, phase = rest.rpartition('.')
    return cls(priority=priority,
               event_type=base.HAEventType(obj, action, phase),
               publisher=base.HANotificationPublisher(host),
               payload=payload)
