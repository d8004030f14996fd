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

"""Simulated pools and the names and uuids a deployment gives them.

One builder for every many-pool deployment (the workers' tests and
benchmark, the reconciler benchmark): pool ``p`` is ``pool-PP``, its host
``h`` is ``xs-PP-HH`` with compute node uuid :func:`node_uuid`, and its VM
``i`` carries the uuid of instance :func:`nova_uuid`. Whoever writes the
Nova side computes the same names and uuids from the same functions.

:func:`letter_pool` is the small pool of the in-process functional tests
and the demo (``pool-a``: hosts ``xs-a1``...).
"""

import uuid as uuid_lib

from nova_ha_ext.simulator import scenario

#: Every uuid of a deployment is derived from this namespace.
NAMESPACE = uuid_lib.UUID('5b0e7c61-3f0a-4d2e-9b8c-7a6d5e4f3a21')
#: The simulated HA timeout and the pause between two restarts, seconds:
#: a real pool waits out 60 s; tests and benchmarks need not.
DETECTION_DELAY = 0.05
RESTART_DELAY = 0.02
HOST_MEMORY_MB = 16384
VM_MEMORY_MB = 1024
#: The shared SR of every pool, its HA heartbeat SR too.
HEARTBEAT_SR = 'sr-hb'


def pool_name(p):
    return 'pool-%02d' % p


def host_name(p, h):
    return 'xs-%02d-%02d' % (p, h)


def nova_uuid(p, i):
    """The uuid of the instance of VM ``i`` of pool ``p``."""
    return str(uuid_lib.uuid5(NAMESPACE, '%s/vm-%05d' % (pool_name(p), i)))


def node_uuid(hostname):
    """The compute node's uuid: its placement resource provider's too."""
    return str(uuid_lib.uuid5(NAMESPACE, 'node/' + hostname))


def derived_uuid(kind, instance_uuid):
    """The uuid of an instance's ``kind`` (port, volume, attachment...)."""
    return str(uuid_lib.uuid5(NAMESPACE, '%s/%s' % (kind, instance_uuid)))


def vm_name(instance_id):
    """The VM's ``name_label``: Nova's name of instance ``instance_id``."""
    return 'instance-%08x' % instance_id


def pool_scenario(p, hosts, vms, password, username='root', first_id=None,
                  host_memory_mb=HOST_MEMORY_MB, vm_memory_mb=VM_MEMORY_MB):
    """Pool ``p`` for the simulator: ``scenario.generate()``, renamed.

    VMs are spread round-robin over the hosts; every other round of them
    is protected (the first VM of each host is), and those are the
    instances of the ``ha=true`` flavor. VM ``i`` is named as Nova names
    instance ``first_id + i`` (by default ``p * vms + 1 + i``) and carries
    the uuid :func:`nova_uuid` ``(p, i)``.
    """
    if first_id is None:
        first_id = p * vms + 1
    data = scenario.generate(
        name=pool_name(p), hosts=hosts, vms=vms,
        host_memory_mb=host_memory_mb, vm_memory_mb=vm_memory_mb,
        detection_delay=DETECTION_DELAY, restart_delay=RESTART_DELAY,
        username=username, password=password)
    [pool] = data['pools']
    names = {host['hostname']: host_name(p, h)
             for h, host in enumerate(pool['hosts'])}
    for host in pool['hosts']:
        host['hostname'] = names[host['hostname']]
    for i, vm in enumerate(pool['vms']):
        vm['host'] = names[vm['host']]
        vm['name_label'] = vm_name(first_id + i)
        vm['other_config'] = {'nova_uuid': nova_uuid(p, i)}
    pool['ha']['heartbeat_sr'] = pool['srs'][0]['name_label'] = HEARTBEAT_SR
    return pool


def letter_pool(name, ha, password, hosts=3, vms=(), local_sr_on=None,
                host_memory_mb=HOST_MEMORY_MB):
    """Pool ``pool-<letter>`` of ``hosts`` hosts ``xs-<letter>1``... with
    a shared SR, ``sr-hb-<letter>`` (the heartbeat SR when ``ha``).

    :param local_sr_on: a host given a local SR, ``local-<host>``.
    """
    letter = name[-1]
    pool = {
        'name': name,
        'username': 'root',
        'password': password,
        'detection_delay': DETECTION_DELAY,
        'restart_delay': RESTART_DELAY,
        'srs': [{'name_label': 'sr-hb-%s' % letter, 'shared': True,
                 'type': 'nfs'}],
        'hosts': [{'hostname': 'xs-%s%d' % (letter, i + 1),
                   'memory_mb': host_memory_mb, 'cpus': 16}
                  for i in range(hosts)],
        'vms': list(vms),
    }
    if local_sr_on:
        pool['srs'].append({'name_label': 'local-' + local_sr_on,
                            'shared': False, 'type': 'ext',
                            'host': local_sr_on})
    if ha:
        pool['ha'] = {'enabled': True, 'host_failures_to_tolerate': 1,
                      'heartbeat_sr': 'sr-hb-%s' % letter}
    return pool


def vdi_record(sr, name='disk'):
    """A ``VDI.create`` record: a 10 GiB user disk on ``sr``."""
    return {'name_label': name, 'name_description': '', 'SR': sr,
            'virtual_size': str(10 * 2 ** 30), 'type': 'user',
            'sharable': False, 'read_only': False, 'other_config': {},
            'xenstore_data': {}, 'sm_config': {}, 'tags': []}


def vbd_record(vm, vdi):
    """A ``VBD.create`` record: ``vdi`` as ``vm``'s boot disk."""
    return {'VM': vm, 'VDI': vdi, 'userdevice': '0', 'bootable': True,
            'mode': 'RW', 'type': 'Disk', 'unpluggable': False,
            'empty': False, 'other_config': {}, 'qos_algorithm_type': '',
            'qos_algorithm_params': {}}
