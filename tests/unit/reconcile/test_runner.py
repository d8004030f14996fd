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

"""Which snapshot an event-driven pass gets."""

import dataclasses
import time

from oslo_config import cfg

from nova_ha_ext import conf as ha_conf
from nova_ha_ext.reconcile import runner


@dataclasses.dataclass
class Snapshot:
    read_at: float


def _runner():
    conf = cfg.ConfigOpts()
    ha_conf.register_opts(conf)
    conf([])
    # Nothing is started: only trigger() and what a pass would be given.
    return runner.ReconcilerRunner(conf, context_factory=None,
                                   reconciler=object(), coordinator=object())


def test_a_fresh_watcher_snapshot_is_used_once():
    run = _runner()
    snapshot = Snapshot(read_at=time.monotonic())

    run.trigger('pool-a', snapshot)

    assert run._fresh_snapshot('pool-a') is snapshot
    # The next pass of the pool reads it, unless a watcher sends another.
    assert run._fresh_snapshot('pool-a') is None


def test_a_stale_snapshot_makes_the_pass_read_the_pool():
    run = _runner()
    run.trigger('pool-a', Snapshot(
        read_at=time.monotonic() - runner.SNAPSHOT_MAX_AGE - 0.1))

    assert run._fresh_snapshot('pool-a') is None


def test_a_trigger_without_snapshot_drops_an_older_one():
    run = _runner()
    run.trigger('pool-a', Snapshot(read_at=time.monotonic()))
    run.trigger('pool-a')

    assert run._fresh_snapshot('pool-a') is None
    assert run._queued == {'pool-a'}
