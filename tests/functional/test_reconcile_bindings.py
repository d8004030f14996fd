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

"""After an HA restart, ports and volumes follow the instance.

Real Nova in-process with Nova's own ``NeutronFixture`` (ports, their
bindings per host, the binding-extended extension) and ``CinderFixture``
(attachments with their connectors, one connected attachment per volume),
XenAPI-backed computes on a simulated HA pool: servers with a port and a
volume (one boots from its volume) run on a host that fails; XenServer HA
restarts them elsewhere, and a pass of the reconciler must leave each
instance fully usable where it now runs.
"""

import contextlib
from unittest import mock

from cinderclient import exceptions as cinder_exc
from neutronclient.common import exceptions as neutron_exc
from oslo_serialization import jsonutils
from oslo_utils.fixture import uuidsentinel as uuids

from nova import objects
from nova.tests import fixtures as nova_fixtures
from nova.volume import cinder

from nova_ha_ext.cmd import manage
from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import outcome
from tests.functional import test_reconciler

BFV_VOLUME = nova_fixtures.CinderFixture.IMAGE_BACKED_VOL


@contextlib.contextmanager
def failing(fixture_mock, exc):
    """Make one of CinderFixture's mocked Cinder calls raise ``exc``."""
    original = fixture_mock.side_effect
    fixture_mock.side_effect = exc
    try:
        yield
    finally:
        fixture_mock.side_effect = original


class BindingsTestCase(test_reconciler.ReconcilerTestCase):

    def setUp(self):
        super().setUp()
        # ProviderUsageBaseTestCase keeps no handle on its CinderFixture;
        # this one replaces it, and its attachments can be inspected.
        self.cinder = self.useFixture(nova_fixtures.CinderFixture(self))

    # Servers with a port and a volume.

    def network(self):
        return [{'uuid': self.neutron.network_1['id']}]

    def boot_with_volume(self, host, flavor, name, volume_id):
        server = self._create_server(name=name, flavor_id=flavor,
                                     networks=self.network(), host=host)
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        self.api.post_server_volume(
            server['id'], {'volumeAttachment': {'volumeId': volume_id}})
        self._wait_for_volume_attach(server['id'], volume_id)
        return server

    def boot_from_volume(self, host, flavor, name):
        body = self._build_server(name=name, image_uuid='',
                                  flavor_id=flavor, networks=self.network(),
                                  host=host)
        body['block_device_mapping_v2'] = [{
            'boot_index': 0, 'uuid': BFV_VOLUME, 'source_type': 'volume',
            'destination_type': 'volume'}]
        server = self.api.post_server({'server': body})
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        return server

    # What Neutron, Cinder and Nova say.

    def ports_of(self, server):
        return [p for p in self.neutron._ports.values()
                if p['device_id'] == server['id']]

    def bindings(self, port):
        """host -> binding status, of every binding of the port."""
        return {host: b['status'] for host, b in
                self.neutron._port_bindings[port['id']].items()}

    def attachments(self, volume_id):
        return list(self.cinder.volume_to_attachment[volume_id].values())

    def bdm(self, server, volume_id):
        return objects.BlockDeviceMapping.get_by_volume_and_instance(
            self.ctxt, volume_id, server['id'])

    def instance(self, server):
        return objects.Instance.get_by_uuid(self.ctxt, server['id'],
                                            expected_attrs=['info_cache'])

    def cached_ports(self, server):
        return sorted(vif['id']
                      for vif in self.instance(server).info_cache.network_info)

    def connector_of(self, host, server):
        """The connector the host's own compute driver gives Cinder."""
        return self.computes[host].driver.get_volume_connector(
            self.instance(server))

    def assert_follows(self, server, volume_id, host):
        """The server's ports and volume are bound to ``host`` only."""
        ports = self.ports_of(server)
        self.assertEqual(1, len(ports))
        for port in ports:
            self.assertEqual(host, port['binding:host_id'])
            self.assertEqual({host: 'ACTIVE'}, self.bindings(port))
            self.assertEqual('compute:nova', port['device_owner'])
            self.assertNotIn('migrating_to',
                             port.get('binding:profile') or {})
        [attachment] = self.attachments(volume_id)
        bdm = self.bdm(server, volume_id)
        self.assertEqual(bdm.attachment_id, attachment['id'])
        wanted = self.connector_of(host, server)
        got = {key: attachment['connector'][key] for key in wanted}
        self.assertEqual(wanted, got)
        self.assertEqual(wanted, jsonutils.loads(
            bdm.connection_info)['connector'])
        self.assertEqual('in-use',
                         self.cinder.fake_get(self.ctxt, volume_id)['status'])


class TestPortsAndVolumesFollow(BindingsTestCase):

    def test_each_host_has_its_own_connector(self):
        server = self.boot_on('xs-a1', self.plain, 'plain')
        connectors = [self.connector_of(h, server)
                      for h in ('xs-a1', 'xs-a2', 'xs-a3')]
        self.assertEqual(3, len({c['initiator'] for c in connectors}))
        self.assertEqual(['xs-a1', 'xs-a2', 'xs-a3'],
                         [c['host'] for c in connectors])

    def test_ports_and_volumes_follow_the_instance_and_nothing_is_left(self):
        ha = self.boot_with_volume('xs-a2', self.ha, 'ha', uuids.ha_volume)
        bfv = self.boot_from_volume('xs-a2', self.ha, 'bfv')
        plain = self.boot_with_volume('xs-a2', self.plain, 'plain',
                                      uuids.plain_volume)
        cached = {s['id']: self.cached_ports(s) for s in (ha, bfv, plain)}
        plain_attachment = self.attachments(uuids.plain_volume)

        self.fail('xs-a2')
        report = self.reconcile()

        results = {(r.action.instance_uuid, r.action.kind): r
                   for r in report.results}
        for server, volume_id in ((ha, uuids.ha_volume), (bfv, BFV_VOLUME)):
            host = self.vm_of('pool-a', server)['host']
            self.assertNotEqual('xs-a2', host)
            self.assertEqual(host, self.server_host(server))
            bind = results[(server['id'], decide.BIND)]
            self.assertEqual((outcome.APPLIED, 'relocate'),
                             (bind.status, bind.action.rule))
            self.assert_follows(server, volume_id, host)
            self.assertEqual(cached[server['id']], self.cached_ports(server))
        # The plain server on the dead host keeps all it had.
        self.assertEqual('xs-a2', self.server_host(plain))
        [port] = self.ports_of(plain)
        self.assertEqual({'xs-a2': 'ACTIVE'}, self.bindings(port))
        self.assertEqual(plain_attachment,
                         self.attachments(uuids.plain_volume))
        self.assertEqual(cached[plain['id']], self.cached_ports(plain))
        self.assertEqual(0, report.failed)

    def test_failures_are_reported_and_the_next_pass_completes(self):
        server = self.boot_with_volume('xs-a2', self.ha, 'ha',
                                       uuids.volume)
        [port] = self.ports_of(server)
        [old_attachment] = self.attachments(uuids.volume)
        cached = self.cached_ports(server)
        self.fail('xs-a2')
        host = self.vm_of('pool-a', server)['host']

        refused = neutron_exc.Conflict('binding refused by the test')
        unavailable = cinder_exc.ClientException(
            503, 'cinder-api is down for the test')
        with mock.patch.object(self.neutron, 'update_port',
                               side_effect=refused), \
                failing(cinder.API.attachment_create, unavailable):
            code, text = self.run_manage('reconcile')
        self.assertEqual(manage.ATTENTION, code)
        self.assertIn(port['id'], text)
        self.assertIn('binding refused by the test', text)
        self.assertIn(uuids.volume, text)
        self.assertIn('cinder-api is down for the test', text)
        # Relocated; the port and the attachment are as they were.
        self.assertEqual(host, self.server_host(server))
        self.assertEqual({'xs-a2': 'ACTIVE'}, self.bindings(port))
        self.assertEqual([old_attachment], self.attachments(uuids.volume))
        self.assertEqual(old_attachment['id'],
                         self.bdm(server, uuids.volume).attachment_id)
        self.assertEqual(cached, self.cached_ports(server))

        # The next pass finds what is left behind and completes it.
        report = self.reconcile()
        [bind] = report.results
        self.assertEqual((decide.BIND, 'bindings-pending', outcome.APPLIED),
                         (bind.action.kind, bind.action.rule, bind.status))
        self.assert_follows(server, uuids.volume, host)
        self.assertEqual(cached, self.cached_ports(server))
        code, text = self.run_manage('reconcile')
        self.assertEqual(manage.OK, code, text)

    def test_a_pass_in_sync_writes_nothing_to_neutron_or_cinder(self):
        server = self.boot_with_volume('xs-a2', self.ha, 'ha', uuids.volume)
        self.fail('xs-a2')
        self.reconcile()
        cinder_calls = [cinder.API.attachment_create,
                        cinder.API.attachment_update,
                        cinder.API.attachment_delete]
        before = [call.call_count for call in cinder_calls]
        with mock.patch.object(self.neutron, 'update_port',
                               autospec=False) as update, \
                mock.patch.object(self.neutron, 'delete_port_binding',
                                  autospec=False) as unbind:
            report = self.reconcile()
        self.assertEqual((), report.results)
        self.assertEqual((0, 0), (update.call_count, unbind.call_count))
        self.assertEqual(before, [call.call_count for call in cinder_calls])
        self.assertEqual(self.vm_of('pool-a', server)['host'],
                         self.server_host(server))

    def test_dry_run_lists_the_changes_and_writes_nothing(self):
        server = self.boot_with_volume('xs-a3', self.ha, 'ha', uuids.volume)
        [port] = self.ports_of(server)
        [attachment] = self.attachments(uuids.volume)
        self.fail('xs-a3')
        code, text = self.run_manage('reconcile', '--dry-run')
        self.assertEqual(manage.ATTENTION, code)
        [line] = [line for line in text.splitlines() if ' bind ' in line]
        self.assertIn('dry-run', line)
        self.assertIn(port['id'], line)
        self.assertIn(uuids.volume, line)
        self.assertEqual('xs-a3', self.server_host(server))
        self.assertEqual({'xs-a3': 'ACTIVE'}, self.bindings(port))
        self.assertEqual([attachment], self.attachments(uuids.volume))


class TestAvailabilityZone(BindingsTestCase):

    def test_instance_and_ports_follow_the_zone_of_the_new_host(self):
        self._create_ha_aggregate('zone-b', ['xs-a1', 'xs-a3'], ha=None,
                                  availability_zone='zone-b')
        server = self._create_server(name='ha', flavor_id=self.ha,
                                     networks=self.network(), host='xs-a2')
        self.assertEqual('nova', server['OS-EXT-AZ:availability_zone'])
        self.fail('xs-a2')
        self.reconcile()
        shown = self.api.get_server(server['id'])
        self.assertNotEqual('xs-a2', shown['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('zone-b', shown['OS-EXT-AZ:availability_zone'])
        [port] = self.ports_of(server)
        self.assertEqual('compute:zone-b', port['device_owner'])
        self.assertEqual(shown['OS-EXT-SRV-ATTR:host'],
                         port['binding:host_id'])
