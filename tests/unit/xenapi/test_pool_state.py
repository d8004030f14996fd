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

"""Pool readiness: the verdict and the reasons an operator reads."""

import json

import pytest

from nova_ha_ext.xenapi import pool_state


def _state(ha_enabled=True, ntol=1, plan=1, overcommitted=False, live=3,
           dead=0, waiting=0):
    hosts = tuple(
        pool_state.PoolHost(ref='OpaqueRef:h%d' % i, uuid='h%d' % i,
                            hostname='xs%d' % i, name_label='xs%d' % i,
                            address='10.0.0.%d' % i, live=i < live)
        for i in range(live + dead))
    return pool_state.PoolHAState(
        uuid='pool', name_label='pool-a', ha_enabled=ha_enabled,
        ha_host_failures_to_tolerate=ntol, ha_plan_exists_for=plan,
        ha_overcommitted=overcommitted, ha_allow_overcommit=False,
        master='OpaqueRef:h0', hosts=hosts, waiting_restarts=waiting)


@pytest.mark.parametrize('state, allow_two, ready, reasons', [
    (_state(), False, True, ()),
    (_state(ha_enabled=False, plan=0, ntol=0), False, False,
     ("HA is not enabled on the pool",)),
    (_state(plan=0), False, False,
     ("HA plan covers 0 of 1 tolerated host failures",)),
    (_state(ntol=2, plan=0, overcommitted=True), False, False,
     ("HA plan covers 0 of 2 tolerated host failures",
      "pool is overcommitted: protected VMs cannot all be restarted after "
      "2 host failure(s)")),
    (_state(live=2), False, False,
     ("only 2 live host(s); HA needs at least 3 (a two-host pool cannot "
      "tell a dead host from a network partition)",)),
    (_state(live=2), True, True, ()),
    (_state(live=2, dead=1), False, False,
     ("only 2 live host(s); HA needs at least 3 (a two-host pool cannot "
      "tell a dead host from a network partition)",)),
    (_state(live=1), True, False,
     ("only 1 live host(s); HA needs at least 2",)),
    # xapi plans the Halted protected VMs too (compute_restart_plan): one
    # that cannot be placed leaves no plan; say why.
    (_state(plan=0, overcommitted=True, waiting=2), False, False,
     ("HA plan covers 0 of 1 tolerated host failures",
      "pool is overcommitted: protected VMs cannot all be restarted after "
      "1 host failure(s)",
      "2 protected VMs wait for a restart")),
    (_state(waiting=1), False, False,
     ("1 protected VM waits for a restart",)),
])
def test_readiness(state, allow_two, ready, reasons):
    verdict = state.readiness(allow_two_host_pools=allow_two)
    assert verdict.ready is ready
    assert bool(verdict) is ready
    assert verdict.reasons == reasons


def test_vm_protection_and_nova_uuid():
    vm = pool_state.PoolVM(
        ref='OpaqueRef:v', uuid='v', name_label='instance-1',
        power_state='Running', resident_on='OpaqueRef:h0',
        ha_restart_priority='restart',
        other_config=pool_state.frozen_map({'nova_uuid': 'i-1'}))
    assert vm.protected
    assert vm.nova_uuid == 'i-1'
    plain = pool_state.PoolVM(
        ref='OpaqueRef:w', uuid='w', name_label='other', power_state='Halted',
        resident_on=pool_state.NULL_REF)
    assert not plain.protected
    assert plain.nova_uuid is None
    snap = pool_state.PoolSnapshot(ha=_state(), vms=(vm, plain))
    assert snap.vms_by_nova_uuid() == {'i-1': (vm,)}


def test_power_states_are_the_datamodels_vm_power_state_enum():
    """The reconciler and the simulator share them.

    The simulator imports them from here, and nothing of Nova.
    """
    from nova_ha_ext.simulator import datamodel
    from nova_ha_ext.simulator import model
    from nova_ha_ext.simulator import pool_ha
    from nova_ha_ext.simulator import scenario
    with open(datamodel.DATA_FILE) as f:
        enum = json.load(f)['enums']['vm_power_state']
    assert sorted(pool_state.POWER_STATES) == sorted(enum)
    assert set(pool_state.RESIDENT_POWER_STATES) | set(
        pool_state.NOT_RESIDENT_POWER_STATES) == set(enum)
    assert scenario.POWER_STATES is pool_state.POWER_STATES
    assert model.RUNNING_STATES is pool_state.RESIDENT_POWER_STATES
    assert pool_ha.RUNNING_STATES is pool_state.RESIDENT_POWER_STATES
