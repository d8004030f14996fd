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

"""The state and the accounting of one simulated pool.

A :class:`Pool` owns its database (pool, hosts, host metrics, VMs, SRs,
tasks) and implements what xapi does to it: VM lifecycle with memory
capacity checks, and the accounting that keeps the failover plan cheap.
Its HA configuration and plan are a :class:`~pool_ha.PoolHA`, its sessions
a :class:`~sessions.Sessions`, host failures, HA restarts and master
election a :class:`~failover.Failover`; its endpoints (and the wire faults
injected on them) are the ``transport`` the simulator gives it.
Every method that touches state runs under the pool's lock; those that
raise :class:`~database.Failure` are the XenAPI failures a client sees.

Memory: a host's capacity is its ``host_metrics.memory_total``; every VM
resident on it (the control domain included) uses its
``memory_static_max`` plus ``memory_overhead`` (0 here).
"""

import collections
import logging
import threading
import time
import uuid as uuid_lib

from nova_ha_ext.simulator import database
from nova_ha_ext.simulator.database import Failure
from nova_ha_ext.simulator import datamodel
from nova_ha_ext.simulator import failover
from nova_ha_ext.simulator import pool_ha
from nova_ha_ext.simulator import scenario as scenario_mod
from nova_ha_ext.simulator import sessions
from nova_ha_ext.simulator import vm_groups
from nova_ha_ext.xenapi import pool_state

LOG = logging.getLogger(__name__)

MIB = 1024 * 1024
NULL = datamodel.NULL_REF
RUNNING_STATES = pool_state.RESIDENT_POWER_STATES

SimulatorError = failover.SimulatorError


class NoTransport(object):
    """The transport of a pool that is not served (a pool in a test)."""

    def host_down(self, hostname):
        pass

    def host_up(self, hostname):
        pass


class HostState(object):
    """What the simulator knows of a host beyond its database record.

    ``mode`` is ``up``, ``failed`` (dead: its VMs died with it) or
    ``isolated`` (cut off the network, its VMs still run).
    """

    def __init__(self, spec, ref, metrics_ref, address):
        self.spec = spec
        self.hostname = spec.hostname
        self.ref = ref
        self.metrics_ref = metrics_ref
        self.address = address
        self.mode = 'up'
        self.downs = 0
        self.fenced_with = []
        self.next_domid = 1
        # Memory used by resident VMs and the protected ones (ref -> size),
        # kept up to date by Pool._account so planning never scans VMs.
        self.used = 0
        self.protected = {}


class Pool(object):
    """One simulated pool."""

    def __init__(self, spec, dm, addresses):
        self.spec = spec
        self.name = spec.name
        self.dm = dm
        self.username = spec.username
        self.password = spec.password
        self.detection_delay = spec.detection_delay
        self.restart_delay = spec.restart_delay
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.db = database.Database(dm, self.lock, self.changed)
        self.hosts = collections.OrderedDict()
        self.transport = NoTransport()
        # Halted protected VMs that should always run (see _track).
        self.waiting = set()
        self.calls = collections.Counter()
        self.sessions = sessions.Sessions(self.db, spec.username,
                                          spec.password)
        self.failover = failover.Failover(self)
        self.ha = pool_ha.PoolHA(self)
        self.vm_groups = vm_groups.VMGroups(self, spec.vm_groups)
        if spec.vm_groups == 'unsupported':
            self.db.absent = frozenset(['VM_group'])
        self.stopping = False
        self._stop = threading.Event()
        self._work = threading.Condition()
        self._pending = 0
        self._threads = set()
        with self.lock:
            self._load(spec, addresses)

    # Loading ------------------------------------------------------------

    def _load(self, spec, addresses):
        db = self.db
        srs = {}
        for sr in spec.srs:
            srs[sr.name_label] = db.create('SR', {
                'uuid': sr.uuid or str(uuid_lib.uuid4()),
                'name_label': sr.name_label,
                'type': sr.type,
                'shared': sr.shared,
                'content_type': 'user',
                'physical_size': sr.physical_size_gb * 1024 * MIB,
                'other_config': {},
            })
        for host_spec in spec.hosts:
            self._create_host(host_spec, addresses[host_spec.hostname])
        for sr in spec.srs:
            # A shared SR has a PBD plugged on every host, a local one on
            # its host only (xapi's Agility.is_sr_properly_shared).
            hosts = ([self.hosts[sr.host]] if sr.host
                     else list(self.hosts.values()) if sr.shared else [])
            pbds = [db.create('PBD', {
                'uuid': str(uuid_lib.uuid4()), 'host': state.ref,
                'SR': srs[sr.name_label].ref, 'device_config': {},
                'currently_attached': True, 'other_config': {}}).ref
                for state in hosts]
            db.update(srs[sr.name_label], PBDs=pbds)
        master = self.hosts[spec.master or spec.hosts[0].hostname]
        for vm in spec.vms:
            self._create_vm(vm)
        default_sr = NULL
        if spec.ha.heartbeat_sr:
            default_sr = srs[spec.ha.heartbeat_sr].ref
        elif any(sr.shared for sr in spec.srs):
            default_sr = next(srs[s.name_label].ref for s in spec.srs
                              if s.shared)
        self.pool_obj = db.create('pool', {
            'uuid': spec.uuid or str(uuid_lib.uuid4()),
            'name_label': spec.name,
            'master': master.ref,
            'default_SR': default_sr,
            'suspend_image_SR': default_sr,
            'crash_dump_SR': default_sr,
            'other_config': {},
            'ha_host_failures_to_tolerate': spec.ha.host_failures_to_tolerate,
            'ha_allow_overcommit': spec.ha.allow_overcommit,
            'restrictions': dict({'restrict_ha': 'false'},
                                 **self.vm_groups.restrictions()),
            'cpu_info': {'cpu_count': str(sum(
                h.cpus for h in spec.hosts))},
        })
        if spec.ha.enabled:
            # The HA timeout is how long a host goes unheard before it is
            # declared dead: the pool's detection delay.
            self.ha.turn_on(srs[spec.ha.heartbeat_sr],
                            {'timeout': '%g' % spec.detection_delay})
        self.ha.refresh()

    def _create_host(self, spec, address):
        db = self.db
        host_ref = database.new_ref()
        total = spec.memory_mb * MIB
        metrics = db.create('host_metrics', {
            'memory_total': total,
            'memory_free': total,
            'live': True,
            'last_updated': datamodel.now(),
            'other_config': {},
        })
        dom0 = db.create('VM', {
            'name_label': 'Control domain on host: %s' % spec.hostname,
            'name_description': 'The domain which manages physical devices '
                                'and manages other domains',
            'power_state': 'Running',
            'is_control_domain': True,
            'resident_on': host_ref,
            'affinity': host_ref,
            'domid': 0,
            'domarch': 'x64',
            'memory_static_max': spec.dom0_memory_mb * MIB,
            'memory_dynamic_max': spec.dom0_memory_mb * MIB,
            'memory_dynamic_min': spec.dom0_memory_mb * MIB,
            'memory_static_min': spec.dom0_memory_mb * MIB,
            'memory_target': spec.dom0_memory_mb * MIB,
            'VCPUs_max': min(spec.cpus, 16),
            'VCPUs_at_startup': min(spec.cpus, 16),
            'VCPUs_params': {},
            'user_version': 1,
            'is_a_template': False,
            'actions_after_shutdown': 'destroy',
            'actions_after_reboot': 'restart',
            'actions_after_crash': 'restart',
            'HVM_boot_params': {},
            'platform': {},
            'other_config': {},
            'domain_type': 'pv',
        })
        state = HostState(spec, host_ref, metrics.ref, address)
        state.used = self.footprint(dom0)
        self.hosts[spec.hostname] = state
        # XenServer's first boot generates an IQN (iqn.<date>.<reversed DNS
        # domain, com.example by default>:<id>) into
        # other_config:iscsi_iqn; since host.set_iscsi_iqn (kolkata) the
        # iscsi_iqn field holds the same value.
        iqn = spec.iscsi_iqn or 'iqn.2026-12.com.example:%s' % spec.hostname
        db.create('host', {
            'uuid': spec.uuid or str(uuid_lib.uuid4()),
            'name_label': spec.name_label or spec.hostname,
            'hostname': spec.hostname,
            'address': address,
            'enabled': spec.enabled,
            'metrics': metrics.ref,
            'control_domain': dom0.ref,
            'resident_VMs': [dom0.ref],
            'API_version_major': 2,
            'API_version_minor': 21,
            'API_version_vendor': 'XenSource',
            'API_version_vendor_implementation': {},
            'software_version': {
                'product_brand': 'XCP-ng', 'product_version': '8.3.0',
                'platform_name': 'XCP', 'platform_version': '3.4.0',
                'xapi': '25.6', 'xen': '4.17.5'},
            'capabilities': ['xen-3.0-x86_64', 'hvm-3.0-x86_32',
                             'hvm-3.0-x86_64'],
            'cpu_configuration': {},
            'sched_policy': 'credit',
            'supported_bootloaders': ['pygrub', 'eliloader'],
            'logging': {},
            'cpu_info': {'cpu_count': str(spec.cpus), 'socket_count': '2',
                         'vendor': 'GenuineIntel'},
            'license_params': {},
            'other_config': {'iscsi_iqn': iqn},
            'iscsi_iqn': iqn,
            'edition': 'xcp-ng',
            'license_server': {},
            'bios_strings': {},
            'power_on_mode': '',
            'power_on_config': {},
            'chipset_info': {},
            'guest_VCPUs_params': {},
            'external_auth_configuration': {},
        }, ref=host_ref)
        self._update_free(state)

    def _create_vm(self, spec):
        memory = spec.memory_mb * MIB
        affinity = NULL
        if spec.affinity:
            affinity = self.hosts[spec.affinity].ref
        vm = self.db.create('VM', {
            'uuid': spec.uuid or str(uuid_lib.uuid4()),
            'name_label': spec.name_label,
            'name_description': '',
            'power_state': 'Halted',
            'user_version': 1,
            'is_a_template': spec.is_a_template,
            'affinity': affinity,
            'memory_static_max': memory,
            'memory_dynamic_max': memory,
            'memory_dynamic_min': memory,
            'memory_static_min': memory,
            'memory_target': memory,
            'VCPUs_max': spec.vcpus,
            'VCPUs_at_startup': spec.vcpus,
            'VCPUs_params': {},
            'actions_after_shutdown': 'destroy',
            'actions_after_reboot': 'restart',
            'actions_after_crash': 'restart',
            'HVM_boot_policy': 'BIOS order',
            'HVM_boot_params': {'order': 'cd'},
            'platform': {'acpi': '1', 'apic': 'true', 'pae': 'true',
                         'viridian': 'true'},
            'other_config': dict(spec.other_config),
            'domid': -1,
            'ha_restart_priority': spec.ha_restart_priority,
            'ha_always_run': False,
            'order': spec.order,
            'start_delay': spec.start_delay,
            'domain_type': 'hvm',
        })
        if spec.power_state in RUNNING_STATES:
            self.place(vm, self.hosts[spec.host], spec.power_state)
        elif spec.power_state == 'Suspended':
            self.db.update(vm, power_state='Suspended')
        return vm

    # Lookups ------------------------------------------------------------

    def host_state(self, name_or_ref):
        """The HostState of a hostname, name_label, uuid or ref."""
        if name_or_ref in self.hosts:
            return self.hosts[name_or_ref]
        for state in self.hosts.values():
            host = self.host_obj(state)
            if name_or_ref in (state.ref, host['uuid'], host['name_label']):
                return state
        raise SimulatorError('pool %s has no host %r'
                             % (self.name, name_or_ref))

    def host_obj(self, state):
        return self.db.tables['host'][state.ref]

    def state_of(self, host_ref):
        for state in self.hosts.values():
            if state.ref == host_ref:
                return state
        raise KeyError(host_ref)

    def metrics(self, state):
        return self.db.tables['host_metrics'][state.metrics_ref]

    def vm_obj(self, key):
        """The VM of a ref, uuid, name_label or other_config nova_uuid."""
        table = self.db.tables['VM']
        if key in table:
            return table[key]
        found = [vm for vm in table.values()
                 if vm.values.get('name_label') == key or
                 vm.values.get('uuid') == key or
                 vm.values.get('other_config', {}).get('nova_uuid') == key]
        if len(found) == 1:
            return found[0]
        if not found:
            raise SimulatorError('pool %s has no VM %r' % (self.name, key))
        raise SimulatorError('pool %s has %d VMs matching %r; use a uuid'
                             % (self.name, len(found), key))

    @property
    def master(self):
        return self.state_of(self.pool_obj['master'])

    def is_live(self, state):
        return self.metrics(state)['live']

    # Memory -------------------------------------------------------------

    @staticmethod
    def footprint(vm):
        return vm['memory_static_max'] + vm['memory_overhead']

    def free(self, state):
        return (self.metrics(state)['memory_total'] - state.used -
                self.host_obj(state)['memory_overhead'])

    def _account(self, vm, state, sign):
        """Add (+1) or remove (-1) a resident VM from a host's figures."""
        size = self.footprint(vm)
        state.used += sign * size
        if (vm['ha_restart_priority'] == 'restart' and
                vm['power_state'] in RUNNING_STATES):
            if sign > 0:
                state.protected[vm.ref] = size
            else:
                state.protected.pop(vm.ref, None)

    def _track(self, vm):
        """Keep the set of protected VMs waiting for a restart current.

        xapi's HA restarts every Halted VM that "should always run"
        (``ha_always_run`` and priority ``restart``; helpers.ml
        ``vm_should_always_run``), wherever it stopped.
        """
        if (vm.ref in self.db.tables['VM'] and
                vm['power_state'] == 'Halted' and vm['ha_always_run'] and
                vm['ha_restart_priority'] == 'restart'):
            self.waiting.add(vm.ref)
        else:
            self.waiting.discard(vm.ref)

    def _update_free(self, state):
        metrics = self.metrics(state)
        self.db.update(metrics, memory_free=max(self.free(state), 0),
                       last_updated=datamodel.now())

    def place(self, vm, state, power_state='Running'):
        if vm['resident_on'] != NULL:
            # Halted by a host failure but not yet cleared from it.
            self.clear_residence(vm, self.state_of(vm['resident_on']))
        domid = state.next_domid
        state.next_domid += 1
        changes = dict(power_state=power_state, resident_on=state.ref,
                       scheduled_to_be_resident_on=NULL, domid=domid,
                       domarch='x64')
        if vm['ha_restart_priority'] == 'restart':
            # xapi_vm.ml start: a protected VM that starts should always run.
            changes['ha_always_run'] = True
        self.db.update(vm, **changes)
        host = self.host_obj(state)
        self.db.update(host, resident_VMs=host['resident_VMs'] + [vm.ref])
        self._account(vm, state, +1)
        self._update_free(state)
        self._track(vm)

    def unplace(self, vm, power_state='Halted'):
        """The VM stops running where it was."""
        host_ref = vm['resident_on']
        self.halt(vm, power_state)
        if host_ref != NULL:
            self.clear_residence(vm, self.state_of(host_ref))

    def halt(self, vm, power_state='Halted'):
        """First half of xapi's ``force_state_reset``: the power state.

        xapi_vm_lifecycle.ml writes the power state first, then the VM's
        devices, then ``resident_on`` (:meth:`clear_residence`): a reader
        in between sees a Halted VM still resident on its host.
        """
        if vm['resident_on'] != NULL and vm['power_state'] in RUNNING_STATES:
            self._account(vm, self.state_of(vm['resident_on']), -1)
        self.db.update(vm, power_state=power_state, domid=-1, domarch='')
        self._track(vm)

    def clear_residence(self, vm, state, report_free=True):
        """Second half of ``force_state_reset``: off the host's books.

        ``report_free`` is False for a dead host: its own xapi writes its
        ``host_metrics.memory_free``, and it is gone.
        """
        if vm['resident_on'] == state.ref:
            self.db.update(vm, resident_on=NULL,
                           scheduled_to_be_resident_on=NULL)
        host = self.host_obj(state)
        if vm.ref in host['resident_VMs']:
            self.db.update(host, resident_VMs=[
                r for r in host['resident_VMs'] if r != vm.ref])
        if report_free:
            self._update_free(state)

    # VM lifecycle -------------------------------------------------------

    def _assert_power(self, vm, *allowed):
        """VM_BAD_POWER_STATE [vm, allowed states, actual], as xapi says it.

        xapi_vm_lifecycle.ml assert_initial_power_state_in lists every
        allowed state, in lower case, joined by ";".
        """
        if vm['power_state'] not in allowed:
            raise Failure('VM_BAD_POWER_STATE', vm.ref,
                          ';'.join(a.lower() for a in allowed),
                          vm['power_state'].lower())

    def _assert_not_special(self, vm):
        if vm['is_a_template'] or vm['is_a_snapshot']:
            raise Failure('VM_IS_TEMPLATE', vm.ref)
        if vm['is_control_domain']:
            raise Failure('OPERATION_NOT_ALLOWED',
                          'This operation is not allowed on a control '
                          'domain')

    def _assert_reachable(self, vm):
        host_ref = vm['resident_on']
        if host_ref != NULL and self.state_of(host_ref).mode != 'up':
            raise Failure('CANNOT_CONTACT_HOST', host_ref)

    def _assert_can_host(self, vm, state):
        if state.mode != 'up' and self.is_live(state):
            raise Failure('CANNOT_CONTACT_HOST', state.ref)
        if not self.is_live(state):
            raise Failure('HOST_NOT_LIVE')
        if not self.host_obj(state)['enabled']:
            raise Failure('HOST_DISABLED', state.ref)
        needed = self.footprint(vm)
        available = self.free(state)
        if needed > available:
            raise Failure('HOST_NOT_ENOUGH_FREE_MEMORY', needed, available)
        # A VM runs only where every SR of its disks is plugged
        # (xapi_vm_helpers.ml assert_can_see_SRs): a disk on a host's local
        # SR ties the VM to that host, and XenServer HA cannot restart it
        # elsewhere.
        for sr in self.vm_srs(vm):
            if not any(self.db.get('PBD', pbd)['host'] == state.ref and
                       self.db.get('PBD', pbd)['currently_attached']
                       for pbd in sr['PBDs']):
                raise Failure('VM_REQUIRES_SR', vm.ref, sr.ref)

    def candidates(self, vm):
        """Hosts that can start a VM: affinity first, then most free.

        A VM of an anti-affinity group goes, after its affinity host, to
        the hosts with the fewest running VMs of its group first
        (:meth:`.vm_groups.VMGroups.rank`).
        """
        result = []
        for state in self.hosts.values():
            try:
                self._assert_can_host(vm, state)
            except Failure:
                continue
            result.append(state)
        rank = self.vm_groups.rank(vm) or (lambda host_ref: 0)

        def order(state):
            if state.ref == vm['affinity']:
                return (0, -self.free(state))
            return (1 + rank(state.ref), -self.free(state))

        result.sort(key=order)
        return result

    def vm_start(self, vm, paused=False, host=None):
        """VM.start / VM.start_on."""
        self._assert_not_special(vm)
        self._assert_power(vm, 'Halted')
        if host is not None:
            self._assert_can_host(vm, host)
            self.ha.assert_kept([self.ha.vm_delta(vm, host.hostname, +1)])
            chosen = host
        else:
            candidates = self.candidates(vm)
            if not candidates:
                raise Failure('NO_HOSTS_AVAILABLE')
            chosen = None
            for state in candidates:
                try:
                    self.ha.assert_kept(
                        [self.ha.vm_delta(vm, state.hostname, +1)])
                except Failure:
                    continue
                chosen = state
                break
            if chosen is None:
                raise Failure('HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN')
        self.place(vm, chosen, 'Paused' if paused else 'Running')
        self.ha.refresh()

    def vm_shutdown(self, vm, clean):
        """VM.clean_shutdown / VM.hard_shutdown."""
        self._assert_not_special(vm)
        if clean:
            self._assert_power(vm, 'Running')
        else:
            # allowed_power_states of hard_shutdown, in xapi's order.
            self._assert_power(vm, 'Paused', 'Suspended', 'Running')
        self._assert_reachable(vm)
        # xapi_vm.ml clean_shutdown / hard_shutdown: a VM shut down on
        # purpose no longer should always run.
        self.db.update(vm, ha_always_run=False)
        if vm['power_state'] == 'Suspended':
            self.db.update(vm, power_state='Halted')
            self._track(vm)
        else:
            self.unplace(vm)
        self.ha.refresh()

    def vm_reboot(self, vm, hard=False):
        self._assert_not_special(vm)
        if hard:
            self._assert_power(vm, 'Paused', 'Running')
        else:
            self._assert_power(vm, 'Running')
        self._assert_reachable(vm)
        state = self.state_of(vm['resident_on'])
        self.db.update(vm, domid=state.next_domid)
        state.next_domid += 1

    def vm_pause(self, vm, pause):
        self._assert_not_special(vm)
        self._assert_power(vm, 'Running' if pause else 'Paused')
        self._assert_reachable(vm)
        self.db.update(vm, power_state='Paused' if pause else 'Running')

    def vm_power_state_reset(self, vm):
        """VM.power_state_reset: mark a VM halted, if its host is dead.

        xapi_vm.ml power_state_reset: a control domain cannot be reset; a
        running VM whose host is live is refused (xapi trusts that host to
        know the VM's state).
        """
        if vm['is_control_domain']:
            raise Failure('CANNOT_RESET_CONTROL_DOMAIN', vm.ref)
        if vm['power_state'] in RUNNING_STATES:
            host_ref = vm['resident_on']
            if host_ref != NULL and self.is_live(self.state_of(host_ref)):
                raise Failure('HOST_IS_LIVE', host_ref)
            self.unplace(vm)
        else:
            self.db.update(vm, power_state='Halted')
            self._track(vm)
        self.ha.refresh()

    def vm_migrate(self, vm, state):
        """VM.pool_migrate (also what an administrator's migrate does)."""
        self._assert_not_special(vm)
        self._assert_power(vm, 'Running')
        self._assert_reachable(vm)
        source = self.state_of(vm['resident_on'])
        if source is state:
            # xapi supports migrating a VM to the host it runs on.
            self.db.touch(vm)
            return
        self._assert_can_host(vm, state)
        self.ha.assert_kept([self.ha.vm_delta(vm, source.hostname, -1),
                             self.ha.vm_delta(vm, state.hostname, +1)])
        power_state = vm['power_state']
        self.unplace(vm, power_state)
        self.place(vm, state, power_state)
        self.ha.refresh()

    def constructor_values(self, cls_name, record):
        """The fields a ``<class>.create`` record sets, decoded."""
        cls = self.dm.classes[cls_name]
        values = {}
        for name, field in cls.fields.items():
            if name in record:
                if field.qualifier not in ('RW', 'RO/constructor'):
                    continue
                try:
                    values[name] = field.type.decode(record[name])
                except datamodel.DecodeError:
                    raise Failure('FIELD_TYPE_ERROR', name)
            elif field.required:
                raise Failure('FIELD_TYPE_ERROR', name)
        values['uuid'] = str(uuid_lib.uuid4())
        return values

    def vdi_create(self, record):
        """VDI.create: a virtual disk on an SR."""
        values = self.constructor_values('VDI', record)
        sr = self.db.get('SR', values['SR'])
        vdi = self.db.create('VDI', values)
        self.db.update(sr, VDIs=list(sr['VDIs']) + [vdi.ref])
        return vdi.ref

    def vbd_create(self, record):
        """VBD.create: plug a VDI (or an empty CD drive) into a VM."""
        values = self.constructor_values('VBD', record)
        vm = self.db.get('VM', values['VM'])
        vdi = None
        if not values.get('empty'):
            vdi = self.db.get('VDI', values['VDI'])
        values['currently_attached'] = False
        vbd = self.db.create('VBD', values)
        self.db.update(vm, VBDs=list(vm['VBDs']) + [vbd.ref])
        if vdi is not None:
            self.db.update(vdi, VBDs=list(vdi['VBDs']) + [vbd.ref])
        return vbd.ref

    def vm_srs(self, vm):
        """The SRs of a VM's disks (its non-empty VBDs' VDIs)."""
        srs = {}
        for vbd_ref in vm['VBDs']:
            vbd = self.db.get('VBD', vbd_ref)
            if not vbd['empty']:
                sr = self.db.get('SR', self.db.get('VDI', vbd['VDI'])['SR'])
                srs[sr.ref] = sr
        return list(srs.values())

    def vm_create(self, record):
        """VM.create from a record of constructor fields."""
        values = self.constructor_values('VM', record)
        smin = values['memory_static_min']
        dmin = values['memory_dynamic_min']
        dmax = values['memory_dynamic_max']
        smax = values['memory_static_max']
        if not smin <= dmin <= dmax <= smax:
            raise Failure('MEMORY_CONSTRAINT_VIOLATION',
                          'Memory limits must satisfy: static_min <= '
                          'dynamic_min <= dynamic_max <= static_max')
        priority = values.get('ha_restart_priority', '')
        if priority not in scenario_mod.RESTART_PRIORITIES:
            raise Failure('INVALID_VALUE', 'ha_restart_priority', priority)
        affinity = values.get('affinity', NULL)
        if affinity != NULL:
            self.db.get('host', affinity)
        values['power_state'] = 'Halted'
        values['domid'] = -1
        values.setdefault('ha_always_run', False)
        values.setdefault('memory_target', dmax)
        return self.db.create('VM', values).ref

    def vm_destroy(self, vm):
        if vm['is_control_domain']:
            raise Failure('OPERATION_NOT_ALLOWED',
                          'Cannot destroy a control domain')
        self._assert_power(vm, 'Halted', 'Suspended')
        self.vm_groups.vm_destroyed(vm)
        self.db.destroy(vm)
        self._track(vm)

    def vm_set_restart_priority(self, vm, value):
        if value not in scenario_mod.RESTART_PRIORITIES:
            raise Failure('INVALID_VALUE', 'ha_restart_priority', value)
        if value == 'restart' and vm['power_state'] in RUNNING_STATES:
            state = self.state_of(vm['resident_on'])
            self.ha.assert_kept([
                self.ha.vm_delta(vm, state.hostname, -1),
                self.ha.vm_delta(vm, state.hostname, +1, 'restart')])
        state = None
        if vm['resident_on'] != NULL:
            state = self.state_of(vm['resident_on'])
            self._account(vm, state, -1)
        self.db.update(vm, ha_restart_priority=value)
        if vm['power_state'] == 'Running':
            # xapi_vm.ml set_ha_restart_priority: only a running VM's
            # protection changes at once.
            self.db.update(vm, ha_always_run=value == 'restart')
        if state is not None:
            self._account(vm, state, +1)
        self._track(vm)
        self.ha.refresh()

    def vm_set_int(self, vm, field, value):
        """VM.set_order / set_start_delay / set_shutdown_delay.

        xapi_vm.ml set_order (and its siblings): a negative value fails
        with INVALID_VALUE ["<field> must be non-negative", value]
        (xapi_vm_helpers.ml invalid_value).
        """
        if value < 0:
            raise Failure('INVALID_VALUE', '%s must be non-negative' % field,
                          str(value))
        self.db.update(vm, **{field: value})

    # Hosts --------------------------------------------------------------

    def host_set_enabled(self, state, enabled):
        """host.enable / host.disable.

        Disabling a host takes it out of the failover plan's hosts, so
        with HA xapi refuses it when it would break the plan
        (xapi_host.ml disable, assert_host_disable_preserves_ha_plan).
        """
        if enabled and not self.is_live(state):
            raise Failure('HOST_NOT_LIVE')
        if not enabled and self.host_obj(state)['enabled']:
            self.ha.assert_kept(disabled=(state.hostname,))
        self.db.update(self.host_obj(state), enabled=enabled)
        self.ha.refresh()

    def declare_dead(self, state):
        """host.declare_dead: an administrator vouches the host is dead.

        xapi_host.ml declare_dead: refused with HOST_IS_LIVE while the host
        is live (precheck_destroy_declare_dead); otherwise its VMs are
        reset to Halted (VM.power_state_reset) and the host is disabled.
        Nothing is restarted, and ``live`` is left as it is.
        """
        if self.is_live(state) or state is self.master:
            raise Failure('HOST_IS_LIVE', state.ref)
        vms = self.db.tables['VM']
        for ref in list(self.host_obj(state)['resident_VMs']):
            if not vms[ref]['is_control_domain']:
                self.unplace(vms[ref])
        self.db.update(self.host_obj(state), enabled=False)
        self.ha.refresh()

    def designate_master(self, state):
        if not self.is_live(state) or state.mode != 'up':
            raise Failure('HOST_OFFLINE', state.ref)
        self.db.update(self.pool_obj, master=state.ref)

    def pending_restarts(self):
        """Refs of the protected VMs waiting for HA to restart them."""
        if not self.pool_obj['ha_enabled']:
            return set()
        return set(self.waiting)

    # Administrator's actions ---------------------------------------------

    def migrate_vm(self, vm, hostname):
        with self.lock:
            self.vm_migrate(self.vm_obj(vm), self.host_state(hostname))

    def shutdown_vm(self, vm):
        with self.lock:
            self.vm_shutdown(self.vm_obj(vm), clean=False)

    def start_vm(self, vm, hostname=None):
        with self.lock:
            host = self.host_state(hostname) if hostname else None
            self.vm_start(self.vm_obj(vm), host=host)

    # Tasks --------------------------------------------------------------

    def create_task(self, name, session):
        """A pending task for an ``Async.`` call."""
        now = datamodel.now()
        task = self.db.create('task', {
            'name_label': name,
            'name_description': '',
            'created': now,
            'finished': datamodel.EPOCH,
            'status': 'pending',
            'resident_on': self.pool_obj['master'],
            'progress': 0.0,
            'type': '<none/>',
            'result': '',
            'error_info': [],
            'other_config': {},
            'subtask_of': NULL,
            'subtasks': [],
        })
        self.db.update(session, tasks=session['tasks'] + [task.ref])
        return task

    def finish_task(self, task, result=None, error=None):
        if task.ref not in self.db.tables['task']:
            return
        if error is None:
            self.db.update(task, status='success', progress=1.0,
                           result=result, finished=datamodel.now())
        else:
            self.db.update(task, status='failure', progress=1.0,
                           error_info=list(error), finished=datamodel.now())

    # Background work ----------------------------------------------------

    def sleep(self, seconds):
        """Sleep unless the simulator stops; False if it is stopping."""
        if seconds <= 0:
            return not self._stop.is_set()
        return not self._stop.wait(seconds)

    def spawn(self, func, *args):
        """Run ``func`` in the background; wait_until_quiet waits for it."""
        with self._work:
            self._pending += 1
        thread = threading.Thread(target=self._run, args=(func, args),
                                  name='sim-%s-%s' % (self.name,
                                                      func.__name__),
                                  daemon=True)
        with self._work:
            self._threads.add(thread)
        thread.start()

    def _run(self, func, args):
        try:
            func(*args)
        except Exception:
            LOG.exception('pool %s: background %s failed', self.name,
                          func.__name__)
        finally:
            with self._work:
                self._pending -= 1
                self._threads.discard(threading.current_thread())
                self._work.notify_all()

    def wait_until_quiet(self, timeout):
        """Wait for background work and the HA monitor's pending restarts.

        A protected VM that waits for a restart which would now succeed is
        work too: the monitor starts it at its next round.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._work:
                if not self._work.wait_for(
                        lambda: self._pending == 0,
                        max(deadline - time.monotonic(), 0)):
                    break
            with self.lock:
                if not self.failover.restartable():
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.changed.wait(min(remaining,
                                      self.spec.monitor_interval))
        raise TimeoutError('pool %s still busy after %.1f s'
                           % (self.name, timeout))

    def stop(self, timeout=5.0):
        """Stop background work and wake every waiter."""
        with self.lock:
            self.stopping = True
            self.changed.notify_all()
        self._stop.set()
        deadline = time.monotonic() + timeout
        self.failover.join(timeout)
        with self._work:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0))
