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


def test_time_not_live_counts_from_the_first_pass_that_saw_it():
    since = {}
    assert _not_live_for(engine._with_not_live_times(
        _snapshot(100.0, live=False), since)) == 0.0
    assert _not_live_for(engine._with_not_live_times(
        _snapshot(130.0, live=False), since)) == 30.0


def test_a_host_live_again_starts_afresh():
    since = {}
    engine._with_not_live_times(_snapshot(100.0, live=False), since)
    live = engine._with_not_live_times(_snapshot(110.0, live=True), since)
    assert _not_live_for(live) is None
    assert _not_live_for(engine._with_not_live_times(
        _snapshot(120.0, live=False), since)) == 0.0
