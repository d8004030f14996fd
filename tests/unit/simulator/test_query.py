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

"""xapi's query language for get_all_records_where / get_all_where."""

import testtools

from nova_ha_ext.simulator import query
from tests.unit.simulator import base

VMS = [
    {'name_label': 'web-1', 'host': 'xs-a1', 'ha_restart_priority': 'restart',
     'other_config': {'nova_uuid': 'u1'}},
    {'name_label': 'web-2', 'host': 'xs-a2', 'ha_restart_priority': 'restart'},
    {'name_label': 'db-1', 'host': 'xs-a2', 'ha_restart_priority':
     'best-effort'},
    {'name_label': 'off', 'power_state': 'Halted'},
]


class ParserTest(testtools.TestCase):

    def test_grammar(self):
        self.assertEqual(('eq', ('field', 'name__label'), ('literal', 'a')),
                         query.parse('field "name__label"="a"'))
        self.assertEqual(('true',), query.parse(' true '))
        self.assertEqual(('not', ('false',)), query.parse('not false'))
        self.assertEqual(('eq', ('literal', 'a'), ('literal', 'a')),
                         query.parse('"a" = "a"'))

    def test_and_or_are_left_associative_with_equal_precedence(self):
        t, f = ('true',), ('false',)
        self.assertEqual(('or', ('and', t, f), t),
                         query.parse('true and false or true'))
        self.assertEqual(('and', ('or', t, f), t),
                         query.parse('true or false and true'))
        self.assertEqual(('or', t, ('and', f, t)),
                         query.parse('true or (false and true)'))

    def test_not_covers_the_rest_of_the_chain(self):
        t, f = ('true',), ('false',)
        self.assertEqual(('not', ('and', t, f)),
                         query.parse('not true and false'))
        self.assertEqual(('and', ('not', t), f),
                         query.parse('(not true) and false'))

    def test_parse_errors(self):
        for expr in ('', 'field', 'field "a"', 'field "a"=', '(true',
                     'true)', 'true and', '"a"="b" "c"', 'not'):
            e = self.assertRaises(query.QueryError, query.parse, expr)
            self.assertEqual((expr, 'Stdlib.Parsing.Parse_error'),
                             (e.expr, e.reason), expr)
        for expr in ('field "a"="b', 'name="x"', 'true && false',
                     "field 'a'='b'"):
            e = self.assertRaises(query.QueryError, query.parse, expr)
            self.assertEqual('Failure("lexing: empty token")', e.reason,
                             expr)

    def test_quote(self):
        self.assertEqual('"a b"', query.quote('a b'))
        self.assertRaises(ValueError, query.quote, 'a"b')


class QueryOverWireTest(base.SimulatorTestCase):

    def make_scenario(self):
        return base.scenario(base.pool(vms=VMS))

    def names(self, expr, cls='VM'):
        records = getattr(self.api, cls).get_all_records_where(expr)
        return sorted(r['name_label'] for r in records.values())

    def setUp(self):
        super(QueryOverWireTest, self).setUp()
        self.api = self.session().xenapi

    def test_equality_on_fields_and_literals(self):
        self.assertEqual(['web-1'], self.names('field "name__label"="web-1"'))
        self.assertEqual(['db-1', 'web-1', 'web-2'], self.names(
            'field "power_state"="Running" and '
            'field "is_control_domain"="false"'))
        self.assertEqual(['off'], self.names(
            'field "resident_on"="OpaqueRef:NULL"'))
        self.assertEqual([], self.names('field "name__label"="WEB-1"'))
        self.assertEqual(4, len(self.names('"x"="x" and not field '
                                           '"is_control_domain"="true"')))

    def test_boolean_structure(self):
        self.assertEqual(['db-1', 'web-2'], self.names(
            'field "is_control_domain"="false" and '
            '(field "name__label"="web-2" or field "name__label"="db-1")'))
        self.assertEqual(['off', 'web-1', 'web-2'], self.names(
            'field "is_control_domain"="false" and not '
            'field "name__label"="db-1"'))
        self.assertEqual([], self.names('false'))
        self.assertEqual(7, len(self.names('true')))

    def test_structured_fields_compare_as_xapi_stores_them(self):
        self.assertEqual(['web-1'], self.names(
            "field \"other_config\"=\"(('nova_uuid' 'u1'))\""))
        host = self.api.host.get_by_name_label('xs-a2')[0]
        refs = self.api.host.get_resident_VMs(host)
        expr = 'field "resident_VMs"="(%s)"' % ' '.join(
            "'%s'" % r for r in refs)
        self.assertEqual(['xs-a2'], self.names(expr, 'host'))
        self.assertEqual(['xs-a1', 'xs-a2', 'xs-a3'], self.names(
            'field "enabled"="true" and field "API_version__major"="2"',
            'host'))

    def test_get_all_where_returns_refs(self):
        refs = self.api.VM.get_all_where('field "name__label"="web-2"')
        self.assertEqual(self.api.VM.get_by_name_label('web-2'), refs)

    def test_bad_query_is_invalid_value(self):
        expr = 'field "name__label"="web-1" and'
        self.assertFailure(['INVALID_VALUE', expr,
                            'Stdlib.Parsing.Parse_error'],
                           self.api.VM.get_all_records_where, expr)
        self.assertFailure(['INVALID_VALUE', 'name_label = "x"',
                            'Failure("lexing: empty token")'],
                           self.api.VM.get_all_where, 'name_label = "x"')

    def test_unknown_field_is_internal_error(self):
        # Namespaced fields are "name__label" in the database, as in xapi.
        self.assertFailure(['INTERNAL_ERROR', 'missing field', 'name_label',
                            ''], self.api.VM.get_all_records_where,
                           'field "name_label"="web-1"')
        # Like xapi, a field is only read when a row is evaluated.
        self.assertEqual([], self.names('false and field "bogus"="x"'))


base.over_both_wires(globals())
