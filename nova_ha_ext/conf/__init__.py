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

"""Configuration options of nova-ha-ext.

Each option group lives in its own module; this package registers them all
on a ``ConfigOpts`` (Nova's global ``CONF`` by default) and lists them for
``oslo-config-generator`` through :func:`nova_ha_ext.conf.opts.list_opts`.
"""

from oslo_config import cfg

from nova_ha_ext.conf import ha_filter
from nova_ha_ext.conf import reconciler
from nova_ha_ext.conf import xenapi

CONF = cfg.CONF

# Every module here exposes register_opts(conf) and list_opts().
ALL_MODULES = (
    ha_filter,
    reconciler,
    xenapi,
)


def register_opts(conf=CONF):
    for module in ALL_MODULES:
        module.register_opts(conf)


register_opts(CONF)
