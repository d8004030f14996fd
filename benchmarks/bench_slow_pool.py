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

"""Event-driven passes of healthy pools while another pool trickles.

    python -m benchmarks slow_pool

Real Nova in-process (``nova_ha_ext.testing.xenapi_pools``: API, conductor,
scheduler, placement, one XenAPI-backed nova-compute per XenServer host)
with three simulated HA pools of three hosts, two HA servers on one host of
each, and ``nova-ha-reconciler``'s runner watching the pools' events.

A fourth aggregate names a hostile XenAPI server on loopback that logs
anyone in and then sends every answer one byte every 50 ms: each pass over
it holds a pass thread until ``[xenapi] call_timeout`` (4 s here), and the
full pass that includes it comes every ``interval`` (5 s).

Each round fails, in turn, the host running a pool's two servers, waits for
XenServer HA to restart them elsewhere, and measures from the moment both
run on their new host to the moment Nova has both there (polled every
10 ms); then the host comes back. Rounds: no slow pool; the slow pool with
one pass thread (every pass after the other, as before
``parallel_passes``); the slow pool with four. Nothing here asserts a
time.
"""

import statistics
import sys
import time

import benchmarks

PROGRESS = 'bench_slow_pool:'
POOLS = ('pool-a', 'pool-b', 'pool-c')
SLOW = 'pool-0-trickle'
#: Host failures per pool and round.
FAILURES = 4
ROUNDS = (('no slow pool', False, 4),
          ('slow pool, parallel_passes = 1', True, 1),
          ('slow pool, parallel_passes = 4', True, 4))
CALL_TIMEOUT = 4.0
INTERVAL = 5


def progress(message):
    sys.__stderr__.write('%s %s\n' % (PROGRESS, message))
    sys.__stderr__.flush()


def main():
    benchmarks.run_child('benchmarks.bench_slow_pool', [], PROGRESS)


def _percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1,
                       int(round(q / 100.0 * (len(ordered) - 1))))]


def _bench_case():
    from nova import context as nova_context
    from nova import objects

    from nova_ha_ext import conf as ha_conf
    from nova_ha_ext.reconcile import runner
    from nova_ha_ext.testing import hostile
    from nova_ha_ext.testing import waiting
    from nova_ha_ext.testing import xenapi_pools

    def poll(predicate, timeout=60):
        return waiting.wait_for(predicate, timeout, interval=0.01)

    class SlowPoolBenchmark(xenapi_pools.XenAPIPoolsTestCase):
        """Not a test: measurements, run by ``_child()``."""

        POOLS = {name: True for name in POOLS}
        figures = {}

        def test_event_latency(self):
            import logging
            logging.getLogger().setLevel(logging.INFO)
            self.flags(interval=INTERVAL, event_timeout=5.0,
                       event_settle_seconds=0.1, group='ha_reconciler')
            self.flags(call_timeout=CALL_TIMEOUT, read_timeout=1.0,
                       group='xenapi')
            flavor = self.ha_flavor()
            servers = {}
            for pool in POOLS:
                host = 'xs-%s2' % pool[-1]
                servers[pool] = [
                    self._create_server(
                        name='%s-%d' % (pool, i), flavor_id=flavor,
                        networks='none', host=host)['id']
                    for i in range(2)]
            for label, slow, threads in ROUNDS:
                if slow and SLOW not in self.aggregates:
                    self.aggregates[SLOW] = self._slow_aggregate()
                progress(label)
                self.figures[label] = self._round(servers, threads)

        def _slow_aggregate(self):
            trickle = hostile.Trickle(b' ' * 100000, interval=0.05)
            server = hostile.HostileXenAPI({
                method: trickle for method in hostile.VALID
                if method != 'session.login_with_password'})
            server.answer('event.from', trickle)
            server.start()
            self.addCleanup(server.stop)
            return self._create_ha_aggregate(SLOW, [],
                                             xenapi_pool_url=server.url)

        def _round(self, servers, threads):
            self.flags(parallel_passes=threads, group='ha_reconciler')
            run = runner.ReconcilerRunner(
                ha_conf.CONF, nova_context.get_admin_context)
            run.start()
            try:
                poll(lambda: all(p in run.last_reports for p in POOLS))
                latencies = []
                for i in range(FAILURES):
                    for pool in POOLS:
                        latencies.append(self._failover(pool, servers[pool]))
                    progress('  %d/%d failures per pool' % (i + 1, FAILURES))
            finally:
                run.stop()
            return latencies

        def _failover(self, pool, uuids):
            host = self.vm_of(pool, {'id': uuids[0]})['host']
            self.sim.fail_host(pool, host)

            def restarted():
                vms = [self.vm_of(pool, {'id': u}) for u in uuids]
                return (all(vm['power_state'] == 'Running' and
                            vm['host'] != host for vm in vms) and
                        [vm['host'] for vm in vms])
            where = poll(restarted)
            running_at = time.monotonic()
            poll(lambda: [objects.Instance.get_by_uuid(self.ctxt, u).host
                          for u in uuids] == where)
            latency = time.monotonic() - running_at
            self.sim.recover_host(pool, host)
            self.sim.wait_until_quiet(pool, timeout=60)
            return latency

    return SlowPoolBenchmark


def _child():
    # Nova's functional harness wants eventlet patching before anything.
    from nova import monkey_patch
    monkey_patch.patch()

    case = _bench_case()
    started = time.monotonic()
    if not benchmarks.run_cases(case, ('test_event_latency',)):
        return 1
    print('Event-driven passes of %d healthy pools (3 hosts, 2 HA servers '
          'each) while a fourth pool trickles (a byte every 50 ms; '
          '[xenapi] call_timeout = %g s, [ha_reconciler] interval = %d s); '
          '%d host failures per pool and round, in %.0f s.'
          % (len(POOLS), CALL_TIMEOUT, INTERVAL, FAILURES,
             time.monotonic() - started))
    print()
    print('| round | failures | from VMs Running on the new host to Nova '
          'updated: median | p95 | max |')
    print('|---|---:|---:|---:|---:|')
    for label, _slow, _threads in ROUNDS:
        values = case.figures[label]
        print('| %s | %d | %.2f s | %.2f s | %.2f s |' % (
            label, len(values), statistics.median(values),
            _percentile(values, 95), max(values)))
    return 0


if __name__ == '__main__':
    if '--child' in sys.argv:
        sys.exit(_child())
    main()
