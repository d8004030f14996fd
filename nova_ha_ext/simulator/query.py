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

"""xapi's query language for ``get_all_records_where`` / ``get_all_where``.

The grammar is xapi's (``ocaml/database/db_filter_parse.mly``)::

    expr  := value "=" value | expr "and" expr | expr "or" expr
           | "not" expr | "true" | "false" | "(" expr ")"
    value := '"' chars '"' | "field" '"' name '"'

``and`` and ``or`` have the same precedence and associate to the left;
``not`` has the lowest precedence, so it covers the rest of the enclosing
chain: ``not A and B`` is ``not (A and B)``.  A string literal runs to the
next double quote (no escapes).  Fields are named by their database
column, so fields in a namespace use a double underscore:
``field "name__label"="vm1"``.  Every
value compares as the string xapi's database stores: ``"true"``/``"false"``
for bools, decimal ints, S-expressions for sets and maps.

Errors follow xapi: a query that does not parse fails with
``INVALID_VALUE [expr, exception]`` where the exception is the OCaml
parser's (``Stdlib.Parsing.Parse_error``, or
``Failure("lexing: empty token")`` for a character the lexer does not
know); naming a field the class does not have fails, when a row is
evaluated, with ``INTERNAL_ERROR ["missing field", name, ""]``.
"""

import re

PARSE_ERROR = 'Stdlib.Parsing.Parse_error'
LEX_ERROR = 'Failure("lexing: empty token")'

_KEYWORDS = ('true', 'false', 'field', 'and', 'or', 'not')


class QueryError(Exception):
    """The expression does not parse; ``reason`` is xapi's exception."""

    def __init__(self, expr, reason):
        super(QueryError, self).__init__(expr, reason)
        self.expr = expr
        self.reason = reason


class MissingField(Exception):
    """The expression names a field the class does not have."""

    def __init__(self, name):
        super(MissingField, self).__init__(name)
        self.name = name


def _tokens(expr):
    pos = 0
    length = len(expr)
    while pos < length:
        char = expr[pos]
        if char in ' \t\n':
            pos += 1
        elif char in '=()':
            yield (char, None)
            pos += 1
        elif char == '"':
            end = expr.find('"', pos + 1)
            if end < 0:
                raise QueryError(expr, LEX_ERROR)
            yield ('ident', expr[pos + 1:end])
            pos = end + 1
        else:
            # The lexer matches these keywords as plain prefixes, like
            # ocamllex does for string patterns.
            for word in _KEYWORDS:
                if expr.startswith(word, pos):
                    yield (word, None)
                    pos += len(word)
                    break
            else:
                raise QueryError(expr, LEX_ERROR)
    yield ('eof', None)


class _Parser(object):
    def __init__(self, expr):
        self.expr = expr
        self.tokens = list(_tokens(expr))
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos][0]

    def take(self, kind=None):
        token = self.tokens[self.pos]
        if kind is not None and token[0] != kind:
            raise QueryError(self.expr, PARSE_ERROR)
        self.pos += 1
        return token

    def parse(self):
        node = self.expression()
        self.take('eof')
        return node

    def expression(self):
        node = self.unary()
        while self.peek() in ('and', 'or'):
            op = self.take()[0]
            node = (op, node, self.unary())
        return node

    def unary(self):
        kind = self.peek()
        if kind == 'not':
            self.take()
            return ('not', self.expression())
        if kind in ('true', 'false'):
            self.take()
            return (kind,)
        if kind == '(':
            self.take()
            node = self.expression()
            self.take(')')
            return node
        left = self.value()
        self.take('=')
        return ('eq', left, self.value())

    def value(self):
        kind = self.peek()
        if kind == 'field':
            self.take()
            return ('field', self.take('ident')[1])
        if kind == 'ident':
            return ('literal', self.take()[1])
        raise QueryError(self.expr, PARSE_ERROR)


def parse(expr):
    """Parse an expression into a tree of tuples, or raise QueryError."""
    return _Parser(expr).parse()


def compile_query(tree, cls):
    """Return ``predicate(obj)`` for a parsed tree over a datamodel class.

    The predicate raises MissingField when it reads a field the class does
    not have, as xapi does when it evaluates such a row.
    """
    def value(node):
        if node[0] == 'literal':
            text = node[1]
            return lambda obj: text
        if node[1] == '_ref':
            # Every row of xapi's database has its reference as "_ref".
            return lambda obj: obj.ref
        field = cls.by_db_name.get(node[1])
        if field is None:
            name = node[1]

            def missing(obj):
                raise MissingField(name)
            return missing
        fname, ftype = field.name, field.type
        return lambda obj: ftype.query(obj.get(fname))

    def build(node):
        op = node[0]
        if op == 'true':
            return lambda obj: True
        if op == 'false':
            return lambda obj: False
        if op == 'not':
            inner = build(node[1])
            return lambda obj: not inner(obj)
        if op == 'and':
            left, right = build(node[1]), build(node[2])
            return lambda obj: left(obj) and right(obj)
        if op == 'or':
            left, right = build(node[1]), build(node[2])
            return lambda obj: left(obj) or right(obj)
        left, right = value(node[1]), value(node[2])
        return lambda obj: left(obj) == right(obj)

    return build(tree)


def quote(text):
    """A string literal for a query (no escaping exists: refuse quotes)."""
    if '"' in text or re.search(r'[\x00-\x1f]', text):
        raise ValueError('cannot quote %r in a xapi query' % text)
    return '"%s"' % text
