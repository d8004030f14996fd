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

"""Options of the HAAggregateFilter scheduler filter."""

from oslo_config import cfg

ha_filter_group = cfg.OptGroup(
    'ha_filter',
    title='HA aggregate filter options',
    help="""
Options of ``nova_ha_ext.scheduler.filters.ha_aggregate.HAAggregateFilter``.

The filter sends flavors with the extra spec ``ha=true`` only to hosts in an
aggregate whose metadata says ``ha=true``, i.e. to XenServer pools whose HA
can restart the instance after a host failure.
""")

ha_filter_opts = [
    cfg.BoolOpt(
        'isolate_non_ha_instances',
        default=False,
        help="""
Keep instances whose flavor does not ask for HA off HA hosts.

When False (the default) a flavor without ``ha=true`` may land on any host,
HA or not. When True it only passes hosts that belong to no HA aggregate,
which reserves the capacity of HA pools for HA instances. Enable it when HA
pools are sized for their protected instances only; otherwise plain instances
may take the memory that XenServer needs to restart protected ones.
"""),
    cfg.BoolOpt(
        'require_pool_ha_ready',
        default=True,
        help="""
Refuse a flavor with ``ha=true`` on hosts whose XenServer pool is not
HA-ready, as reported by the driver mixin in the compute node stat
``xenapi_pool_ha_ready``: HA off, no failover plan, overcommitted, fewer than
three live hosts, or XenAPI unreachable ("unknown"). Hosts that report no
pool stats at all (their driver does not use the mixin) are judged by their
aggregates alone: the aggregate's ``ha=true`` is then the operator's word.

Also refuse such a flavor (unless ``ha:restart_priority=best-effort``) on
hosts whose pool's failover plan has no room for its memory
(``xenapi_pool_ha_headroom_mb``, less what this scheduler placed on the pool
since the pool last reported): XenServer would refuse to protect the VM
after Nova built it.
"""),
]


def register_opts(conf):
    conf.register_group(ha_filter_group)
    conf.register_opts(ha_filter_opts, group=ha_filter_group)


def list_opts():
    return {ha_filter_group: ha_filter_opts}
