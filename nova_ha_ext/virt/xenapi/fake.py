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

"""A small XenAPI-backed compute driver, for tests and the demo.

:class:`XenAPIFakeDriver` is Nova's ``FakeDriver`` whose guests are real
VMs in a XenServer pool, reached through XenAPI (in practice the pool
simulator of nova-ha-ext), combined with :class:`XenAPIPoolHAMixin`:

* ``name_label`` is ``instance.name`` and ``other_config["nova_uuid"]`` the
  instance uuid, the convention of Nova's former XenAPI driver;
* VMs are started with ``VM.start_on`` on the XenServer host behind this
  compute node (the host whose ``hostname`` is the node name);
* the pool's shared storage makes a cold migration a stop and a
  ``start_on`` elsewhere of the same VM;
* power state comes from the pool, wherever the VM runs, as a real driver
  on a pool member would see it;
* the Cinder connector is the XenServer host's (hostname, address, iSCSI
  IQN), one per host, as Nova's former XenAPI driver made it.

Nova loads ``[DEFAULT] compute_driver`` only from its own ``nova.virt``
package; :func:`register_with_nova` makes this module loadable there, so
that ``compute_driver = xenapi_ha_fake.XenAPIFakeDriver`` works, with
``[xenapi] connection_url`` pointing at the pool.
"""

import sys

from oslo_log import log as logging

from nova.compute import power_state
from nova.compute import task_states
from nova import exception
from nova.virt import fake
from nova.virt import hardware

from nova_ha_ext.virt.xenapi import mixin
from nova_ha_ext.xenapi import pool_state

LOG = logging.getLogger(__name__)

MiB = 1024 * 1024

#: The name under ``nova.virt`` that :func:`register_with_nova` gives this
#: module, and the matching ``compute_driver`` value.
NOVA_VIRT_NAME = 'xenapi_ha_fake'
COMPUTE_DRIVER = NOVA_VIRT_NAME + '.XenAPIFakeDriver'


def register_with_nova():
    """Make ``compute_driver = xenapi_ha_fake.XenAPIFakeDriver`` loadable.

    :returns: the ``compute_driver`` value to use.
    """
    sys.modules['nova.virt.' + NOVA_VIRT_NAME] = sys.modules[__name__]
    return COMPUTE_DRIVER


_POWER_STATES = {
    pool_state.RUNNING: power_state.RUNNING,
    pool_state.PAUSED: power_state.PAUSED,
    pool_state.SUSPENDED: power_state.SUSPENDED,
    pool_state.HALTED: power_state.SHUTDOWN,
}


def vm_record(name_label, memory_mb, vcpus, nova_uuid=None):
    """A ``VM.create`` record, as Nova's former XenAPI driver built it.

    :param nova_uuid: the instance the VM belongs to; None for a VM that is
        not Nova's.
    """
    memory = str(memory_mb * MiB)
    vcpus = str(vcpus)
    other_config = {}
    if nova_uuid:
        other_config[pool_state.NOVA_UUID_KEY] = nova_uuid
    return {
        'name_label': name_label,
        'name_description': '',
        'user_version': '0',
        'is_a_template': False,
        'affinity': pool_state.NULL_REF,
        'memory_static_max': memory,
        'memory_dynamic_max': memory,
        'memory_dynamic_min': memory,
        'memory_static_min': '0',
        'memory_target': memory,
        'VCPUs_params': {},
        'VCPUs_max': vcpus,
        'VCPUs_at_startup': vcpus,
        'actions_after_shutdown': 'destroy',
        'actions_after_reboot': 'restart',
        'actions_after_crash': 'destroy',
        'PV_bootloader': '',
        'PV_kernel': '',
        'PV_ramdisk': '',
        'PV_args': '',
        'PV_bootloader_args': '',
        'PV_legacy_args': '',
        'HVM_boot_policy': 'BIOS order',
        'HVM_boot_params': {'order': 'dc'},
        'platform': {'acpi': 'true', 'apic': 'true', 'pae': 'true'},
        'PCI_bus': '',
        'other_config': other_config,
        'recommendations': '',
        'ha_restart_priority': pool_state.UNPROTECTED,
        'tags': [],
    }


class _XenAPIGuests(fake.FakeDriver):
    """FakeDriver bookkeeping plus real VMs in the pool."""

    vcpus = 10
    memory_mb = 8192
    local_gb = 1028

    def _xen_host(self):
        """This compute node's XenServer host (a ``PoolHost``)."""
        nodename = self._nodes[0]
        for host in self._pool_client().read_ha_state().hosts:
            if host.hostname == nodename:
                return host
        raise exception.ComputeHostNotFound(host=nodename)

    def _xen_host_ref(self):
        return self._xen_host().ref

    def get_volume_connector(self, instance):
        # One connector per XenServer host, built as Nova's XenAPI driver
        # did and as the reconciler builds it for the host a VM restarted on.
        return self._xen_host().volume_connector()

    def _vm_ref(self, instance):
        ref = self._pool_client().find_vm(instance.uuid, instance.name)
        if ref is None:
            raise exception.InstanceNotFound(instance_id=instance.uuid)
        return ref

    def _vm_call(self, method, *args):
        return self._pool_client().call(method, *args)

    def _start_here(self, vm_ref):
        self._vm_call('VM.start_on', vm_ref, self._xen_host_ref(), False,
                      False)

    def _stop(self, vm_ref):
        if self._vm_call('VM.get_power_state', vm_ref) != 'Halted':
            self._vm_call('VM.hard_shutdown', vm_ref)

    def spawn(self, context, instance, image_meta, injected_files,
              admin_password, allocations, network_info=None,
              block_device_info=None, power_on=True, accel_info=None):
        super().spawn(context, instance, image_meta, injected_files,
                      admin_password, allocations, network_info=network_info,
                      block_device_info=block_device_info, power_on=power_on,
                      accel_info=accel_info)
        vm_ref = self._vm_call('VM.create', vm_record(
            instance.name, instance.flavor.memory_mb, instance.flavor.vcpus,
            nova_uuid=instance.uuid))
        if power_on:
            self._start_here(vm_ref)

    def destroy(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, destroy_secrets=True):
        ref = self._pool_client().find_vm(instance.uuid, instance.name)
        if ref is not None:
            self._stop(ref)
            # Reverting a resize destroys the guest on the destination; with
            # shared storage that is the one VM, which the source restarts.
            if instance.task_state != task_states.RESIZE_REVERTING:
                self._vm_call('VM.destroy', ref)
        super().destroy(context, instance, network_info,
                        block_device_info=block_device_info,
                        destroy_disks=destroy_disks,
                        destroy_secrets=destroy_secrets)

    def power_off(self, instance, timeout=0, retry_interval=0):
        self._stop(self._vm_ref(instance))

    def power_on(self, context, instance, network_info,
                 block_device_info=None, accel_info=None, share_info=None):
        self._start_here(self._vm_ref(instance))

    def reboot(self, context, instance, network_info, reboot_type,
               block_device_info=None, bad_volumes_callback=None,
               accel_info=None, share_info=None):
        vm_ref = self._vm_ref(instance)
        self._stop(vm_ref)
        self._start_here(vm_ref)

    def get_info(self, instance, use_cache=True):
        vm_ref = self._vm_ref(instance)
        state = self._vm_call('VM.get_power_state', vm_ref)
        return hardware.InstanceInfo(
            state=_POWER_STATES.get(state, power_state.NOSTATE))

    def instance_exists(self, instance):
        return self._pool_client().find_vm(
            instance.uuid, instance.name) is not None

    def _resident_vms(self):
        here = self._xen_host_ref()
        return [vm for vm in self._pool_client().read_pool().vms
                if vm.resident_on == here and vm.nova_uuid]

    def list_instances(self):
        return [vm.name_label for vm in self._resident_vms()]

    def list_instance_uuids(self):
        return [vm.nova_uuid for vm in self._resident_vms()]

    # Shared storage: a cold migration stops the VM on the source host and
    # starts the same VM on the destination; nothing is copied or deleted.

    def migrate_disk_and_power_off(self, context, instance, dest,
                                   flavor, network_info,
                                   block_device_info=None,
                                   timeout=0, retry_interval=0):
        self._stop(self._vm_ref(instance))
        return ''

    def finish_migration(self, context, migration, instance, disk_info,
                         network_info, image_meta, resize_instance,
                         allocations, block_device_info=None, power_on=True,
                         share_info=None):
        self.instances[instance.uuid] = fake.FakeInstance(
            instance.name, power_state.RUNNING if power_on
            else power_state.SHUTDOWN, instance.uuid)
        if power_on:
            self._start_here(self._vm_ref(instance))

    def confirm_migration(self, context, migration, instance, network_info):
        self.instances.pop(instance.uuid, None)

    def finish_revert_migration(self, context, instance, network_info,
                                migration, block_device_info=None,
                                power_on=True, share_info=None):
        super().finish_revert_migration(
            context, instance, network_info, migration,
            block_device_info=block_device_info, power_on=power_on,
            share_info=share_info)
        vm_ref = self._vm_ref(instance)
        self._stop(vm_ref)
        if power_on:
            self._start_here(vm_ref)


class XenAPIFakeDriver(mixin.XenAPIPoolHAMixin, _XenAPIGuests):
    """The fake driver with real pool VMs, reporting and protecting HA."""
