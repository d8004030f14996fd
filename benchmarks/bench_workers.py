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

"""Several nova-ha-reconciler workers: passes per minute, and rebalancing.

    python -m benchmarks workers        # about 5 minutes on 2 cores

Real processes, set up by the harness the functional tests use too
(:mod:`nova_ha_ext.testing.workers`): Nova's databases on SQLite, a real
placement service, ``nova-ha-xapi-simulator`` serving 30 HA pools of 3
hosts and 20 VMs (600 instances), and ``nova-ha-reconciler`` workers with
``[ha_reconciler] interval = 1`` and ``watch_events`` on.

* Passes per minute with 1, 2 and 3 workers coordinating through a
  ``file://`` directory: a worker is added, the pools are shared out as
  the workers compute them, and for :data:`WINDOW` seconds the full passes are
  counted: a full pass of a pool reads it with one
  ``VM.get_all_records_where``, which the simulator counts per pool (the
  watchers' ``event.from`` calls are not counted, and no event-driven pass
  runs: nothing changes).
* Rebalancing after a worker dies: three workers, :data:`KILLS` times a
  worker owning pools is killed with SIGKILL (all its processes), and the
  time from the kill to the moment the survivors own every pool is taken
  from their "Worker X reconciles N of M pools" log lines; then a
  replacement with the same ``member_id`` starts and the next kill waits
  until it has its share back. Through the ``file://`` directory, then
  through a ``redis-server`` on 127.0.0.1 where Debian's is installed.

Nothing runs in this process but the harness (no eventlet, no Nova
in-process): ``main()`` measures here. Nothing here asserts a time.
"""

import os
import shutil
import statistics
import sys
import tempfile
import time

import benchmarks
from nova_ha_ext.testing import workers

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRESS = 'bench_workers:'
POOLS = 30
HOSTS = 3
VMS = 20
INTERVAL = 1
MEMBER_TIMEOUT = 3
HEARTBEAT_INTERVAL = 0.5
#: Seconds over which passes are counted, per number of workers.
WINDOW = 30
#: Seconds between a worker count's balanced shares and its window.
WARM_UP = 5
KILLS = 10
#: The call that a full pass of a pool makes once (``read_pool``).
PASS_CALL = 'VM.get_all_records_where'


def progress(message):
    """A line on stderr, so that a long run shows where it is."""
    sys.__stderr__.write('%s %s\n' % (PROGRESS, message))
    sys.__stderr__.flush()


def main():
    """Measure, and print the figures; progress lines go to stderr."""
    return _measure()


def _pass_calls(cloud):
    """Full passes so far: ``VM.get_all_records_where`` calls, all pools."""
    return sum(cloud.simulator.get(pool, 'calls').get(PASS_CALL, 0)
               for pool in cloud.pool_names)


def passes_per_minute(cloud, members):
    """Add the workers one by one; count the passes with each count.

    :returns: one dict per number of workers.
    """
    rows = []
    for count in range(1, len(members) + 1):
        cloud.start_workers(members[count - 1:count])
        cloud.wait_balanced(timeout=120)
        time.sleep(WARM_UP)
        before, start = _pass_calls(cloud), time.monotonic()
        time.sleep(WINDOW)
        after, end = _pass_calls(cloud), time.monotonic()
        per_minute = (after - before) * 60.0 / (end - start)
        shares = sorted((len(line.pools) for line in
                         cloud.ownership().values()), reverse=True)
        rows.append({'workers': count, 'per_minute': per_minute,
                     'shares': shares})
        progress('%d worker(s): %.0f pool passes per minute'
                 % (count, per_minute))
    return rows


def rebalance(cloud, members, kills):
    """Kill a worker ``kills`` times; time the survivors' takeover.

    :returns: ``(takeovers, rejoins)`` in seconds: from each SIGKILL to
        every pool owned by a survivor, and from each replacement's start
        to the three sharing the pools again.
    """
    takeovers, rejoins = [], []
    for k in range(kills):
        owners = cloud.ownership()
        owning = [m for m in members if owners[m].pools]
        victim = owning[k % len(owning)]
        killed_at = cloud.workers[victim].kill()
        _, moment = cloud.wait_balanced(timeout=60, since=killed_at)
        takeovers.append(moment - killed_at)
        started_at = time.time()
        cloud.start_worker(victim)
        workers.wait_for(lambda: cloud.workers[victim].joined(), 60,
                         '%s joining again' % victim, cloud.logs)
        _, moment = cloud.wait_balanced(timeout=60, since=started_at)
        rejoins.append(moment - started_at)
        progress('kill %d of %d (%s): taken over in %.2f s, back in %.2f s'
                 % (k + 1, kills, victim, takeovers[-1], rejoins[-1]))
    return takeovers, rejoins


def _measure():
    members = ['worker-1', 'worker-2', 'worker-3']
    figures = {'rebalance': []}
    began = time.monotonic()
    tmp = tempfile.mkdtemp(prefix='bench-workers-')
    try:
        progress('setting up %d pools of %d hosts and %d VMs'
                 % (POOLS, HOSTS, VMS))
        cloud = workers.Deployment(
            os.path.join(tmp, 'cloud'), pools=POOLS, hosts=HOSTS, vms=VMS,
            interval=INTERVAL, member_timeout=MEMBER_TIMEOUT,
            heartbeat_interval=HEARTBEAT_INTERVAL)
        with cloud:
            figures['setup'] = time.monotonic() - began
            cloud.set_backend(workers.FileBackend(
                os.path.join(tmp, 'coordination')))
            figures['passes'] = passes_per_minute(cloud, members)
            progress('file backend: %d kills' % KILLS)
            figures['rebalance'].append(
                ('`file://` directory',) + rebalance(cloud, members, KILLS))
            cloud.stop_workers()
            if workers.redis_server_binary():
                cloud.set_backend(workers.RedisServer(
                    os.path.join(tmp, 'redis')))
                cloud.start_workers(members)
                cloud.wait_balanced(timeout=120)
                progress('redis backend: %d kills' % KILLS)
                figures['rebalance'].append(
                    ('`redis-server` on 127.0.0.1',) +
                    rebalance(cloud, members, KILLS))
                cloud.stop_workers()
            else:
                figures['no_redis'] = True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _report(figures, time.monotonic() - began)
    return 0


def _report(figures, total):
    cpu, cores, python = benchmarks.machine()
    print('## Reconciler workers')
    print()
    print('Command: `python -m benchmarks workers` '
          '(`benchmarks/bench_workers.py`), on %s, `nproc` %d, Python %s; '
          'measured in %.0f s (set-up %.0f s).'
          % (cpu, cores, python, total, figures['setup']))
    print()
    print('Real processes on this one machine: `nova-ha-reconciler` '
          'workers, Nova\'s databases on SQLite, placement (its WSGI '
          'application, threaded `wsgiref` server, SQLite), and '
          '`nova-ha-xapi-simulator` with %d HA pools of %d hosts and %d VMs '
          '(%d instances). `[ha_reconciler] interval = %d`, `watch_events` '
          'on; `[coordination] member_timeout = %d`, `heartbeat_interval = '
          '%g`.' % (POOLS, HOSTS, VMS, POOLS * VMS, INTERVAL, MEMBER_TIMEOUT,
                    HEARTBEAT_INTERVAL))
    print()
    print('### Passes per minute (`file://` backend)')
    print()
    print('Full passes of a pool counted by its `%s` calls over %d s, after '
          'the pools were shared out and %d s more; nothing changes in the '
          'pools, so no event-driven pass runs.' % (PASS_CALL, WINDOW,
                                                    WARM_UP))
    print()
    print('| workers | pools per worker | pool passes per minute | passes '
          'of each pool per minute | seconds between two passes of a '
          'pool |')
    print('|---:|---|---:|---:|---:|')
    for row in figures['passes']:
        each = row['per_minute'] / POOLS
        print('| %d | %s | %.0f | %.1f | %.2f |'
              % (row['workers'], ', '.join(map(str, row['shares'])),
                 row['per_minute'], each, 60.0 / each if each else 0.0))
    print()
    print('A worker starts a full pass every `interval`, or at once when '
          'the previous one took longer: at most %d passes of each pool a '
          'minute, %d in all, whatever the number of workers.'
          % (60 // INTERVAL, POOLS * 60 // INTERVAL))
    print()
    print('### Rebalancing after a worker dies')
    print()
    print('Three workers; %d times a worker owning pools is killed with '
          'SIGKILL (its launcher and the forked process that reconciles), '
          'then a replacement with the same `member_id` is started. '
          'Takeover: from the kill to the last survivor\'s "Worker X '
          'reconciles N of M pools" log line that makes every pool owned '
          'by a survivor (shares as the survivors compute them). '
          'Back: from the replacement\'s start (a new process: Python, '
          'Nova and oslo imports) to the three sharing the pools again.'
          % KILLS)
    print()
    print('| backend | takeover median | takeover max | back median | '
          'back max |')
    print('|---|---:|---:|---:|---:|')
    for name, takeovers, rejoins in figures['rebalance']:
        print('| %s | %.2f s | %.2f s | %.2f s | %.2f s |'
              % (name, statistics.median(takeovers), max(takeovers),
                 statistics.median(rejoins), max(rejoins)))
    if figures.get('no_redis'):
        print()
        print('(redis-server is not installed here: no redis row.)')
    print()
    print('The bound is `member_timeout + heartbeat_interval` (%.1f s) for '
          'the survivors to see the worker gone, plus the end of the pass '
          'under way before they log their new shares.'
          % (MEMBER_TIMEOUT + HEARTBEAT_INTERVAL))


if __name__ == '__main__':
    print('machine: %s, %d cores, Python %s' % benchmarks.machine())
    sys.exit(main())
