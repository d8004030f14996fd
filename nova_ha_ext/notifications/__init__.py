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

"""Versioned notifications of nova-ha-ext, sent with oslo.messaging.

The reconciler writes Nova's database itself, so nothing that listens to
Nova's notifications sees a relocation; these notifications say what it
did and saw, in Nova's versioned format but under the project's own
publisher (``nova-ha-reconciler:<host>``) and event types:

* :mod:`.base`: the versioned object classes every notification is made
  of (as ``nova/notifications/objects/base.py``);
* :mod:`.objects`: the payloads and notifications, one sample each in
  ``doc/notifications/``;
* :mod:`.notifier`: the oslo.messaging notifier, configured as Nova's is
  (``[oslo_messaging_notifications]``, ``[notifications]``), sending from
  a thread of its own so that a broker outage never holds up a pass;
* :mod:`.passes`: what a reconciler pass announces, and the memory of what
  was announced;
* :mod:`.xenserver`: XenServer's own HA messages, re-published once each.
"""
