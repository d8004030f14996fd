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

"""A XenAPI pool simulator speaking the real XenAPI XML-RPC wire protocol.

It serves one or more XenServer / XCP-ng pools over loopback, one endpoint
per host, with pool HA (failover planning and restart of protected VMs),
master failover, ``event.from`` and fault injection.  See
``doc/simulator.md``.

    from nova_ha_ext.simulator import fixture
    sim = self.useFixture(fixture.SimulatorFixture(scenario))
    info = sim.pool('pool-a')
    session = XenAPI.Session(info.url)
"""
