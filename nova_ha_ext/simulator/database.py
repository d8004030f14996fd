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

"""A pool's object database with xapi-style generations and events.

Every change bumps the database generation, stamps the object with it and
wakes ``event.from`` callers.  Like xapi, ``event.from`` reports each
object changed since the caller's token once, with its current record: an
``add`` if it was created after the token, a ``mod`` otherwise, and a
``del`` for objects deleted after the token that existed before it.
"""

import bisect
import collections
import time
import uuid as uuid_lib


# Classes whose changes produce events (xapi does not send session events;
# it sends a message's creation and destruction, xapi_event.ml from_inner).
EVENT_CLASSES = ('pool', 'host', 'host_metrics', 'VM', 'SR', 'task',
                 'message')

MAX_TOMBSTONES = 100000


class Failure(Exception):
    """A XenAPI failure: ``details`` is xapi's ErrorDescription list."""

    def __init__(self, code, *params):
        self.details = [code] + [str(p) for p in params]
        super(Failure, self).__init__(self.details)

    @property
    def code(self):
        return self.details[0]


def new_ref():
    return 'OpaqueRef:%s' % uuid_lib.uuid4()


class DBObject(object):
    """One object: the values that differ from its class's defaults."""

    __slots__ = ('cls', 'ref', 'values', 'created', 'modified', 'mtime',
                 '_xml', '_json')

    def __init__(self, cls, ref, values, generation):
        self.cls = cls
        self.ref = ref
        self.values = values
        self.created = generation
        self.modified = generation
        self.mtime = time.time()
        self._xml = None
        self._json = None

    def get(self, name):
        values = self.values
        return values[name] if name in values else self.cls.defaults[name]

    __getitem__ = get

    @property
    def uuid(self):
        return self.values['uuid']

    def record(self):
        """All fields as a plain dict (values are shared, do not mutate)."""
        record = dict(self.cls.defaults)
        record.update(self.values)
        return record

    def record_xml(self):
        """The record as an XML-RPC struct ``<value>``, cached until a change.

        Made of the shared members of the fields left at their defaults and
        this object's own members.
        """
        if self._xml is None:
            member = self.cls.member_xml
            own = ''.join([member(name, value)
                           for name, value in self.values.items()])
            self._xml = ('<value><struct>',
                         self.cls.default_xml(frozenset(self.values)),
                         own, '</struct></value>')
        return ''.join(self._xml)

    def record_xml_parts(self):
        self.record_xml()
        return self._xml

    def record_json(self):
        """The record as a JSON object, cached until a change.

        Built like :meth:`record_xml`, so that a pool's records are each
        written once per change, whichever the encoding.
        """
        if self._json is None:
            member = self.cls.member_json
            members = [member(name, value)
                       for name, value in self.values.items()]
            shared = self.cls.default_json(frozenset(self.values))
            if shared:
                members.insert(0, shared)
            self._json = '{%s}' % ','.join(members)
        return self._json

    def forget_encodings(self):
        """Drop the cached XML and JSON: the values changed."""
        self._xml = None
        self._json = None


class Database(object):
    """Objects of the modelled classes, their generations and events.

    Not locked by itself: the owning pool serialises access with ``lock``,
    which ``changed`` (the event condition) shares.
    """

    def __init__(self, dm, lock, changed):
        self.dm = dm
        self.lock = lock
        self.changed = changed
        self.generation = 0
        self.tables = {name: {} for name in dm.classes if name != 'event'}
        self._uuids = {name: {} for name in self.tables}
        self._log_gens = []
        self._log = []
        self._tombstones = collections.OrderedDict()
        #: Tables this pool's xapi does not have (a feature it lacks): kept
        #: empty, and not counted in event batches.
        self.absent = frozenset()

    def _check_fields(self, cls, values):
        for name in values:
            if name not in cls.fields:
                raise KeyError('%s has no field %s' % (cls.name, name))

    def _stamp(self, obj):
        self.generation += 1
        obj.modified = self.generation
        obj.mtime = time.time()
        obj.forget_encodings()
        if obj.cls.name in EVENT_CLASSES:
            self._log_gens.append(self.generation)
            self._log.append((self.generation, obj.cls.name, obj.ref))
            if len(self._log) > 2 * self.count() + 1000:
                self._compact()
        self.changed.notify_all()

    def count(self):
        return sum(len(self.tables[c]) for c in EVENT_CLASSES)

    def _compact(self):
        latest = {}
        for gen, cls, ref in self._log:
            latest[ref] = (gen, cls, ref)
        entries = sorted(latest.values())
        self._log = entries
        self._log_gens = [e[0] for e in entries]

    def create(self, cls_name, values, ref=None):
        """Create an object; ``values`` must include its ``uuid``."""
        cls = self.dm.classes[cls_name]
        self._check_fields(cls, values)
        values.setdefault('uuid', str(uuid_lib.uuid4()))
        ref = ref or new_ref()
        obj = DBObject(cls, ref, values, self.generation + 1)
        self.tables[cls_name][ref] = obj
        self._uuids[cls_name][values['uuid']] = ref
        self._stamp(obj)
        return obj

    def update(self, obj, **changes):
        """Set fields of an object (one generation for all of them)."""
        self._check_fields(obj.cls, changes)
        values = obj.values
        if all(name in values and values[name] == value
               for name, value in changes.items()):
            return
        values.update(changes)
        self._stamp(obj)

    def set_quietly(self, obj, **changes):
        """Change fields without a new generation or event.

        For bookkeeping nobody watches, like a session's last_active: a
        generation per API call would wake every event.from caller.
        """
        self._check_fields(obj.cls, changes)
        obj.values.update(changes)
        obj.forget_encodings()

    def touch(self, obj):
        """Report an object as modified without changing it."""
        self._stamp(obj)

    def destroy(self, obj):
        cls_name = obj.cls.name
        del self.tables[cls_name][obj.ref]
        self._uuids[cls_name].pop(obj.uuid, None)
        self.generation += 1
        if cls_name in EVENT_CLASSES:
            self._tombstones[obj.ref] = (cls_name, obj.uuid, obj.created,
                                         self.generation, time.time())
            while len(self._tombstones) > MAX_TOMBSTONES:
                self._tombstones.popitem(last=False)
            self._log_gens.append(self.generation)
            self._log.append((self.generation, cls_name, obj.ref))
        self.changed.notify_all()

    def get(self, cls_name, ref):
        """The object of a class with that ref, or HANDLE_INVALID."""
        obj = self.tables[cls_name].get(ref)
        if obj is None:
            raise Failure('HANDLE_INVALID', cls_name, ref)
        return obj

    def find(self, ref):
        """The object with that ref in any table, or None."""
        for table in self.tables.values():
            obj = table.get(ref)
            if obj is not None:
                return obj
        return None

    def by_uuid(self, cls_name, uuid):
        ref = self._uuids[cls_name].get(uuid)
        if ref is None:
            raise Failure('UUID_INVALID', cls_name, uuid)
        return self.tables[cls_name][ref]

    def all(self, cls_name):
        return self.tables[cls_name].values()

    def changes_since(self, since, matches, scanned=None):
        """Events for the subscribed objects changed after ``since``.

        ``matches(class_lower, ref)`` selects the subscribed objects;
        ``scanned`` (at least ``since``) skips log entries a previous call
        already found unsubscribed.  Returns ``(events, last)``: the
        events as ``(generation, operation, object_or_tombstone)``, adds
        then mods then dels as xapi_event.ml ``from_inner`` lists them,
        and the generation the next token is to carry: the latest change
        to a subscribed object, so the token does not move for changes
        the caller did not subscribe to (``since`` when there is none).
        """
        start = bisect.bisect_right(self._log_gens,
                                    since if scanned is None else scanned)
        latest = {}
        for gen, cls_name, ref in self._log[start:]:
            latest[ref] = (gen, cls_name)
        groups = {'add': [], 'mod': [], 'del': []}
        last = since
        for ref, (gen, cls_name) in latest.items():
            if not matches(cls_name.lower(), ref):
                continue
            obj = self.tables[cls_name].get(ref)
            if obj is not None:
                op = 'add' if obj.created > since else 'mod'
                groups[op].append((gen, op, obj))
                last = max(last, gen)
                continue
            tomb = self._tombstones.get(ref)
            if tomb is not None:
                last = max(last, gen)
                if tomb[2] <= since:
                    groups['del'].append((gen, 'del', (ref,) + tomb))
        events = []
        for op in ('add', 'mod', 'del'):
            events.extend(sorted(groups[op], key=lambda e: e[0]))
        return events, last

    def ref_counts(self):
        """Objects per table, every table (xapi_event.ml valid_ref_counts).

        Messages are not in xapi's database (xapi_message.ml keeps them on
        disk), so they are not counted.
        """
        return {cls.lower(): len(table)
                for cls, table in self.tables.items()
                if cls not in self.absent and cls != 'message'}

    def restart(self):
        """The database as a newly started master loads it.

        Its generations start again from the objects it holds: an
        ``event.from`` token of the old master means nothing here (a
        token ahead of the new generation waits for changes that it
        will not be told about).
        """
        objects = [obj for cls in EVENT_CLASSES
                   for obj in self.tables[cls].values()]
        objects.sort(key=lambda o: o.modified)
        self.generation = 0
        self._log_gens = []
        self._log = []
        self._tombstones.clear()
        for obj in self.tables['session'].values():
            obj.created = obj.modified = 0
        for obj in objects:
            self.generation += 1
            obj.created = obj.modified = self.generation
            self._log_gens.append(self.generation)
            self._log.append((self.generation, obj.cls.name, obj.ref))
        self.changed.notify_all()


def event_token(generation):
    """An event.from token, formatted like xapi's."""
    return '%020d,%020d' % (generation, 0)


def parse_token(token):
    """The generation of an event.from token; '' is the beginning.

    Both halves must be integers (xapi_event.ml ``Token.of_string``).
    """
    if token == '':
        return 0
    parts = token.split(',')
    if len(parts) == 2:
        try:
            generation = int(parts[0])
            int(parts[1])
            return generation
        except ValueError:
            pass
    raise Failure('EVENT_FROM_TOKEN_PARSE_FAILURE', token)


def subscription_matcher(classes):
    """``matches(class_lower, ref)`` for event.from class subscriptions.

    Each entry is ``*``, a class name (any case, like xapi) or
    ``class/ref``.
    """
    everything = False
    by_class = set()
    by_object = set()
    for entry in classes:
        if entry == '*':
            everything = True
            continue
        parts = entry.split('/', 1)
        if len(parts) == 1:
            by_class.add(parts[0].lower())
        else:
            by_object.add((parts[0].lower(), parts[1]))

    def matches(cls_lower, ref):
        return (everything or cls_lower in by_class or
                (cls_lower, ref) in by_object)
    return matches
