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

"""services.plan: what becomes of the compute services of a pool's hosts."""

import testtools

from nova_ha_ext.reconcile import hostmap
from nova_ha_ext.reconcile import services
from nova_ha_ext.xenapi import pool_state


def host(name, live, node=None):
    return pool_state.PoolHost(
        ref='OpaqueRef:' + name, uuid='uuid-' + name, hostname=name,
        name_label=name, address='', live=live,
        other_config=pool_state.frozen_map(
            {'nova_hypervisor_hostname': node} if node else {}))


def plan(hosts, service_hosts, states, handled=()):
    nodes = [hostmap.ComputeNode(host=service_hosts.get(h.hostname,
                                                        h.hostname),
                                 nodename=h.hostname, uuid='rp-' + h.hostname)
             for h in hosts]
    return [(c.kind, c.host) for c in services.plan(
        'pool-a', hosts, hostmap.map_hosts(hosts, nodes), states,
        set(handled))]


def enabled(name):
    return services.ServiceState(name, False)


def ours(name):
    return services.ServiceState(name, True, services.disabled_reason(
        'pool-a', [name]))


class PlanTest(testtools.TestCase):

    def test_a_dead_hosts_service_is_disabled_once(self):
        hosts = [host('xs-a1', True), host('xs-a2', False)]
        states = {'xs-a1': enabled('xs-a1'), 'xs-a2': enabled('xs-a2')}
        self.assertEqual([(services.DISABLE, 'xs-a2')],
                         plan(hosts, {}, states))
        # Dealt with since it died (e.g. an operator enabled it again).
        self.assertEqual([], plan(hosts, {}, states, handled=['xs-a2']))

    def test_only_our_disable_is_undone(self):
        hosts = [host('xs-a1', True), host('xs-a2', True)]
        states = {'xs-a1': ours('xs-a1'),
                  'xs-a2': services.ServiceState('xs-a2', True, 'disks')}
        self.assertEqual([(services.ENABLE, 'xs-a1')],
                         plan(hosts, {}, states))

    def test_an_operators_disable_of_a_dead_host_is_kept(self):
        hosts = [host('xs-a2', False)]
        states = {'xs-a2': services.ServiceState('xs-a2', True, None)}
        self.assertEqual([(services.KEEP, 'xs-a2')], plan(hosts, {}, states))

    def test_a_service_of_several_hosts_waits_for_all_to_die(self):
        hosts = [host('xs-a1', False), host('xs-a2', True)]
        shared = {'xs-a1': 'compute-1', 'xs-a2': 'compute-1'}
        self.assertEqual([], plan(hosts, shared,
                                  {'compute-1': enabled('compute-1')}))
        self.assertEqual([(services.ENABLE, 'compute-1')],
                         plan(hosts, shared, {'compute-1': ours('compute-1')}))

    def test_our_reason_fits_in_novas_column(self):
        reason = services.disabled_reason('p' * 300, ['xs-a1'])
        self.assertEqual(255, len(reason))
        self.assertTrue(reason.startswith(services.REASON_PREFIX))
