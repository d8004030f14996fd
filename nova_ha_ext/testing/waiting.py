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

"""Waiting for something another thread or process does."""

import time


def wait_for(predicate, timeout, what='the condition', details=None,
             interval=0.02):
    """Poll ``predicate()`` until it returns something true; return that.

    :raises AssertionError: after ``timeout`` seconds, saying ``what`` did
        not happen, followed by ``details()`` (e.g. a log's tail) if given.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            message = '%s did not happen within %g s' % (what, timeout)
            if details is not None:
                message += '\n' + details()
            raise AssertionError(message)
        time.sleep(interval)
