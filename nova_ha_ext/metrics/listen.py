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


"""Where the reconciler's metrics are served: ``[ha_reconciler]
metrics_listen``.

Kept apart from the exporter so that configuration checks need neither
prometheus_client nor a socket.
"""

import ipaddress

#: The address a bare port listens on: never further than this machine
#: unless the operator names an address.
DEFAULT_HOST = '127.0.0.1'


class BadListen(ValueError):
    """A ``metrics_listen`` value that names no address and port."""


def parse(value):
    """``(host, port)`` from ``HOST:PORT``, ``[IPv6]:PORT`` or ``PORT``.

    A bare port listens on :data:`DEFAULT_HOST`. ``0.0.0.0:PORT`` (or
    ``[::]:PORT``) listens on every interface, as the operator must say so.

    :raises BadListen: saying what is wrong and what a good value looks
        like.
    """
    text = (value or '').strip()
    example = ("give PORT (on %s), HOST:PORT or [IPv6]:PORT, e.g. 9478 or "
               "0.0.0.0:9478" % DEFAULT_HOST)
    if not text:
        raise BadListen("empty; %s" % example)
    if text.isdigit():
        host, port = DEFAULT_HOST, text
    elif text.startswith('['):
        address, bracket, rest = text[1:].partition(']')
        if not bracket or not rest.startswith(':'):
            raise BadListen("%r: an IPv6 address needs its port after "
                            "the bracket; %s" % (value, example))
        host, port = address, rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise BadListen("%r: %r is not an IPv6 address; %s"
                            % (value, host, example))
    else:
        host, colon, port = text.rpartition(':')
        if not colon:
            raise BadListen("%r has no port; %s" % (value, example))
        if not host:
            raise BadListen("%r has no address; to listen on every "
                            "interface say so: 0.0.0.0%s" % (value, text))
        if ':' in host:
            raise BadListen("%r: put an IPv6 address in brackets; %s"
                            % (value, example))
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise BadListen("%r: the port must be a number from 1 to 65535; %s"
                        % (value, example))
    return host, int(port)


def display(host, port):
    """``host:port`` as a URL has it (IPv6 in brackets)."""
    if ':' in host:
        return '[%s]:%d' % (host, port)
    return '%s:%d' % (host, port)
