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

"""Base class for functional tests with XenServer pools: real Nova computes
running the XenAPI-backed test driver against the pool simulator.

Like :mod:`nova_ha_ext.testing.nova_case`, it belongs in a process that
runs Nova in-process, patched with ``nova.monkey_patch.patch()`` before
anything else is imported.

Two pools, each a Nova aggregate with ``ha=true`` and its pool URL:

* ``pool-a``: three hosts ``xs-a1..3``, HA enabled and ready;
* ``pool-b``: three hosts ``xs-b1..3``, HA disabled (not ready).
"""

import argparse
import io

from nova_ha_ext.cmd import manage
from nova_ha_ext.simulator import fixture as sim_fixture
from nova_ha_ext.testing import nova_case
from nova_ha_ext.testing import pools
from nova_ha_ext.virt.xenapi import fake as xenapi_fake

DRIVER = xenapi_fake.register_with_nova()
PASSWORD = 'xenroot-secret'
HOST_MEMORY_MB = pools.HOST_MEMORY_MB


def pool_scenario(name, ha, **kwargs):
    """:func:`pools.letter_pool` with this harness's password."""
    return pools.letter_pool(name, ha, PASSWORD, **kwargs)


class XenAPIPoolsTestCase(nova_case.NovaHATestCase):
    """Nova with XenAPI-backed computes on two simulated pools."""

    compute_driver = DRIVER
    #: pool name -> HA enabled at start
    POOLS = {'pool-a': True, 'pool-b': False}
    #: Create each pool's aggregate (ha=true, xenapi_pool_url) in setUp.
    CREATE_AGGREGATES = True

    def scenario(self):
        return {'pools': [pool_scenario(name, ha)
                          for name, ha in sorted(self.POOLS.items())]}

    def setUp(self):
        super().setUp()
        self.sim_fixture = self.useFixture(
            sim_fixture.SimulatorFixture(self.scenario()))
        self.sim = self.sim_fixture.simulator
        self.flags(connection_username='root', connection_password=PASSWORD,
                   pool_state_cache_seconds=0, connect_timeout=2.0,
                   read_timeout=10.0, allow_plain_http=True,
                   group='xenapi')
        self.aggregates = {}
        for pool in sorted(self.POOLS):
            info = self.sim_fixture.pool(pool)
            members = sorted(info.member_urls)
            started = [h for h in members
                       if self.start_xenapi_compute(pool, h) is not None]
            if not self.CREATE_AGGREGATES:
                continue
            self.aggregates[pool] = self._create_ha_aggregate(
                pool, started, xenapi_pool_url=self.pool_url(pool))

    def pool_url(self, pool):
        """The aggregate's xenapi_pool_url: every member, comma-separated."""
        info = self.sim_fixture.pool(pool)
        return ','.join(info.member_urls[h] for h in sorted(info.member_urls))

    def start_xenapi_compute(self, pool, hostname):
        """Start nova-compute for one XenServer host of ``pool``."""
        info = self.sim_fixture.pool(pool)
        # Each compute reads [xenapi] connection_url once, at init_host.
        self.flags(connection_url=info.member_urls[hostname], group='xenapi')
        return self._start_compute(hostname)

    def run_manage(self, *argv):
        """``nova-ha-manage`` with these arguments, in this process.

        :returns: its exit code and what it printed.
        """
        parser = argparse.ArgumentParser(prog='nova-ha-manage')
        manage._add_parsers(parser.add_subparsers())
        out = io.StringIO()
        code = manage.run(self.ctxt, parser.parse_args(argv), out)
        return code, out.getvalue()

    def add_disk(self, pool, server, sr_name):
        """Give a server's VM a disk on an SR of its pool, through XenAPI."""
        api = self.xenapi(pool)
        [sr] = api.SR.get_by_name_label(sr_name)
        vm = api.VM.get_by_uuid(self.vm_of(pool, server)['uuid'])
        vdi = api.VDI.create(pools.vdi_record(sr))
        api.VBD.create(pools.vbd_record(vm, vdi))

    def xenapi(self, pool):
        """A logged-in XenAPI session's ``xenapi`` proxy to ``pool``."""
        import XenAPI
        info = self.sim_fixture.pool(pool)
        session = XenAPI.Session(info.url)
        session.xenapi.login_with_password(info.username, info.password,
                                           '1.0', 'tests')
        self.addCleanup(session('close'))
        return session.xenapi

    def ha_flavor(self, name='ha.small', memory_mb=1024):
        return self._create_flavor_with_specs(name, {'ha': 'true'},
                                              memory_mb=memory_mb)

    def plain_flavor(self, name='plain.small', memory_mb=1024):
        return self._create_flavor_with_specs(name, {}, memory_mb=memory_mb)

    def boot(self, flavor_id, name='server', expected_state='ACTIVE'):
        return self._create_server(name=name, flavor_id=flavor_id,
                                   networks='none',
                                   expected_state=expected_state)

    def vm_of(self, pool, server):
        """The simulator's record of a server's VM."""
        return self.sim.vm(pool, server['id'])
