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

"""From XenAPI records to the values of :mod:`.pool_state`.

One conversion for both ways of knowing a pool: the records a
``get_all_records`` call returns (:meth:`.client.PoolClient.read_pool`) and
the snapshots ``event.from`` delivers (:class:`PoolRecordCache`, which the
reconciler's event watcher keeps current).
"""

import dataclasses
import time

from nova_ha_ext import urls
from nova_ha_ext.xenapi import pool_state

#: The fields of each class the values are built from; a cache keeps only
#: these of each record.
FIELDS = {
    'pool': ('uuid', 'name_label', 'master', 'ha_enabled',
             'ha_host_failures_to_tolerate', 'ha_plan_exists_for',
             'ha_overcommitted', 'ha_allow_overcommit', 'ha_statefiles',
             'ha_configuration'),
    'host': ('uuid', 'hostname', 'name_label', 'address', 'enabled',
             'metrics', 'other_config', 'iscsi_iqn', 'memory_overhead'),
    'host_metrics': ('live', 'memory_total', 'memory_free'),
    'vm': ('uuid', 'name_label', 'power_state', 'resident_on',
           'ha_restart_priority', 'order', 'start_delay',
           'memory_static_max', 'other_config', 'is_control_domain',
           'is_a_template', 'is_a_snapshot', 'ha_always_run'),
}

#: The fields whose change may move an instance or its protection: the
#: ones :meth:`PoolRecordCache.apply` reports.
WATCHED_FIELDS = {
    'vm': ('resident_on', 'power_state', 'ha_restart_priority'),
    'host_metrics': ('live',),
}

#: The fields a record cannot do without, and whether each is a string.
REQUIRED = {
    'pool': (('uuid', True), ('name_label', True), ('master', True),
             ('ha_enabled', False), ('ha_host_failures_to_tolerate', False),
             ('ha_plan_exists_for', False), ('ha_overcommitted', False),
             ('ha_allow_overcommit', False)),
    'host': (('uuid', True), ('hostname', True), ('name_label', True),
             ('address', True)),
    'vm': (('uuid', True), ('name_label', True), ('power_state', True),
           ('resident_on', True)),
}


class BadRecord(ValueError):
    """A record lacks a field the values need, or has it of another type."""


class NoPoolRecord(BadRecord):
    """The ``pool`` class has no record: not a pool (or not yet read)."""


def _checked(cls, ref, rec):
    """``rec``, once it has every field of :data:`REQUIRED`.

    :raises BadRecord: naming the class, the record and the fields.
    """
    if not isinstance(rec, dict):
        raise BadRecord('%s %s is not a record but %s' % (
            cls, urls.excerpt(ref), urls.excerpt(rec)))
    missing = [name for name, _text in REQUIRED[cls]
               if rec.get(name) is None]
    if missing:
        raise BadRecord('%s record %s has no %s' % (
            cls, urls.excerpt(ref), ', '.join(missing)))
    wrong = [name for name, text in REQUIRED[cls]
             if text and not isinstance(rec[name], str)]
    if wrong:
        raise BadRecord('%s record %s has %s that are not strings' % (
            cls, urls.excerpt(ref), ', '.join(wrong)))
    return rec


def _int(value):
    return int(value) if value not in (None, '') else 0


def _ha_timeout(configuration):
    try:
        return float((configuration or {})['timeout'])
    except (KeyError, TypeError, ValueError):
        return pool_state.DEFAULT_HA_TIMEOUT


def is_guest_vm(rec):
    """True for the VMs ``client.GUEST_VMS_QUERY`` selects."""
    return not (rec.get('is_control_domain') or rec.get('is_a_template') or
                rec.get('is_a_snapshot'))


def ha_state(pool_records, host_records, metrics_records):
    """The :class:`~.pool_state.PoolHAState` of a pool's records.

    :raises NoPoolRecord: ``pool_records`` is empty.
    :raises BadRecord: a record lacks a field it needs.
    """
    if not pool_records:
        raise NoPoolRecord('no pool record')
    pool_ref, pool = next(iter(pool_records.items()))
    pool = _checked('pool', pool_ref, pool)
    hosts = []
    for ref, rec in host_records.items():
        rec = _checked('host', ref, rec)
        metrics = metrics_records.get(rec.get('metrics'), {})
        hosts.append(pool_state.PoolHost(
            ref=ref, uuid=rec['uuid'], hostname=rec['hostname'],
            name_label=rec['name_label'], address=rec['address'],
            live=bool(metrics.get('live', False)),
            enabled=bool(rec.get('enabled', True)),
            memory_total=_int(metrics.get('memory_total')),
            memory_free=_int(metrics.get('memory_free')),
            memory_overhead=_int(rec.get('memory_overhead')),
            other_config=pool_state.frozen_map(rec.get('other_config')),
            iscsi_iqn=rec.get('iscsi_iqn') or ''))
    hosts.sort(key=lambda h: h.hostname)
    return pool_state.PoolHAState(
        uuid=pool['uuid'], name_label=pool['name_label'],
        ha_enabled=bool(pool['ha_enabled']),
        ha_host_failures_to_tolerate=_int(
            pool['ha_host_failures_to_tolerate']),
        ha_plan_exists_for=_int(pool['ha_plan_exists_for']),
        ha_overcommitted=bool(pool['ha_overcommitted']),
        ha_allow_overcommit=bool(pool['ha_allow_overcommit']),
        master=pool['master'], hosts=tuple(hosts),
        statefiles=tuple(pool.get('ha_statefiles') or ()),
        ha_timeout=_ha_timeout(pool.get('ha_configuration')))


def pool_vm(ref, rec):
    """The :class:`~.pool_state.PoolVM` of one VM record."""
    rec = _checked('vm', ref, rec)
    return pool_state.PoolVM(
        ref=ref, uuid=rec['uuid'], name_label=rec['name_label'],
        power_state=rec['power_state'], resident_on=rec['resident_on'],
        ha_restart_priority=rec.get('ha_restart_priority', ''),
        order=_int(rec.get('order')),
        start_delay=_int(rec.get('start_delay')),
        memory_static_max=_int(rec.get('memory_static_max')),
        other_config=pool_state.frozen_map(rec.get('other_config')))


def waits_for_restart(rec):
    """True for a protected VM that XenServer HA has yet to restart.

    xapi restarts every Halted VM that should always run
    (``helpers.ml`` ``vm_should_always_run``: ``ha_always_run`` and
    priority ``restart``); one it cannot place leaves the pool without a
    failover plan.
    """
    return (rec.get('power_state') == 'Halted' and
            bool(rec.get('ha_always_run')) and
            rec.get('ha_restart_priority') == pool_state.PROTECTED)


def snapshot(ha, vm_records):
    """A :class:`~.pool_state.PoolSnapshot` of guest VM records.

    :param vm_records: ref -> record, of guest VMs only (see
        :func:`is_guest_vm`).
    """
    vms = tuple(sorted((pool_vm(ref, rec) for ref, rec in vm_records.items()),
                       key=lambda vm: vm.uuid))
    waiting = sum(1 for rec in vm_records.values() if waits_for_restart(rec))
    return pool_state.PoolSnapshot(
        ha=dataclasses.replace(ha, waiting_restarts=waiting), vms=vms,
        read_at=time.monotonic())


def _watched(cls, record):
    if record is None:
        return None
    return tuple(record.get(field) for field in WATCHED_FIELDS.get(cls, ()))


class PoolRecordCache:
    """A pool's records, kept current from ``event.from`` batches.

    Subscribe to :data:`CLASSES` from an empty token: the first batch lists
    every object (the baseline), later ones what changed. Only the fields
    in :data:`FIELDS` are kept. Not thread-safe: one watcher feeds it, and
    the values :meth:`snapshot` returns are immutable and may be shared.
    """

    CLASSES = tuple(FIELDS)

    def __init__(self):
        self._records = {cls: {} for cls in FIELDS}

    def clear(self):
        for records in self._records.values():
            records.clear()

    def apply(self, events):
        """Take in one ``event.from`` batch's events.

        :returns: the ``(class, ref)`` of each record that was known before
            the batch and whose :data:`WATCHED_FIELDS` changed, or that is
            gone (deleted, or no longer a guest VM). Records new to the
            cache are not changes: the first batch lists every object.
        """
        changed = set()
        for event in events:
            cls = str(event.get('class', '')).lower()
            records = self._records.get(cls)
            if records is None:
                continue
            ref = event.get('ref')
            old = records.get(ref)
            if event.get('operation') == 'del':
                records.pop(ref, None)
            elif not event.get('snapshot'):
                continue
            elif cls == 'vm' and not is_guest_vm(event['snapshot']):
                records.pop(ref, None)  # e.g. a VM turned into a template
            else:
                record = event['snapshot']
                records[ref] = {field: record.get(field)
                                for field in FIELDS[cls]}
            if old is not None and _watched(cls, old) != _watched(
                    cls, records.get(ref)):
                changed.add((cls, ref))
        return changed

    def snapshot(self):
        """The pool as the events so far describe it.

        :raises NoPoolRecord: no pool record has arrived yet.
        """
        return snapshot(ha_state(self._records['pool'],
                                 self._records['host'],
                                 self._records['host_metrics']),
                        self._records['vm'])
