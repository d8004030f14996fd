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

"""The simulator: its pools, endpoints, fault injection and control API.

:class:`Simulator` is the Python control API (thread-safe); the same
operations are served as JSON over HTTP by :class:`ControlServer` for a
simulator running in another process (``nova-ha-xapi-simulator``).

Pools are named by their scenario ``name``; hosts by hostname (or
name_label, uuid, ref); VMs by name_label, uuid, ref or
``other_config["nova_uuid"]``.
"""

import collections
import dataclasses
import http.server
import json
import logging
import random
import shutil
import socket
import tempfile
import threading
import types
import typing
import urllib.parse
import urllib.request

from nova_ha_ext.simulator import database
from nova_ha_ext.simulator import datamodel
from nova_ha_ext.simulator import model
from nova_ha_ext.simulator import scenario as scenario_mod
from nova_ha_ext.simulator import server
from nova_ha_ext.simulator import tls
from nova_ha_ext.simulator import views

LOG = logging.getLogger(__name__)

SimulatorError = model.SimulatorError
Failure = database.Failure


@dataclasses.dataclass(frozen=True)
class PoolInfo(object):
    """How to reach a simulated pool (a snapshot: ask again after faults).

    ``url`` is the current master's endpoint, ``member_urls`` every host's
    by hostname.  ``ca_file`` is the CA to verify TLS with (None without
    TLS).
    """

    name: str
    uuid: str
    url: str
    master: str
    member_urls: typing.Mapping[str, str]
    username: str
    password: str = dataclasses.field(repr=False)
    ca_file: typing.Optional[str] = None

    def as_dict(self):
        """A plain, JSON-serialisable copy."""
        result = {f.name: getattr(self, f.name)
                  for f in dataclasses.fields(self)}
        result['member_urls'] = dict(self.member_urls)
        return result


class Simulator(object):
    """A set of simulated pools served over loopback.

    :param scenario: a scenario mapping, a path to a YAML/JSON scenario or
        a :class:`~nova_ha_ext.simulator.scenario.Scenario`.
    :param tls: serve HTTPS with a throwaway CA (see ``PoolInfo.ca_file``).
    :param control_port: serve the HTTP JSON control interface on
        127.0.0.1 at this port (0 picks one); None for no control server.
    """

    def __init__(self, scenario, tls=False, control_port=None):
        self.scenario = scenario_mod.load(scenario)
        self.tls = tls
        self.control_port = control_port
        self.control = None
        self._pools = collections.OrderedDict()
        self._transports = {}
        self._acceptor = None
        self._tls_dir = None
        self.ca_file = None
        self._started = False

    # Life cycle ---------------------------------------------------------

    def start(self):
        """Build the pools and start serving."""
        if self._started:
            return
        dm = datamodel.load()
        dispatcher = server.Dispatcher(dm)
        self._acceptor = server.Acceptor()
        self._started = True
        try:
            # A random second octet keeps simulators of parallel test
            # processes on distinct addresses; ports are checked anyway.
            octet = random.randint(16, 254)
            addresses = {}
            for p, pool_spec in enumerate(self.scenario.pools):
                addresses[pool_spec.name] = {
                    host.hostname: '127.%d.%d.%d' % (octet, p + 1, h + 1)
                    for h, host in enumerate(pool_spec.hosts)}
            context = None
            if self.tls:
                self._tls_dir = tempfile.mkdtemp(prefix='xapi-sim-tls-')
                all_addresses = [a for pool in addresses.values()
                                 for a in pool.values()]
                self.ca_file, cert, key = tls.make_certificates(
                    self._tls_dir, all_addresses)
                context = tls.server_context(cert, key)
            for pool_spec in self.scenario.pools:
                pool = model.Pool(pool_spec, dm, addresses[pool_spec.name])
                faults = server.WireFaults()
                endpoints = collections.OrderedDict(
                    (state.hostname, server.Endpoint(
                        self._acceptor, dispatcher, pool, state, 0, context,
                        faults))
                    for state in pool.hosts.values())
                server.bind_pool(list(endpoints.values()))
                transport = server.PoolTransport(endpoints, faults)
                self._pools[pool.name] = pool
                self._transports[pool.name] = transport
                with pool.lock:
                    pool.transport = transport
                    for state in pool.hosts.values():
                        if state.mode == 'up':
                            transport.host_up(state.hostname)
                pool.failover.start()
            if self.control_port is not None:
                self.control = ControlServer(self, self._acceptor,
                                             self.control_port)
        except Exception:
            self.stop()
            raise

    def stop(self):
        """Stop serving: close every socket and join every thread."""
        if not self._started:
            return
        self._started = False
        for pool in self._pools.values():
            pool.stop()
        for transport in self._transports.values():
            transport.close()
        if self.control is not None:
            self.control.close()
            self.control = None
        if self._acceptor is not None:
            self._acceptor.stop()
            self._acceptor = None
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
            self._tls_dir = None

    shutdown = stop

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # Pools --------------------------------------------------------------

    def _pool(self, name):
        try:
            return self._pools[name]
        except KeyError:
            raise SimulatorError('no pool named %r (pools: %s)'
                                 % (name, ', '.join(self._pools)))

    def _transport(self, name):
        self._pool(name)
        return self._transports[name]

    @property
    def pool_names(self):
        return list(self._pools)

    def pool(self, name):
        """The :class:`PoolInfo` of a pool, with its current master URL."""
        pool = self._pool(name)
        endpoints = self._transports[name].endpoints
        with pool.lock:
            master = pool.master.hostname
            return PoolInfo(
                name=pool.name, uuid=pool.pool_obj.uuid,
                url=endpoints[master].url, master=master,
                member_urls=types.MappingProxyType(
                    {h: e.url for h, e in endpoints.items()}),
                username=pool.username, password=pool.password,
                ca_file=self.ca_file)

    def pools(self):
        return [self.pool(name) for name in self._pools]

    @property
    def control_url(self):
        return self.control.url if self.control is not None else None

    # Faults -------------------------------------------------------------

    def fail_host(self, pool, host):
        """Kill a host now (its endpoint refuses connections at once).

        After the pool's ``detection_delay`` its ``host_metrics.live``
        turns false; with HA its VMs are reset to Halted and the protected
        ones restarted elsewhere (see doc/simulator.md).  Returns at once.
        """
        self._pool(pool).failover.fail_host(host)

    def recover_host(self, pool, host):
        """Bring a failed or isolated host back."""
        self._pool(pool).failover.recover_host(host)

    def fail_master(self, pool):
        """Kill the master; a new one is elected after detection_delay."""
        self._pool(pool).failover.fail_master()

    def isolate_host(self, pool, host):
        """Partition a host off the pool network (see doc/simulator.md)."""
        self._pool(pool).failover.isolate_host(host)

    def expire_sessions(self, pool=None):
        """Invalidate every session (of one pool, or of all pools)."""
        for p in ([self._pool(pool)] if pool else self._pools.values()):
            with p.lock:
                p.sessions.expire_all()

    def set_latency(self, pool, seconds):
        """Delay every request to the pool by ``seconds``."""
        self._transport(pool).faults.set_latency(seconds)

    def drop_connections(self, pool, count):
        """Close the connection of the next ``count`` requests unanswered."""
        self._transport(pool).faults.drop_connections(count)

    def migrate_vm(self, pool, vm, host):
        """Live-migrate a VM as an administrator would (pool_migrate)."""
        self._pool(pool).migrate_vm(vm, host)

    def shutdown_vm(self, pool, vm):
        """Hard-shutdown a VM behind the client's back."""
        self._pool(pool).shutdown_vm(vm)

    def start_vm(self, pool, vm, host=None):
        """Start a VM behind the client's back (on a host, or anywhere)."""
        self._pool(pool).start_vm(vm, host)

    def wait_until_quiet(self, pool=None, timeout=30):
        """Block until pending detection and restart work is done.

        Raises TimeoutError if it is not done within ``timeout`` seconds.
        """
        for p in ([self._pool(pool)] if pool else self._pools.values()):
            p.wait_until_quiet(timeout)

    # Inspection ---------------------------------------------------------

    def calls(self, pool):
        """A Counter of the XenAPI methods the pool's endpoints answered."""
        p = self._pool(pool)
        with p.lock:
            return collections.Counter(p.calls)

    def reset_calls(self, pool):
        p = self._pool(pool)
        with p.lock:
            p.calls.clear()

    def sessions(self, pool):
        """Every session of the pool as a dict.

        Keys: ref, uuid, username, originator, host (the endpoint logged
        in to), created, logged_out, expired.
        """
        return views.sessions(self._pool(pool))

    def vms(self, pool, include_control_domains=False):
        """Every VM of the pool as a plain dict (see views.vm)."""
        return views.vms(self._pool(pool), include_control_domains)

    def vm(self, pool, vm):
        """One VM (by name_label, uuid, ref or nova_uuid) as a dict."""
        p = self._pool(pool)
        with p.lock:
            return views.vm(p, p.vm_obj(vm))

    def hosts(self, pool):
        """Every host of the pool as a plain dict."""
        return views.hosts(self._pool(pool))

    def ha(self, pool):
        """The pool's HA state as a plain dict."""
        return views.ha(self._pool(pool))

    def vm_groups(self, pool):
        """Every VM group of the pool as a plain dict."""
        return views.vm_groups(self._pool(pool))


# The control interface ---------------------------------------------------

_POOL_ACTIONS = {
    'fail_host': ('host',),
    'recover_host': ('host',),
    'fail_master': (),
    'isolate_host': ('host',),
    'expire_sessions': (),
    'set_latency': ('seconds',),
    'drop_connections': ('count',),
    'migrate_vm': ('vm', 'host'),
    'shutdown_vm': ('vm',),
    'start_vm': ('vm', 'host?'),
    'wait_until_quiet': ('timeout?',),
    'reset_calls': (),
}
_GLOBAL_ACTIONS = {
    'expire_sessions': (),
    'wait_until_quiet': ('timeout?',),
}
_POOL_VIEWS = ('hosts', 'vms', 'sessions', 'calls', 'ha', 'vm_groups')


class _HTTPError(Exception):
    def __init__(self, status, message, details=None):
        super(_HTTPError, self).__init__(message)
        self.status = status
        self.message = message
        self.details = details


class _ControlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'xapi-simulator-control'
    sys_version = ''

    def _reply(self, status, body):
        data = json.dumps(body, sort_keys=True).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _run(self, func):
        try:
            self._reply(200, {'result': func()})
        except _HTTPError as e:
            body = {'error': e.message}
            if e.details:
                body['details'] = e.details
            self._reply(e.status, body)
        except SimulatorError as e:
            self._reply(404, {'error': str(e)})
        except Failure as e:
            self._reply(409, {'error': 'XenAPI failure',
                              'details': e.details})
        except TimeoutError as e:
            self._reply(504, {'error': str(e)})
        except (TypeError, ValueError) as e:
            self._reply(400, {'error': str(e)})

    def _parts(self):
        path = urllib.parse.urlparse(self.path).path
        return [urllib.parse.unquote(p) for p in path.split('/') if p]

    def do_GET(self):
        self._run(lambda: self.server.get(self._parts()))

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''

        def run():
            try:
                body = json.loads(raw or b'{}')
            except ValueError as e:
                raise _HTTPError(400, 'request body is not JSON: %s' % e)
            if not isinstance(body, dict):
                raise _HTTPError(400, 'request body must be a JSON object')
            return self.server.post(self._parts(), body)
        self._run(run)

    def log_message(self, fmt, *args):
        LOG.debug('control: ' + fmt, *args)


class ControlClient(object):
    """The control interface of a simulator in another process.

    :param url: its ``control_url`` (``nova-ha-xapi-simulator`` prints it).
    """

    def __init__(self, url, timeout=120):
        self.url = url.rstrip('/')
        self.timeout = timeout

    def request(self, path, body=None):
        """GET ``path`` (POST with a JSON ``body``); returns ``result``."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path, data=data,
            method='POST' if data is not None else 'GET')
        with urllib.request.urlopen(request,
                                    timeout=self.timeout) as response:
            return json.loads(response.read())['result']

    def do(self, pool, action, **args):
        """``POST /pools/<pool>/<action>``: fail_host, wait_until_quiet..."""
        return self.request('/pools/%s/%s' % (pool, action), args)

    def get(self, pool, view):
        """``GET /pools/<pool>/<view>``: vms, hosts, calls..."""
        return self.request('/pools/%s/%s' % (pool, view))


class ControlServer(object):
    """HTTP JSON control interface of a simulator, on 127.0.0.1.

    ``GET /pools``, ``GET /pools/<pool>`` and
    ``GET /pools/<pool>/{hosts,vms,vms/<vm>,sessions,calls,ha}`` inspect;
    ``POST /pools/<pool>/<action>`` with a JSON object of arguments injects
    faults (``fail_host {"host"}``, ``recover_host {"host"}``,
    ``fail_master``, ``isolate_host {"host"}``, ``expire_sessions``,
    ``set_latency {"seconds"}``, ``drop_connections {"count"}``,
    ``migrate_vm {"vm", "host"}``, ``shutdown_vm {"vm"}``,
    ``start_vm {"vm", "host"?}``, ``wait_until_quiet {"timeout"?}``,
    ``reset_calls``); ``POST /expire_sessions`` and
    ``POST /wait_until_quiet`` act on every pool.  Answers
    ``{"result": ...}``, or ``{"error": ...}`` with 400 (bad request), 404
    (unknown pool, host, VM or action), 409 (a XenAPI failure, with
    ``details``) or 504 (timeout).
    """

    def __init__(self, simulator, acceptor, port=0, address='127.0.0.1'):
        self.simulator = simulator
        self.acceptor = acceptor
        self._lock = threading.Lock()
        self._threads = set()
        self._conns = set()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((address, port))
        self._sock.listen(16)
        self._sock.setblocking(False)
        self.address, self.port = self._sock.getsockname()[:2]
        acceptor.add(self._sock, self._accept)

    @property
    def url(self):
        return 'http://%s:%d' % (self.address, self.port)

    def _accept(self, conn, addr):
        thread = threading.Thread(target=self._serve, args=(conn, addr),
                                  name='sim-control', daemon=True)
        with self._lock:
            self._threads.add(thread)
            self._conns.add(conn)
        thread.start()

    def _serve(self, conn, addr):
        try:
            _ControlHandler(conn, addr, self)
        except OSError:
            pass
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())
                self._conns.discard(conn)
            conn.close()

    def close(self):
        self.acceptor.remove(self._sock)
        with self._lock:
            conns = list(self._conns)
            threads = list(self._threads)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in threads:
            thread.join(5)

    def get(self, parts):
        sim = self.simulator
        if not parts or parts == ['pools']:
            return [info.as_dict() for info in sim.pools()]
        if parts[0] != 'pools':
            raise _HTTPError(404, 'no resource /%s' % '/'.join(parts))
        pool = parts[1]
        if len(parts) == 2:
            return sim.pool(pool).as_dict()
        view = parts[2]
        if view == 'vms' and len(parts) == 4:
            return sim.vm(pool, parts[3])
        if view in _POOL_VIEWS and len(parts) == 3:
            result = getattr(sim, view)(pool)
            return dict(result) if view == 'calls' else result
        raise _HTTPError(404, 'no resource /%s' % '/'.join(parts))

    def post(self, parts, body):
        sim = self.simulator
        if parts in (['expire_sessions'], ['wait_until_quiet']):
            params = _GLOBAL_ACTIONS[parts[0]]
            return self._call(getattr(sim, parts[0]), parts[0], params,
                              body, None)
        if len(parts) != 3 or parts[0] != 'pools':
            raise _HTTPError(404, 'no action /%s' % '/'.join(parts))
        action = parts[2]
        if action not in _POOL_ACTIONS:
            raise _HTTPError(404, 'no action %r (actions: %s)'
                             % (action, ', '.join(sorted(_POOL_ACTIONS))))
        sim._pool(parts[1])
        return self._call(getattr(sim, action), action,
                          _POOL_ACTIONS[action], body, parts[1])

    @staticmethod
    def _call(func, action, params, body, pool):
        known = {p.rstrip('?') for p in params}
        unknown = sorted(set(body) - known)
        if unknown:
            raise _HTTPError(400, '%s: unknown argument %r (arguments: %s)'
                             % (action, unknown[0],
                                ', '.join(sorted(known)) or 'none'))
        missing = [p for p in params if not p.endswith('?') and
                   p not in body]
        if missing:
            raise _HTTPError(400, '%s: missing argument %r'
                             % (action, missing[0]))
        args = [pool] if pool is not None else []
        func(*args, **body)
        return None
