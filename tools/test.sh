#!/usr/bin/env bash
# Runs the whole test suite: the unit tests (including the XenAPI simulator
# over loopback) and the functional tests against real Nova in-process.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/bootstrap.sh
exec python tools/run_tests.py "$@"
