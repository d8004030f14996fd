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

"""HTTPS endpoints with a throwaway CA."""

import os
import ssl
import xmlrpc.client

import XenAPI

from tests.unit.simulator import base


class TLSTest(base.SimulatorTestCase):

    tls = True

    def make_scenario(self):
        return base.scenario(base.pool(hosts=2))

    def test_verified_https(self):
        info = self.fixture.pool('pool-a')
        self.assertTrue(info.url.startswith('https://127.'))
        self.assertTrue(os.path.exists(info.ca_file))
        context = ssl.create_default_context(cafile=info.ca_file)
        session = XenAPI.Session(
            info.url, transport=xmlrpc.client.SafeTransport(context=context))
        self.addCleanup(session('close'))
        session.xenapi.login_with_password('root', base.PASSWORD)
        self.assertEqual(2, len(session.xenapi.host.get_all()))
        member = XenAPI.Session(
            info.member_urls['xs-a2'],
            transport=xmlrpc.client.SafeTransport(context=context))
        self.addCleanup(member('close'))
        self.assertFailure(['HOST_IS_SLAVE'],
                           member.xenapi.login_with_password, 'root',
                           base.PASSWORD)

    def test_unknown_ca_is_refused(self):
        session = XenAPI.Session(self.fixture.pool('pool-a').url)
        self.addCleanup(session('close'))
        self.assertRaises(ssl.SSLCertVerificationError,
                          session.xenapi.login_with_password, 'root',
                          base.PASSWORD)

    def test_ca_file_is_removed_at_stop(self):
        ca_file = self.fixture.pool('pool-a').ca_file
        self.sim.stop()
        self.assertFalse(os.path.exists(ca_file))
