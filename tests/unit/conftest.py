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

"""Fixtures shared by unit tests of several packages."""

from oslo_config import cfg
import pytest

from nova_ha_ext import conf as ha_conf


@pytest.fixture
def reconciler_conf():
    """Options of a reconciler that passes only when told to.

    No event watching and an hour between periodic passes, so a test
    decides when each pass happens.
    """
    conf = cfg.ConfigOpts()
    ha_conf.register_opts(conf)
    conf([])
    conf.set_override('watch_events', False, 'ha_reconciler')
    conf.set_override('interval', 3600, 'ha_reconciler')
    yield conf
    # The option groups are shared with every ConfigOpts that registers
    # them, and so are their overrides.
    conf.reset()
