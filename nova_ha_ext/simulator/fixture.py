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

"""A ``fixtures.Fixture`` running a XenAPI pool simulator for a test.

::

    sim = self.useFixture(fixture.SimulatorFixture(scenario))
    info = sim.pool('pool-a')
    session = XenAPI.Session(info.url)
    session.xenapi.login_with_password(info.username, info.password)
    sim.simulator.fail_host('pool-a', 'xs-a2')
"""

import fixtures

from nova_ha_ext.simulator import control

PoolInfo = control.PoolInfo


class SimulatorFixture(fixtures.Fixture):
    """Start a :class:`~nova_ha_ext.simulator.control.Simulator`; stop it
    (closing every socket and joining every thread) at cleanup.

    :param scenario: a scenario mapping or a path to a YAML/JSON file.
    :param tls: serve HTTPS; ``PoolInfo.ca_file`` is the CA to trust.
    :param control_port: also serve the HTTP JSON control interface (0
        picks a port; see ``simulator.control_url``).
    """

    def __init__(self, scenario, tls=False, control_port=None):
        super(SimulatorFixture, self).__init__()
        self.scenario = scenario
        self.tls = tls
        self.control_port = control_port
        self.simulator = None

    def _setUp(self):
        self.simulator = control.Simulator(self.scenario, tls=self.tls,
                                           control_port=self.control_port)
        self.addCleanup(self.simulator.stop)
        self.simulator.start()

    def pool(self, name):
        """The :class:`PoolInfo` of a pool (current master URL)."""
        return self.simulator.pool(name)
