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

"""XenServer's alerts: the pool's ``message`` objects, as xapi makes them.

xapi tells the administrator about HA with messages
(``ocaml/xapi-consts/api_messages.ml``: each name has one priority, 1
critical to 5 informational) created by ``Xapi_message.create``
(``xapi_message.ml``) through ``Xapi_alert.add``.  A message is a record of
``uuid``, ``name``, ``priority``, ``cls`` (the class of the object it is
about), ``obj_uuid``, ``timestamp`` and ``body``; it never changes, and
``event.from`` reports it once as an ``add`` to subscribers of ``message``
(``xapi_event.ml`` ``from_inner``; a token of the empty string lists every
message the pool keeps).  The simulator keeps messages in its database, so
they survive a master failover as xapi's on-disk ones do.

:func:`create` runs under the pool's lock, from where xapi raises each
alert (:mod:`.failover`, :mod:`.pool_ha`).
"""

from nova_ha_ext.simulator.database import Failure
from nova_ha_ext.simulator import datamodel

#: api_messages.ml: the HA alerts and their priorities.
HA_STATEFILE_LOST = ('HA_STATEFILE_LOST', 2)
HA_HEARTBEAT_APPROACHING_TIMEOUT = ('HA_HEARTBEAT_APPROACHING_TIMEOUT', 5)
HA_STATEFILE_APPROACHING_TIMEOUT = ('HA_STATEFILE_APPROACHING_TIMEOUT', 5)
HA_XAPI_HEALTHCHECK_APPROACHING_TIMEOUT = (
    'HA_XAPI_HEALTHCHECK_APPROACHING_TIMEOUT', 5)
HA_NETWORK_BONDING_ERROR = ('HA_NETWORK_BONDING_ERROR', 3)
HA_POOL_OVERCOMMITTED = ('HA_POOL_OVERCOMMITTED', 3)
HA_POOL_DROP_IN_PLAN_EXISTS_FOR = ('HA_POOL_DROP_IN_PLAN_EXISTS_FOR', 3)
HA_PROTECTED_VM_RESTART_FAILED = ('HA_PROTECTED_VM_RESTART_FAILED', 2)
HA_HOST_FAILED = ('HA_HOST_FAILED', 3)
HA_HOST_WAS_FENCED = ('HA_HOST_WAS_FENCED', 4)

#: ``enum cls`` value -> the simulator's table of such objects (those it
#: does not model hold no object, so a message about one is refused).
_TABLES = {'VM': 'VM', 'Host': 'host', 'SR': 'SR', 'Pool': 'pool',
           'VDI': 'VDI'}


def create(db, name, priority, cls, obj_uuid, body):
    """Create a message (``Xapi_message.create``); returns it.

    Refused as xapi does when ``obj_uuid`` names no object of ``cls``:
    ``UUID_INVALID`` (``check_uuid``). (xapi also refuses a body that is
    not UTF-8; a body decoded from the wire always is.)
    """
    table = _TABLES.get(cls)
    if table is None or not any(obj['uuid'] == obj_uuid
                                for obj in db.all(table)):
        raise Failure('UUID_INVALID', cls, obj_uuid)
    return db.create('message', {
        'name': name, 'priority': int(priority), 'cls': cls,
        'obj_uuid': obj_uuid, 'timestamp': datamodel.now(), 'body': body})


def alert(db, message, cls, obj_uuid, body=''):
    """``Xapi_alert.add``: one of the named alerts above, at its priority."""
    name, priority = message
    return create(db, name, priority, cls, obj_uuid, body)
