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

"""Re-publish XenServer's HA alerts: one log line and one notification each.

The pool's event watchers subscribe to ``message`` and hand every batch to
:meth:`XenServerMessages.observe`. Each HA alert
(:data:`~nova_ha_ext.xenapi.ha_messages.HA_MESSAGE_NAMES`) is logged with
the pool's name and sent as ``ha_pool.xenserver_message``, once: alerts are
remembered by uuid, in memory, for the life of the worker (the most recent
:data:`MAX_REMEMBERED`), whatever watcher saw them.

A watcher that starts again (an outage, a master failover, a pool taken
over) reads from an empty token, and xapi then lists every message it keeps:
those already re-published are not sent again, and those older than
``[ha_reconciler] xenserver_message_max_age`` are taken as history, not
news. So after a worker restarts, an alert younger than that is announced
once more; an older one never.
"""

import collections
import datetime
import logging as std_logging
import threading

from oslo_log import log as logging

from nova_ha_ext import metrics
from nova_ha_ext.notifications import objects
from nova_ha_ext.xenapi import ha_messages

LOG = logging.getLogger(__name__)

EVENT_TYPE = 'ha_pool.xenserver_message'

#: Alerts remembered, at most (xapi itself keeps about 10,000 messages).
MAX_REMEMBERED = 20000

# XenServer's priority (1 critical .. 5 informational) -> (log level,
# notification priority).
_LEVELS = {1: (std_logging.ERROR, 'error'), 2: (std_logging.ERROR, 'error'),
           3: (std_logging.WARNING, 'warn')}
_INFO = (std_logging.INFO, 'info')


class XenServerMessages:
    """Re-publish each XenServer HA alert once.

    :param notifier: an :class:`~.notifier.HANotifier`.
    :param max_age: seconds; alerts older than this, first seen when a
        watcher (re)starts, are remembered without being re-published.
    :param clock: returns the current UTC time (for tests).
    """

    def __init__(self, notifier, max_age, clock=None):
        self.notifier = notifier
        self._max_age = datetime.timedelta(seconds=max_age)
        self._clock = clock or (
            lambda: datetime.datetime.now(datetime.timezone.utc))
        self._lock = threading.Lock()
        self._seen = collections.OrderedDict()
        #: aggregate name -> (pool uuid, pool name), from pool events
        self._pools = {}
        #: How many alerts were re-published.
        self.published = 0

    def observe(self, aggregate, events, seeding=False):
        """Take in one ``event.from`` batch of a pool's watcher.

        :param aggregate: the pool's aggregate name, as the watcher's.
        :param seeding: the batch answers an empty token: it lists every
            message the pool keeps.
        """
        for event in events:
            cls = str(event.get('class', '')).lower()
            record = event.get('snapshot')
            if cls == 'pool' and isinstance(record, dict):
                self._pools[aggregate] = (
                    str(record.get('uuid', '')),
                    str(record.get('name_label', '')))
        for event in events:
            if (str(event.get('class', '')).lower() !=
                    ha_messages.EVENT_CLASS or
                    event.get('operation') != 'add' or
                    not ha_messages.is_ha(event.get('snapshot'))):
                continue
            try:
                message = ha_messages.from_record(event.get('ref'),
                                                  event['snapshot'])
            except ha_messages.BadMessage as exc:
                LOG.warning("Pool %s: a XenServer message cannot be read "
                            "(%s); it is not re-published.", aggregate, exc)
                continue
            if self._first_sight(message, seeding):
                self._publish(aggregate, message)

    def _first_sight(self, message, seeding):
        """Remember the alert; True if it is news to re-publish."""
        with self._lock:
            if message.uuid in self._seen:
                return False
            self._seen[message.uuid] = True
            while len(self._seen) > MAX_REMEMBERED:
                self._seen.popitem(last=False)
        return not (seeding and
                    self._clock() - message.timestamp > self._max_age)

    def _publish(self, aggregate, message):
        pool_uuid, pool_name = self._pools.get(aggregate, ('', ''))
        if not pool_uuid and message.cls == 'Pool':
            pool_uuid = message.obj_uuid
        level, priority = _LEVELS.get(message.priority, _INFO)
        LOG.log(level, "Pool %(pool)s (aggregate %(aggregate)s): XenServer "
                "HA says %(message)s, at %(time)s.",
                {'pool': pool_name or pool_uuid or aggregate,
                 'aggregate': aggregate, 'message': message,
                 'time': message.timestamp.isoformat()})
        self.published += 1
        metrics.ha_message(aggregate, message.name)
        if not pool_uuid:
            # The pool record comes with the watcher's first batch; an
            # alert without it cannot name its pool in a payload.
            return
        self.notifier.emit(None, EVENT_TYPE, objects.HAXenServerMessagePayload(
            pool=objects.HAPoolPayload(uuid=pool_uuid,
                                       name=pool_name or pool_uuid,
                                       aggregate=aggregate),
            uuid=message.uuid, name=message.name, priority=message.priority,
            cls=message.cls, obj_uuid=message.obj_uuid,
            timestamp=message.timestamp, body=message.body),
            priority=priority)
