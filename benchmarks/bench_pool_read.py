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
* the wall time of ``read_pool`` (median of a few reads), split into the
  server and transfer time (the same four calls sent as raw HTTP, nothing
  parsed), the client's XML-RPC unmarshalling of the same bytes (the
  client's ``unmarshal.loads_stream``, and Python's ``xmlrpc.client``, which
  the ``XenAPI`` package uses by itself), and the building of the snapshot
  values from the parsed records;
* where a read's time goes by ``cProfile``;
* the VM records' reply parsed by ``xmlrpc.client`` and by
  ``unmarshal.loads_stream`` (C ``ElementTree``, record by record as the
  bytes arrive): the results are compared, and the time and peak memory of
  each parser are measured in fresh processes.

Nothing here asserts a time.
"""

import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

import XenAPI

import benchmarks

from nova_ha_ext.simulator import process
from nova_ha_ext.simulator import scenario
from nova_ha_ext.xenapi import client as xenapi_client
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


def _profile(client):
    """Share of a read's time per part of the code, by cProfile."""
    profile = cProfile.Profile()
    profile.enable()
    client.read_pool()
    profile.disable()
    stats = pstats.Stats(profile).stats
    parts = {'XML-RPC unmarshalling (unmarshal, ElementTree, expat)': 0.0,
             'snapshot values (nova_ha_ext.xenapi, dataclasses)': 0.0,
             'socket and HTTP': 0.0, 'other': 0.0}
    total = 0.0
    for (filename, _line, name), entry in stats.items():
        tottime = entry[2]
        total += tottime
        if ('xmlrpc' in filename or 'pyexpat' in name or
                'unmarshal' in filename or 'ElementTree' in filename or
                'ElementTree' in name or (
                    filename.endswith('xenapi/client.py') and
                    name in ('parse_response', '_chunks'))):
            key = 'XML-RPC unmarshalling (unmarshal, ElementTree, expat)'
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
                                      allow_plain_http=True)

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

    # The same four calls as raw HTTP: server and transfer, no parsing.
    session = XenAPI.Session(url)
    session.xenapi.login_with_password('root', PASSWORD, '1.0', 'bench')
    calls = _read_calls(session.handle)

    f['raw'], bodies = _median(
        lambda: [_raw_call(url, method, params) for method, params in calls],
        READS[vms])
    f['bytes'] = sum(len(b) for b in bodies)
    session.xenapi.session.logout()
    body_path = os.path.join(tmp, 'vms-%d.xml' % vms)
    with open(body_path, 'wb') as out:
        out.write(bodies[3])
    f.update(_split(bodies, vms))
    f['same_result'] = all(_stream_loads(b) == _stock_loads(b)
                           for b in bodies)
    bodies = None

    f['profile_total'], f['profile'] = _profile(client)
    client.close()

    # The client's parser against xmlrpc.client on the VM records' reply,
    # each parse in a process of its own for a clean peak RSS.
    runs = 3 if vms <= 1000 else 2
    stock = [_parse_in_child(body_path, '_stock_loads') for _i in range(runs)]
    stream = [_parse_in_child(body_path, '_stream_loads')
              for _i in range(runs)]
    f['stock_child'] = statistics.median(t for t, _m in stock)
    f['stock_mem'] = max(m for _t, m in stock)
    f['stream_child'] = statistics.median(t for t, _m in stream)
    f['stream_mem'] = max(m for _t, m in stream)
    os.unlink(body_path)
    return f


def _split(bodies, vms):
    """Client-side parts of a read, timed on the raw replies."""
    f = {}
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
    print('Machine: %s, nproc %d, Python %s. One pool of %d hosts.'
          % (cpu, cores, python, HOSTS))
    print()
    print('| | ' + ' | '.join('%d VMs' % r['vms'] for r in results) + ' |')
    print('|---|' + '---:|' * len(results))

    def row(label, fmt):
        print('| %s | %s |' % (label, ' | '.join(fmt(r) for r in results)))

    row('XenAPI calls per read (session established)',
        lambda r: str(sum(r['calls'].values())))
    row('XenAPI calls of the first read (with the login)',
        lambda r: str(sum(r['first_calls'].values())))
    row('guest VMs read', lambda r: '{:,}'.format(r['guest_vms']))
    row('reply size (4 calls)', lambda r: '%.1f MB' % (r['bytes'] / 1e6))
    row('`read_pool` wall time, median of %s reads' % '/'.join(
        str(READS[r['vms']]) for r in results),
        lambda r: '%.2f s' % r['read'])
    row('- server + transfer (raw HTTP, same 4 calls)',
        lambda r: '%.2f s' % r['raw'])
    row('- client: XML-RPC unmarshalling (`unmarshal.loads_stream`)',
        lambda r: '%.2f s' % r['parse'])
    row('  (the same bytes by `xmlrpc.client`, as `XenAPI` alone does)',
        lambda r: '%.2f s' % r['parse_stock'])
    row('- client: building the snapshot (PoolVM values, sort)',
        lambda r: '%.3f s' % r['build'])
    row('fields per VM record received / kept in PoolVM',
        lambda r: '%d / %d' % (r['fields_received'], r['fields_kept']))
    for key in results[0]['profile']:
        row('cProfile share: %s' % key,
            lambda r, k=key: '%.0f%%' % (
                100.0 * r['profile'][k] / r['profile_total']))
    row('VM reply parsed by `xmlrpc.client` (fresh process)',
        lambda r: '%.2f s, +%.0f MiB peak RSS'
        % (r['stock_child'], r['stock_mem']))
    row('same bytes by `unmarshal.loads_stream` (fresh process)',
        lambda r: '%.2f s, +%.0f MiB peak RSS'
        % (r['stream_child'], r['stream_mem']))
    row('same result as `xmlrpc.client` (the 4 replies)',
        lambda r: 'yes' if r['same_result'] else 'NO')
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
