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
import os
import platform
import subprocess
import sys
import urllib.parse
import xmlrpc.client

from nova_ha_ext.simulator import control

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
    return control.ControlClient(url, timeout).request(path, body)


def run_child(module, args, progress):
    """Run ``python -m <module> --child [args]``, which prints figures.

    The child's stderr (Nova's and eventlet's warnings and logs) is shown
    only if it fails; its lines starting with ``progress`` are passed on as
    they come. Returns the child's exit code.
    """
    proc = subprocess.Popen(
        [sys.executable, '-m', module, '--child'] + list(args),
        cwd=REPO, stderr=subprocess.PIPE, text=True)
    other = []
    for line in proc.stderr:
        if line.startswith(progress):
            sys.stderr.write(line)
            sys.stderr.flush()
        else:
            other.append(line)
    if proc.wait():
        sys.stderr.write(''.join(other[-60:]))
        print('%s the measuring process failed (exit %d)'
              % (progress, proc.returncode))
    return proc.returncode


def run_cases(case, methods):
    """Run a benchmark ``nova.test.TestCase``'s methods, in order.

    Nova writes some log lines to stdout at cleanup: while the cases run,
    stdout goes where stderr goes, so that only the figures reach stdout.

    :returns: True when every method ran without error (their tracebacks
        are written to stderr).
    """
    import unittest

    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        for method in methods:
            result = unittest.TestResult()
            case(method).run(result)
            for _test, trace in result.errors + result.failures:
                sys.stderr.write(trace)
                return False
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
    return True


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
