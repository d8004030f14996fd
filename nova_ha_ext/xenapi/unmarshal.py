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

"""XML-RPC replies unmarshalled with the C ``ElementTree`` parser.

Why: ``xmlrpc.client`` (which the ``XenAPI`` package uses) calls back into
Python for every start tag, end tag and text of a reply. A VM record of 90
fields is about 350 elements, so reading the records of a big pool spends
about 90% of its time there (see "XenAPI pool read" in
``doc/benchmarks.md``). :func:`loads_stream` lets the C parser build the
elements and converts them with a plain walk: 2.3 to 2.5 times faster on
the ``VM.get_all_records`` replies of 2,000 and 10,000 VMs, at the same
peak memory.

What it guarantees:

* the result is what ``xmlrpc.client.loads(data)[0]`` gives for the same
  ``methodResponse``, of the same types (``xmlrpc.client.DateTime`` and
  ``Binary``, ``Decimal`` for ``bigdecimal``, a ``<value>`` without a type
  element is a string), and a ``<fault>`` raises ``xmlrpc.client.Fault``
  with the same ``faultCode`` and ``faultString``;
* anything else raises :class:`MalformedResponse` (an
  ``xmlrpc.client.ResponseError``) saying what is wrong: XML that is not
  well-formed or cut short, a document that is not a ``methodResponse``,
  an unknown element, a bad boolean or number. ``xmlrpc.client`` lets some
  of these through or fails with a ``TypeError``;
* memory stays flat for XenAPI's big replies: in ``{'Status': 'Success',
  'Value': {ref: record, ...}}`` the members of the ``Value`` struct are
  converted, and their elements dropped, as soon as the parser is past
  them, so the element tree never holds more than about one chunk of the
  reply. Any other reply (``Value`` a string or a list, a ``Failure``, not
  XenAPI at all) is converted whole once parsed;
* the cyclic garbage collector is paused while a chunk is parsed and
  converted, never while the next chunk is read, and is always restored:
  the elements hold no reference cycles, and collecting while millions of
  them are created would scan them again and again for nothing.
"""

import decimal
import gc
from xml.etree import ElementTree
from xml.parsers import expat
import xmlrpc.client

from nova_ha_ext import urls

# expat's errors for a document that ends too early.
_CUT_SHORT = frozenset(expat.errors.codes[message] for message in (
    expat.errors.XML_ERROR_NO_ELEMENTS,
    expat.errors.XML_ERROR_UNCLOSED_TOKEN,
    expat.errors.XML_ERROR_PARTIAL_CHAR))


class MalformedResponse(xmlrpc.client.ResponseError):
    """The reply is not a well-formed XML-RPC ``methodResponse``."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message


def _boolean(text):
    if text == '1':
        return True
    if text == '0':
        return False
    raise ValueError('not 0 or 1')


def _nil(text):
    return None


def _datetime(text):
    # As DateTime().decode(text), without DateTime() reading the clock.
    return xmlrpc.client.DateTime(text.strip())


def _binary(text):
    value = xmlrpc.client.Binary()
    value.decode(text.encode('ascii'))
    return value


# What xmlrpc.client.Unmarshaller understands inside a <value>, except the
# containers; each converter takes the element's text.
_SCALARS = {
    'string': str,
    'boolean': _boolean,
    'int': int,
    'i1': int,
    'i2': int,
    'i4': int,
    'i8': int,
    'biginteger': int,
    'double': float,
    'float': float,
    'bigdecimal': decimal.Decimal,
    'nil': _nil,
    'dateTime.iso8601': _datetime,
    'base64': _binary,
}


def _value(elem):
    """The Python value of a ``<value>`` element."""
    if elem.tag != 'value':
        raise MalformedResponse('expected <value>, found <%s>' % elem.tag)
    count = len(elem)
    if not count:
        return elem.text or ''
    typed = elem[0]
    tag = typed.tag
    if count > 1:
        raise MalformedResponse('<value> holds more than one element: <%s> '
                                'and <%s>' % (tag, elem[1].tag))
    if tag == 'struct':
        return _add_members(typed, {})
    if tag == 'array':
        return _array(typed)
    convert = _SCALARS.get(tag)
    if convert is None and tag.startswith('{'):
        # A namespaced extension type such as Apache's <ex:i8>.
        convert = _SCALARS.get(tag.rpartition('}')[2])
    if convert is None:
        raise MalformedResponse('unknown type <%s> in a <value>' % tag)
    if len(typed):
        raise MalformedResponse('<%s> holds an element, <%s>'
                                % (tag, typed[0].tag))
    text = typed.text or ''
    try:
        return convert(text)
    except (ValueError, ArithmeticError) as exc:
        raise MalformedResponse('bad <%s> value %s: %s'
                                % (tag, urls.excerpt(text), exc))


def _add_members(members, into):
    """Convert ``<member>`` elements into entries of the dict ``into``.

    :returns: ``into``.
    """
    for member in members:
        try:
            name, value = member
        except ValueError:
            raise _bad_member(member) from None
        if member.tag != 'member' or name.tag != 'name' or len(name):
            raise _bad_member(member)
        into[name.text or ''] = _value(value)
    return into


def _bad_member(member):
    return MalformedResponse(
        'expected <member> of a <name> and a <value> in a <struct>, found '
        '<%s> of %s' % (member.tag, ', '.join(
            '<%s>' % e.tag for e in member) or 'nothing'))


def _array(elem):
    if len(elem) != 1 or elem[0].tag != 'data':
        raise MalformedResponse('an <array> must hold one <data> element')
    return [_value(item) for item in elem[0]]


def _single(elem, tag):
    """The one child of ``elem``, which must be a ``<tag>``."""
    if len(elem) != 1 or elem[0].tag != tag:
        raise MalformedResponse('<%s> must hold one <%s>, found %s' % (
            elem.tag, tag, ', '.join('<%s>' % e.tag for e in elem) or
            'nothing'))
    return elem[0]


def _response(root):
    """The params of a ``<methodResponse>``, or raise its fault."""
    if root.tag != 'methodResponse':
        raise MalformedResponse('not an XML-RPC reply: expected '
                                '<methodResponse>, found <%s>' % root.tag)
    if len(root) != 1 or root[0].tag not in ('params', 'fault'):
        raise MalformedResponse('<methodResponse> must hold one <params> or '
                                '<fault>, found %s' % (', '.join(
                                    '<%s>' % e.tag for e in root) or
                                    'nothing'))
    body = root[0]
    if body.tag == 'fault':
        fault = _value(_single(body, 'value'))
        if (not isinstance(fault, dict) or 'faultCode' not in fault or
                'faultString' not in fault):
            raise MalformedResponse('a <fault> must be a struct with '
                                    'faultCode and faultString, not %s'
                                    % urls.excerpt(fault))
        raise xmlrpc.client.Fault(**fault)
    params = []
    for param in body:
        if param.tag != 'param':
            raise MalformedResponse('expected <param> in <params>, found '
                                    '<%s>' % param.tag)
        params.append(_value(_single(param, 'value')))
    return tuple(params)


class _Reader:
    """An XML-RPC reply, parsed and converted chunk by chunk.

    :meth:`feed` it the reply's bytes, then :meth:`close` it for the
    params. The ``Value`` struct of a XenAPI reply is converted member by
    member as it arrives (see the module's docstring).
    """

    def __init__(self):
        builder = ElementTree.TreeBuilder()
        # The reply's root element is parsed into this one, where it can
        # be reached while the parser builds it (XMLPullParser's events
        # would lead to it too, at the price of one Python step for each
        # element).
        self._top = builder.start('reply', {})
        self._parser = ElementTree.XMLParser(target=builder)
        self._empty = True
        # The Value struct's <member>: None while unknown, False if the
        # reply has none.
        self._member = None
        # The members of the Value struct converted so far.
        self._records = {}

    def feed(self, chunk):
        """Parse the next bytes of the reply."""
        try:
            self._parser.feed(chunk)
        except ElementTree.ParseError as exc:
            raise self._parse_error(exc) from exc
        except (LookupError, ValueError) as exc:
            # expat's answer to an encoding it does not know.
            raise MalformedResponse('the reply is in an XML encoding this '
                                    'client cannot read: %s' % exc) from exc
        if chunk:
            self._empty = False
        if self._member is None:
            self._member = self._find_value_member()
        if self._member:
            # The last member may not be complete; the others are.
            struct = self._member[1][0]
            done = len(struct) - 1
            if done > 0:
                _add_members(struct[:done], self._records)
                del struct[:done]

    def close(self):
        """The reply's params, as a tuple; raise its fault if it has one."""
        try:
            self._parser.close()
        except ElementTree.ParseError as exc:
            raise self._parse_error(exc) from exc
        root = self._top[0]
        if not self._member:
            return _response(root)
        struct = self._member[1][0]
        _add_members(struct, self._records)
        del struct[:]
        result = _response(root)
        # Unless a later member was also named "Value" (and won, as it
        # does with xmlrpc.client), put back the members converted early.
        status = root[0][0][0][0]
        if [m for m in status if m[0].text == 'Value'][-1] is self._member:
            result[0]['Value'] = self._records
        return result

    def _parse_error(self, exc):
        if self._empty and exc.code in _CUT_SHORT:
            return MalformedResponse('the reply is empty')
        if exc.code in _CUT_SHORT:
            return MalformedResponse('the reply is cut short: %s' % exc)
        return MalformedResponse('the reply is not well-formed XML: %s'
                                 % exc)

    def _find_value_member(self):
        """The ``Value`` member of a XenAPI reply once its struct began.

        :returns: the ``<member>``, None if the parser has not got that far
            yet, or False if the reply is not ``{..., 'Value': {...}}``.
        """
        try:
            root = self._top[0]
            if root.tag != 'methodResponse' or root[0].tag != 'params':
                return False
            status = root[0][0][0][0]
        except IndexError:
            return None
        if status.tag != 'struct':
            return False
        for member in status:
            if len(member) < 2 or member[0].text != 'Value':
                continue
            if not len(member[1]):
                return None
            return member if member[1][0].tag == 'struct' else False
        return None


def _collector_paused(func, *args):
    """``func(*args)`` with the cyclic garbage collector paused."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return func(*args)
    finally:
        if enabled:
            gc.enable()


def loads_stream(chunks):
    """Unmarshal an XML-RPC reply given as an iterable of bytes chunks.

    :returns: the reply's params as a tuple, as
        ``xmlrpc.client.loads(data)[0]``.
    :raises xmlrpc.client.Fault: the reply is a ``<fault>``.
    :raises MalformedResponse: the reply is not a well-formed
        ``methodResponse``.
    """
    reader = _Reader()
    try:
        for chunk in chunks:
            _collector_paused(reader.feed, chunk)
        return _collector_paused(reader.close)
    except RecursionError:
        raise MalformedResponse('the reply nests values too deeply') from None
