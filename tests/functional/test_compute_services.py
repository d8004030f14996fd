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

"""The nova-compute service of a dead XenServer host, against real Nova."""

from nova import utils

from nova_ha_ext.reconcile import outcome
from nova_ha_ext.reconcile import services
from tests.functional import test_reconciler


class ComputeServiceTestCase(test_reconciler.ReconcilerTestCase):

    def service(self, host='xs-a2'):
        """The service as the os-services API shows it (2.53 and later)."""
        with utils.temporary_mutation(
                self.admin_api, microversion='2.53'):
            [service] = self.admin_api.get_services(
                binary='nova-compute', host=host)
        return service

    def set_service(self, req, host='xs-a2'):
        """``openstack compute service set`` as an operator runs it."""
        with utils.temporary_mutation(
                self.admin_api, microversion='2.53'):
            return self.admin_api.put_service(self.service(host)['id'], req)

    def changes(self, report):
        return [(c.kind, c.host, c.status) for c in report.services]


class TestDeadHostService(ComputeServiceTestCase):

    def test_disabled_while_dead_then_enabled_when_live(self):
        self.fail('xs-a2')
        report = self.reconcile()
        self.assertEqual([(services.DISABLE, 'xs-a2', outcome.APPLIED)],
                         self.changes(report))
        shown = self.service()
        self.assertEqual('disabled', shown['status'])
        self.assertTrue(shown['disabled_reason'].startswith('nova-ha-ext:'))
        self.assertIn('XenServer host xs-a2 of pool pool-a is not live',
                      shown['disabled_reason'])
        # Nothing is scheduled there while it is down.
        server = self._create_server(
            name='late', flavor_id=self.plain, networks='none',
            host='xs-a2', expected_state='ERROR')
        self.assertIn('No valid host', server['fault']['message'])
        # A second pass leaves it as it is.
        self.assertEqual([], self.changes(self.reconcile()))

        self.sim.recover_host('pool-a', 'xs-a2')
        self.assertEqual([(services.ENABLE, 'xs-a2', outcome.APPLIED)],
                         self.changes(self.reconcile()))
        shown = self.service()
        self.assertEqual('enabled', shown['status'])
        self.assertIsNone(shown['disabled_reason'])

    def test_an_operators_disable_is_never_undone(self):
        self.set_service({'status': 'disabled',
                          'disabled_reason': 'new disks, ticket OPS-9'})
        self.fail('xs-a2')
        self.assertEqual([(services.KEEP, 'xs-a2', outcome.REPORTED)],
                         self.changes(self.reconcile()))
        self.sim.recover_host('pool-a', 'xs-a2')
        self.assertEqual([], self.changes(self.reconcile()))
        shown = self.service()
        self.assertEqual(('disabled', 'new disks, ticket OPS-9'),
                         (shown['status'], shown['disabled_reason']))

    def test_an_operator_may_enable_it_while_the_host_is_down(self):
        self.fail('xs-a2')
        self.reconcile()
        self.set_service({'status': 'enabled'})
        self.assertEqual([], self.changes(self.reconcile()))
        self.assertEqual('enabled', self.service()['status'])

    def test_dry_run_changes_nothing(self):
        self.fail('xs-a2')
        report = self.reconcile(dry_run=True)
        self.assertEqual([(services.DISABLE, 'xs-a2', outcome.DRY_RUN)],
                         self.changes(report))
        self.assertEqual('enabled', self.service()['status'])


class TestOptionOff(ComputeServiceTestCase):

    def setUp(self):
        super().setUp()
        self.flags(manage_compute_service=False, group='ha_reconciler')

    def test_compute_services_are_left_alone(self):
        self.fail('xs-a2')
        report = self.reconcile()
        self.assertEqual((), report.services)
        self.assertEqual('enabled', self.service()['status'])
