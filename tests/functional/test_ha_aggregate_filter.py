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

"""HAAggregateFilter in a real Nova: API, conductor, scheduler, computes.

The cloud of every test::

    ha1, ha2   medium hosts in aggregate pool-ha     (ha=true)
    big        a much larger host in pool-plain      (ha=false)
    plain      a medium host in no aggregate

The weighers (RAM, CPU, disk) prefer ``big`` for every boot, so a server that
does not land on ``big`` was kept off it by a filter. The tests without
HAAggregateFilter prove that preference.
"""

from nova_ha_ext import conf  # noqa: F401  registers [ha_filter]
from nova_ha_ext.testing import nova_case

HA_HOSTS = ('ha1', 'ha2')


class HAPoolsTestCase(nova_case.NovaHATestCase):
    """Two HA hosts, a big non-HA favourite of the weighers, a plain host."""

    def setUp(self):
        super().setUp()
        for host in HA_HOSTS:
            self._start_compute(host)
        self._start_compute('plain')
        # The weighers' favourite: about 100 times the RAM of the others.
        self.flags(compute_driver='fake.FakeDriver')
        self._start_compute('big')
        self.flags(compute_driver=self.compute_driver)

        self.ha_pool = self._create_ha_aggregate('pool-ha', HA_HOSTS)
        self.plain_pool = self._create_ha_aggregate(
            'pool-plain', ['big'], ha='false')
        self.ha_flavor = self._create_flavor_with_specs(
            'ha.small', {'ha': 'true'})
        self.plain_flavor = self._create_flavor_with_specs('plain.small', {})

    def _boot(self, flavor_id, count=1, expected_state='ACTIVE'):
        """Boot servers one request each, then wait for all of them."""
        servers = [
            self.api.post_server({'server': self._build_server(
                flavor_id=flavor_id, networks='none')})
            for _ in range(count)]
        return [self._wait_for_state_change(server, expected_state)
                for server in servers]

    @staticmethod
    def _hosts(servers):
        return [server['OS-EXT-SRV-ATTR:host'] for server in servers]

    def _set_ha(self, aggregate, value):
        """Change an aggregate's ha metadata through the API."""
        self.admin_api.post_aggregate_action(
            aggregate['id'], {'set_metadata': {'metadata': {'ha': value}}})


class HAAggregateFilterTest(HAPoolsTestCase):

    def test_ha_servers_land_in_the_ha_aggregate_not_on_the_favourite(self):
        servers = self._boot(self.ha_flavor, count=10)

        hosts = self._hosts(servers)
        self.assertEqual(10, len(hosts))
        for host in hosts:
            self.assertIn(host, HA_HOSTS)
        for server, host in zip(servers, hosts):
            self.assertEqual(host, self._instance_host(server['id']))

    def test_multi_create_of_ha_servers_lands_on_ha_hosts(self):
        body = self._build_server(flavor_id=self.ha_flavor, networks='none')
        body['min_count'] = 3
        self.api.post_server({'server': body})

        servers = self.api.get_servers(detail=True)
        self.assertEqual(3, len(servers))
        servers = [self._wait_for_state_change(server, 'ACTIVE')
                   for server in servers]
        for host in self._hosts(servers):
            self.assertIn(host, HA_HOSTS)

    def test_ha_server_fails_with_no_valid_host_without_ha_host(self):
        self._set_ha(self.ha_pool, 'false')

        [server] = self._boot(self.ha_flavor, expected_state='ERROR')

        self.assertIn('No valid host was found', server['fault']['message'])
        self.assertIsNone(server['OS-EXT-SRV-ATTR:host'])

    def test_server_with_bad_ha_flavor_value_fails_with_no_valid_host(self):
        # Below microversion 2.86 the API stores any value, as older clouds
        # did; the filter must not guess what the flavor's owner meant.
        self.admin_api.microversion = '2.85'
        flavor = self._create_flavor_with_specs('ha.typo', {'ha': 'maybe'})
        self.admin_api.microversion = self.microversion

        [server] = self._boot(flavor, expected_state='ERROR')

        self.assertIn('No valid host was found', server['fault']['message'])

    def test_a_flavor_with_a_key_taken_for_ha_boots_unprotected_once_warned(
            self):
        # Below microversion 2.86 the API stores any key.
        self.admin_api.microversion = '2.85'
        flavor = self._create_flavor_with_specs('ha.upper', {'HA': 'true'})
        self.admin_api.microversion = self.microversion

        servers = self._boot(flavor, count=2)

        # Scheduled as a flavor that does not ask for HA: on the favourite.
        self.assertEqual(['big', 'big'], self._hosts(servers))
        warnings = [line for line in self.stdlog.logger.output.splitlines()
                    if 'nova-ha-ext ignores' in line]
        self.assertEqual(1, len(warnings), warnings)
        self.assertIn("Flavor ha.upper has extra spec(s)", warnings[0])
        self.assertIn("'HA' is not 'ha'", warnings[0])

    def test_ha_metadata_change_is_honoured_by_the_next_boot(self):
        [before] = self._hosts(self._boot(self.ha_flavor))
        self.assertIn(before, HA_HOSTS)

        # The pool behind pool-plain gets HA, the one behind pool-ha loses it.
        self._set_ha(self.plain_pool, 'true')
        self._set_ha(self.ha_pool, 'false')

        [after] = self._hosts(self._boot(self.ha_flavor))
        self.assertEqual('big', after)

    def test_ha_server_cold_migrates_within_the_ha_aggregate(self):
        [server] = self._boot(self.ha_flavor)
        source = server['OS-EXT-SRV-ATTR:host']
        self.assertIn(source, HA_HOSTS)
        [other_ha_host] = set(HA_HOSTS) - {source}

        server = self._migrate_server(server)
        self.assertEqual(other_ha_host, server['OS-EXT-SRV-ATTR:host'])
        server = self._confirm_resize(server)

        self.assertEqual(other_ha_host, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(other_ha_host, self._instance_host(server['id']))

    def test_ha_server_cannot_cold_migrate_out_of_the_ha_aggregate(self):
        self.admin_api.remove_host_from_aggregate(self.ha_pool['id'], 'ha2')
        [server] = self._boot(self.ha_flavor)
        self.assertEqual('ha1', server['OS-EXT-SRV-ATTR:host'])

        self.api.post_server_action(server['id'], {'migrate': None})

        self._assert_resize_migrate_action_fail(
            server, 'migrate', 'NoValidHost')
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assertEqual('ha1', server['OS-EXT-SRV-ATTR:host'])


class IsolationTest(HAPoolsTestCase):
    """[ha_filter] isolate_non_ha_instances, with big made an HA host.

    ``big`` joins pool-ha while staying in pool-plain (ha=false): the HA
    aggregate wins, so the weighers' favourite is an HA host.
    """

    def setUp(self):
        super().setUp()
        self.admin_api.add_host_to_aggregate(self.ha_pool['id'], 'big')

    def test_plain_servers_never_land_on_ha_hosts_with_isolation(self):
        self.flags(isolate_non_ha_instances=True, group='ha_filter')

        servers = self._boot(self.plain_flavor, count=5)

        self.assertEqual(['plain'] * 5, self._hosts(servers))

    def test_plain_servers_may_land_on_ha_hosts_without_isolation(self):
        servers = self._boot(self.plain_flavor, count=5)

        self.assertEqual(['big'] * 5, self._hosts(servers))

    def test_ha_servers_land_on_ha_hosts_with_isolation(self):
        self.flags(isolate_non_ha_instances=True, group='ha_filter')

        servers = self._boot(self.ha_flavor, count=3)

        self.assertEqual(['big'] * 3, self._hosts(servers))


class WithoutHAAggregateFilterTest(HAPoolsTestCase):
    """The same cloud with HAAggregateFilter left out of enabled_filters."""

    enabled_filters = nova_case.DEFAULT_FILTERS

    def test_weighers_send_ha_servers_to_the_big_non_ha_host(self):
        servers = self._boot(self.ha_flavor, count=10)

        self.assertEqual(['big'] * 10, self._hosts(servers))

    def test_ha_server_cold_migrates_to_the_big_non_ha_host(self):
        body = self._build_server(
            flavor_id=self.ha_flavor, networks='none', host='ha1')
        server = self._wait_for_state_change(
            self.admin_api.post_server({'server': body}), 'ACTIVE')

        server = self._migrate_server(server)

        self.assertEqual('big', server['OS-EXT-SRV-ATTR:host'])


class WithAggregateInstanceExtraSpecsFilterTest(HAPoolsTestCase):
    """The README's collision of the unscoped ``ha`` key with Nova's
    AggregateInstanceExtraSpecsFilter, enabled beside HAAggregateFilter.
    """

    enabled_filters = nova_case.DEFAULT_FILTERS + [
        'AggregateInstanceExtraSpecsFilter', 'HAAggregateFilter']

    def test_ha_true_in_the_aggregates_spelling_lands_on_ha_hosts(self):
        servers = self._boot(self.ha_flavor, count=2)

        for host in self._hosts(servers):
            self.assertIn(host, HA_HOSTS)

    def test_ha_true_in_another_spelling_passes_no_host(self):
        flavor = self._create_flavor_with_specs('ha.title', {'ha': 'True'})

        [server] = self._boot(flavor, expected_state='ERROR')

        self.assertIn('No valid host was found', server['fault']['message'])

    def test_ha_false_passes_only_hosts_with_ha_false_metadata(self):
        flavor = self._create_flavor_with_specs('plain.false', {'ha': 'false'})
        [server] = self._boot(flavor)
        self.assertEqual('big', server['OS-EXT-SRV-ATTR:host'])

        # Without ha=false metadata on big's aggregate, no host passes,
        # not even the plain host outside every aggregate.
        self._set_ha(self.plain_pool, 'no')
        [server] = self._boot(flavor, expected_state='ERROR')

        self.assertIn('No valid host was found', server['fault']['message'])

    def test_a_flavor_without_ha_passes_hosts_outside_aggregates(self):
        self._set_ha(self.plain_pool, 'no')
        self.admin_api.remove_host_from_aggregate(self.plain_pool['id'],
                                                  'big')

        servers = self._boot(self.plain_flavor, count=2)

        self.assertEqual(['big', 'big'], self._hosts(servers))
