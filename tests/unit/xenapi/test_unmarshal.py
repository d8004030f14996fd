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

"""loads_stream gives what xmlrpc.client gives, and the client uses it."""

import datetime
import decimal
import gc
import gzip
import io
import xmlrpc.client

import hypothesis
from hypothesis import strategies as st
import pytest

from nova_ha_ext.simulator import fixture
from nova_ha_ext.xenapi import client as xenapi_client
from nova_ha_ext.xenapi import unmarshal
from tests.unit.simulator import base

SETTINGS = hypothesis.settings(max_examples=300, derandomize=True,
                               deadline=None)

CHUNK_SIZES = (1, 7, 64 * 1024)


def _chunks(data, size):
    return (data[start:start + size] for start in range(0, len(data), size))


def _typed(value):
    """``value`` with the type of everything in it, to compare exactly.

    ``==`` alone would take ``True`` for ``1`` and ``1.0`` for ``1``, and
    ignores the order of a dict's keys.
    """
    if isinstance(value, dict):
        return 'dict', [(_typed(k), _typed(v)) for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [_typed(v) for v in value]
    if isinstance(value, xmlrpc.client.DateTime):
        return 'DateTime', value.value
    if isinstance(value, xmlrpc.client.Binary):
        return 'Binary', value.data
    return type(value).__name__, value


def _reply(value):
    return xmlrpc.client.dumps((value,), methodresponse=True,
                               allow_none=True).encode('utf-8')


def _raw_reply(params_xml):
    """A reply around hand-written ``<param>`` elements."""
    return ("<?xml version='1.0'?>\n<methodResponse><params>%s</params>"
            "</methodResponse>" % params_xml).encode('utf-8')


def _assert_same_as_xmlrpc_client(data, sizes=CHUNK_SIZES):
    expected = xmlrpc.client.loads(data)[0]
    for size in sizes:
        assert (_typed(unmarshal.loads_stream(_chunks(data, size))) ==
                _typed(expected)), 'chunks of %d bytes' % size


def _vm_record(i):
    """A VM record with the field types xapi sends."""
    return {
        'uuid': '6c1f3d0e-0000-4000-8000-%012d' % i,
        'name_label': 'vm-%05d' % i,
        'name_description': '',
        'power_state': 'Running',
        'is_a_template': False,
        'is_control_domain': i == 0,
        'memory_static_max': str(1024 ** 3),
        'VCPUs_at_startup': '2',
        'order': '0',
        'resident_on': 'OpaqueRef:host-%d' % (i % 3),
        'VBDs': ['OpaqueRef:vbd-%d-%d' % (i, n) for n in range(2)],
        'VIFs': [],
        'other_config': {'nova_uuid': 'uuid-%d' % i, 'empty': ''},
        'blocked_operations': {},
        'ha_restart_priority': 'restart' if i % 2 else '',
        'last_boot_CPU_flags': {'vendor': 'AuthenticAMD'},
        'start_time': xmlrpc.client.DateTime('20260101T00:00:%02dZ'
                                             % (i % 60)),
        'memory_overhead_ratio': 0.5 + i,
    }


def _records(count):
    return {'OpaqueRef:vm-%d' % i: _vm_record(i) for i in range(count)}


# Built by xmlrpc.client.dumps, as a Python XML-RPC server sends them.
DUMPED = {
    'xenapi records': {'Status': 'Success', 'Value': _records(3)},
    'xenapi many records': {'Status': 'Success', 'Value': _records(300)},
    'xenapi no records': {'Status': 'Success', 'Value': {}},
    'xenapi one record': {'Status': 'Success', 'Value': _vm_record(7)},
    'xenapi string value': {'Status': 'Success',
                            'Value': 'OpaqueRef:session'},
    'xenapi empty value': {'Status': 'Success', 'Value': ''},
    'xenapi list value': {'Status': 'Success',
                          'Value': ['OpaqueRef:a', 'OpaqueRef:b']},
    'xenapi int value': {'Status': 'Success', 'Value': 12},
    'xenapi failure': {'Status': 'Failure',
                       'ErrorDescription': ['HOST_IS_SLAVE', '10.0.0.2']},
    'xenapi value before status': {'Value': _records(2),
                                   'Status': 'Success'},
    'xenapi struct members not records': {
        'Status': 'Success', 'Value': {'a': 1, 'b': [{'c': None}], '': ''}},
    'unicode': {'name': 'caf\u00e9 \u4e2d\u6587 \U0001f600',
                '\u00e9t\u00e9': ['\u00fc', '\U00010348']},
    'markup and spaces': {'xml': '<a href="x">&amp;</a>', 'space': '  ',
                          'lines': 'one\ntwo\n', 'tab': '\t'},
    'empty strings': ['', {'': ''}, [''], {'k': ''}],
    'empty containers': [[], {}, [[]], [{}], {'a': {}, 'b': []}],
    'nested': [{'a': [{'b': [{'c': [1, 'two', 3.0, None]}]}]}],
    'string': 'plain',
    'empty string': '',
    'integers': [0, 1, -1, 2 ** 31 - 1, -2 ** 31],
    'booleans': [True, False, {'t': True}],
    'doubles': [0.0, -0.0, 0.5, -1e300, 1e-300, 1e16, float('inf')],
    'nil': None,
    'nils': [None, {'n': None}],
    'datetimes': [xmlrpc.client.DateTime('20260102T03:04:05'),
                  datetime.datetime(1999, 12, 31, 23, 59, 59)],
    'binary': [xmlrpc.client.Binary(b''), xmlrpc.client.Binary(
        bytes(range(256))), b'raw bytes'],
}

# Written by hand: what xapi sends (untyped values, no whitespace) and the
# rarer types xmlrpc.client also understands.
RAW = {
    'xapi style': _raw_reply(
        '<param><value><struct><member><name>Status</name><value>Success'
        '</value></member><member><name>Value</name><value><struct>'
        '<member><name>OpaqueRef:1</name><value><struct><member><name>'
        'uuid</name><value>u-1</value></member><member><name>empty</name>'
        '<value></value></member><member><name>tags</name><value><array>'
        '<data></data></array></value></member><member><name>bool</name>'
        '<value><boolean>1</boolean></value></member></struct></value>'
        '</member></struct></value></member></struct></value></param>'),
    'empty value element': _raw_reply('<param><value></value></param>'),
    'self-closed value': _raw_reply('<param><value/></param>'),
    'untyped value keeps its spaces': _raw_reply(
        '<param><value>  a b  </value></param>'),
    'several params': _raw_reply(
        '<param><value>a</value></param><param><value><int>2</int></value>'
        '</param>'),
    'no params': _raw_reply(''),
    'all integer tags': _raw_reply(''.join(
        '<param><value><%s>-5</%s></value></param>' % (tag, tag)
        for tag in ('int', 'i1', 'i2', 'i4', 'i8', 'biginteger'))),
    'i8 beyond 32 bits': _raw_reply(
        '<param><value><i8>9223372036854775807</i8></value></param>'),
    'float and bigdecimal': _raw_reply(
        '<param><value><float>1.25</float></value></param><param><value>'
        '<bigdecimal>3.14159265358979323846</bigdecimal></value></param>'),
    'spaces around numbers': _raw_reply(
        '<param><value><int> 7 </int></value></param><param><value>'
        '<double>\n2.5\n</double></value></param>'),
    'namespaced extension types': _raw_reply(
        '<param><value><ex:i8 xmlns:ex="http://ws.apache.org/xmlrpc/'
        'namespaces/extensions">5</ex:i8></value></param><param><value>'
        '<ex:nil xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/'
        'extensions"/></value></param>'),
    'cdata and entities': _raw_reply(
        '<param><value><string>a<![CDATA[<b>&]]>&#233;&lt;</string>'
        '</value></param>'),
    'latin-1 document': (
        b"<?xml version='1.0' encoding='iso-8859-1'?><methodResponse>"
        b"<params><param><value>caf\xe9</value></param></params>"
        b"</methodResponse>"),
    'comments and whitespace': _raw_reply(
        '\n  <!-- a comment -->\n  <param>\n    <value>\n      <struct>\n'
        '        <member> <name>k</name> <value><int>1</int></value> '
        '</member>\n      </struct>\n    </value>\n  </param>\n'),
    'duplicate value members, the last wins': _raw_reply(
        '<param><value><struct><member><name>Value</name><value><struct>'
        '<member><name>a</name><value>1</value></member></struct></value>'
        '</member><member><name>Status</name><value>Success</value>'
        '</member><member><name>Value</name><value>second</value>'
        '</member></struct></value></param>'),
    'duplicate record refs, the last wins': _raw_reply(
        '<param><value><struct><member><name>Value</name><value><struct>'
        '<member><name>r</name><value>1</value></member><member><name>s'
        '</name><value>2</value></member><member><name>r</name><value>3'
        '</value></member></struct></value></member></struct></value>'
        '</param>'),
}


@pytest.mark.parametrize('value', DUMPED.values(), ids=DUMPED.keys())
def test_dumped_reply_gives_what_xmlrpc_client_gives(value):
    _assert_same_as_xmlrpc_client(_reply(value))


@pytest.mark.parametrize('data', RAW.values(), ids=RAW.keys())
def test_hand_written_reply_gives_what_xmlrpc_client_gives(data):
    _assert_same_as_xmlrpc_client(data)


def test_types_are_xmlrpc_clients():
    data = _raw_reply(
        '<param><value><dateTime.iso8601>20260102T03:04:05'
        '</dateTime.iso8601></value></param><param><value><base64>YWI='
        '</base64></value></param><param><value><bigdecimal>1.5'
        '</bigdecimal></value></param>')
    when, blob, number = unmarshal.loads_stream([data])
    assert isinstance(when, xmlrpc.client.DateTime)
    assert when.value == '20260102T03:04:05'
    assert isinstance(blob, xmlrpc.client.Binary)
    assert blob.data == b'ab'
    assert number == decimal.Decimal('1.5')


def test_large_dict_of_records_over_any_chunking():
    data = _reply({'Status': 'Success', 'Value': _records(2000)})
    _assert_same_as_xmlrpc_client(data, sizes=(7, 4096, 64 * 1024,
                                               len(data)))


def test_chunks_may_be_any_iterable_and_include_empty_ones():
    data = _reply({'Status': 'Success', 'Value': _records(5)})
    pieces = [b''] + list(_chunks(data, 100)) + [b'']
    assert (unmarshal.loads_stream(iter(pieces)) ==
            xmlrpc.client.loads(data)[0])


# Property: any value of the XML-RPC types comes back as xmlrpc.client's.

_TEXT = st.text(st.characters(
    exclude_categories=('Cs', 'Cc'), exclude_characters='\ufffe\uffff',
    include_characters='\t\n\r'), max_size=20)
_SCALARS = st.one_of(
    _TEXT,
    st.integers(min_value=-2 ** 31, max_value=2 ** 31 - 1),
    st.booleans(),
    st.floats(allow_nan=False),
    st.none(),
    st.binary(max_size=20).map(xmlrpc.client.Binary),
    st.datetimes().map(xmlrpc.client.DateTime),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: (st.lists(children, max_size=5) |
                      st.dictionaries(_TEXT, children, max_size=5)),
    max_leaves=40)
_XENAPI_REPLIES = st.one_of(
    st.fixed_dictionaries({'Status': st.just('Success'),
                           'Value': st.dictionaries(_TEXT, _VALUES)}),
    st.fixed_dictionaries({'Status': st.just('Success'), 'Value': _VALUES}),
    st.fixed_dictionaries({'Status': st.just('Failure'),
                           'ErrorDescription': st.lists(_TEXT)}),
)


@SETTINGS
@hypothesis.given(st.one_of(_VALUES, _XENAPI_REPLIES),
                  st.sampled_from((1, 2, 7, 64, 1000, 64 * 1024)))
def test_any_value_gives_what_xmlrpc_client_gives(value, size):
    data = _reply(value)
    assert (_typed(unmarshal.loads_stream(_chunks(data, size))) ==
            _typed(xmlrpc.client.loads(data)[0]))


# Faults

@pytest.mark.parametrize('code, string', [
    (42, 'no such method'), (-1, ''), (0, 'caf\u00e9 <&>')])
@pytest.mark.parametrize('size', CHUNK_SIZES)
def test_fault_raises_xmlrpc_client_fault(code, string, size):
    data = xmlrpc.client.dumps(xmlrpc.client.Fault(code, string),
                               methodresponse=True).encode('utf-8')
    with pytest.raises(xmlrpc.client.Fault) as expected:
        xmlrpc.client.loads(data)
    with pytest.raises(xmlrpc.client.Fault) as raised:
        unmarshal.loads_stream(_chunks(data, size))
    assert raised.value.faultCode == expected.value.faultCode == code
    assert raised.value.faultString == expected.value.faultString == string


def test_fault_with_untyped_code_and_extra_members():
    data = (b'<methodResponse><fault><value><struct><member><name>'
            b'faultCode</name><value>E1</value></member><member><name>'
            b'faultString</name><value>bad</value></member><member><name>'
            b'detail</name><value><int>3</int></value></member></struct>'
            b'</value></fault></methodResponse>')
    with pytest.raises(xmlrpc.client.Fault) as raised:
        unmarshal.loads_stream([data])
    assert raised.value.faultCode == 'E1'
    assert raised.value.faultString == 'bad'


# Malformed replies

_GOOD = _reply({'Status': 'Success', 'Value': _records(50)})

MALFORMED = {
    'empty': (b'', 'the reply is empty'),
    'cut short': (_GOOD[:len(_GOOD) // 2], 'the reply is cut short'),
    'cut short at the end': (_GOOD[:-3], 'the reply is cut short'),
    'cut inside a character': (
        _raw_reply('<param><value>\u00e9</value></param>')[:-43],
        'the reply is cut short'),
    'not xml': (b'Service Unavailable', 'not well-formed XML'),
    'junk after the reply': (_GOOD + b'<more/>', 'not well-formed XML'),
    'html': (b'<html><body>Bad gateway</body></html>',
             'not an XML-RPC reply: expected <methodResponse>, found <html>'),
    'a call': (xmlrpc.client.dumps(('x',), 'VM.get_all').encode(),
               'not an XML-RPC reply: expected <methodResponse>, found '
               '<methodCall>'),
    'no params': (b'<methodResponse/>', '<methodResponse> must hold one '
                  '<params> or <fault>, found nothing'),
    'params and fault': (
        b'<methodResponse><params/><fault/></methodResponse>',
        '<methodResponse> must hold one <params> or <fault>, found '
        '<params>, <fault>'),
    'not a param': (_raw_reply('<value>x</value>'),
                    'expected <param> in <params>, found <value>'),
    'empty param': (_raw_reply('<param/>'),
                    '<param> must hold one <value>, found nothing'),
    'bad boolean': (_raw_reply('<param><value><boolean>2</boolean></value>'
                               '</param>'), "bad <boolean> value '2'"),
    'bad int': (_raw_reply('<param><value><int>ten</int></value></param>'),
                "bad <int> value 'ten'"),
    'empty int': (_raw_reply('<param><value><i4/></value></param>'),
                  "bad <i4> value ''"),
    'bad double': (_raw_reply('<param><value><double>1,5</double></value>'
                              '</param>'), "bad <double> value '1,5'"),
    'bad base64': (_raw_reply('<param><value><base64>\u00e9</base64>'
                              '</value></param>'), 'bad <base64> value'),
    'unknown type': (_raw_reply('<param><value><long>5</long></value>'
                                '</param>'),
                     'unknown type <long> in a <value>'),
    'two types': (_raw_reply('<param><value><int>1</int><int>2</int>'
                             '</value></param>'),
                  '<value> holds more than one element: <int> and <int>'),
    'element in a string': (_raw_reply('<param><value><string>a<b/>'
                                       '</string></value></param>'),
                            '<string> holds an element, <b>'),
    'array without data': (_raw_reply('<param><value><array><value>1'
                                      '</value></array></value></param>'),
                           'an <array> must hold one <data> element'),
    'not a value in an array': (
        _raw_reply('<param><value><array><data><int>1</int></data></array>'
                   '</value></param>'), 'expected <value>, found <int>'),
    'member without a value': (
        _raw_reply('<param><value><struct><member><name>a</name></member>'
                   '</struct></value></param>'),
        'expected <member> of a <name> and a <value> in a <struct>, found '
        '<member> of <name>'),
    'member in the wrong order': (
        _raw_reply('<param><value><struct><member><value>1</value><name>a'
                   '</name></member></struct></value></param>'),
        'found <member> of <value>, <name>'),
    'not a member': (
        _raw_reply('<param><value><struct><name>a</name></struct></value>'
                   '</param>'), 'found <name> of nothing'),
    'fault not a struct': (
        b'<methodResponse><fault><value>oops</value></fault>'
        b'</methodResponse>',
        "a <fault> must be a struct with faultCode and faultString, not "
        "'oops'"),
    'fault without a string': (
        b'<methodResponse><fault><value><struct><member><name>faultCode'
        b'</name><value><int>1</int></value></member></struct></value>'
        b'</fault></methodResponse>', 'a <fault> must be a struct'),
    'bad boolean in a record': (
        _GOOD.replace(b'<boolean>0</boolean>', b'<boolean>no</boolean>', 1),
        "bad <boolean> value 'no'"),
    'bad record member': (
        _GOOD.replace(b'<name>OpaqueRef:vm-1</name>', b'', 1),
        'expected <member> of a <name> and a <value> in a <struct>'),
    'too deep': (_raw_reply('<param>%s</param>' % (
        '<value><array><data>' * 1000 + '<value/>' +
        '</data></array></value>' * 1000)),
        'the reply nests values too deeply'),
}


@pytest.mark.parametrize('data, message', MALFORMED.values(),
                         ids=MALFORMED.keys())
@pytest.mark.parametrize('size', (7, 64 * 1024))
def test_malformed_reply_raises_a_response_error_saying_why(data, message,
                                                            size):
    with pytest.raises(xmlrpc.client.ResponseError) as raised:
        unmarshal.loads_stream(_chunks(data, size))
    assert isinstance(raised.value, unmarshal.MalformedResponse)
    assert message in str(raised.value)


def test_errors_reading_the_chunks_pass_through():
    def chunks():
        yield _GOOD[:100]
        raise TimeoutError('timed out')

    with pytest.raises(TimeoutError):
        unmarshal.loads_stream(chunks())


# The garbage collector

@pytest.fixture
def collector():
    """Whether the collector was enabled before the test; restored."""
    enabled = gc.isenabled()
    yield enabled
    if enabled:
        gc.enable()
    else:
        gc.disable()


def _outcome(data):
    try:
        return unmarshal.loads_stream(_chunks(data, 1000))
    except Exception as exc:
        return exc


@pytest.mark.parametrize('data', [
    _GOOD, xmlrpc.client.dumps(xmlrpc.client.Fault(1, 'x'),
                               methodresponse=True).encode(),
    MALFORMED['bad boolean in a record'][0], MALFORMED['cut short'][0],
    MALFORMED['too deep'][0]],
    ids=['success', 'fault', 'error while streaming', 'error at the end',
         'recursion'])
def test_collector_state_is_restored(collector, data):
    gc.enable()
    _outcome(data)
    assert gc.isenabled()
    gc.disable()
    _outcome(data)
    assert not gc.isenabled()


def test_collector_is_paused_while_parsing_not_while_reading(collector,
                                                             monkeypatch):
    gc.enable()
    while_reading = []
    while_parsing = []
    feed = unmarshal._Reader.feed

    def spy_feed(self, chunk):
        while_parsing.append(gc.isenabled())
        return feed(self, chunk)

    def chunks():
        for chunk in _chunks(_GOOD, 4096):
            while_reading.append(gc.isenabled())
            yield chunk

    monkeypatch.setattr(unmarshal._Reader, 'feed', spy_feed)
    unmarshal.loads_stream(chunks())
    assert while_reading and all(while_reading)
    assert while_parsing and not any(while_parsing)


# The client's transport

class _Response(io.BytesIO):
    """Enough of http.client.HTTPResponse for parse_response."""

    def __init__(self, body, headers=None):
        super().__init__(body)
        self.headers = headers or {}
        self.reads = []

    def getheader(self, name, default=None):
        return self.headers.get(name, default)

    def read(self, size=-1):
        self.reads.append(size)
        return super().read(size)


def _transport():
    transport = xenapi_client._Transport(1.0, 1.0)
    transport.verbose = False
    return transport


@pytest.fixture
def parsed(monkeypatch):
    """The calls of ``unmarshal.loads_stream``, which still parses."""
    calls = []
    loads_stream = unmarshal.loads_stream

    def spy(chunks):
        calls.append(chunks)
        return loads_stream(chunks)

    monkeypatch.setattr(unmarshal, 'loads_stream', spy)
    return calls


def test_transport_parses_with_loads_stream_in_chunks(parsed):
    data = _reply({'Status': 'Success', 'Value': _records(500)})
    response = _Response(data)
    assert (_transport().parse_response(response) ==
            xmlrpc.client.loads(data)[0])
    assert len(parsed) == 1
    assert set(response.reads) == {xenapi_client.READ_CHUNK}
    # Then one more read for the end of the reply.
    full_reads = -(-len(data) // xenapi_client.READ_CHUNK)
    assert len(response.reads) == full_reads + 1


def test_transport_decompresses_gzip_in_chunks(parsed):
    value = {'Status': 'Success', 'Value': _records(300)}
    response = _Response(gzip.compress(_reply(value)),
                         {'Content-Encoding': 'gzip'})
    assert _transport().parse_response(response) == (value,)
    assert len(parsed) == 1
    assert set(response.reads) == {xenapi_client.READ_CHUNK}


def test_transport_parses_a_file_without_headers():
    value = {'Status': 'Success', 'Value': 'OpaqueRef:x'}
    assert (_transport().parse_response(io.BytesIO(_reply(value))) ==
            (value,))


def test_transport_raises_the_fault():
    data = xmlrpc.client.dumps(xmlrpc.client.Fault(3, 'no'),
                               methodresponse=True).encode()
    with pytest.raises(xmlrpc.client.Fault):
        _transport().parse_response(_Response(data))


def test_verbose_transport_prints_the_body(capsys):
    transport = _transport()
    transport.verbose = True
    value = {'Status': 'Success', 'Value': 'x'}
    data = _reply(value)
    assert transport.parse_response(_Response(data)) == (value,)
    assert capsys.readouterr().out == 'body: %r\n' % data


# The client against the simulator, over real XML-RPC on loopback

@pytest.fixture
def pool():
    vms = [{'name_label': 'vm-%d' % i, 'memory_mb': 16, 'host': 'xs-a1',
            'power_state': 'Running', 'ha_restart_priority': 'restart',
            'other_config': {'nova_uuid': 'uuid-%d' % i}}
           for i in range(20)]
    with fixture.SimulatorFixture(base.scenario(base.pool(vms=vms))) as sim:
        yield sim.pool('pool-a')


def _client(info):
    # XML-RPC: the simulator serves JSON-RPC too, which auto would pick.
    return xenapi_client.PoolClient(info.url, info.username, info.password,
                                    allow_plain_http=True, protocol='xmlrpc')


def test_pool_client_reads_with_loads_stream_as_xmlrpc_client_would(
        pool, parsed, monkeypatch):
    fast = _client(pool)
    snapshot = fast.read_pool()
    records = fast.call('VM.get_all_records')
    hosts = fast.call('host.get_all_records')
    fast.close()
    # The login, the four calls of a read, two more and the logout.
    assert len(parsed) == 8

    # The same with xmlrpc.client's parser.
    monkeypatch.setattr(xenapi_client._Transport, 'parse_response',
                        xmlrpc.client.Transport.parse_response)
    stock = _client(pool)
    stock_snapshot = stock.read_pool()
    stock_records = stock.call('VM.get_all_records')
    stock_hosts = stock.call('host.get_all_records')
    stock.close()
    assert len(parsed) == 8

    assert len(snapshot.vms) == 20
    assert snapshot.ha == stock_snapshot.ha
    assert snapshot.vms == stock_snapshot.vms
    assert _typed(records) == _typed(stock_records)
    assert _typed(hosts) == _typed(stock_hosts)
    assert any(isinstance(value, xmlrpc.client.DateTime)
               for record in hosts.values() for value in record.values())
