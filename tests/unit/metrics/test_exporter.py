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


"""``[ha_reconciler] metrics_listen``: parsing, checking, serving."""

import socket
import urllib.request

from oslo_config import cfg
import pytest

from nova_ha_ext import conf as ha_conf
from nova_ha_ext.metrics import exporter
from nova_ha_ext.metrics import listen
from tests.unit.metrics import reports


@pytest.mark.parametrize('value, expected', [
    ('9478', ('127.0.0.1', 9478)),
    (' 9478 ', ('127.0.0.1', 9478)),
    ('0.0.0.0:9478', ('0.0.0.0', 9478)),
    ('metrics.example.com:80', ('metrics.example.com', 80)),
    ('[::1]:9478', ('::1', 9478)),
    ('[::]:65535', ('::', 65535)),
])
def test_good_values(value, expected):
    assert listen.parse(value) == expected


@pytest.mark.parametrize('value, says', [
    ('', 'empty'),
    ('localhost', 'has no port'),
    (':9478', 'to listen on every interface say so: 0.0.0.0:9478'),
    ('127.0.0.1:0', 'from 1 to 65535'),
    ('127.0.0.1:70000', 'from 1 to 65535'),
    ('127.0.0.1:http', 'from 1 to 65535'),
    ('::1:9478', 'put an IPv6 address in brackets'),
    ('[::1]9478', 'needs its port after the bracket'),
    ('[not-v6]:9478', 'is not an IPv6 address'),
])
def test_bad_values_say_what_is_wrong(value, says):
    with pytest.raises(listen.BadListen, match=says.replace('.', r'\.')):
        listen.parse(value)


@pytest.fixture
def conf():
    conf = cfg.ConfigOpts()
    ha_conf.register_opts(conf)
    conf([])
    yield conf
    conf.reset()


def test_metrics_are_off_by_default(conf):
    assert conf.ha_reconciler.metrics_listen is None
    ha_conf.check(conf)


def test_a_bad_value_stops_the_configuration_check(conf):
    conf.set_override('metrics_listen', 'localhost', 'ha_reconciler')

    with pytest.raises(cfg.Error, match=r'invalid value for \[ha_reconciler'
                       r'\] metrics_listen: .localhost. has no port'):
        ha_conf.check(conf)


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_a_bare_port_is_served_on_localhost_only(conf):
    port = _free_port()
    conf.set_override('metrics_listen', str(port), 'ha_reconciler')

    served = exporter.Exporter(conf)
    try:
        assert served._server.server_address == ('127.0.0.1', port)
    finally:
        served.stop()


def test_an_address_in_use_is_a_startup_error_naming_the_option(conf):
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        conf.set_override('metrics_listen', '127.0.0.1:%d' % port,
                          'ha_reconciler')
        with pytest.raises(exporter.CannotListen,
                           match=r'cannot listen on \[ha_reconciler\] '
                           r'metrics_listen 127\.0\.0\.1:%d: ' % port):
            exporter.Exporter(conf)


def test_the_exporter_serves_its_own_registry_over_http(conf):
    conf.set_override('metrics_listen', str(_free_port()), 'ha_reconciler')
    served = exporter.Exporter(conf)
    served.start()
    try:
        served.recorder.record(reports.report(), 'event')
        with urllib.request.urlopen(
                'http://%s/metrics' % served.address, timeout=10) as reply:
            text = reply.read().decode()
    finally:
        served.stop()
    assert ('nova_ha_passes_total{kind="event",pool="pool-a",result="ok"} '
            '1.0') in text
    # Only the project's registry: not the library's process metrics.
    assert 'process_cpu_seconds_total' not in text
    assert exporter.active() is None
