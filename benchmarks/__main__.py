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

"""Run the benchmarks: every ``benchmarks/bench_*.py`` module's ``main()``.

    python -m benchmarks              # all of them
    python -m benchmarks filter sim   # modules whose name contains a word

Each benchmark prints measured figures; none asserts a wall-clock time.
"""

import importlib
import pathlib
import sys

import benchmarks


def main(argv):
    here = pathlib.Path(__file__).parent
    names = sorted(p.stem for p in here.glob('bench_*.py'))
    if argv:
        names = [n for n in names if any(word in n for word in argv)]
    print('machine: %s, %d cores, Python %s' % benchmarks.machine())
    for name in names:
        print('\n## %s' % name, flush=True)
        importlib.import_module('benchmarks.%s' % name).main()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
