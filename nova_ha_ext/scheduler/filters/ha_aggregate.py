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

"""HAAggregateFilter: keep HA instances on XenServer pools that restart them.

Enable it in nova.conf::

    [filter_scheduler]
    available_filters = nova.scheduler.filters.all_filters
    available_filters = nova_ha_ext.scheduler.filters.ha_aggregate.HAAggregateFilter
    enabled_filters = ...,HAAggregateFilter
"""  # noqa: E501

from oslo_log import log as logging

from nova.scheduler import filters
from nova.scheduler import utils as scheduler_utils

from nova_ha_ext import conf
from nova_ha_ext import ha_spec
from nova_ha_ext.scheduler import headroom

LOG = logging.getLogger(__name__)
CONF = conf.CONF

# (flavor id, keys) already warned about: once per process, not per request.
_warned_flavors = set()


def passes(wants_ha, is_ha, pool_ready, isolate_non_ha, require_pool_ready,
           has_room=None):
    """The filter's verdict on one host, from plain values.

    :param wants_ha: whether the flavor asks for HA (an invalid ``ha``
        value passes no host and never gets here).
    :param is_ha: whether the host is in an HA aggregate.
    :param pool_ready: :func:`~nova_ha_ext.ha_spec.pool_is_ready` of the
        host's stats: True, False, or None when it reports no pool.
    :param isolate_non_ha: ``[ha_filter] isolate_non_ha_instances``.
    :param require_pool_ready: ``[ha_filter] require_pool_ha_ready``.
    :param has_room: whether the host's pool failover plan has room for the
        flavor's memory (its headroom less what this scheduler placed on
        the pool since): True, False, or None when the flavor takes none
        (best-effort) or the host reports no headroom.
    """
    if not wants_ha:
        return not (is_ha and isolate_non_ha)
    return is_ha and not (require_pool_ready and (
        pool_ready is False or has_room is False))


def _answers(wants_ha, is_ha, isolate_non_ha, require_pool_ready):
    """:func:`passes` for a request and an ``is_ha``, over every readiness.

    :returns: the answer when the readiness does not change it (the host's
        stats need not be read), else ``{pool_ready: answer}``.
    """
    by_ready = {ready: passes(wants_ha, is_ha, ready, isolate_non_ha,
                              require_pool_ready)
                for ready in (True, False, None)}
    if len(set(by_ready.values())) == 1:
        return by_ready[True]
    return by_ready


class HAAggregateFilter(filters.BaseHostFilter):
    """Keep instances of HA flavors on HA hosts.

    A host is an HA host when it belongs to at least one aggregate whose
    metadata says ``ha=true`` (see :mod:`nova_ha_ext.ha_spec`).

    * A flavor with the extra spec ``ha=true`` passes HA hosts only; with
      ``[ha_filter] require_pool_ha_ready`` (the default) only those whose
      compute node does not report its pool as not HA-ready. Hosts that
      report no pool stats (no driver mixin) are judged by aggregates alone.
    * Any other flavor passes every host, unless
      ``[ha_filter] isolate_non_ha_instances`` is True; then it passes only
      hosts outside every HA aggregate.
    * A flavor whose ``ha`` extra spec is not boolean-like passes no host:
      guessing would put an instance where its owner did not want it.
    * With ``require_pool_ha_ready``, a flavor whose instances are in the
      pool's failover plan (``ha:restart_priority`` ``restart``, the
      default) passes only hosts whose pool has room for its memory in the
      plan: the compute node's ``xenapi_pool_ha_headroom_mb`` less what
      this scheduler placed on that pool since (see
      :mod:`nova_ha_ext.scheduler.headroom`). Best-effort flavors are not
      in the plan and take no headroom. A flavor whose restart policy is
      not valid passes no host.
    * Keys that look like ``ha`` but are not it (``HA``, ``ha:foo``,
      ``aggregate_instance_extra_specs:ha``, ...) are ignored; one warning
      per flavor names them.

    Like Nova's aggregate filters, it does not run on rebuild: the instance
    stays on its host. Moves (migrate, resize, evacuate, unshelve) are
    filtered, so an HA instance stays on HA hosts.
    """

    # Each instance of a multi-create request takes headroom from its pool.
    run_filter_once_per_request = False

    RUN_ON_REBUILD = False

    def __init__(self):
        super().__init__()
        self._tally = headroom.PlacementTally()

    def filter_all(self, filter_obj_list, spec_obj):
        """Yield the hosts that pass, deciding per request what it can.

        Same verdicts as calling :meth:`host_passes` for each host (and
        Nova's rebuild rule), without repeating per host the work that only
        depends on the request.
        """
        if not self.RUN_ON_REBUILD and scheduler_utils.request_is_rebuild(
                spec_obj):
            yield from filter_obj_list
            return
        wants_ha = self._wants_ha(spec_obj)
        if wants_ha is None:
            return
        # The verdict depends on a host only through is_ha and its pool's
        # readiness: ask passes() once per request for each, and read a
        # host's stats only where the answer depends on them.
        isolate = CONF.ha_filter.isolate_non_ha_instances
        require_ready = CONF.ha_filter.require_pool_ha_ready
        memory_mb = self._planned_memory_mb(spec_obj, wants_ha,
                                            require_ready)
        if memory_mb is None:
            return
        if memory_mb:
            offer = headroom.Offer(memory_mb)
            # pool -> {protected count: MiB placed that such a reading lacks}
            pending = {}
        if_ha = _answers(wants_ha, True, isolate, require_ready)
        if_not_ha = _answers(wants_ha, False, isolate, require_ready)
        if if_ha is True and if_not_ha is True:
            yield from filter_obj_list
            return
        # Asked once: at INFO, a debug call per rejected host costs a third
        # of the time spent on a large cloud.
        log_rejections = LOG.isEnabledFor(logging.DEBUG)
        pool_is_ready = ha_spec.pool_is_ready
        # Host states share aggregate objects; judge each aggregate once.
        verdicts = {}
        for host_state in filter_obj_list:
            is_ha = False
            for agg in host_state.aggregates:
                verdict = verdicts.get(id(agg))
                if verdict is None:
                    verdict = verdicts[id(agg)] = ha_spec.aggregate_is_ha(agg)
                if verdict:
                    is_ha = True
                    break
            answer = if_ha if is_ha else if_not_ha
            if answer is not True and answer is not False:
                ready = pool_is_ready(getattr(host_state, 'stats', None))
                answer = answer[ready]
                # A flavor taking headroom needs wants_ha and require_ready,
                # so its answer depends on the readiness: it gets here.
                if answer and memory_mb:
                    room = self._has_room(host_state, memory_mb, offer,
                                          pending, log_rejections)
                    if room is False:
                        continue
                    answer = passes(wants_ha, is_ha, ready, isolate,
                                    require_ready, has_room=room)
            if answer:
                yield host_state
            elif log_rejections:
                self._log_rejection(host_state, wants_ha, is_ha)
        if memory_mb:
            for pool, counted in pending.items():
                self._tally.reported(pool, max(counted))

    def host_passes(self, host_state, spec_obj):
        wants_ha = self._wants_ha(spec_obj)
        if wants_ha is None:
            return False
        require_ready = CONF.ha_filter.require_pool_ha_ready
        memory_mb = self._planned_memory_mb(spec_obj, wants_ha,
                                            require_ready)
        if memory_mb is None:
            return False
        is_ha = ha_spec.host_is_ha(host_state.aggregates)
        ready = ha_spec.pool_is_ready(getattr(host_state, 'stats', None))
        room = None
        if memory_mb and is_ha and ready is not False:
            # Nova asks host by host: each host passed is a candidate.
            room = self._has_room(host_state, memory_mb,
                                  headroom.Offer(memory_mb), {}, True)
        if passes(wants_ha, is_ha, ready,
                  CONF.ha_filter.isolate_non_ha_instances, require_ready,
                  has_room=room):
            return True
        if room is not False:
            self._log_rejection(host_state, wants_ha, is_ha)
        return False

    @staticmethod
    def _planned_memory_mb(spec_obj, wants_ha, require_ready):
        """MiB the request adds to its pool's failover plan.

        0 for a flavor out of the plan (not HA, best-effort), when pools'
        readiness is not required, or without memory (a request spec built
        by hand); None when an HA flavor's restart policy is not valid
        (every host is refused).
        """
        if not wants_ha:
            return 0
        flavor = spec_obj.flavor
        extra_specs = flavor.extra_specs if 'extra_specs' in flavor else {}
        try:
            policy = ha_spec.restart_policy(extra_specs,
                                            flavor_name=flavor.name)
        except ha_spec.InvalidRestartPolicy as exc:
            LOG.warning("HAAggregateFilter rejects every host: %s", exc)
            return None
        if (not require_ready or not policy.in_plan or
                'memory_mb' not in flavor):
            return 0
        return flavor.memory_mb

    def _has_room(self, host_state, memory_mb, offer, pending,
                  log_rejections):
        """Whether the host's pool plan takes ``memory_mb`` more on it.

        None when the host reports no headroom (it is judged without). A
        host with room is watched for ``offer``; ``pending`` caches, per
        pool and protected count, what this scheduler placed that the
        pool's reading lacks.
        """
        stats = getattr(host_state, 'stats', None)
        room, protected = ha_spec.pool_headroom(stats)
        if room is None:
            return None
        pool = stats.get(ha_spec.POOL_UUID_STAT)
        counted = pending.get(pool)
        if counted is None:
            # First host of this pool in this request: count what Nova
            # placed on the pool since, before judging any of its hosts.
            self._tally.settle(pool)
            counted = pending[pool] = {}
        placed = counted.get(protected)
        if placed is None:
            placed = counted[protected] = self._tally.pending_mb(
                pool, protected)
        if memory_mb > room - placed:
            if log_rejections:
                LOG.debug("%(host)s fails HA requirements: its XenServer "
                          "pool's failover plan takes at most %(room)d MiB "
                          "more of protected VMs on it%(pending)s, and the "
                          "flavor needs %(memory)d MiB.",
                          {'host': host_state,
                           'room': max(room - placed, 0),
                           'memory': memory_mb,
                           'pending': (' (%d MiB reported, %d MiB placed '
                                       'here since)' % (room, placed)
                                       if placed else '')})
            return False
        self._tally.watch(host_state, pool, protected, offer)
        return True

    @staticmethod
    def _wants_ha(spec_obj):
        """True, False, or None when the flavor's ``ha`` value is invalid."""
        flavor = spec_obj.flavor
        extra_specs = flavor.extra_specs if 'extra_specs' in flavor else {}
        try:
            wants_ha = ha_spec.flavor_requests_ha(
                extra_specs, flavor_name=flavor.name)
        except ha_spec.InvalidHAValue as exc:
            LOG.warning("HAAggregateFilter rejects every host: %s", exc)
            return None
        HAAggregateFilter._warn_near_misses(flavor, extra_specs, wants_ha)
        return wants_ha

    @staticmethod
    def _warn_near_misses(flavor, extra_specs, wants_ha):
        keys = ha_spec.near_miss_keys(extra_specs)
        if not keys:
            return
        warned = (flavor.flavorid if 'flavorid' in flavor else flavor.name,
                  tuple(keys))
        if warned in _warned_flavors:
            return
        _warned_flavors.add(warned)
        fix = "remove %s (openstack flavor unset --property <key> %s)" % (
            'it' if len(keys) == 1 else 'them', flavor.name)
        if ha_spec.HA_KEY not in extra_specs:
            fix = ("set '%(key)s' (openstack flavor set --property "
                   "%(key)s=true %(flavor)s) and %(fix)s"
                   % {'key': ha_spec.HA_KEY, 'flavor': flavor.name,
                      'fix': fix})
        LOG.warning(
            "Flavor %(flavor)s has extra spec(s) that nova-ha-ext ignores: "
            "%(reasons)s. Its instances are scheduled %(as)s; %(fix)s.",
            {'flavor': flavor.name, 'fix': fix,
             'reasons': '; '.join(ha_spec.near_miss(k) for k in keys),
             'as': 'as HA instances' if wants_ha else
                   'as instances that do not ask for HA'})

    @staticmethod
    def _log_rejection(host_state, wants_ha, is_ha):
        if wants_ha and is_ha:
            LOG.debug("%(host)s fails HA requirements: its XenServer pool is "
                      "not HA-ready (%(reasons)s) and [ha_filter] "
                      "require_pool_ha_ready is True.",
                      {'host': host_state,
                       'reasons': getattr(host_state, 'stats', {}).get(
                           ha_spec.POOL_NOT_READY_REASONS_STAT,
                           'unknown')})
        elif wants_ha:
            LOG.debug("%(host)s fails HA requirements: the flavor asks for "
                      "ha=true and the host is in no aggregate with "
                      "ha=true metadata.", {'host': host_state})
        else:
            LOG.debug("%(host)s fails HA requirements: the host is in an "
                      "HA aggregate and [ha_filter] isolate_non_ha_instances "
                      "keeps flavors without ha=true off HA hosts.",
                      {'host': host_state})
