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

"""Immutable values describing a XenServer pool as read through XenAPI.

:class:`PoolSnapshot` is everything the rest of nova-ha-ext needs to know
about one pool at one instant: the pool's HA configuration and failover
plan (:class:`PoolHAState`), its hosts with their liveness
(:class:`PoolHost`) and its guest VMs (:class:`PoolVM`). They are plain
frozen values: cheap to compare, safe to share between threads, and easy to
build in tests without XenAPI.
"""

import dataclasses
import types
import typing as ty

NULL_REF = 'OpaqueRef:NULL'

#: ``VM.ha_restart_priority`` values: XenServer HA restarts ``restart`` VMs
#: (and tries ``best-effort`` ones once); ``""`` is unprotected.
PROTECTED = 'restart'
BEST_EFFORT = 'best-effort'
UNPROTECTED = ''

#: ``VM.power_state`` values: the datamodel's ``vm_power_state`` enum.
HALTED = 'Halted'
PAUSED = 'Paused'
RUNNING = 'Running'
SUSPENDED = 'Suspended'
POWER_STATES = (HALTED, RUNNING, PAUSED, SUSPENDED)
#: The power states of a VM that is resident on a host (``resident_on`` set).
RESIDENT_POWER_STATES = (RUNNING, PAUSED)
#: The power states of a VM that is resident nowhere.
NOT_RESIDENT_POWER_STATES = (HALTED, SUSPENDED)

#: ``VM.other_config`` key linking a VM to its Nova instance.
NOVA_UUID_KEY = 'nova_uuid'

#: ``host.other_config`` key holding the iSCSI IQN before ``host.iscsi_iqn``.
ISCSI_IQN_KEY = 'iscsi_iqn'

#: xapi's HA timeout when the pool's ha_configuration names none
#: (xapi_globs.ml ha_default_timeout_base), in seconds.
DEFAULT_HA_TIMEOUT = 60.0

#: The fewest live hosts for a pool to be HA-ready; a two-host pool cannot
#: tell a dead peer from a network partition and fences semi-randomly.
MIN_READY_HOSTS = 3


def frozen_map(mapping):
    """A read-only view of a copy of ``mapping``."""
    return types.MappingProxyType(dict(mapping or {}))


@dataclasses.dataclass(frozen=True)
class PoolHost:
    """A XenServer host of a pool."""

    ref: str
    uuid: str
    hostname: str
    name_label: str
    address: str
    #: ``host_metrics.live``: the pool master still hears from the host.
    live: bool
    enabled: bool = True
    memory_total: int = 0
    memory_free: int = 0
    #: ``host.memory_overhead``: what the host itself keeps of its memory.
    memory_overhead: int = 0
    other_config: ty.Mapping[str, str] = dataclasses.field(
        default_factory=lambda: frozen_map({}))
    #: ``host.iscsi_iqn``: the host's iSCSI initiator name.
    iscsi_iqn: str = ''
    #: Seconds the reconciler has seen the host not live; None when it
    #: does not know (the pool was read without that history).
    not_live_for: ty.Optional[float] = None

    def volume_connector(self):
        """The Cinder connector of this host, as Nova's XenAPI driver made it.

        ``host`` is the XenServer host's ``hostname`` (a compute node's
        ``hypervisor_hostname``), ``ip`` its management ``address`` and
        ``initiator`` its iSCSI IQN: the ``iscsi_iqn`` field, or
        ``other_config:iscsi_iqn`` on releases older than that field. A
        compute driver on the host must build the same connector, so that
        Cinder sees one connector per host whoever attached the volume.
        """
        connector = {'host': self.hostname, 'ip': self.address}
        initiator = self.iscsi_iqn or self.other_config.get(ISCSI_IQN_KEY)
        if initiator:
            connector['initiator'] = initiator
        return connector


@dataclasses.dataclass(frozen=True)
class PoolVM:
    """A guest VM of a pool (never a control domain, template or snapshot)."""

    ref: str
    uuid: str
    name_label: str
    #: ``Halted``, ``Paused``, ``Running`` or ``Suspended``.
    power_state: str
    #: The host ref the VM runs on, or :data:`NULL_REF`.
    resident_on: str
    ha_restart_priority: str = UNPROTECTED
    order: int = 0
    start_delay: int = 0
    memory_static_max: int = 0
    other_config: ty.Mapping[str, str] = dataclasses.field(
        default_factory=lambda: frozen_map({}))

    @property
    def nova_uuid(self):
        """The uuid of the Nova instance this VM belongs to, or None."""
        return self.other_config.get(NOVA_UUID_KEY) or None

    @property
    def protected(self):
        return self.ha_restart_priority in (PROTECTED, BEST_EFFORT)


@dataclasses.dataclass(frozen=True)
class Readiness:
    """Whether a pool can restart protected VMs, and why not."""

    ready: bool
    reasons: ty.Tuple[str, ...] = ()

    def __bool__(self):
        return self.ready


@dataclasses.dataclass(frozen=True)
class PoolHAState:
    """A pool's HA configuration, failover plan and membership."""

    uuid: str
    name_label: str
    ha_enabled: bool
    ha_host_failures_to_tolerate: int
    ha_plan_exists_for: int
    ha_overcommitted: bool
    ha_allow_overcommit: bool
    #: The master host's ref.
    master: str
    hosts: ty.Tuple[PoolHost, ...] = ()
    #: ``pool.ha_statefiles``: the VDIs on the heartbeat SR(s) that hold
    #: the HA statefiles; empty when HA is off.
    statefiles: ty.Tuple[str, ...] = ()
    #: Protected VMs Halted and waiting for XenServer HA to restart them.
    waiting_restarts: int = 0
    #: Seconds without heartbeat before HA declares a host dead
    #: (``pool.ha_configuration["timeout"]``).
    ha_timeout: float = DEFAULT_HA_TIMEOUT

    @property
    def live_hosts(self):
        return tuple(h for h in self.hosts if h.live)

    def host(self, ref):
        """The :class:`PoolHost` with this ref, or None."""
        for host in self.hosts:
            if host.ref == ref:
                return host
        return None

    def readiness(self, allow_two_host_pools=False):
        """Judge whether XenServer HA can restart this pool's VMs.

        Ready means HA is enabled, a failover plan exists for at least one
        host failure, the pool is not overcommitted, no protected VM waits
        for a restart, and at least three hosts are live (two when
        ``allow_two_host_pools``).
        """
        reasons = []
        if not self.ha_enabled:
            reasons.append("HA is not enabled on the pool")
        else:
            wanted = max(self.ha_host_failures_to_tolerate, 1)
            if self.ha_plan_exists_for < 1:
                reasons.append(
                    "HA plan covers %d of %d tolerated host failures"
                    % (self.ha_plan_exists_for, wanted))
            if self.ha_overcommitted:
                reasons.append(
                    "pool is overcommitted: protected VMs cannot all be "
                    "restarted after %d host failure(s)"
                    % self.ha_host_failures_to_tolerate)
            if self.waiting_restarts:
                reasons.append(
                    "%d protected VM%s wait%s for a restart"
                    % (self.waiting_restarts,
                       '' if self.waiting_restarts == 1 else 's',
                       's' if self.waiting_restarts == 1 else ''))
        needed = 2 if allow_two_host_pools else MIN_READY_HOSTS
        live = len(self.live_hosts)
        if live < needed:
            reasons.append(
                "only %d live host(s); HA needs at least %d%s"
                % (live, needed, '' if allow_two_host_pools else
                   " (a two-host pool cannot tell a dead host from a "
                   "network partition)"))
        return Readiness(ready=not reasons, reasons=tuple(reasons))


@dataclasses.dataclass(frozen=True)
class PoolSnapshot:
    """One consistent read of a pool: HA state, hosts and guest VMs."""

    ha: PoolHAState
    vms: ty.Tuple[PoolVM, ...] = ()
    #: ``time.monotonic()`` when the read finished.
    read_at: float = 0.0

    def vms_by_nova_uuid(self):
        """Map each Nova instance uuid to the VMs claiming it."""
        claims = {}
        for vm in self.vms:
            if vm.nova_uuid:
                claims.setdefault(vm.nova_uuid, []).append(vm)
        return {k: tuple(v) for k, v in claims.items()}
