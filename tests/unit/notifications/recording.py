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

"""A stand-in for HANotifier in unit tests: it keeps what it is given."""


class RecordingNotifier:
    enabled = True

    def __init__(self):
        self.sent = []

    def emit(self, context, event_type, payload, priority=None):
        payload.obj_to_primitive()  # every field set and of its type
        self.sent.append((event_type, payload))

    def of(self, event_type):
        return [p for t, p in self.sent if t == event_type]
