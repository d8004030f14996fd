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

"""Moving an instance's allocations between providers, and back.

The functional tests run the mover against real placement; these cover the
allocation shapes that are awkward to build there.
"""

import types

from keystoneauth1 import exceptions as ks_exc
import pytest

from nova_ha_ext.reconcile import placement

CONSUMER = '7d3c1a52-95c4-4d4e-a5a2-1f1f9d0c7a11'
SOURCE, TARGET, SHARED = 'rp-source', 'rp-target', 'rp-shared-storage'
RESOURCES = {'VCPU': 2, 'MEMORY_MB': 2048}


class FakeReportClient:
    """Placement's answers to GET and PUT /allocations/{consumer}."""

    def __init__(self, allocations, generation=4, put_status=204,
                 put_errors=(), post_status=204, refused=()):
        # One consumer's allocations, or consumer -> its allocations.
        self.allocations = allocations
        self.generation = generation
        self.put_status = put_status
        self.put_errors = list(put_errors)
        self.post_status = post_status
        #: Consumers whose PUT placement refuses with put_status 409.
        self.refused = set(refused)
        self.puts = []
        self.posts = []

    def get_allocs_for_consumer(self, context, consumer):
        allocations = self.allocations.get(consumer, self.allocations)
        if not allocations:
            return {'allocations': {}}
        return {'allocations': {rp: {'resources': dict(res), 'generation': 9}
                                for rp, res in allocations.items()},
                'consumer_generation': self.generation,
                'project_id': 'project', 'user_id': 'user'}

    def put(self, url, data, version=None, global_request_id=None):
        self.puts.append((url, data, version))
        if self.put_errors:
            raise self.put_errors.pop(0)
        status = self.put_status
        if url.rsplit('/', 1)[1] in self.refused:
            status = 409
        return _response(status)

    def post(self, url, data, version=None, global_request_id=None):
        self.posts.append((url, data, version))
        return _response(self.post_status)

    def get(self, url, version=None, global_request_id=None):
        # Every provider here is the root of its own tree.
        rp = url.rsplit('/', 1)[1]
        return types.SimpleNamespace(
            status_code=200, json=lambda: {
                'uuid': rp, 'name': rp, 'root_provider_uuid': rp})


def _response(status):
    body = {'errors': [{'status': status,
                        'title': 'Conflict',
                        'detail': 'There was a conflict.\n\n Unable to '
                                  'allocate inventory: capacity'}]}
    return types.SimpleNamespace(status_code=status, json=lambda: body,
                                 text=str(body))


CONTEXT = types.SimpleNamespace(global_id='req-1')


def _mover(client):
    return placement.AllocationMover(report_client=client)


def _move(mover):
    """CONSUMER alone through ``move_many``: its move, or its failure."""
    outcome = mover.move_many(CONTEXT, [(CONSUMER, SOURCE, TARGET)])
    if isinstance(outcome[CONSUMER], placement.AllocationMoveFailed):
        raise outcome[CONSUMER]
    return outcome[CONSUMER]


def test_move_puts_the_same_resources_on_the_target():
    client = FakeReportClient({SOURCE: RESOURCES})

    move = _move(_mover(client))

    url, payload, version = client.puts[0]
    assert url == '/allocations/%s' % CONSUMER
    assert version == placement.CONSUMER_GENERATION_VERSION
    assert payload == {'allocations': {TARGET: {'resources': RESOURCES}},
                       'consumer_generation': 4,
                       'project_id': 'project', 'user_id': 'user'}
    assert move.moved and move.generation == 5


def test_allocations_on_other_providers_are_kept():
    client = FakeReportClient({SOURCE: RESOURCES, SHARED: {'DISK_GB': 20}})

    _move(_mover(client))

    assert client.puts[0][1]['allocations'] == {
        TARGET: {'resources': RESOURCES},
        SHARED: {'resources': {'DISK_GB': 20}}}


def test_undo_puts_back_what_was_there_guarded_by_the_new_generation():
    client = FakeReportClient({SOURCE: RESOURCES, SHARED: {'DISK_GB': 20}})
    mover = _mover(client)
    move = _move(mover)

    mover.undo(CONTEXT, move)

    assert client.puts[1][1] == {
        'allocations': {SOURCE: {'resources': RESOURCES},
                        SHARED: {'resources': {'DISK_GB': 20}}},
        'consumer_generation': 5, 'project_id': 'project',
        'user_id': 'user'}


def test_allocations_already_on_the_target_are_not_written():
    client = FakeReportClient({TARGET: RESOURCES})
    mover = _mover(client)

    move = _move(mover)
    mover.undo(CONTEXT, move)

    assert not move.moved
    assert 'already on provider rp-target' in move.detail
    assert client.puts == []


def test_consumer_without_allocations_is_not_written():
    client = FakeReportClient({})

    move = _move(_mover(client))

    assert (move.moved, move.detail) == (False, 'no allocations to move')
    assert client.puts == []


def test_allocations_on_both_providers_are_left_alone():
    client = FakeReportClient({SOURCE: RESOURCES, TARGET: RESOURCES})

    with pytest.raises(placement.AllocationMoveFailed,
                       match='on both provider rp-source and provider '
                             'rp-target'):
        _move(_mover(client))
    assert client.puts == []


def test_allocations_somewhere_else_are_left_alone():
    client = FakeReportClient({'rp-elsewhere': RESOURCES})

    with pytest.raises(placement.AllocationMoveFailed,
                       match='no allocation on provider rp-source but on '
                             'rp-elsewhere'):
        _move(_mover(client))
    assert client.puts == []


def test_refusal_names_the_move_and_placement_reason_on_one_line():
    client = FakeReportClient({SOURCE: RESOURCES}, put_status=409)

    with pytest.raises(placement.AllocationMoveFailed) as caught:
        _move(_mover(client))

    assert str(caught.value) == (
        'placement refused to move the allocations of instance %s from '
        'provider rp-source to provider rp-target: HTTP 409: There was a '
        'conflict. Unable to allocate inventory: capacity' % CONSUMER)


def test_unreachable_placement_is_a_failure_not_a_crash():
    client = FakeReportClient({SOURCE: RESOURCES},
                              put_errors=[ks_exc.ConnectFailure('down')])

    with pytest.raises(placement.AllocationMoveFailed,
                       match='placement is unreachable'):
        _move(_mover(client))


def test_failed_undo_is_reported():
    client = FakeReportClient({SOURCE: RESOURCES})
    mover = _mover(client)
    move = _move(mover)
    client.put_status = 409

    with pytest.raises(placement.AllocationMoveFailed,
                       match='back from provider rp-target to provider '
                             'rp-source'):
        mover.undo(CONTEXT, move)


# Several instances at once (a host failure).

OTHER = '0b8e5f3c-2b7e-4d52-9d0e-6c1b2f5a9e44'
ODD = '5e2f0d8a-3c1b-4f7e-8a9d-2b6c4e1f0a77'


def test_move_many_writes_all_moves_in_one_post():
    client = FakeReportClient({CONSUMER: {SOURCE: RESOURCES},
                               OTHER: {SOURCE: {'VCPU': 1}}})

    outcomes = _mover(client).move_many(
        CONTEXT, [(CONSUMER, SOURCE, TARGET), (OTHER, SOURCE, 'rp-third')])

    assert client.puts == []
    (url, payload, version), = client.posts
    assert (url, version) == ('/allocations',
                              placement.CONSUMER_GENERATION_VERSION)
    assert payload == {
        CONSUMER: {'allocations': {TARGET: {'resources': RESOURCES}},
                   'consumer_generation': 4, 'project_id': 'project',
                   'user_id': 'user'},
        OTHER: {'allocations': {'rp-third': {'resources': {'VCPU': 1}}},
                'consumer_generation': 4, 'project_id': 'project',
                'user_id': 'user'}}
    assert {c: (m.moved, m.generation) for c, m in outcomes.items()} == {
        CONSUMER: (True, 5), OTHER: (True, 5)}


def test_move_many_reports_each_consumer_it_cannot_move():
    client = FakeReportClient({CONSUMER: {SOURCE: RESOURCES},
                               OTHER: {'rp-elsewhere': RESOURCES},
                               ODD: {TARGET: RESOURCES}})

    outcomes = _mover(client).move_many(
        CONTEXT, [(CONSUMER, SOURCE, TARGET), (OTHER, SOURCE, TARGET),
                  (ODD, SOURCE, TARGET)])

    assert isinstance(outcomes[OTHER], placement.AllocationMoveFailed)
    assert 'no allocation on provider rp-source' in str(outcomes[OTHER])
    assert not outcomes[ODD].moved
    assert outcomes[CONSUMER].moved
    # One move left to write: a PUT, as for one instance.
    assert [url for url, _d, _v in client.puts] == [
        '/allocations/%s' % CONSUMER]
    assert client.posts == []


def test_a_refused_batch_is_retried_one_instance_at_a_time():
    # Placement refuses the whole batch for one consumer's sake: the others
    # still move, and that one keeps its allocations.
    client = FakeReportClient({CONSUMER: {SOURCE: RESOURCES},
                               OTHER: {SOURCE: RESOURCES}},
                              post_status=409, refused=[OTHER])

    outcomes = _mover(client).move_many(
        CONTEXT, [(CONSUMER, SOURCE, TARGET), (OTHER, SOURCE, TARGET)])

    assert len(client.posts) == 1
    assert [url for url, _d, _v in client.puts] == [
        '/allocations/%s' % CONSUMER, '/allocations/%s' % OTHER]
    assert outcomes[CONSUMER].moved
    assert isinstance(outcomes[OTHER], placement.AllocationMoveFailed)
    assert str(outcomes[OTHER]).startswith(
        'placement refused to move the allocations of instance %s' % OTHER)
