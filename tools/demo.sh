#!/usr/bin/env bash
# Runs the demo: XenServer HA pools (the embedded XenAPI simulator) under
# real Nova in one process. Needs only python3 and pip on the machine.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: tools/demo.sh [--help]

The nova-ha-ext demo: XenServer HA pools under real Nova, in one process.
It starts the XenAPI pool simulator with two pools (pool-a HA-ready,
pool-b without HA), runs Nova's API, scheduler (with HAAggregateFilter),
conductor, placement and one XenAPI-backed nova-compute per XenServer
host, boots HA and plain servers, fails a XenServer host, and shows
XenServer HA restarting the protected VMs and nova-ha-reconciler bringing
Nova up to date.

It takes about 30 seconds (the first run first creates .venv, about two
minutes), writes Nova's logs to a file it names, and exits non-zero if
any step does not behave as shown.
USAGE
}

case "${1:-}" in
    "")
        ;;
    -h|--help)
        usage
        exit 0
        ;;
    *)
        echo "demo.sh: unknown argument: $1" >&2
        usage >&2
        exit 2
        ;;
esac

cd "$(dirname "$0")/.."
. tools/bootstrap.sh
exec python tools/demo.py
