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

"""HA headroom: real Nova schedules HA flavors where the pool's plan has room.

xapi refuses to protect a running VM that would break the failover plan
(xapi_vm.ml set_ha_restart_priority -> xapi_ha_vm_failover.ml
assert_new_vm_preserves_ha_plan, HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN).
The mixin reports how big a protected VM each host's pool still takes, the
scheduler keeps HA flavors within it, so no VM is built only for its
protection to be refused.

Pools of three 8 GiB hosts (four in the failover test) hold protected VMs
that are not Nova's: 3, 2 and 1 GiB on hosts 1, 2 and 3, which leaves room
in the plan for one 6 GiB protected VM, on host 2 or 3 (xapi's planner:
when host 1 fails its 3 GiB VM and a 6 GiB VM on host 3 cannot both be
placed otherwise).
"""

import logging

import fixtures

from nova import objects

from nova_ha_ext.scheduler.filters import ha_aggregate
from nova_ha_ext.testing import xenapi_pools

HA_FLAVOR_MB = 6144


def _protected(letter):
    return [{'name_label': 'other-%s%d' % (letter, i + 1),
             'memory_mb': mb, 'host': 'xs-%s%d' % (letter, i + 1),
             'power_state': 'Running', 'ha_restart_priority': 'restart'}
            for i, mb in enumerate((3072, 2048, 1024))]


def _pool(name, ha=True, hosts=3, vms=()):
    return xenapi_pools.pool_scenario(name, ha, hosts=hosts, vms=vms,
                                      host_memory_mb=8192)


class HeadroomTestCase(xenapi_pools.XenAPIPoolsTestCase):

    def setUp(self):
        super().setUp()
        self.filter_log = self.useFixture(fixtures.FakeLogger(
            level=logging.DEBUG, name=ha_aggregate.__name__))

    def stat(self, hostname, name='xenapi_pool_ha_headroom_mb'):
        return objects.ComputeNode.get_by_nodename(
            self.ctxt, hostname).stats[name]

    def creates_and_destroys(self, pool):
        calls = self.sim.calls(pool)
        return calls['VM.create'], calls['VM.destroy']

    def boot_ha(self, name, host=None, expected_state='ACTIVE'):
        return self._create_server(
            name=name, networks='none', host=host,
            flavor_id=self.ha_flavor('ha.6g', HA_FLAVOR_MB),
            expected_state=expected_state)

    def ha_flavor(self, name='ha.small', memory_mb=1024):
        flavors = {f['name']: f['id']
                   for f in self.api.get_flavors()}
        if name in flavors:
            return flavors[name]
        return super().ha_flavor(name, memory_mb)


class TestHeadroomAcrossPools(HeadroomTestCase):
    """Two HA pools, each with room for one 6 GiB protected VM."""

    POOLS = {'pool-a': True, 'pool-c': True}

    def scenario(self):
        return {'pools': [_pool('pool-a', vms=_protected('a')),
                          _pool('pool-c', vms=_protected('c'))]}

    def test_each_host_reports_its_pools_headroom(self):
        self.assertEqual('5120', self.stat('xs-a1'))
        self.assertEqual('6144', self.stat('xs-a2'))
        self.assertEqual('6144', self.stat('xs-a3'))
        self.assertEqual('3', self.stat('xs-a1',
                                        'xenapi_pool_ha_protected_vms'))

    def test_the_next_ha_boot_goes_to_the_pool_with_room(self):
        self.sim.reset_calls('pool-a')
        self.sim.reset_calls('pool-c')
        first = self.boot_ha('first', host='xs-a3')
        self.assertEqual('restart', self.vm_of('pool-a', first)[
            'ha_restart_priority'])
        # No resource update since: pool-a's nodes still report room for
        # 6 GiB; the scheduler counts what it placed there itself.
        self.assertEqual('6144', self.stat('xs-a2'))

        second = self.boot_ha('second')

        self.assertIn(second['OS-EXT-SRV-ATTR:host'],
                      ('xs-c2', 'xs-c3'))
        self.assertEqual('restart', self.vm_of('pool-c', second)[
            'ha_restart_priority'])
        # One VM built per boot, none thrown away.
        self.assertEqual((1, 0), self.creates_and_destroys('pool-a'))
        self.assertEqual((1, 0), self.creates_and_destroys('pool-c'))
        self.assertIn('failover plan takes at most 0 MiB more of protected '
                      'VMs on it (6144 MiB reported, 6144 MiB placed here '
                      'since)', self.filter_log.output)

    def test_the_instances_of_one_request_share_out_the_room(self):
        self.sim.reset_calls('pool-a')
        self.sim.reset_calls('pool-c')
        request = self._build_server(
            name='pair', flavor_id=self.ha_flavor('ha.6g', HA_FLAVOR_MB),
            networks='none')
        request['min_count'] = 2
        self.api.post_server({'server': request})

        servers = [self._wait_for_state_change(s, 'ACTIVE')
                   for s in self.api.get_servers(
                       search_opts={'name': 'pair'})]

        self.assertEqual(['pool-a', 'pool-c'], sorted(
            'pool-' + s['OS-EXT-SRV-ATTR:host'][3] for s in servers))
        self.assertEqual((1, 0), self.creates_and_destroys('pool-a'))
        self.assertEqual((1, 0), self.creates_and_destroys('pool-c'))


class TestHeadroomExhausted(HeadroomTestCase):
    """One HA pool with room for one 6 GiB protected VM."""

    POOLS = {'pool-a': True}

    def scenario(self):
        return {'pools': [_pool('pool-a', vms=_protected('a'))]}

    def test_the_next_ha_boot_ends_in_no_valid_host_and_builds_nothing(self):
        self.sim.reset_calls('pool-a')
        self.boot_ha('first')

        server = self.boot_ha('second', expected_state='ERROR')

        self.assertIn('No valid host was found', server['fault']['message'])
        self.assertIn('the flavor needs 6144 MiB', self.filter_log.output)
        self.assertEqual((1, 0), self.creates_and_destroys('pool-a'))

    def test_after_a_resource_update_the_pool_has_the_word(self):
        self.boot_ha('first', host='xs-a2')
        self._run_periodics()
        # The pool now protects four VMs; xapi's planner leaves 3 GiB on
        # xs-a1 and less elsewhere.
        self.assertEqual('4', self.stat('xs-a1',
                                        'xenapi_pool_ha_protected_vms'))
        room = {h: int(self.stat(h)) for h in ('xs-a1', 'xs-a2', 'xs-a3')}
        self.assertEqual(3072, max(room.values()))
        small = self._create_server(
            name='small', networks='none',
            flavor_id=self.ha_flavor('ha.3g', 3072))
        self.assertEqual('xs-a1', small['OS-EXT-SRV-ATTR:host'])


class TestHeadroomAfterFailover(HeadroomTestCase):
    """Four 8 GiB hosts, protected 4 GiB VMs on xs-a1 and xs-a2."""

    POOLS = {'pool-a': True}

    def scenario(self):
        vms = [{'name_label': 'other-a%d' % i, 'memory_mb': 4096,
                'host': 'xs-a%d' % i, 'power_state': 'Running',
                'ha_restart_priority': 'restart'} for i in (1, 2)]
        return {'pools': [_pool('pool-a', hosts=4, vms=vms)]}

    def test_a_failed_host_takes_its_room_with_it(self):
        # Any host of xs-a3 and xs-a4 may fail: the other one takes what
        # a new VM there needs.
        self.assertEqual('8192', self.stat('xs-a3'))
        self.sim.fail_host('pool-a', 'xs-a4')
        self.sim.wait_until_quiet('pool-a')
        self._run_periodics()

        # Three live hosts: still HA-ready, but a 6 GiB VM on xs-a3 would
        # have nowhere to restart.
        self.assertEqual('true', self.stat('xs-a3', 'xenapi_pool_ha_ready'))
        self.assertEqual('4096', self.stat('xs-a3'))
        self.sim.reset_calls('pool-a')
        server = self.boot_ha('big', expected_state='ERROR')
        self.assertIn('No valid host was found', server['fault']['message'])
        self.assertEqual((0, 0), self.creates_and_destroys('pool-a'))
