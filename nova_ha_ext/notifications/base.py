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

"""The versioned objects every notification of nova-ha-ext is made of.

The model is Nova's ``nova/notifications/objects/base.py``: a notification
has a priority, an event type, a publisher and a payload; the payload is a
versioned object whose version changes with its fields. Here the classes
are the project's own, registered with :class:`NotificationRegistry`, not
with ``NovaObjectRegistry``:

* Nova's registry would add them to ``nova.objects`` and to Nova's own
  object hash checks; a payload of another project has no business there.
* oslo.versionedobjects keeps one table of object names for every registry
  of the process, so every class here has a name Nova does not use
  (``HA`` first): ``EventType`` or ``NotificationPublisher`` of our own
  would replace Nova's in that table where Nova registers its notification
  objects (its tests and docs, ``register_notification_objects``).
  ``tests/unit/notifications/test_samples.py`` checks it. Registering ours
  lets a consumer rebuild a payload with ``obj_from_primitive``.
* The wire names their namespace ``nova_ha_ext`` (``nova_ha_ext_object.*``
  keys), so a consumer never mistakes them for Nova's objects.
"""

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

#: oslo.messaging priorities, as notifications name them.
INFO = 'info'
WARN = 'warn'
ERROR = 'error'

#: The phases of an event type with a beginning and an end.
START = 'start'
END = 'end'
PHASE_ERROR = 'error'

#: The service in ``publisher_id`` (``<source>:<host>``).
SOURCE = 'nova-ha-reconciler'


class NotificationRegistry(ovo_base.VersionedObjectRegistry):
    """The registry of nova-ha-ext's notification objects (no hook)."""


class NotificationObject(ovo_base.VersionedObject):
    """Base class of every notification object of nova-ha-ext."""

    OBJ_SERIAL_NAMESPACE = 'nova_ha_ext_object'
    OBJ_PROJECT_NAMESPACE = 'nova_ha_ext'

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Made on the fly to be sent: every field looks changed, which
        # says nothing, so the wire carries no list of changes.
        self.obj_reset_changes(recursive=False)


@NotificationRegistry.register
class HAEventType(NotificationObject):
    """``<object>.<action>[.<phase>]``, e.g. ``ha_instance.relocate.end``."""

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'object': fields.StringField(nullable=False),
        'action': fields.StringField(nullable=False),
        'phase': fields.EnumField(valid_values=(START, END, PHASE_ERROR),
                                  nullable=True),
    }

    def __init__(self, object, action, phase=None):
        super().__init__()
        self.object = object
        self.action = action
        self.phase = phase

    def to_event_type(self):
        """The ``event_type`` on the wire."""
        name = '%s.%s' % (self.object, self.action)
        return name + ('.%s' % self.phase if self.phase else '')


@NotificationRegistry.register
class HANotificationPublisher(NotificationObject):
    """Who sent it: the reconciler's host and the service."""

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'host': fields.StringField(nullable=False),
        'source': fields.StringField(nullable=False),
    }

    def __init__(self, host, source=SOURCE):
        super().__init__()
        self.host = host
        self.source = source

    @property
    def publisher_id(self):
        return '%s:%s' % (self.source, self.host)


class NotificationPayloadBase(NotificationObject):
    """Base class of payloads: set every field, then send."""

    # Version 1.0: Initial version
    VERSION = '1.0'


class NotificationBase(NotificationObject):
    """Base class of notifications; each subclass adds a ``payload``.

    :meth:`message` gives what goes on the wire, for
    :meth:`~nova_ha_ext.notifications.notifier.HANotifier.emit`.
    """

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'priority': fields.EnumField(valid_values=(INFO, WARN, ERROR)),
        'event_type': fields.ObjectField('HAEventType'),
        'publisher': fields.ObjectField('HANotificationPublisher'),
    }

    def message(self):
        """``(priority, publisher_id, event_type, payload primitive)``."""
        self.payload.obj_reset_changes(recursive=True)
        return (self.priority, self.publisher.publisher_id,
                self.event_type.to_event_type(),
                self.payload.obj_to_primitive())
