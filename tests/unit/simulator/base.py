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

"""Scenarios and a base test case for the simulator tests."""

import copy

import testtools
import XenAPI

from nova_ha_ext.simulator import fixture
from nova_ha_ext.testing import waiting

PASSWORD = 'secret'


def pool(name='pool-a', hosts=3, memory_mb=8192, vms=(), ha=True,
         ntol=1, detection_delay=0.05, restart_delay=0.05, **extra):
    """A pool scenario mapping: hosts <name-letter>1..N, a shared SR."""
    letter = name[-1]
    data = {
        'name': name,
        'username': 'root',
        'password': PASSWORD,
        'detection_delay': detection_delay,
        'restart_delay': restart_delay,
        'srs': [{'name_label': 'sr-hb', 'shared': True, 'type': 'nfs'},
                {'name_label': 'local', 'shared': False, 'type': 'ext'}],
        'hosts': [{'hostname': 'xs-%s%d' % (letter, i + 1),
                   'memory_mb': memory_mb} for i in range(hosts)],
        'vms': [dict(vm) for vm in vms],
    }
    if ha:
        data['ha'] = {'enabled': True, 'host_failures_to_tolerate': ntol,
                      'heartbeat_sr': 'sr-hb'}
    data.update(extra)
    return data


def scenario(*pools):
    return {'pools': [copy.deepcopy(p) for p in pools]}


class SimulatorTestCase(testtools.TestCase):
    """Starts a simulator from ``make_scenario()`` for each test."""

    tls = False
    control_port = None

    def make_scenario(self):
        return scenario(pool())

    def setUp(self):
        super(SimulatorTestCase, self).setUp()
        self.fixture = self.useFixture(fixture.SimulatorFixture(
            self.make_scenario(), tls=self.tls,
            control_port=self.control_port))
        self.sim = self.fixture.simulator

    def session(self, pool='pool-a', url=None, originator='tests', **kw):
        """A logged-in XenAPI.Session to a pool's master (or ``url``)."""
        info = self.fixture.pool(pool)
        session = XenAPI.Session(url or info.url, **kw)
        session.xenapi.login_with_password(info.username, info.password,
                                           '2.21', originator)
        self.addCleanup(session('close'))
        return session

    def assertFailure(self, expected, func, *args):
        """Assert a XenAPI.Failure whose details start with ``expected``."""
        e = self.assertRaises(XenAPI.Failure, func, *args)
        self.assertEqual(list(expected), e.details[:len(expected)])
        return e.details

    def wait_for(self, predicate, timeout=5.0, what='condition'):
        return waiting.wait_for(predicate, timeout, what, interval=0.01)


def refs_by_name(api, cls='VM'):
    """``{name_label: ref}`` of a class, through ``session.xenapi``."""
    return {rec['name_label']: ref
            for ref, rec in getattr(api, cls).get_all_records().items()}
