#!/usr/bin/env python3
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

"""Generate the XenAPI pool simulator's datamodel data file.

Reads the published XenAPI datamodel (``datamodel.json``, ``errors.json``
and ``param_defaults.json`` of the xapi project) and writes
``nova_ha_ext/simulator/data/xenapi.json``: for each class the simulator
models, its fields (name, type, qualifier, default, database column name)
and every message (parameters, result type, number of trailing parameters
with defaults), the enums those use, and the error codes the simulator
raises.

    python tools/gen_simulator_datamodel.py [--source DIR] [--output FILE]

``--check`` compares instead of writing and exits non-zero on a difference.
"""

import argparse
import collections
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_SOURCE = os.path.join(os.path.dirname(REPO), 'shared', 'xenapi')
DEFAULT_OUTPUT = os.path.join(REPO, 'nova_ha_ext', 'simulator', 'data',
                              'xenapi.json')

MODELLED_CLASSES = ('session', 'pool', 'host', 'host_metrics', 'VM', 'SR',
                    'PBD', 'VDI', 'VBD', 'task', 'event', 'VM_group',
                    'message')

# The published datamodel flattens xapi's field namespaces (VM.memory_*,
# host.API_version_* ...) into plain names, but the database columns that
# get_all_records_where queries keep them apart with a double underscore
# ("name__label", "memory__static_max").  These are the namespaces of the
# modelled classes in xapi's datamodel sources.
NAMESPACES = {
    'pool': ('name',),
    'host': ('name', 'memory', 'API_version'),
    'host_metrics': ('memory',),
    'VM': ('name', 'memory', 'VCPUs', 'actions', 'PV', 'HVM'),
    'SR': ('name',),
    'VDI': ('name',),
    'VBD': ('qos',),
    'task': ('name',),
    'VM_group': ('name',),
}

# Error codes the simulator raises; each must exist in errors.json.
ERRORS = (
    'CANNOT_CONTACT_HOST', 'CANNOT_CREATE_STATE_FILE',
    'CANNOT_RESET_CONTROL_DOMAIN',
    'EVENT_FROM_TOKEN_PARSE_FAILURE', 'EVENT_SUBSCRIPTION_PARSE_FAILURE',
    'FIELD_TYPE_ERROR', 'HANDLE_INVALID',
    'HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED', 'HA_IS_ENABLED',
    'HA_NOT_ENABLED', 'HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN',
    'HA_TOO_FEW_HOSTS', 'HOST_DISABLED', 'HOST_IS_LIVE', 'HOST_IS_SLAVE',
    'LICENCE_RESTRICTION', 'TOO_MANY_GROUPS',
    'HOST_NOT_ENOUGH_FREE_MEMORY', 'HOST_NOT_LIVE', 'HOST_OFFLINE',
    'INCOMPATIBLE_STATEFILE_SR', 'INTERNAL_ERROR', 'INVALID_VALUE',
    'MAP_DUPLICATE_KEY', 'MEMORY_CONSTRAINT_VIOLATION',
    'MESSAGE_METHOD_UNKNOWN', 'MESSAGE_PARAMETER_COUNT_MISMATCH',
    'NOT_IMPLEMENTED', 'NO_HOSTS_AVAILABLE', 'OPERATION_NOT_ALLOWED',
    'SESSION_AUTHENTICATION_FAILED', 'SESSION_INVALID', 'UUID_INVALID',
    'VM_BAD_POWER_STATE', 'VM_IS_TEMPLATE', 'VM_REQUIRES_SR',
)


#: The feature of xapi's licence that gates the VM groups
#: (ocaml/xapi-types/features.ml: VM_groups, pool.restrictions key
#: ``restrict_vm_groups``).
VM_GROUPS_FEATURE = 'VM_groups'


def _session():
    return {'type': 'session ref', 'name': 'session_id'}


def _implicit(name, params, result, feature):
    return {'name': name, 'params': [_session()] + params,
            'result': [result], 'implicit': True, 'feature': feature}


def _vm_group_additions():
    """The VM groups of xapi, which the published datamodel leaves out.

    They are licence-gated on XenServer. Taken from xapi (at e2ee48d6):
    the class from ocaml/idl/datamodel_vm_group.ml (``uid``, the ``name``
    namespace RW, ``placement`` StaticRO with default ``normal``, ``VMs``
    DynamicRO; ``gen_constructor_destructor``), the field ``VM.groups``
    (DynamicRO) and the message ``VM.set_groups`` from
    ocaml/idl/datamodel_vm.ml, in the published datamodel's own shape,
    with the implicit messages xapi generates for such a class. Each
    message names the feature that gates it.

    :returns: the VM_group class, the VM field, the VM message and the
        ``placement_policy`` enum.
    """
    feature = VM_GROUPS_FEATURE
    ref = {'type': 'VM_group ref', 'name': 'self'}
    fields = [
        {'name': 'uuid', 'type': 'string', 'qualifier': 'RO/runtime'},
        {'name': 'name_label', 'type': 'string', 'qualifier': 'RW',
         'default': '""'},
        {'name': 'name_description', 'type': 'string', 'qualifier': 'RW',
         'default': '""'},
        {'name': 'placement', 'type': 'enum placement_policy',
         'qualifier': 'RO/constructor', 'default': 'normal'},
        {'name': 'VMs', 'type': 'VM ref set', 'qualifier': 'RO/runtime'},
    ]
    messages = [
        _implicit('get_all', [], 'VM_group ref set', feature),
        _implicit('get_all_records', [],
                  '(VM_group ref -> VM_group record) map', feature),
        _implicit('get_record', [ref], 'VM_group record', feature),
        _implicit('get_by_uuid', [{'type': 'string', 'name': 'uuid'}],
                  'VM_group ref', feature),
        _implicit('get_by_name_label', [{'type': 'string',
                                         'name': 'label'}],
                  'VM_group ref set', feature),
        _implicit('create', [{'type': 'VM_group record', 'name': 'args'}],
                  'VM_group ref', feature),
        _implicit('destroy', [ref], 'void', feature),
    ]
    for field in fields:
        messages.append(_implicit('get_' + field['name'], [ref],
                                  field['type'], feature))
        if field['qualifier'] == 'RW':
            messages.append(_implicit(
                'set_' + field['name'],
                [ref, {'type': field['type'], 'name': 'value'}], 'void',
                feature))
    vm_field = {'name': 'groups', 'type': 'VM_group ref set',
                'qualifier': 'RO/runtime'}
    vm_messages = [
        _implicit('get_groups', [{'type': 'VM ref', 'name': 'self'}],
                  'VM_group ref set', feature),
        {'name': 'set_groups',
         'params': [_session(), {'type': 'VM ref', 'name': 'self'},
                    {'type': 'VM_group ref set', 'name': 'value'}],
         'result': ['void'], 'implicit': False, 'feature': feature},
    ]
    enum = {'name': 'placement_policy', 'values': [
        {'name': 'anti_affinity'}, {'name': 'normal'}]}
    cls = {'name': 'VM_group', 'fields': fields, 'messages': messages,
           'enums': [enum]}
    return cls, vm_field, vm_messages


def _with_additions(datamodel):
    """The published datamodel plus :func:`_vm_group_additions`."""
    cls, vm_field, vm_messages = _vm_group_additions()
    result = []
    for c in datamodel:
        if c['name'] == 'VM':
            c = dict(c, fields=c['fields'] + [vm_field],
                     messages=c['messages'] + vm_messages)
        result.append(c)
    return result + [cls]


def _db_name(cls, field):
    for ns in NAMESPACES.get(cls, ()):
        if field.startswith(ns + '_'):
            return ns + '__' + field[len(ns) + 1:]
    return field


def _has_session(params):
    return bool(params) and params[0]['name'] == 'session_id'


def _defaults_per_message(datamodel, param_defaults):
    """Attribute param_defaults.json entries to (class, message) pairs.

    The file gives, per message name, one ``[total, defaulted]`` pair per
    class defining it, where ``total`` counts the parameters other than the
    session.  A pair is attributed only when the classes whose message has
    ``total`` such parameters match the pairs one to one with the same
    count; anything ambiguous is left out and reported.
    """
    arity = collections.defaultdict(list)
    for cls in datamodel:
        for msg in cls['messages']:
            params = msg['params']
            n = len(params) - (1 if _has_session(params) else 0)
            arity[(msg['name'], n)].append(cls['name'])
    result = {}
    skipped = []
    for name, entries in param_defaults.items():
        by_total = collections.defaultdict(list)
        for total, defaulted in entries:
            by_total[total].append(defaulted)
        for total, counts in by_total.items():
            classes = arity.get((name, total), [])
            if len(classes) == len(counts) and len(set(counts)) == 1:
                for cls in classes:
                    result[(cls, name)] = counts[0]
            else:
                skipped.append('%s/%d' % (name, total))
    return result, skipped


def _referenced_enums(type_string):
    return re.findall(r'enum (\w+)', type_string)


def build(source):
    with open(os.path.join(source, 'datamodel.json')) as f:
        datamodel = json.load(f)
    with open(os.path.join(source, 'errors.json')) as f:
        errors = json.load(f)
    with open(os.path.join(source, 'param_defaults.json')) as f:
        param_defaults = json.load(f)

    defaults, skipped = _defaults_per_message(datamodel, param_defaults)
    datamodel = _with_additions(datamodel)
    by_name = {c['name']: c for c in datamodel}
    all_enums = {}
    for cls in datamodel:
        for enum in cls.get('enums', []):
            all_enums[enum['name']] = [v['name'] for v in enum['values']]

    classes = {}
    used_enums = set()
    for name in MODELLED_CLASSES:
        cls = by_name[name]
        fields = []
        for field in cls['fields']:
            fields.append([field['name'], field['type'], field['qualifier'],
                           field.get('default'),
                           _db_name(name, field['name'])])
            used_enums.update(_referenced_enums(field['type']))
        messages = {}
        for msg in cls['messages']:
            params = [[p['name'], p['type']] for p in msg['params']]
            for p in msg['params']:
                used_enums.update(_referenced_enums(p['type']))
            result = msg['result'][0] if msg['result'] else 'void'
            used_enums.update(_referenced_enums(result))
            messages[msg['name']] = {
                'params': params,
                'result': result,
                'optional': defaults.get((name, msg['name']), 0),
                'implicit': bool(msg.get('implicit')),
            }
            if msg.get('feature'):
                messages[msg['name']]['feature'] = msg['feature']
        # A class without database rows (message) publishes its own
        # get_all_records_where, and xapi serves no hidden ones for it.
        if ('get_all_records' in messages and
                'get_all_records_where' not in messages):
            session = [['session_id', 'session ref'], ['expr', 'string']]
            messages['get_all_records_where'] = {
                'params': session,
                'result': '(%s ref -> %s record) map' % (name, name),
                'optional': 0, 'implicit': True, 'hidden': True}
            messages['get_all_where'] = {
                'params': session,
                'result': '%s ref set' % name,
                'optional': 0, 'implicit': True, 'hidden': True}
            feature = messages['get_all_records'].get('feature')
            if feature:
                for hidden in ('get_all_records_where', 'get_all_where'):
                    messages[hidden]['feature'] = feature
        classes[name] = {'fields': fields, 'messages': messages}

    missing = [code for code in ERRORS if code not in errors]
    if missing:
        raise SystemExit('error codes not in errors.json: %s'
                         % ', '.join(missing))
    return {
        'comment': ('Generated by tools/gen_simulator_datamodel.py from the '
                    'published XenAPI datamodel; do not edit.'),
        'classes': classes,
        'enums': {name: all_enums[name] for name in sorted(used_enums)},
        'errors': {code: errors[code]['params'] for code in sorted(ERRORS)},
    }, skipped


def dumps(data):
    """Serialise with one field or message per line: small and diffable."""
    def j(value):
        return json.dumps(value, sort_keys=True, separators=(',', ':'))

    out = ['{', ' "comment": %s,' % j(data['comment']), ' "classes": {']
    class_names = list(data['classes'])
    for i, name in enumerate(class_names):
        cls = data['classes'][name]
        out.append('  %s: {' % j(name))
        out.append('   "fields": [')
        out.append(',\n'.join('    ' + j(f) for f in cls['fields']))
        out.append('   ],')
        out.append('   "messages": {')
        out.append(',\n'.join('    %s: %s' % (j(m), j(cls['messages'][m]))
                              for m in sorted(cls['messages'])))
        out.append('   }')
        out.append('  }' + (',' if i < len(class_names) - 1 else ''))
    out.append(' },')
    out.append(' "enums": {')
    out.append(',\n'.join('  %s: %s' % (j(k), j(v))
                          for k, v in sorted(data['enums'].items())))
    out.append(' },')
    out.append(' "errors": {')
    out.append(',\n'.join('  %s: %s' % (j(k), j(v))
                          for k, v in sorted(data['errors'].items())))
    out.append(' }')
    out.append('}')
    return '\n'.join(out) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--source', default=DEFAULT_SOURCE,
                        help='directory holding datamodel.json, errors.json '
                             'and param_defaults.json')
    parser.add_argument('--output', default=DEFAULT_OUTPUT)
    parser.add_argument('--check', action='store_true',
                        help='exit 1 if the output file is out of date')
    args = parser.parse_args(argv)
    data, skipped = build(args.source)
    text = dumps(data)
    json.loads(text)
    if skipped:
        print('param_defaults entries not attributable to one class '
              '(left out): %s' % ', '.join(sorted(skipped)), file=sys.stderr)
    if args.check:
        with open(args.output) as f:
            if f.read() != text:
                print('%s is out of date' % args.output, file=sys.stderr)
                return 1
        return 0
    with open(args.output, 'w') as f:
        f.write(text)
    print('wrote %s (%d bytes)' % (args.output, len(text)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
