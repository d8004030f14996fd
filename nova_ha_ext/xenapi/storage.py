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

"""Protected VMs that XenServer HA cannot restart: their disks' storage.

xapi starts a VM only on a host that sees every SR of its disks
(``xapi_vm_helpers.ml`` ``assert_can_see_SRs``). An SR that is not properly
shared (marked shared, with a plugged PBD on every host: ``agility.ml``
``is_sr_properly_shared``) ties the VMs with a disk on it to the hosts that
see it: when such a host dies, XenServer HA cannot restart them anywhere
else, protected or not. xapi lets a VM be protected all the same.

:func:`read_tied_vms` finds the protected VMs of a pool in that state, in a
fixed number of calls: two when every SR is properly shared (the common
case), five otherwise.
"""

import dataclasses
import typing as ty

from nova_ha_ext.xenapi import pool_state

PROTECTED_VMS_QUERY = ('field "ha_restart_priority" = "%s" or '
                       'field "ha_restart_priority" = "%s"'
                       % (pool_state.PROTECTED, pool_state.BEST_EFFORT))
DISK_VBDS_QUERY = 'field "empty" = "false"'


@dataclasses.dataclass(frozen=True)
class TiedVM:
    """A protected VM with a disk on an SR that not every host sees."""

    ref: str
    name_label: str
    #: The Nova instance the VM belongs to, or None.
    nova_uuid: ty.Optional[str]
    #: The host the VM runs on, or :data:`~.pool_state.NULL_REF`.
    resident_on: str
    #: The ``name_label`` of the SR (the first, when several).
    sr_name: str

    def reason(self):
        """Why XenServer HA cannot restart the VM, in the operator's words."""
        what = ('instance %s' % self.nova_uuid if self.nova_uuid
                else 'VM %s' % (self.name_label or self.ref))
        return ("%s is protected, but a disk of it is on SR %s, which not "
                "every host of the pool sees: XenServer HA cannot restart it "
                "on another host; move its disks to shared storage"
                % (what, self.sr_name))


def unshared_srs(srs, pbds, host_refs):
    """The SRs that are not properly shared (pure).

    :param srs: SR ref -> record; :param pbds: PBD ref -> record.
    :param host_refs: the refs of the pool's hosts.
    :returns: SR ref -> its ``name_label``.
    """
    plugged = {}
    for pbd in pbds.values():
        if pbd.get('currently_attached'):
            plugged.setdefault(pbd['SR'], set()).add(pbd['host'])
    return {ref: sr.get('name_label') or ref for ref, sr in srs.items()
            if not (sr.get('shared') and
                    set(host_refs) <= plugged.get(ref, set()))}


def read_tied_vms(client, host_refs):
    """The protected VMs of a pool that XenServer HA cannot restart.

    :param client: a :class:`~nova_ha_ext.xenapi.client.PoolClient`.
    :param host_refs: the refs of the pool's hosts (from its HA state).
    :returns: a tuple of :class:`TiedVM`, ordered by VM ref.
    :raises nova_ha_ext.xenapi.exceptions.PoolError: the pool did not
        answer.
    """
    unshared = unshared_srs(client.call('SR.get_all_records'),
                            client.call('PBD.get_all_records'), host_refs)
    if not unshared:
        return ()
    vdis = client.call('VDI.get_all_records_where', ' or '.join(
        'field "SR" = "%s"' % ref for ref in sorted(unshared)))
    if not vdis:
        return ()
    sr_of_vm = {}
    for vbd in client.call('VBD.get_all_records_where',
                           DISK_VBDS_QUERY).values():
        if vbd['VDI'] in vdis:
            sr_of_vm.setdefault(vbd['VM'], vdis[vbd['VDI']]['SR'])
    if not sr_of_vm:
        return ()
    protected = client.call('VM.get_all_records_where', PROTECTED_VMS_QUERY)
    return tuple(
        TiedVM(ref=ref, name_label=vm.get('name_label', ''),
               nova_uuid=(vm.get('other_config') or {}).get(
                   pool_state.NOVA_UUID_KEY) or None,
               resident_on=vm.get('resident_on') or pool_state.NULL_REF,
               sr_name=unshared[sr_of_vm[ref]])
        for ref, vm in sorted(protected.items()) if ref in sr_of_vm)
