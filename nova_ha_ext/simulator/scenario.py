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

"""Scenarios: the pools a simulator serves, loaded from YAML, JSON or a dict.

::

    pools:
      - name: pool-a                 # required, unique
        username: root               # default "root"
        password: secret             # default ""
        detection_delay: 0.2         # seconds before a failed host is dead
        restart_delay: 0.1           # seconds from VM reset to restarts
        master: xs-a1                # default: the first host
        ha: {enabled: true, host_failures_to_tolerate: 1,
             allow_overcommit: false, heartbeat_sr: sr-hb}
        srs: [{name_label: sr-hb, shared: true, type: nfs}]
        hosts: [{hostname: xs-a1, memory_mb: 65536, cpus: 16}]
        vms: [{name_label: vm1, memory_mb: 2048, vcpus: 1, host: xs-a1,
               power_state: Running, ha_restart_priority: restart,
               order: 0, start_delay: 0,
               other_config: {nova_uuid: "..."}}]

:func:`load` validates everything and raises :class:`ScenarioError` naming
the bad key and value (``pools[0].vms[3].memory_mb: ...``).  See
``doc/simulator.md`` for every key.
"""

import dataclasses
import json
import os
import typing
import uuid as uuid_lib

import yaml

from nova_ha_ext.xenapi import pool_state

POWER_STATES = pool_state.POWER_STATES
TIMING_PROFILES = ('fast', 'realistic')
#: Which xapi a pool runs, for VM groups (see :mod:`.vm_groups`).
VM_GROUP_MODES = ('unsupported', 'unlicensed', 'licensed')
# xapi's own figures, in seconds, for the "realistic" profile (scaled by
# time_scale): the HA timeout (xapi_globs.ml ha_default_timeout_base), a
# VM.start, the HA monitor's period (ha_monitor_interval) and its back-off
# between two start attempts of one VM (xapi_ha_vm_failover.ml), a restart
# of xapi after a master failover, a member re-enabling itself, and the
# writes between a dead host's VM halted and off its host.
XAPI_SECONDS = {
    'detection_delay': 60.0,
    'restart_delay': 1.0,
    'vm_start_seconds': 5.0,
    'monitor_interval': 20.0,
    'restart_backoff': 120.0,
    'failover_seconds': 30.0,
    'enable_seconds': 10.0,
    'reset_seconds': 1.0,
}
# The "fast" profile: what tests want when timing is not their subject.
FAST_SECONDS = {
    'detection_delay': 0.5,
    'restart_delay': 0.1,
    'vm_start_seconds': 0.0,
    'monitor_interval': 0.1,
    'restart_backoff': 0.5,
    'failover_seconds': 0.1,
    'enable_seconds': 0.0,
    'reset_seconds': 0.0,
}
RESTART_PRIORITIES = ('', 'restart', 'best-effort')
STATEFILE_INCAPABLE_SR_TYPES = ('iso', 'udev')


class ScenarioError(ValueError):
    """A scenario is invalid; the message names the key and the value."""


@dataclasses.dataclass(frozen=True)
class HASpec(object):
    enabled: bool = False
    host_failures_to_tolerate: int = 1
    allow_overcommit: bool = False
    heartbeat_sr: typing.Optional[str] = None


@dataclasses.dataclass(frozen=True)
class SRSpec(object):
    name_label: str
    shared: bool = False
    type: str = 'nfs'
    physical_size_gb: int = 1024
    uuid: typing.Optional[str] = None
    #: The host a local SR (``shared: false``) is attached to; a shared SR
    #: is attached to every host.
    host: typing.Optional[str] = None


@dataclasses.dataclass(frozen=True)
class HostSpec(object):
    hostname: str
    memory_mb: int
    cpus: int = 16
    name_label: typing.Optional[str] = None
    enabled: bool = True
    dom0_memory_mb: int = 0
    uuid: typing.Optional[str] = None
    #: The host's iSCSI initiator name; one derived from the hostname when
    #: None.
    iscsi_iqn: typing.Optional[str] = None


@dataclasses.dataclass(frozen=True)
class VMSpec(object):
    name_label: str
    memory_mb: int = 1024
    vcpus: int = 1
    host: typing.Optional[str] = None
    power_state: str = 'Halted'
    ha_restart_priority: str = ''
    order: int = 0
    start_delay: int = 0
    other_config: typing.Mapping[str, str] = dataclasses.field(
        default_factory=dict)
    affinity: typing.Optional[str] = None
    is_a_template: bool = False
    uuid: typing.Optional[str] = None


@dataclasses.dataclass(frozen=True)
class PoolSpec(object):
    name: str
    hosts: typing.Tuple[HostSpec, ...]
    username: str = 'root'
    password: str = ''
    detection_delay: float = 0.5
    restart_delay: float = 0.1
    vm_start_seconds: float = 0.0
    monitor_interval: float = 0.1
    restart_backoff: float = 0.5
    failover_seconds: float = 0.1
    enable_seconds: float = 0.0
    reset_seconds: float = 0.0
    timing: str = 'fast'
    time_scale: float = 0.01
    master: typing.Optional[str] = None
    ha: HASpec = HASpec()
    srs: typing.Tuple[SRSpec, ...] = ()
    vms: typing.Tuple[VMSpec, ...] = ()
    uuid: typing.Optional[str] = None
    #: Which xapi the pool runs, for VM groups (see :mod:`.vm_groups`).
    vm_groups: str = 'unsupported'


@dataclasses.dataclass(frozen=True)
class Scenario(object):
    pools: typing.Tuple[PoolSpec, ...]

    def pool(self, name):
        for pool in self.pools:
            if pool.name == name:
                return pool
        raise KeyError(name)


class _Checker(object):
    """Reads one mapping of a scenario, naming its path in every error."""

    def __init__(self, path, data, known):
        self.path = path
        if not isinstance(data, dict):
            raise ScenarioError('%s: expected a mapping, got %r'
                                % (path, data))
        unknown = sorted(set(data) - set(known), key=str)
        if unknown:
            raise ScenarioError('%s: unknown key %r (known keys: %s)'
                                % (path, unknown[0], ', '.join(known)))
        self.data = data

    def where(self, key):
        return '%s.%s' % (self.path, key)

    def _get(self, key, default, required):
        if key not in self.data:
            if required:
                raise ScenarioError('%s: required key missing'
                                    % self.where(key))
            return default, False
        return self.data[key], True

    def string(self, key, default=None, required=False, allow_empty=False):
        value, given = self._get(key, default, required)
        if not given:
            return value
        if not isinstance(value, str) or (not allow_empty and not value):
            raise ScenarioError('%s: expected a non-empty string, got %r'
                                % (self.where(key), value))
        return value

    def integer(self, key, default=None, required=False, minimum=0):
        value, given = self._get(key, default, required)
        if not given:
            return value
        if (isinstance(value, bool) or not isinstance(value, int) or
                value < minimum):
            raise ScenarioError('%s: expected an integer >= %d, got %r'
                                % (self.where(key), minimum, value))
        return value

    def number(self, key, default=None):
        value, given = self._get(key, default, False)
        if not given:
            return value
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or value < 0):
            raise ScenarioError('%s: expected a number of seconds >= 0, '
                                'got %r' % (self.where(key), value))
        return float(value)

    def boolean(self, key, default=False):
        value, given = self._get(key, default, False)
        if given and not isinstance(value, bool):
            raise ScenarioError('%s: expected true or false, got %r'
                                % (self.where(key), value))
        return value

    def choice(self, key, choices, default):
        value, given = self._get(key, default, False)
        if given and value not in choices:
            raise ScenarioError('%s: expected one of %s, got %r'
                                % (self.where(key),
                                   ', '.join(repr(c) for c in choices),
                                   value))
        return value

    def uuid(self, key):
        value = self.string(key)
        if value is not None:
            try:
                uuid_lib.UUID(value)
            except ValueError:
                raise ScenarioError('%s: expected a UUID, got %r'
                                    % (self.where(key), value))
        return value

    def string_map(self, key):
        value, given = self._get(key, {}, False)
        if not given:
            return {}
        if not isinstance(value, dict):
            raise ScenarioError('%s: expected a mapping of strings, got %r'
                                % (self.where(key), value))
        for k, v in value.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise ScenarioError(
                    '%s.%s: keys and values must be strings (quote them), '
                    'got %r' % (self.where(key), k, v))
        return dict(value)

    def items(self, key, required=False):
        value, given = self._get(key, [], required)
        if not given:
            return []
        if not isinstance(value, list):
            raise ScenarioError('%s: expected a list, got %r'
                                % (self.where(key), value))
        return value


def _fields(cls):
    return [f.name for f in dataclasses.fields(cls)]


def _ha(path, data):
    c = _Checker(path, data, _fields(HASpec))
    return HASpec(
        enabled=c.boolean('enabled'),
        host_failures_to_tolerate=c.integer('host_failures_to_tolerate', 1),
        allow_overcommit=c.boolean('allow_overcommit'),
        heartbeat_sr=c.string('heartbeat_sr'))


def _sr(path, data):
    c = _Checker(path, data, _fields(SRSpec))
    return SRSpec(name_label=c.string('name_label', required=True),
                  shared=c.boolean('shared'),
                  type=c.string('type', 'nfs'),
                  physical_size_gb=c.integer('physical_size_gb', 1024),
                  uuid=c.uuid('uuid'),
                  host=c.string('host'))


def _host(path, data):
    c = _Checker(path, data, _fields(HostSpec))
    return HostSpec(hostname=c.string('hostname', required=True),
                    memory_mb=c.integer('memory_mb', required=True,
                                        minimum=1),
                    cpus=c.integer('cpus', 16, minimum=1),
                    name_label=c.string('name_label'),
                    enabled=c.boolean('enabled', True),
                    dom0_memory_mb=c.integer('dom0_memory_mb', 0),
                    uuid=c.uuid('uuid'),
                    iscsi_iqn=c.string('iscsi_iqn'))


def _vm(path, data):
    c = _Checker(path, data, _fields(VMSpec))
    host = c.string('host')
    state = c.choice('power_state', POWER_STATES,
                     'Running' if host else 'Halted')
    if state in pool_state.RESIDENT_POWER_STATES and not host:
        raise ScenarioError('%s: a %s VM needs a host'
                            % (c.where('power_state'), state))
    if state in pool_state.NOT_RESIDENT_POWER_STATES and host:
        raise ScenarioError('%s: a %s VM is not resident on a host (use '
                            'affinity for a preferred host), got %r'
                            % (c.where('host'), state, host))
    return VMSpec(name_label=c.string('name_label', required=True),
                  memory_mb=c.integer('memory_mb', 1024, minimum=1),
                  vcpus=c.integer('vcpus', 1, minimum=1),
                  host=host,
                  power_state=state,
                  ha_restart_priority=c.choice('ha_restart_priority',
                                               RESTART_PRIORITIES, ''),
                  order=c.integer('order', 0),
                  start_delay=c.integer('start_delay', 0),
                  other_config=c.string_map('other_config'),
                  affinity=c.string('affinity'),
                  is_a_template=c.boolean('is_a_template'),
                  uuid=c.uuid('uuid'))


def _unique(path, items, attr, what):
    seen = set()
    for i, item in enumerate(items):
        value = getattr(item, attr)
        if value is None:
            continue
        if value in seen:
            raise ScenarioError('%s[%d].%s: duplicate %s %r'
                                % (path, i, attr, what, value))
        seen.add(value)


def _pool(path, data):
    c = _Checker(path, data, _fields(PoolSpec))
    name = c.string('name', required=True)
    path = '%s (%s)' % (path, name)
    c.path = path
    hosts = tuple(_host('%s.hosts[%d]' % (path, i), h)
                  for i, h in enumerate(c.items('hosts', required=True)))
    if not hosts:
        raise ScenarioError('%s.hosts: a pool needs at least one host' % path)
    srs = tuple(_sr('%s.srs[%d]' % (path, i), s)
                for i, s in enumerate(c.items('srs')))
    vms = tuple(_vm('%s.vms[%d]' % (path, i), v)
                for i, v in enumerate(c.items('vms')))
    ha = _ha(c.where('ha'), c.data.get('ha', {}))
    timing = c.choice('timing', TIMING_PROFILES, 'fast')
    scale = c.number('time_scale', 0.01)
    if timing == 'realistic':
        defaults = {k: v * scale for k, v in XAPI_SECONDS.items()}
    else:
        defaults = FAST_SECONDS
    seconds = {k: c.number(k, defaults[k]) for k in defaults}
    pool = PoolSpec(name=name, hosts=hosts,
                    username=c.string('username', 'root'),
                    password=c.string('password', '', allow_empty=True),
                    timing=timing, time_scale=scale,
                    master=c.string('master'), ha=ha, srs=srs, vms=vms,
                    uuid=c.uuid('uuid'),
                    vm_groups=c.choice('vm_groups', VM_GROUP_MODES,
                                       'unsupported'),
                    **seconds)
    _check_pool(path, pool)
    return pool


def _check_pool(path, pool):
    _unique(path + '.hosts', pool.hosts, 'hostname', 'hostname')
    _unique(path + '.hosts', pool.hosts, 'uuid', 'uuid')
    _unique(path + '.srs', pool.srs, 'name_label', 'SR name_label')
    _unique(path + '.vms', pool.vms, 'uuid', 'uuid')
    hostnames = {h.hostname: h for h in pool.hosts}
    for i, sr in enumerate(pool.srs):
        if sr.host is not None and (sr.shared or sr.host not in hostnames):
            raise ScenarioError(
                '%s.srs[%d].host: %s' % (path, i, 'a shared SR is attached to '
                                         'every host' if sr.shared else
                                         'no host named %r' % sr.host))
    if len(hostnames) > 254:
        raise ScenarioError('%s.hosts: at most 254 hosts per pool, got %d'
                            % (path, len(hostnames)))
    if pool.master is not None and pool.master not in hostnames:
        raise ScenarioError('%s.master: no host named %r'
                            % (path, pool.master))
    used = {h: host.dom0_memory_mb for h, host in hostnames.items()}
    for i, vm in enumerate(pool.vms):
        for key in ('host', 'affinity'):
            value = getattr(vm, key)
            if value is not None and value not in hostnames:
                raise ScenarioError('%s.vms[%d].%s: no host named %r'
                                    % (path, i, key, value))
        if vm.host is not None:
            used[vm.host] += vm.memory_mb
            if used[vm.host] > hostnames[vm.host].memory_mb:
                raise ScenarioError(
                    '%s.vms[%d].host: %r has %d MiB of memory, the VMs '
                    'placed on it need %d MiB'
                    % (path, i, vm.host, hostnames[vm.host].memory_mb,
                       used[vm.host]))
    ha = pool.ha
    if ha.heartbeat_sr is not None:
        srs = {s.name_label: s for s in pool.srs}
        sr = srs.get(ha.heartbeat_sr)
        if sr is None:
            raise ScenarioError('%s.ha.heartbeat_sr: no SR named %r'
                                % (path, ha.heartbeat_sr))
        if not sr.shared:
            raise ScenarioError('%s.ha.heartbeat_sr: SR %r is not shared; '
                                'the HA heartbeat needs a shared SR'
                                % (path, ha.heartbeat_sr))
        if sr.type in STATEFILE_INCAPABLE_SR_TYPES:
            raise ScenarioError('%s.ha.heartbeat_sr: SR %r of type %r '
                                'cannot hold an HA statefile'
                                % (path, ha.heartbeat_sr, sr.type))
    if ha.enabled:
        if ha.heartbeat_sr is None:
            raise ScenarioError('%s.ha.heartbeat_sr: required when '
                                'ha.enabled is true' % path)
        if len(pool.hosts) < 2:
            raise ScenarioError('%s.ha.enabled: HA needs at least 2 hosts, '
                                'the pool has %d' % (path, len(pool.hosts)))


def validate(data):
    """Validate a scenario mapping and return a :class:`Scenario`."""
    c = _Checker('scenario', data, ['pools'])
    pools = tuple(_pool('pools[%d]' % i, p)
                  for i, p in enumerate(c.items('pools', required=True)))
    if not pools:
        raise ScenarioError('scenario.pools: at least one pool is needed')
    if len(pools) > 254:
        raise ScenarioError('scenario.pools: at most 254 pools, got %d'
                            % len(pools))
    _unique('pools', pools, 'name', 'pool name')
    return Scenario(pools=pools)


def read(path):
    """Read a YAML or JSON scenario file into plain data."""
    try:
        with open(path) as f:
            if str(path).endswith('.json'):
                return json.load(f)
            loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
            return yaml.load(f, Loader=loader)
    except OSError as e:
        raise ScenarioError('%s: cannot read scenario: %s' % (path, e))
    except (ValueError, yaml.YAMLError) as e:
        raise ScenarioError('%s: not valid YAML/JSON: %s' % (path, e))


def load(source):
    """Load a scenario from a :class:`Scenario`, a mapping or a file path."""
    if isinstance(source, Scenario):
        return source
    if isinstance(source, (str, os.PathLike)):
        return validate(read(source))
    return validate(source)


def generate(name='pool-big', hosts=64, vms=10000, host_memory_mb=262144,
             vm_memory_mb=1024, protected_every=2, ha=True,
             host_failures_to_tolerate=1, detection_delay=0.5,
             restart_delay=0.1, username='root', password='secret'):
    """Return a scenario mapping of one big synthetic pool.

    VMs ``vm-00000``... are spread round-robin over hosts ``xs-00``...,
    all running; on each host, every ``protected_every``-th one is
    protected (``ha_restart_priority = "restart"``, 0 for none).  Each VM
    carries a deterministic ``other_config["nova_uuid"]``.
    """
    if vms * vm_memory_mb > hosts * host_memory_mb:
        raise ValueError('%d VMs of %d MiB do not fit on %d hosts of %d MiB'
                         % (vms, vm_memory_mb, hosts, host_memory_mb))
    host_names = ['xs-%02d' % i for i in range(hosts)]
    namespace = uuid_lib.UUID('6c1f3d0e-4a5b-4c6d-8e7f-0a1b2c3d4e5f')
    vm_list = []
    for i in range(vms):
        vm_name = 'vm-%05d' % i
        protected = protected_every and (i // hosts) % protected_every == 0
        vm_list.append({
            'name_label': vm_name,
            'memory_mb': vm_memory_mb,
            'host': host_names[i % hosts],
            'power_state': 'Running',
            'ha_restart_priority': 'restart' if protected else '',
            'other_config': {
                'nova_uuid': str(uuid_lib.uuid5(namespace, vm_name))},
        })
    return {'pools': [{
        'name': name,
        'username': username,
        'password': password,
        'detection_delay': detection_delay,
        'restart_delay': restart_delay,
        'ha': {'enabled': ha,
               'host_failures_to_tolerate': host_failures_to_tolerate,
               'heartbeat_sr': 'sr-shared'},
        'srs': [{'name_label': 'sr-shared', 'shared': True, 'type': 'nfs'}],
        'hosts': [{'hostname': h, 'memory_mb': host_memory_mb, 'cpus': 32}
                  for h in host_names],
        'vms': vm_list,
    }]}
