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

"""Benchmarks of nova-ha-ext: ``python -m benchmarks [NAME ...]``."""

import http.client
import json
import os
import platform
import urllib.parse
import urllib.request
import xmlrpc.client


def machine():
    """(CPU model, cores, Python version) of this machine."""
    cpu = 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return cpu, os.cpu_count() or 0, platform.python_version()


def simulator_control(url, path, body=None, timeout=120):
    """One request to the simulator's HTTP control interface.

    GET without ``body``, POST with it; returns the answer's ``result``.
    """
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=(
        'POST' if data is not None else 'GET'))
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())['result']


def raw_xmlrpc_call(url, method, params, timeout=300):
    """One XML-RPC call over plain http.client: the reply's bytes, unparsed.

    Measures the server and the transfer without the client's parsing.
    """
    parsed = urllib.parse.urlparse(url)
    body = xmlrpc.client.dumps(params, method).encode()
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port,
                                      timeout=timeout)
    try:
        conn.request('POST', '/', body, {'Content-Type': 'text/xml'})
        return conn.getresponse().read()
    finally:
        conn.close()
