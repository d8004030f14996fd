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


"""The runner hands every pass's report to its recorder, with its kind."""

import queue
import types

import pytest

from nova_ha_ext.reconcile import runner


class _Reconciler:
    def __init__(self):
        self.targets = {'pool-a': types.SimpleNamespace(name='pool-a',
                                                        error=None)}

    def discover(self, context):
        return list(self.targets.values())

    def reconcile_pool(self, context, name, snapshot=None):
        return types.SimpleNamespace(pool=name, skipped=None)

    def close(self):
        pass


class _Recorder:
    def __init__(self):
        self.records = queue.Queue()

    def record(self, report, kind):
        self.records.put((report.pool, kind))


@pytest.fixture
def conf(reconciler_conf):
    return reconciler_conf


def test_periodic_and_event_passes_are_recorded_as_such(conf):
    recorder = _Recorder()
    run = runner.ReconcilerRunner(conf, context_factory=lambda: None,
                                  reconciler=_Reconciler(),
                                  recorder=recorder)
    run.start()
    try:
        assert recorder.records.get(timeout=10) == ('pool-a', 'periodic')
        run.trigger('pool-a')
        assert recorder.records.get(timeout=10) == ('pool-a', 'event')
    finally:
        run.stop()
