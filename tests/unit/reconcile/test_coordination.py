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

"""PoolCoordinator against tooz's real file driver, in a temporary directory.

Workers run in-process (each with its own tooz coordinator and heartbeat
thread) and, to test a SIGKILL, in a child process.
"""

import collections
import hashlib
import logging
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import fixtures
from oslo_concurrency import lockutils
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from nova_ha_ext import conf as ha_conf
from nova_ha_ext.reconcile import backend
from nova_ha_ext.reconcile import coordination
from nova_ha_ext.reconcile import guard
from nova_ha_ext.testing import waiting

ROOT = pathlib.Path(__file__).resolve().parents[3]
POOLS = ['pool-a', 'pool-b', 'pool-c', 'pool-d', 'pool-e', 'pool-f']
PASSWORD = 'hunter2-pw'
MEMBER_TIMEOUT = 1
HEARTBEAT = 0.1

# A worker in a child process: it joins, locks the first pool it owns,
# prints it and holds on until it is killed.
CHILD_WORKER = """
import sys
from oslo_config import cfg
from nova_ha_ext import conf as ha_conf
from nova_ha_ext.reconcile import coordination
from nova_ha_ext.testing import waiting
conf = cfg.ConfigOpts()
ha_conf.register_opts(conf)
conf([])
conf.set_override('backend_url', sys.argv[1], 'coordination')
conf.set_override('member_timeout', 1, 'coordination')
conf.set_override('heartbeat_interval', 0.1, 'coordination')
worker = coordination.PoolCoordinator(conf, member_id='child')
worker.set_pools(sys.argv[2:])
worker.start()
waiting.wait_for(lambda: len(worker.members()) >= 2, 5, 'two members')
owned = worker.owned(sys.argv[2:])
lock = worker.lock(owned[0])
lock.__enter__()
print(' '.join(owned), flush=True)
sys.stdin.read()  # holds on until the test kills it or closes stdin
"""

# A single worker in a child process holding this host's guard.
CHILD_GUARD = """
import sys
from oslo_concurrency import lockutils
from oslo_config import cfg
from nova_ha_ext import conf as ha_conf
from nova_ha_ext.reconcile import guard
conf = cfg.ConfigOpts()
ha_conf.register_opts(conf)
lockutils.get_lock_path(conf)
conf([])
conf.set_override('lock_path', sys.argv[1], 'oslo_concurrency')
held = guard.single_worker_guard(conf)
print('held' if held.held else 'not held', flush=True)
sys.stdin.read()  # holds on until the test kills it or closes stdin
"""


def wait_for(predicate, timeout):
    """Poll ``predicate`` until true; return the seconds it took."""
    start = time.monotonic()
    waiting.wait_for(predicate, timeout)
    return time.monotonic() - start


def locked_in_another_thread(coordinator, pool):
    """Whether another thread of this process finds the pool locked."""
    errors = []

    def other_thread():
        try:
            with coordinator.lock(pool):
                pass
        except coordination.PoolLocked as exc:
            errors.append(exc)
    t = threading.Thread(target=other_thread)
    t.start()
    t.join()
    return len(errors) == 1


class CoordinationTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.backend_dir = os.path.join(tmp, 'tooz')
        self.lock_dir = os.path.join(tmp, 'locks')
        # A password in the URL, to check that it is never shown.
        self.url = 'file://nova:%s@%s' % (PASSWORD, self.backend_dir)
        self.log = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))

    def make_conf(self, **overrides):
        conf = cfg.ConfigOpts()
        ha_conf.register_opts(conf)
        lockutils.get_lock_path(conf)   # registers [oslo_concurrency]
        conf([])
        fix = self.useFixture(config_fixture.Config(conf))
        settings = {'backend_url': self.url, 'member_timeout': MEMBER_TIMEOUT,
                    'heartbeat_interval': HEARTBEAT}
        settings.update(overrides)
        fix.config(group='coordination', **settings)
        fix.config(group='oslo_concurrency', lock_path=self.lock_dir)
        return conf

    def worker(self, member_id, conf=None, **kw):
        worker = coordination.PoolCoordinator(conf or self.make_conf(),
                                              member_id=member_id, **kw)
        worker.set_pools(POOLS)
        self.assertTrue(worker.start())
        self.addCleanup(worker.stop)
        return worker

    def assert_no_password_shown(self):
        self.assertNotIn(PASSWORD, self.log.output)

    def assert_partitioned(self, workers, pools=POOLS):
        """Each pool owned by exactly one of ``workers``; return owners."""
        owners = {}
        for pool in pools:
            holders = [w.member_id for w in workers if w.owns(pool)]
            self.assertEqual(1, len(holders), '%s owned by %s'
                             % (pool, holders))
            owners[pool] = holders[0]
        return owners


class TestPartitioning(CoordinationTestCase):

    def test_three_workers_share_six_pools_two_each(self):
        workers = [self.worker(name) for name in ('w1', 'w2', 'w3')]
        for w in workers:
            self.assertTrue(w.refresh())
            self.assertEqual(['w1', 'w2', 'w3'], w.members())

        owners = self.assert_partitioned(workers)

        self.assertEqual({'w1': 2, 'w2': 2, 'w3': 2},
                         collections.Counter(owners.values()))
        for w in workers:
            self.assertEqual(owners, w.owners(POOLS))
            self.assertEqual([p for p in POOLS if owners[p] == w.member_id],
                             w.owned(POOLS))
        # The read-only view of nova-ha-manage status agrees.
        self.assertEqual(owners, coordination.pool_owners(self.make_conf(),
                                                          POOLS))
        self.assert_no_password_shown()

    def test_two_workers_share_four_pools_two_each(self):
        pools = POOLS[:4]
        workers = [self.worker(name) for name in ('w1', 'w2')]
        for w in workers:
            w.set_pools(pools)
            self.assertTrue(w.refresh())

        owners = self.assert_partitioned(workers, pools)

        self.assertEqual({'w1': 2, 'w2': 2},
                         collections.Counter(owners.values()))

    def test_a_pool_not_discovered_yet_is_placed_as_if_added(self):
        w1, w2 = (self.worker(name) for name in ('w1', 'w2'))
        for w in (w1, w2):
            w.refresh()
        later = POOLS + ['pool-g']
        expected = coordination.pool_owners(self.make_conf(), later)

        self.assertEqual(expected['pool-g'], w1.owners(['pool-g'])['pool-g'])
        for w in (w1, w2):
            w.set_pools(later)
        self.assertEqual(expected, w1.owners(later))

    def test_a_worker_that_leaves_hands_its_pools_over(self):
        w1, w2, w3 = (self.worker(name) for name in ('w1', 'w2', 'w3'))
        for w in (w1, w2, w3):
            w.refresh()
        self.assertTrue(w2.owned(POOLS))

        w2.stop()

        self.assertEqual([], w2.owned(POOLS))
        # The others' heartbeat threads see it within heartbeat_interval.
        wait_for(lambda: len(w1.owned(POOLS) + w3.owned(POOLS)) == 6,
                 timeout=HEARTBEAT * 5)
        self.assert_partitioned([w1, w3])
        self.assertEqual(['w1', 'w3'], w1.members())
        owners = coordination.pool_owners(self.make_conf(), POOLS)
        self.assertEqual({'w1', 'w3'}, set(owners.values()))

    def test_a_silent_worker_loses_its_pools_within_member_timeout(self):
        w1, w2, w3 = (self.worker(name) for name in ('w1', 'w2', 'w3'))
        for w in (w1, w2, w3):
            w.refresh()
        self.assertTrue(w2.owned(POOLS))

        # w2 hangs: its heartbeat stops, it neither leaves nor dies.
        w2._halt.set()
        w2._thread.join()
        start = time.monotonic()

        # At no moment do two workers (the hung one included) own a pool:
        # w2 gives its pools up after stale_after, before the others take
        # them after member_timeout.
        while len(w1.owned(POOLS) + w3.owned(POOLS)) < 6:
            for pool in POOLS:
                holders = [w.member_id for w in (w2, w1, w3)
                           if w.owns(pool)]
                self.assertLessEqual(len(holders), 1,
                                     '%s owned by %s' % (pool, holders))
            self.assertLess(time.monotonic() - start,
                            MEMBER_TIMEOUT + HEARTBEAT + 1.0)
            time.sleep(0.01)  # a look at every moment, not a wait
        took = time.monotonic() - start

        self.assertGreater(took, w2.stale_after - HEARTBEAT)
        self.assertEqual([], w2.owned(POOLS))
        self.assertFalse(w2.healthy)
        self.assert_partitioned([w1, w3])
        self.assertIn('has not heartbeaten', self.log.output)

    def test_a_killed_worker_loses_its_pools_and_its_locks(self):
        w1 = self.worker('w1')
        child = subprocess.Popen(
            [sys.executable, '-c', CHILD_WORKER, self.url] + POOLS,
            cwd=str(ROOT), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT)))
        self.addCleanup(child.wait)
        self.addCleanup(child.kill)
        child_pools = child.stdout.readline().split()
        self.assertTrue(child_pools, 'the child worker owned no pool')
        w1.refresh()
        self.assertEqual(['child', 'w1'], w1.members())
        self.assertEqual(sorted(set(POOLS) - set(child_pools)),
                         sorted(w1.owned(POOLS)))
        self.assertRaises(coordination.PoolLocked, w1.lock(
            child_pools[0], check_owner=False).__enter__)

        child.send_signal(signal.SIGKILL)
        child.wait()
        took = wait_for(lambda: len(w1.owned(POOLS)) == 6,
                        timeout=MEMBER_TIMEOUT + HEARTBEAT + 1.0)

        self.assertLess(took, MEMBER_TIMEOUT + HEARTBEAT + 1.0)
        self.assertEqual(['w1'], w1.members())
        # The kernel freed the child's lock when it died.
        with w1.lock(child_pools[0]) as held:
            self.assertTrue(held.held())

    def test_joiners_trigger_on_change(self):
        changes = threading.Event()
        w1 = self.worker('w1', on_change=lambda c: changes.set())
        changes.clear()
        self.worker('w2')
        self.assertTrue(changes.wait(HEARTBEAT * 10))
        wait_for(lambda: w1.members() == ['w1', 'w2'], timeout=HEARTBEAT * 5)

    def test_a_dropped_worker_joins_again(self):
        # As when the others dropped it after a long pause (redis), or the
        # backend lost its data.
        w1 = self.worker('w1')
        group_dir = os.path.join(
            self.backend_dir, 'groups',
            hashlib.sha1(b'nova-ha-reconciler').hexdigest())
        os.unlink(os.path.join(group_dir,
                               hashlib.sha1(b'w1').hexdigest() + '.raw'))

        self.assertTrue(w1.refresh())

        self.assertEqual(POOLS, w1.owned(POOLS))
        self.assertIn('dropped out of group', self.log.output)

    def test_a_stale_entry_of_the_same_member_id_is_replaced(self):
        first = self.worker('w1')
        first._halt.set()
        first._thread.join()
        time.sleep(MEMBER_TIMEOUT + 0.1)   # its entry is now stale

        second = coordination.PoolCoordinator(self.make_conf(),
                                              member_id='w1')
        self.addCleanup(second.stop)
        self.assertTrue(second.start())

        self.assertEqual(POOLS, second.owned(POOLS))
        self.assertIn('does not heartbeat; replacing it', self.log.output)


class TestLocks(CoordinationTestCase):

    def setUp(self):
        super().setUp()
        self.w1, self.w2 = self.worker('w1'), self.worker('w2')
        self.w1.refresh()
        self.w2.refresh()
        owners = self.assert_partitioned([self.w1, self.w2])
        self.mine = next(p for p in POOLS if owners[p] == 'w1')
        self.theirs = next(p for p in POOLS if owners[p] == 'w2')

    def test_a_pool_lock_excludes_other_workers_and_threads(self):
        manage = coordination.PoolCoordinator(self.make_conf(),
                                              member_id='manage')
        manage.start(join=False)
        self.addCleanup(manage.stop)

        with self.w1.lock(self.mine) as held:
            self.assertTrue(held.held())
            held.ensure()
            # Another worker, even ignoring ownership.
            self.assertRaises(coordination.PoolNotOwned,
                              self.w2.lock(self.mine).__enter__)
            self.assertRaises(coordination.PoolLocked, self.w2.lock(
                self.mine, check_owner=False).__enter__)
            # nova-ha-manage (not a member; owns nothing).
            self.assertEqual([], manage.owned(POOLS))
            self.assertRaises(coordination.PoolLocked,
                              manage.lock(self.mine).__enter__)
            # Another thread of the same worker.
            self.assertTrue(locked_in_another_thread(self.w1, self.mine))
            # Other pools are not affected.
            with self.w2.lock(self.theirs):
                pass

        with manage.lock(self.mine):
            pass
        with self.w2.lock(self.mine, check_owner=False):
            pass

    def test_lock_waits_up_to_its_timeout(self):
        taken, release = threading.Event(), threading.Event()

        def holder():
            with self.w1.lock(self.mine):
                taken.set()
                release.wait(5)
        t = threading.Thread(target=holder)
        t.start()
        self.addCleanup(t.join)
        self.assertTrue(taken.wait(5))
        threading.Timer(0.2, release.set).start()

        with self.w2.lock(self.mine, timeout=3, check_owner=False) as held:
            self.assertTrue(held.held())

    def test_a_worker_cannot_lock_a_pool_it_does_not_own(self):
        self.assertRaises(coordination.PoolNotOwned,
                          self.w1.lock(self.theirs).__enter__)
        self.w1.stop()
        self.assertRaises(coordination.PoolUnavailable,
                          self.w1.lock(self.mine).__enter__)


class TestBackendOutage(CoordinationTestCase):

    def test_an_unreachable_backend_owns_nothing_then_recovers(self):
        w1 = self.worker('w1')
        self.assertEqual(POOLS, w1.owned(POOLS))

        # The backend directory turns into a file: every call fails.
        os.rename(self.backend_dir, self.backend_dir + '.away')
        pathlib.Path(self.backend_dir).write_text('not a directory')
        for _ in range(3):
            self.assertFalse(w1.refresh())
        wait_for(lambda: not w1.refresh(), timeout=1)

        self.assertFalse(w1.healthy)
        self.assertEqual([], w1.owned(POOLS))
        self.assertRaises(coordination.PoolNotOwned,
                          w1.lock(POOLS[0]).__enter__)
        self.assertEqual(1, self.log.output.count('acts on no pool until it '
                                                  'answers again'))

        os.unlink(self.backend_dir)
        os.rename(self.backend_dir + '.away', self.backend_dir)
        self.assertTrue(w1.refresh())

        self.assertEqual(POOLS, w1.owned(POOLS))
        self.assertIn('answers again', self.log.output)
        self.assert_no_password_shown()

    def test_pool_owners_reports_an_unusable_backend(self):
        conf = self.make_conf(
            backend_url='file://nova:%s@/proc/no-such-dir' % PASSWORD)
        exc = self.assertRaises(coordination.CoordinationError,
                                coordination.pool_owners, conf, POOLS)
        self.assertNotIn(PASSWORD, str(exc))
        self.assertIn('nova:***@', str(exc))

    def test_pool_owners_without_workers(self):
        self.assertEqual({p: None for p in POOLS},
                         coordination.pool_owners(self.make_conf(), POOLS))


class TestSingleWorker(CoordinationTestCase):

    def test_a_single_worker_owns_every_pool(self):
        conf = self.make_conf(backend_url=None)
        only = coordination.PoolCoordinator(conf, member_id='only')
        self.assertTrue(only.start())
        self.addCleanup(only.stop)

        self.assertFalse(only.coordinated)
        self.assertEqual(POOLS, only.owned(POOLS))
        self.assertEqual(['only'], only.members())
        self.assertEqual({p: 'only' for p in POOLS}, only.owners(POOLS))
        self.assertEqual({p: coordination.SINGLE_WORKER for p in POOLS},
                         coordination.pool_owners(conf, POOLS))
        self.assertIn('Running more than one nova-ha-reconciler requires '
                      '[coordination] backend_url', self.log.output)
        with only.lock('pool-a') as held:
            self.assertTrue(held.held())
            self.assertTrue(locked_in_another_thread(only, 'pool-a'))
            with only.lock('pool-b'):
                pass

    def test_a_second_single_worker_on_the_host_is_refused(self):
        conf = self.make_conf(backend_url=None)
        first = coordination.PoolCoordinator(conf, member_id='first')
        first.start()
        self.addCleanup(first.stop)

        second = coordination.PoolCoordinator(conf, member_id='second')
        exc = self.assertRaises(coordination.WorkerAlreadyRunning,
                                second.start)
        self.assertIn('(pid %d)' % os.getpid(), str(exc))
        self.assertIn('[coordination] backend_url', str(exc))

        first.stop()
        self.assertTrue(second.start())
        second.stop()

    def test_the_guard_is_freed_when_its_process_is_killed(self):
        conf = self.make_conf(backend_url=None)
        child = subprocess.Popen(
            [sys.executable, '-c', CHILD_GUARD, self.lock_dir],
            cwd=str(ROOT), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT)))
        self.addCleanup(child.wait)
        self.addCleanup(child.kill)
        self.assertEqual('held', child.stdout.readline().strip())

        exc = self.assertRaises(coordination.WorkerAlreadyRunning,
                                guard.single_worker_guard, conf)
        self.assertIn('(pid %d)' % child.pid, str(exc))

        child.send_signal(signal.SIGKILL)
        child.wait()
        with guard.single_worker_guard(conf) as held:
            self.assertTrue(held.held)

    def test_no_guard_with_a_backend_or_without_a_lock_path(self):
        held = guard.single_worker_guard(self.make_conf())
        self.assertFalse(held.held)
        conf = self.make_conf(backend_url=None)
        conf.set_override('lock_path', None, 'oslo_concurrency')
        held = guard.single_worker_guard(conf)
        self.assertFalse(held.held)
        self.assertIn('cannot be detected', self.log.output)


class TestConfiguration(CoordinationTestCase):

    def check(self, **overrides):
        conf = self.make_conf(**overrides)
        return self.assertRaises(cfg.Error, ha_conf.check, conf)

    def test_a_good_configuration_passes(self):
        ha_conf.check(self.make_conf())
        ha_conf.check(self.make_conf(backend_url=None))

    def test_an_unknown_backend_lists_the_drivers(self):
        exc = self.check(backend_url='etcd://nova:%s@etcd:2379' % PASSWORD)
        message = str(exc)
        self.assertIn("invalid value for [coordination] backend_url: "
                      "unknown tooz backend 'etcd'", message)
        for driver in ('etcd3+http', 'file', 'redis', 'zookeeper'):
            self.assertIn(driver, message)
        self.assertIn('etcd://nova:***@etcd:2379', message)
        self.assertNotIn(PASSWORD, message)

    def test_a_lock_only_backend_is_refused(self):
        exc = self.check(backend_url='mysql://nova:%s@db/nova' % PASSWORD)
        self.assertIn("'mysql' only offers locks", str(exc))
        self.assertNotIn(PASSWORD, str(exc))

    def test_a_password_with_unencoded_delimiters_is_refused_masked(self):
        for secret in ('ab/cd+ef==', 'ab#cd', 'ab?cd'):
            exc = self.check(backend_url='redis://:%s@redis:6379' % secret)
            self.assertIn("holds a '/', '?' or '#' that is not "
                          "percent-encoded", str(exc))
            self.assertIn('redis://:***@redis:6379', str(exc))
            self.assertNotIn(secret, str(exc))
            self.assertNotIn(secret.split('/')[-1], str(exc))

    def test_a_url_without_a_scheme_is_refused(self):
        exc = self.check(backend_url='/var/lib/nova-ha-ext')
        self.assertIn('write it as DRIVER://', str(exc))
        exc = self.check(backend_url='localhost:6379')
        self.assertIn("unknown tooz backend 'localhost'", str(exc))

    def test_the_timeout_belongs_in_member_timeout(self):
        exc = self.check(backend_url=self.url + '?timeout=30')
        self.assertIn('set [coordination] member_timeout instead', str(exc))
        self.assertNotIn(PASSWORD, str(exc))

    def test_the_heartbeat_must_fit_in_the_member_timeout(self):
        exc = self.check(member_timeout=3, heartbeat_interval=1.5)
        self.assertIn('[coordination] heartbeat_interval', str(exc))
        self.assertIn('at most a third', str(exc))

    def test_options_reach_the_driver(self):
        sync = {'executor': 'synchronous'}
        self.assertEqual(dict(sync, timeout=7), backend.backend_options(
            'file:///tmp/x', 7))
        self.assertEqual(
            dict(sync, membership_timeout=7, lock_timeout=7),
            backend.backend_options('redis://h:6379?timeout=3', 7))
        self.assertEqual(sync, backend.backend_options('foo://h', 7))

    def test_lock_names_are_safe_keys_and_file_names(self):
        self.assertEqual(b'nova-ha-ext-pool-pool-a',
                         coordination.lock_name('pool-a'))
        self.assertEqual(b'nova-ha-ext-pool-a%2F..%2Fb%20c',
                         coordination.lock_name('a/../b c'))
