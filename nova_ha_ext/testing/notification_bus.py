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

"""A real oslo.messaging notification listener on the in-memory transport.

oslo.messaging's ``fake`` driver is a message bus in the process: the
notifier under test sends through it with the ``messaging`` notification
driver, and :class:`NotificationBus` receives what a consumer of the bus
would, by topic, through a notification listener.
"""

import threading

import oslo_messaging as messaging

from nova_ha_ext.testing import waiting


class NotificationBus:
    """Listen on ``topic`` of an in-memory transport; keep what arrives.

    :param conf: a ``ConfigOpts``; the transport registers
        ``[oslo_messaging_notifications]`` on it.
    :param transport: another bus's transport, to listen to another topic.
    """

    def __init__(self, conf, topic='versioned_notifications',
                 transport=None):
        self.transport = transport or messaging.get_notification_transport(
            conf, url='fake:/')
        self._received = []
        self._lock = threading.Lock()
        self._listener = messaging.get_notification_listener(
            self.transport, [messaging.Target(topic=topic)], [self],
            executor='threading')

    def start(self):
        self._listener.start()
        return self

    def stop(self):
        self._listener.stop()
        self._listener.wait()

    def _record(self, priority, publisher_id, event_type, payload,
                metadata):
        with self._lock:
            self._received.append({'priority': priority,
                                   'publisher_id': publisher_id,
                                   'event_type': event_type,
                                   'payload': payload,
                                   'timestamp': metadata['timestamp']})

    # The listener's endpoint: one method per priority. Its executor may
    # hand notifications over concurrently: they are put back in the order
    # they were sent by their timestamps.
    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('INFO', publisher_id, event_type, payload, metadata)

    def warn(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('WARN', publisher_id, event_type, payload, metadata)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record('ERROR', publisher_id, event_type, payload, metadata)

    @property
    def received(self):
        """Everything that arrived, in the order it was sent."""
        with self._lock:
            return sorted(self._received, key=lambda n: n['timestamp'])

    def of(self, event_type):
        """What arrived of one event type, in the order it was sent."""
        return [n for n in self.received if n['event_type'] == event_type]

    def wait_for_all(self, notifier, timeout=10.0):
        """Wait until everything ``notifier`` (an ``HANotifier``) sent
        arrived: after it, what did not arrive was not sent.
        """
        assert notifier.flush(timeout)
        waiting.wait_for(lambda: len(self.received) >= notifier.sent,
                         timeout, '%d notification(s)' % notifier.sent)
        return self.received

    def wait_for(self, event_type, count=1, timeout=10.0):
        """Wait until ``count`` notifications of ``event_type`` arrived."""
        return waiting.wait_for(
            lambda: len(self.of(event_type)) >= count and
            self.of(event_type), timeout,
            '%d %s notification(s)' % (count, event_type),
            details=lambda: 'received: %s' % [
                n['event_type'] for n in self.received])


def data(notification):
    """The payload's fields, nested objects' fields too."""
    def unwrap(value):
        if isinstance(value, dict) and 'nova_ha_ext_object.data' in value:
            return {k: unwrap(v) for k, v in
                    value['nova_ha_ext_object.data'].items()}
        return value
    return unwrap(notification['payload'])
