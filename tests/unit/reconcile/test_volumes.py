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

"""Moving a volume attachment: the order of the Cinder calls, and what
each failure leaves in the block device mapping.

The functional tests move attachments through Nova's CinderFixture; these
stop the move at each step.
"""

import json

from oslo_config import cfg
import pytest

from nova import conf as nova_conf

from nova_ha_ext.reconcile import volumes

CONNECTOR = {'host': 'xs2', 'ip': '192.0.2.2',
             'initiator': 'iqn.2026-12.com.example:xs2'}


class FakeBDM:
    def __init__(self):
        self.volume_id = 'volume-1'
        self.attachment_id = 'old'
        self.device_name = '/dev/xvdb'
        self.connection_info = json.dumps({'connector': {'host': 'xs1'}})
        self.saved = []

    def save(self):
        self.saved.append((self.attachment_id, self.connection_info))


class FakeCinder:
    """Nova's volume API, recording calls; ``fail`` names one to refuse."""

    def __init__(self, fail=None):
        self.fail = fail
        self.calls = []

    def _call(self, name, *args):
        self.calls.append((name,) + args)
        if name == self.fail:
            raise RuntimeError('%s refused' % name)

    def attachment_create(self, context, volume_id, instance_uuid):
        self._call('attachment_create', volume_id)
        return {'id': 'new'}

    def attachment_delete(self, context, attachment_id):
        self._call('attachment_delete', attachment_id)

    def attachment_update(self, context, attachment_id, connector,
                          mountpoint):
        self._call('attachment_update', attachment_id, connector['host'],
                   mountpoint)
        return {'connection_info': {'driver_volume_type': 'iscsi'}}

    def attachment_complete(self, context, attachment_id):
        self._call('attachment_complete', attachment_id)


def _move(cinder, bdm):
    volumes.AttachmentMover(cinder).move(None, 'instance-1', bdm, CONNECTOR)


def test_the_old_attachment_goes_before_the_new_one_connects():
    cinder, bdm = FakeCinder(), FakeBDM()

    _move(cinder, bdm)

    assert cinder.calls == [
        ('attachment_create', 'volume-1'),
        ('attachment_delete', 'old'),
        ('attachment_update', 'new', 'xs2', '/dev/xvdb'),
        ('attachment_complete', 'new')]
    assert bdm.attachment_id == 'new'
    assert json.loads(bdm.connection_info) == {
        'driver_volume_type': 'iscsi', 'connector': CONNECTOR}
    # The mapping named the new attachment before it was connected.
    assert [saved[0] for saved in bdm.saved] == ['new', 'new']


def test_refused_reservation_changes_nothing():
    cinder, bdm = FakeCinder(fail='attachment_create'), FakeBDM()

    with pytest.raises(volumes.AttachmentError, match='volume-1'):
        _move(cinder, bdm)

    assert (bdm.attachment_id, bdm.saved) == ('old', [])


def test_refused_delete_of_the_old_attachment_drops_the_reservation():
    cinder = FakeCinder(fail='attachment_delete')
    bdm = FakeBDM()

    with pytest.raises(volumes.AttachmentError, match='old'):
        _move(cinder, bdm)

    # The old attachment is kept; the second delete is of the reservation.
    assert [c for c in cinder.calls if c[0] == 'attachment_delete'] == [
        ('attachment_delete', 'old'), ('attachment_delete', 'new')]
    assert (bdm.attachment_id, bdm.saved) == ('old', [])


@pytest.mark.parametrize('step', ['attachment_update', 'attachment_complete'])
def test_refused_connection_leaves_the_mapping_on_the_reservation(step):
    cinder, bdm = FakeCinder(fail=step), FakeBDM()
    before = bdm.connection_info

    with pytest.raises(volumes.AttachmentError, match='next pass'):
        _move(cinder, bdm)

    # An attachment that exists, and the old host's connector still
    # stashed: the next pass sees it names another host.
    assert bdm.attachment_id == 'new'
    assert bdm.connection_info == before


def test_a_missing_service_token_is_named_with_its_fix():
    conf = cfg.ConfigOpts()
    nova_conf.service_token.register_opts(conf)
    conf([])
    problem = volumes.service_token_problem(conf)
    assert '[service_user] send_service_user_token' in problem
    conf.set_override('send_service_user_token', True, 'service_user')
    assert volumes.service_token_problem(conf) is None
