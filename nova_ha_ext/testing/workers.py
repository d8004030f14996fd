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

"""Several real ``nova-ha-reconciler`` processes and what they need.

:class:`Deployment` builds in a directory everything a worker needs from a
cloud, each piece a real service in a process of its own, and runs the
workers::

    templates = make_templates(tmp / 'templates')   # once: the schemas
    with Deployment(tmp / 'cloud', pools=6, templates=templates) as cloud:
        cloud.set_backend(FileBackend(tmp / 'coordination'))
        cloud.start_workers(['worker-1', 'worker-2', 'worker-3'])
        owners, _ = cloud.wait_balanced(timeout=30)
        cloud.workers['worker-1'].kill()

* Nova: SQLite API, cell1 and cell0 databases, copies of the ones
  ``nova-manage api_db sync`` and ``db sync`` made in
  :func:`make_templates`. ``workers_setup.py``, in a process of its own
  with the workers' configuration files, writes the cell mappings, the
  flavors, a compute node per simulated host, an aggregate per pool
  (``ha=true``, ``xenapi_pool_url`` listing every member) and an instance
  per VM, and through placement's API the providers, inventories and
  allocations.
* Placement: its WSGI application (``placement.wsgi.api``) served by a
  threaded ``wsgiref`` server on 127.0.0.1, with its own SQLite database
  (``placement-manage db sync``) and ``[api] auth_strategy = noauth2``.
  noauth2 wants an ``X-Auth-Token`` header and takes ``admin`` for an
  admin user, so the workers' ``[placement]`` section uses keystoneauth's
  ``admin_token`` plugin: ``token = admin`` and ``endpoint`` the server's
  URL (no catalog, no keystone).
* The pools: ``nova-ha-xapi-simulator`` in a process of its own, driven
  through its HTTP control interface (:class:`Simulator`).
* The coordination backend: :class:`FileBackend` (a ``file://``
  directory) or :class:`RedisServer` (a ``redis-server`` on 127.0.0.1,
  where the binary is installed).
* The workers: :class:`Worker`, a ``nova-ha-reconciler`` each, with its
  ``[coordination] member_id`` in a configuration file of its own and its
  output in ``<member id>.log`` (``.2.log`` for a second run).

What the workers did is read from their logs ("Worker X reconciles N of M
pools: ...", "Relocated the instance ..."), from Nova's databases with
``sqlite3`` and from placement's API, never through this process's Nova
configuration. :meth:`Deployment.close` stops every process it started.
Should this process die first, the kernel kills its children
(``PR_SET_PDEATHSIG``), and the process a worker's launcher forked exits
when its launcher is gone.
"""

import collections
import contextlib
import ctypes
import datetime
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings

from nova_ha_ext.simulator import process
from nova_ha_ext.testing import pools
from nova_ha_ext.testing import waiting

BIN = os.path.dirname(sys.executable)
HERE = os.path.dirname(os.path.abspath(__file__))
SETUP_SCRIPT = os.path.join(HERE, 'workers_setup.py')

#: The pools' XenAPI credentials (``[xenapi]`` of the workers).
USERNAME = 'root'
PASSWORD = 'workers-secret'
PROJECT = '6f8a2a5c1d3e4b7f9a0b1c2d3e4f5a6b'
USER = '9e8d7c6b5a4f4e3d2c1b0a9f8e7d6c5b'

OWNERSHIP = re.compile(
    r'^(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) .*'
    r'Worker (?P<member>\S+) reconciles (?P<count>\d+) of (?P<total>\d+) '
    r'pools: (?P<pools>.*)$')
RELOCATED = re.compile(
    r'\[instance: (?P<uuid>[0-9a-f-]{36})\] Relocated the instance ')

# A child is killed when the process that started it dies, however it dies.
_PR_SET_PDEATHSIG = 1
try:
    _LIBC = ctypes.CDLL(None, use_errno=True)
except OSError:
    _LIBC = None


def _die_with_parent():
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _own_group_and_die_with_parent():
    os.setpgid(0, 0)
    _die_with_parent()


def spawn(argv, log, env=None, own_group=False, **kwargs):
    """Start ``argv`` with its output (stdout too, unless given) in ``log``.

    The child is killed if this process dies.

    :param own_group: run it in a process group of its own, whose id is
        its pid (``os.killpg``).
    """
    kwargs.setdefault('stdout', None)
    with open(log, 'ab') as out:
        if kwargs['stdout'] is None:
            kwargs['stdout'] = out
        return _popen(argv, stderr=out, env=env, own_group=own_group,
                      **kwargs)


def _popen(argv, own_group=False, **kwargs):
    with warnings.catch_warnings():
        # Under eventlet (the functional tests), a preexec_fn makes
        # eventlet warn about fork(); the child execs at once.
        warnings.filterwarnings('ignore', 'Using fork',
                                DeprecationWarning)
        return subprocess.Popen(
            argv, preexec_fn=(_own_group_and_die_with_parent if own_group
                              else _die_with_parent), **kwargs)


def stop_process(proc, timeout=20.0, sig=signal.SIGTERM):
    """Signal ``proc`` and wait; kill it after ``timeout``. Its exit code."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


def free_port():
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def tail(path, lines=200):
    """The last ``lines`` lines of a text file ('' when it is missing)."""
    try:
        with open(path, errors='replace') as f:
            return ''.join(collections.deque(f, lines))
    except OSError:
        return ''


def wait_for(predicate, timeout, what, details=None, interval=0.1):
    """:func:`nova_ha_ext.testing.waiting.wait_for`, polling every 0.1 s."""
    return waiting.wait_for(predicate, timeout, what, details, interval)


def log_time(text):
    """The epoch seconds of an oslo.log timestamp (local time)."""
    return datetime.datetime.strptime(
        text, '%Y-%m-%d %H:%M:%S.%f').timestamp()


def _run(argv, timeout=180):
    result = subprocess.run(argv, capture_output=True, text=True,
                            timeout=timeout)
    if result.returncode:
        raise RuntimeError('%s failed (exit %d):\n%s%s' % (
            ' '.join(argv), result.returncode, result.stdout[-3000:],
            result.stderr[-3000:]))
    return result


# -- the schemas ----------------------------------------------------------

def _start_quiet(argv):
    return _popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                  text=True)


def make_templates(directory):
    """Empty, migrated databases, to copy for each :class:`Deployment`.

    ``nova-manage api_db sync`` then ``db sync``, and meanwhile
    ``placement-manage db sync``: some seconds each, paid once.

    :returns: ``{'api': path, 'main': path, 'placement': path}``.
    """
    directory = str(directory)
    os.makedirs(directory, exist_ok=True)
    paths = {name: os.path.join(directory, name + '.db')
             for name in ('api', 'main', 'placement')}
    nova_conf = os.path.join(directory, 'nova.conf')
    with open(nova_conf, 'w') as f:
        f.write('[DEFAULT]\ntransport_url = fake:/\n'
                '[api_database]\nconnection = sqlite:///%s\n'
                '[database]\nconnection = sqlite:///%s\n'
                % (paths['api'], paths['main']))
    placement_conf = os.path.join(directory, 'placement.conf')
    with open(placement_conf, 'w') as f:
        f.write('[placement_database]\nconnection = sqlite:///%s\n'
                % paths['placement'])
    nova_manage = [os.path.join(BIN, 'nova-manage'), '--config-file',
                   nova_conf]
    # The API database first: "db sync" reads the cell mappings.
    sequences = [
        [nova_manage + ['api_db', 'sync'], nova_manage + ['db', 'sync']],
        [[os.path.join(BIN, 'placement-manage'), '--config-file',
          placement_conf, 'db', 'sync']],
    ]
    running = [(argvs, _start_quiet(argvs[0])) for argvs in sequences]
    failed = []
    while running:
        argvs, proc = running.pop(0)
        output, _ = proc.communicate(timeout=180)
        if proc.returncode:
            failed.append('%s (exit %d):\n%s' % (' '.join(argvs[0]),
                                                 proc.returncode,
                                                 output[-3000:]))
        elif argvs[1:]:
            running.append((argvs[1:], _start_quiet(argvs[1])))
    if failed:
        raise RuntimeError('could not create the databases: %s'
                           % '\n'.join(failed))
    return paths


# -- the pools -------------------------------------------------------------

#: Names and uuids of the pools, hosts and instances: one builder for
#: every deployment (:mod:`nova_ha_ext.testing.pools`).
pool_name = pools.pool_name
host_name = pools.host_name
nova_uuid = pools.nova_uuid
node_uuid = pools.node_uuid


def pool_scenario(p, hosts, vms):
    """Pool ``p`` for the simulator: :func:`pools.pool_scenario` with the
    workers' credentials.
    """
    return pools.pool_scenario(p, hosts, vms, username=USERNAME,
                               password=PASSWORD)


def Simulator(scenario, directory):
    """The simulator in its own process, killed if this process dies."""
    return process.SimulatorProcess(
        scenario, directory, log=os.path.join(directory, 'simulator.log'),
        control_timeout=60, popen=_popen)


# -- placement ---------------------------------------------------------------

_PLACEMENT_SERVER = '''
import socketserver
from wsgiref import simple_server

from placement.wsgi import api


class Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True


class Handler(simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


server = simple_server.make_server('127.0.0.1', 0, api.application,
                                   server_class=Server,
                                   handler_class=Handler)
print(server.server_port, flush=True)
server.serve_forever()
'''


class PlacementServer:
    """Placement's WSGI application behind a threaded ``wsgiref`` server.

    Configured by ``<directory>/placement.conf`` (``OS_PLACEMENT_CONFIG_DIR``):
    the SQLite database ``database`` and ``noauth2``.
    """

    def __init__(self, directory, database):
        with open(os.path.join(directory, 'placement.conf'), 'w') as f:
            # Its logs go to stderr, the log file: stdout is a pipe read
            # once, for the port, and a full pipe would block every request.
            f.write('[DEFAULT]\ndebug = false\nuse_stderr = true\n'
                    '[api]\nauth_strategy = noauth2\n'
                    '[placement_database]\nconnection = sqlite:///%s\n'
                    % database)
        env = dict(os.environ, OS_PLACEMENT_CONFIG_DIR=str(directory))
        self.log = os.path.join(directory, 'placement.log')
        self.proc = spawn([sys.executable, '-c', _PLACEMENT_SERVER],
                          self.log, env=env, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            stop_process(self.proc)
            raise RuntimeError('placement did not start:\n%s'
                               % tail(self.log))
        self.url = 'http://127.0.0.1:%d' % int(line)

    def get(self, path, version='1.28'):
        """The JSON answer to ``GET path``, as noauth2's admin."""
        request = urllib.request.Request(self.url + path, headers={
            'X-Auth-Token': 'admin', 'Accept': 'application/json',
            'OpenStack-API-Version': 'placement %s' % version})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def stop(self):
        stop_process(self.proc)
        self.proc.stdout.close()


# -- coordination backends ---------------------------------------------------

class FileBackend:
    """tooz's ``file://`` driver: a directory, for workers on one host."""

    name = 'file'

    def __init__(self, directory):
        self.directory = str(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.url = 'file://%s' % self.directory

    def stop(self):
        pass


def redis_server_binary():
    """The path of ``redis-server``, or None when it is not installed."""
    return shutil.which('redis-server')


class RedisServer:
    """A throwaway ``redis-server`` on 127.0.0.1 (no persistence)."""

    name = 'redis'

    def __init__(self, directory, binary=None, attempts=3):
        self.directory = str(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.log = os.path.join(self.directory, 'redis.log')
        binary = binary or redis_server_binary()
        if binary is None:
            raise RuntimeError('redis-server is not installed')
        for _attempt in range(attempts):
            self.port = free_port()
            self.proc = spawn(
                [binary, '--port', str(self.port), '--bind', '127.0.0.1',
                 '--save', '', '--appendonly', 'no', '--dir',
                 self.directory], self.log)
            if self._wait_ready(20):
                self.url = 'redis://127.0.0.1:%d' % self.port
                return
            stop_process(self.proc, timeout=5)
        raise RuntimeError('redis-server did not start:\n%s'
                           % tail(self.log))

    def _pong(self):
        try:
            with socket.create_connection(('127.0.0.1', self.port),
                                          timeout=1) as sock:
                sock.sendall(b'PING\r\n')
                return sock.recv(64).startswith(b'+PONG')
        except OSError:
            return False

    def _wait_ready(self, timeout):
        """Whether it answers PING within ``timeout`` (False if it exits:
        its port was taken meanwhile).
        """
        try:
            wait_for(lambda: self.proc.poll() is not None or self._pong(),
                     timeout, 'redis-server answering')
        except AssertionError:
            return False
        return self.proc.poll() is None

    def stop(self):
        stop_process(self.proc)


# -- the workers -------------------------------------------------------------

Ownership = collections.namedtuple('Ownership', 'when member pools total')


class Worker:
    """One ``nova-ha-reconciler`` with its own ``member_id``.

    The command's process is oslo.service's launcher, which forks the
    process that reconciles; both run in a process group of their own, so
    that :meth:`kill` takes them together, as a crash or the OOM killer
    would. (Killing the launcher alone would make the service's process
    stop gracefully and leave the group.)
    """

    def __init__(self, deployment, member_id, run=1):
        self.member_id = member_id
        self.run = run
        directory = deployment.directory
        suffix = '' if run == 1 else '.%d' % run
        self.log = os.path.join(directory, '%s%s.log' % (member_id, suffix))
        self.conf = os.path.join(directory, '%s.conf' % member_id)
        with open(self.conf, 'w') as f:
            f.write('[coordination]\nmember_id = %s\n' % member_id)
        argv = [os.path.join(BIN, 'nova-ha-reconciler')]
        for conf in deployment.conf_files + [self.conf]:
            argv += ['--config-file', conf]
        self.proc = spawn(argv, self.log, own_group=True)
        self.killed_at = None

    @property
    def alive(self):
        return self.proc.poll() is None

    def text(self):
        try:
            with open(self.log, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def joined(self):
        return 'Joined group ' in self.text()

    def ownership(self):
        """Every "Worker X reconciles N of M pools" line, in order."""
        found = []
        for line in self.text().splitlines():
            match = OWNERSHIP.match(line)
            if match:
                pools = match.group('pools').strip()
                found.append(Ownership(
                    log_time(match.group('when')), match.group('member'),
                    tuple(p.strip() for p in pools.split(','))
                    if pools != 'none' else (),
                    int(match.group('total'))))
        return found

    def relocations(self):
        """Instance uuids of the "Relocated the instance" lines."""
        return [m.group('uuid') for m in RELOCATED.finditer(self.text())]

    def _kill_group(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self):
        """SIGKILL to every process of the worker: no goodbye to the group.

        :returns: the time of the kill (``time.time()``).
        """
        self.killed_at = time.time()
        self._kill_group()
        self.proc.wait()
        return self.killed_at

    def stop(self, timeout=20.0):
        """SIGTERM (graceful); SIGKILL after ``timeout``. The exit code."""
        rc = stop_process(self.proc, timeout)
        # Anything of the worker still there after the launcher exited.
        self._kill_group()
        return rc


# -- the deployment ----------------------------------------------------------

class Deployment:
    """Nova's databases, placement, the pools and the workers.

    :param directory: where everything goes (created).
    :param pools: number of simulated pools, ``pool-00``...
    :param hosts: hosts per pool.
    :param vms: VMs per pool, spread round-robin over its hosts.
    :param templates: :func:`make_templates` output; made here when None.
    :param interval: ``[ha_reconciler] interval`` of the workers.
    :param watch_events: ``[ha_reconciler] watch_events``.
    :param member_timeout: ``[coordination] member_timeout``.
    :param heartbeat_interval: ``[coordination] heartbeat_interval``.
    """

    def __init__(self, directory, pools=6, hosts=3, vms=9, templates=None,
                 interval=2, watch_events=True, member_timeout=3,
                 heartbeat_interval=0.5):
        self.directory = str(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.pool_names = [pool_name(p) for p in range(pools)]
        self.hosts = hosts
        self.vms = vms
        self.templates = templates
        self.interval = interval
        self.watch_events = watch_events
        self.member_timeout = member_timeout
        self.heartbeat_interval = heartbeat_interval
        self.backend = None
        self.simulator = None
        self.placement = None
        #: member id -> its latest :class:`Worker`
        self.workers = {}
        #: every worker ever started, replaced ones too
        self.all_workers = []
        self._stack = contextlib.ExitStack()
        self.db = {name: os.path.join(self.directory, name + '.db')
                   for name in ('api', 'main', 'cell0', 'placement')}
        self.nova_conf = os.path.join(self.directory, 'nova.conf')
        self.coordination_conf = os.path.join(self.directory,
                                              'coordination.conf')
        self.conf_files = [self.nova_conf, self.coordination_conf]

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    # -- setting up ----------------------------------------------------------

    def start(self):
        """Databases, simulator, placement and the Nova side; no worker."""
        if self.templates is None:
            self.templates = make_templates(
                os.path.join(self.directory, 'templates'))
        for name, template in (('api', 'api'), ('main', 'main'),
                               ('cell0', 'main'),
                               ('placement', 'placement')):
            shutil.copyfile(self.templates[template], self.db[name])
        self.scenario = [pool_scenario(p, self.hosts, self.vms)
                         for p in range(len(self.pool_names))]
        self.simulator = Simulator(self.scenario, self.directory)
        self._stack.callback(self.simulator.stop)
        placement_dir = os.path.join(self.directory, 'placement')
        os.makedirs(placement_dir, exist_ok=True)
        self.placement = PlacementServer(placement_dir, self.db['placement'])
        self._stack.callback(self.placement.stop)
        self._write_nova_conf()
        self.set_backend(None)
        self.populate()

    def _write_nova_conf(self):
        with open(self.nova_conf, 'w') as f:
            f.write(
                '[DEFAULT]\ntransport_url = fake:/\ndebug = false\n'
                '[api_database]\nconnection = sqlite:///%(api)s\n'
                '[database]\nconnection = sqlite:///%(main)s\n'
                '[oslo_concurrency]\nlock_path = %(locks)s\n'
                '[placement]\nauth_type = admin_token\n'
                'endpoint = %(placement)s\ntoken = admin\n'
                '[xenapi]\nconnection_username = %(user)s\n'
                'connection_password = %(password)s\n'
                'connect_timeout = 5\nread_timeout = 60\n'
                'allow_plain_http = True\n'
                '[ha_reconciler]\ninterval = %(interval)d\n'
                'watch_events = %(watch)s\nevent_timeout = 5\n'
                % {'api': self.db['api'], 'main': self.db['main'],
                   'locks': os.path.join(self.directory, 'locks'),
                   'placement': self.placement.url, 'user': USERNAME,
                   'password': PASSWORD, 'interval': self.interval,
                   'watch': str(self.watch_events).lower()})

    def set_backend(self, backend):
        """Coordinate the workers started from now on through ``backend``.

        A :class:`FileBackend` or :class:`RedisServer`, stopped with the
        deployment; None: no backend (a single worker).
        """
        self.backend = backend
        if backend is not None:
            self._stack.callback(backend.stop)
        with open(self.coordination_conf, 'w') as f:
            f.write('[coordination]\nmember_timeout = %d\n'
                    'heartbeat_interval = %g\n'
                    % (self.member_timeout, self.heartbeat_interval))
            if backend is not None:
                f.write('backend_url = %s\n' % backend.url)

    def populate(self):
        """Write the Nova side (``workers_setup.py``) for the pools."""
        pools = []
        for p, pool in enumerate(self.scenario):
            pools.append({
                'name': pool['name'],
                'url': self.simulator.urls(pool['name']),
                'hosts': [{'hostname': host['hostname'],
                           'uuid': node_uuid(host['hostname']),
                           'ip': '10.0.%d.%d' % (p, h + 1)}
                          for h, host in enumerate(pool['hosts'])],
                'vms': [{'uuid': vm['other_config']['nova_uuid'],
                         'name': vm['name_label'], 'host': vm['host'],
                         'protected': vm['ha_restart_priority'] == 'restart'}
                        for vm in pool['vms']],
            })
        spec = {'cells': {'cell0': 'sqlite:///%s' % self.db['cell0'],
                          'cell1': 'sqlite:///%s' % self.db['main']},
                'placement': self.placement.url, 'project_id': PROJECT,
                'user_id': USER, 'pools': pools}
        path = os.path.join(self.directory, 'setup.json')
        with open(path, 'w') as f:
            json.dump(spec, f)
        _run([sys.executable, SETUP_SCRIPT, path, '--config-file',
              self.nova_conf], timeout=600)

    # -- workers -----------------------------------------------------------

    def start_worker(self, member_id):
        """Start ``nova-ha-reconciler`` as ``member_id`` (again)."""
        old = self.workers.get(member_id)
        if old is not None and old.alive:
            raise RuntimeError('worker %s still runs' % member_id)
        worker = Worker(self, member_id,
                        run=1 if old is None else old.run + 1)
        self.workers[member_id] = worker
        self.all_workers.append(worker)
        return worker

    def start_workers(self, member_ids, timeout=60):
        """Start workers together; wait until each has joined the group."""
        started = [self.start_worker(m) for m in member_ids]
        for worker in started:
            wait_for(lambda: worker.joined() or not worker.alive, timeout,
                     'worker %s joining the group' % worker.member_id,
                     self.logs)
            if not worker.alive:
                raise AssertionError('worker %s exited (%s)\n%s' % (
                    worker.member_id, worker.proc.returncode, self.logs()))
        return started

    def live_workers(self):
        return [w for w in self.workers.values() if w.alive]

    def stop_workers(self, timeout=20.0):
        """SIGTERM every live worker; ``{member id: exit code}``."""
        live = self.live_workers()
        for worker in live:
            if worker.alive:
                worker.proc.send_signal(signal.SIGTERM)
        return {w.member_id: w.stop(timeout) for w in live}

    def close(self):
        """Stop the workers, then every service; never raises."""
        for worker in self.all_workers:
            try:
                worker.stop(10)
            except Exception:
                pass
        self._stack.close()

    # -- what the workers did ------------------------------------------------

    def ownership(self):
        """``{member id: Ownership}``: the latest line of each live worker.

        A worker that logged none yet maps to None.
        """
        owners = {}
        for worker in self.live_workers():
            lines = worker.ownership()
            owners[worker.member_id] = lines[-1] if lines else None
        return owners

    def expected_shares(self, members):
        """``{member id: set of pools}`` as the pools are shared over
        ``members``: what the workers and ``nova-ha-manage`` compute
        (:func:`nova_ha_ext.reconcile.assignment.assign`).
        """
        from nova_ha_ext.reconcile import assignment

        shares = {m: set() for m in members}
        for pool, member in assignment.assign(self.pool_names,
                                              members).items():
            shares[member].add(pool)
        return shares

    def ownership_problems(self, owners):
        """Why the live workers' latest lines, ``owners``, are not the
        share of each that the live workers compute ([] if they are).
        Shares of one membership hold every pool exactly once.
        """
        problems = []
        expected = self.expected_shares(sorted(owners))
        for member, line in sorted(owners.items()):
            if line is None:
                problems.append('%s has logged no share yet' % member)
                continue
            if line.member != member:
                problems.append('%s logs as %s' % (member, line.member))
            if line.total != len(self.pool_names):
                problems.append('%s sees %d pools, not %d'
                                % (member, line.total, len(self.pool_names)))
            if set(line.pools) != expected[member]:
                problems.append('%s reconciles %s, not %s' % (
                    member, ', '.join(line.pools) or 'none',
                    ', '.join(sorted(expected[member])) or 'none'))
        return problems

    def wait_balanced(self, timeout, since=None):
        """Wait until each live worker's latest line is its share among
        the live workers: every pool owned exactly once.

        :param since: an epoch time; the returned moment is the latest of
            the lines logged after it (None if none was).
        :returns: ``(owners, moment)``, ``owners`` as :meth:`ownership`.
        """
        def balanced():
            owners = self.ownership()
            return owners if not self.ownership_problems(owners) else None

        owners = wait_for(
            balanced, timeout, 'every pool owned by exactly one live worker',
            lambda: '%s\n%s' % (
                '; '.join(self.ownership_problems(self.ownership())),
                self.logs()))
        moment = None
        if since is not None:
            after = [line.when for line in owners.values()
                     if line.when >= since]
            moment = max(after) if after else None
        return owners, moment

    def status(self):
        """``nova-ha-manage status --format json``, parsed."""
        argv = [os.path.join(BIN, 'nova-ha-manage')]
        for conf in self.conf_files:
            argv += ['--config-file', conf]
        result = subprocess.run(argv + ['status', '--format', 'json'],
                                capture_output=True, text=True,
                                timeout=120)
        if result.returncode not in (0, 1):
            raise AssertionError('nova-ha-manage status failed (exit %d):\n'
                                 '%s%s' % (result.returncode, result.stdout,
                                           result.stderr))
        return json.loads(result.stdout)

    def relocated_log_counts(self):
        """``Counter`` of "Relocated the instance" lines per instance uuid,
        over every worker's log.
        """
        counts = collections.Counter()
        for worker in self.all_workers:
            counts.update(worker.relocations())
        return counts

    def _query(self, sql, params=()):
        conn = sqlite3.connect('file:%s?mode=ro' % self.db['main'],
                               uri=True, timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def relocate_action_counts(self):
        """``Counter`` of ``ha-relocate`` instance actions per instance."""
        return collections.Counter(dict(self._query(
            "SELECT instance_uuid, COUNT(*) FROM instance_actions "
            "WHERE action = 'ha-relocate' GROUP BY instance_uuid")))

    def instance_hosts(self, uuids):
        """``{uuid: (host, node)}`` from the cell database."""
        uuids = list(uuids)
        rows = self._query(
            'SELECT uuid, host, node FROM instances WHERE deleted = 0 AND '
            'uuid IN (%s)' % ','.join('?' * len(uuids)), uuids)
        return {uuid: (host, node) for uuid, host, node in rows}

    def allocation_providers(self, uuid):
        """The resource providers holding ``uuid``'s allocations."""
        return set(self.placement.get('/allocations/%s' % uuid)
                   ['allocations'])

    def logs(self, lines=150):
        """The end of every worker's log, for assertion messages."""
        parts = []
        for worker in self.all_workers:
            parts.append('==== %s (%s) ====\n%s' % (
                os.path.basename(worker.log),
                'running' if worker.alive else
                'exit %s' % worker.proc.returncode,
                tail(worker.log, lines)))
        return '\n'.join(parts)
