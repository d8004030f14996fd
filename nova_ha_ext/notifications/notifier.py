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

"""Send notifications with oslo.messaging, configured as Nova is.

:class:`HANotifier` reads the options Nova's own notifier reads, from the
same nova.conf: ``[oslo_messaging_notifications] driver``,
``transport_url`` and ``retry``, ``[notifications] notification_format``
and ``versioned_notifications_topics``. Like Nova, it sends versioned
notifications only when the format is ``versioned`` or ``both`` and a
driver other than ``noop`` is set; nova-ha-ext has no unversioned
notifications, so ``unversioned`` (Nova's default) sends none.

Notifications go out from one thread of the notifier's own, in the order
they were emitted, from a bounded queue: with the broker down and
oslo.messaging retrying (``retry = -1``, the default, retries forever), a
pass still finishes and the reconciler still relocates. When the queue is
full the newest notification is dropped with a warning; the reconciler's
log says the same things.
"""

import collections
import socket
import threading

from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_messaging import serializer as om_serializer

from nova_ha_ext.notifications import objects

LOG = logging.getLogger(__name__)

#: The notification formats that include versioned notifications.
VERSIONED_FORMATS = ('versioned', 'both')

#: Notifications waiting to be sent, at most.
MAX_QUEUED = 1000


class _ContextSerializer(om_serializer.JsonPayloadSerializer):
    """A Nova ``RequestContext`` travels as its dict, as Nova sends it."""

    def serialize_context(self, context):
        if context is None:
            return {}
        to_dict = getattr(context, 'to_dict', None)
        return to_dict() if to_dict is not None else dict(context)


def versioned_enabled(conf):
    """Whether nova.conf asks for versioned notifications at all.

    False where Nova's options are not registered (a bare ``ConfigOpts``).
    """
    try:
        return conf.notifications.notification_format in VERSIONED_FORMATS
    except (AttributeError, KeyError):
        return False


class HANotifier:
    """Emit nova-ha-ext's notifications on Nova's notification settings.

    :param conf: the ``ConfigOpts`` holding nova.conf.
    :param host: the host in ``publisher_id``; this machine's name when
        None (Nova's ``[DEFAULT] host`` when set).
    :param transport: an oslo.messaging notification transport; one from
        ``conf`` when None (it connects when the first notification is
        sent).
    """

    def __init__(self, conf, host=None, transport=None):
        self._conf = conf
        self.host = host or getattr(conf, 'host', None) or \
            socket.gethostname()
        self._transport = transport
        self._notifier = None
        self._queue = collections.deque()
        self._cond = threading.Condition()
        self._sending = False
        self._thread = None
        self._closed = False
        self.sent = 0
        self.dropped = 0
        #: Whether notifications are sent at all.
        self.enabled = versioned_enabled(conf)
        if self.enabled:
            if self._transport is None:
                self._transport = messaging.get_notification_transport(conf)
            self._notifier = messaging.Notifier(
                self._transport, serializer=_ContextSerializer(),
                topics=conf.notifications.versioned_notifications_topics)
            self.enabled = self._notifier.is_enabled()

    def emit(self, context, event_type, payload, priority=None):
        """Queue one notification; returns at once.

        :param payload: a payload object of :mod:`.objects`, every field
            set.
        """
        if not self.enabled:
            return
        note = objects.notification(event_type, self.host, payload,
                                    priority)
        message = note.message()
        with self._cond:
            if self._closed:
                return
            if len(self._queue) >= MAX_QUEUED:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % MAX_QUEUED == 0:
                    LOG.warning("%d notification(s) not sent: %d wait for "
                                "the message bus already (%s).",
                                self.dropped, len(self._queue), event_type)
                return
            self._queue.append((context, message))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._send_loop, name='ha-notifier', daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _send_loop(self):
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                context, message = self._queue.popleft()
                self._sending = True
            try:
                self._send(context, message)
            finally:
                with self._cond:
                    self._sending = False
                    self._cond.notify_all()

    def _send(self, context, message):
        priority, publisher_id, event_type, payload = message
        try:
            notify = getattr(self._notifier.prepare(
                publisher_id=publisher_id), priority)
            notify(context, event_type, payload)
            self.sent += 1
        except Exception:
            LOG.exception("Could not send notification %s", event_type)

    def flush(self, timeout=None):
        """Wait until every queued notification was sent; True if so."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._queue and not self._sending, timeout)

    def close(self, timeout=5.0):
        """Send what is queued (up to ``timeout``), then stop."""
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
