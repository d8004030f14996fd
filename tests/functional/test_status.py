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


"""``nova-ha-status upgrade check``: each check against real Nova.

Nova runs in-process (its functional fixtures: API, databases, placement)
with the aggregates and flavors an operator makes; pools are served by
the XenAPI pool simulator over XML-RPC on loopback; the coordination
backends are tooz's ``file://`` driver and a redis URL where nothing
listens. Every check has a success, a warning and a failure case.
"""

import os
import socket
import sys
import textwrap

import fixtures
from nova import objects
from oslo_upgradecheck import upgradecheck

from nova_ha_ext.cmd import status
from nova_ha_ext.reconcile import coordination
from nova_ha_ext.simulator import fixture as sim_fixture
from nova_ha_ext.testing import nova_case
from nova_ha_ext.testing import xenapi_pools

SUCCESS = upgradecheck.Code.SUCCESS
WARNING = upgradecheck.Code.WARNING
FAILURE = upgradecheck.Code.FAILURE


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class StatusTestCase(nova_case.NovaHATestCase):
    """Real Nova; one simulated HA pool, pool-a."""

    def setUp(self):
        super().setUp()
        self.sim_fixture = self.useFixture(sim_fixture.SimulatorFixture(
            {'pools': [xenapi_pools.pool_scenario('pool-a', ha=True)]}))
        self.flags(connection_username='root',
                   connection_password=xenapi_pools.PASSWORD,
                   connect_timeout=2.0, read_timeout=5.0,
                   allow_plain_http=True, group='xenapi')
        self.checks = status.Checks(context_factory=lambda: self.ctxt)

    def _set_extra_specs(self, flavor_id, specs):
        """Store extra specs as an older API or Nova release left them."""
        flavor = objects.Flavor.get_by_flavor_id(self.ctxt, flavor_id)
        flavor.extra_specs = specs
        flavor.save()


class TestFilterCheck(StatusTestCase):

    def test_success_when_enabled_and_available(self):
        result = self.checks._check_filter()
        self.assertEqual(SUCCESS, result.code, result.details)

    def test_warning_when_nova_filter_also_reads_ha(self):
        self.flags(enabled_filters=self.enabled_filters + [
            'AggregateInstanceExtraSpecsFilter'], group='filter_scheduler')

        result = self.checks._check_filter()

        self.assertEqual(WARNING, result.code)
        self.assertIn('AggregateInstanceExtraSpecsFilter is enabled too',
                      result.details)

    def test_failure_when_not_enabled(self):
        self.flags(enabled_filters=nova_case.DEFAULT_FILTERS,
                   group='filter_scheduler')

        result = self.checks._check_filter()

        self.assertEqual(FAILURE, result.code)
        self.assertIn('HAAggregateFilter is not in [filter_scheduler] '
                      'enabled_filters', result.details)

    def test_failure_when_enabled_but_not_available(self):
        self.flags(available_filters=['nova.scheduler.filters.all_filters'],
                   group='filter_scheduler')

        result = self.checks._check_filter()

        self.assertEqual(FAILURE, result.code)
        self.assertIn('enabled but not available', result.details)
        self.assertIn(nova_case.FILTER_PATH, result.details)


class TestValidatorCheck(StatusTestCase):
    """Entry points of real distributions on ``sys.path``.

    The warning and failure cases install, in a directory put on
    ``sys.path``, a distribution of their own whose entry points are in a
    namespace of the test's, as ``pip`` would write them.
    """

    def _namespace(self, entry_points, modules=None):
        directory = self.useFixture(fixtures.TempDir()).path
        dist = os.path.join(directory, 'ha_status_plugins-1.0.dist-info')
        os.mkdir(dist)
        with open(os.path.join(dist, 'METADATA'), 'w') as f:
            f.write('Metadata-Version: 2.1\nName: ha-status-plugins\n'
                    'Version: 1.0\n')
        namespace = 'nova_ha_ext_tests.validators_%s' % self.id().rsplit(
            '.', 1)[-1]
        with open(os.path.join(dist, 'entry_points.txt'), 'w') as f:
            f.write('[%s]\n%s\n' % (namespace, entry_points))
        for name, text in (modules or {}).items():
            with open(os.path.join(directory, name + '.py'), 'w') as f:
                f.write(textwrap.dedent(text))
        self.useFixture(fixtures.MonkeyPatch(
            'sys.path', [directory] + sys.path))
        return status.Checks(context_factory=lambda: self.ctxt,
                             validator_namespace=namespace)

    def test_success_with_the_installed_entry_point(self):
        result = self.checks._check_validator()
        self.assertEqual(SUCCESS, result.code, result.details)

    def test_warning_when_another_plugin_registers_ha(self):
        checks = self._namespace(
            'nova_ha_ext = nova_ha_ext.api.extra_specs\n'
            'other = other_ha_validator\n',
            {'other_ha_validator': '''
                from nova.api.validation.extra_specs import base

                def register():
                    return [base.ExtraSpecValidator(
                        name='ha', description='another ha',
                        value={'type': str})]
                '''})

        result = checks._check_validator()

        self.assertEqual(WARNING, result.code, result.details)
        self.assertIn('other_ha_validator also registers a validator of '
                      'the ha extra spec', result.details)

    def test_failure_when_not_installed(self):
        checks = self._namespace('other = nova.api.validation.extra_specs.'
                                 'hw\n')

        result = checks._check_validator()

        self.assertEqual(FAILURE, result.code)
        self.assertIn('no nova_ha_ext_tests.validators_', result.details)
        self.assertIn('entry point of nova-ha-ext is installed',
                      result.details)

    def test_failure_when_it_cannot_be_loaded(self):
        checks = self._namespace(
            'nova_ha_ext = nova_ha_ext.api.extra_specs:no_such_thing\n')

        result = checks._check_validator()

        self.assertEqual(FAILURE, result.code)
        self.assertIn('cannot be loaded', result.details)


class TestPoolsCheck(StatusTestCase):

    def _aggregate(self, name, **metadata):
        self._create_ha_aggregate(name, [], **metadata)

    def test_success_when_every_pool_answers(self):
        self._aggregate('pool-a', xenapi_pool_url=self.sim_fixture.pool(
            'pool-a').url)

        result = self.checks._check_pools()

        self.assertEqual(SUCCESS, result.code, result.details)

    def test_warning_for_an_ha_aggregate_without_a_pool_url(self):
        self._aggregate('pool-a', xenapi_pool_url=self.sim_fixture.pool(
            'pool-a').url)
        self._aggregate('pool-z')

        result = self.checks._check_pools()

        self.assertEqual(WARNING, result.code)
        self.assertIn('HA aggregate pool-z has no xenapi_pool_url metadata',
                      result.details)

    def test_failure_for_a_pool_that_does_not_answer(self):
        self._aggregate('pool-a', xenapi_pool_url=self.sim_fixture.pool(
            'pool-a').url)
        self._aggregate('pool-gone', xenapi_pool_url='http://127.0.0.1:%d'
                        % _free_port())

        result = self.checks._check_pools()

        self.assertEqual(FAILURE, result.code)
        self.assertIn('(aggregate pool-gone)', result.details)
        self.assertNotIn('pool-a', result.details)
        self.assertNotIn(xenapi_pools.PASSWORD, result.details)

    def test_failure_for_a_wrong_password_never_shows_it(self):
        self.flags(connection_password='not-the-password', group='xenapi')
        self._aggregate('pool-a', xenapi_pool_url=self.sim_fixture.pool(
            'pool-a').url)

        result = self.checks._check_pools()

        self.assertEqual(FAILURE, result.code)
        self.assertIn('(aggregate pool-a)', result.details)
        self.assertNotIn('not-the-password', result.details)

    def test_failure_for_a_url_with_credentials(self):
        url = self.sim_fixture.pool('pool-a').url.replace(
            'http://', 'http://root:hunter2@')
        self._aggregate('pool-a', xenapi_pool_url=url)

        result = self.checks._check_pools()

        self.assertEqual(FAILURE, result.code)
        self.assertNotIn('hunter2', result.details)


class TestFlavorKeysCheck(StatusTestCase):

    def test_success_with_ha_and_the_known_ha_scoped_keys(self):
        flavor = self._create_flavor_with_specs('ha.small', {})
        self._set_extra_specs(flavor, {
            'ha': 'true', 'ha:restart_priority': 'restart', 'ha:order': '1',
            'ha:start_delay': '10', 'hw:cpu_policy': 'shared'})

        result = self.checks._check_flavor_keys()

        self.assertEqual(SUCCESS, result.code, result.details)

    def test_warning_for_keys_taken_for_ha(self):
        for name, key in (('upper', 'HA'), ('space', 'ha '),
                          ('scoped', 'ha:enabled')):
            flavor = self._create_flavor_with_specs(name, {})
            self._set_extra_specs(flavor, {key: 'true'})

        result = self.checks._check_flavor_keys()

        self.assertEqual(WARNING, result.code)
        for text in ("Flavor upper has 'HA'", "Flavor space has 'ha '",
                     "Flavor scoped has 'ha:enabled'"):
            self.assertIn(text, result.details)

    def test_failure_for_an_ha_value_that_is_not_boolean_like(self):
        flavor = self._create_flavor_with_specs('maybe', {})
        self._set_extra_specs(flavor, {'ha': 'maybe', 'HA': 'true'})

        result = self.checks._check_flavor_keys()

        self.assertEqual(FAILURE, result.code)
        self.assertIn("flavor maybe has ha='maybe'", result.details)
        # The warning of the same run is kept.
        self.assertIn("Flavor maybe has 'HA'", result.details)

    def test_failure_for_a_restart_policy_value_xenserver_would_not_take(self):
        # Stored before the validator existed: the filter refuses every
        # host to this flavor, so the check says so and names the key.
        flavor = self._create_flavor_with_specs('late', {})
        self._set_extra_specs(flavor, {'ha': 'true', 'ha:order': '-1'})

        result = self.checks._check_flavor_keys()

        self.assertEqual(FAILURE, result.code)
        self.assertIn("flavor late has extra spec 'ha:order' must be an "
                      "integer >= 0, got '-1'", result.details)
        self.assertIn('--property ha:order=<value> late', result.details)


class TestCoordinationCheck(StatusTestCase):

    def test_success_for_a_single_worker_with_a_lock_path(self):
        self.flags(lock_path=self.useFixture(
            fixtures.TempDir()).path,
            group='oslo_concurrency')

        result = self.checks._check_coordination()

        self.assertEqual(SUCCESS, result.code, result.details)
        self.assertIn('run exactly one nova-ha-reconciler', result.details)

    def test_warning_without_backend_or_lock_path(self):
        self.flags(lock_path=None, group='oslo_concurrency')

        result = self.checks._check_coordination()

        self.assertEqual(WARNING, result.code)
        self.assertIn('no [coordination] backend_url and no '
                      '[oslo_concurrency] lock_path', result.details)

    def _file_backend(self):
        path = self.useFixture(fixtures.TempDir()).path
        url = 'file://%s' % path
        self.flags(backend_url=url, member_timeout=3,
                   heartbeat_interval=0.5, group='coordination')
        return url

    def test_success_with_a_live_worker_in_the_group(self):
        self._file_backend()
        worker = coordination.PoolCoordinator(status.CONF,
                                              member_id='worker-1')
        worker.start(wait=True)
        self.addCleanup(worker.stop)

        result = self.checks._check_coordination()

        self.assertEqual(SUCCESS, result.code, result.details)

    def test_warning_when_no_worker_is_in_the_group(self):
        self._file_backend()

        result = self.checks._check_coordination()

        self.assertEqual(WARNING, result.code)
        self.assertIn('no nova-ha-reconciler is in group '
                      'nova-ha-reconciler', result.details)

    def test_failure_for_timings_the_workers_refuse(self):
        self._file_backend()
        self.flags(heartbeat_interval=2.0, group='coordination')

        result = self.checks._check_coordination()

        self.assertEqual(FAILURE, result.code)
        self.assertIn('[coordination] heartbeat_interval', result.details)

    def test_failure_for_a_backend_that_does_not_answer(self):
        self.flags(backend_url='redis://:s3cret@127.0.0.1:%d'
                   % _free_port(), member_timeout=3,
                   heartbeat_interval=0.5, group='coordination')

        result = self.checks._check_coordination()

        self.assertEqual(FAILURE, result.code)
        self.assertIn('does not answer', result.details)
        self.assertNotIn('s3cret', result.details)
