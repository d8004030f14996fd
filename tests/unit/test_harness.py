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

"""The harness is one package that the tests, the demo and the benchmarks
import: ``nova_ha_ext.testing``, never the ``tests`` tree, and it does not
monkey-patch whoever imports it.
"""

import ast
import collections
import json
import pathlib
import subprocess
import sys

from nova_ha_ext.testing import pools
from nova_ha_ext.testing import workers

ROOT = pathlib.Path(__file__).resolve().parents[2]
#: Whatever ships or runs outside the test suite.
PRODUCT = ('nova_ha_ext', 'tools', 'benchmarks')


def _python_files(*tops):
    for top in tops:
        for path in sorted((ROOT / top).rglob('*.py')):
            if '__pycache__' not in path.parts:
                yield path


def _imported(tree):
    """Every module name ``tree`` imports (absolute imports only)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module
            for alias in node.names:
                yield '%s.%s' % (node.module, alias.name)


def _parse(path):
    return ast.parse(path.read_text(), str(path))


def test_no_product_module_imports_the_tests_tree():
    offenders = sorted(
        '%s imports %s' % (path.relative_to(ROOT), name)
        for path in _python_files(*PRODUCT)
        for name in set(_imported(_parse(path)))
        if name == 'tests' or name.startswith('tests.'))

    assert offenders == []


def test_no_product_module_imports_the_harness():
    harness = ROOT / 'nova_ha_ext' / 'testing'
    offenders = sorted(
        '%s imports %s' % (path.relative_to(ROOT), name)
        for path in _python_files('nova_ha_ext')
        if harness not in path.parents
        for name in set(_imported(_parse(path)))
        if name.startswith('nova_ha_ext.testing'))

    assert offenders == []


_PROBE = '''
import json, socket, sys
import nova_ha_ext.testing
from nova_ha_ext.testing import hostile, pools, waiting, workers
import benchmarks.bench_reconcile
import benchmarks.bench_workers
print(json.dumps({"socket": socket.socket.__module__,
                  "eventlet": sorted(m for m in sys.modules
                                     if m.startswith("eventlet.green"))}))
'''


def test_importing_the_harness_patches_nothing():
    # In a process of its own: this one may have imported anything.
    result = subprocess.run([sys.executable, '-c', _PROBE], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr

    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {'socket': 'socket', 'eventlet': []}


def test_unit_tests_leave_their_process_unpatched():
    # Nova in-process patches eventlet in; the unit tests run without it.
    patching = ('nova_ha_ext.testing.nova_case',
                'nova_ha_ext.testing.xenapi_pools', 'tests.functional')
    offenders = sorted(
        '%s imports %s' % (path.relative_to(ROOT), name)
        for path in _python_files('tests/unit')
        for name in set(_imported(_parse(path)))
        if name.startswith(patching))

    assert offenders == []


def _functions_named(name, *tops, loops=False):
    """Modules defining a module-level function ``name`` (with a loop)."""
    return sorted(str(path.relative_to(ROOT))
                  for path in _python_files(*tops)
                  for node in _parse(path).body
                  if isinstance(node, ast.FunctionDef) and node.name == name
                  and (not loops or any(isinstance(n, ast.While)
                                        for n in ast.walk(node))))


def test_one_place_derives_the_uuids_of_a_deployment():
    callers = sorted({
        str(path.relative_to(ROOT))
        for path in _python_files('nova_ha_ext/testing', 'benchmarks',
                                  'tools', 'tests')
        for node in ast.walk(_parse(path))
        if isinstance(node, ast.Attribute) and node.attr == 'uuid5'})

    assert callers == ['nova_ha_ext/testing/pools.py']


def test_the_workers_and_the_reconciler_benchmark_build_the_same_pool():
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks import bench_reconcile
    finally:
        sys.path.remove(str(ROOT))
    bench = bench_reconcile.pool_scenario(3, 4, 8, first_id=25)
    tests = workers.pool_scenario(3, 4, 8)

    for key in ('name', 'detection_delay', 'restart_delay', 'srs', 'ha'):
        assert bench[key] == tests[key], key
    assert ([h['hostname'] for h in bench['hosts']] ==
            [h['hostname'] for h in tests['hosts']] ==
            [pools.host_name(3, h) for h in range(4)])
    assert ([(vm['name_label'], vm['host'], vm['other_config'])
             for vm in bench['vms']] ==
            [(vm['name_label'], vm['host'], vm['other_config'])
             for vm in tests['vms']])
    assert bench['vms'][0]['other_config'] == {
        'nova_uuid': pools.nova_uuid(3, 0)}


def test_one_table_and_one_wait_loop():
    assert _functions_named('table', *PRODUCT) == [
        'nova_ha_ext/cmd/manage.py']
    assert _functions_named('wait_for', *PRODUCT, 'tests',
                            loops=True) == ['nova_ha_ext/testing/waiting.py']
    demo = _parse(ROOT / 'tools' / 'demo.py')
    sleeps = [node.lineno for node in ast.walk(demo)
              if isinstance(node, ast.Attribute) and node.attr == 'sleep']
    assert sleeps == []


#: The only sleeps the tests may hold, each commented where it is: a pause
#: that proves an expiry, or that is itself what a test varies.
SLEEPS = {
    # the HA timeout has passed: the restart is now reported as failed
    'tests/functional/test_reconciler.py': 1,
    # a random pause puts a pass at a random point of a failover
    'tests/functional/test_chaos_soak.py': 1,
    # a look at every moment of a takeover; a member's entry gone stale
    'tests/unit/reconcile/test_coordination.py': 2,
}


def test_tests_wait_for_signals_not_for_time():
    sleeps = collections.Counter(
        str(path.relative_to(ROOT))
        for path in _python_files('tests', 'nova_ha_ext/testing')
        for node in ast.walk(_parse(path))
        if isinstance(node, ast.Call) and
        isinstance(node.func, ast.Attribute) and node.func.attr == 'sleep')
    sleeps.pop('nova_ha_ext/testing/waiting.py')

    assert dict(sleeps) == SLEEPS
