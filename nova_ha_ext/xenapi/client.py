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

"""A XenAPI client for one XenServer / XCP-ng pool.

:class:`PoolClient` wraps the ``XenAPI`` package's ``Session`` with what a
long-running service needs:

* it connects through any member URL and follows ``HOST_IS_SLAVE`` to the
  master;
* when the master stops answering it tries the other members it has learned
  (``host.address``) until one leads it to the new master;
* ``SESSION_INVALID`` triggers a transparent re-login (done by ``XenAPI``);
* connect and read timeouts, TLS verification on by default, an originator
  string naming nova-ha-ext, and a logout on :meth:`PoolClient.close`;
* :meth:`PoolClient.read_pool` reads a whole pool in four calls, whatever
  its size, and returns immutable values (:mod:`.pool_state`).

Threading model: a client holds one XenAPI session and serialises its calls
with a lock, so one client may be shared by the threads (or green threads)
of nova-compute or the reconciler. A call that long-polls
(:meth:`PoolClient.event_from`) holds the lock for its whole wait, so event
watchers use a client of their own.
"""

import dataclasses
import http.client
import ipaddress
import os
import ssl
import threading
import time
import urllib.parse
import xmlrpc.client

from oslo_log import log as logging
import XenAPI

from nova_ha_ext.xenapi import exceptions
from nova_ha_ext.xenapi import pool_state
from nova_ha_ext.xenapi import records
from nova_ha_ext.xenapi import unmarshal

LOG = logging.getLogger(__name__)

#: Sent with ``session.login_with_password``; shows up in xapi's logs.
ORIGINATOR = 'nova-ha-ext'
API_VERSION = '1.0'

#: Protected VMs waiting for XenServer HA to restart them
#: (:func:`records.waits_for_restart`).
WAITING_VMS_QUERY = ('field "power_state"="Halted" and '
                     'field "ha_always_run"="true" and '
                     'field "ha_restart_priority"="restart"')

#: Guest VMs: what ``read_pool`` returns of ``VM``.
GUEST_VMS_QUERY = ('field "is_control_domain"="false" and '
                   'field "is_a_template"="false" and '
                   'field "is_a_snapshot"="false"')

# Errors meaning "this URL did not answer": try another member.
_CONNECTION_ERRORS = (OSError, http.client.HTTPException,
                      xmlrpc.client.ProtocolError)

# How many HOST_IS_SLAVE redirects one call follows before giving up.
_MAX_REDIRECTS = 3

# _call_at's "the master could not be reached from this URL".
_NO_ANSWER = object()

#: How much of a reply the transport reads and parses at a time.
READ_CHUNK = 64 * 1024


class _Connection(http.client.HTTPConnection):
    """HTTP connection with separate connect and read timeouts."""

    def __init__(self, host, connect_timeout, read_timeout):
        super().__init__(host, timeout=connect_timeout)
        self._read_timeout = read_timeout

    def connect(self):
        super().connect()
        self.sock.settimeout(self._read_timeout)


class _TLSConnection(http.client.HTTPSConnection):
    """HTTPS connection with separate connect and read timeouts."""

    def __init__(self, host, connect_timeout, read_timeout, context):
        super().__init__(host, timeout=connect_timeout, context=context)
        self._read_timeout = read_timeout

    def connect(self):
        super().connect()
        self.sock.settimeout(self._read_timeout)


class _Transport(xmlrpc.client.Transport):
    """XML-RPC transport with timeouts and, for https, verified TLS.

    Replies are unmarshalled by :func:`unmarshal.loads_stream`, more than
    twice as fast as ``xmlrpc.client``'s parser, into the same values: it
    gives ``DateTime`` and ``Binary`` values, as ``xmlrpc.client`` does with
    ``use_datetime`` and ``use_builtin_types`` off, as they are here.
    """

    user_agent = ORIGINATOR

    def __init__(self, connect_timeout, read_timeout, ssl_context=None):
        super().__init__()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._ssl_context = ssl_context

    def make_connection(self, host):
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        chost, self._extra_headers, _x509 = self.get_host_info(host)
        if self._ssl_context is not None:
            conn = _TLSConnection(chost, self._connect_timeout,
                                  self._read_timeout, self._ssl_context)
        else:
            conn = _Connection(chost, self._connect_timeout,
                               self._read_timeout)
        self._connection = host, conn
        return conn

    def parse_response(self, response):
        """The params of a reply, read from ``response`` in chunks.

        As ``xmlrpc.client.Transport.parse_response``: a tuple, or raise
        ``xmlrpc.client.Fault``. A gzip-encoded reply is left to it.
        """
        if (hasattr(response, 'getheader') and
                response.getheader('Content-Encoding', '') == 'gzip'):
            return super().parse_response(response)
        return unmarshal.loads_stream(self._chunks(response))

    def _chunks(self, response):
        verbose = getattr(self, 'verbose', False)
        while True:
            chunk = response.read(READ_CHUNK)
            if not chunk:
                return
            if verbose:
                print('body:', repr(chunk))
            yield chunk


def _redact(url):
    """The URL without any user:password@ part, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ''
    if ':' in netloc:
        netloc = '[%s]' % netloc
    if parts.port:
        netloc += ':%d' % parts.port
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _member_url(url, address):
    """``url`` pointed at another pool member, keeping scheme and port."""
    parts = urllib.parse.urlsplit(url)
    host = address
    try:
        if ipaddress.ip_address(address).version == 6:
            host = '[%s]' % address
    except ValueError:
        pass
    if parts.port:
        host += ':%d' % parts.port
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


class PoolClient:
    """A XenAPI connection to one pool, safe to share between threads.

    :param url: the URL of any member of the pool (``http(s)://host[:port]``),
        or several members' URLs separated by commas, tried in order: a
        client that has never reached the pool knows only these.
    :param username: the XenAPI user.
    :param password: the XenAPI password; kept in memory only, never logged.
    :param name: the pool's name in messages (its aggregate, say); defaults
        to the URL's host.
    :param ca_file: PEM CA bundle to verify the pool's certificates with.
    :param insecure: skip TLS verification; must be asked for by name.
    :param election_timeout: how long to keep asking while members still
        name a master that does not answer (a new one is being elected).
    """

    def __init__(self, url, username, password, name=None, ca_file=None,
                 insecure=False, connect_timeout=10.0, read_timeout=60.0,
                 election_timeout=30.0, originator=ORIGINATOR):
        urls = [u.strip() for u in (url or '').split(',') if u.strip()]
        schemes = set()
        for one in urls or ['']:
            parts = urllib.parse.urlsplit(one)
            schemes.add(parts.scheme)
            if parts.scheme not in ('http', 'https') or not parts.hostname:
                raise exceptions.InvalidConfiguration(
                    name or one, _redact(one),
                    "not a XenAPI URL; expected http(s)://host[:port]")
        if len(schemes) > 1:
            raise exceptions.InvalidConfiguration(
                name or urls[0], _redact(url),
                "mixes http and https URLs; use one scheme for the pool")
        parts = urllib.parse.urlsplit(urls[0])
        self.name = name or parts.hostname
        self.url = _redact(urls[0])
        self._seed_urls = tuple(_redact(u) for u in urls[1:])
        self._username = username
        self._password = password
        self._originator = originator
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._election_timeout = election_timeout
        self._member_answered = False
        self._only_refused = True
        self._ssl_context = self._make_ssl_context(
            parts.scheme, ca_file, insecure)
        self._lock = threading.RLock()
        self._session = None
        self._session_url = None
        # Addresses of the pool's members, learned from host.address.
        self._members = ()

    @classmethod
    def from_conf(cls, conf, url=None, name=None, read_timeout=None):
        """A client configured by the ``[xenapi]`` options."""
        group = conf.xenapi
        return cls(url or group.connection_url, group.connection_username,
                   group.connection_password, name=name,
                   ca_file=group.ca_file, insecure=group.insecure,
                   connect_timeout=group.connect_timeout,
                   read_timeout=read_timeout or group.read_timeout)

    def _make_ssl_context(self, scheme, ca_file, insecure):
        if scheme != 'https':
            return None
        if insecure:
            LOG.warning("TLS certificate verification is off for XenServer "
                        "pool %s ([xenapi] insecure = True).", self.name)
            return ssl._create_unverified_context()
        if ca_file and not os.access(ca_file, os.R_OK):
            raise exceptions.InvalidConfiguration(
                self.name, self.url,
                "[xenapi] ca_file %s does not exist or is not readable"
                % ca_file)
        try:
            return ssl.create_default_context(cafile=ca_file)
        except (ssl.SSLError, ValueError, OSError) as exc:
            raise exceptions.InvalidConfiguration(
                self.name, self.url,
                "[xenapi] ca_file %s holds no usable CA certificate: %s"
                % (ca_file, exc))

    # Sessions

    def _login(self, url):
        """Log in at ``url``; return the session or raise HOST_IS_SLAVE."""
        transport = _Transport(self._connect_timeout, self._read_timeout,
                               self._ssl_context)
        session = XenAPI.Session(url, transport=transport)
        try:
            session.xenapi.login_with_password(
                self._username, self._password, API_VERSION,
                self._originator)
        except XenAPI.Failure as exc:
            details = list(exc.details)
            if details and details[0] == 'SESSION_AUTHENTICATION_FAILED':
                raise exceptions.AuthenticationFailed(
                    self.name, _redact(url),
                    "the pool refused user %r and its password; check "
                    "[xenapi] connection_username and connection_password"
                    % self._username)
            raise
        except xmlrpc.client.Fault as exc:
            raise exceptions.CallFailed(
                self.name, _redact(url), 'session.login_with_password',
                [str(exc.faultCode), exc.faultString])
        LOG.debug("Logged in to XenServer pool %s at %s", self.name,
                  _redact(url))
        return session

    def _drop_session(self, logout=False):
        session, self._session = self._session, None
        if logout and session is not None:
            try:
                session.xenapi.session.logout()
            except Exception as exc:  # the pool may be gone; say so only
                LOG.debug("Logout from pool %s failed: %s", self.name, exc)
        if session is not None:
            # ServerProxy spells "close the HTTP connection" this way;
            # session.close() would be a remote call.
            session('close')()

    def _candidate_urls(self):
        """The current master URL first, then every other known member."""
        urls = [self._session_url or self.url]
        for url in self._seed_urls:
            if url not in urls:
                urls.append(url)
        for address in self._members:
            url = _member_url(self.url, address)
            if url not in urls:
                urls.append(url)
        if self.url not in urls:
            urls.append(self.url)
        return urls

    # Calls

    def call(self, method, *args):
        """Call XenAPI ``method`` (e.g. ``'VM.get_record'``) on the master.

        :raises PoolError: a subclass naming what went wrong.
        """
        with self._lock:
            return self._call(method, args)

    def _call(self, method, args):
        deadline = time.monotonic() + self._election_timeout
        delay = 0.1
        electing = False
        while True:
            errors = []
            self._member_answered = False
            self._only_refused = True
            for url in self._candidate_urls():
                result = self._call_at(url, method, args, errors)
                if result is not _NO_ANSWER:
                    return result
            if not self._member_answered and (
                    self._session_url is None or not self._only_refused):
                raise exceptions.PoolUnreachable(
                    self.name, self.url,
                    "no pool member answered (%s)" % '; '.join(errors))
            if time.monotonic() >= deadline:
                if electing:
                    raise exceptions.ElectingMaster(
                        self.name, self.url,
                        "every pool member has refused connections for "
                        "%.0f s: the pool is electing a master, or is down "
                        "(%s)" % (self._election_timeout, '; '.join(errors)))
                raise exceptions.NotMaster(
                    self.name, self.url,
                    "pool members answer but the master they name does not "
                    "(%s); no new master was elected within %.0f s"
                    % ('; '.join(errors), self._election_timeout))
            if not self._member_answered and not electing:
                # The pool answered before: after a master failover xapi
                # restarts on every host, which refuse connections a while.
                electing = True
                LOG.info("Pool %s: every member refuses connections; "
                         "waiting up to %.0f s for it to elect a master.",
                         self.name, self._election_timeout)
            # Members still name the dead master, or none answers yet: an
            # election is under way.
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _call_at(self, url, method, args, errors):
        """Call ``method`` at ``url``, following HOST_IS_SLAVE.

        :returns: the result, or ``_NO_ANSWER`` (with the reason appended
            to ``errors``) when the master cannot be reached from here.
        """
        redirects = 0
        while True:
            try:
                if self._session is None or self._session_url != url:
                    self._drop_session()
                    self._session = self._login(url)
                    self._session_url = url
                    if method == 'event.from' and args[1]:
                        # A token belongs to the master that issued it.
                        raise exceptions.EventTokenLost(
                            self.name, _redact(url),
                            "the session of the event.from token ended; "
                            "read the pool again and start from a new token")
                return self._invoke(method, args)
            except XenAPI.Failure as exc:
                details = list(exc.details)
                code = details[0] if details else ''
                self._drop_session()
                if code != 'HOST_IS_SLAVE' or len(details) < 2:
                    raise self._translate(url, method, details)
                redirects += 1
                if redirects > _MAX_REDIRECTS:
                    raise exceptions.NotMaster(
                        self.name, _redact(url),
                        "pool members keep redirecting; last master named "
                        "was %s" % details[1])
                self._member_answered = True
                url = _member_url(self.url, details[1])
                LOG.debug("Pool %s: following HOST_IS_SLAVE to %s",
                          self.name, url)
            except ssl.SSLError as exc:
                self._drop_session()
                raise exceptions.PoolUnreachable(
                    self.name, _redact(url),
                    "TLS failure: %s; check [xenapi] ca_file" % exc)
            except _CONNECTION_ERRORS as exc:
                self._drop_session()
                errors.append('%s: %s' % (_redact(url), exc))
                if not isinstance(exc, ConnectionRefusedError):
                    self._only_refused = False
                return _NO_ANSWER
            except xmlrpc.client.Fault as exc:
                raise exceptions.CallFailed(
                    self.name, _redact(url), method,
                    [str(exc.faultCode), exc.faultString])

    def _invoke(self, method, args):
        target = self._session.xenapi
        for part in method.split('.'):
            target = getattr(target, part)
        return target(*args)

    def _translate(self, url, method, details):
        if details and details[0] == 'HA_NOT_ENABLED':
            return exceptions.HANotEnabled(
                self.name, _redact(url), "%s needs HA, which is not enabled "
                "on the pool" % method)
        return exceptions.CallFailed(self.name, _redact(url), method, details)

    def close(self):
        """Log out and drop the connection."""
        with self._lock:
            self._drop_session(logout=True)

    @property
    def master_url(self):
        """The URL of the member that answered last (the master)."""
        return self._session_url

    # Pool reads

    def _read_ha(self, pool_records, host_records, metrics_records):
        try:
            ha = records.ha_state(pool_records, host_records,
                                  metrics_records)
        except records.NoPoolRecord:
            raise exceptions.CallFailed(self.name, self.url,
                                        'pool.get_all_records', ['NO_POOL'])
        self._members = tuple(h.address for h in ha.hosts if h.address)
        return ha

    def _read_hosts(self):
        return self._read_ha(
            self._call('pool.get_all_records', ()),
            self._call('host.get_all_records', ()),
            self._call('host_metrics.get_all_records', ()))

    def read_ha_state(self):
        """Read the pool's HA state and hosts: four calls."""
        with self._lock:
            ha = self._read_hosts()
            waiting = self._call('VM.get_all_where', (WAITING_VMS_QUERY,))
        return dataclasses.replace(ha, waiting_restarts=len(waiting))

    def read_pool(self):
        """Read the whole pool in four calls, whatever its size.

        :returns: a :class:`pool_state.PoolSnapshot`.
        """
        with self._lock:
            ha = self._read_hosts()
            vm_records = self._call('VM.get_all_records_where',
                                    (GUEST_VMS_QUERY,))
        return records.snapshot(ha, vm_records)

    def find_vm(self, nova_uuid, name_label=None):
        """The ref of the VM whose ``other_config`` names this instance.

        Looks the VM up by ``name_label`` first (one or two calls), then
        scans the guest VMs.

        :returns: the VM ref, or None if no VM claims the instance.
        """
        with self._lock:
            if name_label:
                for ref in self._call('VM.get_by_name_label', (name_label,)):
                    other = self._call('VM.get_other_config', (ref,))
                    if other.get(pool_state.NOVA_UUID_KEY) == nova_uuid:
                        return ref
            records = self._call('VM.get_all_records_where',
                                 (GUEST_VMS_QUERY,))
        for ref, rec in records.items():
            if rec['other_config'].get(pool_state.NOVA_UUID_KEY) == nova_uuid:
                return ref
        return None

    def set_restart_priority(self, vm_ref, priority):
        """Set ``VM.ha_restart_priority`` (``restart`` protects the VM)."""
        self.call('VM.set_ha_restart_priority', vm_ref, priority)

    def event_from(self, classes, token, timeout):
        """One ``event.from`` long-poll; returns xapi's result struct.

        Host records among the events teach the client the pool's members,
        where it looks for a new master after a failover.

        :raises EventTokenLost: the client had to log in again (a master
            failover ends every session): read the pool again and start
            from a new token; the client itself is fine.
        """
        result = self.call('event.from', list(classes), token,
                           float(timeout))
        addresses = {e['snapshot'].get('address')
                     for e in result.get('events', ())
                     if e.get('class') == 'host' and e.get('snapshot')}
        addresses.discard(None)
        if addresses - set(self._members):
            self._members = tuple(self._members) + tuple(
                sorted(addresses - set(self._members)))
        return result
