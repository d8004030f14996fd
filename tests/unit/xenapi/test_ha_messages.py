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

"""Reading XenServer's HA alerts: records, timestamps, the one call."""

import datetime
import xmlrpc.client

import pytest

from nova_ha_ext.simulator import fixture
from nova_ha_ext.xenapi import client as xenapi_client
from nova_ha_ext.xenapi import ha_messages
from tests.unit.simulator import base

UTC = datetime.timezone.utc
WHEN = datetime.datetime(2026, 12, 1, 16, 52, 43, tzinfo=UTC)


@pytest.mark.parametrize('value', [
    xmlrpc.client.DateTime('20261201T16:52:43Z'),  # XML-RPC, as xapi sends
    '20261201T16:52:43Z',  # JSON-RPC
    '2026-12-01T16:52:43Z',
    datetime.datetime(2026, 12, 1, 16, 52, 43),
])
def test_timestamps_of_either_wire_are_read_as_utc(value):
    assert ha_messages.parse_timestamp(value) == WHEN


def test_a_record_that_is_not_a_message_says_which_field():
    record = {'uuid': 'u', 'name': 'HA_HOST_FAILED', 'priority': 'high',
              'cls': 'Host', 'obj_uuid': 'h', 'timestamp': WHEN}
    with pytest.raises(ha_messages.BadMessage, match='OpaqueRef:m'):
        ha_messages.from_record('OpaqueRef:m', record)


def test_the_names_are_xapis_ha_alerts():
    # api_messages.ml: every HA_* name there, nothing else.
    assert all(n.startswith('HA_') for n in ha_messages.HA_MESSAGE_NAMES)
    assert len(ha_messages.HA_MESSAGE_NAMES) == 10
    assert not ha_messages.is_ha({'name': 'VM_STARTED'})


def test_read_recent_is_one_call_newest_first():
    with fixture.SimulatorFixture(base.scenario(base.pool(vms=[
            {'name_label': 'p', 'memory_mb': 64, 'host': 'xs-a2',
             'ha_restart_priority': 'restart'}]))) as sim_fixture:
        sim = sim_fixture.simulator
        info = sim_fixture.pool('pool-a')
        client = xenapi_client.PoolClient(
            info.url, info.username, info.password, name='pool-a',
            allow_plain_http=True)
        try:
            sim.fail_host('pool-a', 'xs-a2')
            sim.wait_until_quiet('pool-a')
            sim.recover_host('pool-a', 'xs-a2')
            client.read_ha_state()  # logged in: count the read alone
            sim.reset_calls('pool-a')
            alerts = ha_messages.read_recent(client, limit=5)
            assert sim.calls('pool-a') == {
                'message.get_all_records_where': 1}
        finally:
            client.close()
    assert sorted(a.name for a in alerts) == ['HA_HOST_FAILED',
                                              'HA_HOST_WAS_FENCED']
    # Newest first; xapi's timestamps have whole seconds, the uuid breaks
    # a tie so that the order is stable.
    assert alerts == sorted(alerts, key=lambda a: (a.timestamp, a.uuid),
                            reverse=True)
    assert all(a.timestamp.tzinfo is UTC for a in alerts)
