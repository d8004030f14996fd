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

"""Host failures and what pool HA does about them, as xapi does it.

:class:`Failover` kills, isolates and recovers hosts; notices a dead host
after the pool's detection delay; resets its VMs and restarts the
protected ones (``xapi_ha_vm_failover.ml`` ``restart_auto_run_vms``);
retries the ones still waiting from its HA monitor
(``xapi_ha.ml`` ``ha_monitor``); and when the master dies, elects a new
one and restarts xapi on every surviving host (``xapi_pool_transition.ml``,
``xapi_ha.ml`` ``on_database_engine_ready``).  It changes the pool's
database through the :class:`~model.Pool` it serves, under the pool's
lock; the pool's transport stops and starts the hosts' endpoints.
"""

import logging
import threading
import time

from nova_ha_ext.simulator import alerts
from nova_ha_ext.simulator import datamodel
from nova_ha_ext.simulator import ha

LOG = logging.getLogger(__name__)


class SimulatorError(Exception):
    """A control API call that does not make sense (unknown pool, ...)."""


class Failover(object):
    """Host failures, HA restarts and master election of one pool."""

    def __init__(self, pool):
        self.pool = pool
        # True from a master's death being noticed until xapi is back up
        # on the new master: every survivor refuses connections.
        self.electing = False
        # When each waiting VM was last tried: xapi waits restart_backoff
        # before trying a VM again.
        self._attempts = {}
        self._round = threading.Lock()
        # Protected VMs whose failed restart was alerted
        # (xapi_ha_vm_failover.ml restart_failed).
        self._restart_failed = set()
        self._live_set = frozenset()
        self._monitor = None

    # The HA monitor -----------------------------------------------------

    def start(self):
        """Start the HA monitor (it only acts while HA is enabled)."""
        with self.pool.lock:
            self._live_set = self._current_live_set()
        self._monitor = threading.Thread(
            target=self._watch, name='sim-%s-ha-monitor' % self.pool.name,
            daemon=True)
        self._monitor.start()

    def join(self, timeout):
        if self._monitor is not None:
            self._monitor.join(timeout)

    def _current_live_set(self):
        pool = self.pool
        return frozenset(s.hostname for s in pool.hosts.values()
                         if pool.ha.in_live_set(s))

    def _watch(self):
        """Every monitor_interval, restart what waits (ha_monitor)."""
        pool = self.pool
        while pool.sleep(max(pool.spec.monitor_interval, 0.01)):
            with pool.lock:
                if not pool.pool_obj['ha_enabled'] or self.electing:
                    continue
                live_set = self._current_live_set()
                grew = len(live_set) > len(self._live_set)
                self._live_set = live_set
                best_effort = self._halted_best_effort() if grew else []
                due = self._due()
            if (due or best_effort) and self._round.acquire(False):
                try:
                    self._restart(best_effort)
                finally:
                    self._round.release()

    def _halted_best_effort(self):
        """Every Halted best-effort VM.

        restart_auto_run_vms tries them all when the live set grows.
        """
        return [vm.ref for vm in self.pool.db.all('VM')
                if vm['ha_restart_priority'] == 'best-effort' and
                vm['power_state'] == 'Halted' and
                not vm['is_a_template'] and not vm['is_control_domain']]

    def _due(self):
        """Waiting VMs not tried within the last restart_backoff."""
        now = time.monotonic()
        backoff = self.pool.spec.restart_backoff
        return [ref for ref in self.pool.waiting
                if now - self._attempts.get(ref, -backoff) >= backoff]

    def restartable(self):
        """True if the monitor's next round has something to start.

        A waiting VM that would fit on a host now, or halted best-effort
        VMs once the live set has grown.
        """
        pool = self.pool
        if not pool.pool_obj['ha_enabled'] or self.electing:
            return False
        vms = pool.db.tables['VM']
        if any(pool.candidates(vms[ref]) for ref in pool.waiting):
            return True
        return (len(self._current_live_set()) > len(self._live_set) and
                bool(self._halted_best_effort()))

    # Election -----------------------------------------------------------

    def _choose_master(self):
        """The HA daemon's choice among the hosts still up.

        xhad decides, not "the first host": the simulator takes the host
        with the lowest uuid, which need not be the first one listed.
        """
        pool = self.pool
        up = [s for s in pool.hosts.values() if s.mode == 'up']
        if not up:
            return None
        return min(up, key=lambda s: pool.host_obj(s)['uuid'])

    def _transition(self, dead_master):
        """A new master takes over; xapi restarts on every survivor.

        Sessions are not persisted and event tokens of the old master mean
        nothing; when xapi is back, every host is disabled until it
        enables itself (xapi_ha.ml on_database_engine_ready).
        """
        pool = self.pool
        with pool.lock:
            master = self._choose_master()
            if master is None:
                return False
            self.electing = True
            survivors = [s for s in pool.hosts.values() if s.mode == 'up']
            for state in survivors:
                pool.transport.host_down(state.hostname)
            pool.db.update(pool.pool_obj, master=master.ref)
            pool.sessions.expire_all()
            LOG.info('pool %s: %s is the new master', pool.name,
                     master.hostname)
        if not pool.sleep(pool.spec.failover_seconds):
            return False
        with pool.lock:
            pool.db.restart()
            for state in pool.hosts.values():
                pool.db.update(pool.host_obj(state), enabled=False)
            pool.ha.refresh()
            self.electing = False
            for state in pool.hosts.values():
                if state.mode == 'up':
                    pool.transport.host_up(state.hostname)
        for state in survivors:
            if not pool.sleep(pool.spec.enable_seconds):
                return False
            with pool.lock:
                if state.mode == 'up' and pool.is_live(state):
                    pool.db.update(pool.host_obj(state), enabled=True)
                    pool.ha.refresh()
        return True

    # Faults -------------------------------------------------------------

    def _take_down(self, state, mode):
        pool = self.pool
        state.mode = mode
        state.downs += 1
        pool.transport.host_down(state.hostname)
        # Wake event.from callers so that those served by this host drop.
        pool.changed.notify_all()
        pool.spawn(self._declare_dead, state, state.downs)

    def fail_host(self, hostname):
        """The host dies now; xapi notices after detection_delay."""
        with self.pool.lock:
            self._take_down(self._up_host(hostname), 'failed')

    def _up_host(self, hostname):
        """The state of a host that is up; refuses one already down."""
        state = self.pool.host_state(hostname)
        if state.mode != 'up':
            raise SimulatorError('host %s of pool %s is already down'
                                 % (state.hostname, self.pool.name))
        return state

    def fail_master(self):
        with self.pool.lock:
            self.fail_host(self.pool.master.hostname)

    def isolate_host(self, hostname):
        """Cut a host off the pool network.

        With HA the larger side survives (on a tie, the master's side) and
        the hosts on the other side fence themselves: they die like failed
        hosts.  Without HA the isolated host keeps its VMs running but the
        pool sees it as not live.
        """
        pool = self.pool
        with pool.lock:
            state = self._up_host(hostname)
            if not pool.pool_obj['ha_enabled']:
                self._take_down(state, 'isolated')
                return
            others = [s for s in pool.hosts.values()
                      if s is not state and s.mode == 'up']
            isolated_survives = (len(others) < 1 or (
                len(others) == 1 and pool.master is state))
            if isolated_survives:
                state.fenced_with = others
                for other in others:
                    self._take_down(other, 'failed')
            else:
                self._take_down(state, 'failed')

    def _still_down(self, state, down):
        return (state.mode != 'up' and state.downs == down and
                not self.pool.stopping)

    def _declare_dead(self, state, down):
        pool = self.pool
        if not pool.sleep(pool.detection_delay):
            return
        with pool.lock:
            # Recovered in the meantime (maybe to fail again later).
            if not self._still_down(state, down):
                return
            was_master = pool.master is state
        if was_master and not self._transition(state):
            return
        with self._round:
            with pool.lock:
                if not self._still_down(state, down):
                    return
                if pool.pool_obj['ha_enabled'] and pool.is_live(state):
                    host = pool.host_obj(state)
                    alerts.alert(pool.db, alerts.HA_HOST_FAILED, 'Host',
                                 host['uuid'], "Server '%s' has failed"
                                 % host['name_label'])
                pool.db.update(pool.metrics(state), live=False,
                               last_updated=datamodel.now())
                self._live_set = self._current_live_set()
                if not pool.pool_obj['ha_enabled']:
                    pool.ha.refresh()
                    return
                reset = self._halt_vms(state)
            if reset and not pool.sleep(pool.spec.reset_seconds):
                return
            with pool.lock:
                for vm in reset:
                    pool.clear_residence(vm, state, report_free=False)
                pool.ha.refresh()
            if not pool.sleep(pool.restart_delay):
                return
            self._restart([vm.ref for vm in reset
                           if vm['ha_restart_priority'] == 'best-effort'])

    def _halt_vms(self, state):
        """Power state first: the dead host's VMs are Halted."""
        pool = self.pool
        vms = pool.db.tables['VM']
        reset = []
        for ref in list(pool.host_obj(state)['resident_VMs']):
            vm = vms[ref]
            if vm['is_control_domain']:
                continue
            pool.halt(vm)
            reset.append(vm)
        return reset

    # Restarts -----------------------------------------------------------

    def _restart(self, best_effort):
        """One restart round (restart_auto_run_vms).

        Protected VMs waiting for a restart are started by ascending
        ``order``, those of one ``order`` in parallel, each on the host
        the plan chose or else anywhere; each start takes
        ``vm_start_seconds`` and then its ``start_delay``.  A VM that
        fits nowhere waits ``restart_backoff`` before the monitor tries it
        again.  Then the given best-effort VMs get one attempt.
        """
        pool = self.pool
        with pool.lock:
            if pool.stopping or not pool.pool_obj['ha_enabled']:
                return
            vms = pool.db.tables['VM']
            due = self._due()
            protected = [ha.RestartCandidate(
                ref, 'restart', vms[ref]['order'], vms[ref]['start_delay'],
                vms[ref]['name_label']) for ref in due]
            others = [ha.RestartCandidate(
                ref, 'best-effort', vms[ref]['order'],
                vms[ref]['start_delay'], vms[ref]['name_label'])
                for ref in best_effort if ref in vms]
            plan = pool.ha.restart_plan()
        for group in ha.order_groups(protected):
            if not self._start_group(group, plan):
                return
        for group in ha.order_groups(others):
            if not self._start_group(group, {}):
                return
        with pool.lock:
            pool.ha.refresh()

    def _start_group(self, group, plan):
        """Start VMs of one order together; False if the pool stops."""
        pool = self.pool
        if not pool.sleep(pool.spec.vm_start_seconds):
            return False
        delays = [c.start_delay for c in group
                  if self._start_one(c, plan.get(c.key))]
        return pool.sleep(max(delays, default=0))

    def _start_one(self, candidate, planned):
        pool = self.pool
        with pool.lock:
            vm = pool.db.tables['VM'].get(candidate.key)
            if (pool.stopping or vm is None or self.electing or
                    not pool.pool_obj['ha_enabled'] or
                    vm['power_state'] != 'Halted' or
                    vm['ha_restart_priority'] != candidate.priority):
                return False
            # Without a planned host this is xapi's VM.start, whose choice
            # honours anti-affinity groups; the planned host is
            # VM.start_on, whose plan (compute_restart_plan) ignores them
            # (xapi_ha_vm_failover.ml restart_auto_run_vms).
            hosts = pool.candidates(vm)
            if planned is not None:
                hosts.sort(key=lambda s: s.hostname != planned)
            if not hosts:
                LOG.info('pool %s: no host can restart %s', pool.name,
                         vm['name_label'])
                self._attempts[vm.ref] = time.monotonic()
                if (candidate.priority == 'restart' and
                        vm.ref not in self._restart_failed):
                    # One alert per protected VM while it keeps failing.
                    self._restart_failed.add(vm.ref)
                    alerts.alert(pool.db,
                                 alerts.HA_PROTECTED_VM_RESTART_FAILED,
                                 'VM', vm['uuid'])
                return False
            self._attempts.pop(vm.ref, None)
            self._restart_failed.discard(vm.ref)
            pool.place(vm, hosts[0])
            return True

    # Recovery -----------------------------------------------------------

    def recover_host(self, hostname):
        """A failed or isolated host is back (rebooted, or reconnected).

        For a host whose isolation fenced the other side, this heals the
        partition: the fenced hosts come back.  VMs waiting for a restart
        are retried by the HA monitor, as in xapi.
        """
        pool = self.pool
        with pool.lock:
            state = pool.host_state(hostname)
            if state.mode == 'up' and not state.fenced_with:
                raise SimulatorError('host %s of pool %s is not down'
                                     % (state.hostname, pool.name))
            for other in state.fenced_with:
                if other.mode != 'up':
                    self._bring_up(other)
            state.fenced_with = []
            if state.mode != 'up':
                self._bring_up(state)
            if pool.master.mode != 'up':
                # Every host was down: the first one back leads.
                pool.db.update(pool.pool_obj, master=state.ref)
            pool.ha.refresh()

    def _bring_up(self, state):
        pool = self.pool
        if state.mode == 'failed':
            # The host rebooted: whatever the database still shows
            # running there died with it.
            vms = pool.db.tables['VM']
            for ref in list(pool.host_obj(state)['resident_VMs']):
                if not vms[ref]['is_control_domain']:
                    pool.unplace(vms[ref])
            if pool.pool_obj['ha_enabled']:
                # xapi, starting on a host that HA enabled, that left no
                # crash dump and was not shut down cleanly, says it was
                # fenced (xapi_host_crashdump.ml resynchronise).
                alerts.alert(pool.db, alerts.HA_HOST_WAS_FENCED, 'Host',
                             pool.host_obj(state)['uuid'])
        state.mode = 'up'
        pool.db.update(pool.metrics(state), live=True,
                       last_updated=datamodel.now())
        if not self.electing:
            pool.transport.host_up(state.hostname)
