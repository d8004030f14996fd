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

"""Which pools the reconciler follows: aggregates with a pool URL."""

import logging
import types

import pytest

from nova_ha_ext.reconcile import discovery

KEY = 'xenapi_pool_url'


def agg(id, name, hosts=(), **metadata):
    return types.SimpleNamespace(id=id, name=name, hosts=list(hosts),
                                 metadata=metadata)


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(discovery, '_warned', set())


def test_aggregates_with_a_pool_url_are_pools():
    targets = discovery.pool_targets([
        agg(2, 'pool-b', ['xs-b2', 'xs-b1'], ha='true',
            xenapi_pool_url='https://xs-b1,https://xs-b2'),
        agg(1, 'pool-a', ['xs-a1'], ha='true',
            xenapi_pool_url='https://xs-a1'),
        agg(3, 'az1', ['xs-a1'], availability_zone='az1'),
    ], KEY)
    assert [(t.name, t.url, t.hosts) for t in targets] == [
        ('pool-a', 'https://xs-a1', ('xs-a1',)),
        ('pool-b', 'https://xs-b1,https://xs-b2', ('xs-b1', 'xs-b2')),
    ]


@pytest.mark.parametrize('url, reason', [
    ('xs-a1.example.com', 'is not a XenAPI URL'),
    ('ftp://xs-a1', 'is not a XenAPI URL'),
    ('https://xs-a1,xs-a2', "'xs-a2' is not a XenAPI URL"),
    ('https://root:s3cr/t@xs-a1:99999', 'holds a user name or password'),
    ('http://xs-a1', 'allow_plain_http = True'),
])
def test_bad_url_is_the_pools_error_with_one_warning(caplog, url, reason):
    aggregate = agg(1, 'pool-a', ha='true', xenapi_pool_url=url)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            [target] = discovery.pool_targets([aggregate], KEY)
    assert target.name == 'pool-a'
    assert reason in target.error
    assert KEY in target.error
    [warning] = [r.getMessage() for r in caplog.records]
    assert 'pool-a' in warning and reason in warning
    for text in (warning, target.error, target.url):
        assert 's3cr' not in text


def test_a_huge_bad_url_is_stored_and_quoted_in_part(caplog):
    url = 'ftp://' + 'x' * 5000000
    aggregate = agg(1, 'pool-a', ha='true', xenapi_pool_url=url)
    with caplog.at_level(logging.WARNING):
        [target] = discovery.pool_targets([aggregate], KEY)
    assert len(target.error) < 500 and len(target.url) < 500
    assert len(caplog.text) < 1000


def test_plain_http_when_allowed_warns_once_per_pool(caplog):
    aggregates = [agg(1, 'pool-a', xenapi_pool_url='http://xs-a1'),
                  agg(2, 'pool-b', xenapi_pool_url='http://xs-b1')]
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            targets = discovery.pool_targets(aggregates, KEY,
                                             allow_plain_http=True)
    assert [t.error for t in targets] == [None, None]
    warnings = sorted(r.getMessage() for r in caplog.records)
    assert len(warnings) == 2
    assert 'Pool pool-a is reached over plain http' in warnings[0]
    assert 'Pool pool-b is reached over plain http' in warnings[1]


def test_ha_aggregate_without_url_is_reported_once(caplog):
    aggregate = agg(1, 'pool-a', ha='true')
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert discovery.pool_targets([aggregate], KEY) == []
    [warning] = [r.getMessage() for r in caplog.records]
    assert 'openstack aggregate set --property xenapi_pool_url=' in warning
