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

"""A full pool read with ``PoolClient.read_pool`` against the simulator.

    python -m benchmarks pool_read

One pool of 64 hosts, with 1,000 and then 10,000 guest VMs, served by
``nova-ha-xapi-simulator`` in its own process (a pool runs on machines of
its own). For each size it prints:

* the XenAPI calls of one read, from the simulator's own counter (its
  control interface's ``calls``), for the first read (which logs in) and
  for a read on an established session;
* the wall time of ``read_pool`` (median of a few reads) over JSON-RPC and
  over XML-RPC, and of the ``XenAPI`` package's own read of the same pool
  (``pool``, ``host``, ``host_metrics`` and ``VM`` ``get_all_records``);
* the read split into the server and transfer time (the same four calls
  sent as raw HTTP, nothing parsed), the client's parsing of the same
  bytes (JSON: the standard library's ``json`` as the client uses it, and
  ``orjson`` when installed; XML-RPC: the client's
  ``unmarshal.loads_stream``, and Python's ``xmlrpc.client``, which the
  ``XenAPI`` package uses by itself), and the building of the snapshot
  values from the parsed records;
* where a JSON-RPC read's time goes by ``cProfile``;
* the peak memory of a whole ``read_pool`` on each wire, and the VM
  records' reply parsed by each parser, each in a fresh process (the
  parsers' results are compared).

Nothing here asserts a time.
"""

import cProfile
import gc
import http.client
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import xmlrpc.client

try:
    import orjson
except ImportError:
    orjson = None
import XenAPI

import benchmarks

from nova_ha_ext.simulator import process
from nova_ha_ext.simulator import scenario
from nova_ha_ext.xenapi import client as xenapi_client
from nova_ha_ext.xenapi import jsonrpc
from nova_ha_ext.xenapi import pool_state
from nova_ha_ext.xenapi import records
from nova_ha_ext.xenapi import unmarshal

_control = benchmarks.simulator_control
_raw_call = benchmarks.raw_xmlrpc_call

HOSTS = 64
SIZES = (1000, 10000)
POOL = 'pool-big'
PASSWORD = 'secret'
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Timed reads per size (the median is reported).
READS = {1000: 5, 10000: 3}


def _calls(control):
    return _control(control, '/pools/%s/calls' % POOL)


def _reset_calls(control):
    _control(control, '/pools/%s/reset_calls' % POOL, {})


def _read_calls(handle):
    """The four calls of ``read_pool``, with their parameters."""
    return [('pool.get_all_records', (handle,)),
            ('host.get_all_records', (handle,)),
            ('host_metrics.get_all_records', (handle,)),
            ('VM.get_all_records_where',
             (handle, xenapi_client.GUEST_VMS_QUERY))]


def _raw_json_call(url, method, params, timeout=300):
    """One JSON-RPC call over plain http.client: the reply's bytes."""
    parsed = urllib.parse.urlparse(url)
    body = json.dumps({'jsonrpc': '2.0', 'method': method,
                       'params': list(params), 'id': 1}).encode()
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port,
                                      timeout=timeout)
    try:
        conn.request('POST', jsonrpc.PATH, body,
                     {'Content-Type': 'application/json'})
        return conn.getresponse().read()
    finally:
        conn.close()


def _json_loads(data, method='VM.get_all_records_where'):
    """Parse as ``PoolClient``'s JSON-RPC session does."""
    return jsonrpc.as_xmlrpc_types(method,
                                   jsonrpc.parse_reply(bytearray(data)))


def _ints_as_text(value):
    """orjson's ints turned into the decimal strings XML-RPC gives."""
    items = (value.items() if type(value) is dict
             else enumerate(value))
    for key, item in items:
        kind = type(item)
        if kind is int:
            value[key] = str(item)
        elif kind is dict or kind is list:
            _ints_as_text(item)


def _without_collector(func, *args):
    """``func(*args)`` with the cyclic garbage collector paused, as the
    client parses.
    """
    gc.disable()
    try:
        return func(*args)
    finally:
        gc.enable()


def _orjson_loads(data, method='VM.get_all_records_where'):
    """orjson, then what the client needs on top: the same types."""
    def parse():
        reply = orjson.loads(data)
        _ints_as_text(reply)
        return jsonrpc.as_xmlrpc_types(method, reply['result'])
    return _without_collector(parse)


def _orjson_only(data):
    """orjson alone (ints stay ints: not what the client must give)."""
    return _without_collector(orjson.loads, data)


def _xenapi_package_read(url):
    """The ``XenAPI`` package's own read of the pool, as a script does."""
    session = XenAPI.Session(url)
    session.xenapi.login_with_password('root', PASSWORD, '1.0', 'bench')
    try:
        api = session.xenapi
        return (api.pool.get_all_records(), api.host.get_all_records(),
                api.host_metrics.get_all_records(),
                api.VM.get_all_records())
    finally:
        session.xenapi.session.logout()
        session('close')()


def _stock_loads(data):
    """Unmarshal as ``xmlrpc.client.Transport.parse_response`` does."""
    parser, unmarshaller = xmlrpc.client.getparser()
    for start in range(0, len(data), 1024):
        parser.feed(data[start:start + 1024])
    parser.close()
    return unmarshaller.close()


def _stream_loads(data):
    """Unmarshal as ``PoolClient``'s transport does: ``loads_stream``."""
    size = xenapi_client.READ_CHUNK
    return unmarshal.loads_stream(
        data[start:start + size] for start in range(0, len(data), size))


def _build(vm_records):
    """What ``read_pool`` does with the parsed VM records."""
    return tuple(sorted((records.pool_vm(ref, rec)
                         for ref, rec in vm_records.items()),
                        key=lambda vm: vm.uuid))


def _median(func, runs):
    times = []
    result = None
    for _i in range(runs):
        result = None
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


# ru_maxrss survives execve on Linux, so the child reads its own VmHWM.
_PARSE_CHILD = '''
import sys, time
from benchmarks import bench_pool_read as b
with open(sys.argv[1], 'rb') as f:
    data = f.read()
func = getattr(b, sys.argv[2])
before = b.peak_rss_mib()
start = time.perf_counter()
result = func(data)
took = time.perf_counter() - start
print(took, b.peak_rss_mib() - before)
'''


# A whole read_pool, after the login, in a process of its own.
_READ_CHILD = '''
import sys, time
from benchmarks import bench_pool_read as b
from nova_ha_ext.xenapi import client
c = client.PoolClient(sys.argv[1], 'root', b.PASSWORD, allow_plain_http=True,
                      protocol=sys.argv[2])
c.call('pool.get_all')
before = b.peak_rss_mib()
start = time.perf_counter()
snapshot = c.read_pool()
took = time.perf_counter() - start
print(took, b.peak_rss_mib() - before, b.peak_rss_mib(), len(snapshot.vms))
'''


def _read_in_child(url, protocol):
    """(seconds, peak RSS growth, peak RSS) of a read in a new process."""
    out = subprocess.run([sys.executable, '-c', _READ_CHILD, url, protocol],
                         check=True, capture_output=True, text=True,
                         cwd=REPO).stdout
    took, grown, peak, _vms = out.split()
    return float(took), float(grown), float(peak)


def peak_rss_mib():
    """This process's peak resident set size (VmHWM), in MiB."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024.0
    return float('nan')


def _parse_in_child(path, func):
    """(seconds, peak RSS growth in MiB) of one parse in a new process."""
    out = subprocess.run([sys.executable, '-c', _PARSE_CHILD, path, func],
                         check=True, capture_output=True, text=True,
                         cwd=REPO).stdout
    took, grown = out.split()
    return float(took), float(grown)


_PARSING = 'parsing (json, jsonrpc)'


def _profile(client):
    """Share of a JSON-RPC read's time per part of the code, by cProfile."""
    profile = cProfile.Profile()
    profile.enable()
    client.read_pool()
    profile.disable()
    stats = pstats.Stats(profile).stats
    parts = {_PARSING: 0.0,
             'snapshot values (nova_ha_ext.xenapi, dataclasses)': 0.0,
             'socket and HTTP': 0.0, 'other': 0.0}
    total = 0.0
    for (filename, _line, name), entry in stats.items():
        tottime = entry[2]
        total += tottime
        if ('json' in filename or 'json' in name or
                name in ('loads', 'decode', 'raw_decode') or
                name == "<method 'decode' of 'bytearray' objects>"):
            key = _PARSING
        elif ('nova_ha_ext' in filename or filename == '<string>' or
                'MappingProxy' in name or 'dataclasses' in filename):
            key = 'snapshot values (nova_ha_ext.xenapi, dataclasses)'
        elif ('socket' in filename or 'http' in filename or
                'socket' in name or 'ssl' in filename):
            key = 'socket and HTTP'
        else:
            key = 'other'
        parts[key] += tottime
    return total, parts


def _measure(vms, tmp):
    data = scenario.generate(name=POOL, hosts=HOSTS, vms=vms,
                             password=PASSWORD)
    directory = os.path.join(tmp, str(vms))
    os.mkdir(directory)
    sim = process.SimulatorProcess(data['pools'], directory)
    try:
        return _run(sim.info, vms, tmp)
    finally:
        sim.stop()


def _run(info, vms, tmp):
    url = info['pools'][0]['url']
    control = info['control_url']
    f = {'vms': vms}
    client = xenapi_client.PoolClient(url, 'root', PASSWORD, name=POOL,
                                      allow_plain_http=True,
                                      protocol=xenapi_client.JSONRPC)

    # The first read logs in, and the simulator writes every record's
    # JSON once (it keeps it until the record changes).
    _reset_calls(control)
    start = time.perf_counter()
    snapshot = client.read_pool()
    f['first_read'] = time.perf_counter() - start
    f['first_calls'] = _calls(control)
    f['guest_vms'] = len(snapshot.vms)
    del snapshot

    _reset_calls(control)
    client.read_pool()
    f['calls'] = _calls(control)

    f['read'], _ = _median(client.read_pool, READS[vms])
    xml_client = xenapi_client.PoolClient(url, 'root', PASSWORD, name=POOL,
                                          allow_plain_http=True,
                                          protocol=xenapi_client.XMLRPC)
    xml_client.read_pool()
    f['read_xml'], _ = _median(xml_client.read_pool, READS[vms])
    xml_client.close()
    f['xenapi'], _ = _median(lambda: _xenapi_package_read(url), READS[vms])

    # The same four calls as raw HTTP: server and transfer, no parsing.
    session = XenAPI.Session(url)
    session.xenapi.login_with_password('root', PASSWORD, '1.0', 'bench')
    calls = _read_calls(session.handle)

    f['raw_json'], json_bodies = _median(
        lambda: [_raw_json_call(url, method, params)
                 for method, params in calls], READS[vms])
    f['raw'], bodies = _median(
        lambda: [_raw_call(url, method, params) for method, params in calls],
        READS[vms])
    f['bytes'] = sum(len(b) for b in bodies)
    f['json_bytes'] = sum(len(b) for b in json_bodies)
    session.xenapi.session.logout()
    paths = {'xml': os.path.join(tmp, 'vms-%d.xml' % vms),
             'json': os.path.join(tmp, 'vms-%d.json' % vms)}
    for kind, body in (('xml', bodies[3]), ('json', json_bodies[3])):
        with open(paths[kind], 'wb') as out:
            out.write(body)
    f.update(_split(bodies, json_bodies, calls, vms))
    f['same_result'] = all(_stream_loads(b) == _stock_loads(b)
                           for b in bodies)
    f['same_json'] = all(
        _json_loads(j, method) == _stream_loads(b)[0]['Value']
        for (method, _p), j, b in zip(calls, json_bodies, bodies))
    bodies = json_bodies = None

    f['profile_total'], f['profile'] = _profile(client)
    client.close()

    # Each wire's whole read, and each parser on the VM records' reply,
    # in a process of its own for a clean peak RSS.
    runs = 3 if vms <= 1000 else 2
    for protocol in (xenapi_client.JSONRPC, xenapi_client.XMLRPC):
        reads = [_read_in_child(url, protocol) for _i in range(runs)]
        f['child_read_' + protocol] = statistics.median(r[0] for r in reads)
        f['child_grown_' + protocol] = max(r[1] for r in reads)
        f['child_peak_' + protocol] = max(r[2] for r in reads)
    parsers = [('stock', 'xml', '_stock_loads'),
               ('stream', 'xml', '_stream_loads'),
               ('json', 'json', '_json_loads')]
    if orjson is not None:
        parsers.append(('orjson', 'json', '_orjson_loads'))
    for key, kind, func in parsers:
        parsed = [_parse_in_child(paths[kind], func) for _i in range(runs)]
        f[key + '_child'] = statistics.median(t for t, _m in parsed)
        f[key + '_mem'] = max(m for _t, m in parsed)
    for path in paths.values():
        os.unlink(path)
    return f


def _split(bodies, json_bodies, calls, vms):
    """Client-side parts of a read, timed on the raw replies."""
    f = {}
    f['parse_json'], _ = _median(
        lambda: [_json_loads(b, method)
                 for (method, _p), b in zip(calls, json_bodies)], READS[vms])
    if orjson is not None:
        f['parse_orjson'], _ = _median(
            lambda: [_orjson_loads(b, method)
                     for (method, _p), b in zip(calls, json_bodies)],
            READS[vms])
        f['parse_orjson_only'], _ = _median(
            lambda: [_orjson_only(b) for b in json_bodies], READS[vms])
    f['parse'], parsed = _median(
        lambda: [_stream_loads(b) for b in bodies], READS[vms])
    f['parse_stock'], _ = _median(
        lambda: [_stock_loads(b) for b in bodies], READS[vms])
    vm_records = parsed[3][0]['Value']
    f['build'], built = _median(lambda: _build(vm_records), READS[vms])
    assert len(built) == vms
    f['fields_received'] = len(next(iter(vm_records.values())))
    f['fields_kept'] = len(pool_state.PoolVM.__dataclass_fields__)
    return f


def _report(results):
    cpu, cores, python = benchmarks.machine()
    print('Machine: %s, nproc %d, Python %s, load average %s. One pool of '
          '%d hosts.' % (cpu, cores, python,
                         ' '.join('%.2f' % x for x in os.getloadavg()),
                         HOSTS))
    print()
    print('| | ' + ' | '.join('%d VMs' % r['vms'] for r in results) + ' |')
    print('|---|' + '---:|' * len(results))

    def row(label, fmt):
        print('| %s | %s |' % (label, ' | '.join(fmt(r) for r in results)))

    def seconds(key, digits=2):
        return lambda r: ('%.*f s' % (digits, r[key]) if key in r
                          else 'orjson not installed')

    row('XenAPI calls per read (session established)',
        lambda r: str(sum(r['calls'].values())))
    row('XenAPI calls of the first read (with the login)',
        lambda r: str(sum(r['first_calls'].values())))
    row('guest VMs read', lambda r: '{:,}'.format(r['guest_vms']))
    row('reply size (4 calls), JSON-RPC / XML-RPC',
        lambda r: '%.1f / %.1f MB' % (r['json_bytes'] / 1e6,
                                      r['bytes'] / 1e6))
    reads = '/'.join(str(READS[r['vms']]) for r in results)
    row('**`read_pool` over JSON-RPC**, median of %s reads' % reads,
        seconds('read'))
    row('`read_pool` over XML-RPC (as before), median', seconds('read_xml'))
    row('the `XenAPI` package alone (4 `get_all_records`), median',
        seconds('xenapi'))
    row('**speed-up of `read_pool` (JSON-RPC) over the `XenAPI` package**',
        lambda r: '%.1fx' % (r['xenapi'] / r['read']))
    row('first JSON-RPC read (login; the simulator writes each record\'s '
        'JSON)', seconds('first_read'))
    row('- server + transfer, JSON-RPC (raw HTTP, same 4 calls)',
        seconds('raw_json'))
    row('- server + transfer, XML-RPC (raw HTTP, same 4 calls)',
        seconds('raw'))
    row('- client: JSON parsing, stdlib `json` (`jsonrpc.parse_reply`)',
        seconds('parse_json'))
    row('  (the same with `orjson`, ints then made text as the client must)',
        seconds('parse_orjson'))
    row('  (`orjson.loads` alone: ints stay ints, not the client\'s types)',
        seconds('parse_orjson_only'))
    row('- client: XML-RPC unmarshalling (`unmarshal.loads_stream`)',
        seconds('parse'))
    row('  (the same bytes by `xmlrpc.client`, as `XenAPI` alone does)',
        seconds('parse_stock'))
    row('- client: building the snapshot (PoolVM values, sort)',
        seconds('build', 3))
    row('fields per VM record received / kept in PoolVM',
        lambda r: '%d / %d' % (r['fields_received'], r['fields_kept']))
    for key in results[0]['profile']:
        row('cProfile share of a JSON-RPC read: %s' % key,
            lambda r, k=key: '%.0f%%' % (
                100.0 * r['profile'][k] / r['profile_total']))
    for protocol, label in ((xenapi_client.JSONRPC, 'JSON-RPC'),
                            (xenapi_client.XMLRPC, 'XML-RPC')):
        row('whole `read_pool` over %s (fresh process): time, peak RSS '
            'growth, peak RSS' % label,
            lambda r, p=protocol: '%.2f s, +%.0f MiB, %.0f MiB' % (
                r['child_read_' + p], r['child_grown_' + p],
                r['child_peak_' + p]))
    for key, label in (('json', 'stdlib `json` as the client parses it'),
                       ('orjson', '`orjson`, ints made text'),
                       ('stream', '`unmarshal.loads_stream` (XML-RPC)'),
                       ('stock', '`xmlrpc.client` (XML-RPC)')):
        row('VM reply parsed by %s (fresh process)' % label,
            lambda r, k=key: '%.2f s, +%.0f MiB peak RSS' % (
                r[k + '_child'], r[k + '_mem']) if k + '_child' in r
            else 'orjson not installed')
    row('`loads_stream` gives what `xmlrpc.client` gives (4 replies)',
        lambda r: 'yes' if r['same_result'] else 'NO')
    row('JSON-RPC gives what XML-RPC gives (4 replies)',
        lambda r: 'yes' if r['same_json'] else 'NO')
    print()
    for r in results:
        print('%d VMs, calls of the first read: %s' % (r['vms'], ', '.join(
            '%s %d' % item for item in sorted(r['first_calls'].items()))))
    print('The parts are timed separately (medians), so they need not add '
          'up to the wall time exactly.')


def main():
    with tempfile.TemporaryDirectory() as tmp:
        results = [_measure(vms, tmp) for vms in SIZES]
    _report(results)


if __name__ == '__main__':
    main()
