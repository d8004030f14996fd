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

"""The statuses and the step every part of a pass reports with."""

from nova_ha_ext.reconcile import affinity
from nova_ha_ext.reconcile import membership
from nova_ha_ext.reconcile import outcome
from nova_ha_ext.reconcile import services


def test_a_step_keeps_its_reason_unless_told_another():
    step = services.ServiceChange(services.DISABLE, 'compute-1', 'host dead')
    assert step.status == outcome.PLANNED
    failed = step.with_status(outcome.FAILED, 'Nova said no')
    assert (failed.status, failed.reason) == (outcome.FAILED, 'Nova said no')
    applied = step.with_status(outcome.APPLIED)
    assert (applied.status, applied.reason) == (outcome.APPLIED, 'host dead')
    assert step.status == outcome.PLANNED  # frozen: a new step each time


def test_a_step_takes_other_changes_and_keeps_the_rest():
    step = affinity.MirrorStep(affinity.JOIN, 'group-1', instance='i-1',
                               vm_ref='OpaqueRef:vm', reason='joins')
    done = step.with_status(outcome.APPLIED, vm_group='OpaqueRef:g')
    assert (done.vm_group, done.vm_ref, done.reason) == (
        'OpaqueRef:g', 'OpaqueRef:vm', 'joins')
    assert step.with_status(outcome.FAILED).vm_group is None


def test_every_step_reports_with_one_vocabulary():
    for cls in (affinity.MirrorStep, membership.Change,
                services.ServiceChange):
        assert issubclass(cls, outcome.Step)
