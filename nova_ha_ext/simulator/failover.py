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

"""Host failures and what pool HA does about them.

:class:`Failover` kills, isolates and recovers hosts, notices a dead host
after the pool's detection delay, resets its VMs and restarts the
protected ones, and elects a new master when the master dies.  It changes
the pool's database through the :class:`~model.Pool` it serves, under the
pool's lock; the pool's transport stops and starts the hosts' endpoints.
"""

import logging

from nova_ha_ext.simulator import datamodel
from nova_ha_ext.simulator import ha

LOG = logging.getLogger(__name__)


class SimulatorError(Exception):
    """A control API call that does not make sense (unknown pool, ...)."""


class Failover(object):
    """Host failures, HA restarts and master election of one pool."""

    def __init__(self, pool):
        self.pool = pool
        self.pending = set()

    # Election -----------------------------------------------------------

    def _elect(self):
        """Make the first host that is up the master, if the master is not."""
        pool = self.pool
        if pool.master.mode == 'up':
            return
        for state in pool.hosts.values():
            if state.mode == 'up':
                pool.db.update(pool.pool_obj, master=state.ref)
                LOG.info('pool %s: %s is the new master', pool.name,
                         state.hostname)
                return

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
        pool = self.pool
        with pool.lock:
            state = pool.host_state(hostname)
            if state.mode != 'up':
                raise SimulatorError('host %s of pool %s is already down'
                                     % (state.hostname, pool.name))
            self._take_down(state, 'failed')

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
            state = pool.host_state(hostname)
            if state.mode != 'up':
                raise SimulatorError('host %s of pool %s is already down'
                                     % (state.hostname, pool.name))
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

    def _declare_dead(self, state, down):
        pool = self.pool
        if not pool.sleep(pool.detection_delay):
            return
        with pool.lock:
            # Recovered in the meantime (maybe to fail again later).
            if state.mode == 'up' or state.downs != down or pool.stopping:
                return
            pool.db.update(pool.metrics(state), live=False,
                           last_updated=datamodel.now())
            self._elect()
            restart = []
            if pool.pool_obj['ha_enabled']:
                restart = self._reset_vms(state)
            pool.refresh_ha()
        self._restart(restart)

    def _reset_vms(self, state):
        """The VMs of a dead host are halted; return restart candidates."""
        pool = self.pool
        vms = pool.db.tables['VM']
        candidates = []
        for ref in list(pool.host_obj(state)['resident_VMs']):
            vm = vms[ref]
            if vm['is_control_domain']:
                continue
            pool.unplace(vm)
            candidates.append(ha.RestartCandidate(
                ref, vm['ha_restart_priority'], vm['order'],
                vm['start_delay'], vm['name_label']))
        return candidates

    def _restart(self, candidates):
        """Restart protected then best-effort VMs, one at a time."""
        pool = self.pool
        protected, best_effort = ha.restart_order(candidates)
        if not protected and not best_effort:
            return
        if not pool.sleep(pool.restart_delay):
            return
        with pool.lock:
            vms = pool.db.tables['VM']
            free = {s.hostname: pool.free(s) for s in pool.hosts.values()
                    if s.mode == 'up' and pool.is_live(s) and
                    pool.host_obj(s)['enabled']}
            plan = ha.place([(c.key, pool.footprint(vms[c.key]))
                             for c in protected if c.key in vms], free)
        for candidate in protected:
            started = self._restart_one(candidate, plan.get(candidate.key))
            if started and candidate.start_delay:
                if not pool.sleep(candidate.start_delay):
                    return
        for candidate in best_effort:
            self._restart_one(candidate, None, retry=False)
        with pool.lock:
            pool.refresh_ha()

    def _restart_one(self, candidate, planned, retry=True):
        pool = self.pool
        with pool.lock:
            vm = pool.db.tables['VM'].get(candidate.key)
            if (pool.stopping or vm is None or
                    not pool.pool_obj['ha_enabled'] or
                    vm['power_state'] != 'Halted' or
                    vm['ha_restart_priority'] != candidate.priority):
                return False
            hosts = pool.candidates(vm)
            if planned is not None:
                hosts.sort(key=lambda s: s.hostname != planned)
            if not hosts:
                LOG.info('pool %s: no host can restart %s', pool.name,
                         vm['name_label'])
                if retry:
                    self.pending.add(vm.ref)
                return False
            self.pending.discard(vm.ref)
            pool.place(vm, hosts[0])
            return True

    def retry_pending(self):
        """Restart the protected VMs still waiting for capacity."""
        vms = self.pool.db.tables['VM']
        candidates = [ha.RestartCandidate(
            ref, 'restart', vms[ref]['order'], vms[ref]['start_delay'],
            vms[ref]['name_label'])
            for ref in self.pending if ref in vms]
        if candidates:
            self.pending.clear()
            self.pool.spawn(self._restart, candidates)

    def recover_host(self, hostname):
        """A failed or isolated host is back (rebooted, or reconnected).

        For a host whose isolation fenced the other side, this heals the
        partition: the fenced hosts come back.
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
            self._elect()
            pool.refresh_ha()
            self.retry_pending()

    def _bring_up(self, state):
        pool = self.pool
        if state.mode == 'failed':
            # The host rebooted: whatever the database still shows
            # running there died with it.
            vms = pool.db.tables['VM']
            for ref in list(pool.host_obj(state)['resident_VMs']):
                if not vms[ref]['is_control_domain']:
                    pool.unplace(vms[ref])
        state.mode = 'up'
        pool.db.update(pool.metrics(state), live=True,
                       last_updated=datamodel.now())
        pool.transport.host_up(state.hostname)
