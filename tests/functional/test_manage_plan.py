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

"""nova-ha-manage plan: what XenServer HA would do if hosts failed.

The pool answers with ``pool.ha_compute_vm_failover_plan`` (xapi_pool.ml
ha_compute_vm_failover_plan: xapi_ha_vm_failover.ml
compute_evacuation_plan, binpack.ml biggest_fit_decreasing); the test
then fails the host and checks the pool restarted each VM where the plan
said.
"""

import json

from nova import objects

from nova_ha_ext.cmd import manage
from nova_ha_ext.testing import xenapi_pools

#: Calls that read: nova-compute services read the pool meanwhile too.
READS = ('session.login_with_password', 'session.logout',
         'pool.ha_compute_vm_failover_plan')


def _writes(calls):
    return sorted(m for m in calls if m not in READS and
                  not m.split('.', 1)[-1].startswith('get_'))


class TestManagePlan(xenapi_pools.XenAPIPoolsTestCase):
    """pool-a: 8 GiB hosts; xs-a1 keeps 3.5 GiB free, xs-a3 3 GiB."""

    POOLS = {'pool-a': True}

    def scenario(self):
        return {'pools': [xenapi_pools.pool_scenario(
            'pool-a', True, host_memory_mb=8192)]}

    def setUp(self):
        super().setUp()
        self._create_server(name='filler-1', networks='none', host='xs-a1',
                            flavor_id=self.plain_flavor('p4.5', 4608))
        self._create_server(name='filler-3', networks='none', host='xs-a3',
                            flavor_id=self.plain_flavor('p5', 5120))
        self.big = self._create_server(
            name='db-primary', networks='none', host='xs-a2',
            flavor_id=self.ha_flavor('ha3', 3072))
        self.small = self._create_server(
            name='web-1', networks='none', host='xs-a2',
            flavor_id=self.ha_flavor('ha2', 2048))

    def plan(self, *hosts, json_format=False):
        argv = ['plan', '--pool', 'pool-a']
        for host in hosts:
            argv += ['--fail-host', host]
        if json_format:
            argv += ['--format', 'json']
        return self.run_manage(*argv)

    def test_the_plan_is_what_the_pool_then_does(self):
        code, text = self.run_manage('plan', '--pool', 'pool-a',
                                     '--fail-host', 'xs-a2', '--format',
                                     'json')
        self.assertEqual(manage.OK, code)
        rows = {r['instance']: r for r in json.loads(text)['instances']}
        self.assertEqual({self.big['id'], self.small['id']}, set(rows))
        self.assertEqual('db-primary', rows[self.big['id']]['name'])
        # Biggest first, to the host with most room: 3 GiB to xs-a1 (3.5),
        # then 2 GiB to xs-a3 (3 > the 0.5 left on xs-a1).
        self.assertEqual('xs-a1', rows[self.big['id']]['restarts_on'])
        self.assertEqual('xs-a3', rows[self.small['id']]['restarts_on'])

        self.sim.fail_host('pool-a', 'xs-a2')
        self.sim.wait_until_quiet('pool-a')
        for server in (self.big, self.small):
            vm = self.vm_of('pool-a', server)
            self.assertEqual(
                ('Running', rows[server['id']]['restarts_on']),
                (vm['power_state'], vm['host']))

    def test_the_table_names_instances_and_what_would_not_fit(self):
        code, text = self.plan('xs-a2', 'xs-a3')
        self.assertEqual(manage.ATTENTION, code)
        [big] = [line for line in text.splitlines()
                 if self.big['id'] in line]
        [small] = [line for line in text.splitlines()
                   if self.small['id'] in line]
        self.assertIn('db-primary', big)
        self.assertIn('xs-a1', big)
        self.assertIn('web-1', small)
        self.assertIn('DOES NOT FIT (HOST_NOT_ENOUGH_FREE_MEMORY)', small)
        self.assertIn('If xs-a2, xs-a3 failed, XenServer HA would restart 1 '
                      'protected VM(s) and could not restart 1.', text)

    def test_plan_writes_nothing(self):
        self.sim.reset_calls('pool-a')
        before = {s['id']: objects.Instance.get_by_uuid(self.ctxt, s['id'])
                  for s in (self.big, self.small)}
        vms = {s['id']: self.vm_of('pool-a', s)
               for s in (self.big, self.small)}
        self.plan('xs-a2')
        self.plan('xs-a2', 'xs-a3')
        calls = self.sim.calls('pool-a')
        self.assertEqual(2, calls['pool.ha_compute_vm_failover_plan'])
        self.assertEqual([], _writes(calls))
        for uuid, instance in before.items():
            now = objects.Instance.get_by_uuid(self.ctxt, uuid)
            self.assertEqual((instance.host, instance.node,
                              instance.updated_at),
                             (now.host, now.node, now.updated_at))
        self.assertEqual(vms, {s['id']: self.vm_of('pool-a', s)
                               for s in (self.big, self.small)})

    def test_a_host_without_protected_vms(self):
        code, text = self.plan('xs-a3')
        self.assertEqual(manage.OK, code)
        self.assertIn('No protected VM runs on xs-a3.', text)

    def test_an_unknown_host_is_a_usage_error(self):
        code, text = self.plan('xs-z9')
        self.assertEqual(manage.ERROR, code)
        self.assertIn('pool pool-a has no host xs-z9; its hosts are: '
                      'xs-a1, xs-a2, xs-a3', text)
