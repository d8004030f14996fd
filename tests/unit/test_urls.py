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

"""URLs with secrets: one redaction, one pool URL check, bounded quotes."""

import pytest

from nova_ha_ext import urls


@pytest.mark.parametrize('url, shown', [
    ('redis://user:pw@host:6379?sentinel_password=x&db=0',
     'redis://user:***@host:6379?sentinel_password=***&db=0'),
    ('redis://:ab/cd+ef==@redis.example.com:6379',
     'redis://:***@redis.example.com:6379'),
    ('redis://:a#b@h:6379', 'redis://:***@h:6379'),
    ('redis://:a?b@h:6379', 'redis://:***@h:6379'),
    ('https://root:pw@xs-a1:99999', 'https://root:***@xs-a1:99999'),
    ('https://[::1:pw@x', 'https://[:***@x'),
    ('https://token@xs-a1', 'https://***@xs-a1'),
    ('https://root:p@ss@xs-a1/p?e=a@b', 'https://root:***@xs-a1/p?e=a@b'),
    ('https://root:pw@a,https://root:pw@b',
     'https://root:***@a,https://root:***@b'),
    ('root:pw@xs-a1', 'root:***@xs-a1'),
    ('zookeeper://zk:2181', 'zookeeper://zk:2181'),
    ('file:///tmp/x', 'file:///tmp/x'),
    ('', ''),
    (None, None),
])
def test_redact_masks_the_password_even_where_urllib_sees_none(url, shown):
    assert urls.redact(url) == shown


@pytest.mark.parametrize('url', [
    'redis://:ab/cd+ef==@h:6379', 'redis://u:s3cr%2Ft@h?password=tok',
    'https://root:pw@xs-a1:99999',
])
def test_scrub_removes_every_form_of_the_secrets(url):
    found = urls.secrets(url)
    assert found
    text = 'connect to %s failed: %s' % (url, ' '.join(found))
    scrubbed = urls.scrub(text, url)
    for secret in found:
        assert secret not in scrubbed


@pytest.mark.parametrize('url, needs', [
    ('redis://:ab/cd+ef==@h:6379', True),
    ('redis://:ab#cd@h:6379', True),
    ('redis://:ab?cd@h:6379', True),
    ('redis://:ab%2Fcd@h:6379', False),
    # Ambiguous: an '@' after the host must be percent-encoded too.
    ('redis://h:6379?x=a@b', True),
    ('redis://h:6379?x=a%40b', False),
    ('etcd3+http://etcd:2379', False),
])
def test_unencoded_delimiters_in_a_password_are_detected(url, needs):
    assert urls.password_needs_encoding(url) is needs


def test_excerpt_quotes_a_bounded_part():
    text = urls.excerpt('x' * 5000000)
    assert len(text) < 200
    assert '5000000 characters' in text
    assert urls.excerpt('short') == "'short'"


def test_pool_urls_accepts_https_members():
    assert urls.pool_urls(' https://xs-a1, https://[fd00::2]:443 ') == (
        'https://xs-a1', 'https://[fd00::2]:443')


@pytest.mark.parametrize('setting, problem', [
    ('xs-a1.example.com', 'is not a XenAPI URL'),
    ('ftp://xs-a1', 'is not a XenAPI URL'),
    ('https://', 'is not a XenAPI URL'),
    ('https://[::1', 'is not a XenAPI URL'),
    ('https://xs-a1:99999', 'invalid port'),
    ('https://xs-a1:0', 'invalid port'),
    ('https://root:pw@xs-a1:99999', 'holds a user name or password'),
    ('https://xs-a1,http://xs-a2', 'plain http'),
    ('', 'no URL given'),
])
def test_pool_urls_refuses_with_a_reason(setting, problem):
    with pytest.raises(urls.BadURL) as caught:
        urls.pool_urls(setting)
    assert problem in str(caught.value)
    assert 'pw' not in str(caught.value)


def test_plain_http_only_when_allowed():
    with pytest.raises(urls.BadURL, match='allow_plain_http = True'):
        urls.pool_urls('http://xs-a1')
    assert urls.pool_urls('http://xs-a1', allow_plain_http=True) == (
        'http://xs-a1',)
    with pytest.raises(urls.BadURL, match='mixes http and https'):
        urls.pool_urls('http://xs-a1,https://xs-a2', allow_plain_http=True)


def test_a_huge_bad_url_is_quoted_in_part():
    with pytest.raises(urls.BadURL) as caught:
        urls.pool_urls('ftp://' + 'x' * 5000000)
    assert len(str(caught.value)) < 500
