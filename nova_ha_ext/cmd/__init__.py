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

# Importing Nova imports eventlet, which prints a deprecation banner; these
# commands never use eventlet.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')


def database_hint(exc):
    """A hint for errors that mean nova.conf was not given."""
    if 'sql_connection' in str(exc) or 'connection' in str(exc).lower():
        return (" (pass --config-file /etc/nova/nova.conf: the command "
                "needs its [api_database] and [database] connections)")
    return ''
