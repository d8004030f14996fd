#!/usr/bin/env python3
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

"""Run every test suite of nova-ha-ext and print one closing line.

The unit tests and the functional tests run in separate pytest processes:
Nova's functional harness monkey-patches the interpreter with eventlet on
import, and the unit tests (the XenAPI simulator over real sockets) must run
without it.  The closing line sums both runs; the exit code is non-zero when
any test failed or errored, or when a suite ran no test at all.
"""

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SUITES = (
    ('unit', ['tests/unit']),
    ('functional', ['tests/functional']),
)


def _counts(junit_xml):
    root = ET.parse(junit_xml).getroot()
    suites = [root] if root.tag == 'testsuite' else root.findall('testsuite')
    total = {'tests': 0, 'failures': 0, 'errors': 0, 'skipped': 0}
    for suite in suites:
        for key in total:
            total[key] += int(suite.get(key, 0))
    return total


def main(argv):
    selected = [name for name, _ in SUITES if name in argv] or [
        name for name, _ in SUITES]
    extra = [a for a in argv if a not in dict(SUITES)]
    passed = failed = skipped = 0
    rc = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, paths in SUITES:
            if name not in selected:
                continue
            junit = os.path.join(tmp, name + '.xml')
            print('==== %s tests ====' % name, flush=True)
            cmd = [sys.executable, '-m', 'pytest', '-q', '-p',
                   'no:cacheprovider', '--junitxml', junit] + paths + extra
            result = subprocess.run(cmd)
            if not os.path.exists(junit):
                print('%s tests did not run (pytest exit %d)'
                      % (name, result.returncode))
                rc = rc or result.returncode or 1
                continue
            c = _counts(junit)
            bad = c['failures'] + c['errors']
            passed += c['tests'] - bad - c['skipped']
            failed += bad
            skipped += c['skipped']
            if result.returncode not in (0,) or c['tests'] == 0:
                rc = rc or result.returncode or 1
    print('total: %d passed, %d failed, %d skipped'
          % (passed, failed, skipped))
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
