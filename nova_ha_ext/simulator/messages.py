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

"""The XenAPI messages the simulator answers.

:func:`handlers` returns ``{(class, message): function}``.  Every function
takes a :class:`Context` and the message's parameters after the session,
already type-checked, with refs of modelled classes resolved to database
objects (``None`` for ``OpaqueRef:NULL`` where a setter accepts it).  It
runs under the pool's lock and returns the result value, or raises
:class:`~nova_ha_ext.simulator.database.Failure`.

The field accessors of the datamodel (``get_<field>``, ``set_<field>``,
``add_to_<field>``...), ``get_all``, ``get_all_records``, ``get_record``,
``get_by_uuid``, ``get_by_name_label`` and the hidden
``get_all_records_where`` / ``get_all_where`` are generated for every
modelled class; the others are written out below.  A message of the
datamodel with no handler answers ``NOT_IMPLEMENTED``.
"""

import time

from nova_ha_ext.simulator import alerts
from nova_ha_ext.simulator import database
from nova_ha_ext.simulator.database import Failure
from nova_ha_ext.simulator import datamodel
from nova_ha_ext.simulator import encoders
from nova_ha_ext.simulator import query as query_mod

NULL = datamodel.NULL_REF


class Context(object):
    """What a message handler knows of its call."""

    def __init__(self, pool, endpoint, session, method, cancelled):
        self.pool = pool
        self.endpoint = endpoint
        self.session = session
        self.method = method
        self.cancelled = cancelled

    @property
    def db(self):
        return self.pool.db

    def host(self, obj):
        return self.pool.state_of(obj.ref)


class Dropped(Exception):
    """The call is abandoned: close the connection without answering."""


def _ref(value):
    return NULL if value is None else value.ref


def _generic(cls):
    """Handlers of the implicit messages of a class."""
    name = cls.name
    result = {}

    def get_all(ctx):
        return list(ctx.db.tables[name])

    def get_all_records(ctx):
        return dict(ctx.db.tables[name])

    def get_record(ctx, obj):
        return obj

    def get_by_uuid(ctx, uuid):
        return ctx.db.by_uuid(name, uuid).ref

    def get_by_name_label(ctx, label):
        return [obj.ref for obj in ctx.db.all(name)
                if obj['name_label'] == label]

    def where(ctx, expr):
        try:
            predicate = query_mod.compile_query(query_mod.parse(expr), cls)
        except query_mod.QueryError as e:
            raise Failure('INVALID_VALUE', e.expr, e.reason)
        try:
            return {ref: obj for ref, obj in ctx.db.tables[name].items()
                    if predicate(obj)}
        except query_mod.MissingField as e:
            raise Failure('INTERNAL_ERROR', 'missing field', e.name, '')

    def get_all_records_where(ctx, expr):
        return where(ctx, expr)

    def get_all_where(ctx, expr):
        return list(where(ctx, expr))

    for func in (get_all, get_all_records, get_record, get_by_uuid,
                 get_by_name_label, get_all_records_where, get_all_where):
        if func.__name__ in cls.messages:
            result[func.__name__] = func

    for field in cls.fields.values():
        result.update(_field_handlers(cls, field))
    return {(name, msg): func for msg, func in result.items()
            if msg in cls.messages and cls.messages[msg].implicit}


def _field_handlers(cls, field):
    fname = field.name
    ftype = field.type

    def getter(ctx, obj):
        return obj.get(fname)

    def setter(ctx, obj, value):
        if isinstance(ftype, datamodel.RefType):
            value = _ref(value)
        ctx.db.update(obj, **{fname: value})

    def add_to_map(ctx, obj, key, value):
        current = obj.get(fname)
        if key in current:
            raise Failure('MAP_DUPLICATE_KEY', cls.name, fname, obj.ref,
                          key)
        updated = dict(current)
        updated[key] = value
        ctx.db.update(obj, **{fname: updated})

    def remove_from_map(ctx, obj, key):
        current = obj.get(fname)
        if key in current:
            updated = dict(current)
            del updated[key]
            ctx.db.update(obj, **{fname: updated})

    def add_to_set(ctx, obj, value):
        current = obj.get(fname)
        if value not in current:
            ctx.db.update(obj, **{fname: current + [value]})

    def remove_from_set(ctx, obj, value):
        current = obj.get(fname)
        if value in current:
            ctx.db.update(obj, **{fname: [v for v in current if v != value]})

    handlers = {'get_' + fname: getter, 'set_' + fname: setter}
    if isinstance(ftype, datamodel.MapType):
        handlers['add_to_' + fname] = add_to_map
        handlers['remove_from_' + fname] = remove_from_map
    elif isinstance(ftype, datamodel.SetType):
        handlers['add_' + fname] = add_to_set
        handlers['remove_' + fname] = remove_from_set
    return handlers


_EXPLICIT = {}


def _message(cls, name):
    def register(func):
        _EXPLICIT[(cls, name)] = func
        return func
    return register


# session ---------------------------------------------------------------

@_message('session', 'login_with_password')
def _login(ctx, uname, pwd, version='1.1', originator=''):
    return ctx.pool.sessions.login(uname, pwd, originator,
                                   ctx.endpoint.host_ref,
                                   ctx.endpoint.hostname)


@_message('session', 'logout')
def _logout(ctx):
    ctx.pool.sessions.logout(ctx.session.ref)


# event -----------------------------------------------------------------

@_message('event', 'from')
def _event_from(ctx, classes, token, timeout):
    """event.from, as xapi_event.ml ``from`` and ``from_inner``."""
    pool = ctx.pool
    db = pool.db
    since = database.parse_token(token)
    matches = database.subscription_matcher(classes)
    deadline = time.monotonic() + timeout
    scanned = since
    while True:
        if ctx.session.ref not in db.tables['session']:
            # A logout or expiry wakes the call (xapi_event.ml with_call).
            raise Failure('SESSION_INVALID', ctx.session.ref)
        generation = db.generation
        events, last = db.changes_since(since, matches, scanned)
        if events or pool.stopping or ctx.cancelled():
            break
        scanned = max(scanned, generation)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        pool.changed.wait(remaining)
    if ctx.cancelled():
        raise Dropped()
    return encoders.EventBatch(events, db.ref_counts(),
                               database.event_token(last))


@_message('event', 'get_current_id')
def _event_current_id(ctx):
    return ctx.db.generation


@_message('event', 'inject')
def _event_inject(ctx, cls, ref):
    obj = ctx.db.find(ref)
    if obj is None or obj.cls.name.lower() != cls.lower():
        raise Failure('HANDLE_INVALID', cls, ref)
    ctx.db.touch(obj)
    return database.event_token(ctx.db.generation - 1)


# pool ------------------------------------------------------------------

@_message('pool', 'enable_ha')
def _enable_ha(ctx, heartbeat_srs, configuration):
    ctx.pool.ha.enable(heartbeat_srs, configuration)


@_message('pool', 'disable_ha')
def _disable_ha(ctx):
    ctx.pool.ha.disable()


@_message('pool', 'set_ha_host_failures_to_tolerate')
def _set_ntol(ctx, pool, value):
    ctx.pool.ha.set_failures_to_tolerate(value)


@_message('pool', 'set_ha_allow_overcommit')
def _set_overcommit(ctx, pool, value):
    ctx.pool.ha.set_allow_overcommit(value)


@_message('pool', 'ha_compute_max_host_failures_to_tolerate')
def _compute_max(ctx):
    return ctx.pool.ha.max_failures()


@_message('pool', 'ha_compute_hypothetical_max_host_failures_to_tolerate')
def _compute_hypothetical(ctx, configuration):
    priorities = {}
    for ref, priority in configuration.items():
        if priority not in ('', 'restart', 'best-effort'):
            raise Failure('INVALID_VALUE', 'ha_restart_priority', priority)
        priorities[ctx.db.get('VM', ref).ref] = priority
    return ctx.pool.ha.max_failures(priorities)


@_message('pool', 'ha_failover_plan_exists')
def _plan_exists(ctx, n):
    return ctx.pool.ha.exists(n)


@_message('pool', 'ha_compute_vm_failover_plan')
def _vm_failover_plan(ctx, failed_hosts, failed_vms):
    return ctx.pool.ha.vm_failover_plan(
        [ctx.host(host).ref for host in failed_hosts],
        [vm.ref for vm in failed_vms])


@_message('pool', 'designate_new_master')
def _designate(ctx, host):
    ctx.pool.designate_master(ctx.host(host))


# host ------------------------------------------------------------------

@_message('host', 'enable')
def _host_enable(ctx, host):
    ctx.pool.host_set_enabled(ctx.host(host), True)


@_message('host', 'disable')
def _host_disable(ctx, host):
    ctx.pool.host_set_enabled(ctx.host(host), False)


@_message('host', 'declare_dead')
def _host_declare_dead(ctx, host):
    ctx.pool.declare_dead(ctx.host(host))


@_message('host', 'compute_free_memory')
def _host_free(ctx, host):
    return max(ctx.pool.free(ctx.host(host)), 0)


@_message('host', 'get_servertime')
def _host_time(ctx, host):
    return datamodel.now()


@_message('host', 'list_methods')
def _host_methods(ctx):
    classes = ctx.endpoint.dispatcher.dm.classes
    return sorted('%s.%s' % (cls, msg)
                  for cls, msg in ctx.endpoint.dispatcher.handlers
                  if ctx.pool.vm_groups.knows(classes[cls].messages[msg]))


# VM --------------------------------------------------------------------

@_message('VM', 'create')
def _vm_create(ctx, args):
    return ctx.pool.vm_create(args)


@_message('VDI', 'create')
def _vdi_create(ctx, args):
    return ctx.pool.vdi_create(args)


@_message('VBD', 'create')
def _vbd_create(ctx, args):
    return ctx.pool.vbd_create(args)


@_message('VM', 'destroy')
def _vm_destroy(ctx, vm):
    ctx.pool.vm_destroy(vm)


@_message('VM', 'start')
def _vm_start(ctx, vm, start_paused, force):
    ctx.pool.vm_start(vm, paused=start_paused)


@_message('VM', 'start_on')
def _vm_start_on(ctx, vm, host, start_paused, force):
    ctx.pool.vm_start(vm, paused=start_paused, host=ctx.host(host))


@_message('VM', 'hard_shutdown')
def _vm_hard_shutdown(ctx, vm):
    ctx.pool.vm_shutdown(vm, clean=False)


@_message('VM', 'clean_shutdown')
def _vm_clean_shutdown(ctx, vm):
    ctx.pool.vm_shutdown(vm, clean=True)


@_message('VM', 'shutdown')
def _vm_shutdown(ctx, vm):
    ctx.pool.vm_shutdown(vm, clean=vm['power_state'] == 'Running')


@_message('VM', 'clean_reboot')
def _vm_clean_reboot(ctx, vm):
    ctx.pool.vm_reboot(vm)


@_message('VM', 'hard_reboot')
def _vm_hard_reboot(ctx, vm):
    ctx.pool.vm_reboot(vm, hard=True)


@_message('VM', 'pause')
def _vm_pause(ctx, vm):
    ctx.pool.vm_pause(vm, True)


@_message('VM', 'unpause')
def _vm_unpause(ctx, vm):
    ctx.pool.vm_pause(vm, False)


@_message('VM', 'power_state_reset')
def _vm_reset(ctx, vm):
    ctx.pool.vm_power_state_reset(vm)


@_message('VM', 'pool_migrate')
def _vm_migrate(ctx, vm, host, options):
    ctx.pool.vm_migrate(vm, ctx.host(host))


@_message('VM', 'set_ha_restart_priority')
def _vm_priority(ctx, vm, value):
    ctx.pool.vm_set_restart_priority(vm, value)


@_message('VM', 'set_order')
def _vm_order(ctx, vm, value):
    ctx.pool.vm_set_int(vm, 'order', value)


@_message('VM', 'set_start_delay')
def _vm_start_delay(ctx, vm, value):
    ctx.pool.vm_set_int(vm, 'start_delay', value)


@_message('VM', 'set_shutdown_delay')
def _vm_shutdown_delay(ctx, vm, value):
    ctx.pool.vm_set_int(vm, 'shutdown_delay', value)


@_message('VM', 'set_groups')
def _vm_set_groups(ctx, vm, value):
    ctx.pool.vm_groups.set_groups(vm, value)


# VM_group --------------------------------------------------------------

@_message('VM_group', 'create')
def _vm_group_create(ctx, args):
    return ctx.pool.vm_groups.create(args)


@_message('VM_group', 'destroy')
def _vm_group_destroy(ctx, group):
    ctx.pool.vm_groups.destroy(group)


# message ---------------------------------------------------------------
# xapi keeps messages outside its database (xapi_message.ml): every message
# of the class is explicit in the datamodel, none is generated.

@_message('message', 'create')
def _message_create(ctx, name, priority, cls, obj_uuid, body):
    return alerts.create(ctx.db, name, priority, cls, obj_uuid, body).ref


@_message('message', 'get_all')
def _message_get_all(ctx):
    return list(ctx.db.tables['message'])


@_message('message', 'get_all_records')
def _message_get_all_records(ctx):
    return dict(ctx.db.tables['message'])


@_message('message', 'get_record')
def _message_get_record(ctx, message):
    return message


@_message('message', 'get_by_uuid')
def _message_get_by_uuid(ctx, uuid):
    return ctx.db.by_uuid('message', uuid).ref


@_message('message', 'get_all_records_where')
def _message_where(ctx, expr):
    cls = ctx.db.dm.classes['message']
    try:
        predicate = query_mod.compile_query(query_mod.parse(expr), cls)
    except query_mod.QueryError as e:
        raise Failure('INVALID_VALUE', e.expr, e.reason)
    try:
        return {ref: obj for ref, obj in ctx.db.tables['message'].items()
                if predicate(obj)}
    except query_mod.MissingField as e:
        raise Failure('INTERNAL_ERROR', 'missing field', e.name, '')


@_message('message', 'get_since')
def _message_get_since(ctx, since):
    """Messages stamped after ``since`` (xapi_message.ml get_since)."""
    return {ref: obj for ref, obj in ctx.db.tables['message'].items()
            if _later(obj['timestamp'], since)}


@_message('message', 'get')
def _message_get(ctx, cls, obj_uuid, since):
    """One object's messages after ``since`` (xapi_message.ml get)."""
    return {ref: obj for ref, obj in ctx.db.tables['message'].items()
            if obj['cls'] == cls and obj['obj_uuid'] == obj_uuid and
            _later(obj['timestamp'], since)}


def _later(stamp, since):
    # Both are YYYYMMDDTHH:MM:SS, with or without a trailing Z.
    return stamp[:17] > since[:17]


@_message('message', 'destroy')
def _message_destroy(ctx, message):
    ctx.db.destroy(message)


@_message('message', 'destroy_many')
def _message_destroy_many(ctx, messages):
    for message in messages:
        ctx.db.destroy(message)


# task ------------------------------------------------------------------

@_message('task', 'destroy')
def _task_destroy(ctx, task):
    ctx.db.destroy(task)


def handlers(dm):
    """``{(class, message): function}`` for every message answered."""
    result = {}
    for cls in dm.classes.values():
        result.update(_generic(cls))
    for key, func in _EXPLICIT.items():
        cls, msg = key
        if msg not in dm.classes[cls].messages:
            raise KeyError('%s.%s is not in the datamodel' % key)
        result[key] = func
    return result
