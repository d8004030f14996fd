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

"""The HA plan with VMs waiting for a restart, and how xapi restarts them.

Each test names the xapi function (xapi-project/xen-api, ocaml/xapi/) it
follows.
"""

import time

from tests.unit.simulator import base

GIB = 1024 * 1024 * 1024
NULL = 'OpaqueRef:NULL'


class StuckRestartTest(base.SimulatorTestCase):
    """Two protected VMs cannot restart after their host dies."""

    def make_scenario(self):
        vms = [{'name_label': 'big-%d' % i, 'memory_mb': 6144,
                'host': 'xs-a3', 'power_state': 'Running',
                'ha_restart_priority': 'restart'} for i in range(1)]
        vms += [{'name_label': 'filler-%s' % h, 'memory_mb': 4096,
                 'host': h, 'power_state': 'Running'}
                for h in ('xs-a1', 'xs-a2')]
        vms += [{'name_label': 'small', 'memory_mb': 1024, 'host': 'xs-a3',
                 'power_state': 'Running',
                 'ha_restart_priority': 'restart'}]
        return base.scenario(base.pool(
            vms=vms, detection_delay=0.05, restart_delay=0.0,
            monitor_interval=0.05, restart_backoff=0.2))

    def test_waiting_vms_make_the_pool_overcommitted(self):
        # compute_restart_plan plans the Halted protected VMs too; one that
        # cannot be placed makes plan_for_n_failures answer No_plan_exists
        # (mark_pool_as_overcommitted).
        self.sim.fail_host('pool-a', 'xs-a3')
        self.sim.wait_until_quiet('pool-a')
        ha_state = self.sim.ha('pool-a')
        self.assertEqual(['big-0'], ha_state['pending_restarts'])
        self.assertEqual((0, True), (ha_state['plan_exists_for'],
                                     ha_state['overcommitted']))
        self.assertEqual('Running', self.sim.vm('pool-a', 'small')[
            'power_state'])

    def test_a_waiting_vm_restarts_once_memory_frees_up(self):
        # xapi_ha.ml ha_monitor calls restart_auto_run_vms every
        # ha_monitor_interval: a shutdown frees the memory it needs.
        self.sim.fail_host('pool-a', 'xs-a3')
        self.sim.wait_until_quiet('pool-a')
        self.sim.shutdown_vm('pool-a', 'filler-xs-a1')
        self.sim.wait_until_quiet('pool-a')
        vm = self.sim.vm('pool-a', 'big-0')
        self.assertEqual(('Running', 'xs-a1'), (vm['power_state'],
                                                vm['host']))
        self.assertEqual([], self.sim.ha('pool-a')['pending_restarts'])

    def test_a_vm_shut_down_on_purpose_no_longer_waits(self):
        # xapi_vm.ml hard_shutdown sets ha_always_run false; VM.start sets
        # it again for a protected VM.
        self.sim.shutdown_vm('pool-a', 'small')
        vm = self.sim.vm('pool-a', 'small')
        self.assertEqual(('Halted', False), (vm['power_state'],
                                             vm['ha_always_run']))
        self.assertEqual([], self.sim.ha('pool-a')['pending_restarts'])
        self.sim.start_vm('pool-a', 'small')
        self.assertTrue(self.sim.vm('pool-a', 'small')['ha_always_run'])

    def test_disabling_a_host_that_breaks_the_plan_is_refused(self):
        # xapi_ha_vm_failover.ml assert_host_disable_preserves_ha_plan:
        # a disabled host is out of the plan's live set.
        api = self.session().xenapi
        hosts = base.refs_by_name(api, 'host')
        self.assertFailure(['HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN'],
                           api.host.disable, hosts['xs-a3'])
        self.assertTrue(api.host.get_enabled(hosts['xs-a3']))


class DisabledHostPlanTest(base.SimulatorTestCase):

    def make_scenario(self):
        data = base.pool(vms=[
            {'name_label': 'p', 'memory_mb': 2048, 'host': 'xs-a1',
             'power_state': 'Running', 'ha_restart_priority': 'restart'}],
            ntol=2)
        data['ha']['allow_overcommit'] = True
        return base.scenario(data)

    def test_a_disabled_host_is_not_in_the_plan(self):
        # get_live_set and compute_restart_plan's is_alive: enabled and
        # live hosts only; a protected VM on a disabled host is offline.
        api = self.session().xenapi
        hosts = base.refs_by_name(api, 'host')
        self.assertEqual(2, self.sim.ha('pool-a')['plan_exists_for'])
        api.host.disable(hosts['xs-a2'])
        ha_state = self.sim.ha('pool-a')
        self.assertEqual((1, True), (ha_state['plan_exists_for'],
                                     ha_state['overcommitted']))


class RestartTimingTest(base.SimulatorTestCase):

    def make_scenario(self):
        vms = [{'name_label': 'first-%d' % i, 'memory_mb': 512,
                'host': 'xs-a2', 'power_state': 'Running',
                'ha_restart_priority': 'restart', 'order': 1}
               for i in range(3)]
        vms.append({'name_label': 'later', 'memory_mb': 512,
                    'host': 'xs-a2', 'power_state': 'Running',
                    'ha_restart_priority': 'restart', 'order': 2})
        return base.scenario(base.pool(
            vms=vms, detection_delay=0.05, restart_delay=0.0,
            vm_start_seconds=0.3, reset_seconds=0.3))

    def test_vms_of_one_order_start_together_and_each_start_takes_time(self):
        # restart_auto_run_vms map_parallel: one order at a time, its VMs
        # in parallel; a VM.start takes vm_start_seconds.
        api = self.session().xenapi
        token = api.event_from(['vm'], '', 0.0)['token']
        self.sim.fail_host('pool-a', 'xs-a2')
        running = {}
        deadline = time.monotonic() + 10
        while len(running) < 4 and time.monotonic() < deadline:
            batch = api.event_from(['vm'], token, 1.0)
            token = batch['token']
            for event in batch['events']:
                snapshot = event['snapshot']
                if snapshot['power_state'] == 'Running':
                    running.setdefault(snapshot['name_label'],
                                       time.monotonic())
        firsts = [running['first-%d' % i] for i in range(3)]
        self.assertLess(max(firsts) - min(firsts), 0.2)
        self.assertGreaterEqual(running['later'] - max(firsts), 0.25)

    def test_a_reader_sees_a_halted_vm_still_on_its_dead_host(self):
        # xapi_vm_lifecycle.ml force_state_reset_keep_current_operations:
        # power_state first, then devices, then resident_on.
        hosts = {h['hostname']: h for h in self.sim.hosts('pool-a')}
        free_before = hosts['xs-a2']['memory_free_mb']
        self.sim.fail_host('pool-a', 'xs-a2')
        self.wait_for(lambda: self.sim.vm('pool-a', 'later')[
            'power_state'] == 'Halted', what='the reset')
        self.assertEqual('xs-a2', self.sim.vm('pool-a', 'later')['host'])
        self.wait_for(lambda: self.sim.vm('pool-a', 'later')[
            'host'] != 'xs-a2', what='the VM off its host')
        self.sim.wait_until_quiet('pool-a')
        # The dead host's own xapi reports its free memory: nobody does.
        api = self.session().xenapi
        host = base.refs_by_name(api, 'host')['xs-a2']
        free = int(api.host_metrics.get_memory_free(
            api.host.get_metrics(host)))
        self.assertEqual(free_before, free // (1024 * 1024))


class BestEffortTest(base.SimulatorTestCase):

    def make_scenario(self):
        return base.scenario(base.pool(hosts=3, vms=[
            {'name_label': 'be', 'memory_mb': 1024,
             'ha_restart_priority': 'best-effort'}],
            detection_delay=0.05, restart_delay=0.0, monitor_interval=0.05))

    def test_halted_best_effort_vms_start_when_the_live_set_grows(self):
        # restart_auto_run_vms: all protected VMs fine and a bigger live set
        # than last time: every Halted best-effort VM is started.
        self.assertEqual('Halted', self.sim.vm('pool-a', 'be')[
            'power_state'])
        self.sim.fail_host('pool-a', 'xs-a3')
        self.sim.wait_until_quiet('pool-a')
        self.assertEqual('Halted', self.sim.vm('pool-a', 'be')[
            'power_state'])
        self.sim.recover_host('pool-a', 'xs-a3')
        self.wait_for(lambda: self.sim.vm('pool-a', 'be')[
            'power_state'] == 'Running', what='the best-effort start')


class PowerStateResetTest(base.SimulatorTestCase):

    def test_control_domain_cannot_be_reset(self):
        # xapi_vm.ml power_state_reset: CANNOT_RESET_CONTROL_DOMAIN.
        api = self.session().xenapi
        dom0 = [ref for ref, r in api.VM.get_all_records().items()
                if r['is_control_domain']][0]
        self.assertFailure(['CANNOT_RESET_CONTROL_DOMAIN', dom0],
                           api.VM.power_state_reset, dom0)


base.over_both_wires(globals())
