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


"""The recorder: pass reports in, Prometheus counters and figures out."""

import dataclasses

import prometheus_client
import pytest

from nova_ha_ext import metrics
from nova_ha_ext.metrics import exporter
from nova_ha_ext.metrics import recorder
from nova_ha_ext.reconcile import outcome
from tests.unit.metrics import reports


class Clock:
    def __init__(self, now=0.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock(100.0)


@pytest.fixture
def registry():
    return prometheus_client.CollectorRegistry()


@pytest.fixture
def rec(registry, clock):
    return recorder.Recorder(registry, clock=clock,
                             wall_clock=lambda: 1700000000.0)


def value(registry, metric, **labels):
    found = registry.get_sample_value(metric, labels)
    return 0.0 if found is None else found


def test_applied_and_failed_relocations_are_counted_per_pool(rec, registry):
    rec.record(reports.report(reports.relocated('i-1'),
                              reports.relocated('i-2'),
                              reports.relocated('i-3', outcome.FAILED)))

    assert value(registry, 'nova_ha_relocations_total', pool='pool-a',
                 result='applied') == 2
    assert value(registry, 'nova_ha_relocations_total', pool='pool-a',
                 result='failed') == 1


def test_relocation_counters_exist_at_zero_from_the_first_pass(
        rec, registry):
    rec.record(reports.report())

    assert registry.get_sample_value(
        'nova_ha_relocations_total',
        {'pool': 'pool-a', 'result': 'applied'}) == 0.0


def test_skips_are_counted_by_rule(rec, registry):
    rec.record(reports.report(
        reports.skipped('i-1', 'task-in-progress'),
        reports.skipped('i-2', 'task-in-progress'),
        reports.skipped('i-3', 'ha-restart-pending')))

    assert value(registry, 'nova_ha_skips_total', pool='pool-a',
                 rule='task-in-progress') == 2
    assert value(registry, 'nova_ha_skips_total', pool='pool-a',
                 rule='ha-restart-pending') == 1


@pytest.mark.parametrize('report, kind, result', [
    (reports.report(), 'periodic', 'ok'),
    (reports.report(reports.relocated('i-1', outcome.FAILED)), 'event',
     'failed'),
    (reports.report(problems=('Neutron did not answer',)), 'periodic',
     'failed'),
    (reports.report(snapshot=None, error='connection refused'), 'periodic',
     'unreachable'),
    (reports.report(snapshot=None, skipped='another worker holds its lock'),
     'event', 'skipped'),
])
def test_passes_are_counted_by_kind_and_result(rec, registry, report, kind,
                                               result):
    rec.record(report, kind)

    assert value(registry, 'nova_ha_passes_total', pool='pool-a',
                 kind=kind, result=result) == 1


def test_pass_durations_go_to_the_histogram_of_their_kind(rec, registry):
    rec.record(reports.report(seconds=0.3), 'event')
    rec.record(reports.report(seconds=7.0), 'periodic')

    assert value(registry, 'nova_ha_pass_duration_seconds_count',
                 kind='event') == 1
    assert value(registry, 'nova_ha_pass_duration_seconds_sum',
                 kind='periodic') == 7.0
    assert value(registry, 'nova_ha_pass_duration_seconds_bucket',
                 kind='periodic', le='5.0') == 0
    assert value(registry, 'nova_ha_pass_duration_seconds_bucket',
                 kind='periodic', le='10.0') == 1


def test_relocation_latency_runs_from_the_read_that_showed_the_vm(
        rec, registry, clock):
    # The watcher's snapshot showed the VM running at t=100; the pass that
    # moved the instance ended at t=101.5.
    clock.now = 101.5
    rec.record(reports.report(reports.relocated('i-1'),
                              snapshot=reports.snapshot(read_at=100.0)),
               'event')

    assert value(registry, 'nova_ha_relocation_latency_seconds_count') == 1
    assert value(registry,
                 'nova_ha_relocation_latency_seconds_sum') == 1.5


def test_a_failed_relocation_keeps_the_time_it_was_first_seen(
        rec, registry, clock):
    clock.now = 101.0
    rec.record(reports.report(reports.relocated('i-1', outcome.FAILED),
                              snapshot=reports.snapshot(read_at=100.0)))
    assert value(registry, 'nova_ha_relocation_latency_seconds_count') == 0
    clock.now = 161.0
    rec.record(reports.report(reports.relocated('i-1'),
                              snapshot=reports.snapshot(read_at=160.0)))

    assert value(registry,
                 'nova_ha_relocation_latency_seconds_sum') == 61.0


def test_a_relocation_no_longer_needed_forgets_when_it_was_seen(
        rec, registry, clock):
    rec.record(reports.report(reports.relocated('i-1', outcome.FAILED),
                              snapshot=reports.snapshot(read_at=10.0)))
    rec.record(reports.report(snapshot=reports.snapshot(read_at=50.0)))
    clock.now = 92.0
    rec.record(reports.report(reports.relocated('i-1'),
                              snapshot=reports.snapshot(read_at=90.0)))

    assert value(registry,
                 'nova_ha_relocation_latency_seconds_sum') == 2.0


def test_a_dry_run_counts_no_relocation(rec, registry):
    rec.record(reports.report(reports.relocated('i-1', outcome.DRY_RUN),
                              dry_run=True))

    assert value(registry, 'nova_ha_relocations_total', pool='pool-a',
                 result='applied') == 0
    assert value(registry, 'nova_ha_relocation_latency_seconds_count') == 0


def test_figures_of_a_ready_pool(rec):
    rec.record(reports.report(
        reports.relocated('i-1'), reports.skipped('i-2'),
        reports.skipped('i-3', 'ha-restart-pending'),
        reports.skipped('i-4', 'ha-restart-pending')))

    figures = rec.figures()['pool-a']
    assert figures == recorder.PoolFigures(
        reachable=True, ready=True, ha_plan_exists_for=1, hosts_live=3,
        hosts=3, out_of_sync=4, skipped=1, pending=2, out_of_sync_passes=1,
        passed_at=1700000000.0)


def test_a_pool_with_a_dead_host_is_not_ready(rec):
    rec.record(reports.report(snapshot=reports.snapshot(
        live=(True, True, False), plan=0)))

    figures = rec.figures()['pool-a']
    assert (figures.ready, figures.hosts_live, figures.hosts,
            figures.ha_plan_exists_for) == (False, 2, 3, 0)


def test_two_host_pools_are_ready_when_the_operator_allows_them(
        registry):
    rec = recorder.Recorder(registry, allow_two_host_pools=True)
    rec.record(reports.report(snapshot=reports.snapshot(live=(True, True))))

    assert rec.figures()['pool-a'].ready


def test_an_unreachable_pool_is_not_ready_and_its_figures_unknown(rec):
    rec.record(reports.report(snapshot=None, error='connection refused'))

    figures = rec.figures()['pool-a']
    assert (figures.reachable, figures.ready) == (False, False)
    assert figures.hosts is None and figures.out_of_sync is None


def test_a_pool_skipped_for_another_worker_keeps_its_figures(rec):
    rec.record(reports.report(reports.relocated('i-1', outcome.FAILED)))
    before = rec.figures()['pool-a']

    rec.record(reports.report(snapshot=None, skipped='another worker'))

    assert rec.figures()['pool-a'] == before


def test_out_of_sync_passes_count_consecutive_passes_not_caught_up(rec):
    failed = reports.relocated('i-1', outcome.FAILED)
    rec.record(reports.report(failed))
    rec.record(reports.report(failed))
    assert rec.figures()['pool-a'].out_of_sync_passes == 2

    rec.record(reports.report(snapshot=None, error='timed out'))
    assert rec.figures()['pool-a'].out_of_sync_passes == 2

    rec.record(reports.report())
    assert rec.figures()['pool-a'].out_of_sync_passes == 0


def test_instances_waiting_for_a_restart_do_not_count_as_not_caught_up(
        rec):
    pending = reports.skipped('i-1', 'ha-restart-pending')
    rec.record(reports.report(pending))
    rec.record(reports.report(pending))

    figures = rec.figures()['pool-a']
    assert (figures.out_of_sync, figures.out_of_sync_passes) == (1, 0)


def test_a_broken_report_is_logged_not_raised(rec, registry):
    broken = dataclasses.replace(reports.report(), snapshot='garbage')

    rec.record(broken)  # no exception

    assert value(registry, 'nova_ha_passes_total', pool='pool-a',
                 kind='periodic', result='ok') == 1


def test_ha_messages_are_counted_by_pool_and_name(rec, registry):
    rec.ha_message('pool-a', 'HA_HOST_FAILED')
    rec.ha_message('pool-a', 'HA_HOST_FAILED')
    rec.ha_message('pool-b', 'HA_POOL_OVERCOMMITTED')

    assert value(registry, 'nova_ha_xenserver_ha_messages_total',
                 pool='pool-a', name='HA_HOST_FAILED') == 2
    assert value(registry, 'nova_ha_xenserver_ha_messages_total',
                 pool='pool-b', name='HA_POOL_OVERCOMMITTED') == 1


def test_metrics_ha_message_counts_on_the_running_exporter(rec, registry):
    metrics.ha_message('pool-a', 'HA_HOST_FAILED')  # metrics off: nothing
    exporter.activate(rec)
    try:
        metrics.ha_message('pool-a', 'HA_HOST_FAILED')
    finally:
        exporter.deactivate(rec)
    metrics.ha_message('pool-a', 'HA_HOST_FAILED')

    assert value(registry, 'nova_ha_xenserver_ha_messages_total',
                 pool='pool-a', name='HA_HOST_FAILED') == 1


def test_recorders_do_not_share_a_registry(registry):
    recorder.Recorder(registry)
    # A second one on its own registry: no duplicate names.
    recorder.Recorder(prometheus_client.CollectorRegistry())

    assert prometheus_client.REGISTRY.get_sample_value(
        'nova_ha_passes_total') is None
