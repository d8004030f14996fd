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

from nova_ha_ext.conf import coordination
from nova_ha_ext.conf import ha_filter
from nova_ha_ext.conf import reconciler
from nova_ha_ext.conf import xenapi

CONF = cfg.CONF

# Every module here exposes register_opts(conf) and list_opts(); a module may
# also offer validate(conf) for checks that span options.
ALL_MODULES = (
    coordination,
    ha_filter,
    reconciler,
    xenapi,
)


def register_opts(conf=CONF):
    for module in ALL_MODULES:
        module.register_opts(conf)


register_opts(CONF)


def check(conf=CONF):
    """Read every option of nova-ha-ext once; fail on the first bad one.

    oslo.config checks values when they are read; commands call this at
    start-up so that a bad value stops them at once, naming the option.

    :raises oslo_config.cfg.Error: naming the group, option and problem.
    """
    for module in ALL_MODULES:
        for group, opts in module.list_opts().items():
            for opt in opts:
                try:
                    getattr(conf[group.name], opt.dest)
                except (cfg.ConfigFileValueError, ValueError) as exc:
                    problem = str(exc).split('is not valid: ')[-1]
                    raise cfg.Error("invalid value for [%s] %s: %s"
                                    % (group.name, opt.name, problem))
    for module in ALL_MODULES:
        validate = getattr(module, 'validate', None)
        if validate is not None:
            validate(conf)
