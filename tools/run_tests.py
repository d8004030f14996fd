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


def _command(paths, junit, extra):
    return [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
            '--junitxml', junit] + paths + extra


def _tally(name, junit, returncode):
    """(passed, failed, skipped, exit code) of one finished suite."""
    if not os.path.exists(junit):
        print('%s tests did not run (pytest exit %d)' % (name, returncode))
        return 0, 0, 0, returncode or 1
    c = _counts(junit)
    bad = c['failures'] + c['errors']
    rc = 0
    if returncode != 0 or c['tests'] == 0:
        rc = returncode or 1
    return c['tests'] - bad - c['skipped'], bad, c['skipped'], rc


def main(argv):
    """Run the selected suites side by side, the last one in view.

    The suites are independent processes, and much of a functional test is
    spent waiting for Nova's services and the simulated pools, so on two
    cores running them at once takes little longer than the functional
    suite alone. The last suite prints as it goes; the others write to a
    log, printed after it. ``--serial`` runs one suite at a time.
    """
    serial = '--serial' in argv
    argv = [a for a in argv if a != '--serial']
    selected = [name for name, _ in SUITES if name in argv] or [
        name for name, _ in SUITES]
    extra = [a for a in argv if a not in dict(SUITES)]
    suites = [(name, paths) for name, paths in SUITES if name in selected]
    totals = [0, 0, 0]
    rc = 0
    with tempfile.TemporaryDirectory() as tmp:
        finished, beside = [], []
        for index, (name, paths) in enumerate(suites):
            junit = os.path.join(tmp, name + '.xml')
            cmd = _command(paths, junit, extra)
            if serial or index == len(suites) - 1:
                print('==== %s tests ====' % name, flush=True)
                finished.append((name, junit, subprocess.run(cmd).returncode))
                continue
            print('==== %s tests: run beside the next suite; output after '
                  'it ====' % name, flush=True)
            log = open(os.path.join(tmp, name + '.log'), 'w+')
            beside.append((name, junit, log, subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT)))
        for name, junit, log, proc in beside:
            returncode = proc.wait()
            log.seek(0)
            print('==== %s tests ====' % name, flush=True)
            sys.stdout.write(log.read())
            log.close()
            finished.append((name, junit, returncode))
        for name, junit, returncode in finished:
            passed, failed, skipped, suite_rc = _tally(name, junit,
                                                       returncode)
            totals = [totals[0] + passed, totals[1] + failed,
                      totals[2] + skipped]
            rc = rc or suite_rc
    print('total: %d passed, %d failed, %d skipped' % tuple(totals))
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
