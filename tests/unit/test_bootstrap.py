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

"""tools/bootstrap.sh on a first run, with a python3 whose pip is noisy.

The fake ``python3 -m venv`` makes an environment whose ``python -m pip``
prints what pip and the build backends print on a first run (warnings,
even with ``--quiet``) and exits with ``STUB_PIP_RC``.
"""

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

FAKE_PYTHON3 = r'''#!/bin/bash
if [[ "$1 $2" != "-m venv" ]]; then
    echo "unexpected python3 call: $*" >&2
    exit 2
fi
mkdir -p "$3/bin"
cat > "$3/bin/python" <<'PIP'
#!/bin/bash
for i in $(seq 1 50); do
    echo "WARNING: Location 'file:///mirror/simple/pkg$i/' is ignored" >&2
done
echo "  BuildBackendWarning: Package 'x.data' is absent from the packages"
if [[ "${STUB_PIP_RC:-0}" != 0 ]]; then
    echo "ERROR: No matching distribution found for nova" >&2
fi
exit "${STUB_PIP_RC:-0}"
PIP
chmod +x "$3/bin/python"
echo "VIRTUAL_ENV=$3; export VIRTUAL_ENV" > "$3/bin/activate"
'''


@pytest.fixture
def checkout(tmp_path):
    for name in ('requirements.txt', 'test-requirements.txt',
                 'upper-constraints.txt', 'setup.cfg'):
        shutil.copy(ROOT / name, tmp_path / name)
    stub_bin = tmp_path / 'stub-bin'
    stub_bin.mkdir()
    (stub_bin / 'python3').write_text(FAKE_PYTHON3)
    (stub_bin / 'python3').chmod(0o755)
    return tmp_path


def _bootstrap(checkout, pip_rc=0):
    env = dict(os.environ,
               PATH='%s:%s' % (checkout / 'stub-bin', os.environ['PATH']),
               NOVA_HA_EXT_VENV=str(checkout / 'venv'),
               STUB_PIP_RC=str(pip_rc))
    # As tools/test.sh and tools/demo.sh source it.
    script = 'set -euo pipefail; . "$1"; echo "active: $VIRTUAL_ENV"'
    return subprocess.run(
        ['bash', '-c', script, 'test.sh',
         str(ROOT / 'tools' / 'bootstrap.sh')],
        cwd=str(checkout), env=env, capture_output=True, text=True,
        timeout=60)


def test_a_first_run_prints_one_line_and_keeps_pip_output_in_a_log(checkout):
    result = _bootstrap(checkout)

    venv = checkout / 'venv'
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        'Preparing %s (first run takes about two minutes) ...' % venv,
        'active: %s' % venv]
    assert result.stderr == ''
    assert 'is ignored' in (venv / 'pip.log').read_text()


def test_a_failing_pip_shows_the_end_of_its_output(checkout):
    result = _bootstrap(checkout, pip_rc=1)

    venv = checkout / 'venv'
    assert result.returncode == 1
    assert 'active:' not in result.stdout
    assert ('pip could not prepare %s; the end of its output (%s):'
            % (venv, venv / 'pip.log')) in result.stderr
    assert 'ERROR: No matching distribution found for nova' in result.stderr
    # The next run tries again.
    assert not (venv / '.installed').exists()
