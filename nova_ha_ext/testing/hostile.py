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

"""A small hostile XenAPI server on loopback, for tests and benchmarks.

It logs anyone in, answers a pool read with a valid empty-ish pool, and
answers the calls it is told to with whatever a broken or malicious host
might send: HTML, a bare ``<int>``, a failure without an error code, a
reply that trickles in a byte at a time, one that never comes, or one of a
gigabyte. It listens on 127.0.0.1 only, and everything it does ends when
it is stopped (each answer also gives up after :data:`LONGEST` seconds).

It speaks XML-RPC, and JSON-RPC at ``/jsonrpc`` when asked to; otherwise
it answers ``/jsonrpc`` with HTTP 404, as a XenAPI without JSON-RPC would.
"""

import http.server
import json
import socketserver
import threading
import time
import xmlrpc.client

#: No answer of this server lasts longer, in seconds.
LONGEST = 30.0

XMLRPC = 'xmlrpc'
JSONRPC = 'jsonrpc'

POOL_REF = 'OpaqueRef:pool'
HOST_REF = 'OpaqueRef:host'


def xenapi_reply(value, status='Success', wire=XMLRPC):
    """The bytes of a XenAPI answer (``Failure``: ``value`` is the
    ErrorDescription list), in XML-RPC or in JSON-RPC v2.0.
    """
    if wire == JSONRPC:
        if status == 'Success':
            reply = {'jsonrpc': '2.0', 'result': value, 'id': 1}
        elif status == 'Failure':
            reply = {'jsonrpc': '2.0', 'id': 1, 'error': {
                'code': 1, 'message': value[0] if value else '',
                'data': value[1:]}}
        else:
            reply = {'jsonrpc': '2.0', 'id': 1, 'status': status}
        return json.dumps(reply).encode()
    key = 'Value' if status == 'Success' else 'ErrorDescription'
    return xmlrpc.client.dumps(({'Status': status, key: value},),
                               methodresponse=True).encode()


def pool_record(**fields):
    record = {'uuid': 'pool-uuid', 'name_label': 'hostile',
              'master': HOST_REF, 'ha_enabled': False,
              'ha_host_failures_to_tolerate': '0',
              'ha_plan_exists_for': '0', 'ha_overcommitted': False,
              'ha_allow_overcommit': False, 'ha_statefiles': []}
    record.update(fields)
    return record


#: A pool of one host and no VM, as the four calls of a pool read see it.
VALID = {
    'session.login_with_password': 'OpaqueRef:session',
    'session.logout': '',
    'pool.get_all_records': {POOL_REF: pool_record()},
    'host.get_all_records': {HOST_REF: {
        'uuid': 'host-uuid', 'hostname': 'hostile-1',
        'name_label': 'hostile-1', 'address': '127.0.0.1', 'enabled': True,
        'metrics': 'OpaqueRef:metrics', 'other_config': {}}},
    'host_metrics.get_all_records': {'OpaqueRef:metrics': {
        'live': True, 'memory_total': '1024', 'memory_free': '512'}},
    'VM.get_all_records_where': {},
}


def _pool_without_uuid(wire=XMLRPC):
    record = pool_record()
    del record['uuid']
    return xenapi_reply({POOL_REF: record}, wire=wire)


#: Garbage a pool might answer ``pool.get_all_records`` with, quickly, and
#: the words of the error it must become.
GARBAGE = {
    'html with http 200': (
        b'<html><body>Welcome to nginx</body></html>',
        'expected <methodResponse>, found <html>'),
    'a bare int': (
        b'<?xml version="1.0"?><methodResponse><params><param><value>'
        b'<int>7</int></value></param></params></methodResponse>',
        'not a XenAPI answer'),
    'an empty ErrorDescription': (
        xenapi_reply([], status='Failure'),
        'a XenAPI failure without an error code'),
    'an unknown XML encoding': (
        b'<?xml version="1.0" encoding="klingon"?><methodResponse/>',
        'an XML encoding this client cannot read'),
    'a pool record without uuid': (
        _pool_without_uuid(), "pool record 'OpaqueRef:pool' has no uuid"),
}

#: :data:`GARBAGE`, as a pool answering JSON-RPC might send it.
JSON_GARBAGE = {
    'html with http 200': (
        b'<html><body>Welcome to nginx</body></html>',
        'the reply is not JSON'),
    'a bare int': (b'7', 'not a JSON-RPC answer'),
    'an empty ErrorDescription': (
        xenapi_reply([], status='Failure', wire=JSONRPC),
        'a XenAPI failure without an error code'),
    'bytes that are not UTF-8': (
        b'{"jsonrpc": "2.0", "result": "\xff\xfe", "id": 1}',
        'the reply is not UTF-8 JSON'),
    'a pool record without uuid': (
        _pool_without_uuid(JSONRPC),
        "pool record 'OpaqueRef:pool' has no uuid"),
}


class Answer:
    """How the server answers one call: ``write(handler, stop)``."""

    def write(self, handler, stop):
        raise NotImplementedError


class Raw(Answer):
    """A whole HTTP response: body, status and headers as given."""

    def __init__(self, body, status=200,
                 content_type='text/xml', headers=()):
        self.body = body
        self.status = status
        self.headers = [('Content-Type', content_type)] + list(headers)

    def write(self, handler, stop):
        handler.send_response(self.status)
        for name, value in self.headers:
            handler.send_header(name, value)
        handler.send_header('Content-Length', str(len(self.body)))
        handler.end_headers()
        handler.wfile.write(self.body)


class Trickle(Answer):
    """A valid answer sent one byte every ``interval`` seconds."""

    def __init__(self, body, interval=0.05):
        self.body = body
        self.interval = interval

    def write(self, handler, stop):
        handler.send_response(200)
        handler.send_header('Content-Type', 'text/xml')
        handler.send_header('Content-Length', str(len(self.body)))
        handler.end_headers()
        handler.wfile.flush()
        give_up = time.monotonic() + LONGEST
        for i in range(len(self.body)):
            if stop.wait(self.interval) or time.monotonic() > give_up:
                return
            handler.wfile.write(self.body[i:i + 1])
            handler.wfile.flush()


class Silent(Answer):
    """Read the call, then never answer."""

    def write(self, handler, stop):
        stop.wait(LONGEST)
        handler.close_connection = True


class Endless(Answer):
    """A reply of ``size`` bytes: a valid start, then spaces, streamed."""

    def __init__(self, size):
        self.size = size

    def write(self, handler, stop):
        head = xenapi_reply('x')[:60]
        handler.send_response(200)
        handler.send_header('Content-Type', 'text/xml')
        handler.send_header('Content-Length', str(self.size))
        handler.end_headers()
        handler.wfile.write(head)
        block = b' ' * (1024 * 1024)
        sent = len(head)
        give_up = time.monotonic() + LONGEST
        while (sent < self.size and not stop.is_set() and
               time.monotonic() < give_up):
            handler.wfile.write(block[:self.size - sent])
            sent += len(block)


class _Handler(http.server.BaseHTTPRequestHandler):

    protocol_version = 'HTTP/1.1'
    timeout = LONGEST

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length)
        server = self.server
        if self.path.split('?')[0] == '/jsonrpc':
            if server.wire != JSONRPC:
                server.not_found += 1
                Raw(b'Not found', 404, 'text/plain').write(self, server.stop)
                return
            method = json.loads(body)['method']
            default = Raw(xenapi_reply(VALID.get(method, ''), wire=JSONRPC),
                          content_type='application/json')
        else:
            params, method = xmlrpc.client.loads(body)
            default = Raw(xenapi_reply(VALID.get(method, '')))
        server.calls.append(method)
        answer = server.answers.get(method) or default
        try:
            answer.write(self, server.stop)
        except OSError:
            self.close_connection = True

    def log_message(self, *args):
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False


class HostileXenAPI:
    """A XenAPI server on 127.0.0.1 answering ``answers`` its way.

    :param answers: method name -> :class:`Answer` (or bytes, sent as an
        HTTP 200 body); every other call gets :data:`VALID`'s answer.
    :param wire: ``jsonrpc`` to serve JSON-RPC at ``/jsonrpc`` too.

    Use it as a context manager, or :meth:`start` and :meth:`stop` it.
    """

    def __init__(self, answers=None, wire=XMLRPC):
        self._server = _Server(('127.0.0.1', 0), _Handler)
        self._server.wire = wire
        self._server.not_found = 0
        self._server.answers = {}
        self._server.calls = []
        self._server.stop = threading.Event()
        self._thread = None
        for method, answer in (answers or {}).items():
            self.answer(method, answer)

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self._server.server_address[1]

    def answer(self, method, answer):
        """Answer ``method`` with ``answer`` from now on."""
        self._server.answers[method] = (
            Raw(answer) if isinstance(answer, bytes) else answer)

    @property
    def calls(self):
        """The methods called so far, in order."""
        return list(self._server.calls)

    @property
    def jsonrpc_refused(self):
        """How many JSON-RPC requests got HTTP 404."""
        return self._server.not_found

    def start(self):
        self._thread = threading.Thread(target=self._serve,
                                        name='hostile-xenapi', daemon=True)
        self._thread.start()
        return self

    def _serve(self):
        # Not serve_forever(): its selector is not eventlet's, and would
        # block a monkey-patched process (Nova's functional tests).
        listener = self._server.socket
        listener.settimeout(0.1)
        while not self._server.stop.is_set():
            try:
                conn, address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(LONGEST)
            self._server.process_request(conn, address)

    def stop(self):
        self._server.stop.set()
        self._thread.join(LONGEST)
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
