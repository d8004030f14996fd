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
aggregate change, picked up at the next full pass without a restart.
"""

import dataclasses
import typing as ty
import urllib.parse

from oslo_log import log as logging

from nova import objects

from nova_ha_ext import ha_spec

LOG = logging.getLogger(__name__)

# (aggregate id, problem) pairs already warned about, to warn once.
_warned = set()


@dataclasses.dataclass(frozen=True)
class PoolTarget:
    """A pool to reconcile, as its aggregate describes it."""

    #: The aggregate's name, used as the pool's name in messages.
    name: str
    url: str
    aggregate_id: int
    #: The compute service hosts in the aggregate.
    hosts: ty.Tuple[str, ...] = ()


def _is_url(text):
    parts = urllib.parse.urlsplit(text.strip())
    return parts.scheme in ('http', 'https') and bool(parts.hostname)


def _warn_once(aggregate, problem, message, *args):
    key = (aggregate.id, problem)
    if key not in _warned:
        _warned.add(key)
        LOG.warning(message, *args)


def pool_targets(aggregates, url_key):
    """The pools described by ``aggregates`` (pure: no I/O).

    :param aggregates: ``objects.Aggregate`` values (or look-alikes).
    :param url_key: the metadata key holding the pool URL.
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
        if not all(_is_url(u) for u in url.split(',')):
            _warn_once(
                agg, ('bad-url', url),
                "Aggregate %s has %s=%r, which is not an http(s) URL (or a "
                "comma-separated list of them); ignoring the pool until it "
                "is fixed.", agg.name, url_key, url)
            continue
        targets.append(PoolTarget(name=agg.name, url=url,
                                  aggregate_id=agg.id,
                                  hosts=tuple(sorted(agg.hosts or ()))))
    return sorted(targets, key=lambda t: t.name)


def discover_pools(context, conf):
    """Read Nova's aggregates (one API DB query) and return the pools."""
    aggregates = objects.AggregateList.get_all(context)
    return pool_targets(aggregates, conf.ha_reconciler.pool_url_metadata_key)
