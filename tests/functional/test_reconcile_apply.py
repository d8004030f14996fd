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

"""The reconciler against real Nova: read, decide and apply.

Servers are booted through the API on fake computes h1, h2 and h3, which
stand for the hosts of one XenServer pool. A hand-built pool snapshot then
says what XenServer HA did (the VM now runs on another host), and a pass of
the reconciler must make Nova follow: the API, placement and the instance
action history agree with the pool, and nothing is destroyed.
"""

import contextlib
import threading

import fixtures
from oslo_db import exception as db_exc
import sqlalchemy as sa

from nova import availability_zones
from nova.compute import power_state
from nova.compute import task_states
from nova import context as nova_context
from nova.db.api import api as api_db_api
from nova.db.main import api as main_db_api
from nova import objects
from nova.scheduler.client import report
from nova.virt import fake

from nova_ha_ext.reconcile import apply
from nova_ha_ext.reconcile import coordination
from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import hostmap
from nova_ha_ext.reconcile import nova_view
from nova_ha_ext.reconcile import outcome
from nova_ha_ext.reconcile import placement
from nova_ha_ext.testing import nova_case
from nova_ha_ext.xenapi import pool_state

HOSTS = ('h1', 'h2', 'h3')
NO_USAGE = {'VCPU': 0, 'MEMORY_MB': 0, 'DISK_GB': 0}
WRITES = ('INSERT', 'UPDATE', 'DELETE')


class ReconcileApplyTest(nova_case.NovaHATestCase):
    """One pass of the reconciler over one pool, against real Nova."""

    compute_driver = 'fake.MediumFakeDriver'

    def setUp(self):
        super().setUp()
        for host in HOSTS:
            self._start_compute(host)
        self._create_ha_aggregate('pool-a', HOSTS)
        self.flavor_id = self._create_flavor_with_specs(
            'ha.small', {'ha': 'true'}, memory_mb=512, vcpu=1, disk=1)
        flavor = self.api.get_flavor(self.flavor_id)
        #: What a server of the flavor holds in placement.
        self.resources = {
            'VCPU': flavor['vcpus'], 'MEMORY_MB': flavor['ram'],
            'DISK_GB': flavor['disk'] + flavor['OS-FLV-EXT-DATA:ephemeral']}
        self.providers = {host: self._get_provider_uuid_by_host(host)
                          for host in HOSTS}

    # The pool, as XenServer reports it.

    def _pool(self, running, dead=(), priority=pool_state.PROTECTED):
        """A snapshot of the pool of h1-h3.

        :param running: server id -> the host its VM runs on.
        :param dead: the hosts that are not live.
        """
        hosts = tuple(
            pool_state.PoolHost(ref='OpaqueRef:%s' % host,
                                uuid='xs-uuid-%s' % host, hostname=host,
                                name_label='xs-%s' % host,
                                address='192.0.2.%d' % i,
                                live=host not in dead)
            for i, host in enumerate(HOSTS, 1))
        vms = tuple(
            pool_state.PoolVM(
                ref='OpaqueRef:vm-%s' % server_id,
                uuid='vm-%s' % server_id, name_label='instance',
                power_state='Running', resident_on='OpaqueRef:%s' % host,
                ha_restart_priority=priority,
                other_config=pool_state.frozen_map(
                    {pool_state.NOVA_UUID_KEY: server_id}))
            for server_id, host in running.items())
        ha = pool_state.PoolHAState(
            uuid='pool-a-uuid', name_label='pool-a', ha_enabled=True,
            ha_host_failures_to_tolerate=1, ha_plan_exists_for=1,
            ha_overcommitted=False, ha_allow_overcommit=False,
            master=hosts[1].ref, hosts=hosts)
        return pool_state.PoolSnapshot(ha=ha, vms=vms)

    # A pass, in its three steps.

    def _read_and_decide(self, pool):
        view = nova_view.read_nova_view(
            self.ctxt, hostmap.nodenames(pool.ha.hosts))
        host_map = hostmap.map_hosts(pool.ha.hosts, view.compute_nodes)
        return view, decide.decide(view.instances, pool, host_map)

    def _reconcile(self, pool, **kwargs):
        view, actions = self._read_and_decide(pool)
        return apply.apply_actions(self.ctxt, actions, view.cells, **kwargs)

    # What Nova and placement say.

    def _boot(self, host):
        return self._create_server(flavor_id=self.flavor_id,
                                   networks='none', host=host)['id']

    def _allocations(self, server_id):
        return {rp: alloc['resources'] for rp, alloc in
                self._get_allocations_by_server_uuid(server_id).items()}

    def _consumer_generation(self, server_id):
        return self.placement.get('/allocations/%s' % server_id,
                                  version='1.28').body['consumer_generation']

    def _action_names(self, server_id):
        return [a['action'] for a in self.api.get_instance_actions(server_id)]

    def _migrations(self):
        with nova_context.target_cell(
                self.ctxt, self.cell_mappings['cell1']) as cctxt:
            return objects.MigrationList.get_by_filters(cctxt, {})

    def _instance(self, server_id):
        with nova_context.target_cell(
                self.ctxt, self.cell_mappings['cell1']) as cctxt:
            return objects.Instance.get_by_uuid(cctxt, server_id)

    def _compute_node_id(self, nodename):
        with nova_context.target_cell(
                self.ctxt, self.cell_mappings['cell1']) as cctxt:
            return objects.ComputeNode.get_by_nodename(cctxt, nodename).id

    def _summary(self, results):
        return [(r.action.kind, r.status) for r in results]

    def _nova_engines(self):
        engines = [api_db_api.get_engine()]
        for cell in self.cell_mappings.values():
            with nova_context.target_cell(self.ctxt, cell) as cctxt:
                engines.append(main_db_api.get_engine(context=cctxt))
        return engines

    @contextlib.contextmanager
    def _statements(self, engines=(sa.engine.Engine,)):
        """Record the SQL this thread runs on the engines (default: all)."""
        thread = threading.get_ident()
        statements = []

        def record(conn, cursor, statement, *args):
            if threading.get_ident() == thread:
                statements.append(statement)

        for engine in engines:
            sa.event.listen(engine, 'before_cursor_execute', record)
        try:
            yield statements
        finally:
            for engine in engines:
                sa.event.remove(engine, 'before_cursor_execute', record)

    @staticmethod
    def _writes(statements):
        return [s for s in statements if s.lstrip().upper().startswith(WRITES)]

    # The behaviours.

    def test_relocation_makes_nova_follow_the_vm(self):
        server_id = self._boot('h1')

        results = self._reconcile(self._pool({server_id: 'h2'},
                                             dead=('h1',)))

        self.assertEqual([(decide.RELOCATE, outcome.APPLIED)],
                         self._summary(results))
        server = self.api.get_server(server_id)
        self.assertEqual('h2', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('h2', server['OS-EXT-SRV-ATTR:hypervisor_hostname'])
        self.assertEqual('ACTIVE', server['status'])
        instance = self._instance(server_id)
        self.assertEqual(power_state.RUNNING, instance.power_state)
        self.assertEqual(self._compute_node_id('h2'), instance.compute_id)
        self.assertEqual({self.providers['h2']: self.resources},
                         self._allocations(server_id))
        self.assertEqual(NO_USAGE,
                         self._get_provider_usages(self.providers['h1']))
        self.assertEqual(self.resources,
                         self._get_provider_usages(self.providers['h2']))
        self.assertEqual([], list(self._migrations()))

    def test_relocation_is_in_the_instance_action_history(self):
        server_id = self._boot('h1')

        self._reconcile(self._pool({server_id: 'h2'}, dead=('h1',)))

        actions = self.api.get_instance_actions(server_id)
        self.assertEqual([apply.ACTION_NAME, 'create'],
                         [a['action'] for a in actions])
        detail = self.api.get_instance_action_details(
            server_id, actions[0]['request_id'])
        event, = detail['events']
        self.assertEqual(apply.EVENT_NAME, event['event'])
        self.assertEqual('Success', event['result'])
        self.assertIsNotNone(event['finish_time'])
        self.assertEqual('h2', event['host'])
        self.assertEqual(
            'XenServer HA runs the instance on h2, no longer on h1',
            event['details'])

    def test_old_compute_coming_back_destroys_nothing(self):
        server_id = self._boot('h1')
        old_driver = self.computes['h1'].manager.driver
        new_driver = self.computes['h2'].manager.driver
        # XenServer HA restarted the VM on h2; h1's driver, which sees the
        # pool's shared storage, still lists it.
        new_driver.instances[server_id] = fake.FakeInstance(
            old_driver.instances[server_id].name, power_state.RUNNING,
            server_id)
        self._reconcile(self._pool({server_id: 'h2'}, dead=('h1',)))

        self.computes['h1'] = self.restart_compute_service(
            self.computes['h1'])
        self._run_periodics()

        server = self.api.get_server(server_id)
        self.assertEqual(('ACTIVE', 'h2'),
                         (server['status'], server['OS-EXT-SRV-ATTR:host']))
        self.assertIn(server_id, new_driver.list_instance_uuids())
        self.assertIn(server_id, old_driver.list_instance_uuids())
        self.assertEqual({self.providers['h2']: self.resources},
                         self._allocations(server_id))
        self.assertEqual([], list(self._migrations()))

    def test_placement_refusal_keeps_everything_until_capacity_returns(self):
        server_id = self._boot('h1')
        pool = self._pool({server_id: 'h2'}, dead=('h1',))
        self._reserve_placement_resource('h2', 'MEMORY_MB', 8192)

        result, = self._reconcile(pool)

        self.assertEqual(outcome.FAILED, result.status)
        self.assertIn('placement refused to move the allocations',
                      result.detail)
        self.assertIn('would exceed the capacity', result.detail)
        self.assertIn('the instance stays on h1', result.detail)
        self.assertEqual('h1', self._instance(server_id).host)
        self.assertEqual({self.providers['h1']: self.resources},
                         self._allocations(server_id))
        self.assertEqual(['create'], self._action_names(server_id))

        self._reserve_placement_resource('h2', 'MEMORY_MB', 0)
        result, = self._reconcile(pool)

        self.assertEqual(outcome.APPLIED, result.status)
        self.assertEqual('h2', self._instance(server_id).host)
        self.assertEqual({self.providers['h2']: self.resources},
                         self._allocations(server_id))

    def test_one_full_target_does_not_hold_back_the_other_moves(self):
        # A host failure relocates several instances at once: their moves
        # go to placement in one POST, which placement refuses as a whole
        # when one target is full. The others still move; that one stays.
        to_h2, to_h3 = self._boot('h1'), self._boot('h1')
        self._reserve_placement_resource('h3', 'MEMORY_MB', 8192)
        pool = self._pool({to_h2: 'h2', to_h3: 'h3'}, dead=('h1',))

        results = {r.action.instance_uuid: r for r in self._reconcile(pool)}

        self.assertEqual(outcome.APPLIED, results[to_h2].status)
        self.assertEqual('h2', self._instance(to_h2).host)
        self.assertEqual({self.providers['h2']: self.resources},
                         self._allocations(to_h2))
        self.assertEqual(outcome.FAILED, results[to_h3].status)
        self.assertIn('would exceed the capacity', results[to_h3].detail)
        self.assertEqual('h1', self._instance(to_h3).host)
        self.assertEqual({self.providers['h1']: self.resources},
                         self._allocations(to_h3))

    def test_moves_of_one_pass_are_one_placement_write(self):
        servers = [self._boot('h1') for _ in range(3)]
        pool = self._pool(dict.fromkeys(servers, 'h2'), dead=('h1',))
        requests = []

        def recording(method):
            real = getattr(report.SchedulerReportClient, method)

            def record(client, url, *args, **kwargs):
                requests.append((method.upper(), url))
                return real(client, url, *args, **kwargs)
            return record

        for method in ('post', 'put'):
            self.useFixture(fixtures.MonkeyPatch(
                'nova.scheduler.client.report.SchedulerReportClient.' +
                method, recording(method)))

        results = self._reconcile(pool)

        self.assertEqual([outcome.APPLIED] * 3, [r.status for r in results])
        self.assertEqual([('POST', '/allocations')], requests)
        for server_id in servers:
            self.assertEqual({self.providers['h2']: self.resources},
                             self._allocations(server_id))
            # Newest first, as the API lists them.
            self.assertEqual([apply.ACTION_NAME, 'create'],
                             self._action_names(server_id))

    def test_task_started_after_the_read_wins(self):
        server_id = self._boot('h1')
        view, actions = self._read_and_decide(
            self._pool({server_id: 'h2'}, dead=('h1',)))
        instance = self._instance(server_id)
        instance.task_state = task_states.REBOOTING
        instance.save()

        result, = apply.apply_actions(self.ctxt, actions, view.cells)

        self.assertEqual(outcome.FAILED, result.status)
        self.assertIn('the instance changed since it was read',
                      result.detail)
        self.assertIn('its allocations were moved back', result.detail)
        instance = self._instance(server_id)
        self.assertEqual(('h1', 'h1', task_states.REBOOTING),
                         (instance.host, instance.node, instance.task_state))
        self.assertEqual({self.providers['h1']: self.resources},
                         self._allocations(server_id))
        self.assertEqual(NO_USAGE,
                         self._get_provider_usages(self.providers['h2']))
        self.assertEqual(['create'], self._action_names(server_id))

    def test_host_changed_after_the_read_wins(self):
        server_id = self._boot('h1')
        view, actions = self._read_and_decide(
            self._pool({server_id: 'h2'}, dead=('h1',)))
        instance = self._instance(server_id)
        instance.compute_id = self._compute_node_id('h3')
        instance.host = instance.node = 'h3'
        instance.save()

        result, = apply.apply_actions(self.ctxt, actions, view.cells)

        self.assertEqual(outcome.FAILED, result.status)
        self.assertIn("expected {'host': 'h1'", result.detail)
        self.assertIn("found {'host': 'h3'", result.detail)
        self.assertEqual(('h3', 'h3'), (self._instance(server_id).host,
                                        self._instance(server_id).node))
        self.assertEqual({self.providers['h1']: self.resources},
                         self._allocations(server_id))

    def test_failure_to_record_the_action_undoes_the_move(self):
        server_id = self._boot('h1')
        self.useFixture(fixtures.MockPatch(
            'nova.objects.InstanceActionEvent.create',
            side_effect=db_exc.DBError('disk full')))

        result, = self._reconcile(self._pool({server_id: 'h2'},
                                             dead=('h1',)))

        self.assertEqual(outcome.FAILED, result.status)
        self.assertIn('the database refused the change: disk full',
                      result.detail)
        self.assertEqual('h1', self._instance(server_id).host)
        self.assertEqual({self.providers['h1']: self.resources},
                         self._allocations(server_id))
        self.assertEqual(['create'], self._action_names(server_id))

    def test_second_pass_changes_nothing(self):
        server_id = self._boot('h1')
        pool = self._pool({server_id: 'h2'}, dead=('h1',))
        self._reconcile(pool)
        generation = self._consumer_generation(server_id)

        with self._statements() as statements:
            results = self._reconcile(pool)

        self.assertEqual([], results)
        self.assertEqual([], self._writes(statements))
        self.assertEqual(generation, self._consumer_generation(server_id))
        self.assertEqual([apply.ACTION_NAME, 'create'],
                         self._action_names(server_id))

    def test_dry_run_writes_nothing(self):
        server_id = self._boot('h1')
        pool = self._pool({server_id: 'h2'}, dead=('h1',),
                          priority=pool_state.UNPROTECTED)
        generation = self._consumer_generation(server_id)
        protected = []

        with self._statements() as statements:
            results = self._reconcile(
                pool, dry_run=True,
                set_protection=lambda *args: protected.append(args))

        self.assertEqual([(decide.RELOCATE, outcome.DRY_RUN),
                          (decide.PROTECT, outcome.DRY_RUN)],
                         self._summary(results))
        self.assertEqual([], self._writes(statements))
        self.assertEqual([], protected)
        self.assertEqual(generation, self._consumer_generation(server_id))
        self.assertEqual('h1', self._instance(server_id).host)
        self.assertEqual(['create'], self._action_names(server_id))

        results = self._reconcile(
            pool, set_protection=lambda *args: protected.append(args))

        self.assertEqual([(decide.RELOCATE, outcome.APPLIED),
                          (decide.PROTECT, outcome.APPLIED)],
                         self._summary(results))
        # The flavor's restart policy: priority, then order and start
        # delay (an HA flavor without ha:order or ha:start_delay: 0).
        self.assertEqual([('OpaqueRef:vm-%s' % server_id,
                           pool_state.PROTECTED, 0, 0)], protected)

    def test_protection_failure_is_reported_not_raised(self):
        server_id = self._boot('h1')

        def refuse(vm_ref, priority, order=None, start_delay=None):
            raise RuntimeError('HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN')

        result, = self._reconcile(
            self._pool({server_id: 'h1'}, priority=pool_state.UNPROTECTED),
            set_protection=refuse)

        self.assertEqual((decide.PROTECT, outcome.FAILED),
                         (result.action.kind, result.status))
        self.assertIn('HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN', result.detail)

    def test_view_holds_only_the_pools_compute_nodes_and_instances(self):
        on_h1, on_h3 = self._boot('h1'), self._boot('h3')
        pool = self._pool({on_h1: 'h1'})
        hosts = tuple(h for h in pool.ha.hosts if h.hostname != 'h3')

        view = nova_view.read_nova_view(self.ctxt, hostmap.nodenames(hosts))

        self.assertEqual(['h1', 'h2'],
                         sorted(n.nodename for n in view.compute_nodes))
        self.assertEqual(
            {self.providers['h1'], self.providers['h2']},
            {n.uuid for n in view.compute_nodes})
        instance, = view.instances
        self.assertEqual(
            (on_h1, 'h1', 'h1', 'active', None, power_state.RUNNING, True),
            (instance.uuid, instance.host, instance.node, instance.vm_state,
             instance.task_state, instance.power_state, instance.wants_ha))
        self.assertEqual([self.cell_mappings['cell1'].uuid],
                         list(view.cells))
        self.assertNotIn(on_h3, [i.uuid for i in view.instances])

    def test_bad_ha_spec_is_reported_and_the_move_still_followed(self):
        server_id = self._boot('h1')
        # Nova's API refuses ha=maybe since 2.86; older flavors may have it.
        instance = self._instance(server_id)
        instance.flavor.extra_specs = {'ha': 'maybe'}
        instance.save()

        results = self._reconcile(self._pool({server_id: 'h2'},
                                             dead=('h1',)))

        self.assertEqual([(decide.RELOCATE, outcome.APPLIED),
                          (decide.SKIP, outcome.REPORTED)],
                         self._summary(results))
        self.assertIn("flavor ha.small has ha='maybe'", results[1].detail)
        self.assertEqual('h2', self._instance(server_id).host)

    # Child providers: a bandwidth provider under each compute node, as
    # Neutron's agents report them.

    BANDWIDTH = 'NET_BW_EGR_KILOBIT_PER_SEC'
    PHYSNET_TRAITS = ['CUSTOM_PHYSNET_PHYSNET0', 'CUSTOM_VNIC_TYPE_NORMAL']

    def _child_provider(self, host, device, traits):
        for trait in traits:
            self._create_trait(trait)
        name = '%s:Open vSwitch agent:%s' % (host, device)
        rp = self.placement.post('/resource_providers', {
            'name': name, 'parent_provider_uuid': self.providers[host]},
            version='1.20').body['uuid']
        self.placement.put('/resource_providers/%s/inventories' % rp, {
            'resource_provider_generation': 0,
            'inventories': {self.BANDWIDTH: {'total': 10000}}},
            version='1.20')
        generation = self.placement.get(
            '/resource_providers/%s' % rp,
            version='1.20').body['generation']
        self.placement.put('/resource_providers/%s/traits' % rp, {
            'resource_provider_generation': generation, 'traits': traits},
            version='1.20')
        return rp

    def _allocate_bandwidth(self, server_id, rp, kbps=1000):
        current = self.placement.get('/allocations/%s' % server_id,
                                     version='1.28').body
        allocations = {p: {'resources': a['resources']}
                       for p, a in current['allocations'].items()}
        allocations[rp] = {'resources': {self.BANDWIDTH: kbps}}
        self.placement.put('/allocations/%s' % server_id, {
            'allocations': allocations,
            'consumer_generation': current['consumer_generation'],
            'project_id': current['project_id'],
            'user_id': current['user_id']}, version='1.28')

    def test_child_provider_allocations_move_to_the_matching_provider(self):
        server_id = self._boot('h1')
        h1_eth = self._child_provider('h1', 'eth1', self.PHYSNET_TRAITS)
        # Under h2: one on another physical network, then the match.
        self._child_provider('h2', 'eth0', ['CUSTOM_OTHER_PHYSNET',
                                            'CUSTOM_VNIC_TYPE_NORMAL'])
        h2_eth = self._child_provider('h2', 'eth1', self.PHYSNET_TRAITS)
        self._allocate_bandwidth(server_id, h1_eth)

        [result] = self._reconcile(self._pool({server_id: 'h2'},
                                              dead=('h1',)))

        self.assertEqual(outcome.APPLIED, result.status)
        self.assertEqual({self.providers['h2']: self.resources,
                          h2_eth: {self.BANDWIDTH: 1000}},
                         self._allocations(server_id))
        self.assertIn(h2_eth, result.detail)

    def test_child_provider_allocations_without_a_match_stay_and_say_so(self):
        server_id = self._boot('h1')
        h1_eth = self._child_provider('h1', 'eth1', self.PHYSNET_TRAITS)
        self._allocate_bandwidth(server_id, h1_eth)

        [result] = self._reconcile(self._pool({server_id: 'h2'},
                                              dead=('h1',)))

        self.assertEqual(outcome.APPLIED, result.status)
        self.assertEqual({self.providers['h2']: self.resources,
                          h1_eth: {self.BANDWIDTH: 1000}},
                         self._allocations(server_id))
        self.assertIn('kept on child provider %s' % h1_eth, result.detail)
        self.assertEqual('h2', self._instance(server_id).host)

    # Placement drifting from Nova: allocations on another node.

    def _put_allocations_on(self, server_id, host):
        current = self.placement.get('/allocations/%s' % server_id,
                                     version='1.28').body
        self.placement.put('/allocations/%s' % server_id, {
            'allocations': {self.providers[host]: {
                'resources': self.resources}},
            'consumer_generation': current['consumer_generation'],
            'project_id': current['project_id'],
            'user_id': current['user_id']}, version='1.28')

    def _reconcile_checking_placement(self, pool, **kwargs):
        view = nova_view.read_nova_view(
            self.ctxt, hostmap.nodenames(pool.ha.hosts))
        host_map = hostmap.map_hosts(pool.ha.hosts, view.compute_nodes)
        allocations = placement.AllocationMover().consumers_on(
            self.ctxt, [node.uuid for node in view.compute_nodes])
        actions = decide.decide(view.instances, pool, host_map,
                                allocations=allocations)
        return apply.apply_actions(self.ctxt, actions, view.cells, **kwargs)

    def test_interrupted_relocation_allocations_come_back(self):
        # Allocations moved to h2, the database write failed, and the VM
        # went back to h1 before the next pass.
        server_id = self._boot('h1')
        self._put_allocations_on(server_id, 'h2')
        pool = self._pool({server_id: 'h1'})
        self.assertEqual([], self._reconcile(pool))  # host and node agree

        results = self._reconcile_checking_placement(pool)

        self.assertEqual([(decide.MOVE_ALLOCATIONS, outcome.APPLIED)],
                         self._summary(results))
        self.assertEqual('allocations-elsewhere', results[0].action.rule)
        self.assertEqual({self.providers['h1']: self.resources},
                         self._allocations(server_id))
        self.assertEqual('h1', self._instance(server_id).host)
        self.assertEqual([], self._reconcile_checking_placement(pool))

    def test_allocations_left_behind_by_a_lost_lock_follow_the_instance(self):
        # Worker 1 moved the allocations to h2, worker 2 read them there
        # and moved the instance, worker 1 rolled its move back.
        server_id = self._boot('h1')
        instance = self._instance(server_id)
        instance.compute_id = self._compute_node_id('h2')
        instance.host = instance.node = 'h2'
        instance.save()

        results = self._reconcile_checking_placement(
            self._pool({server_id: 'h2'}))

        self.assertEqual([(decide.MOVE_ALLOCATIONS, outcome.APPLIED)],
                         self._summary(results))
        self.assertEqual({self.providers['h2']: self.resources},
                         self._allocations(server_id))

    def test_relocation_moves_allocations_from_where_they_are(self):
        server_id = self._boot('h1')
        self._put_allocations_on(server_id, 'h3')

        results = self._reconcile_checking_placement(
            self._pool({server_id: 'h2'}, dead=('h1',)))

        self.assertEqual([(decide.RELOCATE, outcome.APPLIED)],
                         self._summary(results))
        self.assertEqual('h2', self._instance(server_id).host)
        self.assertEqual({self.providers['h2']: self.resources},
                         self._allocations(server_id))

    def test_dry_run_reports_allocations_elsewhere_and_writes_nothing(self):
        server_id = self._boot('h1')
        self._put_allocations_on(server_id, 'h2')

        results = self._reconcile_checking_placement(
            self._pool({server_id: 'h1'}), dry_run=True)

        self.assertEqual([(decide.MOVE_ALLOCATIONS, outcome.DRY_RUN)],
                         self._summary(results))
        self.assertEqual({self.providers['h2']: self.resources},
                         self._allocations(server_id))

    def test_lock_lost_before_the_database_write_undoes_the_move(self):
        server_id = self._boot('h1')
        checks = []

        def guard():
            checks.append(1)
            if len(checks) > 1:  # after the placement write
                raise coordination.PoolUnavailable('pool-a', 'lock lost')

        results = self._reconcile(self._pool({server_id: 'h2'},
                                             dead=('h1',)), guard=guard)

        self.assertEqual([(decide.RELOCATE, outcome.FAILED)],
                         self._summary(results))
        self.assertIn('lock lost', results[0].detail)
        self.assertEqual('h1', self._instance(server_id).host)
        self.assertEqual({self.providers['h1']: self.resources},
                         self._allocations(server_id))
        self.assertEqual(['create'], self._action_names(server_id))

    def test_database_queries_do_not_grow_with_instances(self):
        first = [self._boot('h1') for _ in range(3)]
        pool = self._pool(dict.fromkeys(first, 'h2'), dead=('h1',))
        engines = self._nova_engines()
        with self._statements(engines) as read_3:
            view, actions = self._read_and_decide(pool)
        with self._statements(engines) as apply_3:
            results = apply.apply_actions(self.ctxt, actions, view.cells)
        self.assertEqual([outcome.APPLIED] * 3, [r.status for r in results])

        more = [self._boot('h1') for _ in range(6)]
        running = dict.fromkeys(first, 'h2')
        running.update(dict.fromkeys(more, 'h3'))
        pool = self._pool(running, dead=('h1',))
        with self._statements(engines) as read_9:
            view, actions = self._read_and_decide(pool)
        with self._statements(engines) as apply_6:
            results = apply.apply_actions(self.ctxt, actions, view.cells)
        self.assertEqual(9, len(view.instances))
        self.assertEqual([outcome.APPLIED] * 6, [r.status for r in results])

        view, actions = self._read_and_decide(pool)
        with self._statements(engines) as apply_none:
            results = apply.apply_actions(self.ctxt, actions, view.cells)
        self.assertEqual([], results)

        with self._statements(engines) as zone_read:
            availability_zones.get_host_availability_zone(self.ctxt, 'h2')

        # Reading costs the same for 3 instances as for 9.
        self.assertEqual(len(read_3), len(read_9))
        # Applying costs the same for each relocated instance, plus one
        # availability zone read per target host (one in each pass here),
        # and nothing for a pass with nothing to do.
        self.assertEqual([], apply_none)
        per_instance, remainder = divmod(len(apply_6) - len(apply_3), 3)
        self.assertEqual(0, remainder)
        self.assertEqual(len(zone_read), len(apply_3) - 3 * per_instance)
