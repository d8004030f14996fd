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

"""An HA flavor's restart policy on the VM: spawn, resize, reconciler.

``ha:restart_priority``, ``ha:order`` and ``ha:start_delay`` become the
VM's ``ha_restart_priority``, ``order`` and ``start_delay`` (XenAPI's
VM.set_ha_restart_priority, VM.set_order, VM.set_start_delay).
"""

from nova_ha_ext import conf
from nova_ha_ext.reconcile import engine
from nova_ha_ext.reconcile import outcome
from nova_ha_ext.testing import xenapi_pools


class TestRestartPolicy(xenapi_pools.XenAPIPoolsTestCase):

    POOLS = {'pool-a': True}

    def vm_policy(self, vm):
        return vm['ha_restart_priority'], vm['order'], vm['start_delay']

    def flavor(self, name, **policy):
        specs = {'ha': 'true'}
        specs.update({'ha:' + k: str(v) for k, v in policy.items()})
        return self._create_flavor_with_specs(name, specs)

    def test_spawn_sets_the_flavors_policy(self):
        server = self.boot(self.flavor(
            'ha.late', restart_priority='best-effort', order=2,
            start_delay=7))

        self.assertEqual(('best-effort', 2, 7),
                         self.vm_policy(self.vm_of('pool-a', server)))

    def test_an_ha_flavor_without_policy_keys_is_restarted_first(self):
        server = self.boot(self.ha_flavor())

        self.assertEqual(('restart', 0, 0),
                         self.vm_policy(self.vm_of('pool-a', server)))

    def test_resize_sets_the_new_flavors_policy(self):
        server = self.boot(self.flavor('ha.first', order=1))
        server = self._resize_server(
            server, self.flavor('ha.second', order=3, start_delay=4))

        self.assertEqual(('restart', 3, 4),
                         self.vm_policy(self.vm_of('pool-a', server)))

    def test_the_reconciler_puts_a_drifted_policy_back(self):
        server = self.boot(self.flavor('ha.ordered', order=5,
                                       start_delay=10))
        api = self.xenapi('pool-a')
        vm = api.VM.get_by_uuid(self.vm_of('pool-a', server)['uuid'])
        api.VM.set_order(vm, '0')
        reconciler = engine.Reconciler(conf.CONF)
        self.addCleanup(reconciler.close)

        [report] = reconciler.reconcile(self.ctxt, ['pool-a'])

        [result] = [r for r in report.results
                    if r.action.instance_uuid == server['id']]
        self.assertEqual(('restart-policy', outcome.APPLIED),
                         (result.action.rule, result.status))
        self.assertEqual(('restart', 5, 10),
                         self.vm_policy(self.vm_of('pool-a', server)))
