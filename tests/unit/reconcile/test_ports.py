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

"""Port bindings: the Neutron requests the reconciler makes.

The functional tests bind ports through Nova's NeutronFixture; these cover
the request shapes that are awkward to reach there.
"""

from neutronclient.common import exceptions as neutron_exc
import pytest

from nova.network import neutron

from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import ports
from nova_ha_ext.xenapi import pool_state


class FakeNeutron:
    """list_ports and update_port, with a count of the requests."""

    def __init__(self, ports_by_device=None, refuse=()):
        self.ports_by_device = ports_by_device or {}
        self.refuse = set(refuse)
        self.lists = []
        self.updates = []

    def list_ports(self, device_id, fields):
        self.lists.append(list(device_id))
        return {'ports': [p for d in device_id
                          for p in self.ports_by_device.get(d, ())]}

    def update_port(self, port_id, body):
        if port_id in self.refuse:
            raise neutron_exc.Conflict('refused')
        self.updates.append((port_id, body['port']))


class FakeNetworkAPI:
    def __init__(self, extended=True):
        self.extended = extended
        self.deleted = []

    def has_port_binding_extension(self, client=None):
        return self.extended

    def delete_port_binding(self, context, port_id, host):
        self.deleted.append((port_id, host))


@pytest.fixture
def neutron_client(monkeypatch):
    client = FakeNeutron()
    monkeypatch.setattr(neutron, 'get_client',
                        lambda context, admin=False: client)
    return client


def _port(port_id='port-1', host='compute-1', owner='compute:az1',
          **profile):
    return decide.PortBinding(port_id=port_id, host=host,
                              profile=pool_state.frozen_map(profile),
                              device_owner=owner)


def test_bindings_are_read_in_chunks_of_instances(neutron_client):
    uuids = ['uuid-%03d' % i for i in range(2 * ports.CHUNK + 1)]
    neutron_client.ports_by_device = {
        'uuid-007': [{'id': 'p2', 'device_id': 'uuid-007',
                      'binding:host_id': 'c1', 'device_owner': 'compute:z',
                      'binding:profile': {}},
                     {'id': 'p1', 'device_id': 'uuid-007',
                      'binding:host_id': 'c1', 'device_owner': 'compute:z',
                      'binding:profile': None}]}

    bindings = ports.PortBinder(FakeNetworkAPI()).read(None, uuids)

    assert [len(chunk) for chunk in neutron_client.lists] == [
        ports.CHUNK, ports.CHUNK, 1]
    assert [p.port_id for p in bindings['uuid-007']] == ['p1', 'p2']
    assert set(bindings) == {'uuid-007'}


def test_no_instance_with_ports_asks_neutron_nothing(neutron_client):
    assert ports.PortBinder(FakeNetworkAPI()).read(None, []) == {}
    assert neutron_client.lists == []


def test_a_port_is_bound_to_the_new_host_and_zone(neutron_client):
    api = FakeNetworkAPI()
    port = _port(migrating_to='compute-9', other='kept')

    failures = ports.PortBinder(api).bind(None, 'uuid-1', [port], 'compute-2',
                                          'az2')

    assert failures == []
    assert neutron_client.updates == [('port-1', {
        'binding:host_id': 'compute-2',
        'binding:profile': {'other': 'kept'},
        'device_owner': 'compute:az2'})]
    assert api.deleted == [('port-1', 'compute-1')]


def test_a_port_nova_does_not_own_keeps_its_owner(neutron_client):
    ports.PortBinder(FakeNetworkAPI()).bind(
        None, 'uuid-1', [_port(owner='network:dhcp')], 'compute-2', 'az2')

    [(_, body)] = neutron_client.updates
    assert 'device_owner' not in body


@pytest.mark.parametrize('allocation, moved', [
    ('rp-old-child', 'rp-new-child'),
    ({'group-1': 'rp-old-child', 'group-2': 'rp-shared'},
     {'group-1': 'rp-new-child', 'group-2': 'rp-shared'}),
])
def test_a_port_allocation_follows_its_provider(neutron_client, allocation,
                                                moved):
    ports.PortBinder(FakeNetworkAPI()).bind(
        None, 'uuid-1', [_port(allocation=allocation)], 'compute-2', 'az2',
        providers={'rp-old-child': 'rp-new-child'})

    [(_, body)] = neutron_client.updates
    assert body['binding:profile'] == {'allocation': moved}


def test_without_the_extension_no_binding_is_deleted(neutron_client):
    api = FakeNetworkAPI(extended=False)

    ports.PortBinder(api).bind(None, 'uuid-1', [_port()], 'compute-2', 'az2')

    assert api.deleted == []


def test_one_refused_port_does_not_stop_the_others(neutron_client):
    neutron_client.refuse = {'port-1'}
    api = FakeNetworkAPI()

    [failure] = ports.PortBinder(api).bind(
        None, 'uuid-1', [_port('port-1'), _port('port-2')], 'compute-2',
        'az2')

    assert 'port-1' in str(failure) and 'refused' in str(failure)
    assert [u[0] for u in neutron_client.updates] == ['port-2']
    # The refused port keeps its one binding, on the old host.
    assert api.deleted == [('port-2', 'compute-1')]
