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


"""Pass reports as the engine makes them, for the metrics tests."""

from nova_ha_ext.reconcile import apply
from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import engine
from nova_ha_ext.reconcile import outcome
from nova_ha_ext.xenapi import pool_state


def host(n, live=True):
    return pool_state.PoolHost(
        ref='OpaqueRef:host-%d' % n, uuid='host-uuid-%d' % n,
        hostname='xs-%d' % n, name_label='xs-%d' % n,
        address='192.0.2.%d' % n, live=live)


def snapshot(live=(True, True, True), plan=1, read_at=100.0):
    ha = pool_state.PoolHAState(
        uuid='pool-uuid', name_label='pool-a', ha_enabled=True,
        ha_host_failures_to_tolerate=1, ha_plan_exists_for=plan,
        ha_overcommitted=False, ha_allow_overcommit=False,
        master='OpaqueRef:host-0',
        hosts=tuple(host(n, up) for n, up in enumerate(live)),
        statefiles=('OpaqueRef:statefile',))
    return pool_state.PoolSnapshot(ha=ha, read_at=read_at)


def result(kind, uuid, status, rule=None):
    rule = rule or {decide.RELOCATE: 'relocate', decide.SKIP:
                    'task-in-progress'}.get(kind, kind)
    return apply.Result(
        action=decide.Action(kind, uuid, rule, 'because'), status=status)


def relocated(uuid, status=outcome.APPLIED):
    return result(decide.RELOCATE, uuid, status)


def skipped(uuid, rule='task-in-progress'):
    return result(decide.SKIP, uuid, outcome.REPORTED, rule)


def report(*results, pool='pool-a', seconds=0.5, **kwargs):
    kwargs.setdefault('snapshot', snapshot())
    return engine.PassReport(pool=pool, url='https://xs-0.example.com',
                             results=tuple(results), seconds=seconds,
                             **kwargs)
