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

:class:`PoolClient` wraps a XenAPI session (the ``XenAPI`` package's over
XML-RPC, or :mod:`.jsonrpc`'s) with what a long-running service needs:

* it speaks JSON-RPC to the members that answer on ``/jsonrpc`` and
  XML-RPC to those that do not (``[xenapi] protocol``), finding out once per
  member, at its first login;

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

import contextlib
import dataclasses
import http.client
import io
import ipaddress
import os
import re
import ssl
import threading
import time
import urllib.parse
import xmlrpc.client
import zlib

from oslo_log import log as logging
import XenAPI

from nova_ha_ext import urls
from nova_ha_ext.xenapi import exceptions
from nova_ha_ext.xenapi import jsonrpc
from nova_ha_ext.xenapi import pool_memory
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

# Errors meaning "this URL answered, but not as a XenAPI server does"
# (xmlrpc.client.ResponseError covers unmarshal.MalformedResponse).
_BAD_REPLY_ERRORS = (xmlrpc.client.ResponseError, UnicodeError)

# How many HOST_IS_SLAVE redirects one call follows before giving up.
_MAX_REDIRECTS = 3

# What a pool may give as a member's address (host.address, HOST_IS_SLAVE).
_ADDRESS = re.compile(r'[A-Za-z0-9._:%-]{1,255}\Z')

# _call_at's "the master could not be reached from this URL".
_NO_ANSWER = object()

#: How much of a reply the transport reads and parses at a time.
READ_CHUNK = 64 * 1024

#: The default of ``[xenapi] max_reply_mb``, in bytes.
MAX_REPLY_BYTES = 512 * 1024 * 1024

#: ``[xenapi] protocol``: JSON-RPC where a member serves it, else XML-RPC.
AUTO = 'auto'
JSONRPC = 'jsonrpc'
XMLRPC = 'xmlrpc'
PROTOCOLS = (AUTO, JSONRPC, XMLRPC)


class CallTimeout(TimeoutError):
    """The call's deadline passed before its answer was complete."""


class ReplyTooLarge(xmlrpc.client.ResponseError):
    """A reply longer than the client accepts."""


class _Deadline:
    """When the call under way must be over (``time.monotonic()``)."""

    def __init__(self):
        self.at = float('inf')

    def remaining(self, limit):
        """Seconds left, at most ``limit``; raise once none are left."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise CallTimeout('no complete answer before the call\'s '
                              'deadline ([xenapi] call_timeout)')
        return min(limit, left)


class _SocketReader(io.RawIOBase):
    """A socket's reads, each within the read timeout and the deadline.

    ``read_timeout`` alone bounds one wait for data: a server sending a
    byte now and then would hold a call for ever.
    """

    def __init__(self, sock, read_timeout, deadline):
        super().__init__()
        self._sock = sock
        self._read_timeout = read_timeout
        self._deadline = deadline

    def readable(self):
        return True

    def readinto(self, buffer):
        self._sock.settimeout(self._deadline.remaining(self._read_timeout))
        return self._sock.recv_into(buffer)


class _Response(http.client.HTTPResponse):
    """An HTTP response whose every read keeps to the call's deadline."""

    def __init__(self, sock, read_timeout, deadline, **kwargs):
        super().__init__(sock, **kwargs)
        self.fp.close()
        self.fp = io.BufferedReader(
            _SocketReader(sock, read_timeout, deadline))


class _ConnectionMixin:
    """Separate connect and read timeouts, and the call's deadline."""

    def _setup(self, read_timeout, deadline):
        self._connect_timeout = self.timeout
        self._read_timeout = read_timeout
        self._deadline = deadline

    def response_class(self, sock, **kwargs):
        return _Response(sock, self._read_timeout, self._deadline, **kwargs)

    def connect(self):
        self.timeout = self._deadline.remaining(self._connect_timeout)
        super().connect()
        self.sock.settimeout(self._deadline.remaining(self._read_timeout))


class _Connection(_ConnectionMixin, http.client.HTTPConnection):
    """HTTP connection with separate connect and read timeouts."""

    def __init__(self, host, connect_timeout, read_timeout, deadline):
        super().__init__(host, timeout=connect_timeout)
        self._setup(read_timeout, deadline)


class _TLSConnection(_ConnectionMixin, http.client.HTTPSConnection):
    """HTTPS connection with separate connect and read timeouts."""

    def __init__(self, host, connect_timeout, read_timeout, deadline,
                 context):
        super().__init__(host, timeout=connect_timeout, context=context)
        self._setup(read_timeout, deadline)


def _check_envelope(params):
    """Raise ``MalformedResponse`` unless ``params`` is a XenAPI answer.

    The ``XenAPI`` package reads ``Status``, ``Value`` and
    ``ErrorDescription`` without checking them first.
    """
    result = params[0] if len(params) == 1 else None
    status = result.get('Status') if isinstance(result, dict) else None
    if status == 'Success' and 'Value' in result:
        return
    if status == 'Failure':
        error = result.get('ErrorDescription')
        if (isinstance(error, list) and error and
                isinstance(error[0], str) and error[0]):
            return
        raise unmarshal.MalformedResponse(
            'a XenAPI failure without an error code: ErrorDescription is '
            '%s' % urls.excerpt(error))
    raise unmarshal.MalformedResponse(
        'not a XenAPI answer (a struct with Status Success and a Value, or '
        'Failure and an ErrorDescription): %s'
        % urls.excerpt(params[0] if len(params) == 1 else params))


class _Transport(xmlrpc.client.Transport):
    """XML-RPC transport with timeouts and, for https, verified TLS.

    Replies are unmarshalled by :func:`unmarshal.loads_stream`, more than
    twice as fast as ``xmlrpc.client``'s parser, into the same values: it
    gives ``DateTime`` and ``Binary`` values, as ``xmlrpc.client`` does with
    ``use_datetime`` and ``use_builtin_types`` off, as they are here.

    Every read of a reply keeps to :attr:`deadline`, which the client sets
    for each call, and a reply longer than ``max_reply_bytes`` (once
    decompressed) is refused.
    """

    user_agent = ORIGINATOR

    def __init__(self, connect_timeout, read_timeout, ssl_context=None,
                 max_reply_bytes=MAX_REPLY_BYTES, deadline=None):
        super().__init__()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._ssl_context = ssl_context
        self._max_reply_bytes = max_reply_bytes
        self.deadline = deadline or _Deadline()

    def make_connection(self, host):
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        chost, self._extra_headers, _x509 = self.get_host_info(host)
        if self._ssl_context is not None:
            conn = _TLSConnection(chost, self._connect_timeout,
                                  self._read_timeout, self.deadline,
                                  self._ssl_context)
        else:
            conn = _Connection(chost, self._connect_timeout,
                               self._read_timeout, self.deadline)
        self._connection = host, conn
        return conn

    def parse_response(self, response):
        """The params of a reply, read from ``response`` in chunks.

        As ``xmlrpc.client.Transport.parse_response``: a tuple, or raise
        ``xmlrpc.client.Fault``; and raise ``MalformedResponse`` for
        anything that is not a XenAPI answer.
        """
        params = unmarshal.loads_stream(self._chunks(response))
        _check_envelope(params)
        return params

    def read_reply(self, response):
        """A whole reply's bytes, as a ``bytearray``, within the limits."""
        data = bytearray()
        for chunk in self._chunks(response):
            data += chunk
        return data

    def _chunks(self, response):
        verbose = getattr(self, 'verbose', False)
        limit = self._max_reply_bytes
        header = getattr(response, 'getheader', lambda name, default: '')
        length = header('Content-Length', '') or ''
        if length.isdigit() and int(length) > limit:
            raise self._too_large(int(length))
        gunzip = (zlib.decompressobj(16 + zlib.MAX_WBITS)
                  if header('Content-Encoding', '') == 'gzip' else None)
        size = 0
        while True:
            data = response.read(READ_CHUNK)
            chunk = data
            if gunzip is not None:
                # Never more than one byte past the limit: a small gzip
                # reply may stand for gigabytes.
                chunk = (gunzip.decompress(data, limit - size + 1) if data
                         else gunzip.flush())
            if not data and not chunk:
                return
            size += len(chunk)
            if size > limit:
                raise self._too_large(size)
            if verbose:
                print('body:', repr(chunk))
            yield chunk

    def _too_large(self, size):
        return ReplyTooLarge(
            'the reply is larger than the %d bytes [xenapi] max_reply_mb '
            'allows (%d bytes read or announced); raise it if the pool is '
            'that big' % (self._max_reply_bytes, size))


def _member_url(url, address):
    """``url`` pointed at another pool member, keeping scheme and port.

    :raises ValueError: ``address`` is not a host name or IP address.
    """
    if not isinstance(address, str) or not _ADDRESS.match(address):
        raise ValueError('a pool member address must be a host name or IP '
                         'address, not %s' % urls.excerpt(address))
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


def ssl_context(scheme, ca_file=None, insecure=False):
    """The TLS context for a pool's URL scheme; None for plain http.

    :raises ValueError: ``ca_file`` cannot be read or holds no CA
        certificate.
    """
    if scheme != 'https':
        return None
    if insecure:
        return ssl._create_unverified_context()
    if ca_file and not os.access(ca_file, os.R_OK):
        raise ValueError("%s does not exist or is not readable" % ca_file)
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (ssl.SSLError, ValueError, OSError) as exc:
        raise ValueError("%s holds no usable CA certificate: %s"
                         % (ca_file, exc))


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
    :param allow_plain_http: accept ``http://`` URLs, over which the
        password travels in clear.
    :param call_timeout: the most one call may take in all: logging in,
        following the master, trying members and reading the whole answer.
        ``read_timeout`` bounds each wait for data within it.
    :param max_reply_bytes: the longest answer accepted.
    :param protocol: ``auto`` (JSON-RPC with the members that serve it,
        XML-RPC with the others), ``jsonrpc`` or ``xmlrpc``.
    """

    def __init__(self, url, username, password, name=None, ca_file=None,
                 insecure=False, connect_timeout=10.0, read_timeout=60.0,
                 election_timeout=30.0, originator=ORIGINATOR,
                 allow_plain_http=False, call_timeout=120.0,
                 max_reply_bytes=MAX_REPLY_BYTES, protocol=AUTO):
        try:
            member_urls = urls.pool_urls(url, allow_plain_http)
        except urls.BadURL as exc:
            raise exceptions.InvalidConfiguration(
                name or 'of this host', urls.excerpt(urls.redact(url or ''),
                                                     quote=False),
                str(exc)) from None
        parts = urllib.parse.urlsplit(member_urls[0])
        self.name = name or parts.hostname
        self.url = member_urls[0]
        self._seed_urls = member_urls[1:]
        self._username = username
        self._password = password
        self._originator = originator
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._call_timeout = call_timeout
        self._max_reply_bytes = max_reply_bytes
        self._election_timeout = election_timeout
        if protocol not in PROTOCOLS:
            raise exceptions.InvalidConfiguration(
                self.name, self.url,
                "[xenapi] protocol is %s; it must be one of %s" % (
                    urls.excerpt(protocol), ', '.join(PROTOCOLS)))
        self._protocol = protocol
        # Each member's protocol once known, by URL.
        self._protocols = {}
        self._deadline = _Deadline()
        self._member_answered = False
        self._only_refused = True
        try:
            self._ssl_context = ssl_context(parts.scheme, ca_file, insecure)
        except ValueError as exc:
            raise exceptions.InvalidConfiguration(
                self.name, self.url, "[xenapi] ca_file %s" % exc) from None
        if insecure and parts.scheme == 'https':
            LOG.warning("TLS certificate verification is off for XenServer "
                        "pool %s ([xenapi] insecure = True).", self.name)
        self._lock = threading.RLock()
        self._session = None
        self._session_url = None
        # Addresses of the pool's members, learned from host.address.
        self._members = ()

    @classmethod
    def from_conf(cls, conf, url=None, name=None, read_timeout=None,
                  call_timeout=None):
        """A client configured by the ``[xenapi]`` options."""
        group = conf.xenapi
        return cls(url or group.connection_url, group.connection_username,
                   group.connection_password, name=name,
                   ca_file=group.ca_file, insecure=group.insecure,
                   connect_timeout=group.connect_timeout,
                   read_timeout=read_timeout or group.read_timeout,
                   call_timeout=call_timeout or group.call_timeout,
                   max_reply_bytes=group.max_reply_mb * 1024 * 1024,
                   allow_plain_http=group.allow_plain_http,
                   protocol=group.protocol)

    # Sessions

    def _transport(self):
        return _Transport(self._connect_timeout, self._read_timeout,
                          self._ssl_context, self._max_reply_bytes,
                          self._deadline)

    def _login(self, url):
        """Log in at ``url``; return the session or raise HOST_IS_SLAVE.

        Over JSON-RPC unless ``url`` is known not to serve it, or the
        client is told to use XML-RPC; with ``auto``, a member that does
        not serve JSON-RPC is asked again over XML-RPC, and remembered.
        """
        protocol = self._protocols.get(url, self._protocol)
        if protocol != XMLRPC:
            try:
                session = self._login_with(
                    jsonrpc.Session(url, self._transport()), url)
            except jsonrpc.NotServed as exc:
                if protocol == JSONRPC:
                    raise jsonrpc.NotServed(
                        '%s; [xenapi] protocol = jsonrpc needs a XenAPI '
                        'that serves it (auto falls back to XML-RPC)'
                        % exc) from None
                LOG.info("Pool %s: %s does not serve XenAPI JSON-RPC (%s); "
                         "using XML-RPC with it.", self.name, url,
                         urls.excerpt(str(exc), quote=False))
                self._protocols[url] = XMLRPC
            else:
                self._protocols[url] = JSONRPC
                return session
        session = self._login_with(
            XenAPI.Session(url, transport=self._transport()), url)
        self._protocols[url] = XMLRPC
        return session

    def _login_with(self, session, url):
        """Log ``session`` in at ``url`` and return it; close it if not."""
        try:
            self._login_with_password(session, url)
        except BaseException:
            session('close')()
            raise
        LOG.debug("Logged in to XenServer pool %s at %s (%s)", self.name,
                  url, 'JSON-RPC' if isinstance(session, jsonrpc.Session)
                  else 'XML-RPC')
        return session

    def _login_with_password(self, session, url):
        try:
            session.xenapi.login_with_password(
                self._username, self._password, API_VERSION,
                self._originator)
        except XenAPI.Failure as exc:
            details = list(exc.details)
            if details and details[0] == 'SESSION_AUTHENTICATION_FAILED':
                raise exceptions.AuthenticationFailed(
                    self.name, url,
                    "the pool refused user %r and its password; check "
                    "[xenapi] connection_username and connection_password"
                    % self._username)
            raise
        except xmlrpc.client.Fault as exc:
            raise exceptions.CallFailed(
                self.name, url, 'session.login_with_password',
                [str(exc.faultCode), exc.faultString])

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

        :raises PoolError: a subclass naming what went wrong, whatever the
            pool answered.
        """
        with self._lock:
            return self._call(method, args)

    def _call(self, method, args):
        start = time.monotonic()
        self._deadline.at = start + self._call_timeout
        try:
            return self._call_until(method, args, start)
        finally:
            self._deadline.at = float('inf')

    def _call_until(self, method, args, start):
        election_deadline = start + self._election_timeout
        delay = 0.1
        electing = False
        while True:
            errors = []
            bad_replies = []
            self._member_answered = False
            self._only_refused = True
            for url in self._candidate_urls():
                if time.monotonic() >= self._deadline.at:
                    break
                result = self._call_at(url, method, args, errors,
                                       bad_replies)
                if result is not _NO_ANSWER:
                    return result
            now = time.monotonic()
            if electing and now >= min(election_deadline, self._deadline.at):
                raise exceptions.ElectingMaster(
                    self.name, self.url,
                    "every pool member has refused connections for %.0f s: "
                    "the pool is electing a master, or is down (%s)"
                    % (now - start, '; '.join(errors)))
            if now >= self._deadline.at:
                raise exceptions.PoolUnreachable(
                    self.name, self.url,
                    "%s got no complete answer within %g s ([xenapi] "
                    "call_timeout) (%s)" % (
                        method, self._call_timeout,
                        '; '.join(bad_replies + errors)))
            if bad_replies:
                raise exceptions.BadReply(
                    self.name, self.url,
                    "%s: no pool member gave a XenAPI answer (%s); check "
                    "that the URL names a XenServer host's XenAPI" % (
                        method, '; '.join(bad_replies + errors)))
            if not self._member_answered and (
                    self._session_url is None or not self._only_refused):
                raise exceptions.PoolUnreachable(
                    self.name, self.url,
                    "no pool member answered (%s)" % '; '.join(errors))
            if now >= election_deadline:
                raise exceptions.NotMaster(
                    self.name, self.url,
                    "pool members answer but the master they name does not "
                    "(%s); no new master was elected within %.0f s"
                    % ('; '.join(errors), now - start))
            if not self._member_answered and not electing:
                # The pool answered before: after a master failover xapi
                # restarts on every host, which refuse connections a while.
                electing = True
                LOG.info("Pool %s: every member refuses connections; "
                         "waiting up to %.0f s for it to elect a master.",
                         self.name, self._election_timeout)
            # Members still name the dead master, or none answers yet: an
            # election is under way.
            time.sleep(min(delay, max(0.0,
                                      self._deadline.at - time.monotonic())))
            delay = min(delay * 2, 1.0)

    def _call_at(self, url, method, args, errors, bad_replies):
        """Call ``method`` at ``url``, following HOST_IS_SLAVE.

        :returns: the result, or ``_NO_ANSWER`` (with the reason appended
            to ``errors``, or to ``bad_replies`` if what answered is not a
            XenAPI server) when the master cannot be reached from here.
        """
        redirects = 0
        while True:
            calling = method
            try:
                if self._session is None or self._session_url != url:
                    self._drop_session()
                    calling = 'session.login_with_password'
                    self._session = self._login(url)
                    self._session_url = url
                    if method == 'event.from' and args[1]:
                        # A token belongs to the master that issued it.
                        raise exceptions.EventTokenLost(
                            self.name, url,
                            "the session of the event.from token ended; "
                            "read the pool again and start from a new token")
                    calling = method
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
                        self.name, url,
                        "pool members keep redirecting; last master named "
                        "was %s" % urls.excerpt(details[1]))
                self._member_answered = True
                try:
                    url = _member_url(self.url, details[1])
                except ValueError as exc:
                    bad_replies.append('%s: %s' % (url, exc))
                    return _NO_ANSWER
                LOG.debug("Pool %s: following HOST_IS_SLAVE to %s",
                          self.name, url)
            except ssl.SSLError as exc:
                self._drop_session()
                raise exceptions.PoolUnreachable(
                    self.name, url,
                    "TLS failure: %s; check [xenapi] ca_file" % exc)
            except _CONNECTION_ERRORS as exc:
                self._drop_session()
                errors.append('%s: %s' % (url, urls.excerpt(
                    str(exc) or type(exc).__name__, quote=False)))
                if not isinstance(exc, ConnectionRefusedError):
                    self._only_refused = False
                return _NO_ANSWER
            except xmlrpc.client.Fault as exc:
                self._drop_session()
                raise exceptions.CallFailed(
                    self.name, url, method,
                    [str(exc.faultCode), exc.faultString])
            except _BAD_REPLY_ERRORS as exc:
                self._drop_session()
                bad_replies.append('%s answered %s with %s' % (
                    url, calling, urls.excerpt(str(exc), quote=False)))
                return _NO_ANSWER
            except exceptions.PoolError:
                raise
            except Exception as exc:
                # The XenAPI package trips over an answer it did not expect;
                # whatever it is, it is this pool's answer, not a bug here.
                self._drop_session()
                bad_replies.append('%s answered %s with something the '
                                   'XenAPI package cannot read: %s: %s' % (
                                       url, calling, type(exc).__name__,
                                       urls.excerpt(str(exc), quote=False)))
                return _NO_ANSWER

    def _invoke(self, method, args):
        target = self._session.xenapi
        for part in method.split('.'):
            target = getattr(target, part)
        return target(*args)

    def _translate(self, url, method, details):
        if details and details[0] == 'HA_NOT_ENABLED':
            return exceptions.HANotEnabled(
                self.name, url, "%s needs HA, which is not enabled "
                "on the pool" % method)
        return exceptions.CallFailed(self.name, url, method, details)

    def close(self):
        """Log out and drop the connection."""
        with self._lock:
            self._drop_session(logout=True)

    @property
    def master_url(self):
        """The URL of the member that answered last (the master)."""
        return self._session_url

    @property
    def protocol(self):
        """How the client talks to the master: ``jsonrpc`` or ``xmlrpc``.

        None before it first logged in.
        """
        return self._protocols.get(self._session_url)

    # Pool reads

    @contextlib.contextmanager
    def _records_of(self, method):
        """Turn records this client cannot read into the pool's error."""
        try:
            yield
        except (records.BadRecord, LookupError, TypeError, ValueError,
                AttributeError) as exc:
            raise exceptions.BadReply(
                self.name, self._session_url or self.url,
                "%s answered records this client cannot read: %s" % (
                    method, urls.excerpt(str(exc) or type(exc).__name__,
                                         quote=False))) from None

    def _read_ha(self, pool_records, host_records, metrics_records):
        try:
            with self._records_of('pool.get_all_records'):
                ha = records.ha_state(pool_records, host_records,
                                      metrics_records)
        except records.NoPoolRecord:
            raise exceptions.CallFailed(self.name, self.url,
                                        'pool.get_all_records', ['NO_POOL'])
        self._members = tuple(h.address for h in ha.hosts
                              if h.address and _ADDRESS.match(h.address))
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

    def read_ha_memory(self):
        """Read the pool's HA state and its memory as HA plans: four calls.

        :returns: ``(PoolHAState, pool_memory.PoolMemory)``.
        """
        with self._lock:
            ha = self._read_hosts()
            vms = self._call('VM.get_all_records_where',
                             (pool_memory.PLANNED_VMS_QUERY,))
        with self._records_of('VM.get_all_records_where'):
            waiting = sum(1 for rec in vms.values()
                          if records.waits_for_restart(rec))
            memory = pool_memory.PoolMemory.from_records(ha, vms)
        return dataclasses.replace(ha, waiting_restarts=waiting), memory

    def read_pool(self):
        """Read the whole pool in four calls, whatever its size.

        :returns: a :class:`pool_state.PoolSnapshot`.
        """
        with self._lock:
            ha = self._read_hosts()
            vm_records = self._call('VM.get_all_records_where',
                                    (GUEST_VMS_QUERY,))
        with self._records_of('VM.get_all_records_where'):
            return records.snapshot(ha, vm_records)

    def find_vm(self, nova_uuid, name_label=None):
        """The ref of the VM whose ``other_config`` names this instance.

        Looks the VM up by ``name_label`` first (one or two calls), then
        scans the guest VMs.

        :returns: the VM ref, or None if no VM claims the instance.
        """
        with self._lock:
            if name_label:
                found = self._call('VM.get_by_name_label', (name_label,))
                with self._records_of('VM.get_by_name_label'):
                    refs = list(found)
                for ref in refs:
                    other = self._call('VM.get_other_config', (ref,))
                    with self._records_of('VM.get_other_config'):
                        if other.get(pool_state.NOVA_UUID_KEY) == nova_uuid:
                            return ref
            vms = self._call('VM.get_all_records_where', (GUEST_VMS_QUERY,))
        with self._records_of('VM.get_all_records_where'):
            for ref, rec in vms.items():
                if (rec['other_config'].get(pool_state.NOVA_UUID_KEY) ==
                        nova_uuid):
                    return ref
        return None

    def set_restart_priority(self, vm_ref, priority):
        """Set ``VM.ha_restart_priority`` (``restart`` protects the VM)."""
        self.call('VM.set_ha_restart_priority', vm_ref, priority)

    def set_restart_policy(self, vm_ref, priority, order=None,
                           start_delay=None):
        """Set a VM's restart ``order`` and ``start_delay``, then priority.

        The priority comes last: protecting a running VM is what xapi may
        refuse (HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN), and by then the
        VM's place in the restart sequence is already right.
        """
        if order is not None:
            self.call('VM.set_order', vm_ref, str(order))
        if start_delay is not None:
            self.call('VM.set_start_delay', vm_ref, str(start_delay))
        self.set_restart_priority(vm_ref, priority)

    def event_from(self, classes, token, timeout):
        """One ``event.from`` long-poll; returns xapi's result struct.

        Host records among the events teach the client the pool's members,
        where it looks for a new master after a failover.

        :raises EventTokenLost: the client had to log in again (a master
            failover ends every session): read the pool again and start
            from a new token; the client itself is fine.
        :raises BadReply: the answer is not a struct with a ``token``
            string and a list of ``events`` structs.
        """
        result = self.call('event.from', list(classes), token, float(timeout))
        events = result.get('events', []) if isinstance(result, dict) else ()
        if (not isinstance(result, dict) or
                not isinstance(result.get('token'), str) or
                not isinstance(events, list) or
                not all(isinstance(e, dict) for e in events)):
            raise exceptions.BadReply(
                self.name, self._session_url or self.url,
                "event.from answered %s, not a struct of a token and a list "
                "of events" % urls.excerpt(result))
        addresses = {e['snapshot'].get('address') for e in events
                     if e.get('class') == 'host' and
                     isinstance(e.get('snapshot'), dict)}
        addresses = {a for a in addresses
                     if isinstance(a, str) and _ADDRESS.match(a)}
        if addresses - set(self._members):
            self._members = tuple(self._members) + tuple(
                sorted(addresses - set(self._members)))
        return result
