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


"""doc/alerts: valid rules, over metrics the reconciler exports."""

import pathlib
import re

import prometheus_client
import yaml

from nova_ha_ext.metrics import collector
from nova_ha_ext.metrics import recorder
from nova_ha_ext.reconcile import outcome
from tests.unit.metrics import reports
from tests.unit.metrics import test_collector

ROOT = pathlib.Path(__file__).resolve().parents[3]
ALERTS = ROOT / 'doc' / 'alerts'
RULES = ALERTS / 'nova-ha-ext.rules.yaml'
# PromQL functions and keywords that start like the project's metrics do
# not exist; every nova_ha_ name in an expression is a metric.
METRIC = re.compile(r'\bnova_ha_[a-z0-9_]+')


def _exported():
    """Family and sample names of everything a busy worker exports."""
    registry = prometheus_client.CollectorRegistry()
    rec = recorder.Recorder(registry)
    coordinator = test_collector.Coordinator('worker-1',
                                             {'pool-a': 'worker-1'})
    registry.register(collector.WorkerCollector(
        rec, coordinator, lambda: {'pool-a': None}))
    rec.record(reports.report(
        reports.relocated('i-1'), reports.relocated('i-2', outcome.FAILED),
        reports.skipped('i-3')), 'event')
    rec.ha_message('pool-a', 'HA_HOST_FAILED')
    families, samples = set(), set()
    for family in registry.collect():
        families.add(family.name)
        samples.update(s.name for s in family.samples)
    return families, samples


def _rules():
    with open(RULES) as f:
        document = yaml.safe_load(f)
    return [rule for group in document['groups'] for rule in group['rules']]


def test_the_rule_file_is_a_prometheus_rule_group_file():
    with open(RULES) as f:
        document = yaml.safe_load(f)
    assert set(document) == {'groups'}
    for group in document['groups']:
        assert set(group) == {'name', 'rules'}
        for rule in group['rules']:
            assert set(rule) <= {'alert', 'expr', 'for', 'labels',
                                 'annotations'}, rule
            assert rule['alert'] and rule['expr'], rule
            assert rule['labels']['severity'] in ('warning', 'critical')
            assert rule['annotations']['summary'], rule
            assert rule['annotations']['description'], rule
    names = [r['alert'] for r in _rules()]
    assert len(names) == len(set(names)), names


def test_the_rules_refer_only_to_exported_metrics():
    _families, samples = _exported()
    referenced = set()
    for rule in _rules():
        used = set(METRIC.findall(rule['expr']))
        assert used, rule['alert']
        assert used <= samples, (rule['alert'], used - samples)
        referenced |= used
    # The example set covers what the brief of each rule asks for.
    assert {'nova_ha_pool_ready', 'nova_ha_pool_out_of_sync_passes',
            'nova_ha_worker_coordination_healthy'} <= referenced


def test_the_alerts_page_lists_every_exported_metric():
    families, _samples = _exported()
    page = (ALERTS / 'README.md').read_text()
    documented = set(METRIC.findall(page))
    counted = {f + '_total' if f + '_total' in documented else f
               for f in families}
    assert counted <= documented, counted - documented
    assert documented <= counted | {
        r['alert'] for r in _rules()}, documented - counted


def test_the_alerts_page_describes_every_rule():
    page = (ALERTS / 'README.md').read_text()
    for rule in _rules():
        assert '`%s`' % rule['alert'] in page, rule['alert']
