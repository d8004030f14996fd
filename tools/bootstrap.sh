# Sourced by tools/test.sh and tools/demo.sh: makes sure .venv holds the
# project and everything its tests and demo need, then activates it.
#
# Only python3 (3.10 or later) with the venv module and pip is required on
# the machine. The environment is rebuilt whenever a requirements or
# constraints file changes. pip's output goes to a log file in the
# environment, shown only when pip fails: even with --quiet, pip and the
# build backends print warnings that say nothing about this project.

_venv=${NOVA_HA_EXT_VENV:-.venv}
_stamp_src=$(cat requirements.txt test-requirements.txt upper-constraints.txt setup.cfg | sha256sum | cut -d' ' -f1)

if [ ! -x "$_venv/bin/python" ] || [ "$(cat "$_venv/.installed" 2>/dev/null)" != "$_stamp_src" ]; then
    echo "Preparing $_venv (first run takes about two minutes) ..."
    python3 -m venv "$_venv"
    _pip_log=$_venv/pip.log
    if ! {
        "$_venv/bin/python" -m pip install --quiet --upgrade pip &&
        "$_venv/bin/python" -m pip install --quiet \
            -c upper-constraints.txt \
            -r requirements.txt -r test-requirements.txt -e .
    } > "$_pip_log" 2>&1; then
        echo "pip could not prepare $_venv; the end of its output" \
            "($_pip_log):" >&2
        tail -n 40 "$_pip_log" >&2
        return 1
    fi
    echo "$_stamp_src" > "$_venv/.installed"
fi
# shellcheck disable=SC1091
. "$_venv/bin/activate"
