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

"""XenAPIPoolHAMixin: tell Nova about a XenServer pool's HA, protect VMs.

Mix it into any ``nova.virt.driver.ComputeDriver`` whose nodes are XenServer
hosts (the node's ``hypervisor_hostname`` is the host's ``hostname``), in
front of the driver class::

    class MyDriver(XenAPIPoolHAMixin, SomeXenServerDriver):
        pass

It adds, without changing what the wrapped driver reports:

* compute node stats ``xenapi_pool_uuid``, ``xenapi_pool_ha_enabled``,
  ``xenapi_pool_ha_plan_exists_for``, ``xenapi_pool_ha_overcommitted``,
  ``xenapi_pool_ha_ready`` and ``xenapi_pool_ha_not_ready_reasons``
  (never a stat named ``ha``: ComputeCapabilitiesFilter would match it
  against the ``ha`` extra spec);
* the pool's HA headroom for this host, ``xenapi_pool_ha_headroom_mb``: the
  biggest protected VM started here that XenServer would still accept
  without breaking its failover plan for
  ``ha_host_failures_to_tolerate`` failures (xapi's own planner,
  :mod:`nova_ha_ext.xenapi.failover_plan`), with
  ``xenapi_pool_ha_protected_vms``, the number of VMs in that plan, which
  tells the scheduler which of its own placements the figure includes;
* the placement trait ``CUSTOM_XENAPI_POOL_HA_READY`` on the node's
  provider while the pool is HA-ready, removed otherwise;
* protection: after spawn, and after a resize or its revert, the VM of an
  instance whose flavor asks for HA gets the flavor's restart policy
  (``ha:restart_priority``, ``restart`` by default, ``ha:order``,
  ``ha:start_delay``) and any other VM gets ``ha_restart_priority=""``.
  If protection fails, the operation fails: an HA instance is never left
  silently unprotected.

When XenAPI cannot be reached the stats say ``unknown``, the trait is
removed (fail safe: the scheduler stops sending HA instances here) and one
error is logged per resource-tracker period. The pool is read at most once
per period and per ``[xenapi] pool_state_cache_seconds`` (failures are
cached too), so the resource tracker never hammers the pool master.
"""

import threading
import time

from oslo_log import log as logging

from nova import exception

from nova_ha_ext import conf
from nova_ha_ext import ha_spec
from nova_ha_ext.reconcile import hostmap
from nova_ha_ext import urls
from nova_ha_ext.xenapi import client as xenapi_client
from nova_ha_ext.xenapi import exceptions as xenapi_exc
from nova_ha_ext.xenapi import pool_state
from nova_ha_ext.xenapi import storage

LOG = logging.getLogger(__name__)
CONF = conf.CONF

HA_READY_TRAIT = 'CUSTOM_XENAPI_POOL_HA_READY'
UNKNOWN = 'unknown'
MIB = 1024 * 1024


def pool_stats(ha_state, readiness, headroom=None, protected_vms=None):
    """The compute node stats describing a pool's HA state.

    :param ha_state: a :class:`pool_state.PoolHAState`, or None when the
        pool could not be read.
    :param headroom: bytes of the biggest protected VM this host can take
        (:meth:`pool_memory.PoolMemory.headroom`); None when unknown.
    :param protected_vms: how many VMs the pool's plan protects.
    """
    if ha_state is None:
        return {
            ha_spec.POOL_UUID_STAT: UNKNOWN,
            ha_spec.POOL_HA_ENABLED_STAT: UNKNOWN,
            ha_spec.POOL_PLAN_EXISTS_FOR_STAT: UNKNOWN,
            ha_spec.POOL_OVERCOMMITTED_STAT: UNKNOWN,
            ha_spec.POOL_READY_STAT: UNKNOWN,
            ha_spec.POOL_NOT_READY_REASONS_STAT: 'XenAPI unreachable',
            ha_spec.POOL_HEADROOM_STAT: UNKNOWN,
            ha_spec.POOL_PROTECTED_STAT: UNKNOWN,
        }
    return {
        ha_spec.POOL_UUID_STAT: ha_state.uuid,
        ha_spec.POOL_HA_ENABLED_STAT: str(ha_state.ha_enabled).lower(),
        ha_spec.POOL_PLAN_EXISTS_FOR_STAT: str(ha_state.ha_plan_exists_for),
        ha_spec.POOL_OVERCOMMITTED_STAT: str(
            ha_state.ha_overcommitted).lower(),
        ha_spec.POOL_READY_STAT: str(readiness.ready).lower(),
        ha_spec.POOL_NOT_READY_REASONS_STAT: '; '.join(readiness.reasons),
        ha_spec.POOL_HEADROOM_STAT: (
            UNKNOWN if headroom is None else str(headroom // MIB)),
        ha_spec.POOL_PROTECTED_STAT: (
            UNKNOWN if protected_vms is None else str(protected_vms)),
    }


class XenAPIPoolHAMixin:
    """Report a XenServer pool's HA state to Nova and protect HA VMs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pool_lock = threading.Lock()
        self._pool_client_obj = None
        # (monotonic time, PoolHAState or None, PoolMemory or None)
        self._pool_cache = None
        self._tied_cache = None  # (the PoolHAState read with, TiedVMs)
        # (the PoolMemory computed from, {host ref: headroom bytes})
        self._headroom_cache = None

    # XenAPI access

    def init_host(self, host):
        super().init_host(host)
        # The pool is this service's for its lifetime: read [xenapi] once.
        try:
            self._pool_client_obj = xenapi_client.PoolClient.from_conf(CONF)
        except xenapi_exc.PoolError as exc:
            LOG.error("XenServer pool HA reporting is disabled: %s", exc)
            return
        if self._pool_client_obj.url.startswith('http:'):
            LOG.warning("The XenServer pool of this host is reached over "
                        "plain http: the XenAPI password travels in clear "
                        "([xenapi] allow_plain_http = True).")

    def _pool_client(self):
        """The pool client configured by ``[xenapi]`` at init_host."""
        if self._pool_client_obj is None:
            url = CONF.xenapi.connection_url
            raise xenapi_exc.InvalidConfiguration(
                'of this host',
                urls.excerpt(urls.redact(url), quote=False) if url
                else '(unset)',
                "[xenapi] connection_url must be the https URL of a member "
                "of the pool")
        return self._pool_client_obj

    def _pool_ha_state(self, refresh=True):
        """The pool's HA state, cached; None if XenAPI cannot be read.

        :param refresh: read the pool again if the cached state is older
            than ``[xenapi] pool_state_cache_seconds``; when False, any
            cached state will do.
        """
        with self._pool_lock:
            now = time.monotonic()
            ttl = CONF.xenapi.pool_state_cache_seconds
            cached = self._pool_cache
            if cached is not None and (
                    not refresh or now - cached[0] < ttl):
                return cached[1]
            memory = None
            try:
                state, memory = self._pool_client().read_ha_memory()
            except xenapi_exc.PoolError as exc:
                LOG.error("Cannot read the HA state of the XenServer pool: "
                          "%s. Reporting it as unknown and removing trait %s "
                          "until the pool answers.", exc, HA_READY_TRAIT)
                state = None
            except Exception:
                # Fail safe: a stale "ready" would keep HA instances coming.
                LOG.exception("Unexpected error reading the HA state of the "
                              "XenServer pool. Reporting it as unknown and "
                              "removing trait %s.", HA_READY_TRAIT)
                state = None
            self._pool_cache = (now, state, memory)
            return state

    def _forget_pool_state(self):
        with self._pool_lock:
            self._pool_cache = None

    def _readiness(self, ha_state, nodename):
        """The pool's readiness, and this node's protected VMs HA cannot
        restart on another host: a failure of the node loses them.
        """
        if ha_state is None:
            return pool_state.Readiness(False, ('XenAPI unreachable',))
        readiness = ha_state.readiness(
            allow_two_host_pools=CONF.xenapi.allow_two_host_pools)
        here = [host.ref for host in ha_state.hosts
                if hostmap.nodename_for(host) == nodename]
        tied = tuple(vm.reason() for vm in self._tied_vms(ha_state)
                     if vm.resident_on in here)
        if not tied:
            return readiness
        return pool_state.Readiness(False, readiness.reasons + tied)

    def _tied_vms(self, ha_state):
        """The pool's protected VMs tied to a host by their storage.

        Read once per reading of the pool's HA state (so as often, and
        cached as long); none when the pool cannot say.
        """
        with self._pool_lock:
            cached = self._tied_cache
            if cached is not None and cached[0] is ha_state:
                return cached[1]
            try:
                tied = storage.read_tied_vms(
                    self._pool_client(),
                    [host.ref for host in ha_state.hosts])
            except xenapi_exc.PoolError as exc:
                LOG.warning("Cannot read the storage of the XenServer pool "
                            "to find protected VMs HA cannot restart: %s",
                            exc)
                tied = ()
            self._tied_cache = (ha_state, tied)
            return tied

    def _headroom(self, ha_state, nodename):
        """Bytes of the biggest protected VM this node's host can take.

        Computed once per reading of the pool and host; None when the pool
        could not be read.
        """
        with self._pool_lock:
            cached = self._pool_cache
            if ha_state is None or cached is None or cached[1] is not ha_state:
                return None
            memory = cached[2]
            if memory is None:
                return None
            if not ha_state.ha_enabled:
                return 0
            if (self._headroom_cache is None or
                    self._headroom_cache[0] is not memory):
                self._headroom_cache = (memory, {})
            known = self._headroom_cache[1]
            for host in ha_state.hosts:
                if hostmap.nodename_for(host) != nodename:
                    continue
                if host.ref not in known:
                    known[host.ref] = memory.headroom(
                        host.ref, ha_state.ha_host_failures_to_tolerate)
                return known[host.ref]
            return 0

    def _protected_vms(self, ha_state):
        with self._pool_lock:
            cached = self._pool_cache
            if (ha_state is None or cached is None or cached[1] is not ha_state
                    or cached[2] is None):
                return None
            return len(cached[2].protected)

    # Resource reporting

    def get_available_resource(self, nodename):
        resources = super().get_available_resource(nodename)
        if not resources:
            return resources
        ha_state = self._pool_ha_state()
        stats = dict(resources.get('stats') or {})
        stats.update(pool_stats(ha_state,
                                self._readiness(ha_state, nodename),
                                headroom=self._headroom(ha_state, nodename),
                                protected_vms=self._protected_vms(ha_state)))
        resources['stats'] = stats
        return resources

    def update_provider_tree(self, provider_tree, nodename, allocations=None):
        super().update_provider_tree(provider_tree, nodename,
                                     allocations=allocations)
        # The resource tracker calls this right after get_available_resource
        # (which read the pool), and on every claim: reuse that reading.
        ha_state = self._pool_ha_state(refresh=False)
        readiness = self._readiness(ha_state, nodename)
        traits = set(provider_tree.data(nodename).traits)
        if readiness.ready:
            traits.add(HA_READY_TRAIT)
        elif HA_READY_TRAIT in traits:
            LOG.info("Removing trait %s from %s: %s", HA_READY_TRAIT,
                     nodename, '; '.join(readiness.reasons))
            traits.discard(HA_READY_TRAIT)
        provider_tree.update_traits(nodename, traits)

    # Protection

    def _protect(self, instance):
        """Make the VM's HA restart policy match the instance's flavor.

        An HA flavor's policy (:func:`ha_spec.restart_policy`: priority,
        order, start delay) is set on the VM; any other flavor's VM gets
        priority ``""``.
        """
        policy = None
        try:
            policy = ha_spec.restart_policy(
                instance.flavor.extra_specs, flavor_name=instance.flavor.name)
        except ha_spec.InvalidRestartPolicy as exc:
            # Stored before validation existed: refuse to guess.
            raise exception.NovaException(
                "Could not set XenServer HA protection for instance %s: %s"
                % (instance.uuid, exc))
        priority = (policy.priority if policy is not None
                    else ha_spec.restart_priority(False))
        try:
            client = self._pool_client()
            vm_ref = client.find_vm(instance.uuid, instance.name)
            if vm_ref is None:
                raise exception.InstanceNotFound(instance_id=instance.uuid)
            if policy is None:
                client.set_restart_priority(vm_ref, priority)
            else:
                client.set_restart_policy(vm_ref, priority, policy.order,
                                          policy.start_delay)
        except (xenapi_exc.PoolError, exception.InstanceNotFound) as exc:
            LOG.error("Cannot set ha_restart_priority=%(prio)r on the VM of "
                      "this instance: %(exc)s",
                      {'prio': priority, 'exc': exc}, instance=instance)
            raise exception.NovaException(
                "Could not set XenServer HA protection "
                "(ha_restart_priority=%r) for instance %s: %s"
                % (priority, instance.uuid, exc))
        self._forget_pool_state()
        if policy is None:
            LOG.info("XenServer HA protection of the VM set to %r", priority,
                     instance=instance)
        else:
            LOG.info("XenServer HA protection of the VM set to %(prio)r, "
                     "order %(order)d, start delay %(delay)d s",
                     {'prio': priority, 'order': policy.order,
                      'delay': policy.start_delay}, instance=instance)

    def spawn(self, context, instance, image_meta, injected_files,
              admin_password, allocations, network_info=None,
              block_device_info=None, power_on=True, accel_info=None):
        super().spawn(context, instance, image_meta, injected_files,
                      admin_password, allocations, network_info=network_info,
                      block_device_info=block_device_info, power_on=power_on,
                      accel_info=accel_info)
        self._protect(instance)

    def finish_migration(self, context, migration, instance, disk_info,
                         network_info, image_meta, resize_instance,
                         allocations, block_device_info=None, power_on=True,
                         share_info=None):
        super().finish_migration(
            context, migration, instance, disk_info, network_info,
            image_meta, resize_instance, allocations,
            block_device_info=block_device_info, power_on=power_on,
            share_info=share_info)
        # instance.flavor is the new flavor here: a resize between an HA and
        # a plain flavor changes the protection with it.
        self._protect(instance)

    def finish_revert_migration(self, context, instance, network_info,
                                migration, block_device_info=None,
                                power_on=True, share_info=None):
        super().finish_revert_migration(
            context, instance, network_info, migration,
            block_device_info=block_device_info, power_on=power_on,
            share_info=share_info)
        # Back to the old flavor, and to its protection.
        self._protect(instance)
