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

"""Options of the XenAPI connection to XenServer / XCP-ng pools."""

from oslo_config import cfg

xenapi_group = cfg.OptGroup(
    'xenapi',
    title='XenAPI connection options',
    help="""
How nova-ha-ext talks to XenServer / XCP-ng pools through XenAPI.

nova-compute (the driver mixin) uses ``connection_url`` to reach the pool of
the host it manages. The reconciler and nova-ha-manage reach every HA pool
through the URL in its aggregate's ``xenapi_pool_url`` metadata and log in
with the credentials below.
""")

xenapi_opts = [
    cfg.URIOpt(
        'connection_url',
        schemes=['http', 'https'],
        help="""
URL of a member of this compute host's XenServer pool, for example
``https://xs-a1.example.com``. Any member works: the client follows
``HOST_IS_SLAVE`` to the pool master and fails over to a new master.
Leave unset on hosts that do not run the driver mixin.
"""),
    cfg.StrOpt(
        'connection_username',
        default='root',
        help='XenAPI user name (a pool-admin or pool-operator role).'),
    cfg.StrOpt(
        'connection_password',
        secret=True,
        help='XenAPI password. Never logged.'),
    cfg.StrOpt(
        'ca_file',
        help="""
PEM file with the CA certificate(s) that signed the pools' TLS certificates.
When unset, the system's trusted CAs are used. Certificates are always
verified unless ``insecure`` is True.
"""),
    cfg.BoolOpt(
        'insecure',
        default=False,
        help="""
Do not verify the pools' TLS certificates. Only for test labs: anyone on the
network path can then read the XenAPI password.
"""),
    cfg.FloatOpt(
        'connect_timeout',
        default=10.0,
        min=0.1,
        help='Seconds to wait for a TCP (and TLS) connection to a pool host.'),
    cfg.FloatOpt(
        'read_timeout',
        default=60.0,
        min=0.1,
        help="""
Seconds to wait for the answer to one XenAPI call. A pool whose master stops
answering is declared unreachable after this long, and the client tries the
other members it knows.
"""),
    cfg.IntOpt(
        'pool_state_cache_seconds',
        default=30,
        min=0,
        help="""
How long nova-compute reuses a pool's HA state before reading it again.
Every compute host of a pool reports the same state; caching keeps the
resource tracker's periodic task from hammering the pool master.
"""),
    cfg.BoolOpt(
        'allow_two_host_pools',
        default=False,
        help="""
Consider a pool with only two live hosts HA-ready. XenServer HA fences one of
two hosts semi-deterministically on a network partition, so by default a pool
needs at least three live hosts to be ready.
"""),
]


def register_opts(conf):
    conf.register_group(xenapi_group)
    conf.register_opts(xenapi_opts, group=xenapi_group)


def list_opts():
    return {xenapi_group: xenapi_opts}
