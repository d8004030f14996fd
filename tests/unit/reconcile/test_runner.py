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

"""Which snapshot an event-driven pass gets; passes on a pool of threads."""

import collections
import dataclasses
import queue
import threading
import time
import types

from oslo_config import cfg
import pytest

from nova_ha_ext import conf as ha_conf
from nova_ha_ext.reconcile import runner


@dataclasses.dataclass
class Snapshot:
    read_at: float


class _Coordinator:
    """A coordinator whose share of the pools the test sets."""

    coordinated = True
    member_id = 'worker-1'
    heartbeat_interval = 0.1

    def __init__(self, mine):
        self.mine = set(mine)
        self.on_change = None
        self.pools = None
        self.calls = []

    def start(self, wait=True):
        self.calls.append('start')

    def stop(self):
        self.calls.append('stop')

    def set_pools(self, names):
        self.pools = sorted(names)

    def owns(self, name):
        return name in self.mine

    def change(self, mine):
        """Workers came or went: this worker now owns ``mine``."""
        self.mine = set(mine)
        self.on_change(self)


class _Passes:
    """A reconciler that records each pass, as (pool, snapshot).

    ``hold(pool)`` makes the passes of the pool wait until ``go(pool)``;
    ``skip_next(pool)`` makes its next pass report that it was skipped
    (another worker still held the pool's lock).
    """

    def __init__(self, pools, calls=None):
        self.targets = {name: types.SimpleNamespace(name=name, error=None)
                        for name in pools}
        self.passes = queue.Queue()
        self.calls = calls if calls is not None else []
        self._gates = {}
        self._skip = set()

    def hold(self, pool):
        self._gates[pool] = threading.Event()

    def go(self, pool):
        self._gates.pop(pool).set()

    def skip_next(self, pool):
        self._skip.add(pool)

    def discover(self, context):
        return list(self.targets.values())

    def reconcile_pool(self, context, name, snapshot=None):
        self.passes.put((name, snapshot))
        gate = self._gates.get(name)
        if gate is not None:
            gate.wait(30)
        skipped = None
        if name in self._skip:
            self._skip.discard(name)
            skipped = 'lock held by another worker'
        return types.SimpleNamespace(pool=name, skipped=skipped)

    def next_pass(self, timeout=10):
        return self.passes.get(timeout=timeout)

    def close(self):
        self.calls.append('close')


def _conf(interval=3600):
    conf = cfg.ConfigOpts()
    ha_conf.register_opts(conf)
    conf([])
    conf.set_override('watch_events', False, 'ha_reconciler')
    conf.set_override('interval', interval, 'ha_reconciler')
    return conf


@pytest.fixture
def runner_for(request):
    """Start a runner on fakes; stopped and its overrides reset after."""
    def start(passes, coordinator, **conf_kw):
        conf = _conf(**conf_kw)
        reports = queue.Queue()
        run = runner.ReconcilerRunner(
            conf, context_factory=lambda: 'ctx', reconciler=passes,
            on_report=reports.put, coordinator=coordinator)
        coordinator.on_change = run.members_changed
        run.start()
        # The option groups are shared with every ConfigOpts that
        # registers them, and so are their overrides.
        request.addfinalizer(conf.reset)
        request.addfinalizer(run.stop)
        return run, reports
    return start


def test_passes_only_the_pools_it_owns(runner_for):
    passes = _Passes(['pool-a', 'pool-b', 'pool-c'])
    coord = _Coordinator(['pool-b'])
    run, _ = runner_for(passes, coord)

    assert passes.next_pass() == ('pool-b', None)
    # Every pool discovered is shared out, not only this worker's.
    assert coord.pools == ['pool-a', 'pool-b', 'pool-c']
    # A watcher's trigger for a pool of another worker makes no pass.
    run.trigger('pool-a', Snapshot(read_at=time.monotonic()))
    run.trigger('pool-b')
    assert passes.next_pass() == ('pool-b', None)
    assert passes.passes.empty()


def test_a_change_of_workers_starts_a_full_pass_at_once(runner_for):
    passes = _Passes(['pool-a', 'pool-b'])
    coord = _Coordinator(['pool-a'])
    run, reports = runner_for(passes, coord)
    assert passes.next_pass() == ('pool-a', None)
    assert reports.get(timeout=10).pool == 'pool-a'

    # Long before the next period (an hour): the pool it gained now.
    coord.change(['pool-b'])

    assert passes.next_pass() == ('pool-b', None)
    assert passes.passes.empty()


def test_a_pass_skipped_for_a_held_lock_is_tried_again_soon(runner_for):
    passes = _Passes(['pool-a'])
    passes.skip_next('pool-a')
    run, reports = runner_for(passes, _Coordinator(['pool-a']))

    assert passes.next_pass() == ('pool-a', None)
    assert reports.get(timeout=10).skipped is not None
    # A full pass again within about a heartbeat (at least 1 s), not an
    # interval (an hour) later.
    assert passes.next_pass(timeout=5) == ('pool-a', None)
    assert reports.get(timeout=10).skipped is None


def test_stop_leaves_the_group_after_its_last_pass(runner_for):
    calls = []
    passes = _Passes(['pool-a'], calls)
    coord = _Coordinator(['pool-a'])
    coord.calls = calls
    run, reports = runner_for(passes, coord)
    assert reports.get(timeout=10).pool == 'pool-a'

    run.stop()

    assert calls == ['start', 'close', 'stop']


def test_an_event_pass_gets_a_fresh_watcher_snapshot_once(runner_for):
    passes = _Passes(['pool-a'])
    passes.hold('pool-a')
    run, _ = runner_for(passes, _Coordinator(['pool-a']))
    assert passes.next_pass() == ('pool-a', None)
    snapshot = Snapshot(read_at=time.monotonic())

    run.trigger('pool-a', snapshot)
    passes.go('pool-a')

    assert passes.next_pass() == ('pool-a', snapshot)
    run.trigger('pool-a')
    assert passes.next_pass() == ('pool-a', None)


def test_a_stale_snapshot_makes_the_pass_read_the_pool(runner_for):
    passes = _Passes(['pool-a'])
    passes.hold('pool-a')
    run, _ = runner_for(passes, _Coordinator(['pool-a']))
    assert passes.next_pass() == ('pool-a', None)

    run.trigger('pool-a', Snapshot(
        read_at=time.monotonic() - runner.SNAPSHOT_MAX_AGE - 0.1))
    passes.go('pool-a')

    assert passes.next_pass() == ('pool-a', None)


def test_a_trigger_without_snapshot_drops_an_older_one(runner_for):
    passes = _Passes(['pool-a'])
    passes.hold('pool-a')
    run, _ = runner_for(passes, _Coordinator(['pool-a']))
    assert passes.next_pass() == ('pool-a', None)

    run.trigger('pool-a', Snapshot(read_at=time.monotonic()))
    run.trigger('pool-a')
    passes.go('pool-a')

    # One pass for both triggers, and it reads the pool.
    assert passes.next_pass() == ('pool-a', None)


# Passes on a bounded pool of threads

class _Reconciler:
    """Passes that block until a test lets them end."""

    def __init__(self, pools):
        self.targets = {name: types.SimpleNamespace(name=name, error=None)
                        for name in pools}
        self.release = {name: threading.Event() for name in pools}
        self.started = queue.Queue()
        self.running = collections.Counter()
        self.most_at_once = collections.Counter()
        self._lock = threading.Lock()

    def discover(self, context):
        return list(self.targets.values())

    def reconcile_pool(self, context, name, snapshot=None):
        with self._lock:
            self.running[name] += 1
            self.most_at_once[name] = max(self.most_at_once[name],
                                          self.running[name])
        self.started.put(name)
        self.release[name].wait(30)
        with self._lock:
            self.running[name] -= 1
        return types.SimpleNamespace(pool=name, skipped=None)

    def close(self):
        pass


@pytest.fixture
def conf(reconciler_conf):
    return reconciler_conf


def _started_runner(conf, reconciler):
    reports = queue.Queue()
    # The real coordinator: without a backend it owns every pool.
    run = runner.ReconcilerRunner(
        conf, context_factory=lambda: None, reconciler=reconciler,
        on_report=reports.put)
    run.start()
    return run, reports


def test_a_blocked_pool_does_not_hold_back_another_pools_pass(conf):
    rec = _Reconciler(['pool-fast', 'pool-slow'])
    run, reports = _started_runner(conf, rec)
    try:
        # The first full pass starts both pools at once.
        assert {rec.started.get(timeout=10),
                rec.started.get(timeout=10)} == {'pool-fast', 'pool-slow'}
        rec.release['pool-fast'].set()
        assert reports.get(timeout=10).pool == 'pool-fast'
        # An event-driven pass of the fast pool runs while the slow pool's
        # first pass is still under way.
        run.trigger('pool-fast')
        assert rec.started.get(timeout=10) == 'pool-fast'
        assert reports.get(timeout=10).pool == 'pool-fast'
        assert rec.running['pool-slow'] == 1
    finally:
        rec.release['pool-slow'].set()
        run.stop()


def test_passes_of_one_pool_never_overlap_and_coalesce(conf):
    rec = _Reconciler(['pool-a'])
    run, reports = _started_runner(conf, rec)
    try:
        assert rec.started.get(timeout=10) == 'pool-a'
        for _ in range(5):
            run.trigger('pool-a')
        rec.release['pool-a'].set()
        assert reports.get(timeout=10).pool == 'pool-a'
        # The five triggers during the pass make one more pass, not five.
        assert rec.started.get(timeout=10) == 'pool-a'
        assert reports.get(timeout=10).pool == 'pool-a'
        run.trigger('pool-a')
        assert rec.started.get(timeout=10) == 'pool-a'
        assert reports.get(timeout=10).pool == 'pool-a'
    finally:
        run.stop()
    assert rec.started.empty()
    assert rec.most_at_once['pool-a'] == 1


# The clients the watchers use

class _WatchClient:
    """A client whose long polls return nothing until the watcher stops."""

    def __init__(self):
        self.closed = threading.Event()

    def event_from(self, classes, token, timeout):
        self.closed.wait(timeout)
        return {'token': token or '1', 'events': []}

    def close(self):
        self.closed.set()


def test_the_watchers_clients_come_from_the_reconcilers_client_factory(
        conf):
    """A custom ``client_factory`` makes the watchers' clients as well.

    It is told how long their polls wait.
    """
    from nova_ha_ext.reconcile import discovery
    from nova_ha_ext.reconcile import engine
    made = queue.Queue()

    def client_factory(target, long_poll=None):
        client = _WatchClient()
        made.put((target.name, long_poll, client))
        return client

    conf.set_override('event_timeout', 7.0, 'ha_reconciler')
    target = discovery.PoolTarget(name='pool-a', url='https://xs-a1',
                                  aggregate_id=1)
    run = runner.ReconcilerRunner(
        conf, context_factory=lambda: None, coordinator=object(),
        reconciler=engine.Reconciler(conf, client_factory=client_factory,
                                     coordinator=object()))
    run._sync_watchers([target])
    try:
        name, long_poll, client = made.get(timeout=10)
        assert (name, long_poll) == ('pool-a', 7.0)
    finally:
        for w in run._watchers.values():
            w.stop(0)
        client.close()
        for w in run._watchers.values():
            w.stop(10)
