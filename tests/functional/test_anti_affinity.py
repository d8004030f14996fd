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

"""Nova anti-affinity server groups across a XenServer HA failover.

Two members of an anti-affinity group run on xs-a1 and xs-a2, and plain
servers fill xs-a2 and xs-a3 so that, when xs-a2 fails, xs-a1 has the most
free memory: XenServer HA's restart plan (``xapi_ha_vm_failover.ml``
``compute_restart_plan``, a bin packing that knows nothing of groups)
restarts the second member next to the first.
"""

import json
import threading

from nova.db.api import api as api_db_api
from nova import utils
import sqlalchemy as sa

from nova_ha_ext.cmd import manage
from nova_ha_ext.reconcile import affinity
from nova_ha_ext.reconcile import outcome
from nova_ha_ext.testing import xenapi_pools
from tests.functional import test_reconciler


class AntiAffinityTestCase(test_reconciler.ReconcilerTestCase):

    #: The pool's xapi, for VM groups (see nova_ha_ext.simulator.vm_groups).
    VM_GROUPS = 'unsupported'

    def scenario(self):
        pool = xenapi_pools.pool_scenario('pool-a', True)
        pool['vm_groups'] = self.VM_GROUPS
        return {'pools': [pool]}

    def setUp(self):
        super().setUp()
        with utils.temporary_mutation(self.api, microversion='2.64'):
            self.group = self.api.post_server_groups(
                {'name': 'web', 'policy': 'anti-affinity'})
        self.first = self.boot_in_group('xs-a1', 'web-1')
        self.second = self.boot_in_group('xs-a2', 'web-2')
        big = self.plain_flavor('plain.big', 4096)
        self.boot_on('xs-a2', big, 'filler-2')
        self.boot_on('xs-a3', big, 'filler-3')

    def boot_in_group(self, host, name):
        with utils.temporary_mutation(self.admin_api, microversion='2.74'):
            server = self.admin_api.post_server({
                'server': self._build_server(
                    name=name, flavor_id=self.ha, networks='none',
                    host=host),
                'os:scheduler_hints': {'group': self.group['id']}})
        server = self._wait_for_state_change(server, 'ACTIVE')
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        return server

    def members(self):
        return tuple(sorted((self.first['id'], self.second['id'])))

    def fail_and_reconcile(self):
        self.fail('xs-a2')
        self.assertEqual('xs-a1', self.vm_of('pool-a', self.second)['host'])
        return self.reconcile()

    def breach_warnings(self):
        return [line for line in self.stdlog.logger.output.splitlines()
                if 'anti-affinity server group web' in line and
                'WARNING' in line]


class TestBreachReported(AntiAffinityTestCase):
    """A pool without VM groups: the breach is reported."""

    def test_no_breach_before_the_failover(self):
        report = self.reconcile()
        self.assertEqual((), report.anti_affinity.breaches)

    def test_members_restarted_together_are_reported(self):
        report = self.fail_and_reconcile()
        [breach] = report.anti_affinity.breaches
        self.assertEqual((self.group['id'], 'web', 'xs-a1', self.members()),
                         (breach.group, breach.group_name, breach.host,
                          breach.instances))
        self.assertEqual(
            'report-only: the pool has no VM groups (MESSAGE_METHOD_UNKNOWN)',
            report.anti_affinity.vm_groups)

        code, text = self.run_manage('status', '--format', 'json')
        [pool] = json.loads(text)['pools']
        self.assertEqual([{'group': self.group['id'], 'group_name': 'web',
                           'host': 'xs-a1', 'instances': list(self.members()),
                           'max_per_host': 1}],
                         pool['anti_affinity']['breaches'])
        self.assertEqual(manage.ATTENTION, code)
        code, text = self.run_manage('status')
        self.assertIn('Anti-affinity server groups whose members share a '
                      'XenServer host', text)
        [row] = [line for line in text.splitlines()
                 if line.startswith('pool-a') and self.group['id'] in line]
        self.assertIn('xs-a1', row)
        self.assertIn(self.first['id'], row)

    def test_one_warning_per_change_not_per_pass(self):
        self.fail_and_reconcile()
        self.reconcile()
        self.reconcile()
        [warning] = self.breach_warnings()
        self.assertIn(self.first['id'], warning)
        self.assertIn(self.second['id'], warning)
        self.assertIn('xs-a1', warning)


class TestGroupsRead(AntiAffinityTestCase):

    def statements(self, func):
        """The SQL ``func`` runs on the API database, in this thread."""
        thread = threading.get_ident()
        statements = []

        def record(conn, cursor, statement, *args):
            if threading.get_ident() == thread:
                statements.append(statement)

        engine = api_db_api.get_engine()
        sa.event.listen(engine, 'before_cursor_execute', record)
        try:
            result = func()
        finally:
            sa.event.remove(engine, 'before_cursor_execute', record)
        return result, statements

    def test_groups_are_read_in_constant_queries(self):
        one, few = self.statements(lambda: affinity.read_groups(self.ctxt))
        with utils.temporary_mutation(self.api, microversion='2.64'):
            for name in ('db', 'cache', 'queue'):
                self.api.post_server_groups({'name': name,
                                             'policy': 'anti-affinity'})
            self.api.post_server_groups({'name': 'close',
                                         'policy': 'affinity'})
        four, many = self.statements(lambda: affinity.read_groups(self.ctxt))
        self.assertEqual(['web'], [g.name for g in one])
        self.assertEqual({'web', 'db', 'cache', 'queue'},
                         {g.name for g in four})
        self.assertEqual(len(few), len(many))


class TestUnlicensedPool(AntiAffinityTestCase):
    """A pool whose licence lacks VM groups: report-only."""

    VM_GROUPS = 'unlicensed'

    def test_licence_refusal_degrades_to_report_only(self):
        report = self.fail_and_reconcile()
        self.assertEqual(
            'report-only: the pool\'s licence does not allow VM groups '
            '(LICENCE_RESTRICTION VM_groups)', report.anti_affinity.vm_groups)
        self.assertEqual(1, len(report.anti_affinity.breaches))
        self.assertEqual([], self.sim.vm_groups('pool-a'))
        self.assertEqual(0, report.failed)


class TestLicensedPool(AntiAffinityTestCase):
    """A pool with VM groups: Nova's group is mirrored into XenServer."""

    VM_GROUPS = 'licensed'

    def test_the_group_is_mirrored_and_xenserver_keeps_members_apart(self):
        report = self.reconcile()
        self.assertEqual('mirrored', report.anti_affinity.vm_groups)
        self.assertEqual([affinity.CREATE, affinity.JOIN, affinity.JOIN],
                         [s.kind for s in report.anti_affinity.steps])
        self.assertEqual({outcome.APPLIED},
                         {s.status for s in report.anti_affinity.steps})
        [group] = self.sim.vm_groups('pool-a')
        self.assertEqual(('nova-anti-affinity-' + self.group['id'],
                          'anti_affinity', list(self.members())),
                         (group['name_label'], group['placement'],
                          group['nova_uuids']))
        # In step: the next pass changes nothing.
        self.assertEqual((), self.reconcile().anti_affinity.steps)

        # XenServer now places a member away from the other
        # (xapi_vm_helpers.ml choose_host_for_vm_no_wlb): without the
        # group, xs-a1 has the most free memory for web-2.
        self.sim.shutdown_vm('pool-a', self.second['id'])
        self.sim.start_vm('pool-a', self.second['id'])
        self.assertNotEqual('xs-a1',
                            self.vm_of('pool-a', self.second)['host'])

    def test_a_planned_ha_restart_still_breaches_and_is_reported(self):
        self.reconcile()
        report = self.fail_and_reconcile()
        self.assertEqual(1, len(report.anti_affinity.breaches))
        self.assertEqual((), report.anti_affinity.steps)

    def test_a_paused_pool_gets_no_vm_group(self):
        self.run_manage('pause', '--pool', 'pool-a', '--reason', 'upgrade')
        report = self.reconcile()
        self.assertEqual({outcome.PAUSED},
                         {s.status for s in report.anti_affinity.steps})
        self.assertEqual([], self.sim.vm_groups('pool-a'))
