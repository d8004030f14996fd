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

"""Errors of the XenAPI pool client: one type per meaning.

Every message names the pool and the URL it was talking to, never carries
a password, and quotes at most a bounded part of what a pool answered.
"""

from nova_ha_ext import urls


class PoolError(Exception):
    """Base class: something went wrong talking to a XenServer pool."""

    def __init__(self, pool, url, reason):
        self.pool = pool
        self.url = url
        self.reason = reason
        super().__init__("XenServer pool %s (%s): %s" % (pool, url, reason))


class PoolUnreachable(PoolError):
    """No member of the pool answered (refused, timed out, TLS failure)."""


class ElectingMaster(PoolUnreachable):
    """Every member refuses connections after the pool answered.

    After a master failover xapi restarts on every host; the pool comes
    back under its new master.
    """


class EventTokenLost(PoolError):
    """An ``event.from`` token outlived its session.

    Sessions do not survive a master failover, and tokens of the old
    master mean nothing on the new one: the caller must read the pool
    again and start from a new token.
    """


class AuthenticationFailed(PoolError):
    """The pool refused the configured user name and password."""


class NotMaster(PoolError):
    """Only pool members answered, and none led to a master."""


class HANotEnabled(PoolError):
    """The operation needs HA and HA is not enabled on the pool."""


class BadReply(PoolError):
    """What answered is not a XenAPI server: not XML-RPC, not a XenAPI
    answer, records without their fields, or too long an answer.
    """


class InvalidConfiguration(PoolError):
    """The connection settings cannot work (e.g. unreadable CA file)."""


class CallFailed(PoolError):
    """The pool master answered a call with a XenAPI failure."""

    def __init__(self, pool, url, method, details):
        self.method = method
        self.code = details[0] if details else 'UNKNOWN'
        self.params = list(details[1:])
        super().__init__(pool, url, "%s failed: %s" % (
            method, urls.excerpt(' '.join(
                [str(self.code)] + [str(p) for p in self.params]),
                limit=2 * urls.EXCERPT_CHARS, quote=False)))
