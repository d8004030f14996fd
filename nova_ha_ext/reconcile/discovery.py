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

"""Which XenServer pools to reconcile: discovered from Nova's aggregates.

An operator configures a pool once, on its HA aggregate::

    openstack aggregate set --property ha=true \
        --property xenapi_pool_url=https://xs-a1.example.com pool-a

Listing several members, comma-separated, lets the reconciler reach the
pool even when it starts while the first one is down.

Every aggregate whose metadata carries the URL key
(``[ha_reconciler] pool_url_metadata_key``) is a pool to reconcile; the
reconciler logs in with the ``[xenapi]`` credentials. Adding a pool is an
aggregate change, picked up at the next full pass without a restart. An
aggregate whose URL cannot be used is still a pool, whose
:attr:`PoolTarget.error` says why: it shows in ``nova-ha-manage status``
instead of vanishing.
"""

import dataclasses
import typing as ty

from oslo_log import log as logging

from nova import objects

from nova_ha_ext import ha_spec
from nova_ha_ext import urls

LOG = logging.getLogger(__name__)

# (aggregate id, problem) pairs already warned about, to warn once.
_warned = set()


@dataclasses.dataclass(frozen=True)
class PoolTarget:
    """A pool to reconcile, as its aggregate describes it."""

    #: The aggregate's name, used as the pool's name in messages.
    name: str
    #: The aggregate's pool URL, redacted (see :func:`urls.redact`).
    url: str
    aggregate_id: int
    #: The compute service hosts in the aggregate.
    hosts: ty.Tuple[str, ...] = ()
    #: Why the URL cannot be used; None when it can.
    error: ty.Optional[str] = None


def _warn_once(aggregate, problem, message, *args):
    key = (aggregate.id, problem)
    if key not in _warned:
        _warned.add(key)
        LOG.warning(message, *args)


def pool_targets(aggregates, url_key, allow_plain_http=False):
    """The pools described by ``aggregates`` (pure: no I/O).

    :param aggregates: ``objects.Aggregate`` values (or look-alikes).
    :param url_key: the metadata key holding the pool URL.
    :param allow_plain_http: ``[xenapi] allow_plain_http``.
    """
    targets = []
    for agg in aggregates:
        metadata = agg.metadata or {}
        url = metadata.get(url_key)
        if not url:
            if ha_spec.aggregate_is_ha(agg):
                _warn_once(
                    agg, 'no-url',
                    "HA aggregate %s has no %s metadata, so the reconciler "
                    "cannot follow its pool; set it with: openstack "
                    "aggregate set --property %s=https://<pool member> %s",
                    agg.name, url_key, url_key, agg.name)
            continue
        error = None
        try:
            members = urls.pool_urls(url, allow_plain_http)
        except urls.BadURL as exc:
            error = "aggregate metadata %s: %s" % (url_key, exc)
            _warn_once(agg, ('bad-url', url),
                       "Pool %s is not reconciled until its %s is fixed: %s",
                       agg.name, url_key, exc)
        else:
            if members[0].startswith('http:'):
                _warn_once(agg, ('plain-http', url),
                           "Pool %s is reached over plain http: the XenAPI "
                           "password travels in clear ([xenapi] "
                           "allow_plain_http = True).", agg.name)
        shown = urls.redact(url)
        if error is not None:
            shown = urls.excerpt(shown, quote=False)
        targets.append(PoolTarget(name=agg.name, url=shown,
                                  aggregate_id=agg.id,
                                  hosts=tuple(sorted(agg.hosts or ())),
                                  error=error))
    return sorted(targets, key=lambda t: t.name)


def discover_pools(context, conf):
    """Read Nova's aggregates (one API DB query) and return the pools."""
    aggregates = objects.AggregateList.get_all(context)
    return pool_targets(aggregates, conf.ha_reconciler.pool_url_metadata_key,
                        conf.xenapi.allow_plain_http)
