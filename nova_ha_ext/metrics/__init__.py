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


"""Prometheus metrics of nova-ha-reconciler.

Off unless ``[ha_reconciler] metrics_listen`` is set. The passes return
reports (:mod:`nova_ha_ext.reconcile.engine`); :mod:`.recorder` turns them
into counters and histograms and keeps each pool's latest figures;
:mod:`.collector` reports the worker and the pools it owns at scrape time;
:mod:`.exporter` serves them from a registry of the project's own.
``doc/alerts/`` has alerting rules over them.

Other parts of the reconciler count what they see through the functions
here, which do nothing while metrics are off.
"""


def ha_message(pool, name):
    """Count a XenServer HA message (``HA_HOST_FAILED``, ...) of ``pool``.

    A no-op while metrics are off; never raises.
    """
    from nova_ha_ext.metrics import exporter

    recorder = exporter.active()
    if recorder is not None:
        recorder.ha_message(pool, name)
