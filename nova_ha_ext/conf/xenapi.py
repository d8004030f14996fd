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
    cfg.StrOpt(
        'connection_url',
        secret=True,
        help="""
URL of a member of this compute host's XenServer pool, for example
``https://xs-a1.example.com``. Any member works: the client follows
``HOST_IS_SLAVE`` to the pool master and fails over to a new master.
Leave unset on hosts that do not run the driver mixin.

Possible values:

* ``https://host[:port]``, or several members' URLs separated by commas
* ``http://host[:port]`` only with ``allow_plain_http``
* a URL holding a user name or password is refused: set
  ``connection_username`` and ``connection_password`` instead

Related options:

* ``allow_plain_http``
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
verified unless ``insecure`` is True. nova-ha-reconciler and nova-ha-manage
refuse to start when the file cannot be read or holds no CA certificate.

Related options:

* ``insecure``
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
Seconds to wait for data from a pool host, at any point of a call. A pool
whose master stops answering is declared unreachable after this long, and the
client tries the other members it knows.

Related options:

* ``call_timeout``, which bounds the whole call
"""),
    cfg.FloatOpt(
        'call_timeout',
        default=120.0,
        min=1.0,
        help="""
Seconds one XenAPI call may take in all: connecting, logging in, following
the pool master, trying other members and reading the whole answer. When it
runs out the pool is reported unreachable for this pass. ``read_timeout``
alone bounds each wait for data, so a host that sends a byte now and then
would hold a call for ever without this; and a master that accepts
connections but never answers costs ``read_timeout`` per member tried.

The event watchers' long polls get ``[ha_reconciler] event_timeout`` on top
of it.

Possible values:

* seconds, at least 1; more than the time a full read of the largest pool
  takes (about 3 seconds for 10,000 VMs)

Related options:

* ``read_timeout``, ``connect_timeout``
* ``[ha_reconciler] event_timeout``
"""),
    cfg.IntOpt(
        'max_reply_mb',
        default=512,
        min=1,
        help="""
Largest XenAPI answer accepted, in MiB (after decompression). A longer one
is refused with an error naming this option and the pool is reported
unreachable for this pass. The records of 10,000 VMs take about 70 MiB over
XML-RPC, 23 MiB over JSON-RPC (``protocol``).

Possible values:

* MiB, at least 1
"""),
    cfg.StrOpt(
        'protocol',
        default='auto',
        choices=[
            ('auto', 'JSON-RPC with each pool member that serves it (xapi '
                     'does, at /jsonrpc), XML-RPC with the others; found out '
                     'once per member, at its first login'),
            ('jsonrpc', 'JSON-RPC only: a member that does not serve it is '
                        'reported as not answering XenAPI'),
            ('xmlrpc', 'XML-RPC only, as the XenAPI package speaks it'),
        ],
        help="""
Wire encoding of XenAPI calls. The same calls, answers and errors go either
way; JSON-RPC replies are about a third of the size of XML-RPC ones and are
read several times faster, which matters for pools of thousands of VMs.

Related options:

* ``max_reply_mb``
"""),
    cfg.BoolOpt(
        'allow_plain_http',
        default=False,
        help="""
Accept ``http://`` pool URLs, in ``connection_url`` and in the aggregates'
pool URL metadata. Over plain http the XenAPI password (usually root's)
travels in clear, and pool URLs are chosen by whoever may edit aggregates.
When False, such a pool is refused with a message saying so; when True,
one warning is logged per pool.

Possible values:

* False (default): https only
* True: for test labs and simulators only

Related options:

* ``connection_url``
* ``[ha_reconciler] pool_url_metadata_key``
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


def validate(conf):
    """Check that ``ca_file`` gives a TLS context.

    :raises oslo_config.cfg.Error: naming the option and the problem.
    """
    group = conf.xenapi
    if not group.ca_file or group.insecure:
        return
    # Imported here: the options must not pull in the XenAPI client.
    from nova_ha_ext.xenapi import client
    try:
        client.ssl_context('https', group.ca_file)
    except ValueError as exc:
        raise cfg.Error("invalid value for [xenapi] ca_file: %s" % exc)
