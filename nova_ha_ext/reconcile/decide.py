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

"""What to do about each instance of a pool: the reconciler's decision.

:func:`decide` compares Nova's view of a pool's instances with the pool's
own view and returns :class:`Action` values. It is a pure function of plain
values: no Nova, no XenAPI, no I/O. ``doc/decision-table.md`` is its
specification; every row there has a rule id in :data:`RULES`, the code
below checks the rows in the same order, and each action names its row.

Reality wins only when it is certain: when the pool's answer is partial,
stale or contradictory, or Nova is busy with the instance, the instance gets
a ``skip`` saying why, and nothing is written.
"""

import dataclasses
import typing as ty

from nova_ha_ext import ha_spec
from nova_ha_ext.reconcile import hostmap
from nova_ha_ext.xenapi import pool_state

# Action kinds. The first five write; the others only report.
RELOCATE = 'relocate'
MOVE_ALLOCATIONS = 'move_allocations'
BIND = 'bind'
PROTECT = 'protect'
UNPROTECT = 'unprotect'
HA_RESTART_FAILED = 'ha_restart_failed'
MISSING = 'missing'
SKIP = 'skip'

WRITE_KINDS = frozenset((RELOCATE, MOVE_ALLOCATIONS, BIND, PROTECT,
                         UNPROTECT))

#: The rows of the decision table, in the order they are checked.
RULES = (
    # Gates: one action for the instance, nothing else.
    'task-in-progress',
    'several-vms',
    'no-vm',
    'unknown-node',
    'unknown-power-state',
    'foreign-host',
    'running-nowhere',
    'halted-on-host',
    'host-not-live',
    # Where the instance is: a Running or Paused VM on a live host.
    'host-unmapped',
    'allocations-elsewhere',
    'bindings-pending',
    'in-sync',
    'not-running-elsewhere',
    'vm-state-not-relocatable',
    'other-cell',
    'relocate',
    # Where the instance is: a Halted or Suspended VM, on no host.
    'ha-restart-pending',
    'ha-restart-failed',
    'unprotected-halted',
    'not-resident',
    # Protection, when the location rows did not skip.
    'ha-spec-invalid',
    'protect',
    'restart-policy',
    'unprotect',
    'protection-in-sync',
)

#: Nova vm_states (``nova.compute.vm_states``) of instances whose host may
#: be moved: no resize, rescue, shelve, build or error is under way.
RELOCATABLE_VM_STATES = ('active', 'paused', 'stopped', 'suspended')

#: The Nova vm_state of an instance Nova believes is running.
ACTIVE = 'active'

_RESIDENT_STATES = pool_state.RESIDENT_POWER_STATES
_NOT_RESIDENT_STATES = pool_state.NOT_RESIDENT_POWER_STATES


@dataclasses.dataclass(frozen=True)
class PortBinding:
    """A Neutron port of an instance, as its binding stands."""

    port_id: str
    #: ``binding:host_id``: the nova-compute host the port is bound to;
    #: empty when the port is not bound.
    host: str
    #: ``binding:profile``.
    profile: ty.Mapping[str, ty.Any] = dataclasses.field(
        default_factory=lambda: pool_state.frozen_map({}))
    device_owner: str = ''


@dataclasses.dataclass(frozen=True)
class VolumeAttachment:
    """A volume of an instance, attached with a Cinder attachment."""

    volume_id: str
    attachment_id: str
    #: The block device mapping's ``device_name`` (the mountpoint).
    device_name: ty.Optional[str] = None
    #: The ``host`` of the connector stashed in the mapping's
    #: ``connection_info`` (as Nova does): the XenServer host the
    #: attachment was made for. None when no connector is stashed.
    connector_host: ty.Optional[str] = None
    #: With no stashed connector: whether the volume was attached before
    #: the instance's last ``ha-relocate``, with no move by Nova since, so
    #: that the attachment still names the host the instance left.
    predates_relocation: bool = False


@dataclasses.dataclass(frozen=True)
class NovaInstance:
    """An instance as Nova's database has it."""

    uuid: str
    host: str
    node: str
    vm_state: str
    task_state: ty.Optional[str]
    #: Nova's power state (``nova.compute.power_state``), for reports.
    power_state: ty.Optional[int]
    #: Whether the instance's flavor asks for HA; None when the flavor's
    #: ``ha`` extra spec is not boolean-like (see ``ha_spec_error``).
    wants_ha: ty.Optional[bool]
    #: Why ``wants_ha`` is None: the message naming the flavor and value.
    ha_spec_error: str = ''
    #: How an HA flavor wants XenServer HA to restart the VM (priority,
    #: order, start delay); None means the defaults.
    restart_policy: ty.Optional[ha_spec.RestartPolicy] = None
    #: Whether the network info cache lists ports (their bindings are
    #: read from Neutron).
    has_ports: bool = False
    #: The instance's volumes with a Cinder attachment.
    volumes: ty.Tuple[VolumeAttachment, ...] = ()


@dataclasses.dataclass(frozen=True)
class Action:
    """One thing to do, or to report, about one instance."""

    kind: str
    instance_uuid: str
    #: The decision table row (one of :data:`RULES`) that chose the action.
    rule: str
    #: Why, in the operator's words.
    reason: str
    #: For ``relocate``: the compute node Nova has the instance on.
    source: ty.Optional[hostmap.ComputeNode] = None
    #: For ``relocate``: the compute node the VM runs on.
    target: ty.Optional[hostmap.ComputeNode] = None
    #: The ref of the instance's VM, whenever exactly one VM claims it.
    vm_ref: ty.Optional[str] = None
    #: For ``protect`` and ``unprotect``: the ``ha_restart_priority`` to set.
    priority: ty.Optional[str] = None
    #: For ``protect``: the VM's ``order`` and ``start_delay`` to set.
    order: ty.Optional[int] = None
    start_delay: ty.Optional[int] = None
    #: For ``bind``: the ports bound to another host than the target's.
    ports: ty.Tuple[PortBinding, ...] = ()
    #: For ``bind``: the attachments whose connector is another host's.
    volumes: ty.Tuple[VolumeAttachment, ...] = ()
    #: For ``bind``: the Cinder connector of the XenServer host the VM
    #: runs on (:meth:`~nova_ha_ext.xenapi.pool_state.PoolHost.
    #: volume_connector`).
    connector: ty.Optional[ty.Mapping[str, str]] = None
    #: For ``relocate`` and ``move_allocations``: the compute node provider
    #: holding the instance's allocations, when it is not ``source``'s.
    allocations_from: ty.Optional[str] = None

    @property
    def writes(self):
        """Whether applying the action changes Nova or the pool."""
        return self.kind in WRITE_KINDS


def decide(instances, pool, host_map, ports=None, allocations=None):
    """Decide what to do about each instance of a pool.

    :param instances: :class:`NovaInstance` values, the instances Nova has
        on the pool's compute nodes.
    :param pool: the pool's :class:`~nova_ha_ext.xenapi.pool_state.
        PoolSnapshot`.
    :param host_map: the pool's :class:`~nova_ha_ext.reconcile.hostmap.
        HostMap`, built from the compute nodes the instances are on.
    :param ports: instance uuid -> its :class:`PortBinding` values, as
        Neutron has them; an instance missing here has no port to follow.
    :param allocations: instance uuid -> the compute node providers of the
        pool holding its allocations, as placement has them; None when they
        were not read (the allocation rows are then not checked).
    :returns: a list of :class:`Action`, in the order of ``instances``; for
        one instance the location actions (``relocate``, then ``bind``)
        come before the protection action. An instance that is in sync gets
        none. VMs claiming no instance of ``instances`` are ignored.
    """
    claims = pool.vms_by_nova_uuid()
    ports = ports or {}
    actions = []
    for instance in instances:
        held_on = (None if allocations is None
                   else allocations.get(instance.uuid, frozenset()))
        actions.extend(_decide_instance(
            instance, claims.get(instance.uuid, ()), pool, host_map,
            ports.get(instance.uuid, ()), held_on))
    return actions


def _decide_instance(instance, vms, pool, host_map, ports, held_on):
    gate = _gate(instance, vms, pool, host_map)
    if gate is not None:
        return [gate]
    vm = vms[0]
    if vm.resident_on == pool_state.NULL_REF:
        location = [_locate_not_resident(instance, vm, pool, host_map)]
    else:
        location = _locate_resident(instance, vm, pool, host_map, ports,
                                    held_on)
    location = [a for a in location if a is not None]
    if location and location[0].kind == SKIP:
        return location[:1]
    protection = _protection(instance, vm)
    return location + ([protection] if protection is not None else [])


def _gate(instance, vms, pool, host_map):
    """The rows that settle an instance alone, or None."""
    def skip(rule, reason, vm_ref=None):
        return Action(SKIP, instance.uuid, rule, reason, vm_ref=vm_ref)

    if instance.task_state is not None:
        return skip('task-in-progress',
                    "task %r in progress; left alone until it finishes"
                    % instance.task_state)
    if len(vms) > 1:
        return skip('several-vms',
                    "%d VMs of pool %s claim this instance (%s); not "
                    "guessing which one is real"
                    % (len(vms), _pool_label(pool),
                       ', '.join(sorted(vm.ref for vm in vms))))
    if not vms:
        return Action(MISSING, instance.uuid, 'no-vm',
                      "no VM of pool %s has other-config:%s=%s; nothing is "
                      "deleted" % (_pool_label(pool),
                                   pool_state.NOVA_UUID_KEY, instance.uuid))
    vm = vms[0]
    if host_map.find_node(instance.host, instance.node) is None:
        return skip('unknown-node',
                    "inconsistent view: Nova has the instance on node %s of "
                    "host %s, which is not a compute node of pool %s"
                    % (instance.node, instance.host, _pool_label(pool)),
                    vm.ref)
    if vm.power_state not in _RESIDENT_STATES + _NOT_RESIDENT_STATES:
        return skip('unknown-power-state',
                    "inconsistent view: VM %s has power state %r"
                    % (vm.ref, vm.power_state), vm.ref)
    resident = pool.ha.host(vm.resident_on)
    if vm.resident_on != pool_state.NULL_REF and resident is None:
        return skip('foreign-host',
                    "inconsistent view: VM %s is resident on %s, which is "
                    "not a host of pool %s"
                    % (vm.ref, vm.resident_on, _pool_label(pool)), vm.ref)
    if vm.power_state in _RESIDENT_STATES and resident is None:
        return skip('running-nowhere',
                    "inconsistent view: VM %s is %s but resident on no host"
                    % (vm.ref, vm.power_state), vm.ref)
    if vm.power_state in _NOT_RESIDENT_STATES and resident is not None:
        return skip('halted-on-host',
                    "inconsistent view: VM %s is %s but resident on host %s"
                    % (vm.ref, vm.power_state, _host_label(resident)),
                    vm.ref)
    if resident is not None and not resident.live:
        return skip('host-not-live',
                    "VM %s is %s on host %s, which is not live; waiting for "
                    "XenServer HA to restart it elsewhere"
                    % (vm.ref, vm.power_state, _host_label(resident)),
                    vm.ref)
    return None


def _locate_resident(instance, vm, pool, host_map, ports, held_on):
    """The location rows for a Running or Paused VM on a live host.

    :param held_on: the pool's compute node providers holding the
        instance's allocations; None when not read.
    :returns: the actions, in order: none when in sync; one ``skip``; a
        ``move_allocations`` and/or a ``bind`` for an instance in sync; or a
        ``relocate``, followed by a ``bind`` when ports or volumes must
        follow it.
    """
    resident = pool.ha.host(vm.resident_on)
    source = host_map.find_node(instance.host, instance.node)
    target = host_map.node_for(resident.ref)

    def skip(rule, reason):
        return [Action(SKIP, instance.uuid, rule, reason, vm_ref=vm.ref)]

    if target is None:
        return skip('host-unmapped',
                    "VM runs on XenServer host %s, which is not mapped to a "
                    "Nova compute node: %s"
                    % (_host_label(resident),
                       host_map.why_unmapped(resident.ref)))
    elsewhere = _allocations_elsewhere(held_on, source)
    if target == source:
        if instance.vm_state not in RELOCATABLE_VM_STATES:
            return []
        move = None
        if len(elsewhere) > 1:
            return skip('allocations-elsewhere',
                        "the instance runs on %s, where Nova has it, but its "
                        "allocations are on compute node providers %s; not "
                        "guessing which to keep"
                        % (target, ', '.join(elsewhere)))
        if elsewhere:
            move = Action(MOVE_ALLOCATIONS, instance.uuid,
                          'allocations-elsewhere',
                          "the instance runs on %s, where Nova has it, but "
                          "its allocations are on provider %s; they move to "
                          "provider %s" % (target, elsewhere[0], target.uuid),
                          source=source, target=target, vm_ref=vm.ref,
                          allocations_from=elsewhere[0])
        bind = _bindings(instance, vm, resident, target, ports,
                         'bindings-pending',
                         "the instance runs on %s, where Nova has it, but "
                         % target)
        return [move, bind]
    if vm.power_state != pool_state.RUNNING:
        return skip('not-running-elsewhere',
                    "VM is %s on host %s, not on %s where Nova has it; only "
                    "a Running VM is followed"
                    % (vm.power_state, _host_label(resident), source))
    if instance.vm_state not in RELOCATABLE_VM_STATES:
        return skip('vm-state-not-relocatable',
                    "VM runs on host %s, but vm_state %r is not one the "
                    "reconciler relocates (%s)"
                    % (_host_label(resident), instance.vm_state,
                       ', '.join(RELOCATABLE_VM_STATES)))
    if target.cell_uuid != source.cell_uuid:
        return skip('other-cell',
                    "inconsistent view: compute node %s of host %s is in "
                    "cell %s, the instance in cell %s"
                    % (target, _host_label(resident), target.cell_uuid,
                       source.cell_uuid))
    if len(elsewhere) > 1:
        return skip('allocations-elsewhere',
                    "VM runs on host %s, but the instance's allocations are "
                    "on compute node providers %s; not guessing which to "
                    "move" % (_host_label(resident), ', '.join(elsewhere)))
    relocate = Action(RELOCATE, instance.uuid, 'relocate',
                      "XenServer runs the VM on host %s; Nova had it on %s%s"
                      % (_host_label(resident), source,
                         ", its allocations on provider %s" % elsewhere[0]
                         if elsewhere else ''),
                      source=source, target=target, vm_ref=vm.ref,
                      allocations_from=elsewhere[0] if elsewhere else None)
    return [relocate, _bindings(instance, vm, resident, target, ports,
                                'relocate', "after the relocation, ",
                                source=source, every_volume=True)]


def _allocations_elsewhere(held_on, source):
    """The other compute node providers holding an instance's allocations.

    Empty when they were not read, when the instance's own node holds them
    (allocations on both are placement's own business to refuse), or when
    no compute node of the pool holds any (nothing to move).
    """
    if not held_on or source.uuid in held_on:
        return ()
    return tuple(sorted(held_on))


def _bindings(instance, vm, resident, target, ports, rule, context,
              source=None, every_volume=False):
    """A ``bind`` action for what still names another host, or None.

    A port follows when it is bound to another nova-compute host than the
    target's; an unbound port is left to Nova. An attachment follows when
    its stashed connector names another XenServer host, or (with no
    connector stashed) when ``every_volume`` or it predates the instance's
    last relocation.
    """
    stale_ports = tuple(p for p in ports if p.host and p.host != target.host)
    stale_volumes = tuple(
        v for v in instance.volumes
        if (v.connector_host != resident.hostname
            if v.connector_host is not None
            else every_volume or v.predates_relocation))
    if not (stale_ports or stale_volumes):
        return None
    what = []
    if stale_ports:
        what.append("port(s) %s are bound to %s"
                    % (', '.join(p.port_id for p in stale_ports),
                       ', '.join(sorted({p.host for p in stale_ports}))))
    if stale_volumes:
        what.append("the attachment(s) of volume(s) %s name another host"
                    % ', '.join(v.volume_id for v in stale_volumes))
    return Action(BIND, instance.uuid, rule,
                  "%s%s; they follow it to host %s"
                  % (context, ' and '.join(what), target.host),
                  source=source, target=target, vm_ref=vm.ref,
                  ports=stale_ports, volumes=stale_volumes,
                  connector=pool_state.frozen_map(
                      resident.volume_connector()))


def _locate_not_resident(instance, vm, pool, host_map):
    """The location rows for a Halted or Suspended VM, on no host."""
    source = host_map.find_node(instance.host, instance.node)
    nova_host = pool.ha.host(host_map.host_ref_for(source))
    if (instance.vm_state != ACTIVE or nova_host is None
            or nova_host.live):
        return None
    if vm.protected and _restarts_may_be_under_way(pool.ha, nova_host):
        return Action(SKIP, instance.uuid, 'ha-restart-pending',
                      "protected VM is %s and host %s is not live; XenServer "
                      "HA may still restart it (within one HA timeout, "
                      "%.0f s, or while every live host is disabled after a "
                      "master failover)"
                      % (vm.power_state, _host_label(nova_host),
                         pool.ha.ha_timeout), vm_ref=vm.ref)
    if vm.protected:
        return Action(HA_RESTART_FAILED, instance.uuid, 'ha-restart-failed',
                      "protected VM is %s and host %s is not live: XenServer "
                      "HA has not restarted it (no capacity, or the VM was "
                      "already stopped before the host died); start it and "
                      "the next pass follows it"
                      % (vm.power_state, _host_label(nova_host)),
                      vm_ref=vm.ref)
    return Action(SKIP, instance.uuid, 'unprotected-halted',
                  "VM is not protected and is %s after host %s died; "
                  "XenServer HA does not restart it; the instance stays on %s"
                  % (vm.power_state, _host_label(nova_host), source),
                  vm_ref=vm.ref)


def _restarts_may_be_under_way(ha, dead_host):
    """Whether XenServer HA may still be restarting the dead host's VMs.

    xapi restarts them once the host is declared dead; after a master
    failover every host is disabled until it enables itself, and the
    restarts wait for that (xapi_ha.ml on_database_engine_ready).
    """
    if dead_host.not_live_for is not None and \
            dead_host.not_live_for < ha.ha_timeout:
        return True
    live = [h for h in ha.hosts if h.live]
    return bool(live) and not any(h.enabled for h in live)


def _protection(instance, vm):
    """The protection rows: the VM's restart policy against the flavor."""
    if instance.wants_ha is None:
        return Action(SKIP, instance.uuid, 'ha-spec-invalid',
                      "%s; the VM's ha_restart_priority is left at %r"
                      % (instance.ha_spec_error
                         or "the flavor's ha extra spec is not boolean-like",
                         vm.ha_restart_priority),
                      vm_ref=vm.ref)
    if not instance.wants_ha:
        unprotected = ha_spec.restart_priority(False)
        if vm.ha_restart_priority == unprotected:
            return None
        return Action(UNPROTECT, instance.uuid, 'unprotect',
                      "the flavor does not ask for HA but the VM's "
                      "ha_restart_priority is %r" % vm.ha_restart_priority,
                      vm_ref=vm.ref, priority=unprotected)
    policy = instance.restart_policy or ha_spec.RestartPolicy()
    fields = dict(vm_ref=vm.ref, priority=policy.priority,
                  order=policy.order, start_delay=policy.start_delay)
    if vm.ha_restart_priority != policy.priority:
        return Action(PROTECT, instance.uuid, 'protect',
                      "the flavor asks for HA with ha_restart_priority %r "
                      "but the VM's is %r"
                      % (policy.priority, vm.ha_restart_priority), **fields)
    if (vm.order, vm.start_delay) != (policy.order, policy.start_delay):
        return Action(PROTECT, instance.uuid, 'restart-policy',
                      "the flavor asks for order %d and start_delay %d s "
                      "but the VM has order %d and start_delay %d s"
                      % (policy.order, policy.start_delay, vm.order,
                         vm.start_delay), **fields)
    return None


def _pool_label(pool):
    return pool.ha.name_label or pool.ha.uuid


def _host_label(host):
    return host.hostname or host.name_label or host.ref
