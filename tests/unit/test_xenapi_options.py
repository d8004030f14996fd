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

"""The [xenapi] options: secrets stay out of the option dump, and a client
made from them keeps to them.
"""

import logging

from oslo_config import cfg
import pytest

from nova_ha_ext import conf as ha_conf
from nova_ha_ext.xenapi import client as xenapi_client
from nova_ha_ext.xenapi import exceptions


@pytest.fixture
def conf():
    c = cfg.ConfigOpts()
    ha_conf.register_opts(c)
    c([])
    yield c
    # The option groups, and so their overrides, are shared with every
    # ConfigOpts that registers them.
    c.reset()


def test_the_option_dump_shows_no_connection_url_or_password(conf, caplog):
    conf.set_override('connection_url', 'https://root:s3cret@xs-a1',
                      'xenapi')
    conf.set_override('connection_password', 'pw-s3cret', 'xenapi')
    logger = logging.getLogger('options')
    with caplog.at_level(logging.DEBUG):
        conf.log_opt_values(logger, logging.DEBUG)
    assert 'xenapi.connection_url' in caplog.text
    assert 's3cret' not in caplog.text


def test_a_client_from_conf_refuses_plain_http_unless_allowed(conf):
    conf.set_override('connection_url', 'http://xs-a1', 'xenapi')
    with pytest.raises(exceptions.InvalidConfiguration,
                       match=r'allow_plain_http = True'):
        xenapi_client.PoolClient.from_conf(conf)
    conf.set_override('allow_plain_http', True, 'xenapi')
    assert xenapi_client.PoolClient.from_conf(conf).url == 'http://xs-a1'


def test_a_client_from_conf_takes_the_deadline_and_size_limit(conf):
    conf.set_override('connection_url', 'https://xs-a1', 'xenapi')
    conf.set_override('call_timeout', 7.5, 'xenapi')
    conf.set_override('max_reply_mb', 3, 'xenapi')
    client = xenapi_client.PoolClient.from_conf(conf)
    assert client._call_timeout == 7.5
    assert client._max_reply_bytes == 3 * 1024 * 1024


def test_the_protocol_is_auto_unless_set(conf):
    conf.set_override('connection_url', 'https://xs-a1', 'xenapi')
    assert conf.xenapi.protocol == 'auto'
    assert xenapi_client.PoolClient.from_conf(conf)._protocol == 'auto'
    conf.set_override('protocol', 'xmlrpc', 'xenapi')
    assert xenapi_client.PoolClient.from_conf(conf)._protocol == 'xmlrpc'


def test_an_unknown_protocol_is_refused_naming_the_choices(conf):
    with pytest.raises(ValueError, match=r'auto.*jsonrpc.*xmlrpc'):
        conf.set_override('protocol', 'soap', 'xenapi')


@pytest.mark.parametrize('ca_file, problem', [
    ('/nonexistent/ca.pem', 'does not exist or is not readable'),
    (__file__, 'holds no usable CA certificate'),
])
def test_a_bad_ca_file_fails_the_start_up_check(conf, ca_file, problem):
    conf.set_override('ca_file', ca_file, 'xenapi')
    with pytest.raises(cfg.Error) as raised:
        ha_conf.check(conf)
    assert str(raised.value).startswith(
        'invalid value for [xenapi] ca_file: %s %s' % (ca_file, problem))
