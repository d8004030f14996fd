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

"""The oslo.service wrapper that starts and stops the loop in a daemon.

Import it only after choosing oslo.service's backend (the command does).
"""

from oslo_service import service

from nova_ha_ext.reconcile import runner


class ReconcilerService(service.Service):
    """Runs a :class:`~nova_ha_ext.reconcile.runner.ReconcilerRunner`.

    :param exporter: a :class:`nova_ha_ext.metrics.exporter.Exporter`
        (already listening) whose recorder takes every pass's report, or
        None without metrics.
    """

    def __init__(self, conf, context_factory, exporter=None):
        super().__init__()
        self.exporter = exporter
        self.runner = runner.ReconcilerRunner(
            conf, context_factory,
            recorder=exporter.recorder if exporter else None)
        if exporter is not None:
            exporter.watch(self.runner)

    def start(self):
        super().start()
        if self.exporter is not None:
            self.exporter.start()
        self.runner.start()

    def stop(self, graceful=True):
        # The pass under way finishes; watchers and sessions are closed.
        self.runner.stop()
        if self.exporter is not None:
            self.exporter.stop()
        super().stop(graceful=graceful)
