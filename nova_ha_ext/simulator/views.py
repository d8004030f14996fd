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

"""What the control API shows of a pool: plain, JSON-ready dicts.

Each function takes the pool's lock and reads; none changes anything.
"""

from nova_ha_ext.simulator import datamodel

MIB = 1024 * 1024


def vm(pool, obj):
    """One VM as a dict (the pool's lock must be held)."""
    host = None
    if obj['resident_on'] != datamodel.NULL_REF:
        host = pool.state_of(obj['resident_on']).hostname
    other_config = dict(obj['other_config'])
    return {
        'ref': obj.ref, 'uuid': obj.uuid, 'name_label': obj['name_label'],
        'power_state': obj['power_state'], 'host': host,
        'memory_mb': obj['memory_static_max'] // MIB,
        'vcpus': obj['VCPUs_max'],
        'ha_restart_priority': obj['ha_restart_priority'],
        'ha_always_run': obj['ha_always_run'],
        'order': obj['order'], 'start_delay': obj['start_delay'],
        'other_config': other_config,
        'nova_uuid': other_config.get('nova_uuid'),
        'is_control_domain': obj['is_control_domain'],
    }


def vms(pool, include_control_domains=False):
    with pool.lock:
        return [vm(pool, obj) for obj in pool.db.all('VM')
                if include_control_domains or not obj['is_control_domain']]


def hosts(pool):
    with pool.lock:
        vm_table = pool.db.tables['VM']
        master = pool.pool_obj['master']
        result = []
        for state in pool.hosts.values():
            host = pool.host_obj(state)
            metrics = pool.metrics(state)
            result.append({
                'ref': state.ref, 'uuid': host.uuid,
                'hostname': state.hostname, 'address': state.address,
                'state': state.mode, 'live': metrics['live'],
                'enabled': host['enabled'],
                'master': state.ref == master,
                'memory_total_mb': metrics['memory_total'] // MIB,
                'memory_free_mb': pool.free(state) // MIB,
                'vms': sorted(vm_table[r]['name_label']
                              for r in host['resident_VMs']
                              if not vm_table[r]['is_control_domain']),
            })
        return result


def ha(pool):
    with pool.lock:
        obj = pool.pool_obj
        vm_table = pool.db.tables['VM']
        return {
            'enabled': obj['ha_enabled'],
            'host_failures_to_tolerate': obj['ha_host_failures_to_tolerate'],
            'plan_exists_for': obj['ha_plan_exists_for'],
            'overcommitted': obj['ha_overcommitted'],
            'allow_overcommit': obj['ha_allow_overcommit'],
            'statefiles': list(obj['ha_statefiles']),
            'master': pool.master.hostname,
            'electing': pool.failover.electing,
            'pending_restarts': sorted(
                vm_table[r]['name_label'] for r in pool.pending_restarts()),
        }


def vm_groups(pool):
    """Every VM group: its placement and its VMs (names, nova_uuids)."""
    with pool.lock:
        vm_table = pool.db.tables['VM']
        result = []
        for obj in pool.db.all('VM_group'):
            vms = [vm_table[r] for r in obj['VMs'] if r in vm_table]
            result.append({
                'ref': obj.ref, 'uuid': obj.uuid,
                'name_label': obj['name_label'],
                'name_description': obj['name_description'],
                'placement': obj['placement'],
                'vms': sorted(vm['name_label'] for vm in vms),
                'nova_uuids': sorted(vm['other_config']['nova_uuid']
                                     for vm in vms
                                     if 'nova_uuid' in vm['other_config']),
            })
        return result


def sessions(pool):
    with pool.lock:
        return pool.sessions.infos()
