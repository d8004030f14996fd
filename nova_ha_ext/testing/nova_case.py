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

"""Base class for functional tests: real Nova in-process.

Nova's own fixtures run the API, conductor, scheduler, placement and fake
computes in this process. Tests configure nova-ha-ext exactly as an operator
does in nova.conf.

Importing this module imports ``nova.tests.functional``, whose
``__init__`` monkey-patches the process with eventlet. Use it only where
Nova runs in-process (the functional tests, the demo, the reconciler
benchmark's measuring process), and patch first, before anything else is
imported, as ``tests/functional/__init__.py`` does:
``from nova import monkey_patch; monkey_patch.patch()``.
"""

import os
import sys

from nova import context as nova_context
from nova import objects
from nova.tests.functional import integrated_helpers

FILTER_PATH = 'nova_ha_ext.scheduler.filters.ha_aggregate.HAAggregateFilter'
DEFAULT_FILTERS = [
    'ComputeFilter', 'ComputeCapabilitiesFilter', 'ImagePropertiesFilter',
    'ServerGroupAntiAffinityFilter', 'ServerGroupAffinityFilter',
]


class NovaHATestCase(integrated_helpers.ProviderUsageBaseTestCase):
    """Real Nova with the nova-ha-ext scheduler filter enabled from config.

    Subclasses may set ``compute_driver`` and override ``enabled_filters``.
    """

    compute_driver = 'fake.MediumFakeDriver'
    #: The filters an operator lists in [filter_scheduler] enabled_filters.
    enabled_filters = DEFAULT_FILTERS + ['HAAggregateFilter']

    def setUp(self):
        # The API fixture loads api-paste.ini from beside the nova package,
        # but the wheel installs it under <prefix>/etc/nova.
        self.flags(api_paste_config=os.path.join(
            sys.prefix, 'etc', 'nova', 'api-paste.ini'), group='wsgi')
        # As in nova.conf: keep Nova's filters available and add ours.
        self.flags(available_filters=[
            'nova.scheduler.filters.all_filters', FILTER_PATH],
            group='filter_scheduler')
        self.flags(enabled_filters=self.enabled_filters,
                   group='filter_scheduler')
        super().setUp()
        self.ctxt = nova_context.get_admin_context()

    def _clear_attrs(self):
        # nova.test.TestCase deletes every public attribute at cleanup, which
        # includes the bound test method pytest's unittest runner still needs.
        for key in [k for k in self.__dict__
                    if k[0] != '_' and k != 'id' and not k.startswith('test')]:
            del self.__dict__[key]

    # Helpers shared by the functional tests.

    def _create_ha_aggregate(self, name, hosts, ha='true', **metadata):
        """Create an aggregate through the API, tag it, add hosts."""
        agg = self.admin_api.post_aggregate(
            {'aggregate': {'name': name}})
        meta = dict(metadata)
        if ha is not None:
            meta['ha'] = ha
        if meta:
            self.admin_api.post_aggregate_action(
                agg['id'], {'set_metadata': {'metadata': meta}})
        for host in hosts:
            self.admin_api.add_host_to_aggregate(agg['id'], host)
        return agg

    def _create_flavor_with_specs(self, name, extra_specs, memory_mb=512,
                                  vcpu=1, disk=1):
        flavor_id = self._create_flavor(
            memory_mb=memory_mb, vcpu=vcpu, disk=disk, name=name)
        if extra_specs:
            self.admin_api.post_extra_spec(
                flavor_id, {'extra_specs': extra_specs})
        return flavor_id

    def _instance_host(self, server_id):
        return objects.Instance.get_by_uuid(self.ctxt, server_id).host
