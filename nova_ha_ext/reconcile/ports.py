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

"""The one place where the reconciler talks to Neutron: port bindings.

With an agent-based backend (Open vSwitch, Linux bridge), ML2 gives port
details only to the agent of the port's ``binding:host_id``: a VM that
XenServer HA restarted on another host has no network until its ports are
bound there. :class:`PortBinder` binds them the way Nova's own evacuate does
(``nova.network.neutron.API.setup_instance_network_on_host``): the binding
host becomes the instance's new host, ``device_owner`` follows its
availability zone, ``migrating_to`` leaves the binding profile, and no
binding is left on the old host. It uses Nova's Neutron client with the
``[neutron]`` service credentials, as nova-conductor does.

Round trips: reading the bindings of a pool's instances costs one
``GET /ports`` per :data:`CHUNK` instances with ports, whatever the number
of ports; binding costs one ``PUT /ports/{id}`` per port that moves (and a
binding delete where an old one is left), then one info cache refresh per
instance.
"""

from oslo_log import log as logging

from nova import exception
from nova.network import constants
from nova.network import neutron

from nova_ha_ext.reconcile import decide
from nova_ha_ext.xenapi import pool_state

LOG = logging.getLogger(__name__)

#: Instances per ``GET /ports?device_id=...``: 100 uuids keep the URL
#: under 5 KiB, well inside the usual 8-16 KiB limits of proxies.
CHUNK = 100

_FIELDS = ('id', 'device_id', 'device_owner', constants.BINDING_HOST_ID,
           constants.BINDING_PROFILE)

#: ``device_owner`` of the ports Nova owns: ``compute:<availability zone>``.
COMPUTE_OWNER = 'compute:'


class PortError(Exception):
    """Neutron did not answer or refused; the message says which port."""


class PortBinder:
    """Read and move the port bindings of instances.

    :param network_api: a ``nova.network.neutron.API``; a new one when None.
    """

    def __init__(self, network_api=None):
        self._api = network_api or neutron.API()

    def read(self, context, instance_uuids):
        """The port bindings of these instances, in bulk.

        :returns: instance uuid -> its :class:`~.decide.PortBinding` values,
            ordered by port id; instances without ports are missing.
        :raises PortError: Neutron could not be read.
        """
        uuids = sorted(set(instance_uuids))
        bindings = {}
        if not uuids:
            return bindings
        try:
            client = neutron.get_client(context, admin=True)
            for start in range(0, len(uuids), CHUNK):
                ports = client.list_ports(
                    device_id=uuids[start:start + CHUNK],
                    fields=list(_FIELDS))['ports']
                for port in ports:
                    bindings.setdefault(port['device_id'], []).append(
                        _binding(port))
        except Exception as exc:
            raise PortError("could not read the ports of %d instance(s) "
                            "from Neutron: %s" % (len(uuids), _answer(exc)))
        return {uuid: tuple(sorted(ports, key=lambda p: p.port_id))
                for uuid, ports in bindings.items()}

    def bind(self, context, instance_uuid, ports, host, availability_zone,
             providers=None):
        """Bind an instance's ports to ``host``; leave no binding elsewhere.

        :param ports: the :class:`~.decide.PortBinding` values to move.
        :param host: the nova-compute host the instance is on.
        :param availability_zone: that host's availability zone.
        :param providers: old resource provider uuid -> new one, for the
            ``allocation`` of ports with a resource request whose
            allocations moved to another provider tree.
        :returns: a list of :class:`PortError`, one per port that did not
            fully follow; empty when all did.
        """
        failures = []
        try:
            client = neutron.get_client(context, admin=True)
            extended = self._api.has_port_binding_extension(client=client)
        except Exception as exc:
            return [PortError("could not reach Neutron to bind port(s) %s: "
                              "%s" % (', '.join(p.port_id for p in ports),
                                      _answer(exc)))]
        for port in ports:
            body = _binding_update(port, host, availability_zone,
                                   providers or {})
            LOG.info("Binding port %(port)s to host %(host)s (was "
                     "%(old)s).", {'port': port.port_id, 'host': host,
                                   'old': port.host},
                     instance_uuid=instance_uuid)
            try:
                client.update_port(port.port_id, {'port': body})
            except Exception as exc:
                failures.append(PortError(
                    "Neutron refused to bind port %s to host %s: %s"
                    % (port.port_id, host, _answer(exc))))
                continue
            if extended and port.host and port.host != host:
                try:
                    self._api.delete_port_binding(context, port.port_id,
                                                  port.host)
                except exception.PortBindingDeletionFailed as exc:
                    failures.append(PortError(
                        "port %s is bound to host %s, but its binding on "
                        "host %s could not be deleted: %s"
                        % (port.port_id, host, port.host, exc)))
        return failures

    def refresh_info_cache(self, context, instance):
        """Rebuild the instance's network info cache from Neutron.

        The cached ports are kept; only their details are read again.

        :raises PortError: the cache could not be refreshed (it is left as
            it was).
        """
        try:
            self._api.get_instance_nw_info(context, instance)
        except Exception as exc:
            raise PortError("could not refresh the network info cache: %s"
                            % _answer(exc))


def _binding(port):
    return decide.PortBinding(
        port_id=port['id'], host=port.get(constants.BINDING_HOST_ID) or '',
        profile=pool_state.frozen_map(
            port.get(constants.BINDING_PROFILE) or {}),
        device_owner=port.get('device_owner') or '')


def _binding_update(port, host, availability_zone, providers):
    """The ``PUT /ports/{id}`` body binding ``port`` to ``host``."""
    profile = dict(port.profile)
    profile.pop(constants.MIGRATING_ATTR, None)
    allocation = profile.get(constants.ALLOCATION)
    if isinstance(allocation, str):
        profile[constants.ALLOCATION] = providers.get(allocation, allocation)
    elif isinstance(allocation, dict):
        profile[constants.ALLOCATION] = {
            group: providers.get(rp, rp) for group, rp in allocation.items()}
    body = {constants.BINDING_HOST_ID: host,
            constants.BINDING_PROFILE: profile}
    if port.device_owner.startswith(COMPUTE_OWNER) and availability_zone:
        # The host may be in another availability zone than the old one.
        body['device_owner'] = COMPUTE_OWNER + availability_zone
    return body


def _answer(exc):
    """Neutron's answer, on one line."""
    return ' '.join(str(exc).split()) or type(exc).__name__
