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

"""Scenarios and a base test case for the simulator tests.

The simulator's behaviour is the same over XML-RPC and JSON-RPC: a test
case class reaches it on the wire named by its ``wire``, and
:func:`over_both_wires` makes every test case class of a module run on
both, so that the two encodings cannot drift apart.
"""

import copy
import http.client
import json
import ssl
import urllib.parse
import xmlrpc.client

import testtools
import XenAPI

from nova_ha_ext.simulator import fixture
from nova_ha_ext.testing import waiting
from nova_ha_ext.xenapi import client
from nova_ha_ext.xenapi import jsonrpc

PASSWORD = 'secret'

#: The wires a simulator test may use.
XMLRPC = 'xmlrpc'
JSONRPC = 'jsonrpc'


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


def new_session(url, wire=XMLRPC, ca_file=None):
    """A XenAPI session to ``url`` on ``wire``, not logged in.

    Over XML-RPC the ``XenAPI`` package's; over JSON-RPC (v2.0) the
    client's, which also raises ``XenAPI.Failure``.
    """
    context = None
    if url.startswith('https:'):
        context = ssl.create_default_context(cafile=ca_file)
    if wire == JSONRPC:
        return jsonrpc.Session(url, client._Transport(10.0, 60.0, context))
    transport = (xmlrpc.client.SafeTransport(context=context) if context
                 else None)
    return XenAPI.Session(url, transport=transport)


def raw_call(url, method, params, wire=XMLRPC, version='2.0'):
    """One call sent as is: ``(True, value)`` or ``(False, error list)``.

    Over JSON-RPC (``version`` 1.0 or 2.0) the error is turned into the
    list xapi writes in v1.0 and in XML-RPC's ``ErrorDescription``, and
    integers are read as the decimal strings XML-RPC carries (xapi writes
    an ``int`` as a JSON number and as an XML-RPC string).
    """
    if wire == XMLRPC:
        proxy = xmlrpc.client.ServerProxy(url)
        try:
            result = getattr(proxy, method)(*params)
        finally:
            proxy('close')()
        if result['Status'] == 'Success':
            return True, result['Value']
        return False, result['ErrorDescription']
    status, reply = json_request(url, dict(
        {'jsonrpc': version} if version == '2.0' else {},
        method=method, params=list(params), id=7), parse_int=str)
    if status != 200:
        raise AssertionError('HTTP %d: %s' % (status, reply))
    if reply.get('error') is None:
        return True, reply['result']
    error = reply['error']
    if version == '2.0':
        return False, [error['message']] + error['data']
    return False, error


def json_request(url, body, parse_int=int):
    """POST ``body`` (JSON, or bytes as they are) to ``url``'s /jsonrpc.

    :returns: ``(HTTP status, parsed reply or the raw bytes)``.
    """
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port,
                                      timeout=30)
    try:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn.request('POST', '/jsonrpc', data,
                     {'Content-Type': 'application/json'})
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    if response.status == 200:
        return 200, json.loads(raw, parse_int=parse_int)
    return response.status, raw


class SimulatorTestCase(testtools.TestCase):
    """Starts a simulator from ``make_scenario()`` for each test."""

    tls = False
    control_port = None
    #: The wire of :meth:`session`, :meth:`new_session` and :meth:`raw`.
    wire = XMLRPC
    #: The JSON-RPC version of :meth:`raw`.
    json_version = '2.0'

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
        session = self.new_session(url or info.url, **kw)
        session.xenapi.login_with_password(info.username, info.password,
                                           '2.21', originator)
        return session

    def new_session(self, url, ca_file=None):
        """A session on this test's wire, not logged in, closed at the end."""
        session = new_session(url, self.wire, ca_file)
        self.addCleanup(session('close'))
        return session

    def raw(self, url, method, *params):
        """:func:`raw_call` on this test's wire."""
        return raw_call(url, method, params, self.wire, self.json_version)

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


def over_both_wires(namespace):
    """Run a module's test cases over JSON-RPC too.

    For each test case class defined in the module whose globals are
    ``namespace`` and whose ``wire`` is ``XMLRPC``, adds a subclass named
    ``<name>OverJsonRpc`` with ``wire = JSONRPC``.
    """
    module = namespace['__name__']
    for name, obj in list(namespace.items()):
        if (isinstance(obj, type) and
                issubclass(obj, testtools.TestCase) and
                obj.__module__ == module and
                getattr(obj, 'wire', None) == XMLRPC):
            variant = name + 'OverJsonRpc'
            namespace[variant] = type(variant, (obj,), {
                'wire': JSONRPC, '__module__': module,
                '__doc__': obj.__doc__})
