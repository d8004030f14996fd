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


"""The gauges of a worker and of the pools it owns, read at scrape time.

Which pools a worker owns changes whenever workers come and go; gauges set
at each pass would leave a pool that moved away reported by two workers.
:class:`WorkerCollector` instead reads, at each scrape, the coordinator's
view and the recorder's latest figures, and reports a pool only while this
worker owns it.
"""

from prometheus_client import core
from prometheus_client import registry as prom_registry

#: Per pool, from its latest pass: (metric name, help, PoolFigures field).
POOL_GAUGES = (
    ('nova_ha_pool_reachable', 'Whether the pool answered its latest '
     'pass (1) or not (0).', 'reachable'),
    ('nova_ha_pool_ready', 'Whether XenServer HA can restart the pool\'s '
     'protected VMs (1) or not (0, also when the pool did not answer); '
     'see nova-ha-manage status for the reasons.', 'ready'),
    ('nova_ha_pool_ha_plan_exists_for', 'Host failures the pool\'s HA plan '
     'covers (pool.ha_plan_exists_for).', 'ha_plan_exists_for'),
    ('nova_ha_pool_hosts_live', 'Hosts of the pool that are live '
     '(host_metrics.live).', 'hosts_live'),
    ('nova_ha_pool_hosts', 'Hosts of the pool.', 'hosts'),
    ('nova_ha_pool_instances_out_of_sync', 'Instances the latest pass '
     'found out of step with the pool, skipped and pending ones included.',
     'out_of_sync'),
    ('nova_ha_pool_instances_skipped', 'Instances the latest pass left '
     'alone because the views were uncertain (a task in progress, a VM on '
     'a host that is not live, ...).', 'skipped'),
    ('nova_ha_pool_instances_pending', 'Instances whose protected VM '
     'XenServer HA may still be restarting.', 'pending'),
    ('nova_ha_pool_out_of_sync_passes', 'Consecutive passes that found '
     'instances out of sync, pending ones aside.', 'out_of_sync_passes'),
    ('nova_ha_pool_last_pass_timestamp_seconds', 'When the latest pass '
     'over the pool ended, in seconds since the epoch.', 'passed_at'),
)


class WorkerCollector(prom_registry.Collector):
    """Reports this worker and the pools it owns now.

    :param recorder: the :class:`~nova_ha_ext.metrics.recorder.Recorder`
        holding each pool's latest figures.
    :param coordinator: the worker's
        :class:`~nova_ha_ext.reconcile.coordination.PoolCoordinator`.
    :param pools: returns the names of every pool discovered.
    """

    def __init__(self, recorder, coordinator, pools):
        self._recorder = recorder
        self._coordinator = coordinator
        self._pools = pools

    def collect(self):
        coordinator = self._coordinator
        worker = coordinator.member_id
        names = sorted(self._pools())
        owned = set(coordinator.owned(names))
        figures = self._recorder.figures()
        for name, doc, field in POOL_GAUGES:
            gauge = core.GaugeMetricFamily(name, doc, labels=('pool',))
            for pool in names:
                value = getattr(figures.get(pool), field, None)
                if pool in owned and value is not None:
                    gauge.add_metric((pool,), float(value))
            yield gauge
        info = core.GaugeMetricFamily(
            'nova_ha_pool_owner_info', 'The worker that owns each pool, '
            'as this worker sees the group; worker is empty when no live '
            'worker owns it.', labels=('pool', 'worker'))
        for pool, owner in sorted(coordinator.owners(names).items()):
            info.add_metric((pool, owner or ''), 1.0)
        yield info
        yield _worker_gauge(
            'nova_ha_worker_pools_owned', 'Pools this worker reconciles.',
            worker, len(owned))
        yield _worker_gauge(
            'nova_ha_worker_coordination_healthy', 'Whether this worker is '
            'in touch with the coordination backend and its group (1), or '
            'acts on no pool (0). Without a backend: whether it runs.',
            worker, 1.0 if coordinator.healthy else 0.0)


def _worker_gauge(name, doc, worker, value):
    gauge = core.GaugeMetricFamily(name, doc, labels=('worker',))
    gauge.add_metric((worker,), float(value))
    return gauge
