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

"""nova-ha-reconciler: keep Nova in step with XenServer HA.

::

    nova-ha-reconciler --config-file /etc/nova/nova.conf \\
        --config-file /etc/nova/nova-ha-ext.conf

It needs what nova-conductor needs from nova.conf (``[api_database]`` and
``[database]`` connections, ``[placement]`` credentials) plus the
``[xenapi]`` credentials of the pools. It runs a full pass every
``[ha_reconciler] interval`` seconds and, with ``watch_events``, reacts to
XenAPI events within seconds. SIGTERM stops it gracefully: the pass under
way finishes, then the watchers and sessions are closed, and the worker
leaves its coordination group so that the others take its pools at once.

Several workers share the pools with ``[coordination] backend_url`` (a tooz
URL). Without one, a second worker on the same host refuses to start (exit
code 2), and a warning says that more workers need a backend.
"""

import sys

from oslo_config import cfg

from nova_ha_ext import cmd

DESCRIPTION = (
    "Keep Nova in step with XenServer HA. When XenServer HA restarts a "
    "protected VM on another host of its pool, move the instance's host, "
    "node, placement allocations, port bindings and volume attachments to "
    "where the VM runs, and record an ha-relocate instance action. The "
    "pools are the aggregates with a xenapi_pool_url metadata "
    "([ha_reconciler] pool_url_metadata_key). Give it nova.conf "
    "([api_database], [database], [placement], [neutron], [cinder], "
    "[service_user]) and nova-ha-ext.conf ([xenapi] credentials), e.g. "
    "--config-file /etc/nova/nova.conf --config-file "
    "/etc/nova/nova-ha-ext.conf.")


def main(argv=None):
    # The reconciler does blocking I/O in native threads; it never needs
    # eventlet, so pick oslo.service's threading backend before anything
    # imports it.
    from oslo_service import backend
    backend.init_backend(backend.BackendType.THREADING)

    from nova import context as nova_context
    from nova import objects
    from oslo_log import log as logging
    from oslo_service import service

    from nova_ha_ext import conf as ha_conf
    from nova_ha_ext.reconcile import coordination
    from nova_ha_ext.reconcile import service as ha_service
    from nova_ha_ext.reconcile import volumes

    try:
        cmd.parse_args(sys.argv if argv is None else argv,
                       description=DESCRIPTION)
        ha_conf.check(ha_conf.CONF)
        cmd.check_database(ha_conf.CONF)
    except cfg.Error as exc:
        sys.stderr.write('nova-ha-reconciler: %s\n' % exc)
        return 2
    logging.setup(ha_conf.CONF, 'nova-ha-reconciler')
    objects.register_all()
    log = logging.getLogger(__name__)
    log.info("Starting nova-ha-reconciler: full pass every %d s, event "
             "watching %s", ha_conf.CONF.ha_reconciler.interval,
             'on' if ha_conf.CONF.ha_reconciler.watch_events else 'off')
    problem = volumes.service_token_problem(ha_conf.CONF)
    if problem:
        log.warning(problem)
    exporter = None
    if ha_conf.CONF.ha_reconciler.metrics_listen:
        # Bound here, so that an address in use stops the command; served
        # from the service's process.
        from nova_ha_ext.metrics import exporter as metrics_exporter
        try:
            exporter = metrics_exporter.Exporter(ha_conf.CONF)
        except metrics_exporter.CannotListen as exc:
            log.error("Not starting: %s", exc)
            sys.stderr.write('nova-ha-reconciler: %s\n' % exc)
            return 2
    server = ha_service.ReconcilerService(ha_conf.CONF,
                                          nova_context.get_admin_context,
                                          exporter=exporter)
    coordinator = server.runner.coordinator
    if not coordinator.coordinated:
        try:
            # A second worker without a backend stops the command here
            # with its reason. The service's process, which oslo.service
            # forks from this one, inherits the lock file.
            coordinator.start(wait=False)
        except coordination.CoordinationError as exc:
            log.error("Not starting: %s", exc)
            sys.stderr.write('nova-ha-reconciler: %s\n' % exc)
            return 2
    # With a backend the service's process joins the group when it starts:
    # the heartbeat thread must run where the pools are reconciled, and a
    # thread started here would stay behind in this process when
    # oslo.service forks. ha_conf.check() has checked the backend URL.
    launcher = service.launch(ha_conf.CONF, server, restart_method='mutate')
    launcher.wait()
    return 0
