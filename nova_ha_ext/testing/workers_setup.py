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

"""Write a deployment's Nova side, as an operator's cloud would have it.

::

    python nova_ha_ext/testing/workers_setup.py SPEC.json \\
        --config-file nova.conf [--config-file ...]

Run in a process of its own by :mod:`nova_ha_ext.testing.workers`, with the
configuration files the workers use, so that the caller's global
configuration is left alone. ``SPEC.json`` (written by
:meth:`nova_ha_ext.testing.workers.Deployment.populate`) holds::

    {"cells": {"cell0": URL, "cell1": URL},
     "placement": "http://127.0.0.1:PORT",
     "project_id": ..., "user_id": ...,
     "pools": [{"name": "pool-00", "url": "http://...,http://...",
                "hosts": [{"hostname": "xs-00-00", "uuid": ..., "ip": ...}],
                "vms": [{"uuid": ..., "name": ..., "host": "xs-00-00",
                         "protected": true}]}]}

It creates the cell mappings (cell0 and cell1), two flavors (``ha.small``
with the ``ha=true`` extra spec and ``plain.small``), a compute node per
host (``host`` and ``hypervisor_hostname`` are the host's name), an
aggregate per pool with ``ha=true`` and ``xenapi_pool_url`` and its hosts,
an instance per VM on its host's node (the ``ha.small`` flavor for the
protected VMs), and, through placement's HTTP API, a resource provider per
compute node (the node's uuid) with its inventory and each instance's
allocations on its node's provider.
"""

import json
import sys
import time
import urllib.error
import urllib.request
import uuid as uuid_lib

#: Resources of every VM, in Nova's flavors and in placement alike.
VM_MEMORY_MB = 1024
VM_VCPUS = 1
VM_DISK_GB = 1
#: Inventory of every compute node.
HOST_VCPUS = 64
HOST_MEMORY_MB = 65536
HOST_DISK_GB = 10000
#: Placement microversion of the writes (consumer generations).
PLACEMENT_VERSION = '1.28'


def placement_request(base, method, path, body=None):
    """One placement request as the admin of ``noauth2``; the JSON answer.

    :raises RuntimeError: naming the request, for any status above 299.
    """
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path, data=data, method=method,
        headers={'X-Auth-Token': 'admin', 'Accept': 'application/json',
                 'Content-Type': 'application/json',
                 'OpenStack-API-Version': 'placement %s'
                                          % PLACEMENT_VERSION})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
    except urllib.error.HTTPError as exc:
        raise RuntimeError('%s %s: %s %s' % (method, path, exc.code,
                                             exc.read()[:500]))
    return json.loads(text) if text else None


def _cells(ctxt, objects, cells):
    """cell0 and cell1 as ``nova-manage cell_v2`` maps them; cell1's."""
    objects.CellMapping(
        ctxt, uuid=objects.CellMapping.CELL0_UUID, name='cell0',
        database_connection=cells['cell0'],
        transport_url='none:///').create()
    cell1 = objects.CellMapping(
        ctxt, uuid=str(uuid_lib.uuid4()), name='cell1',
        database_connection=cells['cell1'], transport_url='fake:/')
    cell1.create()
    return cell1


def _flavors(ctxt, objects):
    flavors = {}
    for protected, name, specs in ((True, 'ha.small', {'ha': 'true'}),
                                   (False, 'plain.small', {})):
        flavor = objects.Flavor(
            ctxt, name=name, flavorid=name, memory_mb=VM_MEMORY_MB,
            vcpus=VM_VCPUS, root_gb=VM_DISK_GB, ephemeral_gb=0, swap=0,
            rxtx_factor=1.0, is_public=True, disabled=False,
            extra_specs=specs)
        flavor.create()
        flavors[protected] = objects.Flavor.get_by_flavor_id(ctxt, name)
    return flavors


def _compute_node(cctxt, objects, host):
    node = objects.ComputeNode(
        context=cctxt, uuid=host['uuid'], host=host['hostname'],
        hypervisor_hostname=host['hostname'], vcpus=HOST_VCPUS,
        memory_mb=HOST_MEMORY_MB, local_gb=HOST_DISK_GB, vcpus_used=0,
        memory_mb_used=0, local_gb_used=0, hypervisor_type='xen',
        hypervisor_version=8002000, cpu_info='{}',
        free_ram_mb=HOST_MEMORY_MB, free_disk_gb=HOST_DISK_GB,
        current_workload=0, running_vms=0,
        disk_available_least=HOST_DISK_GB, host_ip=host['ip'],
        supported_hv_specs=[], metrics=None, pci_device_pools=None,
        extra_resources=None, stats={}, numa_topology=None,
        cpu_allocation_ratio=16.0, ram_allocation_ratio=1.0,
        disk_allocation_ratio=1.0)
    node.create()
    return node


def _provider(base, host):
    placement_request(base, 'POST', '/resource_providers',
                      {'uuid': host['uuid'], 'name': host['hostname']})
    placement_request(
        base, 'PUT', '/resource_providers/%s/inventories' % host['uuid'],
        {'resource_provider_generation': 0, 'inventories': {
            'VCPU': {'total': HOST_VCPUS, 'allocation_ratio': 16.0},
            'MEMORY_MB': {'total': HOST_MEMORY_MB},
            'DISK_GB': {'total': HOST_DISK_GB}}})


def _instance(cctxt, objects, spec, vm, flavor, node):
    instance = objects.Instance(
        context=cctxt, uuid=vm['uuid'], project_id=spec['project_id'],
        user_id=spec['user_id'], flavor=flavor,
        instance_type_id=flavor.id, memory_mb=flavor.memory_mb,
        vcpus=flavor.vcpus, root_gb=flavor.root_gb, ephemeral_gb=0,
        vm_state='active', power_state=1, task_state=None, image_ref='',
        availability_zone='nova', display_name=vm['name'],
        hostname=vm['name'], host=node.host, node=node.hypervisor_hostname,
        launched_on=node.host, compute_id=node.id,
        launched_at=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
    instance.create()


def populate(spec):
    """Create everything ``spec`` describes; see the module's docstring."""
    from nova import context as nova_context
    from nova import objects

    ctxt = nova_context.get_admin_context()
    cell = _cells(ctxt, objects, spec['cells'])
    flavors = _flavors(ctxt, objects)
    base = spec['placement']
    for pool in spec['pools']:
        nodes = {}
        with nova_context.target_cell(ctxt, cell) as cctxt:
            for host in pool['hosts']:
                nodes[host['hostname']] = _compute_node(cctxt, objects, host)
                _provider(base, host)
            for vm in pool['vms']:
                _instance(cctxt, objects, spec, vm, flavors[vm['protected']],
                          nodes[vm['host']])
        aggregate = objects.Aggregate(
            context=ctxt, name=pool['name'],
            metadata={'ha': 'true', 'xenapi_pool_url': pool['url']})
        aggregate.create()
        for hostname in nodes:
            aggregate.add_host(hostname)
        # All of a pool's consumers in one write.
        placement_request(base, 'POST', '/allocations', {
            vm['uuid']: {
                'allocations': {nodes[vm['host']].uuid: {'resources': {
                    'VCPU': VM_VCPUS, 'MEMORY_MB': VM_MEMORY_MB,
                    'DISK_GB': VM_DISK_GB}}},
                'project_id': spec['project_id'],
                'user_id': spec['user_id'],
                'consumer_generation': None}
            for vm in pool['vms']})


def main(argv):
    from nova import config as nova_config
    from nova import objects

    with open(argv[1]) as f:
        spec = json.load(f)
    nova_config.parse_args([argv[0]] + argv[2:])
    objects.register_all()
    populate(spec)
    print('populated %d pools' % len(spec['pools']))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
