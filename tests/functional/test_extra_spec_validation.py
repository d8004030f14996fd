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

"""The ``ha`` extra spec through Nova's flavor API.

Nova validates extra specs from microversion 2.86 on, with the validators
registered on ``nova.api.extra_spec_validators``; below it stores any value.
Keys an operator may take for ``ha`` are refused where Nova lets a plugin
refuse them (see :mod:`nova_ha_ext.api.extra_specs`).
"""

import json

from nova.tests.functional.api import client as api_client

from nova_ha_ext.testing import nova_case


class HAExtraSpecValidationTest(nova_case.NovaHATestCase):

    def setUp(self):
        super().setUp()
        self.flavor_id = self._create_flavor(name='ha.small')

    def _post_ha(self, value, microversion, key='ha'):
        self.admin_api.microversion = microversion
        try:
            self.admin_api.post_extra_spec(
                self.flavor_id, {'extra_specs': {key: value}})
        finally:
            self.admin_api.microversion = self.microversion

    def _stored_specs(self):
        return self.admin_api.get_extra_specs(self.flavor_id)

    def _assert_bad_request_naming_ha(self, exc):
        self.assertEqual(400, exc.response.status_code)
        message = json.loads(exc.response.content)['badRequest']['message']
        self.assertIn("extra spec 'ha' must be boolean-like", message)
        self.assertIn("got 'maybe'", message)

    def test_ha_maybe_is_refused_with_400_at_2_86(self):
        exc = self.assertRaises(
            api_client.OpenStackApiException, self._post_ha, 'maybe', '2.86')

        self._assert_bad_request_naming_ha(exc)
        self.assertNotIn('ha', self._stored_specs())

    def test_ha_maybe_is_refused_with_400_at_the_latest_microversion(self):
        exc = self.assertRaises(
            api_client.OpenStackApiException, self._post_ha, 'maybe',
            'latest')

        self._assert_bad_request_naming_ha(exc)
        self.assertNotIn('ha', self._stored_specs())

    def test_updating_ha_to_maybe_is_refused_with_400(self):
        self._post_ha('true', '2.86')

        exc = self.assertRaises(
            api_client.OpenStackApiException, self.admin_api.put_extra_spec,
            self.flavor_id, 'ha', {'ha': 'maybe'})

        self._assert_bad_request_naming_ha(exc)
        self.assertEqual('true', self._stored_specs()['ha'])

    def test_boolean_like_values_are_accepted(self):
        for value in ('true', 'false', 'True', 'FALSE', 'yes', '0'):
            self._post_ha(value, '2.86')

            self.assertEqual(value, self._stored_specs()['ha'])

    def test_ha_is_not_validated_below_2_86(self):
        self._post_ha('maybe', '2.85')

        self.assertEqual('maybe', self._stored_specs()['ha'])


class NearMissKeyValidationTest(nova_case.NovaHATestCase):
    """Keys taken for ``ha`` through Nova's flavor extra specs API."""

    def setUp(self):
        super().setUp()
        self.flavor_id = self._create_flavor(name='ha.small')

    def _post(self, key, microversion='2.86'):
        self.admin_api.microversion = microversion
        try:
            self.admin_api.post_extra_spec(
                self.flavor_id, {'extra_specs': {key: 'true'}})
        finally:
            self.admin_api.microversion = self.microversion

    def _assert_refused(self, key, microversion='2.86'):
        exc = self.assertRaises(api_client.OpenStackApiException,
                                self._post, key, microversion)
        self.assertEqual(400, exc.response.status_code)
        message = json.loads(exc.response.content)['badRequest']['message']
        self.assertIn('extra spec %r' % key, message)
        self.assertIn('openstack flavor set --property ha=true', message)
        self.assertNotIn(key, self.admin_api.get_extra_specs(self.flavor_id))
        return message

    def test_ha_in_upper_case_is_refused_with_400(self):
        message = self._assert_refused('HA')

        self.assertIn('lower case and without spaces', message)

    def test_ha_with_a_trailing_space_is_refused_with_400(self):
        self._assert_refused('ha ')

    def test_keys_in_the_ha_scope_are_refused_with_400(self):
        for key in ('ha:foo', 'HA:enabled'):
            message = self._assert_refused(key)

            self.assertIn("in the scope 'ha:'", message)

    def test_near_misses_are_refused_at_the_latest_microversion(self):
        self._assert_refused('Ha', microversion='latest')

    def test_updating_a_near_miss_is_refused_with_400(self):
        exc = self.assertRaises(
            api_client.OpenStackApiException, self.admin_api.put_extra_spec,
            self.flavor_id, 'HA', {'HA': 'true'})

        self.assertEqual(400, exc.response.status_code)

    def test_the_aggregate_instance_extra_specs_key_is_left_to_nova(self):
        # Nova's own validator of that namespace accepts it, for its
        # AggregateInstanceExtraSpecsFilter; the scheduler warns instead.
        self._post('aggregate_instance_extra_specs:ha')

        self.assertEqual('true', self.admin_api.get_extra_specs(
            self.flavor_id)['aggregate_instance_extra_specs:ha'])

    def test_near_misses_are_not_validated_below_2_86(self):
        self._post('HA', microversion='2.85')

        self.assertEqual(
            'true', self.admin_api.get_extra_specs(self.flavor_id)['HA'])


class RestartPolicyValidationTest(nova_case.NovaHATestCase):
    """``ha:restart_priority``, ``ha:order`` and ``ha:start_delay``."""

    def setUp(self):
        super().setUp()
        self.flavor_id = self._create_flavor(name='ha.small')
        self.admin_api.microversion = '2.86'
        self.addCleanup(setattr, self.admin_api, 'microversion',
                        self.microversion)

    def _post(self, key, value):
        self.admin_api.post_extra_spec(
            self.flavor_id, {'extra_specs': {'ha': 'true', key: value}})

    def _refused(self, key, value):
        exc = self.assertRaises(api_client.OpenStackApiException,
                                self._post, key, value)
        self.assertEqual(400, exc.response.status_code)
        self.assertNotIn(key, self.admin_api.get_extra_specs(self.flavor_id))
        return json.loads(exc.response.content)['badRequest']['message']

    def test_good_values_are_stored(self):
        for key, value in (('ha:restart_priority', 'best-effort'),
                           ('ha:restart_priority', 'restart'),
                           ('ha:order', '0'), ('ha:order', '12'),
                           ('ha:start_delay', '30')):
            self._post(key, value)

            self.assertEqual(value,
                             self.admin_api.get_extra_specs(
                                 self.flavor_id)[key])

    def test_an_unknown_priority_is_refused_naming_the_key(self):
        message = self._refused('ha:restart_priority', 'always')

        self.assertIn("extra spec 'ha:restart_priority' must be one of: "
                      "restart, best-effort, got 'always'", message)

    def test_a_negative_order_is_refused_naming_the_key(self):
        message = self._refused('ha:order', '-1')

        self.assertIn("extra spec 'ha:order' must be an integer >= 0, "
                      "got '-1'", message)

    def test_a_start_delay_that_is_not_a_whole_number_is_refused(self):
        message = self._refused('ha:start_delay', '1.5')

        self.assertIn("extra spec 'ha:start_delay' must be an integer >= 0 "
                      "(seconds), got '1.5'", message)

    def test_other_keys_in_the_ha_scope_are_still_refused(self):
        message = self._refused('ha:priority', 'restart')

        self.assertIn("in the scope 'ha:'", message)
        self.assertIn('ha:restart_priority', message)
