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

"""Nova anti-affinity server groups across XenServer HA failover.

Nova's scheduler keeps the members of an ``anti-affinity`` server group on
different hosts; XenServer HA restarts a dead host's VMs where its own plan
puts them, which may be a host that already runs another member. After each
pass the reconciler:

* reports every XenServer host that runs more members of an anti-affinity
  group than the group allows (``max_server_per_host``, 1 by default)
  (:func:`breaches`, pure), in ``nova-ha-manage status`` and with one
  warning per change naming the group and the instances;
* where the pool has xapi's VM groups, mirrors each anti-affinity group
  with two or more members in the pool into a ``VM_group`` with
  ``placement = anti_affinity`` (:func:`mirror_plan`, pure), so that
  XenServer's own placement keeps them apart where it honours such groups:
  ``VM.start`` without a host and ``host.evacuate``. xapi's HA restarts on
  the host of its restart plan do not honour them
  (``xapi_ha_vm_failover.ml`` ``restart_auto_run_vms``), so a breach can
  still happen and is still reported. A pool whose xapi has no VM groups
  (``MESSAGE_METHOD_UNKNOWN``) or whose licence lacks them
  (``LICENCE_RESTRICTION``) is only reported.

The groups are read with one API DB query per pass; the mirror costs one
XenAPI call per pass, plus one per group created and one per VM joined.
The reconciler never moves a VM to separate members, never removes a VM
from a VM group it did not make, and never deletes a VM group.
"""

import dataclasses
import threading
import typing as ty

from oslo_log import log as logging

from nova import objects

from nova_ha_ext.reconcile import outcome
from nova_ha_ext.xenapi import exceptions as xenapi_exc
from nova_ha_ext.xenapi import pool_state

LOG = logging.getLogger(__name__)

#: Nova's anti-affinity policy (``nova.objects.InstanceGroup.policy``).
POLICY = 'anti-affinity'
#: Name of the VM group mirroring a Nova server group: this prefix, then
#: the server group's uuid.
VM_GROUP_PREFIX = 'nova-anti-affinity-'
ANTI_AFFINITY = 'anti_affinity'
#: Error codes of a pool that cannot have VM groups: its xapi has none,
#: or its licence lacks the feature.
UNSUPPORTED = ('MESSAGE_METHOD_UNKNOWN', 'LICENCE_RESTRICTION')

# Mirror steps.
CREATE = 'create-vm-group'
JOIN = 'join-vm-group'
#: A member's VM is in a VM group the reconciler did not make: left there.
FOREIGN = 'foreign-vm-group'


@dataclasses.dataclass(frozen=True)
class ServerGroup:
    """A Nova anti-affinity server group."""

    uuid: str
    name: str
    #: The instance uuids of its members.
    members: ty.Tuple[str, ...]
    #: ``rules['max_server_per_host']``: members allowed on one host.
    max_per_host: int = 1

    @property
    def label(self):
        return '%s (%s)' % (self.name, self.uuid) if self.name else self.uuid


@dataclasses.dataclass(frozen=True)
class Breach:
    """Members of an anti-affinity group that share a XenServer host."""

    group: str
    group_name: str
    #: The XenServer host's hostname.
    host: str
    instances: ty.Tuple[str, ...]
    max_per_host: int = 1

    def describe(self):
        return ('anti-affinity server group %s: instances %s run on '
                'XenServer host %s (at most %d allowed per host)'
                % ('%s (%s)' % (self.group_name, self.group)
                   if self.group_name else self.group,
                   ', '.join(self.instances), self.host, self.max_per_host))

    def as_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class MirrorStep(outcome.Step):
    """One change to the pool's VM groups, or why one is not made."""

    kind: str
    #: The Nova server group's uuid.
    group: str
    #: For ``join`` and ``foreign``: the instance and its VM.
    instance: ty.Optional[str] = None
    vm_ref: ty.Optional[str] = None
    #: The VM group's ref, when it exists.
    vm_group: ty.Optional[str] = None
    reason: str = ''
    status: str = outcome.PLANNED

    def as_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class AffinityReport:
    """What a pass saw of the pool's anti-affinity groups and did."""

    breaches: ty.Tuple[Breach, ...] = ()
    #: Whether the pool keeps VM groups: ``mirrored``, ``report-only:
    #: <why>``, or ``not needed`` when no group has two members there.
    vm_groups: str = 'not needed'
    steps: ty.Tuple[MirrorStep, ...] = ()

    def as_dict(self):
        return {'breaches': [b.as_dict() for b in self.breaches],
                'vm_groups': self.vm_groups,
                'changes': [s.as_dict() for s in self.steps]}


def read_groups(context):
    """Every Nova anti-affinity server group (one API DB query)."""
    groups = []
    for group in objects.InstanceGroupList.get_all(context):
        if group.policy != POLICY:
            continue
        rules = group.rules or {}
        try:
            limit = int(rules.get('max_server_per_host', 1))
        except (TypeError, ValueError):
            limit = 1
        groups.append(ServerGroup(uuid=group.uuid, name=group.name or '',
                                  members=tuple(group.members or ()),
                                  max_per_host=max(limit, 1)))
    return groups


def _running_members(group, snapshot, claims):
    """Host ref -> the group's instances Running there, on live hosts."""
    on = {}
    for uuid in group.members:
        vms = claims.get(uuid, ())
        if len(vms) != 1:
            continue  # no VM, or several: the decision table reports it
        vm = vms[0]
        host = snapshot.ha.host(vm.resident_on)
        if (vm.power_state == pool_state.RUNNING and host is not None and
                host.live):
            on.setdefault(host.ref, []).append(uuid)
    return on


def breaches(groups, snapshot):
    """The hosts running too many members of an anti-affinity group (pure).

    A member counts where its one VM is Running on a live host, as xapi
    counts a group's VMs (``xapi_vm_group_helpers.ml``
    ``check_breach_on_vm_anti_affinity_rules``).

    :param groups: :class:`ServerGroup` values.
    :param snapshot: the pool's ``PoolSnapshot``.
    :returns: :class:`Breach` values, by group and host.
    """
    claims = snapshot.vms_by_nova_uuid()
    found = []
    for group in groups:
        for host_ref, members in _running_members(group, snapshot,
                                                  claims).items():
            if len(members) > group.max_per_host:
                host = snapshot.ha.host(host_ref)
                found.append(Breach(
                    group=group.uuid, group_name=group.name,
                    host=host.hostname or host.name_label or host.ref,
                    instances=tuple(sorted(members)),
                    max_per_host=group.max_per_host))
    return tuple(sorted(found, key=lambda b: (b.group, b.host)))


def vm_group_name(group):
    return VM_GROUP_PREFIX + group.uuid


def mirror_plan(groups, snapshot, vm_groups):
    """What makes the pool's VM groups mirror Nova's groups (pure).

    :param vm_groups: the pool's VM groups, ref -> record
        (``VM_group.get_all_records``).
    :returns: :class:`MirrorStep` values: a ``create`` before the ``join``
        steps of its group.
    """
    claims = snapshot.vms_by_nova_uuid()
    group_of = {}
    for ref, record in vm_groups.items():
        for vm_ref in record.get('VMs', ()):
            group_of[vm_ref] = ref
    by_name = {}
    for ref, record in sorted(vm_groups.items()):
        if record.get('placement') == ANTI_AFFINITY:
            by_name.setdefault(record.get('name_label'), ref)
    steps = []
    for group in groups:
        members = [(uuid, claims[uuid][0]) for uuid in group.members
                   if len(claims.get(uuid, ())) == 1]
        if len(members) < 2:
            continue
        name = vm_group_name(group)
        ours = by_name.get(name)
        if ours is None:
            steps.append(MirrorStep(
                CREATE, group.uuid, reason='VM group %s (placement '
                'anti_affinity) for server group %s' % (name, group.label)))
        for uuid, vm in members:
            current = group_of.get(vm.ref)
            if current is not None and current == ours:
                continue
            if current is not None:
                steps.append(MirrorStep(
                    FOREIGN, group.uuid, uuid, vm.ref, ours,
                    'VM %s is in VM group %s (%s), which nova-ha-ext did '
                    'not make; it is left there' % (
                        vm.ref, current,
                        vm_groups[current].get('name_label', ''))))
                continue
            steps.append(MirrorStep(
                JOIN, group.uuid, uuid, vm.ref, ours,
                'VM %s of instance %s joins VM group %s'
                % (vm.ref, uuid, name)))
    return steps


class AntiAffinity:
    """Reports and mirrors a worker's pools' anti-affinity groups."""

    def __init__(self):
        self._lock = threading.Lock()
        #: Pool -> the breaches last logged.
        self._logged = {}
        #: Pool -> the VM group support last logged.
        self._support = {}

    def check(self, context, pool, snapshot, client, dry_run=False,
              paused=None, guard=None):
        """Report the pool's breaches and mirror its groups.

        :param client: the pool's ``PoolClient``.
        :param paused: the pool's ``Pause``: mirror steps are reported as
            :data:`outcome.PAUSED` and not made.
        :param guard: called before each write; raises when this worker
            may no longer write for the pool.
        :returns: an :class:`AffinityReport`.
        """
        claims = snapshot.vms_by_nova_uuid()
        # Only groups with two members or more in this pool concern it.
        groups = [g for g in read_groups(context)
                  if sum(1 for m in g.members if claims.get(m)) >= 2]
        found = breaches(groups, snapshot)
        self._log_breaches(pool, found)
        if not groups:
            return AffinityReport(breaches=found)
        try:
            vm_groups = client.call('VM_group.get_all_records')
        except xenapi_exc.CallFailed as exc:
            if exc.code not in UNSUPPORTED:
                raise
            return AffinityReport(breaches=found, vm_groups=self._report_only(
                pool, exc))
        steps = mirror_plan(groups, snapshot, vm_groups)
        done = []
        created = {}
        for step in steps:
            if step.kind == FOREIGN:
                done.append(step.with_status(outcome.REPORTED))
            elif dry_run:
                done.append(step.with_status(outcome.DRY_RUN))
            elif paused is not None:
                done.append(step.with_status(outcome.PAUSED))
            else:
                try:
                    if guard is not None:
                        guard()
                    done.append(self._apply(client, step, created))
                except xenapi_exc.CallFailed as exc:
                    if exc.code in UNSUPPORTED:
                        return AffinityReport(
                            breaches=found,
                            vm_groups=self._report_only(pool, exc),
                            steps=tuple(done))
                    done.append(step.with_status(
                        outcome.FAILED,
                        '%s; not done: %s' % (step.reason, exc)))
                except Exception as exc:
                    done.append(step.with_status(
                        outcome.FAILED,
                        '%s; not done: %s' % (step.reason, exc)))
        self._set_support(pool, 'mirrored')
        return AffinityReport(breaches=found, vm_groups='mirrored',
                              steps=tuple(done))

    @staticmethod
    def _apply(client, step, created):
        if step.kind == CREATE:
            ref = client.call('VM_group.create', {
                'name_label': VM_GROUP_PREFIX + step.group,
                'name_description': 'Nova server group %s (anti-affinity), '
                                    'kept by nova-ha-ext' % step.group,
                'placement': ANTI_AFFINITY})
            created[step.group] = ref
            LOG.info('Created VM group %s: %s.', ref, step.reason)
            return step.with_status(outcome.APPLIED, vm_group=ref)
        ref = step.vm_group or created.get(step.group)
        if ref is None:
            return step.with_status(
                outcome.FAILED, '%s; not done: its VM group could not be '
                'created' % step.reason)
        client.call('VM.set_groups', step.vm_ref, [ref])
        LOG.info('%s.', step.reason, instance_uuid=step.instance)
        return step.with_status(outcome.APPLIED, vm_group=ref)

    def _report_only(self, pool, exc):
        why = ('the pool has no VM groups (%s)' % exc.code
               if exc.code == 'MESSAGE_METHOD_UNKNOWN' else
               'the pool\'s licence does not allow VM groups (%s %s)'
               % (exc.code, ' '.join(exc.params)))
        state = 'report-only: %s' % why
        self._set_support(pool, state)
        return state

    def _set_support(self, pool, state):
        with self._lock:
            changed = self._support.get(pool) != state
            self._support[pool] = state
        if changed and state != 'mirrored':
            LOG.warning('Pool %s: anti-affinity server groups are only '
                        'reported, XenServer cannot be told to keep their '
                        'members apart: %s.', pool,
                        state[len('report-only: '):])

    def _log_breaches(self, pool, found):
        with self._lock:
            before = self._logged.get(pool, ())
            self._logged[pool] = found
        for breach in found:
            if breach not in before:
                LOG.warning('Pool %s: %s; XenServer placed them together '
                            '(its HA restarts follow its own plan).', pool,
                            breach.describe())
        for breach in before:
            if breach not in found:
                LOG.info('Pool %s: no longer true: %s.', pool,
                         breach.describe())
