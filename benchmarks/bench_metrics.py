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


"""What the reconciler's metrics cost a pass.

    python -m benchmarks metrics                  # about 2 minutes
    python -m benchmarks.bench_metrics --small    # a pool of 200 VMs

The pool of ``bench_reconcile`` (real Nova in-process, 16 simulated hosts
and 2,000 VMs with ports and volumes, the simulator in a process of its
own), passed over by ``Reconciler.reconcile_pool`` with metrics off and on,
in pairs, each first in half of them: "on" is the pass plus what the
runner then does with its report,
:meth:`nova_ha_ext.metrics.recorder.Recorder.record`. Also timed
alone: ``record()`` of an in-sync report, of one with 50 relocations and
of the report of a host failure; and a scrape (the text
``prometheus_client`` serves for ``GET /metrics``) of one pool and of
100. Prints measured figures; asserts no time.
"""

import statistics
import sys
import time

import benchmarks
from benchmarks import bench_reconcile

PROGRESS = 'bench_metrics:'
#: In-sync passes with metrics off, and as many on, interleaved.
ROUNDS = 7
#: Repetitions of each record() and scrape timed alone.
REPEATS = 200


def main(small=False):
    """Measure in a child process (Nova's harness patches with eventlet)."""
    benchmarks.run_child('benchmarks.bench_metrics',
                         ['--small'] if small else [], PROGRESS)


def _median_seconds(func, repeats=REPEATS):
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _bench_case():
    import dataclasses

    import prometheus_client

    from nova_ha_ext import conf as ha_conf
    from nova_ha_ext.metrics import collector
    from nova_ha_ext.metrics import recorder
    from nova_ha_ext.reconcile import coordination

    base = bench_reconcile._bench_case()

    class MetricsBenchmark(base):
        """Not a test: measurements, run by ``_child()``."""

        figures = {}

        def _metrics(self, reconciler):
            registry = prometheus_client.CollectorRegistry()
            rec = recorder.Recorder(registry)
            # Without a backend, the worker owns every pool.
            coordinator = coordination.PoolCoordinator(
                ha_conf.CONF, member_id='bench')
            registry.register(collector.WorkerCollector(
                rec, coordinator, lambda: reconciler.targets))
            return registry, rec

        def test_metrics(self):
            _pools, hosts, vms = self.SIZES['one']
            reconciler, names, setup = self._start(1, hosts, vms)
            [pool] = names
            bench_reconcile.progress('set up in %.0f s' % setup)
            reconciler.client(pool).read_ha_state()
            registry, rec = self._metrics(reconciler)
            f = {'vms': vms, 'hosts': hosts}
            off, on, record = [], [], []
            for i in range(2 * ROUNDS):
                # Alternate which comes first: the second pass of a pair
                # finds warmer caches.
                metrics_on = (i % 2) == (i // 2) % 2
                start = time.monotonic()
                report = reconciler.reconcile_pool(self.ctxt, pool)
                if not metrics_on:
                    off.append(time.monotonic() - start)
                else:
                    recorded = time.monotonic()
                    rec.record(report, 'periodic')
                    end = time.monotonic()
                    on.append(end - start)
                    record.append(end - recorded)
                assert report.error is None and not report.results
            f['in_sync'] = {'off': statistics.median(off),
                            'on': statistics.median(on),
                            'record': statistics.median(record),
                            'instances': len(report.snapshot.vms)}
            f['record_in_sync'] = _median_seconds(
                lambda: rec.record(report, 'periodic'))
            bench_reconcile.progress('in-sync passes done')

            self._move(pool, 50, hosts)
            moved = reconciler.reconcile_pool(self.ctxt, pool)
            f['record_moved'] = _median_seconds(
                lambda: rec.record(moved, 'periodic'))
            f['moved'] = moved.count(kind='relocate', status='applied')
            victim = bench_reconcile.host_name(0, hosts - 1)
            self.sim.do(pool, 'fail_host', host=victim)
            self.sim.do(pool, 'wait_until_quiet', timeout=60)
            failed = reconciler.reconcile_pool(self.ctxt, pool)
            f['record_failed'] = _median_seconds(
                lambda: rec.record(failed, 'event'))
            f['failed'] = (failed.count(kind='relocate', status='applied'),
                           failed.count(kind='skip'))
            bench_reconcile.progress('relocation passes done')

            text = prometheus_client.generate_latest(registry)
            f['scrape_one'] = (_median_seconds(
                lambda: prometheus_client.generate_latest(registry)),
                len(text))
            # 99 more pools, as a worker owning 100 would have them.
            for p in range(1, 100):
                rec.record(dataclasses.replace(
                    failed, pool='pool-x%02d' % p), 'event')
            targets = dict(reconciler.targets)
            reconciler._targets.update(
                {'pool-x%02d' % p: targets[pool] for p in range(1, 100)})
            text = prometheus_client.generate_latest(registry)
            f['scrape_many'] = (_median_seconds(
                lambda: prometheus_client.generate_latest(registry), 20),
                len(text))
            self.figures['one'] = f

    return MetricsBenchmark


def _child(small):
    # Nova's functional harness wants eventlet patching before anything.
    from nova import monkey_patch
    monkey_patch.patch()

    case = _bench_case()
    if small:
        case.SIZES = bench_reconcile.SMALL
    if not benchmarks.run_cases(case, ('test_metrics',)):
        return 1
    _report(case.figures['one'])
    return 0


def _report(f):
    sync = f['in_sync']
    print('One pool of %d hosts and %s VMs; medians.'
          % (f['hosts'], '{:,}'.format(f['vms'])))
    print()
    print('| in-sync pass (%d pairs, each first in half) | metrics off | '
          'metrics on | difference |' % ROUNDS)
    print('|---|---:|---:|---:|')
    print('| `reconcile_pool` (+ `record()` when on) | %.3f s | %.3f s | '
          '%+.3f s |' % (sync['off'], sync['on'], sync['on'] - sync['off']))
    print()
    print('| timed alone (median of %d) | figure |' % REPEATS)
    print('|---|---:|')
    print('| `record()` in the passes above | %.1f us |'
          % (sync['record'] * 1e6))
    print('| `record()` of an in-sync report | %.1f us |'
          % (f['record_in_sync'] * 1e6))
    print('| `record()` of a report with %d relocations | %.1f us |'
          % (f['moved'], f['record_moved'] * 1e6))
    print('| `record()` of a host failure\'s report (%d relocations, %d '
          'skips) | %.1f us |' % (f['failed'][0], f['failed'][1],
                                  f['record_failed'] * 1e6))
    print('| scrape, 1 pool (%s bytes) | %.2f ms |'
          % ('{:,}'.format(f['scrape_one'][1]), f['scrape_one'][0] * 1e3))
    print('| scrape, 100 pools (%s bytes) | %.2f ms |'
          % ('{:,}'.format(f['scrape_many'][1]),
             f['scrape_many'][0] * 1e3))


if __name__ == '__main__':
    if '--child' in sys.argv:
        sys.exit(_child('--small' in sys.argv))
    main(small='--small' in sys.argv)
