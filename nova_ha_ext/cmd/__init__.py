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

"""Command-line entry points of nova-ha-ext."""

import warnings

from oslo_config import cfg

# Importing Nova imports eventlet, which prints a deprecation banner; these
# commands never use eventlet.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')


def parse_args(argv, description=None):
    """Parse the command line and configuration files as Nova's commands do.

    The same steps as ``nova.config.parse_args``, except that ``--version``
    prints nova-ha-ext's version, not Nova's, and ``--help`` starts with
    ``description``.
    """
    from nova import config as nova_config
    from nova.db.api import api as api_db_api
    from nova.db.main import api as main_db_api
    from nova import rpc
    from oslo_log import log

    from nova_ha_ext import conf as ha_conf
    from nova_ha_ext import version

    log.register_options(ha_conf.CONF)
    nova_config.set_lib_defaults()
    ha_conf.CONF(argv[1:], project='nova',
                 version=version.version_string(), description=description)
    rpc.init(ha_conf.CONF)
    main_db_api.configure(ha_conf.CONF)
    api_db_api.configure(ha_conf.CONF)


def check_database(conf):
    """Fail unless Nova's two database connections are configured.

    :raises oslo_config.cfg.Error: saying which are missing and what to
        pass.
    """
    missing = ['[%s] connection' % group
               for group in ('api_database', 'database')
               if not conf[group].connection]
    if missing:
        raise cfg.Error(
            "no database configured: %s %s unset (pass --config-file "
            "/etc/nova/nova.conf: the command needs its [api_database] and "
            "[database] connections)" % (' and '.join(missing),
                                         'is' if len(missing) == 1
                                         else 'are'))


def database_hint(exc):
    """A hint for errors that mean nova.conf was not given."""
    if 'sql_connection' in str(exc) or 'connection' in str(exc).lower():
        return (" (pass --config-file /etc/nova/nova.conf: the command "
                "needs its [api_database] and [database] connections)")
    return ''
