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

"""Whatever a pool answers becomes that pool's PoolError, quickly and in
bounded words: PoolClient against a hostile XenAPI server on loopback,
speaking XML-RPC only (the client falls back to it) or JSON-RPC too.
"""

import gzip
import time

import pytest

from nova_ha_ext.testing import hostile
from nova_ha_ext.xenapi import client as xenapi_client
from nova_ha_ext.xenapi import exceptions

PASSWORD = 'hostile-secret'


def client(url, **kw):
    kw.setdefault('connect_timeout', 1.0)
    kw.setdefault('read_timeout', 5.0)
    c = xenapi_client.PoolClient(url, 'root', PASSWORD, name='pool-h',
                                 allow_plain_http=True, **kw)
    return c


@pytest.fixture(params=[hostile.XMLRPC, hostile.JSONRPC])
def wire(request):
    """The wire of the hostile server: every test runs on both."""
    return request.param


def read(answers, wire=hostile.XMLRPC, **kw):
    """Read the pool at a hostile server; return the error it raised."""
    with hostile.HostileXenAPI(answers, wire) as server:
        c = client(server.url, **kw)
        try:
            with pytest.raises(exceptions.PoolError) as raised:
                c.read_pool()
        finally:
            c.close()
    assert PASSWORD not in str(raised.value)
    return raised.value


def test_a_valid_hostile_server_is_readable(wire):
    with hostile.HostileXenAPI(wire=wire) as server:
        c = client(server.url)
        assert c.read_pool().ha.uuid == 'pool-uuid'
        assert c.protocol == wire
        c.close()


GARBAGE = dict(hostile.GARBAGE, **{
    'a status that is neither': (
        hostile.xenapi_reply('x', status='Maybe'), 'not a XenAPI answer'),
})


@pytest.mark.parametrize('answer, reason', GARBAGE.values(),
                         ids=GARBAGE.keys())
def test_garbage_becomes_the_pools_error(answer, reason):
    exc = read({'pool.get_all_records': hostile.Raw(
        answer, content_type='text/html' if b'<html>' in answer
        else 'text/xml')})
    assert isinstance(exc, exceptions.BadReply)
    assert reason in str(exc)
    assert 'pool-h' in str(exc) and 'pool.get_all_records' in str(exc)


JSON_GARBAGE = dict(hostile.JSON_GARBAGE, **{
    'a status that is neither': (
        hostile.xenapi_reply('x', status='Maybe', wire=hostile.JSONRPC),
        'not a JSON-RPC answer'),
    'a v1.0 error without a code': (
        b'{"result": null, "error": [], "id": 1}',
        'a XenAPI failure without an error code'),
})


@pytest.mark.parametrize('answer, reason', JSON_GARBAGE.values(),
                         ids=JSON_GARBAGE.keys())
def test_json_garbage_becomes_the_pools_error(answer, reason):
    exc = read({'pool.get_all_records': hostile.Raw(
        answer, content_type='application/json')}, hostile.JSONRPC)
    assert isinstance(exc, exceptions.BadReply)
    assert reason in str(exc)
    assert 'pool-h' in str(exc) and 'pool.get_all_records' in str(exc)


def test_garbage_at_login_becomes_the_pools_error(wire):
    exc = read({'session.login_with_password': hostile.Raw(b'<html/>')},
               wire)
    assert isinstance(exc, exceptions.BadReply)
    assert 'session.login_with_password' in str(exc)


def test_records_that_are_not_records_are_the_pools_error(wire):
    exc = read({'host.get_all_records': hostile.Raw(hostile.xenapi_reply(
        ['not', 'a', 'dict'], wire=wire))}, wire)
    assert isinstance(exc, exceptions.BadReply)
    assert 'records this client cannot read' in str(exc)


def test_a_bad_master_address_is_not_followed(wire):
    exc = read({'pool.get_all_records': hostile.Raw(hostile.xenapi_reply(
        ['HOST_IS_SLAVE', 'evil.example.com/x@y'], status='Failure',
        wire=wire))}, wire)
    assert isinstance(exc, exceptions.BadReply)
    assert 'must be a host name or IP address' in str(exc)


@pytest.mark.parametrize('answer', [
    'x', {'events': []}, {'token': '1', 'events': 'x'},
    {'token': '1', 'events': ['x']},
])
def test_an_event_batch_that_is_not_one_is_the_pools_error(answer, wire):
    with hostile.HostileXenAPI({'event.from': hostile.Raw(
            hostile.xenapi_reply(answer, wire=wire))}, wire) as server:
        c = client(server.url)
        with pytest.raises(exceptions.BadReply) as raised:
            c.event_from(['VM'], '', 1.0)
        c.close()
    assert 'event.from answered' in str(raised.value)


def test_a_huge_value_is_quoted_in_part(wire):
    huge = 'A' * (5 * 1024 * 1024)
    exc = read({'pool.get_all_records': hostile.Raw(hostile.xenapi_reply(
        ['SOME_ERROR', huge], status='Failure', wire=wire))}, wire)
    assert isinstance(exc, exceptions.CallFailed)
    assert len(str(exc)) < 1000
    assert 'characters in all' in str(exc)

    if wire == hostile.JSONRPC:
        bad = b'{"jsonrpc": "2.0", "result": ' + huge.encode() + b'}'
    else:
        bad = (b'<methodResponse><params><param><value><int>' +
               huge.encode() +
               b'</int></value></param></params></methodResponse>')
    exc = read({'pool.get_all_records': hostile.Raw(bad)}, wire)
    assert len(str(exc)) < 1000


def test_a_reply_over_the_size_limit_is_refused_early(wire):
    start = time.monotonic()
    exc = read({'pool.get_all_records': hostile.Endless(1024 ** 3)}, wire,
               max_reply_bytes=1024 * 1024)
    assert isinstance(exc, exceptions.BadReply)
    assert 'max_reply_mb' in str(exc)
    # Refused from its Content-Length, long before a gigabyte came in.
    assert time.monotonic() - start < hostile.LONGEST


def test_a_streamed_reply_over_the_size_limit_is_refused(wire):
    class NoLength(hostile.Endless):
        def write(self, handler, stop):
            handler.send_response(200)
            handler.send_header('Transfer-Encoding', 'chunked')
            handler.end_headers()
            block = b' ' * 65536
            for _ in range(64):
                if stop.is_set():
                    return
                handler.wfile.write(b'%x\r\n%s\r\n' % (len(block), block))
            handler.wfile.write(b'0\r\n\r\n')

    exc = read({'pool.get_all_records': NoLength(0)}, wire,
               max_reply_bytes=1024 * 1024)
    assert 'max_reply_mb' in str(exc)


def test_a_gzip_bomb_is_refused(wire):
    bomb = gzip.compress(b' ' * (64 * 1024 * 1024))
    exc = read({'pool.get_all_records': hostile.Raw(
        bomb, headers=[('Content-Encoding', 'gzip')])}, wire,
        max_reply_bytes=1024 * 1024)
    assert 'max_reply_mb' in str(exc)


def test_a_trickling_reply_ends_at_the_call_deadline(wire):
    body = hostile.xenapi_reply({hostile.POOL_REF: hostile.pool_record()},
                                wire=wire)
    start = time.monotonic()
    exc = read({'pool.get_all_records': hostile.Trickle(body, 0.05)}, wire,
               read_timeout=0.5, call_timeout=1.5)
    elapsed = time.monotonic() - start
    assert isinstance(exc, exceptions.PoolUnreachable)
    assert 'call_timeout' in str(exc)
    # A byte every 50 ms would take len(body) * 0.05 s (about a minute).
    assert elapsed < len(body) * 0.05 / 4


def test_silent_members_cost_one_deadline_not_one_read_timeout_each(wire):
    servers = [hostile.HostileXenAPI(
        {'pool.get_all_records': hostile.Silent()}, wire).start()
        for _ in range(4)]
    try:
        c = client(','.join(s.url for s in servers), read_timeout=2.0,
                   call_timeout=2.5)
        start = time.monotonic()
        with pytest.raises(exceptions.PoolUnreachable) as raised:
            c.read_pool()
        elapsed = time.monotonic() - start
        c.close()
    finally:
        for s in servers:
            s.stop()
    assert 'call_timeout' in str(raised.value)
    # Four members times read_timeout would be 8 s.
    assert elapsed < 4 * 2.0
