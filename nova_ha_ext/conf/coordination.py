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

"""Options of the coordination of several reconciler workers (tooz)."""

from oslo_config import cfg

coordination_group = cfg.OptGroup(
    'coordination',
    title='Coordination of reconciler workers',
    help="""
Several nova-ha-reconciler workers can share the pools: they join a group in
a tooz backend, the pools are spread over the live members with a consistent
hash ring, and each pool is reconciled by exactly one worker. When a worker
joins or leaves, the pools are rebalanced within ``heartbeat_interval``
seconds; when one dies, its pools move to the others within
``member_timeout`` plus ``heartbeat_interval`` seconds. A per-pool lock in
the backend keeps two workers from acting on a pool at once meanwhile.

Without ``backend_url`` exactly one worker must run: it reconciles every
pool. A second worker on the same host is refused at start-up (through a
lock file under ``[oslo_concurrency] lock_path``); one on another host
cannot be detected.
""")

coordination_opts = [
    cfg.StrOpt(
        'backend_url',
        secret=True,
        help="""
URL of the tooz backend the workers coordinate through, for example
``etcd3+http://etcd.example.com:2379``, ``redis://:PASSWORD@redis:6379``,
``zookeeper://zk1:2181`` or ``file:///var/lib/nova-ha-ext/coordination``
(the last only for workers on one host). The backend must track group
membership; the lock-only tooz drivers (mysql, postgresql, ipc, kubernetes)
are refused. Do not set the member timeout in the URL (``timeout``,
``membership_timeout``, ``lock_timeout``): ``member_timeout`` below sets it.
The URL may hold a password; it is never logged. Unset (the default): a
single worker, which reconciles every pool.
"""),
    cfg.StrOpt(
        'group',
        default='nova-ha-reconciler',
        help="""
Name of the tooz group the workers join. Workers that share the pools of one
Nova deployment must use the same group; two deployments sharing a backend
need different groups.
"""),
    cfg.StrOpt(
        'member_id',
        sample_default='<hostname>-<pid>-<random>',
        help="""
Name of this worker in the group, shown by ``nova-ha-manage status`` as the
owner of its pools. Every worker needs its own. The default, the host name,
the process id and a random suffix, is unique even for containers that share
a host name and a process id.
"""),
    cfg.IntOpt(
        'member_timeout',
        default=10,
        min=1,
        help="""
Seconds after which a worker that stopped heartbeating (it crashed, hung or
lost the backend) counts as gone: the other workers take its pools at their
next heartbeat, so a dead worker's pools go unreconciled for at most this
plus ``heartbeat_interval`` seconds. A worker that leaves cleanly hands its
pools over within ``heartbeat_interval``. A worker that cannot heartbeat
stops acting on its pools after this minus twice ``heartbeat_interval``
seconds, before the others take them over. Passed to the backend as the
option it understands (``timeout`` for file and zookeeper,
``membership_timeout`` and ``lock_timeout`` for redis, etcd3 and memcached,
where a dead worker's pool locks expire after it too). Use the same value on
every worker and on the hosts that run ``nova-ha-manage``.
"""),
    cfg.FloatOpt(
        'heartbeat_interval',
        default=1.0,
        min=0.1,
        help="""
Seconds between two heartbeats of a worker, each of which also reads the
group's members so that pools are rebalanced as soon as a worker joins or
leaves. At most a third of ``member_timeout``.
"""),
]


def register_opts(conf):
    conf.register_group(coordination_group)
    conf.register_opts(coordination_opts, group=coordination_group)


def list_opts():
    return {coordination_group: coordination_opts}


def validate(conf):
    """Check what single options cannot: the URL and the two timings.

    The rules are those of :mod:`nova_ha_ext.reconcile.backend`, which the
    workers apply too; it loads tooz only to check a configured backend.

    :raises oslo_config.cfg.Error: naming the option and what to do.
    """
    from nova_ha_ext.reconcile import backend
    group = conf.coordination
    problem = backend.heartbeat_problem(group.heartbeat_interval,
                                        group.member_timeout)
    if problem:
        raise cfg.Error("invalid value for [coordination] heartbeat_interval: "
                        "%s" % problem)
    if group.backend_url:
        problem = backend.backend_url_problem(group.backend_url)
        if problem:
            raise cfg.Error("invalid value for [coordination] backend_url: %s"
                            % problem)
