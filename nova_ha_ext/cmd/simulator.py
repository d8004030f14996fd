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

"""``nova-ha-xapi-simulator``: serve simulated XenServer pools until stopped.

::

    nova-ha-xapi-simulator --scenario etc/nova-ha-ext/simulator-scenario.yaml

prints, for each pool, its master URL and every member's URL, then the
control interface's URL, and serves until SIGINT or SIGTERM.  With
``--json`` it prints one JSON object instead (``pools`` and
``control_url``), for scripts.
"""

import argparse
import json
import logging
import signal
import sys
import threading

from nova_ha_ext.simulator import control
from nova_ha_ext.simulator import scenario as scenario_mod
from nova_ha_ext import version


def _parser():
    parser = argparse.ArgumentParser(
        prog='nova-ha-xapi-simulator',
        description='Serve simulated XenServer/XCP-ng pools speaking the '
                    'XenAPI over loopback.',
        epilog='A sample scenario, two pools of three hosts (one with HA '
               'enabled), is etc/nova-ha-ext/simulator-scenario.yaml in '
               "nova-ha-ext's source tree; doc/simulator.md describes every "
               'key. Example: nova-ha-xapi-simulator --scenario '
               'etc/nova-ha-ext/simulator-scenario.yaml')
    parser.add_argument('--version', action='version',
                        version=version.version_string())
    parser.add_argument('--scenario', required=True, metavar='FILE',
                        help='YAML or JSON scenario describing the pools, '
                             'such as etc/nova-ha-ext/'
                             'simulator-scenario.yaml')
    parser.add_argument('--control-port', type=int, default=0, metavar='N',
                        help='port of the HTTP JSON control interface on '
                             '127.0.0.1 (default: any free port)')
    parser.add_argument('--tls', action='store_true',
                        help='serve HTTPS with a throwaway CA (its path is '
                             'printed)')
    parser.add_argument('--json', action='store_true',
                        help='print the endpoints as one JSON object')
    parser.add_argument('--debug', action='store_true',
                        help='log every request')
    return parser


def _print_endpoints(sim, as_json):
    pools = sim.pools()
    if as_json:
        print(json.dumps({'pools': [p.as_dict() for p in pools],
                          'control_url': sim.control_url,
                          'ca_file': sim.ca_file}, sort_keys=True))
    else:
        for info in pools:
            print('pool %s: master %s %s (user %s)'
                  % (info.name, info.master, info.url, info.username))
            for host, url in info.member_urls.items():
                print('  host %s %s' % (host, url))
        if sim.ca_file:
            print('ca_file %s' % sim.ca_file)
        print('control %s' % sim.control_url)
    sys.stdout.flush()


def main(argv=None):
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    try:
        sim = control.Simulator(args.scenario, tls=args.tls,
                                control_port=args.control_port)
    except scenario_mod.ScenarioError as e:
        print('nova-ha-xapi-simulator: invalid scenario: %s' % e,
              file=sys.stderr)
        return 2
    stop = threading.Event()

    def _on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        sim.start()
    except OSError as e:
        print('nova-ha-xapi-simulator: cannot listen: %s' % e,
              file=sys.stderr)
        return 1
    try:
        _print_endpoints(sim, args.json)
        while not stop.wait(3600):
            pass
    finally:
        sim.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
