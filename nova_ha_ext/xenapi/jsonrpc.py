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

"""XenAPI over JSON-RPC, decoded into what the XML-RPC path gives.

Why: xapi also answers JSON-RPC v1.0 and v2.0 at ``POST /jsonrpc``
(``ocaml/xapi/api_server.ml`` ``jsoncallback``). A pool's records are a
third of the bytes in JSON, and the C ``json`` parser reads them several
times faster than :mod:`.unmarshal` reads XML (figures in
``doc/benchmarks.md``, "XenAPI pool read").

:class:`Session` is a ``XenAPI.Session`` for the calls ``PoolClient``
makes: ``session.xenapi.<Class>.<message>(...)`` with the session handle
added, a transparent login again after ``SESSION_INVALID``, failures raised
as ``XenAPI.Failure``, and ``session('close')()``. It sends JSON-RPC v2.0
through the same transport as the XML-RPC path (timeouts, deadline, TLS,
size limit).

The values are those the XML-RPC path gives for the same pool, of the same
Python types (``ocaml-rpc``'s ``Jsonrpc`` and ``Xmlrpc`` write the same
``Rpc.t`` values):

* ``int`` is a JSON number in JSON and a decimal string in XML-RPC: JSON
  integers are decoded as those strings. Yojson writes every float with a
  point or an exponent, so a JSON integer is always a XenAPI ``int``;
* ``datetime`` is a JSON string, an XML-RPC ``dateTime.iso8601``: the
  datetime fields of the records a call returns (:data:`DATETIME_FIELDS`)
  and the datetime getters' results become ``xmlrpc.client.DateTime``;
* ``event.from``'s ``valid_ref_counts`` are ``int32`` (``<int>`` in
  XML-RPC): they become ``int``;
* failures (v2.0 ``{"code", "message", "data"}``, v1.0 a list) become
  ``XenAPI.Failure([code, params...])``, as ``ErrorDescription``;
* anything else raises :class:`unmarshal.MalformedResponse`; an answer that
  is not JSON-RPC at all, or HTTP 404, 405 or 501 on ``/jsonrpc``, raises
  :class:`NotServed`, its subclass: the member does not serve JSON-RPC.

Memory: the reply's bytes are decoded to text and dropped before parsing,
and the text is dropped as soon as it is parsed, so the bytes, the text
and the parsed values are never all held at once.
"""

import gc
import http.client
import itertools
import json
import urllib.parse
import xmlrpc.client

import XenAPI

from nova_ha_ext import urls
from nova_ha_ext.xenapi import unmarshal

#: xapi's JSON-RPC endpoint (xapi-consts constants.ml ``jsonrpc_uri``).
PATH = '/jsonrpc'

#: HTTP statuses meaning "no JSON-RPC here" rather than "not now".
NOT_SERVED_STATUSES = frozenset((404, 405, 501))

#: The fields of type ``datetime`` of every class of the published XenAPI
#: datamodel (checked against it by the unit tests).
DATETIME_FIELDS = {
    'session': ('last_active', 'validation_time'),
    'task': ('created', 'finished'),
    'event': ('timestamp',),
    'pool': ('telemetry_next_collection', 'last_update_sync'),
    'VM': ('snapshot_time',),
    'VM_metrics': ('start_time', 'install_time', 'last_updated'),
    'VM_guest_metrics': ('last_updated',),
    'VMPP': ('backup_last_run_time', 'archive_last_run_time'),
    'VMSS': ('last_run_time',),
    'host': ('last_software_update',),
    'host_crashdump': ('timestamp',),
    'host_patch': ('timestamp_applied',),
    'host_metrics': ('last_updated',),
    'VIF_metrics': ('last_updated',),
    'PIF_metrics': ('last_updated',),
    'VDI': ('snapshot_time',),
    'VBD_metrics': ('last_updated',),
    'blob': ('last_updated',),
    'message': ('timestamp',),
    'Cluster_host': ('last_update_live',),
    'Certificate': ('not_before', 'not_after'),
}

#: Messages that return a datetime and are not field getters.
DATETIME_RESULTS = frozenset(('host.get_servertime',
                              'host.get_server_localtime'))

# Messages returning one record, and a map of refs to records, of their
# class.
_RECORD_RESULTS = frozenset(('get_record', 'get_boot_record'))
_RECORDS_RESULTS = frozenset(('get_all_records', 'get_all_records_where',
                              'get_since', 'get'))

# event.from's classes are lower case; DATETIME_FIELDS' are not.
_LOWER_CLASSES = {name.lower(): name for name in DATETIME_FIELDS}

# The classes whose results are converted, longest first, to resolve a
# wire name spelt with "_" (``event_from``).
_PREFIXES = sorted(set(DATETIME_FIELDS) | {'event'}, key=len, reverse=True)


class NotServed(unmarshal.MalformedResponse):
    """The URL does not serve XenAPI JSON-RPC at ``/jsonrpc``."""


def _datetimes(record, fields):
    for name in fields:
        value = record.get(name)
        if isinstance(value, str):
            record[name] = xmlrpc.client.DateTime(value)


def _event_snapshots(events):
    for event in events:
        if not isinstance(event, dict):
            continue
        snapshot = event.get('snapshot')
        cls = event.get('class')
        fields = (DATETIME_FIELDS.get(_LOWER_CLASSES.get(cls.lower()))
                  if isinstance(cls, str) else None)
        if fields and isinstance(snapshot, dict):
            _datetimes(snapshot, fields)


def as_xmlrpc_types(method, result):
    """Give ``method``'s JSON result the types XML-RPC gives it.

    ``result`` was parsed with JSON integers as strings; see the module's
    docstring. Values of an unexpected shape are left as they are, for the
    caller's checks to report.
    """
    if '.' not in method:
        for prefix in _PREFIXES:
            if method.startswith(prefix + '_'):
                method = '%s.%s' % (prefix, method[len(prefix) + 1:])
                break
    cls, _dot, name = method.rpartition('.')
    if method == 'event.from' and isinstance(result, dict):
        counts = result.get('valid_ref_counts')
        if isinstance(counts, dict):
            for key, value in counts.items():
                if isinstance(value, str):
                    counts[key] = int(value)
        events = result.get('events')
        if isinstance(events, list):
            _event_snapshots(events)
        return result
    if method == 'event.next' and isinstance(result, list):
        _event_snapshots(result)
        return result
    if method in DATETIME_RESULTS and isinstance(result, str):
        return xmlrpc.client.DateTime(result)
    fields = DATETIME_FIELDS.get(cls)
    if not fields:
        return result
    if name in _RECORD_RESULTS and isinstance(result, dict):
        _datetimes(result, fields)
    elif name in _RECORDS_RESULTS and isinstance(result, dict):
        for record in result.values():
            if isinstance(record, dict):
                _datetimes(record, fields)
    elif (name.startswith('get_') and name[4:] in fields and
            isinstance(result, str)):
        return xmlrpc.client.DateTime(result)
    return result


def _failure(error):
    """The ``ErrorDescription`` of a v2.0 error object or a v1.0 list."""
    if isinstance(error, dict):
        code, data = error.get('message'), error.get('data', [])
        if isinstance(code, str) and code and isinstance(data, list):
            return [code] + data
    elif (isinstance(error, list) and error and
            isinstance(error[0], str) and error[0]):
        return error
    raise unmarshal.MalformedResponse(
        'a XenAPI failure without an error code: the JSON-RPC error is %s'
        % urls.excerpt(error))


def parse_reply(data):
    """The result of a JSON-RPC reply, or raise its failure.

    :param data: the reply's bytes, a ``bytearray``: emptied once decoded.
    :raises XenAPI.Failure: the call failed.
    :raises NotServed: the reply is not JSON-RPC at all.
    :raises unmarshal.MalformedResponse: a JSON-RPC reply that is not a
        XenAPI answer.
    """
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise NotServed('the reply is not UTF-8 JSON: %s' % exc) from None
    del data[:]
    enabled = gc.isenabled()
    # The parsed values hold no cycles: do not let the collector scan
    # the millions of them as they are made.
    gc.disable()
    try:
        reply = json.loads(text, parse_int=str)
    except RecursionError:
        raise unmarshal.MalformedResponse(
            'the reply nests values too deeply') from None
    except ValueError as exc:
        raise NotServed('the reply is not JSON: %s (%s)' % (
            exc, urls.excerpt(text[:200]))) from None
    finally:
        del text
        if enabled:
            gc.enable()
    if not isinstance(reply, dict) or not ('result' in reply or
                                           'error' in reply):
        raise NotServed('not a JSON-RPC answer (an object with a result '
                        'or an error): %s' % urls.excerpt(reply))
    error = reply.get('error')
    if error is not None:
        raise XenAPI.Failure(_failure(error))
    if 'result' not in reply:
        raise unmarshal.MalformedResponse(
            'a JSON-RPC answer with neither a result nor an error')
    return reply['result']


class _Method(object):
    """``session.xenapi.VM.get_record``: a dotted name, then a call."""

    def __init__(self, send, name):
        self._send = send
        self._name = name

    def __getattr__(self, name):
        if self._name is None:
            return _Method(self._send, name)
        return _Method(self._send, '%s.%s' % (self._name, name))

    def __call__(self, *args):
        return self._send(self._name, args)


class Session(object):
    """A XenAPI session over JSON-RPC v2.0, shaped like ``XenAPI.Session``.

    :param url: the member's URL (``http(s)://host[:port]``).
    :param transport: the client's XML-RPC transport, whose connections
        (timeouts, deadline, TLS) and reply reading (size limit, gzip) are
        used as they are: ``make_connection(host)``, ``read_reply(
        response)`` and ``close()``.
    """

    def __init__(self, url, transport):
        self._host = urllib.parse.urlsplit(url).netloc
        self._url = url
        self._transport = transport
        self._ids = itertools.count(1)
        self.handle = None
        self._login_params = None
        self.xenapi = _Method(self.xenapi_request, None)

    def __call__(self, attr):
        if attr == 'close':
            return self._transport.close
        raise AttributeError(attr)

    def xenapi_request(self, method, params):
        """Call ``method`` as ``XenAPI.Session`` does.

        The login ones keep the handle; the others get it as their first
        parameter.
        """
        if method.startswith('login'):
            self._login(method, params)
            return None
        if method in ('logout', 'session.logout'):
            try:
                self.request('session.logout', (self.handle,))
            finally:
                self.handle = self._login_params = None
            return None
        for _attempt in range(3):
            try:
                return self.request(method, (self.handle,) + params)
            except XenAPI.Failure as exc:
                if (exc.details[:1] != ['SESSION_INVALID'] or
                        self._login_params is None):
                    raise
                self._login(*self._login_params)
        raise xmlrpc.client.Fault(
            500, 'Tried 3 times to get a valid session, but failed')

    def _login(self, method, params):
        self.handle = self.request('session.%s' % method, params)
        self._login_params = (method, params)

    def request(self, method, params):
        """One JSON-RPC call; its result with the XML-RPC path's types."""
        request_id = next(self._ids)
        body = json.dumps({'jsonrpc': '2.0', 'method': method,
                           'params': list(params),
                           'id': request_id}).encode('utf-8')
        # As xmlrpc.client.Transport.request: a kept-alive connection the
        # server closed meanwhile is tried once more.
        for attempt in (0, 1):
            try:
                data = self._send(body)
                break
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError):
                self._transport.close()
                if attempt:
                    raise
        return as_xmlrpc_types(method, parse_reply(data))

    def _send(self, body):
        conn = self._transport.make_connection(self._host)
        try:
            conn.putrequest('POST', PATH, skip_accept_encoding=True)
            conn.putheader('Content-Type', 'application/json')
            conn.putheader('User-Agent', self._transport.user_agent)
            conn.putheader('Content-Length', str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            if response.status != 200:
                # The body is not read: whatever it is, it is not an answer.
                self._transport.close()
                if response.status in NOT_SERVED_STATUSES:
                    raise NotServed('HTTP %d %s at %s' % (
                        response.status, response.reason, PATH))
                raise xmlrpc.client.ProtocolError(
                    self._host + PATH, response.status, response.reason,
                    dict(response.getheaders()))
            data = self._transport.read_reply(response)
            if response.will_close:
                self._transport.close()
            return data
        except BaseException:
            self._transport.close()
            raise
