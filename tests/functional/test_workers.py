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

"""Three real nova-ha-reconciler processes share six simulated pools.

Each coordination backend gets a deployment of its own
(:class:`nova_ha_ext.testing.workers.Deployment`): SQLite databases for Nova,
a real placement service, six simulated HA pools of three hosts and nine
VMs, and three ``nova-ha-reconciler`` processes named ``worker-1`` to
``worker-3``, coordinating through a ``file://`` directory or through a
``redis-server`` on 127.0.0.1 (skipped where Debian's ``redis-server`` is
not installed; nothing is installed here).

1. Every pool is owned by exactly one worker, as the workers' logs and
   ``nova-ha-manage status`` say alike.
2. The worker owning the most pools is killed with SIGKILL and, at once, a
   host of one of its pools fails. Within :data:`TAKEOVER_BOUND` seconds
   the two survivors own every pool between them.
3. The failure is reconciled by a survivor: Nova's database has the
   protected VMs' instances on the hosts XenServer HA restarted them on,
   their allocations are on those hosts' providers, and each instance has
   one ``ha-relocate`` action and one "Relocated the instance" log line
   over all the workers' logs, also after some more passes.
4. The survivors stop gracefully on SIGTERM.

The workers' logs end every assertion message.
"""


import pytest

from nova_ha_ext.testing import workers

MEMBER_TIMEOUT = 3
HEARTBEAT_INTERVAL = 0.5
#: ``[ha_reconciler] interval``: a full pass every 2 s.
INTERVAL = 2
#: Seconds from a worker's SIGKILL to its pools being owned by the others.
#: They see it gone at their first heartbeat after ``member_timeout``
#: (``member_timeout + heartbeat_interval``), and log their new share when
#: the pass under way has ended; the rest is margin for a loaded machine.
#: A functional bound, not a benchmark: see ``python -m benchmarks
#: workers`` for the figures.
TAKEOVER_BOUND = MEMBER_TIMEOUT + 5.0
MEMBERS = ('worker-1', 'worker-2', 'worker-3')
POOLS = 6


@pytest.fixture(scope='module')
def templates(tmp_path_factory):
    """The migrated empty databases, made at the first use only."""
    made = {}

    def get():
        if not made:
            made.update(workers.make_templates(
                tmp_path_factory.mktemp('templates')))
        return made
    return get


@pytest.fixture(params=['file', 'redis'])
def cloud(request, tmp_path, templates):
    """A deployment coordinating through the backend of the parameter."""
    if request.param == 'redis' and workers.redis_server_binary() is None:
        pytest.skip('redis-server is not installed (Debian package '
                    'redis-server): the redis backend is not tested')
    deployment = workers.Deployment(
        tmp_path / 'cloud', pools=POOLS, hosts=3, vms=9,
        templates=templates(), interval=INTERVAL,
        member_timeout=MEMBER_TIMEOUT,
        heartbeat_interval=HEARTBEAT_INTERVAL)
    with deployment:
        if request.param == 'redis':
            backend = workers.RedisServer(tmp_path / 'redis')
        else:
            backend = workers.FileBackend(tmp_path / 'coordination')
        deployment.set_backend(backend)
        yield deployment


def _owner_of(owners):
    return {pool: member for member, line in owners.items()
            for pool in line.pools}


def _assert_status_agrees(cloud, owners):
    """``nova-ha-manage status`` names the same owner for every pool."""
    status = cloud.status()
    reported = {p['pool']: p['owner'] for p in status['pools']}
    assert reported == _owner_of(owners), (
        'nova-ha-manage status: %s; the workers\' logs: %s\n%s'
        % (reported, _owner_of(owners), cloud.logs()))
    assert set(reported) == set(cloud.pool_names), reported
    live = {w.member_id for w in cloud.live_workers()}
    assert set(reported.values()) <= live, cloud.logs()


def _failed_host(cloud, pool):
    """A host of ``pool`` other than the master, with protected VMs."""
    hosts = cloud.simulator.get(pool, 'hosts')
    vms = cloud.simulator.get(pool, 'vms')
    for host in hosts:
        if host['master']:
            continue
        protected = {vm['nova_uuid'] for vm in vms
                     if vm['host'] == host['hostname'] and
                     vm['ha_restart_priority'] == 'restart'}
        if protected:
            return host['hostname'], protected
    raise AssertionError('pool %s has no host to fail: %s' % (pool, vms))


def test_workers_share_the_pools_and_take_over_a_killed_one(cloud):
    cloud.start_workers(MEMBERS)
    owners, _ = cloud.wait_balanced(timeout=30)
    assert set(owners) == set(MEMBERS), cloud.logs()
    _assert_status_agrees(cloud, owners)

    victim = max(MEMBERS, key=lambda m: len(owners[m].pools))
    pool = owners[victim].pools[0]
    failed, protected = _failed_host(cloud, pool)

    killed_at = cloud.workers[victim].kill()
    cloud.simulator.do(pool, 'fail_host', host=failed)

    owners, moment = cloud.wait_balanced(timeout=TAKEOVER_BOUND + 20,
                                         since=killed_at)
    survivors = set(MEMBERS) - {victim}
    assert set(owners) == survivors, cloud.logs()
    assert moment is not None, cloud.logs()
    takeover = moment - killed_at
    print('%s backend: %s\'s pools taken over %.2f s after its SIGKILL'
          % (cloud.backend.name, victim, takeover))
    assert takeover <= TAKEOVER_BOUND, (
        '%s\'s pools were taken over %.1f s after its SIGKILL, more than '
        '%.1f s\n%s' % (victim, takeover, TAKEOVER_BOUND, cloud.logs()))
    new_owner = _owner_of(owners)[pool]

    # XenServer HA restarted the failed host's protected VMs elsewhere.
    cloud.simulator.do(pool, 'wait_until_quiet', timeout=30)
    restarted = {vm['nova_uuid']: vm['host']
                 for vm in cloud.simulator.get(pool, 'vms')
                 if vm['nova_uuid'] in protected}
    assert set(restarted) == protected, restarted
    assert failed not in restarted.values() and None not in (
        restarted.values()), restarted

    # The pool's new owner made Nova follow.
    expected = {uuid: (host, host) for uuid, host in restarted.items()}
    workers.wait_for(
        lambda: cloud.instance_hosts(protected) == expected, 30,
        'Nova\'s database showing the instances on their new hosts %s'
        % expected,
        lambda: 'found %s\n%s' % (cloud.instance_hosts(protected),
                                  cloud.logs()))
    for uuid, host in restarted.items():
        providers = cloud.allocation_providers(uuid)
        assert providers == {workers.node_uuid(host)}, (
            'allocations of %s on %s, not on %s\'s provider\n%s'
            % (uuid, providers, host, cloud.logs()))
    assert set(cloud.workers[new_owner].relocations()) == protected, (
        cloud.logs())

    # Two more full passes of the pool (each reads its VMs once): nothing
    # is done twice.
    def full_passes():
        return cloud.simulator.get(pool, 'calls').get(
            'VM.get_all_records_where', 0)
    passes = full_passes()
    workers.wait_for(lambda: full_passes() >= passes + 2, 10 * INTERVAL + 10,
                     'two more full passes of %s' % pool, cloud.logs)
    once = {uuid: 1 for uuid in protected}
    assert cloud.relocate_action_counts() == once, cloud.logs()
    assert cloud.relocated_log_counts() == once, cloud.logs()

    owners, _ = cloud.wait_balanced(timeout=10)
    assert set(owners) == survivors, cloud.logs()
    _assert_status_agrees(cloud, owners)

    codes = cloud.stop_workers()
    assert codes == {m: 0 for m in survivors}, cloud.logs()
    for worker in cloud.all_workers:
        assert 'Traceback' not in worker.text(), cloud.logs()
