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

"""What only JSON-RPC has: ``POST /jsonrpc``, its envelopes and its errors.

xapi serves it in ``ocaml/xapi/api_server.ml`` ``jsoncallback`` with
``ocaml-rpc``'s ``Jsonrpc`` (``version_id_and_call_of_string``,
``string_of_response``); v2.0 failures are turned into error objects by
``callback1``.
"""

from tests.unit.simulator import base

VMS = [{'name_label': 'vm1', 'host': 'xs-a1'},
       {'name_label': 'vm2', 'power_state': 'Halted'}]


class JsonRpcTest(base.SimulatorTestCase):

    def make_scenario(self):
        return base.scenario(base.pool(vms=VMS))

    def setUp(self):
        super(JsonRpcTest, self).setUp()
        self.url = self.fixture.pool('pool-a').url
        self.handle = self.login()

    def login(self, url=None, version='2.0'):
        return self.request({'jsonrpc': '2.0'} if version == '2.0' else {},
                            'session.login_with_password',
                            ['root', base.PASSWORD], 1, url)['result']

    def request(self, head, method, params, request_id, url=None):
        body = dict(head, method=method, params=params, id=request_id)
        status, reply = base.json_request(url or self.url, body)
        self.assertEqual(200, status, reply)
        return reply

    def test_v2_answer_echoes_the_id_and_has_no_error(self):
        """jsonrpc.ml ``json_of_response`` V2: jsonrpc, result, id."""
        for request_id in (42, 'call-42'):
            reply = self.request({'jsonrpc': '2.0'}, 'VM.get_all',
                                 [self.handle], request_id)
            self.assertEqual({'jsonrpc', 'result', 'id'}, set(reply))
            self.assertEqual(('2.0', request_id),
                             (reply['jsonrpc'], reply['id']))
            self.assertEqual(base.raw_call(self.url, 'VM.get_all',
                                           [self.handle])[1],
                             reply['result'])

    def test_v1_answer_has_a_null_error(self):
        """jsonrpc.ml ``json_of_response`` V1: result, error null, id."""
        reply = self.request({}, 'VM.get_all', [self.handle], 'xyz')
        self.assertEqual({'result', 'error', 'id'}, set(reply))
        self.assertIsNone(reply['error'])
        self.assertEqual('xyz', reply['id'])

    def test_v1_failure_is_the_error_list(self):
        """wire-protocol.md: v1.0 ``"result": null`` and the code first."""
        reply = self.request({}, 'VM.get_record',
                             [self.handle, 'OpaqueRef:nope'], 3)
        self.assertIsNone(reply['result'])
        self.assertEqual(['HANDLE_INVALID', 'VM', 'OpaqueRef:nope'],
                         reply['error'])

    def test_v2_failure_is_an_error_object_whose_message_is_the_code(self):
        """api_server.ml ``callback1``: ``json_of_error_object`` with
        ``error_code_lit`` (1), the code as ``message`` and its
        parameters as ``data``; no ``result``.
        """
        reply = self.request({'jsonrpc': '2.0'}, 'VM.get_record',
                             [self.handle, 'OpaqueRef:nope'], 3)
        self.assertNotIn('result', reply)
        self.assertEqual({'code': 1, 'message': 'HANDLE_INVALID',
                          'data': ['VM', 'OpaqueRef:nope']}, reply['error'])
        reply = self.request({'jsonrpc': '2.0'}, 'VM.get_all',
                             ['OpaqueRef:gone'], 4)
        self.assertEqual({'code': 1, 'message': 'SESSION_INVALID',
                          'data': ['OpaqueRef:gone']}, reply['error'])

    def test_a_member_answers_host_is_slave_in_both_versions(self):
        """api_server.ml ``is_host_is_slave_error`` knows both shapes."""
        info = self.fixture.pool('pool-a')
        member = info.member_urls['xs-a2']
        master_ip = info.url.split('//')[1].rsplit(':', 1)[0]
        reply = self.request({}, 'session.login_with_password',
                             ['root', base.PASSWORD], 1, member)
        self.assertEqual(['HOST_IS_SLAVE', master_ip], reply['error'])
        reply = self.request({'jsonrpc': '2.0'}, 'VM.get_all',
                             [self.handle], 2, member)
        self.assertEqual({'code': 1, 'message': 'HOST_IS_SLAVE',
                          'data': [master_ip]}, reply['error'])

    def test_v2_params_may_be_absent_or_one_object(self):
        """jsonrpc.ml: v2.0 ``params`` missing is ``[]``, an object is
        one parameter; the dispatcher then counts them.
        """
        status, reply = base.json_request(self.url, {
            'jsonrpc': '2.0', 'method': 'VM.get_all', 'id': 1})
        self.assertEqual(('MESSAGE_PARAMETER_COUNT_MISMATCH', 'VM.get_all'),
                         (reply['error']['message'],
                          reply['error']['data'][0]))
        status, reply = base.json_request(self.url, {
            'jsonrpc': '2.0', 'method': 'VM.get_all', 'params': {'a': 1},
            'id': 1})
        self.assertEqual({'code': 1, 'message': 'FIELD_TYPE_ERROR',
                          'data': ['session_id']}, reply['error'])

    def test_malformed_requests_are_refused_with_http_500(self):
        """jsonrpc.ml ``version_id_and_call_of_string`` raises
        ``Malformed_method_request``: xapi answers HTTP 500, an HTML page
        (wire-protocol.md, Errors); notifications are not accepted.
        """
        login = {'method': 'session.login_with_password',
                 'params': ['root', base.PASSWORD]}
        for body, why in (
                (b'{"method": ', 'not JSON'),
                (b'["session.login_with_password"]', 'request body'),
                (dict(login), "'id'"),
                (dict(login, id=None), "'id'"),
                (dict(login, id=1.5), "'id'"),
                (dict(login, id=1, jsonrpc='1.0'), "'jsonrpc'"),
                (dict(login, id=1, params='root'), "'params'"),
                ({'params': [], 'id': 1}, "'method'")):
            status, page = base.json_request(self.url, body)
            self.assertEqual(500, status, body)
            self.assertIn(b'HTTP 500 internal server error', page)
            self.assertIn(why.encode(), page, body)
        # Nothing was called, and the endpoint still answers.
        self.assertNotIn('VM.get_all', self.sim.calls('pool-a'))
        self.assertTrue(self.login().startswith('OpaqueRef:'))

    def test_event_from_batch_as_json(self):
        """event_types.ml ``rpc_of_event_from``: events with a string
        ``id`` and ``timestamp`` "0.0", ``valid_ref_counts`` int32
        numbers, the token a string.
        """
        reply = self.request({'jsonrpc': '2.0'}, 'event.from',
                             [self.handle, ['vm'], '', 0.0], 1)
        batch = reply['result']
        self.assertEqual({'events', 'valid_ref_counts', 'token'}, set(batch))
        [event] = [e for e in batch['events']
                   if e['snapshot']['name_label'] == 'vm1']
        self.assertIsInstance(event['id'], str)
        self.assertEqual(('0.0', 'vm', 'add'), (
            event['timestamp'], event['class'], event['operation']))
        self.assertIs(int, type(batch['valid_ref_counts']['vm']))
        self.assertIsInstance(batch['token'], str)
        [vm] = self.request({}, 'VM.get_by_name_label', [self.handle, 'vm2'],
                            2)['result']
        reply = self.request({'jsonrpc': '2.0'}, 'VM.destroy',
                             [self.handle, vm], 2)
        self.assertEqual('', reply['result'])
        batch = self.request({'jsonrpc': '2.0'}, 'event.from', [
            self.handle, ['vm'], batch['token'], 0.0], 3)['result']
        [gone] = batch['events']
        self.assertEqual(('del', vm), (gone['operation'], gone['ref']))
        self.assertNotIn('snapshot', gone)

    def test_a_record_is_written_afresh_after_each_change(self):
        """Records are cached per object; a change must show at once."""
        [vm] = self.request({}, 'VM.get_by_name_label',
                            [self.handle, 'vm1'], 1)['result']
        for description in ('first', 'second'):
            self.request({}, 'VM.set_name_description',
                         [self.handle, vm, description], 2)
            records = self.request({}, 'VM.get_all_records', [self.handle],
                                   3)['result']
            self.assertEqual(description, records[vm]['name_description'])

    def test_xml_rpc_and_json_rpc_answer_the_same_values(self):
        """One datamodel, two encoders: every record of the pool, read
        both ways, is the same once JSON's ints are read as XML-RPC's
        strings and XML-RPC's datetimes as their text.
        """
        for method in ('VM.get_all_records', 'host.get_all_records',
                       'host_metrics.get_all_records', 'pool.get_all_records',
                       'SR.get_all_records', 'session.get_record'):
            params = [self.handle] * (2 if method.startswith('session')
                                      else 1)
            ok, from_xml = base.raw_call(self.url, method, params)
            self.assertTrue(ok)
            ok, from_json = base.raw_call(self.url, method, params,
                                          base.JSONRPC)
            self.assertTrue(ok)
            self.assertEqual(_datetimes_as_text(from_xml), from_json, method)


def _datetimes_as_text(value):
    if isinstance(value, dict):
        return {k: _datetimes_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_datetimes_as_text(v) for v in value]
    return getattr(value, 'value', value)
