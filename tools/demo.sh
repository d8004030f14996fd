#!/usr/bin/env bash
# Runs the demo: XenServer HA pools (the embedded XenAPI simulator) under
# real Nova in one process. Needs only python3 and pip on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/bootstrap.sh
exec python tools/demo.py "$@"
