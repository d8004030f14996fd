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

"""The sessions of one simulated pool.

Like xapi's, sessions are not persisted: a master failover ends them all
(:meth:`Sessions.expire_all`).  At most :data:`MAX_SESSIONS_PER_ORIGINATOR`
are kept per originator, the oldest destroyed first.
"""

import collections
import time

from nova_ha_ext.simulator.database import Failure
from nova_ha_ext.simulator import datamodel

# xapi keeps at most this many sessions per originator (and without one),
# destroying the oldest: a client that never logs out loses old sessions.
MAX_SESSIONS_PER_ORIGINATOR = 500
MAX_SESSIONS_WITHOUT_ORIGINATOR = 400
SESSION_LOG_SIZE = 10000
# What xapi passes on from PAM for a wrong user name or password
# (xapi_session.ml login_with_password: [uname; msg]).
PAM_FAILURE = 'Authentication failure'


class Sessions(object):
    """Log in, check and end sessions; remember them for the control API.

    Runs under the owning pool's lock, whose condition ``changed`` wakes
    ``event.from`` callers when a session ends.
    """

    def __init__(self, db, username, password):
        self.db = db
        self.username = username
        self.password = password
        self.log = collections.OrderedDict()
        self._by_originator = collections.defaultdict(
            collections.OrderedDict)

    def login(self, username, password, originator, host_ref, hostname):
        if username != self.username or password != self.password:
            raise Failure('SESSION_AUTHENTICATION_FAILED', username,
                          PAM_FAILURE)
        now = datamodel.now()
        session = self.db.create('session', {
            'this_host': host_ref,
            'this_user': datamodel.NULL_REF,
            'last_active': now,
            'validation_time': now,
            'pool': False,
            'is_local_superuser': True,
            'auth_user_name': username,
            'tasks': [],
            'originator': originator,
        })
        self.log[session.ref] = {
            'ref': session.ref, 'uuid': session.uuid,
            'username': username, 'originator': originator,
            'host': hostname, 'created': time.time(),
            'logged_out': False, 'expired': False,
        }
        while len(self.log) > SESSION_LOG_SIZE:
            self.log.popitem(last=False)
        sessions = self._by_originator[originator]
        sessions[session.ref] = True
        limit = (MAX_SESSIONS_PER_ORIGINATOR if originator
                 else MAX_SESSIONS_WITHOUT_ORIGINATOR)
        while len(sessions) > limit:
            oldest, _true = sessions.popitem(last=False)
            self._end(oldest, 'expired')
        return session.ref

    def _end(self, ref, how):
        session = self.db.tables['session'].get(ref)
        if session is not None:
            self._by_originator[session['originator']].pop(ref, None)
            self.db.destroy(session)
        if ref in self.log:
            self.log[ref][how] = True

    def get(self, ref):
        """The live session of a ref, or SESSION_INVALID."""
        session = self.db.tables['session'].get(ref)
        if session is None:
            raise Failure('SESSION_INVALID', ref)
        return session

    def logout(self, ref):
        self.get(ref)
        self._end(ref, 'logged_out')

    def expire_all(self):
        """Every session ends (expiry, or a restart of xapi on the master)."""
        for session in list(self.db.all('session')):
            self._end(session.ref, 'expired')

    def infos(self):
        return [dict(info) for info in self.log.values()]
