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


"""The scrape-time gauges: the worker, and the pools it owns now."""

import prometheus_client
import pytest

from nova_ha_ext.metrics import collector
from nova_ha_ext.metrics import recorder
from tests.unit.metrics import reports


class Coordinator:
    """A coordinator's answers, as the collector asks for them."""

    def __init__(self, member_id, owners, healthy=True):
        self.member_id = member_id
        self.owner_of = owners
        self.healthy = healthy

    def owned(self, names):
        return [n for n in names if self.owner_of.get(n) == self.member_id]

    def owners(self, names):
        return {n: self.owner_of.get(n) for n in names}


@pytest.fixture
def setup():
    registry = prometheus_client.CollectorRegistry()
    rec = recorder.Recorder(registry)
    coordinator = Coordinator('worker-1', {'pool-a': 'worker-1',
                                           'pool-b': 'worker-2'})
    registry.register(collector.WorkerCollector(
        rec, coordinator, lambda: {'pool-a': None, 'pool-b': None}))
    return registry, rec, coordinator


def test_an_owned_pool_is_reported_from_its_latest_pass(setup):
    registry, rec, _ = setup
    rec.record(reports.report(reports.skipped('i-1'), snapshot=(
        reports.snapshot(live=(True, True, False), plan=0))))

    pool = {'pool': 'pool-a'}
    assert registry.get_sample_value('nova_ha_pool_ready', pool) == 0
    assert registry.get_sample_value('nova_ha_pool_reachable', pool) == 1
    assert registry.get_sample_value('nova_ha_pool_hosts_live', pool) == 2
    assert registry.get_sample_value('nova_ha_pool_hosts', pool) == 3
    assert registry.get_sample_value(
        'nova_ha_pool_ha_plan_exists_for', pool) == 0
    assert registry.get_sample_value(
        'nova_ha_pool_instances_out_of_sync', pool) == 1
    assert registry.get_sample_value(
        'nova_ha_pool_instances_skipped', pool) == 1
    assert registry.get_sample_value(
        'nova_ha_pool_instances_pending', pool) == 0


def test_a_pool_another_worker_owns_is_not_reported_here(setup):
    registry, rec, coordinator = setup
    rec.record(reports.report(pool='pool-a'))
    rec.record(reports.report(pool='pool-b'))
    assert registry.get_sample_value('nova_ha_pool_ready',
                                     {'pool': 'pool-b'}) is None

    # pool-a moves to worker-2: this worker stops reporting it at once.
    coordinator.owner_of['pool-a'] = 'worker-2'

    assert registry.get_sample_value('nova_ha_pool_ready',
                                     {'pool': 'pool-a'}) is None


def test_an_unreachable_pool_reports_not_ready_and_no_guesses(setup):
    registry, rec, _ = setup
    rec.record(reports.report(snapshot=None, error='refused'))

    pool = {'pool': 'pool-a'}
    assert registry.get_sample_value('nova_ha_pool_ready', pool) == 0
    assert registry.get_sample_value('nova_ha_pool_reachable', pool) == 0
    assert registry.get_sample_value('nova_ha_pool_hosts', pool) is None


def test_every_pool_has_its_owner_as_a_label(setup):
    registry, _, coordinator = setup
    coordinator.owner_of['pool-b'] = None  # no live worker

    assert registry.get_sample_value(
        'nova_ha_pool_owner_info', {'pool': 'pool-a',
                                    'worker': 'worker-1'}) == 1
    assert registry.get_sample_value(
        'nova_ha_pool_owner_info', {'pool': 'pool-b', 'worker': ''}) == 1


def test_the_worker_reports_its_pools_and_coordination_health(setup):
    registry, _, coordinator = setup
    worker = {'worker': 'worker-1'}
    assert registry.get_sample_value('nova_ha_worker_pools_owned',
                                     worker) == 1
    assert registry.get_sample_value(
        'nova_ha_worker_coordination_healthy', worker) == 1

    coordinator.healthy = False

    assert registry.get_sample_value(
        'nova_ha_worker_coordination_healthy', worker) == 0
