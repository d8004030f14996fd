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

"""Options of the reconciler service (nova-ha-reconciler, nova-ha-manage)."""

from oslo_config import cfg

reconciler_group = cfg.OptGroup(
    'ha_reconciler',
    title='HA reconciler options',
    help="""
The reconciler makes Nova follow XenServer HA: after XenServer restarts a
protected VM on another host of its pool, it moves the instance's host, node
and placement allocations there and records an ``ha-relocate`` instance
action. It never deletes, stops or duplicates anything.
""")

reconciler_opts = [
    cfg.IntOpt(
        'interval',
        default=60,
        min=1,
        help="""
Seconds between two full passes over every pool. Event watching (below)
reacts within seconds; the periodic pass catches anything an event missed.
"""),
    cfg.BoolOpt(
        'watch_events',
        default=True,
        help="""
Watch each pool with XenAPI ``event.from`` and run a pass of that pool as
soon as a VM changes host or power state, or a host's liveness changes.
"""),
    cfg.FloatOpt(
        'event_timeout',
        default=30.0,
        min=1.0,
        help="""
Seconds one ``event.from`` long-poll waits for news before asking again.
"""),
    cfg.FloatOpt(
        'event_settle_seconds',
        default=0.2,
        min=0.0,
        help="""
After an event, wait this long for related events (a host failure restarts
many VMs) so that one pass handles them together.
"""),
    cfg.FloatOpt(
        'reconnect_max_backoff',
        default=60.0,
        min=1.0,
        help="""
Longest wait, in seconds, between attempts to reach a pool that does not
answer. The wait doubles from one second up to this value.
"""),
    cfg.IntOpt(
        'parallel_passes',
        default=4,
        min=1,
        help="""
How many pools a reconciler worker passes over at the same time. Each pass
holds one thread while it reads its pool and writes to Nova; passes of one
pool never overlap. A pool that answers slowly, or not at all, holds its
thread for up to ``[xenapi] call_timeout`` per call, and the other pools'
passes carry on in the remaining threads.

Possible values:

* a number of threads, at least 1. One runs every pass after the other, as
  a slow pool then delays every other pool's pass. More than the number of
  pools a worker owns gains nothing.

Related options:

* ``[xenapi] call_timeout``
"""),
    cfg.BoolOpt(
        'manage_compute_service',
        default=True,
        help="""
Disable the nova-compute service of a XenServer host that its pool declares
dead (``host_metrics.live`` false), as ``openstack compute service set
--disable`` does, so that nothing is scheduled there while it is down; and
enable it again once the host is live. The ``disabled_reason`` starts with
``nova-ha-ext:``: only such a disable is undone, never one an operator
made, and a service an operator enables while its host is down is left
enabled.

Possible values:

* True: follow the hosts' liveness.
* False: leave compute services alone; the scheduler sees a dead host's
  service as down only after ``[DEFAULT] service_down_time``.

Related options:

* ``[DEFAULT] service_down_time``
"""),
    cfg.StrOpt(
        'pool_url_metadata_key',
        default='xenapi_pool_url',
        help="""
Aggregate metadata key holding the URL of a member of the XenServer pool the
aggregate stands for. The reconciler reconciles every aggregate that has it,
logging in with the ``[xenapi]`` credentials.
"""),
    cfg.StrOpt(
        'metrics_listen',
        help="""
Where each reconciler worker serves Prometheus metrics (``GET /metrics``):
per pool whether it is HA-ready, its hosts, the instances out of sync,
skipped or waiting for a restart, and its owner; relocations, skips and
passes; pass and relocation times; this worker's pools and coordination
health. Unset (the default): no metrics, no port opened.

Possible values:

* ``PORT``: listen on 127.0.0.1 only;
* ``HOST:PORT`` or ``[IPv6]:PORT``, e.g. ``0.0.0.0:9478`` to listen on
  every interface. The metrics name pools and workers but hold no secret;
  expose them only to your Prometheus.

Related options:

* ``[coordination] member_id``: the ``worker`` label.
"""),
    cfg.IntOpt(
        'xenserver_message_max_age',
        default=3600,
        min=0,
        help="""
Seconds. The reconciler re-publishes each of XenServer's HA alerts (the
pool's ``HA_*`` messages) once, as a log line naming the pool and as an
``ha_pool.xenserver_message`` notification. When an event watcher starts,
or starts again after an outage, XenServer lists every message it keeps:
those older than this are taken as history and not re-published.

Possible values:

* 0 re-publishes only alerts that arrive while a watcher runs.
* A larger value re-publishes, after a worker restarts, the alerts of that
  many seconds before it again; each is re-published once per worker.

Related options:

* ``watch_events``: alerts reach the reconciler through the event watchers.
* ``[notifications] notification_format``: ``versioned`` or ``both`` to
  send notifications at all.
"""),
]


def register_opts(conf):
    conf.register_group(reconciler_group)
    conf.register_opts(reconciler_opts, group=reconciler_group)


def list_opts():
    return {reconciler_group: reconciler_opts}


def validate(conf):
    """Check that ``metrics_listen`` names an address and a port.

    :raises oslo_config.cfg.Error: naming the option and a good value.
    """
    value = conf.ha_reconciler.metrics_listen
    if value is None:
        return
    from nova_ha_ext.metrics import listen
    try:
        listen.parse(value)
    except listen.BadListen as exc:
        raise cfg.Error("invalid value for [ha_reconciler] metrics_listen: "
                        "%s" % exc)
