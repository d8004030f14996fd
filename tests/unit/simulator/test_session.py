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

"""Sessions: login, logout, expiry with transparent re-login, HOST_IS_SLAVE."""

from tests.unit.simulator import base


class SessionTest(base.SimulatorTestCase):

    def test_login_with_wrong_password_names_user_and_pam_message(self):
        # xapi_session.ml login_with_password: [uname; msg], msg from PAM.
        info = self.fixture.pool('pool-a')
        session = self.new_session(info.url)
        self.assertFailure(['SESSION_AUTHENTICATION_FAILED', 'root',
                            'Authentication failure'],
                           session.xenapi.login_with_password, 'root',
                           'wrong')
        self.assertFailure(['SESSION_AUTHENTICATION_FAILED', 'admin',
                            'Authentication failure'],
                           session.xenapi.login_with_password, 'admin',
                           base.PASSWORD)

    def test_login_records_originator_and_logout(self):
        session = self.session(originator='nova-ha-tests')
        [info] = self.sim.sessions('pool-a')
        self.assertEqual('nova-ha-tests', info['originator'])
        self.assertEqual('root', info['username'])
        self.assertEqual('xs-a1', info['host'])
        self.assertFalse(info['logged_out'])
        handle = session.handle
        record = session.xenapi.session.get_record(handle)
        self.assertEqual('nova-ha-tests', record['originator'])
        self.assertTrue(record['this_host'].startswith('OpaqueRef:'))
        session.xenapi.session.logout()
        [info] = self.sim.sessions('pool-a')
        self.assertTrue(info['logged_out'])
        # The old handle is gone: raw calls with it fail SESSION_INVALID.
        self.assertEqual((False, ['SESSION_INVALID', handle]),
                         self.raw(self.fixture.pool('pool-a').url,
                                  'VM.get_all', handle))

    def test_login_takes_two_to_four_parameters(self):
        url = self.fixture.pool('pool-a').url
        login = 'session.login_with_password'
        self.assertTrue(self.raw(url, login, 'root', base.PASSWORD)[0])
        self.assertTrue(self.raw(url, login, 'root', base.PASSWORD, '1.1',
                                 'x')[0])
        self.assertEqual((False, ['MESSAGE_PARAMETER_COUNT_MISMATCH',
                                  login, '4', '1']),
                         self.raw(url, login, 'root'))

    def test_expired_session_is_renewed_transparently(self):
        session = self.session()
        first = session.handle
        self.assertEqual(3, len(session.xenapi.VM.get_all()))
        self.sim.expire_sessions('pool-a')
        # The session sees SESSION_INVALID, logs in again and retries.
        self.assertEqual(3, len(session.xenapi.VM.get_all()))
        self.assertNotEqual(first, session.handle)
        calls = self.sim.calls('pool-a')
        self.assertEqual(2, calls['session.login_with_password'])
        self.assertEqual(3, calls['VM.get_all'])
        infos = self.sim.sessions('pool-a')
        self.assertEqual([True, False], [i['expired'] for i in infos])

    def test_member_answers_host_is_slave(self):
        info = self.fixture.pool('pool-a')
        self.assertEqual('xs-a1', info.master)
        member_url = info.member_urls['xs-a2']
        session = self.new_session(member_url)
        master_ip = info.url.split('//')[1].rsplit(':', 1)[0]
        self.assertFailure(['HOST_IS_SLAVE', master_ip],
                           session.xenapi.login_with_password, 'root',
                           base.PASSWORD)
        # Every call with a valid session; an invalid one is checked
        # first, as a member asks the master about the session before it
        # says it is not the master.
        self.assertEqual((False, ['SESSION_INVALID', 'OpaqueRef:bogus']),
                         self.raw(member_url, 'VM.get_all',
                                  'OpaqueRef:bogus'))
        valid = self.session().handle
        self.assertEqual((False, ['HOST_IS_SLAVE', master_ip]),
                         self.raw(member_url, 'VM.get_all', valid))
        # The address is bare, like xapi's: same port on every host.
        member_ip = member_url.split('//')[1].rsplit(':', 1)[0]
        host_records = self.session().xenapi.host.get_all_records()
        self.assertIn(member_ip,
                      [r['address'] for r in host_records.values()])
        self.assertEqual(info.url.rsplit(':', 1)[1],
                         member_url.rsplit(':', 1)[1])

    def test_oldest_sessions_of_an_originator_are_destroyed(self):
        url = self.fixture.pool('pool-a').url
        login = 'session.login_with_password'
        handles = [self.raw(url, login, 'root', base.PASSWORD, '1.1',
                            'leaky')[1] for _i in range(501)]
        other = self.raw(url, login, 'root', base.PASSWORD, '1.1', 'tidy')[1]
        self.assertEqual((False, ['SESSION_INVALID', handles[0]]),
                         self.raw(url, 'VM.get_all', handles[0]))
        for handle in (handles[1], handles[-1], other):
            self.assertTrue(self.raw(url, 'VM.get_all', handle)[0])
        expired = [s['ref'] for s in self.sim.sessions('pool-a')
                   if s['expired']]
        self.assertEqual([handles[0]], expired)


base.over_both_wires(globals())
