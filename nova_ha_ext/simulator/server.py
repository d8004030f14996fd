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

"""Per-host XenAPI endpoints: sockets, HTTP, dispatch.

One :class:`Acceptor` thread waits on every listening socket of a
simulator; each accepted connection is served by its own daemon thread
(one HTTP/1.1 keep-alive connection after another, like
``socketserver.ThreadingMixIn``) with the stdlib ``http.server`` and
``xmlrpc.client`` machinery.  Only threading primitives and blocking
sockets are used, so it works the same in a process that eventlet has
monkey-patched.

Like xapi (``ocaml/xapi/xapi.ml``, ``post_jsonrpc``), each endpoint
answers XML-RPC on ``POST /`` (any path but ``/jsonrpc``) and JSON-RPC
v1.0 and v2.0 on ``POST /jsonrpc``. Both go through the one
:class:`Dispatcher`; only the encoding differs (:mod:`.encoders`).

The :class:`Dispatcher` answers a call like xapi: a non-master answers
``HOST_IS_SLAVE``; then the method name is resolved (``Class.message``,
``Class_message`` and ``Async.Class.message``), the parameter count and
types are checked against the datamodel, the session and the refs are
validated, and the handler's result is written as xapi writes it.
"""

import errno
import http.server
import logging
import selectors
import socket
import threading
import time
import urllib.parse
import xmlrpc.client

from nova_ha_ext.simulator.database import Failure
from nova_ha_ext.simulator import datamodel
from nova_ha_ext.simulator import encoders
from nova_ha_ext.simulator import messages

LOG = logging.getLogger(__name__)

NO_ASYNC_CLASSES = ('session', 'event')


#: The path of xapi's JSON-RPC endpoint (xapi-consts constants.ml
#: ``jsonrpc_uri``).
JSONRPC_PATH = '/jsonrpc'


class Dispatcher(object):
    """Resolves, checks and runs XenAPI calls for the pools' endpoints."""

    def __init__(self, dm):
        self.dm = dm
        self.handlers = messages.handlers(dm)
        self._by_wire = {}
        self._prefixes = sorted(dm.classes, key=len, reverse=True)

    def resolve(self, method):
        """Return ``(Message, is_async)`` or raise MESSAGE_METHOD_UNKNOWN."""
        cached = self._by_wire.get(method)
        if cached is not None:
            return cached
        name = method
        is_async = False
        for prefix in ('Async.', 'Async_'):
            if name.startswith(prefix):
                name = name[len(prefix):]
                is_async = True
        cls = msg = None
        if '.' in name:
            cls, msg = name.split('.', 1)
        else:
            for prefix in self._prefixes:
                if name.startswith(prefix + '_'):
                    cls, msg = prefix, name[len(prefix) + 1:]
                    break
        spec = self.dm.classes.get(cls)
        if spec is None or msg not in spec.messages or (
                is_async and (cls in NO_ASYNC_CLASSES or
                              spec.messages[msg].implicit)):
            raise Failure('MESSAGE_METHOD_UNKNOWN', method)
        result = (spec.messages[msg], is_async)
        self._by_wire[method] = result
        return result

    def _decode(self, message, params):
        args = []
        for (pname, ptype), value in zip(message.params, params):
            type_ = self.dm.type(ptype)
            try:
                value = type_.decode(value)
            except datamodel.DecodeError:
                raise Failure('FIELD_TYPE_ERROR', pname)
            args.append((type_, value))
        return args

    def _resolve_refs(self, pool, type_, value, setter):
        if isinstance(type_, datamodel.RefType):
            if value == datamodel.NULL_REF and setter:
                return None
            table = pool.db.tables.get(type_.cls)
            if table is None or value not in table:
                raise Failure('HANDLE_INVALID', type_.cls, value)
            return table[value]
        if (isinstance(type_, datamodel.SetType) and
                isinstance(type_.element, datamodel.RefType)):
            return [self._resolve_refs(pool, type_.element, v, False)
                    for v in value]
        if (isinstance(type_, datamodel.MapType) and
                isinstance(type_.key, datamodel.RefType)):
            for key in value:
                self._resolve_refs(pool, type_.key, key, False)
        return value

    def call(self, endpoint, method, params, cancelled,
             encoder=encoders.XMLRPC):
        """Run one call and return its answer, written by ``encoder``."""
        pool = endpoint.pool
        try:
            try:
                message, is_async = self.resolve(method)
                if not pool.vm_groups.knows(message):
                    # An xapi without the feature has no such message.
                    raise Failure('MESSAGE_METHOD_UNKNOWN', method)
                name = ('Async.' if is_async else '') + message.wire_name
            except Failure:
                message, is_async, name = None, False, method
            with pool.lock:
                pool.calls[name] += 1
                if not endpoint.is_master():
                    # A member checks the session with the master before
                    # it answers that it is not the master.
                    if (message is not None and message.takes_session and
                            params and isinstance(params[0], str)):
                        pool.sessions.get(params[0])
                    raise Failure('HOST_IS_SLAVE', pool.master.address)
            if message is None:
                raise Failure('MESSAGE_METHOD_UNKNOWN', method)
            result_type, value = self._call(endpoint, message, is_async,
                                            name, params, cancelled)
            return encoder.success(result_type, value)
        except Failure as e:
            return encoder.failure(e.details)

    def _call(self, endpoint, message, is_async, name, params, cancelled):
        """Run the call: ``(result type, value)``, or raise Failure."""
        pool = endpoint.pool
        if not message.min_params <= len(params) <= message.max_params:
            # Counts leave the session out, as xapi's dispatcher does.
            session = 1 if message.takes_session else 0
            raise Failure('MESSAGE_PARAMETER_COUNT_MISMATCH', name,
                          message.max_params - session,
                          max(len(params) - session, 0))
        setter = message.implicit and message.name.startswith('set_')
        decoded = self._decode(message, params)
        handler = self.handlers.get((message.cls, message.name))
        with pool.lock:
            session = None
            if message.takes_session:
                session = pool.sessions.get(decoded[0][1])
                pool.db.set_quietly(session, last_active=datamodel.now())
                decoded = decoded[1:]
            args = [self._resolve_refs(pool, t, v, setter)
                    for t, v in decoded]
            if handler is None:
                raise Failure('NOT_IMPLEMENTED', name)
            ctx = messages.Context(pool, endpoint, session, name, cancelled)
            result_type = self.dm.result_type(message)
            if is_async:
                task = pool.create_task(name, session)
                pool.spawn(self._run_task, ctx, task, handler, args,
                           result_type)
                value, result_type = task.ref, self.dm.type('task ref')
            else:
                value = handler(ctx, *args)
            return result_type, value

    def _run_task(self, ctx, task, handler, args, result_type):
        pool = ctx.pool
        with pool.lock:
            try:
                value = handler(ctx, *args)
            except Failure as e:
                pool.finish_task(task, error=e.details)
                return
            except Exception as e:
                LOG.exception('%s failed', ctx.method)
                pool.finish_task(task, error=['INTERNAL_ERROR', str(e)])
                return
            if isinstance(result_type, datamodel.VoidType):
                result = ''
            else:
                # xapi keeps a task's result as XML, whatever the wire.
                result = ''.join(encoders.XMLRPC.value_parts(result_type,
                                                             value))
            pool.finish_task(task, result=result)


class _Handler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive XML-RPC and JSON-RPC over one connection."""

    protocol_version = 'HTTP/1.1'
    server_version = 'xapi'
    sys_version = ''

    def do_POST(self):
        endpoint = self.server
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length)
        path = urllib.parse.urlsplit(self.path).path
        if path == JSONRPC_PATH:
            answer = endpoint.handle_json(body)
        else:
            answer = endpoint.handle(body)
        if answer is None:
            self.close_connection = True
            endpoint.abort(self.connection)
            return
        if isinstance(answer, encoders.BadRequest):
            self._internal_error(str(answer))
            return
        content_type, payload = answer
        data = payload.encode('utf-8')
        self.send_response(200)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _internal_error(self, detail):
        """xapi's answer to a request it cannot parse: HTTP 500, HTML."""
        data = ('<html><body><h1>HTTP 500 internal server error</h1>An '
                'unexpected error occurred; please wait a while and try '
                'again. If the problem persists, please contact your '
                'support representative.<h1> Additional information </h1>'
                '%s</body></html>' % datamodel.escape(detail)).encode()
        self.close_connection = True
        self.send_response(500, 'Internal Error')
        self.send_header('Content-Type', 'text/html')
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        data = b'xapi (nova-ha-ext simulator)\n'
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        LOG.debug('%s: ' + fmt, self.client_address[0], *args)


class Acceptor(object):
    """One thread accepting connections on many listening sockets."""

    def __init__(self):
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._commands = []
        self._lock = threading.Lock()
        self._running = True
        self._thread = threading.Thread(target=self._loop,
                                        name='sim-acceptor', daemon=True)
        self._thread.start()

    def _command(self, func):
        done = threading.Event()
        with self._lock:
            self._commands.append((func, done))
        self._wake_w.send(b'x')
        if threading.current_thread() is not self._thread:
            done.wait(5)

    def add(self, sock, on_accept):
        self._command(lambda: self._selector.register(
            sock, selectors.EVENT_READ, on_accept))

    def remove(self, sock):
        """Stop listening on ``sock`` and close it (waits until done)."""
        def close():
            try:
                self._selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            sock.close()
        self._command(close)

    def _loop(self):
        while self._running:
            for key, _mask in self._selector.select():
                if key.data is None:
                    self._wake_r.recv(4096)
                    with self._lock:
                        commands, self._commands = self._commands, []
                    for func, done in commands:
                        try:
                            func()
                        finally:
                            done.set()
                    continue
                try:
                    conn, addr = key.fileobj.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    LOG.exception('accept failed')
                    continue
                if not isinstance(conn, socket.socket):
                    # eventlet hands out plain sockets from a non-blocking
                    # green socket; serve them as green ones.
                    conn = socket.socket(fileno=conn.detach())
                conn.setblocking(True)
                # Replies are written as headers then body: without
                # TCP_NODELAY, Nagle and delayed ACKs add 40 ms to each.
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                key.data(conn, addr)

    def stop(self):
        def halt():
            self._running = False
        self._command(halt)
        self._thread.join(5)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()


class Endpoint(object):
    """The XML-RPC endpoint of one host: ``http(s)://address:port/``."""

    def __init__(self, acceptor, dispatcher, pool, state, port,
                 ssl_context=None, faults=None):
        self.acceptor = acceptor
        self.dispatcher = dispatcher
        self.pool = pool
        self.faults = faults or WireFaults()
        self.hostname = state.hostname
        self.host_ref = state.ref
        self.address = state.address
        self.port = port
        self.ssl_context = ssl_context
        self._sock = None
        self._conns = set()
        self._threads = set()
        self._lock = threading.Lock()
        self.up = False

    @property
    def url(self):
        scheme = 'https' if self.ssl_context else 'http'
        return '%s://%s:%d' % (scheme, self.address, self.port)

    def bind(self):
        """Bind the listening socket (port 0 picks one); may raise OSError."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.address, self.port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._sock = sock

    def start(self):
        """Listen and serve (rebinding the same address and port)."""
        if self.up:
            return
        if self._sock is None:
            try:
                self.bind()
            except OSError as e:
                LOG.error('%s: cannot listen again on %s:%d: %s',
                          self.hostname, self.address, self.port, e)
                return
        self.up = True
        self.acceptor.add(self._sock, self._accept)

    def stop(self):
        """Close the listening socket and every open connection."""
        self.up = False
        if self._sock is not None:
            self.acceptor.remove(self._sock)
            self._sock = None
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            self.abort(conn)

    def close(self):
        """Stop serving and wait for the connection threads to end."""
        self.stop()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(5)

    def abort(self, conn):
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def is_master(self):
        return self.pool.pool_obj['master'] == self.host_ref

    def _accept(self, conn, addr):
        if not self.up:
            conn.close()
            return
        thread = threading.Thread(target=self._serve, args=(conn, addr),
                                  name='sim-%s' % self.hostname,
                                  daemon=True)
        with self._lock:
            self._conns.add(conn)
            self._threads.add(thread)
        thread.start()

    def _serve(self, conn, addr):
        sock = conn
        try:
            if self.ssl_context is not None:
                sock = self.ssl_context.wrap_socket(conn, server_side=True)
                with self._lock:
                    self._conns.discard(conn)
                    self._conns.add(sock)
            _Handler(sock, addr, self)
        except (OSError, ValueError) as e:
            if getattr(e, 'errno', None) not in (errno.EPIPE,
                                                 errno.ECONNRESET, None):
                LOG.debug('%s: connection from %s ended: %s', self.hostname,
                          addr[0], e)
        finally:
            with self._lock:
                self._conns.discard(conn)
                self._conns.discard(sock)
                self._threads.discard(threading.current_thread())
            try:
                sock.close()
            except OSError:
                pass

    def _faults_drop(self):
        """Apply the wire faults; True if the request is to be dropped."""
        faults = self.faults
        if faults.take_drop():
            return True
        latency = faults.latency
        if latency:
            time.sleep(latency)
        return False

    def _dispatch(self, method, params, encoder):
        try:
            return encoder.content_type, self.dispatcher.call(
                self, method, params, lambda: not self.up, encoder)
        except messages.Dropped:
            return None
        except Exception as e:
            LOG.exception('%s: %s failed', self.hostname, method)
            return encoder.content_type, encoder.failure(
                ['INTERNAL_ERROR', str(e)])

    def handle(self, body):
        """An XML-RPC request's ``(content type, answer)``; None: drop it."""
        if self._faults_drop():
            return None
        try:
            params, method = xmlrpc.client.loads(body)
        except Exception as e:
            return encoders.XMLRPC.content_type, encoders.XMLRPC.failure(
                ['INTERNAL_ERROR', 'cannot parse the XML-RPC request: %s'
                 % e])
        return self._dispatch(method, params, encoders.XMLRPC)

    def handle_json(self, body):
        """A JSON-RPC request's ``(content type, answer)``; None: drop it.

        A malformed request gives the :class:`encoders.BadRequest` that
        xapi answers with HTTP 500 (``api_server.ml`` ``jsoncallback``).
        """
        if self._faults_drop():
            return None
        try:
            encoder, method, params = encoders.JsonRpc.parse(body)
        except encoders.BadRequest as e:
            return e
        return self._dispatch(method, params, encoder)


class WireFaults(object):
    """Faults injected on the wire of a pool's endpoints."""

    def __init__(self):
        self._lock = threading.Lock()
        self.latency = 0.0
        self._drops = 0

    def set_latency(self, seconds):
        """Every request waits ``seconds`` before it is answered."""
        self.latency = float(seconds)

    def drop_connections(self, count):
        """Close the connection of the next ``count`` requests unanswered."""
        with self._lock:
            self._drops += int(count)

    def take_drop(self):
        """True if the next request's connection is to be dropped."""
        with self._lock:
            if self._drops > 0:
                self._drops -= 1
                return True
            return False


class PoolTransport(object):
    """The endpoints of a pool's hosts and the faults on their wire.

    The pool tells it when xapi on a host stops or starts
    (``host_down`` / ``host_up``); it closes or reopens that endpoint.
    """

    def __init__(self, endpoints, faults):
        self.endpoints = endpoints
        self.faults = faults

    def host_down(self, hostname):
        self.endpoints[hostname].stop()

    def host_up(self, hostname):
        self.endpoints[hostname].start()

    def close(self):
        for endpoint in self.endpoints.values():
            endpoint.close()


def bind_pool(endpoints, attempts=20):
    """Bind all endpoints of a pool on one port free on all their IPs."""
    for _attempt in range(attempts):
        for endpoint in endpoints:
            endpoint.port = 0
        try:
            first = endpoints[0]
            first.bind()
            for endpoint in endpoints[1:]:
                endpoint.port = first.port
                endpoint.bind()
            return first.port
        except OSError as e:
            for endpoint in endpoints:
                if endpoint._sock is not None:
                    endpoint._sock.close()
                    endpoint._sock = None
            if e.errno != errno.EADDRINUSE:
                raise
    raise OSError(errno.EADDRINUSE, 'no port free on all of %s'
                  % ', '.join(e.address for e in endpoints))
