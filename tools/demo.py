#!/usr/bin/env python3
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

"""The nova-ha-ext demo: XenServer HA pools under real Nova, in one process.

    ./tools/demo.sh            # prepares .venv, then runs this

It starts the XenAPI pool simulator with two pools, runs Nova (API,
scheduler with HAAggregateFilter enabled from config, conductor, placement
and one XenAPI-backed nova-compute per XenServer host), creates the HA
aggregate and flavor through the API, boots servers, fails a XenServer
host, lets XenServer HA restart the protected VMs and the event-driven
reconciler bring Nova up to date, and shows Nova's view before and after.
Every step is checked; the exit code is non-zero if one did not behave as
shown. Logs go to a file, named at the start.
"""

import itertools
import logging
import os
import statistics
import sys
import tempfile
import textwrap
import time
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

# Everything Nova and eventlet say goes to the log file, from the start.
_fd, LOG_PATH = tempfile.mkstemp(prefix='nova-ha-demo-', suffix='.log')
os.close(_fd)
# One handler for the whole run, closed at the end: Nova's logging set-up
# removes the root logger's handlers, and a handler nothing refers to any
# more is an unclosed file.
LOG_HANDLER = logging.FileHandler(LOG_PATH)
LOG_HANDLER.setFormatter(logging.Formatter(
    '%(asctime)s %(levelname)s [%(name)s] %(message)s'))
logging.getLogger().addHandler(LOG_HANDLER)
logging.getLogger().setLevel(logging.INFO)
logging.captureWarnings(True)
warnings.simplefilter('default')

# Nova's functional harness wants eventlet patching before anything else.
from nova import monkey_patch  # noqa: E402
monkey_patch.patch()

from nova import context as nova_context  # noqa: E402
from nova import objects  # noqa: E402
from nova.tests import fixtures as nova_fixtures  # noqa: E402
from nova.tests.functional.api import client as api_client  # noqa: E402

from nova_ha_ext.cmd import manage  # noqa: E402
from nova_ha_ext import conf as ha_conf  # noqa: E402
from nova_ha_ext.reconcile import runner  # noqa: E402
from nova_ha_ext.testing import waiting  # noqa: E402
from nova_ha_ext.testing import xenapi_pools  # noqa: E402

OUT = sys.__stdout__
#: The volume ha-1 has attached (Nova's Cinder fixture fakes any id).
VOLUME = '8d6b3c4e-5f71-4a2b-9c0d-1e2f3a4b5c6d'


def say(text=''):
    OUT.write(text + '\n')
    OUT.flush()


def show_table(headers, rows):
    """``nova-ha-manage``'s plain text table, indented under a step."""
    say(textwrap.indent(manage.table(headers, rows), '    '))


def host_columns(hosts, vms, failed):
    """The VMs of a pool under their hosts: one column per host.

    :param hosts: the pool's host names, in column order.
    :param vms: (VM name, host or None) pairs; VMs on no host are listed
        below the table.
    :param failed: the failed host, marked in its column's heading.
    """
    columns = [[name for name, host in vms if host == h] for h in hosts]
    headers = ['%s (FAILED)' % h if h == failed else h for h in hosts]
    show_table(headers, list(itertools.zip_longest(*columns, fillvalue='')))
    nowhere = [name for name, host in vms if host is None]
    if nowhere:
        say('    halted, on no host: %s' % ', '.join(nowhere))


class DemoFailed(AssertionError):
    pass


def check(condition, what):
    if not condition:
        raise DemoFailed(what)


class Demo(xenapi_pools.XenAPIPoolsTestCase):
    """The demo, as one scripted run of Nova's functional harness."""

    POOLS = {'pool-a': True, 'pool-b': False}
    CREATE_AGGREGATES = False
    log_path = LOG_PATH

    def setUp(self):
        self.t0 = time.monotonic()
        super().setUp()
        # Nova's Cinder fixture, with a handle on its attachments.
        self.cinder = self.useFixture(nova_fixtures.CinderFixture(self))

    def step(self, n, text):
        say('\n[%d/6] %s' % (n, text))

    def test_demo(self):
        # Nova's fixtures have replaced the root logger's handlers.
        logging.getLogger().addHandler(LOG_HANDLER)
        self.addCleanup(logging.getLogger().removeHandler, LOG_HANDLER)

        self.step(1, 'XenAPI pool simulator on loopback (real XML-RPC)')
        rows = []
        for pool in sorted(self.POOLS):
            ha = self.sim.ha(pool)
            hosts = ' '.join(h['hostname'] for h in self.sim.hosts(pool))
            rows.append([pool, hosts, 'enabled' if ha['enabled'] else
                         'disabled', self.sim_fixture.pool(pool).url])
        show_table(['pool', 'hosts', 'XenServer HA', 'master URL'], rows)

        self.step(2, 'Nova in-process: API, scheduler, conductor, placement '
                     'and %d XenAPI-backed computes' % len(self.computes))
        say('    nova.conf [filter_scheduler] enabled_filters = %s'
            % ','.join(self.enabled_filters))
        say('    compute driver: XenAPIFakeDriver + XenAPIPoolHAMixin '
            '(started in %.1f s)' % (time.monotonic() - self.t0))
        rows = []
        for host in sorted(self.computes):
            node = objects.ComputeNode.get_by_nodename(self.ctxt, host)
            traits = self._get_provider_traits(
                self._get_provider_uuid_by_host(host))
            rows.append([host, node.stats.get('xenapi_pool_ha_ready'),
                         'yes' if 'CUSTOM_XENAPI_POOL_HA_READY' in traits
                         else 'no',
                         node.stats.get('xenapi_pool_ha_not_ready_reasons')
                         or '-'])
        show_table(['compute node', 'stat xenapi_pool_ha_ready',
                    'trait CUSTOM_XENAPI_POOL_HA_READY', 'why not'], rows)
        check(all(r[2] == 'yes' for r in rows if r[0].startswith('xs-a')),
              'pool-a computes should carry the HA-ready trait')
        check(all(r[2] == 'no' for r in rows if r[0].startswith('xs-b')),
              'pool-b computes should not carry the HA-ready trait')

        self.step(3, 'The operator creates aggregates and flavors '
                     '(through the API)')
        for pool in sorted(self.POOLS):
            info = self.sim_fixture.pool(pool)
            members = sorted(info.member_urls)
            url = info.member_urls[members[0]]
            self.aggregates[pool] = self._create_ha_aggregate(
                pool, members, xenapi_pool_url=url)
            say('    openstack aggregate create %s; openstack aggregate set '
                '--property ha=true --property xenapi_pool_url=%s %s; '
                '+ %d hosts' % (pool, url, pool, len(members)))
        ha_flavor = self.ha_flavor('m1.ha', memory_mb=2048)
        say('    openstack flavor create m1.ha; openstack flavor set '
            '--property ha=true m1.ha            -> accepted')
        self.admin_api.microversion = '2.86'
        try:
            self.admin_api.post_extra_spec(
                ha_flavor, {'extra_specs': {'ha': 'maybe'}})
            check(False, 'ha=maybe should be refused')
        except api_client.OpenStackApiException as exc:
            check(exc.response.status_code == 400, 'expected HTTP 400')
            message = exc.response.json()['badRequest']['message']
            check("'ha'" in message, 'the message should name the key')
            say('    openstack flavor set --property ha=maybe m1.ha'
                '            -> HTTP 400: %s' % message)
        finally:
            self.admin_api.microversion = 'latest'
        plain_flavor = self.plain_flavor('m1.plain', memory_mb=2048)
        say('    openstack flavor create m1.plain'
            '            -> accepted (no ha: its servers are not protected)')

        self.step(4, 'Boot 4 HA servers and 2 plain servers; ha-1 has a '
                     'port and a volume')
        servers = []
        for i, host in enumerate(('xs-a2', 'xs-a2', 'xs-a3', None)):
            servers.append(self._create_server(
                name='ha-%d' % (i + 1), flavor_id=ha_flavor,
                networks=[{'uuid': self.neutron.network_1['id']}]
                if i == 0 else 'none', host=host))
        self._attach_volume(servers[0], VOLUME)
        wiring_before = self._wiring(servers[0])
        for i, host in enumerate(('xs-a2', None)):
            servers.append(self._create_server(
                name='plain-%d' % (i + 1), flavor_id=plain_flavor,
                networks='none', host=host))
        before = self._nova_view(servers)
        rows = []
        for s in servers:
            vm = self._vm(s)
            rows.append([s['name'], 'm1.ha' if s['name'].startswith('ha')
                         else 'm1.plain', before[s['id']], vm['host'],
                         vm['ha_restart_priority'] or '(unprotected)'])
        show_table(['server', 'flavor', 'Nova host', 'VM runs on',
                    'ha_restart_priority'], rows)
        check(all(r[2].startswith('xs-a') for r in rows
                  if r[1] == 'm1.ha'), 'HA servers must land on pool-a')
        check(all(r[4] == 'restart' for r in rows if r[1] == 'm1.ha'),
              'HA servers must be protected')
        reasons = objects.ComputeNode.get_by_nodename(
            self.ctxt, 'xs-b1').stats.get('xenapi_pool_ha_not_ready_reasons')
        say('    No HA server went to pool-b: it is not HA-ready (%s), and '
            'HAAggregateFilter keeps ha=true flavors off such pools '
            '([ha_filter] require_pool_ha_ready).' % reasons)
        pool_a_hosts = [h['hostname'] for h in self.sim.hosts('pool-a')]
        pool_a_vms = {}
        for s in servers:
            host = self._vm(s)['host']
            if host in pool_a_hosts:
                pool_a_vms[s['name']] = (s, host)

        self.step(5, 'Host xs-a2 fails; XenServer HA restarts the '
                     'protected VMs; the reconciler follows')
        self.flags(interval=3600, event_timeout=5.0,
                   event_settle_seconds=0.1, group='ha_reconciler')
        service = runner.ReconcilerRunner(
            ha_conf.CONF, nova_context.get_admin_context)
        service.start()
        self.addCleanup(service.stop)
        self._wait(lambda: 'pool-a' in service.last_reports, 20,
                   'the first full pass')
        self._wait(lambda: service.watcher('pool-a') is not None and
                   service.watcher('pool-a').seeded.is_set(), 20,
                   'the watcher of pool-a holding its baseline')
        on_failed = [s for s in servers if before[s['id']] == 'xs-a2']
        t_fail = time.monotonic()
        self.sim.fail_host('pool-a', 'xs-a2')
        say('    A real pool first waits out its HA timeout (60 s by default) '
            'before it declares a host dead;')
        say('    the simulator waits 0.05 s. The times below start when the '
            'host fails.')
        say('    t+0.00 s  xs-a2 fails (nova-ha-reconciler is watching '
            'pool-a with event.from)')
        running, updated = {}, {}
        protected = sum(1 for s in on_failed if s['name'].startswith('ha'))

        def observe():
            """Say what happened since the last look; True when Nova has
            followed every protected server.
            """
            now = time.monotonic() - t_fail
            for s in on_failed:
                vm = self._vm(s)
                if (s['id'] not in running and vm['host'] not in
                        (None, 'xs-a2') and vm['power_state'] == 'Running'):
                    running[s['id']] = now
                    say('    t+%.2f s  XenServer: %s is Running on %s'
                        % (now, s['name'], vm['host']))
                host = objects.Instance.get_by_uuid(
                    self.ctxt, s['id']).host
                if s['id'] not in updated and host != 'xs-a2':
                    updated[s['id']] = now
                    say('    t+%.2f s  Nova:      %s moved to %s '
                        '(ha-relocate)' % (now, s['name'], host))
            return len(updated) >= protected

        self._wait(observe, 30, 'Nova following the restarted VMs',
                   interval=0.02)
        self.sim.wait_until_quiet('pool-a')
        latencies = [updated[k] - running[k] for k in updated
                     if k in running]
        check(latencies, 'Nova should follow the restarted VMs')

        self.step(6, "XenServer's and Nova's views, before and after")
        say('    pool-a before:')
        host_columns(pool_a_hosts, [(name, host) for name, (_s, host)
                                    in pool_a_vms.items()], None)
        say('    pool-a after:')
        vms_after = []
        for name, (s, host_before) in pool_a_vms.items():
            host = self._vm(s)['host']
            moved = host not in (None, host_before)
            vms_after.append(('%s (moved)' % name if moved else name, host))
        host_columns(pool_a_hosts, vms_after, 'xs-a2')
        say()
        after = self._nova_view(servers)
        rows = []
        for s in servers:
            vm = self._vm(s)
            rp_hosts = sorted(
                self._host_of_rp(rp) for rp in
                self._get_allocations_by_server_uuid(s['id']))
            events = [a['action'] for a in
                      self.api.get_instance_actions(s['id'])]
            rows.append([s['name'], before[s['id']], after[s['id']],
                         '%s (%s)' % (vm['host'] or '-', vm['power_state']),
                         ','.join(rp_hosts),
                         'ha-relocate' if 'ha-relocate' in events else '-'])
        show_table(['server', 'Nova host before', 'Nova host after',
                    'VM (power)', 'allocations on', 'event list'], rows)
        for s in servers:
            vm = self._vm(s)
            if vm['power_state'] == 'Running':
                check(after[s['id']] == vm['host'],
                      '%s: Nova must say where the VM runs' % s['name'])
            else:
                check(after[s['id']] == before[s['id']],
                      '%s: an unprotected halted VM stays put' % s['name'])
        check(not objects.MigrationList.get_by_filters(
            self.ctxt, {}).objects, 'no migration record may exist')
        ha_1 = servers[0]
        vm_host = self._vm(ha_1)['host']
        self._wait(lambda: self._wiring(ha_1)['port'] == vm_host, 10,
                   "ha-1's port to follow it")
        wiring_after = self._wiring(ha_1)
        say("\n    ha-1's port and volume follow it (Neutron and Cinder as "
            "Nova's own fixtures model them):")
        show_table(['ha-1', 'before', 'after'], [
            ['port %s bound to' % wiring_after['port_id'][:8],
             wiring_before['port'], wiring_after['port']],
            ['port bindings', wiring_before['bindings'],
             wiring_after['bindings']],
            ['volume %s attachment' % VOLUME[:8],
             wiring_before['attachment'], wiring_after['attachment']],
            ['attachment connector', wiring_before['connector'],
             wiring_after['connector']],
        ])
        check(wiring_after['bindings'] == '%s (ACTIVE)' % vm_host,
              "ha-1's port must have one binding, on its new host")
        check(wiring_after['connector'].startswith(vm_host + ' '),
              "ha-1's volume must be attached to its new host")
        check(wiring_after['attachment'] != wiring_before['attachment'],
              "ha-1's volume must have a new attachment")
        check(wiring_before['connector'].startswith('xs-a2 '),
              "ha-1's volume was attached to xs-a2")
        say('\n    Reconcile latency, VM running -> Nova updated: median '
            '%.2f s, max %.2f s (%d servers)' % (
                statistics.median(latencies), max(latencies),
                len(latencies)))
        report = service.last_reports['pool-a']
        for r in report.results:
            if r.action.kind == 'skip':
                name = [s['name'] for s in servers
                        if s['id'] == r.action.instance_uuid]
                say('    %s: %s' % (name[0] if name else
                                    r.action.instance_uuid, r.detail))
        say('    Nothing was deleted, stopped or duplicated; no migration '
            'record exists.')

    def _wiring(self, server):
        """Where a server's one port and volume are bound, as text."""
        [port] = [p for p in self.neutron._ports.values()
                  if p['device_id'] == server['id']]
        [attachment] = self.cinder.volume_to_attachment[VOLUME].values()
        connector = attachment['connector'] or {}
        return {
            'port_id': port['id'],
            'port': port['binding:host_id'],
            'bindings': ', '.join(
                '%s (%s)' % (host, b['status']) for host, b in sorted(
                    self.neutron._port_bindings[port['id']].items())),
            'attachment': attachment['id'][:8],
            'connector': '%s %s' % (connector.get('host'),
                                    connector.get('initiator')),
        }

    def _nova_view(self, servers):
        return {s['id']: objects.Instance.get_by_uuid(
            self.ctxt, s['id']).host for s in servers}

    def _vm(self, server):
        for pool in sorted(self.POOLS):
            try:
                return self.sim.vm(pool, server['id'])
            except Exception:
                continue
        raise DemoFailed('no VM for %s' % server['name'])

    def _host_of_rp(self, rp_uuid):
        return self.placement.get(
            '/resource_providers/%s' % rp_uuid).body['name']

    def _wait(self, predicate, timeout, what, interval=0.05):
        try:
            return waiting.wait_for(predicate, timeout, what,
                                    interval=interval)
        except AssertionError as exc:
            raise DemoFailed(str(exc)) from None


def _send_output_to_log():
    """Keep the terminal for the demo's own lines: fds 1 and 2 go to the log.

    Some Nova handlers write to stdout directly, even during cleanup.
    """
    global OUT
    sys.stdout.flush()
    sys.stderr.flush()
    OUT = os.fdopen(os.dup(1), 'w', buffering=1)
    log_fd = os.open(LOG_PATH, os.O_WRONLY | os.O_APPEND)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)


def main():
    start = time.monotonic()
    log_path = LOG_PATH
    _send_output_to_log()
    say('nova-ha-ext demo: XenServer HA pools under real Nova 34, in one '
        'process.')
    say('Logs: %s' % log_path)
    result = unittest.TestResult()
    Demo('test_demo').run(result)
    problems = result.errors + result.failures
    if problems:
        for _test, trace in problems:
            last = trace.strip().splitlines()[-1]
            say('\nDEMO FAILED: %s' % last)
            with open(log_path, 'a') as log:
                log.write(trace)
        say('Details in %s' % log_path)
        return 1
    say('\nDemo passed in %.0f s.' % (time.monotonic() - start))
    return 0


def _main():
    try:
        return main()
    finally:
        LOG_HANDLER.close()


if __name__ == '__main__':
    sys.exit(_main())
