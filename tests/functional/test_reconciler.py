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

"""The reconciler against real Nova and a simulated XenServer HA pool.

Servers are booted through the API onto the XenAPI-backed computes; a
XenServer host then fails in the simulator, XenServer HA restarts the
protected VMs elsewhere, and the reconciler makes Nova follow.
"""

import threading
import time

from nova import context as nova_context
from nova import objects

from nova_ha_ext import conf
from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import engine
from nova_ha_ext.reconcile import outcome
from nova_ha_ext.reconcile import runner
from nova_ha_ext.testing import hostile
from nova_ha_ext.testing import waiting
from nova_ha_ext.testing import xenapi_pools
from nova_ha_ext.virt.xenapi import fake as xenapi_fake
from nova_ha_ext.xenapi import client as xenapi_client


class ReconcilerTestCase(xenapi_pools.XenAPIPoolsTestCase):

    POOLS = {'pool-a': True}

    def setUp(self):
        super().setUp()
        self.ha = self.ha_flavor()
        self.plain = self.plain_flavor()
        self.reconciler = engine.Reconciler(conf.CONF)
        self.addCleanup(self.reconciler.close)

    def boot_on(self, host, flavor, name):
        server = self._create_server(name=name, flavor_id=flavor,
                                     networks='none', host=host)
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        return server

    def fail(self, host, pool='pool-a'):
        self.sim.fail_host(pool, host)
        self.sim.wait_until_quiet(pool)

    def reconcile(self, pool='pool-a', **kw):
        [report] = self.reconciler.reconcile(self.ctxt, [pool], **kw)
        self.assertIsNone(report.error)
        return report

    def _wait(self, predicate, timeout=10):
        return waiting.wait_for(predicate, timeout)

    def by_instance(self, report):
        return {r.action.instance_uuid: r for r in report.results}

    def server_host(self, server):
        return self.api.get_server(server['id'])['OS-EXT-SRV-ATTR:host']


class TestHAFailoverStory(ReconcilerTestCase):

    def test_nova_follows_xenserver_ha_and_nothing_is_lost(self):
        ha1 = self.boot_on('xs-a2', self.ha, 'ha1')
        ha2 = self.boot_on('xs-a2', self.ha, 'ha2')
        plain = self.boot_on('xs-a2', self.plain, 'plain')
        other = self.boot_on('xs-a3', self.ha, 'other')
        old_rp = self._get_provider_uuid_by_host('xs-a2')

        self.fail('xs-a2')
        report = self.reconcile()
        results = self.by_instance(report)

        for server in (ha1, ha2):
            vm = self.vm_of('pool-a', server)
            self.assertEqual('Running', vm['power_state'])
            new_host = vm['host']
            self.assertIn(new_host, ('xs-a1', 'xs-a3'))
            self.assertEqual(outcome.APPLIED, results[server['id']].status)
            shown = self.api.get_server(server['id'])
            self.assertEqual(new_host, shown['OS-EXT-SRV-ATTR:host'])
            self.assertEqual(new_host,
                             shown['OS-EXT-SRV-ATTR:hypervisor_hostname'])
            self.assertEqual('ACTIVE', shown['status'])
            allocations = self._get_allocations_by_server_uuid(server['id'])
            self.assertEqual(
                {self._get_provider_uuid_by_host(new_host)},
                set(allocations))
            actions = self.api.get_instance_actions(server['id'])
            self.assertIn('ha-relocate', [a['action'] for a in actions])
        # The unprotected server stays where Nova says, and is reported.
        self.assertEqual('xs-a2', self.server_host(plain))
        self.assertEqual(decide.SKIP, results[plain['id']].action.kind)
        self.assertEqual('Halted', self.vm_of('pool-a', plain)[
            'power_state'])
        self.assertNotIn(other['id'], results)
        # The old provider keeps only the plain server's allocation.
        self.assertEqual(
            {plain['id']},
            {c for c in self.placement.get(
                '/resource_providers/%s/allocations' % old_rp).body[
                    'allocations']})
        self.assertEqual([], objects.MigrationList.get_by_filters(
            self.ctxt, {}).objects)

        # The failed host comes back and its nova-compute restarts.
        self.sim.recover_host('pool-a', 'xs-a2')
        self.restart_compute_service(self.computes['xs-a2'])
        for server in (ha1, ha2, other):
            vm = self.vm_of('pool-a', server)
            self.assertEqual('Running', vm['power_state'])
            self.assertEqual(vm['host'], self.server_host(server))
            self.assertEqual('ACTIVE',
                             self.api.get_server(server['id'])['status'])

        # A second pass changes nothing.
        again = self.reconcile()
        self.assertEqual(0, again.count(status=outcome.APPLIED))
        # xs-a2 is live again, so the halted plain VM is simply stopped
        # there: Nova's own power-state sync deals with that.
        self.assertEqual((), again.results)

    def test_dry_run_reports_the_plan_and_writes_nothing(self):
        server = self.boot_on('xs-a3', self.ha, 'ha')
        self.fail('xs-a3')
        before = self.api.get_instance_actions(server['id'])
        report = self.reconcile(dry_run=True)
        [result] = report.results
        self.assertEqual(outcome.DRY_RUN, result.status)
        self.assertEqual(decide.RELOCATE, result.action.kind)
        self.assertEqual('xs-a3', self.server_host(server))
        self.assertEqual(before, self.api.get_instance_actions(server['id']))
        self.assertEqual(
            {self._get_provider_uuid_by_host('xs-a3')},
            set(self._get_allocations_by_server_uuid(server['id'])))


class TestHAFailoverStoryOnXapiTiming(TestHAFailoverStory):
    """The same story on xapi's own timing, scaled down.

    Detection at the HA timeout, seconds per VM.start, the HA monitor's
    period and back-off (the simulator's realistic profile).
    """

    def scenario(self):
        pool = xenapi_pools.pool_scenario('pool-a', True)
        for key in ('detection_delay', 'restart_delay'):
            del pool[key]
        # VM starts of 0.5 s leave a pass time to see the restart window.
        pool.update(timing='realistic', time_scale=0.005,
                    vm_start_seconds=0.5)
        return {'pools': [pool]}

    def test_no_ha_restart_failed_inside_the_restart_window(self):
        server = self.boot_on('xs-a2', self.ha, 'ha')
        self.reconcile()
        self.sim.fail_host('pool-a', 'xs-a2')
        waiting.wait_for(
            lambda: not {h['hostname']: h for h in self.sim.hosts(
                'pool-a')}['xs-a2']['live'], 10, 'xs-a2 not live')
        result = self.by_instance(self.reconcile())[server['id']]
        # Whatever moment of the restart the pass saw, it waits for it.
        self.assertEqual(decide.SKIP, result.action.kind)
        self.assertIn(result.action.rule, ('host-not-live', 'halted-on-host',
                                           'ha-restart-pending'))
        self.sim.wait_until_quiet('pool-a')
        result = self.by_instance(self.reconcile())[server['id']]
        self.assertEqual((decide.RELOCATE, outcome.APPLIED),
                         (result.action.kind, result.status))


class TestSkips(ReconcilerTestCase):

    def test_task_in_progress_is_skipped(self):
        server = self.boot_on('xs-a2', self.ha, 'busy')
        instance = objects.Instance.get_by_uuid(self.ctxt, server['id'])
        instance.task_state = 'powering-off'
        instance.save()
        self.fail('xs-a2')
        result = self.by_instance(self.reconcile())[server['id']]
        self.assertEqual(('skip', 'task-in-progress'),
                         (result.action.kind, result.action.rule))
        self.assertEqual('xs-a2', self.server_host(server))

    def test_duplicate_nova_uuid_is_skipped(self):
        server = self.boot_on('xs-a2', self.ha, 'dup')
        api = self.xenapi('pool-a')
        [ref] = api.VM.get_by_name_label(
            self.api.get_server(server['id'])[
                'OS-EXT-SRV-ATTR:instance_name'])
        record = api.VM.get_record(ref)
        record['name_label'] = 'copy'
        api.VM.create(record)
        self.fail('xs-a2')
        result = self.by_instance(self.reconcile())[server['id']]
        self.assertEqual('several-vms', result.action.rule)
        self.assertEqual('xs-a2', self.server_host(server))

    def test_restart_failed_for_lack_of_capacity_is_reported(self):
        # Fill the two other hosts so the protected VM cannot restart.
        server = self.boot_on('xs-a2', self.ha, 'unlucky')
        api = self.xenapi('pool-a')
        [pool_ref] = api.pool.get_all()
        api.pool.set_ha_allow_overcommit(pool_ref, True)
        for host in ('xs-a1', 'xs-a3'):
            self.sim.start_vm('pool-a', self._filler(api, host), host)
        self.reconcile()
        self.fail('xs-a2')
        # Within the pool's HA timeout (its detection delay here) the
        # restart may still come: the pass waits for it.
        result = self.by_instance(self.reconcile())[server['id']]
        self.assertEqual((decide.SKIP, 'ha-restart-pending'),
                         (result.action.kind, result.action.rule))
        # Past it, the failure is reported (sleeping proves the expiry).
        time.sleep(0.1)
        result = self.by_instance(self.reconcile())[server['id']]
        self.assertEqual(decide.HA_RESTART_FAILED, result.action.kind)
        self.assertEqual(outcome.REPORTED, result.status)
        self.assertEqual('xs-a2', self.server_host(server))
        self.assertEqual('Halted', self.vm_of('pool-a', server)[
            'power_state'])

    def _filler(self, api, host):
        free = [h for h in self.sim.hosts('pool-a')
                if h['hostname'] == host][0]['memory_free_mb']
        ref = api.VM.create(xenapi_fake.vm_record('filler-' + host, free, 1))
        return api.VM.get_uuid(ref)

    def test_vm_that_is_not_novas_is_ignored(self):
        api = self.xenapi('pool-a')
        ref = api.VM.create(xenapi_fake.vm_record('not-nova', 256, 1))
        api.VM.start_on(ref, api.host.get_by_name_label('xs-a1')[0],
                        False, False)
        report = self.reconcile()
        self.assertEqual((), report.results)


class TestUnmappedHost(ReconcilerTestCase):
    """A pool host with no nova-compute: VMs restarted there are skipped."""

    def scenario(self):
        return {'pools': [xenapi_pools.pool_scenario('pool-a', True, hosts=4)]}

    def start_xenapi_compute(self, pool, hostname):
        if hostname != 'xs-a4':
            return super().start_xenapi_compute(pool, hostname)

    def test_vm_restarted_on_unmapped_host_is_skipped_naming_it(self):
        server = self.boot_on('xs-a2', self.ha, 'ha')
        self.sim.migrate_vm('pool-a', server['id'], 'xs-a4')
        result = self.by_instance(self.reconcile())[server['id']]
        self.assertEqual('host-unmapped', result.action.rule)
        self.assertIn('xs-a4', result.action.reason)
        self.assertEqual('xs-a2', self.server_host(server))


class TestUnreachablePool(ReconcilerTestCase):

    POOLS = {'pool-a': True, 'pool-b': True}

    def test_other_pools_are_still_reconciled(self):
        server = self.boot_on('xs-a2', self.ha, 'ha')
        # pool-b's URL now points where nothing answers.
        self.admin_api.post_aggregate_action(
            self.aggregates['pool-b']['id'],
            {'set_metadata': {'metadata': {
                'xenapi_pool_url': 'http://127.0.0.1:9'}}})
        self.fail('xs-a2')
        reports = {r.pool: r for r in self.reconciler.reconcile(self.ctxt)}
        self.assertIsNotNone(reports['pool-b'].error)
        self.assertIn('127.0.0.1:9', reports['pool-b'].error)
        self.assertIsNone(reports['pool-a'].error)
        self.assertNotEqual('xs-a2', self.server_host(server))

    def test_garbage_and_bad_urls_do_not_stop_the_other_pools(self):
        record = hostile.pool_record()
        del record['uuid']
        answers = {
            'pool-0-no-uuid': hostile.xenapi_reply({hostile.POOL_REF: record}),
            'pool-0-bare-int': (b'<methodResponse><params><param><value>'
                                b'<int>7</int></value></param></params>'
                                b'</methodResponse>'),
            'pool-0-no-code': hostile.xenapi_reply([], status='Failure'),
        }
        for name, answer in answers.items():
            server = hostile.HostileXenAPI(
                {'pool.get_all_records': answer}).start()
            self.addCleanup(server.stop)
            self._create_ha_aggregate(name, [], xenapi_pool_url=server.url)
        self._create_ha_aggregate(
            'pool-0-bad-url', [],
            xenapi_pool_url='https://root:s3cr/t@xs-a1:99999')
        server = self.boot_on('xs-a2', self.ha, 'ha')
        self.fail('xs-a2')

        reports = {r.pool: r for r in self.reconciler.reconcile(self.ctxt)}

        self.assertIn("has no uuid", reports['pool-0-no-uuid'].error)
        self.assertIn('not a XenAPI answer', reports['pool-0-bare-int'].error)
        self.assertIn('without an error code',
                      reports['pool-0-no-code'].error)
        self.assertIn('holds a user name or password',
                      reports['pool-0-bad-url'].error)
        self.assertNotIn('s3cr', reports['pool-0-bad-url'].url)
        self.assertIsNone(reports['pool-a'].error)
        self.assertNotEqual('xs-a2', self.server_host(server))


class TestEventDrivenReconcile(ReconcilerTestCase):

    def test_nova_updated_within_two_seconds_of_the_restart(self):
        self.flags(interval=3600, event_timeout=5.0,
                   event_settle_seconds=0.1, group='ha_reconciler')
        servers = [self.boot_on('xs-a2', self.ha, 'ha%d' % i)
                   for i in range(3)]
        run = runner.ReconcilerRunner(
            conf.CONF, nova_context.get_admin_context)
        run.start()
        self.addCleanup(run.stop)
        # The first full pass starts the watcher; a change is seen once
        # the watcher holds the pool's baseline.
        self._wait(lambda: run.watcher('pool-a') is not None and
                   run.watcher('pool-a').seeded.is_set(), 10)
        self.sim.fail_host('pool-a', 'xs-a2')

        def restarted():
            vms = [self.vm_of('pool-a', s) for s in servers]
            return all(vm['power_state'] == 'Running' and
                       vm['host'] != 'xs-a2' for vm in vms) and vms
        vms = self._wait(restarted, 10)
        running_at = time.monotonic()

        def updated():
            return all(objects.Instance.get_by_uuid(
                self.ctxt, s['id']).host == vm['host']
                for s, vm in zip(servers, vms))
        self._wait(updated, 10)
        latency = time.monotonic() - running_at
        self.assertLess(latency, 2.0)


class TestPoolWithoutHA(ReconcilerTestCase):
    """A pool without HA: a failed host's VMs still show Running on it."""

    POOLS = {'pool-a': True, 'pool-b': False}

    def test_vm_on_a_host_that_is_not_live_is_skipped(self):
        server = self.boot_on('xs-b2', self.plain, 'plain')
        self.fail('xs-b2', pool='pool-b')
        vm = self.vm_of('pool-b', server)
        self.assertEqual(('Running', 'xs-b2'), (vm['power_state'],
                                                vm['host']))
        result = self.by_instance(self.reconcile('pool-b'))[server['id']]
        self.assertEqual(('skip', 'host-not-live'),
                         (result.action.kind, result.action.rule))
        self.assertIn('xs-b2', result.action.reason)
        self.assertEqual('xs-b2', self.server_host(server))


class _PausingClient(xenapi_client.PoolClient):
    """A pool client that stops before one call until the test says go."""

    method = 'VM.get_all_records_where'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reached = threading.Event()
        self.go = threading.Event()

    def _call(self, method, args):
        if method == self.method and not self.reached.is_set():
            self.reached.set()
            self.go.wait(30)
        return super()._call(method, args)


class TestMasterFailsMidPass(ReconcilerTestCase):

    def test_pass_completes_or_is_retried_cleanly(self):
        servers = [self.boot_on('xs-a2', self.ha, 'ha%d' % i)
                   for i in range(3)]
        self.fail('xs-a2')
        # A call in flight to a dead master waits for the read timeout.
        self.flags(read_timeout=1.0, group='xenapi')
        clients = []

        def client_factory(target):
            clients.append(_PausingClient.from_conf(
                conf.CONF, url=target.url, name=target.name))
            return clients[-1]

        reconciler = engine.Reconciler(conf.CONF,
                                       client_factory=client_factory)
        self.addCleanup(reconciler.close)
        reports = []
        worker = threading.Thread(target=lambda: reports.extend(
            reconciler.reconcile(self.ctxt, ['pool-a'])))
        worker.start()
        # The master dies while the pass reads the pool: after the hosts,
        # before the VMs.
        self._wait(lambda: clients and clients[0].reached.is_set(), 30)
        self.sim.fail_master('pool-a')
        clients[0].go.set()
        worker.join(60)
        self.assertFalse(worker.is_alive())
        self.sim.wait_until_quiet('pool-a')
        [first] = reports
        # Either the first pass went through, or it said the pool was
        # unreachable and changed nothing; the next pass finishes the job.
        if first.error:
            self.assertEqual(0, first.count(status=outcome.APPLIED))
        second = self.reconcile()
        for server in servers:
            vm = self.vm_of('pool-a', server)
            self.assertEqual('Running', vm['power_state'])
            self.assertEqual(vm['host'], self.server_host(server))
            allocations = self._get_allocations_by_server_uuid(server['id'])
            self.assertEqual({self._get_provider_uuid_by_host(vm['host'])},
                             set(allocations))
        self.assertEqual(0, second.failed)
        self.assertEqual([], objects.MigrationList.get_by_filters(
            self.ctxt, {}).objects)


class TestPlacementDrift(ReconcilerTestCase):
    """Placement has an instance on another node than Nova and XenServer."""

    def move_allocations(self, server, host):
        current = self.placement.get('/allocations/%s' % server['id'],
                                     version='1.28').body
        [resources] = [a['resources']
                       for a in current['allocations'].values()]
        self.placement.put('/allocations/%s' % server['id'], {
            'allocations': {self._get_provider_uuid_by_host(host): {
                'resources': resources}},
            'consumer_generation': current['consumer_generation'],
            'project_id': current['project_id'],
            'user_id': current['user_id']}, version='1.28')

    def test_status_shows_it_and_a_pass_repairs_it(self):
        server = self.boot_on('xs-a1', self.ha, 'ha')
        self.move_allocations(server, 'xs-a2')

        [status] = self.reconciler.reconcile(self.ctxt, dry_run=True)
        [result] = status.results
        self.assertEqual((decide.MOVE_ALLOCATIONS, outcome.DRY_RUN),
                         (result.action.kind, result.status))
        self.assertEqual(1, status.out_of_sync)
        self.assertEqual(
            {self._get_provider_uuid_by_host('xs-a2')},
            set(self._get_allocations_by_server_uuid(server['id'])))

        report = self.reconcile()
        [result] = report.results
        self.assertEqual(outcome.APPLIED, result.status)
        self.assertEqual(
            {self._get_provider_uuid_by_host('xs-a1')},
            set(self._get_allocations_by_server_uuid(server['id'])))
        self.assertEqual((), self.reconcile().results)

    def test_event_driven_passes_leave_placement_to_the_periodic_ones(self):
        server = self.boot_on('xs-a1', self.ha, 'ha')
        self.move_allocations(server, 'xs-a2')
        self.reconciler.discover(self.ctxt)
        # The watcher hands an event-driven pass the pool it saw.
        snapshot = self.reconciler.client('pool-a').read_pool()

        report = self.reconciler.reconcile_pool(self.ctxt, 'pool-a',
                                                snapshot=snapshot)

        self.assertEqual((), report.results)


class TestOnePoolTwoAggregates(ReconcilerTestCase):
    """Two aggregates whose URLs reach the same pool."""

    def test_the_pool_is_reconciled_once_and_the_duplicate_reported(self):
        info = self.sim_fixture.pool('pool-a')
        other_member = info.member_urls['xs-a3']
        self._create_ha_aggregate('pool-a-again', ['xs-a1', 'xs-a2',
                                                   'xs-a3'],
                                  xenapi_pool_url=other_member)
        server = self.boot_on('xs-a2', self.ha, 'ha')
        self.fail('xs-a2')

        reports = {r.pool: r for r in self.reconciler.reconcile(self.ctxt)}

        [relocate] = [r for r in reports['pool-a'].results
                      if r.action.kind == decide.RELOCATE]
        self.assertEqual(outcome.APPLIED, relocate.status)
        again = reports['pool-a-again']
        self.assertEqual((), again.results)
        [problem] = again.problems
        self.assertIn('same XenServer pool as aggregate pool-a', problem)
        self.assertIn(info.uuid, problem)
        self.assertEqual(1, again.failed)
        self.assertEqual(['create', 'ha-relocate'], sorted(
            a['action'] for a in self.api.get_instance_actions(server['id'])))


class TestPoolStaysInItsAggregate(ReconcilerTestCase):
    """A pool's hosts never reach the compute nodes of another pool."""

    POOLS = {'pool-a': True, 'pool-b': True}

    def test_a_host_naming_another_pools_node_moves_nothing(self):
        server = self.boot_on('xs-a1', self.ha, 'ha')
        # pool-b's xs-b1 claims to be node xs-a1, and a VM of pool-b
        # claims the instance and runs on xs-b2.
        api = self.xenapi('pool-b')
        [xs_b1] = api.host.get_by_name_label('xs-b1')
        api.host.add_to_other_config(xs_b1, 'nova_hypervisor_hostname',
                                     'xs-a1')
        record = xenapi_fake.vm_record('impostor', 256, 1,
                                       nova_uuid=server['id'])
        vm = api.VM.create(record)
        api.VM.start_on(vm, api.host.get_by_name_label('xs-b2')[0], False,
                        False)

        report = self.reconcile('pool-b')

        self.assertNotIn(server['id'], self.by_instance(report))
        self.assertEqual('xs-a1', self.server_host(server))
        self.assertEqual(
            {self._get_provider_uuid_by_host('xs-a1')},
            set(self._get_allocations_by_server_uuid(server['id'])))
