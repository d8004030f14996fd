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

"""A seeded chaos soak: the reconciler under random pool faults.

Servers are booted through Nova's API onto XenAPI-backed computes of one
simulated HA pool that runs on xapi's own timing, scaled down (the
simulator's realistic profile: detection at the HA timeout, seconds per
VM.start, the HA monitor's retries and back-off). Then a seeded random
sequence of faults hits the pool: hosts fail and come back, the master dies
(every member refuses connections while xapi restarts, sessions and event
tokens die, hosts come back disabled), a host is cut off the network,
sessions expire, requests slow down or lose their connection, and an
administrator migrates, stops and starts VMs behind Nova's back. Each host
also runs a large VM Nova does not know, which leaves so little free memory
that protected VMs get stuck waiting for a restart after failures, until an
administrator stops one of those VMs and the HA monitor restarts them.
Reconciler passes run at random moments, also while XenServer HA is still
detecting a failure or restarting VMs. Every pass also covers a second,
hostile pool that answers each pass with another kind of garbage (HTML, a
bare value, a failure without a code, an unknown encoding, a record without
uuid): the pass must report it as that pool's error and reconcile the real
pool all the same.

At quiet points (the pool has finished its detection and restart work, no
latency) a settling pass runs, then a second pass, and the invariants are
checked against the pool, Nova's database and placement:

1. every instance is where the pool runs its VM, or the last pass reported
   why not (skip, ha_restart_failed, missing), or its VM is halted while
   its Nova host is live (decision-table row ``not-resident``: Nova's own
   power-state sync owns that case);
2. every relocation ever applied went to the host the VM was resident on
   when the pass ran;
3. each instance has allocations on exactly one compute node provider, its
   current node's, and the pool's providers hold as many consumers as there
   are instances;
4. nothing is lost: the same instances, none deleted, each with its VM in
   the pool, no Migration record, no vm_state or task_state changed.

The seed is printed; ``NOVA_HA_SOAK_SEED`` replays another one and
``NOVA_HA_SOAK_FAULTS`` changes the number of faults. Background restarts
race with the faults, so a seed replays the same plan, not necessarily the
very same interleaving.
"""

import collections
import os
import random
import time
import types

import testtools
from testtools import content
from testtools import content_type

from nova import context as nova_context
from nova import objects

from nova_ha_ext import conf
from nova_ha_ext.reconcile import apply
from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import engine
from nova_ha_ext.reconcile import outcome
from nova_ha_ext.simulator import control
from nova_ha_ext.testing import hostile
from nova_ha_ext.testing import xenapi_pools

POOL = 'pool-a'
#: The aggregate of a hostile XenAPI server, passed with POOL every time.
HOSTILE = 'pool-hostile'
HOSTS = 4
SEED_ENV = 'NOVA_HA_SOAK_SEED'
FAULTS_ENV = 'NOVA_HA_SOAK_FAULTS'
DEFAULT_SEED = 20260817
DEFAULT_FAULTS = 220

#: (flavor, host index) of each server booted: 8 HA and 4 plain, 3 a host.
SERVERS = tuple(('ha' if i % 3 != 1 else 'plain', i % HOSTS)
                for i in range(12))
FLAVOR_MEMORY_MB = 512
#: One VM Nova does not know on each host, started after the servers:
#: it leaves about one server's worth of memory free, so that restarts
#: get stuck after two failures and free up when one of these stops.
FILLER_MB = xenapi_pools.HOST_MEMORY_MB - 4 * FLAVOR_MEMORY_MB
#: xapi's own figures scaled down (seconds per second of xapi's): a 60 s
#: HA timeout is detected in 0.3 s, a VM.start takes 25 ms, the HA monitor
#: runs every 0.1 s and waits 0.6 s before trying a VM again, xapi
#: restarts for 0.15 s after a master failover.
TIME_SCALE = 0.005

#: Latencies injected, in seconds; quiet points set it back to 0.
LATENCIES = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2)
#: Chance of a reconciler pass right after a fault, and the pauses before
#: it (0 hits the detection delay, the others the restarts).
MID_FAULT_PASS_CHANCE = 0.4
MID_FAULT_PAUSES = (0.0, 0.0, 0.02, 0.05, 0.08)
#: Faults between two quiet points.
QUIET_EVERY = (4, 10)
#: Passes tried at a quiet point before the pool counts as unreachable.
QUIET_ATTEMPTS = 6

RESIDENT = ('Running', 'Paused')
NOT_RESIDENT = ('Halted', 'Suspended')
REPORTING_KINDS = (decide.SKIP, decide.HA_RESTART_FAILED, decide.MISSING)
#: ``ha_restart_priority`` values XenServer HA restarts (pool_state).
PROTECTED_PRIORITIES = ('restart', 'best-effort')


#: The faults on those VMs, and the control call each makes.
FILLER_FAULTS = {'stop_filler': 'shutdown_vm', 'start_filler': 'start_vm'}


def _filler(index):
    return 'filler-%d' % index


def _liveness(host):
    return 'live' if host and host['live'] else 'not live'


def _rules_allowed(inst, vm, hosts, allocations, nodes):
    """The reporting rules of doc/decision-table.md that the state the soak
    sees allows for one instance (its one VM exists: invariant 4).

    :param inst: the instance, from Nova's database.
    :param vm: its VM, from the simulator.
    :param hosts: the pool's hosts by hostname, from the simulator.
    :param allocations: the instance's allocations, by provider.
    :param nodes: the pool's compute node providers, by node name.
    """
    allowed = set()
    if inst.task_state is not None:
        allowed.add('task-in-progress')
    if inst.node not in nodes:
        allowed.add('unknown-node')
    state, host = vm['power_state'], hosts.get(vm['host'])
    nova_host = hosts.get(inst.host)
    if state not in RESIDENT + NOT_RESIDENT:
        allowed.add('unknown-power-state')
    if vm['host'] is not None and host is None:
        allowed.add('foreign-host')
    if state in RESIDENT and vm['host'] is None:
        allowed.add('running-nowhere')
    if state in NOT_RESIDENT and vm['host'] is not None:
        allowed.add('halted-on-host')
    if state in RESIDENT and host is not None:
        if not host['live']:
            allowed.add('host-not-live')
        else:
            if vm['host'] not in nodes:
                allowed.add('host-unmapped')
            if len(allocations) > 1:
                allowed.add('allocations-elsewhere')
            if vm['host'] != inst.node:
                if state != 'Running':
                    allowed.add('not-running-elsewhere')
                if inst.vm_state not in decide.RELOCATABLE_VM_STATES:
                    allowed.add('vm-state-not-relocatable')
    if (state in NOT_RESIDENT and vm['host'] is None and
            inst.vm_state == decide.ACTIVE and nova_host is not None and
            not nova_host['live']):
        if vm['ha_restart_priority'] in PROTECTED_PRIORITIES:
            # Which of the two depends on how long passes have seen the
            # host dead (one HA timeout), which only the reconciler knows.
            allowed.update(('ha-restart-pending', 'ha-restart-failed'))
        else:
            allowed.add('unprotected-halted')
    return allowed


class _SoakRecord:
    """What the soak injected and checked, for the report."""

    def __init__(self, seed, target):
        self.seed = seed
        self.target = target
        self.servers = 0
        self.ha_servers = 0
        self.injected = collections.Counter()
        self.refused = collections.Counter()
        self.garbage = collections.Counter()
        self.passes = 0
        self.mid_fault_passes = 0
        self.unreachable = 0
        self.quiet_points = 0
        self.stuck_points = 0
        self.freeing = 0
        self.instances_checked = 0
        self.states = collections.Counter()
        self.relocations = 0
        self.misplaced = 0
        self.relocations_by_uuid = collections.Counter()
        self.results = collections.Counter()
        self.events = collections.deque(maxlen=40)
        self.step = 0
        self.started = time.monotonic()
        self.seconds = None
        self.boot_seconds = None

    @property
    def total(self):
        return sum(self.injected.values())

    def log(self, message):
        self.events.append('[%03d] %s' % (self.step, message))

    def summary(self):
        seconds = (self.seconds if self.seconds is not None
                   else time.monotonic() - self.started)

        def counts(counter):
            return ', '.join('%s=%d' % item
                             for item in sorted(counter.items())) or 'none'

        return '\n'.join([
            'chaos soak: seed %d (%s=<seed> replays one), pool %s of %d '
            'hosts, %d servers (%d HA, %d plain)'
            % (self.seed, SEED_ENV, POOL, HOSTS, self.servers,
               self.ha_servers, self.servers - self.ha_servers),
            'injected %d faults (target %d): %s'
            % (self.total, self.target, counts(self.injected)),
            'refused by the pool (not counted): %s' % counts(self.refused),
            'garbage answered by %s, each its error: %s'
            % (HOSTILE, counts(self.garbage)),
            'reconciler passes: %d (%d right after a fault, %d unreachable)'
            % (self.passes, self.mid_fault_passes, self.unreachable),
            'quiet points: %d (%d with protected VMs stuck waiting, %d '
            'fillers stopped while VMs waited); instances checked: %d (%s)'
            % (self.quiet_points, self.stuck_points, self.freeing,
               self.instances_checked, counts(self.states)),
            'relocations applied: %d, %d of them to a host the VM was not on'
            % (self.relocations, self.misplaced),
            'pass results (kind/rule/status): %s' % counts(self.results),
            'booting the servers: %s; the soak: %.1f s'
            % ('%.1f s' % self.boot_seconds if self.boot_seconds is not None
               else '-', seconds),
        ])


class TestChaosSoak(xenapi_pools.XenAPIPoolsTestCase):
    """Random faults, random passes, invariants at every quiet point."""

    POOLS = {POOL: True}

    def scenario(self):
        pool = xenapi_pools.pool_scenario(POOL, True, hosts=HOSTS, vms=[
            {'name_label': _filler(i), 'memory_mb': FILLER_MB}
            for i in range(HOSTS)])
        for key in ('detection_delay', 'restart_delay'):
            del pool[key]
        pool.update(timing='realistic', time_scale=TIME_SCALE)
        return {'pools': [pool]}

    def setUp(self):
        super().setUp()
        # Nova's default quota is 10 instances a project.
        self.flags(instances=len(SERVERS), group='quota')
        seed = int(os.environ.get(SEED_ENV) or DEFAULT_SEED)
        target = int(os.environ.get(FAULTS_ENV) or DEFAULT_FAULTS)
        self._rng = random.Random(seed)
        self._soak = _SoakRecord(seed, target)
        soak = self._soak
        # Rendered when the result is reported, so it shows the whole run
        # (and the seed) whether the test passed or failed.
        self.addDetail('chaos-soak', content.Content(
            content_type.UTF8_TEXT,
            lambda: [soak.summary().encode('utf-8')]))
        self._reconciler = engine.Reconciler(conf.CONF)
        self.addCleanup(self._reconciler.close)
        # Its own generator: the garbage never changes a seed's faults.
        self._garbage_rng = random.Random(seed)
        self._hostile = hostile.HostileXenAPI().start()
        self.addCleanup(self._hostile.stop)
        self._create_ha_aggregate(HOSTILE, [],
                                  xenapi_pool_url=self._hostile.url)
        self._deleted_ctxt = nova_context.get_admin_context(
            read_deleted='yes')

    # Setting up ---------------------------------------------------------

    def _boot_servers(self):
        flavors = {'ha': self.ha_flavor(memory_mb=FLAVOR_MEMORY_MB),
                   'plain': self.plain_flavor(memory_mb=FLAVOR_MEMORY_MB)}
        hostnames = sorted(self.sim_fixture.pool(POOL).member_urls)
        self.admin_api.microversion = '2.74'
        posted = []
        for i, (kind, host_index) in enumerate(SERVERS):
            host = hostnames[host_index]
            body = self._build_server(
                name='soak-%s-%02d' % (kind, i), flavor_id=flavors[kind],
                networks='none', host=host)
            posted.append((host, self.admin_api.post_server(
                {'server': body})))
        servers = {}
        for host, server in posted:
            server = self._wait_for_server_parameter(
                server, {'status': 'ACTIVE'}, max_retries=60)
            self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
            servers[server['id']] = server
        self._soak.servers = len(servers)
        self._soak.ha_servers = sum(1 for kind, _h in SERVERS
                                    if kind == 'ha')
        return servers

    # Views --------------------------------------------------------------

    def _pool_view(self):
        """The simulator's truth: hosts by hostname, VMs by instance."""
        hosts = {h['hostname']: h for h in self.sim.hosts(POOL)}
        vms = {vm['nova_uuid']: vm for vm in self.sim.vms(POOL)
               if vm['nova_uuid']}
        return hosts, vms

    def _fillers(self):
        """The VMs Nova does not know, by name_label."""
        return {vm['name_label']: vm for vm in self.sim.vms(POOL)
                if not vm['nova_uuid']}

    def _start_fillers(self):
        hostnames = sorted(self.sim_fixture.pool(POOL).member_urls)
        for i, host in enumerate(hostnames):
            self._inject('start_filler', (_filler(i), host), count=False)

    def _instances(self):
        """Every instance ever created, deleted ones included, by uuid."""
        found = objects.InstanceList.get_by_filters(self._deleted_ctxt, {})
        return {inst.uuid: inst for inst in found}

    # Faults -------------------------------------------------------------

    def _pick_fault(self, hosts, vms):
        rng = self._rng
        up = sorted(h for h, info in hosts.items() if info['state'] == 'up')
        down = sorted(h for h, info in hosts.items()
                      if info['state'] != 'up')
        live_up = [h for h in up if hosts[h]['live']]
        master_up = any(info['master'] and info['state'] == 'up'
                        for info in hosts.values())
        running = sorted(u for u, vm in vms.items()
                         if vm['power_state'] == 'Running' and
                         vm['host'] in live_up)
        halted = sorted(u for u, vm in vms.items()
                        if vm['power_state'] == 'Halted')

        options = []
        # Keep the pool viable: a fault takes one host down, and only
        # while at least two are up.
        if len(up) >= 2:
            options += [('fail_host', 3), ('isolate_host', 1)]
            if master_up:
                options.append(('fail_master', 2))
        if down:
            options.append(('recover_host', 2 + 2 * len(down)))
        options += [('expire_sessions', 2), ('set_latency', 2),
                    ('drop_connections', 2)]
        if running and len(live_up) >= 2:
            options.append(('migrate_vm', 4))
        if running:
            options.append(('shutdown_vm', 1))
        if halted and live_up:
            # An administrator starts halted VMs again, the more of them
            # the likelier: it keeps VMs running for the other faults.
            options.append(('start_vm', 1 + len(halted)))
        fillers = self._fillers()
        filling = sorted(n for n, vm in fillers.items()
                         if vm['power_state'] == 'Running' and
                         vm['host'] in live_up)
        idle = sorted(n for n, vm in fillers.items()
                      if vm['power_state'] == 'Halted')
        waiting = self.sim.ha(POOL)['pending_restarts']
        if filling:
            # Stopping one frees room for the protected VMs stuck waiting.
            options.append(('stop_filler', 1 + 3 * len(waiting)))
        if idle and live_up and not waiting:
            # Failed hosts take theirs down: keep the pool tight.
            options.append(('start_filler', 3 * len(idle)))
        kind = rng.choices([k for k, _w in options],
                           weights=[w for _k, w in options])[0]

        if kind in ('fail_host', 'isolate_host'):
            return kind, (rng.choice(up),)
        if kind == 'recover_host':
            return kind, (rng.choice(down),)
        if kind == 'set_latency':
            return kind, (rng.choice(LATENCIES),)
        if kind == 'drop_connections':
            return kind, (rng.randint(1, 3),)
        if kind == 'migrate_vm':
            uuid = rng.choice(running)
            targets = [h for h in live_up if h != vms[uuid]['host']]
            return kind, (uuid, rng.choice(targets))
        if kind == 'shutdown_vm':
            return kind, (rng.choice(running),)
        if kind == 'start_vm':
            return kind, (rng.choice(halted), rng.choice(live_up + [None]))
        if kind == 'stop_filler':
            return kind, (rng.choice(filling),)
        if kind == 'start_filler':
            return kind, (rng.choice(idle), rng.choice(live_up))
        return kind, ()

    def _inject(self, kind, args, count=True):
        call = FILLER_FAULTS.get(kind, kind)
        if kind == 'stop_filler' and self.sim.ha(POOL)['pending_restarts']:
            self._soak.freeing += 1
        try:
            getattr(self.sim, call)(POOL, *args)
        except (control.Failure, control.SimulatorError) as exc:
            # The pool refused (no room, the failover plan, a VM or host
            # that changed under a background restart): not a fault.
            self._soak.refused[kind] += 1
            self._soak.log('%s%r refused: %s' % (kind, args, exc))
            return False
        if count:
            self._soak.injected[kind] += 1
        self._soak.log('%s%r' % (kind, args))
        return True

    # Passes -------------------------------------------------------------

    def _pass(self, label):
        """One reconciler pass; checks where each relocation went."""
        soak = self._soak
        kind = self._garbage_rng.choice(sorted(hostile.GARBAGE))
        answer, reason = hostile.GARBAGE[kind]
        self._hostile.answer('pool.get_all_records', answer)
        _hosts, before = self._pool_view()
        report, garbage = self._reconciler.reconcile(self.ctxt,
                                                     [POOL, HOSTILE])
        _hosts, after = self._pool_view()
        soak.passes += 1
        soak.garbage[kind] += 1
        if garbage.error is None or reason not in garbage.error:
            self._violation('garbage from a pool is not its error',
                            ['%s pass: %s answered %s; its error was %r'
                             % (label, HOSTILE, kind, garbage.error)])
        if not report.reachable:
            soak.unreachable += 1
            soak.log('%s pass: unreachable: %s' % (label, report.error))
            return report
        for result in report.results:
            action = result.action
            soak.results['%s/%s/%s' % (action.kind, action.rule,
                                       result.status)] += 1
            if action.kind == decide.RELOCATE and \
                    result.status == outcome.APPLIED:
                self._check_relocation(label, action, before, after)
        soak.log('%s pass: %s' % (label, ', '.join(
            '%s %s %s' % (r.action.kind, r.status,
                          r.action.instance_uuid[:8])
            for r in report.results
            if r.action.kind != decide.SKIP) or 'no writes'))
        return report

    def _check_relocation(self, label, action, before, after):
        """Invariant 2: a relocation goes where the VM was resident.

        The pool may restart the VM while the pass runs, so its host before
        or after the pass will do; at quiet points both are the same.
        """
        soak = self._soak
        soak.relocations += 1
        soak.relocations_by_uuid[action.instance_uuid] += 1
        uuid = action.instance_uuid
        seen = {vms[uuid]['host'] for vms in (before, after)
                if uuid in vms} - {None}
        target = action.target
        if target.host not in seen or target.nodename not in seen:
            soak.misplaced += 1
            self._violation(
                'invariant 2 (relocation to the wrong host)',
                ['%s pass relocated instance %s to %s (node %s), but the '
                 'pool had its VM on %s before the pass and on %s after it'
                 % (label, uuid, target.host, target.nodename,
                    before.get(uuid, {}).get('host'),
                    after.get(uuid, {}).get('host'))])

    def _reachable_pass(self, label):
        for _attempt in range(QUIET_ATTEMPTS):
            report = self._pass(label)
            if report.reachable:
                return report
            # A master election or dropped connections: settle and retry.
            self.sim.wait_until_quiet(POOL, timeout=30)
        self._violation('pool unreachable at a quiet point',
                        ['%d passes in a row: %s'
                         % (QUIET_ATTEMPTS, report.error)])

    # Quiet points -------------------------------------------------------

    def _quiet_point(self, label, baseline):
        soak = self._soak
        self.sim.wait_until_quiet(POOL, timeout=30)
        self.sim.set_latency(POOL, 0)
        soak.log('quiet point %d (%s)' % (soak.quiet_points + 1, label))
        self._reachable_pass('settling')
        report = self._reachable_pass('checking')
        # The pool did not change since the settling pass: nothing left to
        # write, and nothing failing.
        writes = [r for r in report.results
                  if r.action.writes or r.status == outcome.FAILED]
        if writes:
            self._violation(
                'a second pass at a quiet point still writes or fails',
                ['%s %s %s: %s' % (r.action.instance_uuid, r.action.kind,
                                   r.status, r.detail) for r in writes])
        self._check_invariants(report, baseline)
        if self.sim.ha(POOL)['pending_restarts']:
            soak.stuck_points += 1
        soak.quiet_points += 1

    def _check_invariants(self, report, baseline):
        soak = self._soak
        hosts, vms = self._pool_view()
        results = collections.defaultdict(list)
        for result in report.results:
            results[result.action.instance_uuid].append(result)
        instances = self._instances()
        problems = []

        # 4. Nothing deleted, nothing else changed by the reconciler.
        if set(instances) != set(baseline):
            problems.append('invariant 4: instances %s, booted %s'
                            % (sorted(instances), sorted(baseline)))
        migrations = objects.MigrationList.get_by_filters(self.ctxt, {})
        if migrations.objects:
            problems.append('invariant 4: Migration records exist: %s'
                            % ['%s %s %s' % (m.migration_type,
                                             m.instance_uuid, m.status)
                               for m in migrations])

        consumers = collections.Counter()
        for rp in self._providers.values():
            consumers.update(list(self.placement.get(
                '/resource_providers/%s/allocations' % rp).body[
                    'allocations']))

        for uuid in sorted(baseline):
            inst = instances.get(uuid)
            if inst is None:
                continue
            soak.instances_checked += 1
            if inst.deleted or inst.vm_state in ('deleted', 'soft-delete'):
                problems.append('invariant 4: instance %s is deleted '
                                '(vm_state %s)' % (uuid, inst.vm_state))
            if (inst.vm_state, inst.task_state) != baseline[uuid]:
                problems.append(
                    'invariant 4: instance %s has vm_state %s, task_state '
                    '%s; it had %s, %s' % ((uuid, inst.vm_state,
                                            inst.task_state) +
                                           baseline[uuid]))
            try:
                self.sim.vm(POOL, uuid)
            except control.SimulatorError as exc:
                problems.append('invariant 4: instance %s: %s'
                                % (uuid, exc))
                continue
            vm = vms[uuid]

            # 1. Where the pool says, or reported.
            reported = [r for r in results[uuid]
                        if r.action.kind in REPORTING_KINDS and
                        r.status == outcome.REPORTED]
            vm_host = hosts.get(vm['host'])
            nova_host = hosts.get(inst.host)
            # A report is a reason only where the decision table gives it.
            allocations = self._get_allocations_by_server_uuid(uuid)
            allowed = _rules_allowed(inst, vm, hosts, allocations,
                                     self._providers)
            for r in reported:
                if r.action.rule not in allowed:
                    problems.append(
                        'invariant 1: instance %s got %s %s (%s), which the '
                        'decision table does not allow here: Nova has it '
                        'on %s (%s, %s), its VM is %s on %s (%s); allowed: '
                        '%s' % (uuid, r.action.kind, r.action.rule,
                                r.detail, inst.host, inst.vm_state,
                                _liveness(nova_host), vm['power_state'],
                                vm['host'], _liveness(vm_host),
                                ', '.join(sorted(allowed)) or 'none'))
            if (vm['power_state'] in RESIDENT and vm_host is not None and
                    vm_host['live'] and
                    inst.host == vm['host'] and inst.node == vm['host']):
                soak.states['in-sync'] += 1
            elif reported:
                soak.states['reported:%s' % reported[0].action.rule] += 1
            elif (vm['power_state'] in NOT_RESIDENT and vm['host'] is None
                  and nova_host is not None and nova_host['live']):
                soak.states['halted-on-live-nova-host'] += 1
            else:
                problems.append(
                    'invariant 1: instance %s is on %s (node %s) in Nova, '
                    'its VM is %s on %s (%s), and the last pass reported '
                    'nothing about it (results: %s)'
                    % (uuid, inst.host, inst.node, vm['power_state'],
                       vm['host'],
                       'live' if vm_host and vm_host['live']
                       else 'not live',
                       ['%s %s %s: %s' % (r.action.kind, r.action.rule,
                                          r.status, r.detail)
                        for r in results[uuid]] or 'none'))

            # 3. Allocations on exactly the current node's provider.
            expected = self._providers.get(inst.node)
            if set(allocations) != {expected}:
                problems.append(
                    'invariant 3: instance %s on node %s (provider %s) has '
                    'allocations on %s' % (uuid, inst.node, expected,
                                           sorted(allocations)))
            if consumers[uuid] != 1:
                problems.append(
                    'invariant 3: instance %s is a consumer of %d of the '
                    "pool's providers" % (uuid, consumers[uuid]))

        if sum(consumers.values()) != len(baseline):
            problems.append(
                "invariant 3: the pool's providers hold %d allocations, "
                'for %d instances' % (sum(consumers.values()),
                                      len(baseline)))
        if problems:
            self._violation('invariants at quiet point %d'
                            % (soak.quiet_points + 1), problems)

    def _violation(self, what, problems):
        soak = self._soak
        self.fail('%s (seed %d, after %d faults):\n  %s\n'
                  'recent events:\n  %s\n%s'
                  % (what, soak.seed, soak.total, '\n  '.join(problems),
                     '\n  '.join(soak.events), soak.summary()))

    # The soak -----------------------------------------------------------

    def test_reconciler_keeps_nova_right_under_seeded_chaos(self):
        soak = self._soak
        rng = self._rng
        print('\nchaos soak: seed %d (%s=<seed> replays one), %d faults'
              % (soak.seed, SEED_ENV, soak.target))
        booting = time.monotonic()
        servers = self._boot_servers()
        soak.boot_seconds = time.monotonic() - booting
        self._providers = {
            cn.hypervisor_hostname: cn.uuid
            for cn in objects.ComputeNodeList.get_all(self.ctxt)}
        instances = self._instances()
        baseline = {uuid: (instances[uuid].vm_state,
                           instances[uuid].task_state) for uuid in servers}
        self.assertEqual(set(servers), set(instances))

        soak.started = time.monotonic()
        self._start_fillers()
        self._quiet_point('after boot', baseline)
        next_quiet = rng.randint(*QUIET_EVERY)
        since_quiet = 0
        while soak.total < soak.target:
            soak.step += 1
            hosts, vms = self._pool_view()
            kind, args = self._pick_fault(hosts, vms)
            injected = self._inject(kind, args)
            since_quiet += injected
            if rng.random() < MID_FAULT_PASS_CHANCE:
                pause = rng.choice(MID_FAULT_PAUSES)
                if pause:
                    # Not a wait for anything: a pause of random length
                    # puts the pass at a random point of the failover
                    # (detection, restarts), which is what is soaked.
                    time.sleep(pause)
                soak.mid_fault_passes += 1
                self._pass('mid-fault')
            if since_quiet >= next_quiet:
                self._quiet_point('after %s' % kind, baseline)
                next_quiet = rng.randint(*QUIET_EVERY)
                since_quiet = 0

        # The end: every host back, one last check.
        soak.step += 1
        hosts, _vms = self._pool_view()
        for host in sorted(h for h, info in hosts.items()
                           if info['state'] != 'up'):
            if self._pool_view()[0][host]['state'] != 'up':
                self.sim.recover_host(POOL, host)
                soak.log('recover_host(%r,) at the end' % host)
        self._quiet_point('all hosts back', baseline)

        # Each applied relocation recorded exactly one ha-relocate action.
        for uuid in sorted(servers):
            actions = [a for a in self.api.get_instance_actions(uuid)
                       if a['action'] == apply.ACTION_NAME]
            self.assertEqual(
                soak.relocations_by_uuid[uuid], len(actions),
                'instance %s: %d relocations applied, %d %s actions '
                '(seed %d)' % (uuid, soak.relocations_by_uuid[uuid],
                               len(actions), apply.ACTION_NAME, soak.seed))

        soak.seconds = time.monotonic() - soak.started
        self.assertGreaterEqual(soak.total, soak.target)
        self.assertGreater(soak.relocations, 0)
        # The soak went where it was meant to: failovers, stuck restarts
        # that freed up.
        self.assertGreater(soak.injected['fail_master'], 0)
        self.assertGreater(soak.stuck_points, 0)
        print(soak.summary())


class RulesAllowedTest(testtools.TestCase):
    """Invariant 1 takes a report only where the decision table gives it."""

    NODES = {'xs-a1': 'rp-1', 'xs-a2': 'rp-2'}

    def hosts(self, a2_live=True):
        return {'xs-a1': {'live': True, 'enabled': True},
                'xs-a2': {'live': a2_live, 'enabled': True}}

    def allowed(self, vm_host, state='Running', priority='restart',
                a2_live=True, nova_host='xs-a2', vm_state='active',
                task_state=None):
        inst = types.SimpleNamespace(host=nova_host, node=nova_host,
                                     vm_state=vm_state,
                                     task_state=task_state)
        vm = {'host': vm_host, 'power_state': state,
              'ha_restart_priority': priority}
        return _rules_allowed(inst, vm, self.hosts(a2_live),
                              {'rp-x': {}}, self.NODES)

    def test_an_instance_in_sync_allows_no_report(self):
        self.assertEqual(set(), self.allowed('xs-a2'))

    def test_a_vm_restarted_elsewhere_allows_no_report(self):
        self.assertEqual(set(), self.allowed('xs-a1', a2_live=False))

    def test_a_vm_on_a_dead_host_may_wait_for_xenserver_ha(self):
        self.assertEqual({'host-not-live'},
                         self.allowed('xs-a2', a2_live=False))

    def test_a_protected_halted_vm_of_a_dead_host(self):
        self.assertEqual({'ha-restart-pending', 'ha-restart-failed'},
                         self.allowed(None, 'Halted', a2_live=False))

    def test_an_unprotected_halted_vm_of_a_dead_host(self):
        self.assertEqual({'unprotected-halted'},
                         self.allowed(None, 'Halted', priority='',
                                      a2_live=False))

    def test_a_halted_vm_of_a_live_host_allows_no_report(self):
        self.assertEqual(set(), self.allowed(None, 'Halted'))

    def test_a_paused_vm_elsewhere_and_a_task(self):
        self.assertEqual({'not-running-elsewhere', 'task-in-progress'},
                         self.allowed('xs-a1', 'Paused',
                                      task_state='rebooting'))

    def test_every_rule_it_allows_is_a_reporting_row(self):
        reporting = set(decide.RULES) - {
            'bindings-pending', 'in-sync', 'relocate', 'not-resident',
            'protect', 'unprotect', 'protection-in-sync'}
        seen = set()
        for vm_host in ('xs-a1', 'xs-a2', 'xs-zz', None):
            for state in ('Running', 'Paused', 'Halted', 'Crashed'):
                for a2_live in (True, False):
                    for priority in ('restart', ''):
                        seen |= self.allowed(vm_host, state, priority,
                                             a2_live)
        self.assertLessEqual(seen, reporting)
