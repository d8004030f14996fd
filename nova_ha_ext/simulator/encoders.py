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

"""The two wire encodings xapi answers in: XML-RPC and JSON-RPC.

The dispatcher runs a call once, whatever the wire; an encoder writes its
result or its failure as xapi does:

* XML-RPC (``POST /``): ``{Status: Success, Value: ...}`` or
  ``{Status: Failure, ErrorDescription: [code, params...]}``, as
  ``ocaml-rpc``'s ``Xmlrpc.string_of_response``;
* JSON-RPC (``POST /jsonrpc``, ``ocaml/xapi/api_server.ml``
  ``jsoncallback``): ``ocaml-rpc``'s ``Jsonrpc.string_of_response``. In
  v1.0 ``{"result": ..., "error": null, "id": ...}`` or ``"result": null``
  and ``"error"`` the list of the code and its parameters; in v2.0
  ``{"jsonrpc": "2.0", "result": ..., "id": ...}`` or ``"error": {"code":
  1, "message": code, "data": [params...]}`` (``api_server.ml``
  ``callback1``, ``api_server_common.ml`` ``error_code_lit``).

Records come from each object's cached text in either encoding
(:meth:`database.DBObject.record_xml`, ``record_json``), so a big pool is
written once per change, not once per read.
"""

import collections
import json

from nova_ha_ext.simulator import datamodel

#: What ``event.from`` returns: its events as ``(generation, operation,
#: object or tombstone)``, the objects per table and the next token.
EventBatch = collections.namedtuple('EventBatch',
                                    'events ref_counts token')

_COMPACT = (',', ':')

_XML_HEAD = ("<?xml version='1.0'?>\n<methodResponse><params><param>"
             "<value><struct><member><name>Status</name>"
             "<value>Success</value></member>"
             "<member><name>Value</name>")
_XML_TAIL = ('</member></struct></value></param></params>'
             '</methodResponse>\n')
_XML_FAILURE = ("<?xml version='1.0'?>\n<methodResponse><params><param>"
                "<value><struct><member><name>Status</name>"
                "<value>Failure</value></member>"
                "<member><name>ErrorDescription</name><value><array><data>"
                "%s</data></array></value></member></struct></value>"
                "</param></params></methodResponse>\n")


class BadRequest(Exception):
    """A request xapi refuses with HTTP 500 before dispatching it."""


def _xml_event(generation, operation, item):
    """One event record as XML-RPC, as xapi writes it.

    xapi_event.ml ``from_inner`` and ``event_types.ml`` ``event``: ``id``
    (a string), ``timestamp`` (always the string "0.0"), ``class`` (lower
    case), ``operation``, ``ref`` and, except for a ``del``, ``snapshot``.
    """
    if operation == 'del':
        ref, cls_name = item[0], item[1]
        snapshot = ''
    else:
        ref, cls_name = item.ref, item.cls.name
        snapshot = ('<member><name>snapshot</name>%s</member>'
                    % item.record_xml())
    return ''.join((
        '<value><struct>',
        '<member><name>id</name><value>%d</value></member>' % generation,
        '<member><name>timestamp</name><value>0.0</value></member>',
        '<member><name>class</name><value>%s</value></member>'
        % cls_name.lower(),
        '<member><name>operation</name><value>%s</value></member>'
        % operation,
        '<member><name>ref</name>%s</member>' % datamodel.string_xml(ref),
        snapshot,
        '</struct></value>'))


def _json_event(generation, operation, item):
    """One event record as JSON: the members of :func:`_xml_event`."""
    if operation == 'del':
        ref, cls_name = item[0], item[1]
        snapshot = ''
    else:
        ref, cls_name = item.ref, item.cls.name
        snapshot = ',"snapshot":' + item.record_json()
    return ('{"id":"%d","timestamp":"0.0","class":%s,"operation":"%s",'
            '"ref":%s%s}' % (generation,
                             datamodel.json_string(cls_name.lower()),
                             operation, datamodel.json_string(ref),
                             snapshot))


class XmlRpc(object):
    """xapi's XML-RPC answers."""

    content_type = 'text/xml'

    def value_parts(self, type_, value):
        """The XML ``<value>`` of a result, as a list of strings to join."""
        if isinstance(value, EventBatch):
            # valid_ref_counts are int32 (event_types.ml): <int>, not text.
            counts = ''.join(
                '<member><name>%s</name><value><int>%d</int></value>'
                '</member>' % (cls, n)
                for cls, n in sorted(value.ref_counts.items()))
            return ['<value><struct><member><name>events</name><value>'
                    '<array><data>',
                    ''.join(_xml_event(*e) for e in value.events),
                    '</data></array></value></member>'
                    '<member><name>valid_ref_counts</name><value><struct>',
                    counts, '</struct></value></member>'
                    '<member><name>token</name><value>%s</value></member>'
                    '</struct></value>' % datamodel.escape(value.token)]
        if isinstance(type_, datamodel.RecordType):
            return list(value.record_xml_parts())
        if (isinstance(type_, datamodel.MapType) and
                isinstance(type_.value, datamodel.RecordType)):
            parts = ['<value><struct>']
            for ref, obj in value.items():
                parts.append('<member><name>%s</name>' % ref)
                parts.extend(obj.record_xml_parts())
                parts.append('</member>')
            parts.append('</struct></value>')
            return parts
        return [type_.encode(value)]

    def success(self, type_, value):
        return ''.join([_XML_HEAD] + self.value_parts(type_, value) +
                       [_XML_TAIL])

    def failure(self, details):
        return _XML_FAILURE % ''.join(datamodel.string_xml(d)
                                      for d in details)


class JsonRpc(object):
    """xapi's JSON-RPC answers to one request (its version and id)."""

    content_type = 'application/json'

    def __init__(self, version, request_id):
        self.version = version
        self._id = json.dumps(request_id)

    @classmethod
    def parse(cls, body):
        """``(encoder, method, params)`` of a JSON-RPC request body.

        As ``ocaml-rpc``'s ``Jsonrpc.version_id_and_call_of_string``:
        ``"jsonrpc": "2.0"`` or no ``jsonrpc`` at all (v1.0); v1.0 needs
        ``params``, a list; v2.0 takes none, a list, or an object (one
        parameter); the ``id`` is a string or an integer and must be there.

        :raises BadRequest: the request is malformed.
        """
        try:
            request = json.loads(body)
        except ValueError as exc:
            raise BadRequest('Jsonrpc.Malformed_method_request("not JSON: '
                             '%s")' % exc)
        if not isinstance(request, dict):
            raise BadRequest('Jsonrpc.Malformed_method_request("Invalid '
                             'request body")')
        method = request.get('method')
        if not isinstance(method, str):
            raise BadRequest('Jsonrpc.Malformed_method_request("Invalid '
                             'field \'method\' in request body")')
        version = request.get('jsonrpc', '1.0')
        if 'jsonrpc' in request and version != '2.0':
            raise BadRequest('Jsonrpc.Malformed_method_request("Invalid '
                             'field \'jsonrpc\' in request body")')
        params = request.get('params')
        if version == '2.0' and params is None:
            params = []
        elif version == '2.0' and isinstance(params, dict):
            params = [params]
        if not isinstance(params, list):
            raise BadRequest('Jsonrpc.Malformed_method_request("Invalid '
                             'field \'params\' in request body")')
        request_id = request.get('id')
        if (isinstance(request_id, bool) or
                not isinstance(request_id, (str, int))):
            # Notifications (no id, or null) are not accepted.
            raise BadRequest('Jsonrpc.Malformed_method_request("Invalid '
                             'field \'id\' in request body")')
        return cls(version, request_id), method, params

    def value(self, type_, value):
        """The JSON text of a result."""
        if isinstance(value, EventBatch):
            counts = ','.join('%s:%d' % (datamodel.json_string(cls), n)
                              for cls, n in sorted(value.ref_counts.items()))
            return ('{"events":[%s],"valid_ref_counts":{%s},"token":%s}' % (
                ','.join(_json_event(*e) for e in value.events), counts,
                datamodel.json_string(value.token)))
        if (isinstance(type_, datamodel.MapType) and
                isinstance(type_.value, datamodel.RecordType)):
            return '{%s}' % ','.join(
                '%s:%s' % (datamodel.json_string(ref), obj.record_json())
                for ref, obj in value.items())
        return type_.json(value)

    def success(self, type_, value):
        if self.version == '2.0':
            return '{"jsonrpc":"2.0","result":%s,"id":%s}' % (
                self.value(type_, value), self._id)
        return '{"result":%s,"error":null,"id":%s}' % (
            self.value(type_, value), self._id)

    def failure(self, details):
        code, params = details[0], details[1:]
        if self.version == '2.0':
            return ('{"jsonrpc":"2.0","error":{"code":1,"message":%s,'
                    '"data":%s},"id":%s}' % (
                        datamodel.json_string(code),
                        json.dumps(params, separators=_COMPACT),
                        self._id))
        return '{"result":null,"error":%s,"id":%s}' % (
            json.dumps(details, separators=_COMPACT), self._id)


#: The XML-RPC encoder (it keeps no state).
XMLRPC = XmlRpc()
