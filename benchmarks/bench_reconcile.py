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

"""The reconciler against real Nova in-process and simulated pools.

    python -m benchmarks reconcile
    python -m benchmarks.bench_reconcile --small   # pools of 200 VMs
    python -m benchmarks.bench_reconcile --notifications  # on versus off

``main()`` runs the measurements in a child process: Nova's functional
harness monkey-patches the process with eventlet, which the other
benchmarks must not inherit. The child runs one ``nova.test.TestCase``
(Nova's API, conductor, scheduler, cell databases and placement in-process)
per scenario and prints the figures when it is done.

The Nova side is written in bulk rather than booted through the API: one
instance per flavor is created with ``objects.Instance.create()`` and its
rows (``instances``, ``instance_extra`` with the embedded flavor,
``instance_info_caches``) are copied for the others; likewise the first
instance's allocations are written with placement's
``PUT /allocations/{consumer}`` and its rows copied for the others. Compute
nodes, their resource providers and inventories (placement API), the two
flavors (Nova API) and one aggregate per pool with ``ha=true`` and the pool
URL are created as an operator's deployment would have them. No
nova-compute runs. The pool side is ``scenario.generate()``
with the same uuids (``other_config:nova_uuid``), host names and VM names
(``instance-%08x``), served by ``nova-ha-xapi-simulator`` in its own
process, as a pool runs on machines of its own, and driven through its
control interface.

Every instance has one Neutron port, bound to its host and listed in its
network info cache, and every instance of the ``ha=true`` flavor one volume
with a Cinder attachment: Nova's own ``NeutronFixture`` and
``CinderFixture`` hold them, in this process. The fixture's ``list_ports``
scans every port for every filter value; here it looks ports up by
``device_id`` instead, so that the fixture's linear scan does not count as
the reconciler's time.

Per pass it reports XenAPI calls (the simulator's counter), SQL queries on
Nova's databases and on placement's (a ``before_cursor_execute`` hook on
every SQLAlchemy engine, counting only the pass's own thread and no
transaction control), Neutron requests (every call on Nova's Neutron
client) and Cinder requests (every attachment call on Nova's volume API),
wall time and peak RSS. Then the event-driven latency over host failures,
to Nova's commit and to the moment the port is bound on the new host, and
a naive per-instance strategy for comparison. Nothing here asserts a time.
"""

import collections
import copy
import dataclasses
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import benchmarks

from nova_ha_ext.reconcile import outcome
from nova_ha_ext.simulator import process
from nova_ha_ext.testing import pools

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = 'bench-secret'
PROJECT = '6f8a2a5c1d3e4b7f9a0b1c2d3e4f5a6b'
USER = '9e8d7c6b5a4f4e3d2c1b0a9f8e7d6c5b'
#: Resources of one VM, in Nova's flavor and placement alike.
VM_MEMORY_MB = 1024
HOST_MEMORY_MB = 262144

#: (pools, hosts per pool, VMs per pool) of each scenario.
FULL = {'one': (1, 16, 2000), 'many': (10, 16, 2000)}
#: With ``--small``: pools of 200 VMs, to see how figures scale.
SMALL = {'one': (1, 16, 200), 'many': (10, 16, 200)}
RELOCATIONS = (0, 10, 50)
#: In-sync passes whose stages are timed one by one.
STAGE_RUNS = 3
FAILOVERS = 20
#: Rounds of passes with notifications off, then on (``--notifications``).
NOTIFY_ROUNDS = 3
PROGRESS = 'bench_reconcile:'
_TX = ('BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE')


def peak_rss_mib():
    """This process's peak resident set size (VmHWM), in MiB.

    ``getrusage``'s ``ru_maxrss`` would do, but on Linux it survives
    ``execve`` and so starts at the parent's size.
    """
    return _proc_status('VmHWM')


def rss_mib():
    return _proc_status('VmRSS')


def _proc_status(key):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) / 1024.0
    return float('nan')


def progress(message):
    """A line on stderr, so that a long run shows where it is."""
    sys.__stderr__.write('%s %s\n' % (PROGRESS, message))
    sys.__stderr__.flush()


def main(small=False, notifications=False):
    """Run the measurements in a child process; it prints the figures.

    The child's stderr (Nova's and eventlet's warnings and logs) is shown
    only if it fails; its progress lines are passed on as they come.
    """
    benchmarks.run_child('benchmarks.bench_reconcile',
                         (['--small'] if small else []) +
                         (['--notifications'] if notifications else []),
                         PROGRESS)


# Pool side ---------------------------------------------------------------


#: Names and uuids of the pools, hosts, instances and their ports, volumes
#: and attachments: the one builder of the harness.
pool_name = pools.pool_name
host_name = pools.host_name
nova_uuid = pools.nova_uuid
node_uuid = pools.node_uuid
derived_uuid = pools.derived_uuid


def pool_scenario(p, hosts, vms, first_id):
    """The simulator's pool ``p`` (:func:`pools.pool_scenario`): VM ``i``
    is named as Nova names instance ``first_id + i`` and carries its uuid.
    """
    return pools.pool_scenario(p, hosts, vms, password=PASSWORD,
                               first_id=first_id,
                               host_memory_mb=HOST_MEMORY_MB,
                               vm_memory_mb=VM_MEMORY_MB)


class Simulator(process.SimulatorProcess):
    """``nova-ha-xapi-simulator`` in a process of its own."""

    def calls(self, pools):
        return sum(sum(self.get(p, 'calls').values()) for p in pools)

    def reset_calls(self, pools):
        for p in pools:
            self.do(p, 'reset_calls')


# XenAPI events, timestamped in a process that is not monkey-patched, so
# that a busy reconciler cannot delay the timestamps.
_OBSERVER = '''
import sys, time, XenAPI
session = XenAPI.Session(sys.argv[1])
session.xenapi.login_with_password('root', sys.argv[2], '1.0', 'observer')
token = session.xenapi.event_from(['pool'], '', 0.0)['token']
print('ready', flush=True)
while True:
    batch = session.xenapi.event_from(['vm'], token, 5.0)
    now = time.monotonic()
    token = batch['token']
    for event in batch['events']:
        snap = event.get('snapshot') or {}
        print(now, event['ref'], snap.get('power_state'),
              snap.get('resident_on'), flush=True)
'''


class Observer:
    """Collects (monotonic time, VM ref, power_state, resident_on)."""

    def __init__(self, url):
        self.proc = subprocess.Popen(
            [sys.executable, '-c', _OBSERVER, url, PASSWORD],
            stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != 'ready':
            raise RuntimeError('the XenAPI event observer did not start')
        self.events = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            when, ref, state, resident = line.split()
            with self.lock:
                self.events.append((float(when), ref, state, resident))

    def running_since(self, refs, start, away_from, timeout=10.0):
        """First time each VM was seen Running on a host but ``away_from``.

        Waits until every VM of ``refs`` was seen, or ``timeout``.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = {}
            with self.lock:
                events = list(self.events)
            for when, ref, state, resident in events:
                if (when >= start and ref in refs and ref not in found and
                        state == 'Running' and resident != away_from):
                    found[ref] = when
            if len(found) == len(refs) or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


# The measurements ----------------------------------------------------------


def _percentile(values, q):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, int(-(-q * len(ordered) // 100)))
    return ordered[min(rank, len(ordered)) - 1]


def _bench_case():
    """The benchmark's TestCase class (Nova imported after eventlet)."""
    import sqlalchemy as sa
    from sqlalchemy import engine as sa_engine
    from sqlalchemy import event as sa_event

    from nova import context as nova_context
    from nova.db.main import api as main_db
    from nova.db.main import models
    from nova import objects
    from nova.tests import fixtures as nova_fixtures
    from nova.volume import cinder
    from placement.db.sqlalchemy import models as placement_models
    from placement import db_api as placement_db

    import oslo_messaging

    from nova_ha_ext import conf as ha_conf
    from nova_ha_ext import ha_spec
    from nova_ha_ext.notifications import notifier as ha_notifier
    from nova_ha_ext.notifications import passes
    from nova_ha_ext.reconcile import decide
    from nova_ha_ext.reconcile import engine
    from nova_ha_ext.reconcile import hostmap
    from nova_ha_ext.reconcile import nova_view
    from nova_ha_ext.reconcile import runner
    from nova_ha_ext.testing import nova_case

    def objects_instances_on(cctxt, nodes):
        """The Nova view as it was read before: through Nova's objects.

        ``InstanceList.get_by_filters(expected_attrs=['flavor'])``, an
        ``Instance`` and a ``Flavor`` object per instance, still one
        query; the baseline for ``nova_view``'s column-limited query.
        """
        wanted = {(node.host, node.nodename) for node in nodes}
        found = objects.InstanceList.get_by_filters(
            cctxt, {'host': sorted({node.host for node in nodes}),
                    'deleted': False},
            expected_attrs=['flavor'], sort_keys=['uuid'],
            sort_dirs=['asc'])
        values = []
        for instance in found:
            if (instance.host, instance.node) not in wanted:
                continue
            try:
                wants_ha = ha_spec.flavor_requests_ha(
                    instance.flavor.extra_specs, instance.flavor.name)
                error = ''
            except ha_spec.InvalidHAValue as exc:
                wants_ha, error = None, str(exc)
            values.append(decide.NovaInstance(
                uuid=instance.uuid, host=instance.host, node=instance.node,
                vm_state=instance.vm_state, task_state=instance.task_state,
                power_state=instance.power_state, wants_ha=wants_ha,
                ha_spec_error=error))
        return values

    class QueryCounter:
        """SQL queries of one thread, on Nova's and placement's DBs.

        Transaction control (the ``BEGIN`` that oslo.db sends to SQLite,
        and any ``COMMIT``, ``SAVEPOINT``...) is not counted: other drivers
        do not send it as a statement.
        """

        def __init__(self, placement_engine):
            self.placement_engine = placement_engine
            self.thread = None
            self.nova = 0
            self.placement = 0

        def __call__(self, conn, cursor, statement, parameters, context,
                     executemany):
            if (threading.get_ident() != self.thread or
                    statement.lstrip()[:9].upper().startswith(_TX)):
                return
            if conn.engine is self.placement_engine:
                self.placement += 1
            else:
                self.nova += 1

        def start(self):
            self.nova = self.placement = 0
            self.thread = threading.get_ident()

        def stop(self):
            self.thread = None
            return self.nova, self.placement

    class CommitClock:
        """When each instance's new host was committed to Nova's DB.

        Watches for the reconciler's compare-and-swap of ``instances.host``
        and stamps the commit of the transaction that made it.
        """

        def __init__(self):
            self.lock = threading.Lock()
            self.pending = {}
            self.committed = {}

        def reset(self):
            with self.lock:
                self.pending.clear()
                self.committed = {}

        def on_execute(self, conn, cursor, statement, parameters, context,
                       executemany):
            if not statement.startswith('UPDATE instances SET host='):
                return
            values = (parameters.values() if isinstance(parameters, dict)
                      else parameters)
            uuids = [v for v in values if isinstance(v, str) and len(v) == 36]
            with self.lock:
                self.pending.setdefault(conn.connection, []).extend(uuids)

        def on_commit(self, conn):
            now = time.monotonic()
            with self.lock:
                for uuid in self.pending.pop(conn.connection, ()):
                    self.committed.setdefault(uuid, now)

        def on_rollback(self, conn):
            with self.lock:
                self.pending.pop(conn.connection, None)

        def _events(self):
            return (('after_cursor_execute', self.on_execute),
                    ('commit', self.on_commit),
                    ('rollback', self.on_rollback))

        def listen(self):
            for name, func in self._events():
                sa_event.listen(sa_engine.Engine, name, func)

        def remove(self):
            for name, func in self._events():
                sa_event.remove(sa_engine.Engine, name, func)

    class NeutronCounter:
        """Requests on Nova's Neutron client, and when ports were bound.

        Wraps the client ``NeutronFixture`` hands Nova, counting each call,
        and the fixture's ``update_port``, stamping when a port's
        ``binding:host_id`` changed; ``list_ports`` looks ports up by
        ``device_id`` through an index.
        """

        def __init__(self, test, fixture):
            self.fixture = fixture
            self.calls = collections.Counter()
            self.bound = {}
            self.by_device = collections.defaultdict(list)
            get_client = fixture._get_client
            counter = self

            class Client:
                def __init__(self, client):
                    self._client = client

                def __getattr__(self, name):
                    attr = getattr(self._client, name)
                    if not callable(attr):
                        return attr

                    def call(*args, **kwargs):
                        counter.calls[name] += 1
                        return attr(*args, **kwargs)
                    return call

            test.stub_out('nova.network.neutron.get_client',
                          lambda context, admin=False: Client(
                              get_client(context, admin=admin)))
            self._list_ports = fixture.list_ports
            self._update_port = fixture.update_port
            fixture.list_ports = self.list_ports
            fixture.update_port = self.update_port

        def add(self, port, host):
            self.fixture._ports[port['id']] = port
            self.fixture._port_bindings[port['id']] = {host: {
                'host': host, 'status': 'ACTIVE', 'vif_type': 'ovs',
                'vnic_type': 'normal'}}
            self.by_device[port['device_id']].append(port['id'])

        def list_ports(self, is_admin, retrieve_all=True, **params):
            devices = params.pop('device_id', None)
            params.pop('fields', None)
            if devices is None:
                return self._list_ports(is_admin, retrieve_all, **params)
            if isinstance(devices, str):
                devices = [devices]
            ports = []
            for device in devices:
                for port_id in self.by_device.get(device, ()):
                    port = self.fixture._ports[port_id]
                    if all(port.get(k) == v for k, v in params.items()):
                        port = copy.deepcopy(port)
                        self.fixture._merge_in_active_binding(port)
                        ports.append(port)
            return {'ports': ports}

        def update_port(self, port_id, body=None):
            result = self._update_port(port_id, body)
            if 'binding:host_id' in body['port']:
                device = self.fixture._ports[port_id]['device_id']
                self.bound[device] = time.monotonic()
            return result

        def total(self):
            return sum(self.calls.values())

    #: The attachment calls of Nova's volume API (CinderFixture's mocks).
    CINDER_CALLS = ('attachment_create', 'attachment_update',
                    'attachment_complete', 'attachment_delete')

    def cinder_calls():
        return sum(getattr(cinder.API, name).call_count
                   for name in CINDER_CALLS)

    class ReconcileBenchmark(nova_case.NovaHATestCase):
        """Not a test: measurements, run by ``_child()``."""

        SIZES = FULL
        FAILOVERS = FAILOVERS
        figures = {}

        def setUp(self):
            super().setUp()
            import logging
            # Production logs at INFO; Nova's test logging also formats
            # every DEBUG message, which is not what a service pays.
            logging.getLogger().setLevel(logging.INFO)
            self.flags(connection_username='root',
                       connection_password=PASSWORD, connect_timeout=5.0,
                       read_timeout=120.0, allow_plain_http=True,
                       group='xenapi')
            self.tmp = tempfile.mkdtemp(prefix='bench-reconcile-')
            self.addCleanup(shutil.rmtree, self.tmp, True)
            self.counter = QueryCounter(
                placement_db.placement_context_manager.writer.get_engine())
            sa_event.listen(sa_engine.Engine, 'before_cursor_execute',
                            self.counter)
            self.addCleanup(sa_event.remove, sa_engine.Engine,
                            'before_cursor_execute', self.counter)
            self.cell = self.cell_mappings['cell1']
            self.ports = NeutronCounter(self, self.neutron)
            self.cinder = self.useFixture(nova_fixtures.CinderFixture(self))
            self.flavors = {
                True: self._flavor('ha.1g', {'ha': 'true'}),
                False: self._flavor('plain.1g', {})}
            self.templates = {
                wants: self._template(flavor)
                for wants, flavor in self.flavors.items()}
            self.next_id = 1 + max(
                t['id'] for t in self.templates.values())

        def _flavor(self, name, specs):
            flavor_id = self._create_flavor_with_specs(
                name, specs, memory_mb=VM_MEMORY_MB, vcpu=1, disk=1)
            return objects.Flavor.get_by_flavor_id(self.ctxt, flavor_id)

        # Nova side in bulk --------------------------------------------

        def _template(self, flavor):
            """One real instance; its rows are copied for the others."""
            with nova_context.target_cell(self.ctxt, self.cell) as cctxt:
                instance = objects.Instance(
                    context=cctxt, project_id=PROJECT, user_id=USER,
                    flavor=flavor, instance_type_id=flavor.id,
                    memory_mb=flavor.memory_mb, vcpus=flavor.vcpus,
                    root_gb=flavor.root_gb, ephemeral_gb=0,
                    vm_state='active', power_state=1, task_state=None,
                    image_ref='', availability_zone='nova',
                    display_name='template', launched_at=time.strftime(
                        '%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
                instance.create()
                rows = {}
                with main_db.get_context_manager(cctxt).reader.using(
                        cctxt) as session:
                    for model, key in ((models.Instance, 'uuid'),
                                       (models.InstanceExtra,
                                        'instance_uuid'),
                                       (models.InstanceInfoCache,
                                        'instance_uuid')):
                        table = model.__table__
                        rows[table.name] = dict(session.execute(
                            sa.select(table).where(
                                table.c[key] == instance.uuid)
                        ).mappings().one())
                instance.destroy()
            rows['id'] = rows['instances']['id']
            return rows

        def _create_pool_nova_side(self, p, hosts, vms, url):
            """Compute nodes, providers, aggregate, instances, allocations."""
            nodes = {}
            with nova_context.target_cell(self.ctxt, self.cell) as cctxt:
                for h in range(hosts):
                    name = host_name(p, h)
                    node = objects.ComputeNode(
                        context=cctxt, uuid=node_uuid(name), host=name,
                        hypervisor_hostname=name, vcpus=32,
                        memory_mb=HOST_MEMORY_MB, local_gb=100000,
                        vcpus_used=0, memory_mb_used=0, local_gb_used=0,
                        hypervisor_type='xen', hypervisor_version=8002000,
                        cpu_info='{}', free_ram_mb=HOST_MEMORY_MB,
                        free_disk_gb=100000, current_workload=0,
                        running_vms=0, disk_available_least=100000,
                        host_ip='10.0.%d.%d' % (p, h + 1),
                        supported_hv_specs=[], metrics=None,
                        pci_device_pools=None, extra_resources=None,
                        stats={}, numa_topology=None,
                        cpu_allocation_ratio=16.0, ram_allocation_ratio=1.0,
                        disk_allocation_ratio=1.0)
                    node.create()
                    nodes[name] = node
                    self._provider(node)
            agg = objects.Aggregate(
                context=self.ctxt, name=pool_name(p),
                metadata={'ha': 'true', 'xenapi_pool_url': url})
            agg.create()
            for name in nodes:
                agg.add_host(name)
            self._instances(p, hosts, vms, nodes)

        def _provider(self, node):
            resp = self.placement.post(
                '/resource_providers',
                {'uuid': node.uuid, 'name': node.hypervisor_hostname},
                version='1.20')
            assert resp.status == 200, resp.body
            resp = self.placement.put(
                '/resource_providers/%s/inventories' % node.uuid,
                {'resource_provider_generation': 0, 'inventories': {
                    'VCPU': {'total': 32, 'allocation_ratio': 16.0},
                    'MEMORY_MB': {'total': HOST_MEMORY_MB},
                    'DISK_GB': {'total': 100000}}}, version='1.20')
            assert resp.status == 200, resp.body

        def _instances(self, p, hosts, vms, nodes):
            scenario = pool_scenario(p, hosts, vms, self.next_id)
            tables = {name: [] for name in (
                'instances', 'instance_extra', 'instance_info_caches',
                'block_device_mapping')}
            allocations = {}
            for i, vm in enumerate(scenario['vms']):
                uuid = vm['other_config']['nova_uuid']
                node = nodes[vm['host']]
                template = self.templates[vm['ha_restart_priority'] ==
                                          'restart']
                row = dict(template['instances'])
                row.update(id=self.next_id + i, uuid=uuid, host=node.host,
                           node=node.hypervisor_hostname,
                           launched_on=node.host, hostname='vm-%05d' % i,
                           display_name='vm-%05d' % i)
                if 'compute_id' in row:
                    row['compute_id'] = node.id
                tables['instances'].append(row)
                for name in ('instance_extra', 'instance_info_caches'):
                    row = dict(template[name])
                    row.pop('id')
                    row['instance_uuid'] = uuid
                    tables[name].append(row)
                tables['instance_info_caches'][-1]['network_info'] = (
                    self._port(uuid, node.host, i))
                if vm['ha_restart_priority'] == 'restart':
                    tables['block_device_mapping'].append(
                        self._volume(uuid, vm['host']))
                allocations[uuid] = node.uuid
            self.next_id += vms
            with nova_context.target_cell(self.ctxt, self.cell) as cctxt:
                with main_db.get_context_manager(cctxt).writer.using(
                        cctxt) as session:
                    for model in (models.Instance, models.InstanceExtra,
                                  models.InstanceInfoCache,
                                  models.BlockDeviceMapping):
                        session.execute(sa.insert(model.__table__),
                                        tables[model.__table__.name])
            self._allocations(allocations)
            return scenario

        def _port(self, uuid, host, i):
            """The instance's port, bound to ``host``; its cached VIF."""
            port = copy.deepcopy(self.neutron.port_1)
            port.update(id=derived_uuid('port', uuid), device_id=uuid,
                        device_owner='compute:nova',
                        mac_address='fa:16:3e:%02x:%02x:%02x' % (
                            i >> 16 & 255, i >> 8 & 255, i & 255),
                        tenant_id=PROJECT, project_id=PROJECT)
            port['binding:host_id'] = host
            self.ports.add(port, host)
            vif = copy.deepcopy(self.neutron.nw_info[0])
            vif.update(id=port['id'], ovs_interfaceid=port['id'],
                       address=port['mac_address'])
            return json.dumps([vif])

        def _volume(self, uuid, xen_host):
            """The instance's volume, attached to ``xen_host``: its BDM row.

            Attached before any relocation, with no connector stashed, as
            Nova attaches a volume.
            """
            volume_id = derived_uuid('volume', uuid)
            attachment_id = derived_uuid('attachment', uuid)
            self.cinder.volume_to_attachment[volume_id][attachment_id] = {
                'id': attachment_id, 'instance_uuid': uuid,
                'connector': {'host': xen_host}}
            return {
                'created_at': datetime.datetime.utcnow(), 'deleted': 0,
                'instance_uuid': uuid, 'uuid': derived_uuid('bdm', uuid),
                'source_type': 'volume', 'destination_type': 'volume',
                'device_name': '/dev/xvdb', 'volume_id': volume_id,
                'attachment_id': attachment_id,
                'delete_on_termination': False,
                'connection_info': json.dumps(
                    {'driver_volume_type': 'iscsi',
                     'data': {'volume_id': volume_id}})}

        def _allocations(self, providers):
            """Allocate each consumer's VM on its provider.

            The first consumer's allocations are written through placement's
            API; the others' rows (``consumers``, ``allocations``) are copies
            of its rows, written in bulk: the API takes some 10 ms per
            consumer, too long for 20,000.
            """
            uuids = sorted(providers)
            first = uuids[0]
            resp = self.placement.put('/allocations/%s' % first, {
                'allocations': {providers[first]: {'resources': {
                    'VCPU': 1, 'MEMORY_MB': VM_MEMORY_MB, 'DISK_GB': 1}}},
                'project_id': PROJECT, 'user_id': USER,
                'consumer_generation': None}, version='1.28')
            assert resp.status == 204, resp.body
            consumers = placement_models.Consumer.__table__
            allocs = placement_models.Allocation.__table__
            rps = placement_models.ResourceProvider.__table__
            with self.counter.placement_engine.begin() as conn:
                consumer = dict(conn.execute(sa.select(consumers).where(
                    consumers.c.uuid == first)).mappings().one())
                consumer.pop('id')
                rows = [dict(r) for r in conn.execute(sa.select(allocs).where(
                    allocs.c.consumer_id == first)).mappings()]
                rp_ids = {r.uuid: r.id for r in conn.execute(
                    sa.select(rps.c.uuid, rps.c.id))}
                new_consumers, new_allocs = [], []
                for uuid in uuids[1:]:
                    new_consumers.append(dict(consumer, uuid=uuid))
                    for row in rows:
                        row = dict(row, consumer_id=uuid,
                                   resource_provider_id=rp_ids[
                                       providers[uuid]])
                        row.pop('id')
                        new_allocs.append(row)
                conn.execute(sa.insert(consumers), new_consumers)
                conn.execute(sa.insert(allocs), new_allocs)
            last = self.placement.get('/allocations/%s' % uuids[-1],
                                      version='1.28').body
            assert set(last['allocations']) == {providers[uuids[-1]]}, last

        # Measuring ----------------------------------------------------

        def _pass(self, reconciler, pools, label):
            """One pass over ``pools``; its figures."""
            self.sim.reset_calls(pools)
            neutron, volume_calls = self.ports.total(), cinder_calls()
            self.counter.start()
            start = time.monotonic()
            reports = [reconciler.reconcile_pool(self.ctxt, p)
                       for p in pools]
            seconds = time.monotonic() - start
            nova, placement = self.counter.stop()
            neutron = self.ports.total() - neutron
            volume_calls = cinder_calls() - volume_calls
            for report in reports:
                assert report.error is None, report.error
            return {
                'label': label, 'seconds': seconds,
                'calls': self.sim.calls(pools), 'nova_queries': nova,
                'placement_queries': placement, 'neutron': neutron,
                'cinder': volume_calls,
                'relocated': sum(r.count(status=outcome.APPLIED,
                                         kind=decide.RELOCATE)
                                 for r in reports),
                'failed': sum(r.failed for r in reports),
                'actions': sum(len(r.results) for r in reports),
                'instances': sum(len(r.snapshot.vms) for r in reports),
                'rss': rss_mib(), 'peak_rss': peak_rss_mib()}

        def _start(self, pools, hosts, vms):
            started = time.monotonic()
            specs = []
            for p in range(pools):
                specs.append(pool_scenario(
                    p, hosts, vms, self.next_id + p * vms))
            self.sim = Simulator(specs, self.tmp)
            self.addCleanup(self.sim.stop)
            for p in range(pools):
                info = self.sim.pools[pool_name(p)]
                self._create_pool_nova_side(
                    p, hosts, vms, info['member_urls'][host_name(p, 0)])
            reconciler = engine.Reconciler(ha_conf.CONF)
            self.addCleanup(reconciler.close)
            reconciler.discover(self.ctxt)
            names = [pool_name(p) for p in range(pools)]
            assert sorted(reconciler.targets) == names
            return reconciler, names, time.monotonic() - started

        def _move(self, pool, count, hosts):
            """Live-migrate ``count`` running VMs behind Nova's back."""
            vms = [vm for vm in self.sim.get(pool, 'vms')
                   if vm['power_state'] == 'Running']
            p = int(pool.split('-')[1])
            moved = 0
            for vm in vms[::max(1, len(vms) // max(count, 1))][:count]:
                h = int(vm['host'].rsplit('-', 1)[1])
                self.sim.do(pool, 'migrate_vm', vm=vm['ref'],
                            host=host_name(p, (h + hosts // 2) % hosts))
                moved += 1
            return moved

        def test_one_pool(self):
            pools, hosts, vms = self.SIZES['one']
            reconciler, names, setup = self._start(pools, hosts, vms)
            progress('one pool: set up in %.0f s' % setup)
            [pool] = names
            f = {'pools': pools, 'hosts': hosts, 'vms': vms,
                 'setup': setup}
            # Log in first (bench_pool_read counts the login's call), so
            # that every pass measured is a steady-state one.
            reconciler.client(pool).read_ha_state()
            passes = []
            for count in RELOCATIONS:
                self._move(pool, count, hosts)
                passes.append(self._pass(
                    reconciler, names, 'relocate %d' % count))
            victim = host_name(0, hosts - 1)
            self.sim.do(pool, 'fail_host', host=victim)
            self.sim.do(pool, 'wait_until_quiet', timeout=60)
            passes.append(self._pass(
                reconciler, names, 'after host %s failed' % victim))
            self.sim.do(pool, 'recover_host', host=victim)
            passes.append(self._pass(reconciler, names, 'in sync again'))
            f['passes'] = passes
            progress('one pool: passes done')
            f['stages'] = self._stages(reconciler, pool)
            f['naive'] = self._naive(reconciler, pool)
            # The same pool as the naive strategy saw, nothing changed since.
            f['real'] = passes[-1]
            reconciler.close()
            progress('one pool: naive strategy done')
            f['latency'] = self._latency(pool, hosts, vms)
            f['peak_rss'] = peak_rss_mib()
            self.figures['one'] = f

        def test_many_pools(self):
            pools, hosts, vms = self.SIZES['many']
            reconciler, names, setup = self._start(pools, hosts, vms)
            f = {'pools': pools, 'hosts': hosts, 'vms': vms,
                 'setup': setup}
            progress('%d pools: set up in %.0f s' % (pools, setup))
            # Log in to every pool first (three small calls each), so that
            # the pass measured is a steady-state one.
            for name in names:
                reconciler.client(name).read_ha_state()
            # A host fails in the last pool; the pass covers every pool.
            last = names[-1]
            self.sim.do(last, 'fail_host',
                        host=host_name(pools - 1, hosts - 1))
            self.sim.do(last, 'wait_until_quiet', timeout=60)
            f['passes'] = [self._pass(
                reconciler, names, 'after a host of %s failed' % last)]
            f['peak_rss'] = peak_rss_mib()
            self.figures['many'] = f

        def test_notifications(self):
            """Passes with notifications off, then on, interleaved.

            On: Nova's settings for versioned notifications, sent with
            oslo.messaging's ``messaging`` driver to its in-memory
            transport (nobody consumes them in this process, as a broker
            would take them elsewhere).
            """
            pools, hosts, vms = self.SIZES['one']
            off, names, setup = self._start(pools, hosts, vms)
            [pool] = names
            progress('notifications: set up in %.0f s' % setup)
            self.flags(driver=['messaging'],
                       group='oslo_messaging_notifications')
            self.flags(notification_format='versioned',
                       group='notifications')
            transport = oslo_messaging.get_notification_transport(
                ha_conf.CONF, url='fake:/')
            sender = ha_notifier.HANotifier(ha_conf.CONF, host='bench',
                                            transport=transport)
            self.addCleanup(sender.close)
            timed = self.TimedPassNotifier(sender)
            on = engine.Reconciler(ha_conf.CONF, notifier=timed)
            self.addCleanup(on.close)
            on.discover(self.ctxt)
            for reconciler in (off, on):
                reconciler.client(pool).read_ha_state()
                # The first pass of a worker announces what it finds.
                reconciler.reconcile_pool(self.ctxt, pool)
            assert sender.flush(60)
            rows = []

            def measure(label, prepare=None):
                for mode, reconciler in (('off', off), ('on', on)):
                    if prepare is not None:
                        prepare()
                    sent = sender.sent
                    hooks, sending = timed.hooks, timed.sending
                    f = self._pass(reconciler, names, label)
                    start = time.monotonic() - f['seconds']
                    assert sender.flush(60)
                    f.update(mode=mode, notifications=sender.sent - sent,
                             flushed=time.monotonic() - start,
                             hooks=timed.hooks - hooks,
                             sending=timed.sending - sending)
                    rows.append(f)

            for _round in range(NOTIFY_ROUNDS):
                measure('in sync')
                measure('relocate 50',
                        lambda: self._move(pool, 50, hosts))
            # A host fails before each pass of this row, a different one
            # each time; the one before is back by then.
            victims = [host_name(0, hosts - 1 - k)
                       for k in range(2 * NOTIFY_ROUNDS)]
            failed = []

            def fail_next():
                if failed:
                    self.sim.do(pool, 'recover_host', host=failed[-1])
                failed.append(victims[len(failed)])
                self.sim.do(pool, 'fail_host', host=failed[-1])
                self.sim.do(pool, 'wait_until_quiet', timeout=60)
            for _round in range(NOTIFY_ROUNDS):
                measure('after a host failed', fail_next)
            progress('notifications: passes done')
            self.figures['notifications'] = {
                'hosts': hosts, 'vms': vms, 'rows': rows}

        class TimedPassNotifier(passes.PassNotifier):
            """Times the pass's calls into it, and the sender's sends."""

            def __init__(self, sender):
                super().__init__(sender)
                self.hooks = self.sending = 0.0
                send = sender._send

                def timed_send(context, message):
                    start = time.perf_counter()
                    send(context, message)
                    self.sending += time.perf_counter() - start
                sender._send = timed_send

            def relocating(self, *args, **kwargs):
                start = time.perf_counter()
                super().relocating(*args, **kwargs)
                self.hooks += time.perf_counter() - start

            def pass_done(self, *args, **kwargs):
                start = time.perf_counter()
                super().pass_done(*args, **kwargs)
                self.hooks += time.perf_counter() - start

        def _stages(self, reconciler, pool):
            """The parts of an in-sync pass, timed one by one."""
            client = reconciler.client(pool)
            times = {'read': [], 'view': [], 'decide': [], 'objects': []}
            for _i in range(STAGE_RUNS):
                start = time.monotonic()
                snapshot = client.read_pool()
                read = time.monotonic()
                view = nova_view.read_nova_view(
                    self.ctxt, hostmap.nodenames(snapshot.ha.hosts))
                viewed = time.monotonic()
                host_map = hostmap.map_hosts(snapshot.ha.hosts,
                                             view.compute_nodes)
                actions = decide.decide(view.instances, snapshot, host_map)
                assert not actions, actions[:3]
                times['read'].append(read - start)
                times['view'].append(viewed - read)
                times['decide'].append(time.monotonic() - viewed)
                # The former Nova view: the same values, through objects.
                start = time.monotonic()
                with nova_context.target_cell(self.ctxt, self.cell) as cctxt:
                    former = objects_instances_on(cctxt, view.compute_nodes)
                times['objects'].append(time.monotonic() - start)
                # The former view had no ports or volumes to compare.
                assert tuple(former) == tuple(
                    dataclasses.replace(i, has_ports=False, volumes=())
                    for i in view.instances)
            stages = {k: statistics.median(v) for k, v in times.items()}
            stages['instances'] = len(view.instances)
            return stages

        # The naive baseline -------------------------------------------

        def _naive(self, reconciler, pool):
            """Per instance: find its VM by name, read it and its host.

            What a reconciler written without bulk reads would do: for each
            instance Nova has on the pool's nodes, ``VM.get_by_name_label``
            (the name Nova gave the VM), ``VM.get_record`` and
            ``host.get_hostname`` of the host it runs on, then compare with
            ``instance.node``. It only finds differences; it writes nothing.
            """
            client = reconciler.client(pool)
            self.sim.reset_calls([pool])
            self.counter.start()
            start = time.monotonic()
            with nova_context.target_cell(self.ctxt, self.cell) as cctxt:
                nodes = [cn for cn in objects.ComputeNodeList.get_all(cctxt)
                         if cn.host.startswith(
                             'xs-%s-' % pool.split('-')[1])]
                instances = objects.InstanceList.get_by_filters(
                    cctxt, {'host': [cn.host for cn in nodes],
                            'deleted': False})
            differ = 0
            for instance in instances:
                refs = client.call('VM.get_by_name_label', instance.name)
                if len(refs) != 1:
                    differ += 1
                    continue
                record = client.call('VM.get_record', refs[0])
                if record['resident_on'] == 'OpaqueRef:NULL':
                    differ += 1
                    continue
                hostname = client.call('host.get_hostname',
                                       record['resident_on'])
                if hostname != instance.node:
                    differ += 1
            seconds = time.monotonic() - start
            nova, _placement = self.counter.stop()
            return {'seconds': seconds, 'calls': self.sim.calls([pool]),
                    'nova_queries': nova, 'instances': len(instances),
                    'differ': differ}

        # Event-driven latency -----------------------------------------

        @staticmethod
        def _relocations(reports, seen, cond, wanted, timeout=120):
            """Wait for passes relocating ``wanted`` (any, if None).

            :returns: instance uuid -> when the pass that relocated it ended.
            """
            updated = {}

            def done():
                for when, report in reports[seen:]:
                    for r in report.results:
                        if (r.status == outcome.APPLIED and
                                r.action.kind == decide.RELOCATE):
                            updated.setdefault(r.action.instance_uuid, when)
                if wanted is None:
                    return bool(updated)
                return wanted <= set(updated)
            with cond:
                if not cond.wait_for(done, timeout):
                    raise AssertionError(
                        'Nova did not follow within %d s: %d of %d '
                        'instances relocated' % (timeout, len(updated),
                                                 len(wanted or ())))
            return updated

        def _latency(self, pool, hosts, vms):
            """Host failures with the event watcher on.

            For each relocated instance: from the moment the observer saw
            its VM Running on its new host to the commit of the transaction
            that wrote its new host to Nova's database.
            """
            self.flags(interval=3600, watch_events=True, event_timeout=5.0,
                       event_settle_seconds=0.1, group='ha_reconciler')
            clock = CommitClock()
            clock.listen()
            self.addCleanup(clock.remove)
            info = self.sim.pools[pool]
            observer = Observer(info['url'])
            self.addCleanup(observer.stop)
            reports = []
            cond = threading.Condition()

            def on_report(report):
                with cond:
                    reports.append((time.monotonic(), report))
                    cond.notify_all()

            def wait(predicate, timeout=120):
                with cond:
                    if not cond.wait_for(predicate, timeout):
                        raise AssertionError('timed out waiting')

            run = runner.ReconcilerRunner(
                ha_conf.CONF, nova_context.get_admin_context,
                on_report=on_report)
            # When the watcher asked for passes, to know when all are done.
            triggers = []
            trigger = run.trigger

            def recording_trigger(name, snapshot=None):
                with cond:
                    triggers.append(time.monotonic())
                trigger(name, snapshot)
            run.trigger = recording_trigger

            def quiesce():
                """Until every pass the watcher asked for has run."""
                time.sleep(0.3)  # longer than the settle time
                wait(lambda: not triggers or any(
                    when - report.seconds > triggers[-1]
                    for when, report in reports))

            run.start()
            self.addCleanup(run.stop)
            wait(lambda: reports)
            # Once a VM moved behind its back is followed, the watcher is
            # known to be seeded and listening.
            with cond:
                seen = len(reports)
            self._move(pool, 1, hosts)
            self._relocations(reports, seen, cond, None)
            quiesce()
            host_refs = {h['hostname']: h['ref']
                         for h in self.sim.get(pool, 'hosts')}
            p = int(pool.split('-')[1])
            per_instance = []
            per_failover = []
            per_port = []
            per_failover_port = []
            passes = all_passes = 0
            for i in range(self.FAILOVERS):
                # Never the master (host 0): that would time the election.
                victim = host_name(p, 1 + (i * 7) % (hosts - 1))
                protected = {vm['ref']: vm['nova_uuid']
                             for vm in self.sim.get(pool, 'vms')
                             if vm['host'] == victim and
                             vm['ha_restart_priority'] == 'restart'}
                wanted = set(protected.values())
                start = time.monotonic()
                with cond:
                    seen = len(reports)
                clock.reset()
                self.sim.do(pool, 'fail_host', host=victim)
                updated = self._relocations(reports, seen, cond, wanted)
                with cond:
                    # Passes whose reports came in, up to the last one that
                    # relocated (none ran before the failure: quiesced).
                    last = max(updated.values())
                    passes += sum(1 for when, _r in reports[seen:]
                                  if when <= last)
                running = observer.running_since(
                    set(protected), start, host_refs[victim])
                assert running, 'no restart seen by the observer'
                committed = clock.committed
                assert set(committed) >= wanted, 'commits not seen'
                lat = [committed[protected[ref]] - when
                       for ref, when in running.items()]
                per_instance.extend(lat)
                per_failover.append(max(lat))
                bound = {uuid: when for uuid, when in self.ports.bound.items()
                         if when >= start}
                assert set(bound) >= wanted, 'port bindings not seen'
                lat_port = [bound[protected[ref]] - when
                            for ref, when in running.items()]
                per_port.extend(lat_port)
                per_failover_port.append(max(lat_port))
                # Back to a quiet pool before the next failure.
                self.sim.do(pool, 'recover_host', host=victim)
                quiesce()
                with cond:
                    all_passes += len(reports) - seen
                progress('failure %d of %d: Nova followed in %.2f s, the '
                         'ports in %.2f s' % (i + 1, self.FAILOVERS,
                                              max(lat), max(lat_port)))
            run.stop()
            return {'failovers': self.FAILOVERS, 'vms': vms,
                    'passes': passes, 'all_passes': all_passes,
                    'failover_max': max(per_failover),
                    'instances': len(per_instance),
                    'median': statistics.median(per_instance),
                    'p95': _percentile(per_instance, 95),
                    'max': max(per_instance),
                    'failover_median': statistics.median(per_failover),
                    'failover_p95': _percentile(per_failover, 95),
                    'port': {
                        'median': statistics.median(per_port),
                        'p95': _percentile(per_port, 95),
                        'max': max(per_port),
                        'failover_median': statistics.median(
                            per_failover_port),
                        'failover_p95': _percentile(per_failover_port, 95),
                        'failover_max': max(per_failover_port)}}

    return ReconcileBenchmark


def _child(small, notifications=False):
    # Nova's functional harness wants eventlet patching before anything.
    from nova import monkey_patch
    monkey_patch.patch()

    case = _bench_case()
    if small:
        case.SIZES = SMALL
    started = time.monotonic()
    methods = (('test_notifications',) if notifications
               else ('test_one_pool', 'test_many_pools'))
    if not benchmarks.run_cases(case, methods):
        return 1
    if notifications:
        _report_notifications(case.figures['notifications'],
                              time.monotonic() - started)
    else:
        _report(case.figures, time.monotonic() - started)
    return 0


def _report_notifications(figures, total):
    cpu, cores, python = benchmarks.machine()
    print('Machine: %s, nproc %d, Python %s; measured in %.0f s.'
          % (cpu, cores, python, total))
    print()
    print('### Notifications off and on: one pool, %d hosts, %s VMs'
          % (figures['hosts'], _n(figures['vms'])))
    print()
    print('| pass | notifications | relocated | sent | Nova DB queries | '
          'XenAPI calls | pass wall time | in the pass\'s notifier calls | '
          'sending (own thread) | until all sent |')
    print('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for f in figures['rows']:
        print('| %s | %s | %d | %d | %s | %d | %.2f s | %.1f ms | %.1f ms '
              '| %.2f s |'
              % (f['label'], f['mode'], f['relocated'], f['notifications'],
                 _n(f['nova_queries']), f['calls'], f['seconds'],
                 f['hooks'] * 1000, f['sending'] * 1000, f['flushed']))
    print()
    by = collections.defaultdict(list)
    for f in figures['rows']:
        by[(f['label'], f['mode'])].append(f['seconds'])
    for label in dict.fromkeys(f['label'] for f in figures['rows']):
        off = statistics.median(by[(label, 'off')])
        on = statistics.median(by[(label, 'on')])
        ons = [f for f in figures['rows']
               if f['label'] == label and f['mode'] == 'on']
        print('- %s: median pass %.2f s off, %.2f s on (%+.0f ms, %+.1f%%); '
              'in the notifier calls %.1f ms and sending %.1f ms per pass '
              '(medians)'
              % (label, off, on, (on - off) * 1000,
                 100.0 * (on - off) / off,
                 statistics.median(f['hooks'] for f in ons) * 1000,
                 statistics.median(f['sending'] for f in ons) * 1000))


def _n(number):
    return '{:,}'.format(number)


def _table(passes):
    print('| pass | guest VMs | relocated | XenAPI calls | Nova DB '
          'queries | placement DB queries | Neutron requests | Cinder '
          'requests | wall time | RSS / peak |')
    print('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for f in passes:
        print('| %s | %s | %d | %d | %s | %s | %s | %s | %.2f s '
              '| %.0f / %.0f MiB |'
              % (f['label'], _n(f['instances']), f['relocated'], f['calls'],
                 _n(f['nova_queries']), _n(f['placement_queries']),
                 _n(f['neutron']), _n(f['cinder']), f['seconds'], f['rss'],
                 f['peak_rss']))


def _shape(passes):
    """(constant, per relocated instance) of a pass's costs."""
    by = {f['label']: f for f in passes}
    low = by['relocate %d' % RELOCATIONS[1]]
    high = by['relocate %d' % RELOCATIONS[-1]]
    span = float(high['relocated'] - low['relocated'])
    return {key: (by['relocate 0'][key], (high[key] - low[key]) / span)
            for key in ('nova_queries', 'placement_queries', 'neutron',
                        'cinder', 'seconds')}


def _report(figures, total):
    cpu, cores, python = benchmarks.machine()
    print('Machine: %s, nproc %d, Python %s; measured in %.0f s.'
          % (cpu, cores, python, total))
    one = figures['one']
    print()
    print('### One pool: %d hosts, %s VMs (set up in %.0f s)'
          % (one['hosts'], _n(one['vms']), one['setup']))
    print()
    _table(one['passes'])
    shape = _shape(one['passes'])
    print()
    print('Fit over the relocate %s passes: Nova DB queries = %d + %.1f '
          'per relocated instance; placement DB queries = %d + %.1f per '
          'relocated instance; Neutron requests = %d + %.1f per relocated '
          'instance; Cinder requests = %d + %.1f per relocated instance; '
          'wall time = %.2f s + %.0f ms per relocated instance.'
          % ('/'.join(str(n) for n in RELOCATIONS),
             shape['nova_queries'][0], shape['nova_queries'][1],
             shape['placement_queries'][0], shape['placement_queries'][1],
             shape['neutron'][0], shape['neutron'][1],
             shape['cinder'][0], shape['cinder'][1],
             shape['seconds'][0], shape['seconds'][1] * 1000))
    stages = one['stages']
    print()
    print('An in-sync pass, stage by stage (medians of %d): `read_pool` '
          '%.2f s; Nova view (`read_nova_view`, %s instances with their '
          'flavors, one column-limited query) %.3f s; host map and '
          '`decide` %.3f s. The same Nova view read through Nova\'s '
          'objects (`InstanceList` with flavors, same values), as before: '
          '%.2f s.'
          % (STAGE_RUNS, stages['read'], _n(stages['instances']),
             stages['view'], stages['decide'], stages['objects']))
    naive, real = one['naive'], one['real']
    print()
    print('| in-sync pool of %s instances | XenAPI calls | Nova DB '
          'queries | wall time |' % _n(naive['instances']))
    print('|---|---:|---:|---:|')
    print('| naive: per instance `VM.get_by_name_label`, `VM.get_record`, '
          '`host.get_hostname` | %s | %d | %.2f s |'
          % (_n(naive['calls']), naive['nova_queries'], naive['seconds']))
    print('| reconciler pass (`reconcile_pool`) | %d | %d | %.2f s |'
          % (real['calls'], real['nova_queries'], real['seconds']))
    print('| naive / reconciler | %.0fx | | %.1fx |'
          % (naive['calls'] / float(real['calls']),
             naive['seconds'] / real['seconds']))
    lat = one['latency']
    print()
    failures = float(lat['failovers'])
    print('Event-driven (`ReconcilerRunner`, `watch_events`, '
          '`event_settle_seconds` 0.1) on the pool of %s VMs: %d host '
          'failures, each followed by its recovery once Nova had followed; '
          '%d relocated instances (%.0f per failure); %.1f passes per '
          'failure until Nova had followed, %.1f passes per failure and '
          'recovery in all.' % (_n(lat['vms']), lat['failovers'],
                                lat['instances'],
                                lat['instances'] / failures,
                                lat['passes'] / failures,
                                lat['all_passes'] / failures))
    print()
    port = lat['port']
    print('| from VM Running on its new host | median | p95 | max |')
    print('|---|---:|---:|---:|')
    print('| to Nova updated, per relocated instance | %.2f s | %.2f s '
          '| %.2f s |' % (lat['median'], lat['p95'], lat['max']))
    print('| to Nova updated, per failure (its last instance) | %.2f s '
          '| %.2f s | %.2f s |'
          % (lat['failover_median'], lat['failover_p95'],
             lat['failover_max']))
    print('| to its port bound on the new host, per relocated instance '
          '| %.2f s | %.2f s | %.2f s |'
          % (port['median'], port['p95'], port['max']))
    print('| to its port bound, per failure (its last instance) | %.2f s '
          '| %.2f s | %.2f s |'
          % (port['failover_median'], port['failover_p95'],
             port['failover_max']))
    many = figures['many']
    print()
    print('### %d pools: %d hosts and %s VMs each, %s VMs in all (set up in '
          '%.0f s)' % (many['pools'], many['hosts'], _n(many['vms']),
                       _n(many['vms'] * many['pools']), many['setup']))
    print()
    _table(many['passes'])
    print()
    print('Peak RSS of the measuring process (Nova API, conductor, '
          'scheduler, placement, the reconciler): %.0f MiB after the one '
          'pool, %.0f MiB after the %d pools.'
          % (one['peak_rss'], many['peak_rss'], many['pools']))


if __name__ == '__main__':
    if '--child' in sys.argv:
        sys.exit(_child('--small' in sys.argv,
                        '--notifications' in sys.argv))
    main(small='--small' in sys.argv,
         notifications='--notifications' in sys.argv)
