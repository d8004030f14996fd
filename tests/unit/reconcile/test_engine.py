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

"""How long passes have seen a host not live (the restart grace period)."""

from nova_ha_ext.reconcile import engine
from nova_ha_ext.xenapi import pool_state


def _snapshot(read_at, live):
    host = pool_state.PoolHost(ref='OpaqueRef:h1', uuid='h1', hostname='h1',
                               name_label='h1', address='10.0.0.1',
                               live=live)
    ha = pool_state.PoolHAState(
        uuid='p', name_label='p', ha_enabled=True,
        ha_host_failures_to_tolerate=1, ha_plan_exists_for=1,
        ha_overcommitted=False, ha_allow_overcommit=False,
        master='OpaqueRef:h0', hosts=(host,))
    return pool_state.PoolSnapshot(ha=ha, read_at=read_at)


def _not_live_for(snapshot):
    return snapshot.ha.hosts[0].not_live_for


def _passes(*snapshots):
    """not_live_for of the host in each of a series of passes."""
    since = None
    seen = []
    for snapshot in snapshots:
        snapshot, since = engine._with_not_live_times(snapshot, since)
        seen.append(_not_live_for(snapshot))
    return seen


def test_time_not_live_counts_from_the_first_pass_that_saw_it():
    assert _passes(_snapshot(90.0, live=True),
                   _snapshot(100.0, live=False),
                   _snapshot(130.0, live=False)) == [None, 0.0, 30.0]


def test_a_host_dead_before_the_first_pass_died_at_an_unknown_time():
    assert _passes(_snapshot(100.0, live=False),
                   _snapshot(130.0, live=False)) == [None, 30.0]


def test_a_host_live_again_starts_afresh():
    assert _passes(_snapshot(90.0, live=True),
                   _snapshot(100.0, live=False),
                   _snapshot(110.0, live=True),
                   _snapshot(120.0, live=False)) == [None, 0.0, None, 0.0]
