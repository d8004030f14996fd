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


"""Metrics of a real nova-ha-reconciler, scraped over HTTP.

One worker (``file://`` coordination) of the worker deployment
(:class:`nova_ha_ext.testing.workers.Deployment`: Nova's SQLite databases, a
real placement service, two simulated HA pools of three hosts and nine
VMs) serves ``[ha_reconciler] metrics_listen`` on 127.0.0.1. Before a
host failure the pools are ready and in sync and nothing was relocated;
after XenServer HA restarted the failed host's protected VMs, the
relocation counter has one per protected VM and the out-of-sync gauge
counts the unprotected VM that XenServer HA leaves halted.
"""

import urllib.request

from prometheus_client import parser
import pytest

from nova_ha_ext.testing import workers

MEMBER = 'worker-1'
POOLS = 2


@pytest.fixture
def cloud(tmp_path):
    deployment = workers.Deployment(
        tmp_path / 'cloud', pools=POOLS, hosts=3, vms=9, interval=2,
        member_timeout=3, heartbeat_interval=0.5)
    with deployment:
        deployment.set_backend(workers.FileBackend(tmp_path / 'coord'))
        yield deployment


def _scrape(port):
    """``{(sample name, frozenset(labels)): value}`` from /metrics."""
    with urllib.request.urlopen('http://127.0.0.1:%d/metrics' % port,
                                timeout=10) as reply:
        text = reply.read().decode()
    assert workers.PASSWORD not in text
    samples = {}
    for family in parser.text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = (
                sample.value)
    return samples


def _value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def _failed_host(cloud, pool):
    """A host of ``pool`` other than the master: its protected and its
    unprotected VMs' instance uuids.
    """
    vms = cloud.simulator.get(pool, 'vms')
    for host in cloud.simulator.get(pool, 'hosts'):
        if host['master']:
            continue
        mine = [vm for vm in vms if vm['host'] == host['hostname']]
        protected = {vm['nova_uuid'] for vm in mine
                     if vm['ha_restart_priority'] == 'restart'}
        if protected and len(protected) < len(mine):
            return (host['hostname'], protected,
                    {vm['nova_uuid'] for vm in mine} - protected)
    raise AssertionError('pool %s has no host to fail: %s' % (pool, vms))


def test_relocations_and_out_of_sync_instances_after_a_host_failure(
        cloud, tmp_path):
    port = workers.free_port()
    metrics_conf = tmp_path / 'metrics.conf'
    metrics_conf.write_text('[ha_reconciler]\nmetrics_listen = %d\n' % port)
    cloud.conf_files.append(str(metrics_conf))
    cloud.start_workers([MEMBER])
    pool = cloud.pool_names[0]

    def passed_every_pool():
        try:
            samples = _scrape(port)
        except OSError:
            return None
        return samples if all(
            _value(samples, 'nova_ha_pool_ready', pool=p) is not None
            for p in cloud.pool_names) else None

    samples = workers.wait_for(passed_every_pool, 60,
                               'metrics of every pool', cloud.logs)
    for p in cloud.pool_names:
        assert _value(samples, 'nova_ha_pool_ready', pool=p) == 1
        assert _value(samples, 'nova_ha_pool_hosts_live', pool=p) == 3
        assert _value(samples, 'nova_ha_pool_hosts', pool=p) == 3
        assert _value(samples, 'nova_ha_pool_instances_out_of_sync',
                      pool=p) == 0
        assert _value(samples, 'nova_ha_relocations_total', pool=p,
                      result='applied') == 0
        assert _value(samples, 'nova_ha_pool_owner_info', pool=p,
                      worker=MEMBER) == 1
    assert _value(samples, 'nova_ha_worker_pools_owned',
                  worker=MEMBER) == POOLS
    assert _value(samples, 'nova_ha_worker_coordination_healthy',
                  worker=MEMBER) == 1

    failed, protected, unprotected = _failed_host(cloud, pool)
    cloud.simulator.do(pool, 'fail_host', host=failed)

    def followed():
        samples = _scrape(port)
        relocated = _value(samples, 'nova_ha_relocations_total', pool=pool,
                           result='applied')
        left = _value(samples, 'nova_ha_pool_instances_out_of_sync',
                      pool=pool)
        passes = _value(samples, 'nova_ha_pool_out_of_sync_passes',
                        pool=pool)
        if (relocated, left) == (len(protected), len(unprotected)) and (
                passes >= 2):
            return samples
        return None

    samples = workers.wait_for(
        followed, 60, '%d relocations and %d instance(s) out of sync in '
        'two passes' % (len(protected), len(unprotected)),
        lambda: '%s\n%s' % (sorted(
            (k, v) for k, v in _scrape(port).items()
            if dict(k[1]).get('pool') == pool), cloud.logs()))
    assert _value(samples, 'nova_ha_relocations_total', pool=pool,
                  result='failed') == 0
    assert _value(samples, 'nova_ha_skips_total', pool=pool,
                  rule='unprotected-halted') >= 2
    assert _value(samples, 'nova_ha_pool_instances_skipped',
                  pool=pool) == len(unprotected)
    assert _value(samples, 'nova_ha_pool_hosts_live', pool=pool) == 2
    assert _value(samples, 'nova_ha_pool_ready', pool=pool) == 0
    assert _value(samples, 'nova_ha_relocation_latency_seconds_count') == (
        len(protected))
    other = cloud.pool_names[1]
    assert _value(samples, 'nova_ha_relocations_total', pool=other,
                  result='applied') == 0
    assert _value(samples, 'nova_ha_pool_instances_out_of_sync',
                  pool=other) == 0
    # The relocations the counter saw are the ones Nova's database has.
    assert cloud.relocate_action_counts() == {u: 1 for u in protected}

    assert cloud.stop_workers() == {MEMBER: 0}, cloud.logs()
    assert 'Traceback' not in cloud.workers[MEMBER].text(), cloud.logs()
