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


"""nova-ha-status: is this deployment ready for nova-ha-ext?

::

    nova-ha-status --config-file /etc/nova/nova.conf \\
        --config-file /etc/nova/nova-ha-ext.conf upgrade check [--json]

The ``upgrade check`` of oslo.upgradecheck, as ``nova-status`` and
``masakari-status`` have it: run it after installing or upgrading
nova-ha-ext and before restarting the services. Each check says Success,
Warning (it works, but not as an operator probably wants) or Failure
(something HA needs does not work), with what to do. The exit code is
the worst result: 0 success, 1 warning, 2 failure, 255 when the command
itself could not run.

It reads nova.conf (the scheduler's filters, the databases), the flavors
and aggregates, logs in to every pool an aggregate names, with a short
timeout, and reads the coordination group. It changes nothing, and it
never prints a password: pool URLs and the backend URL are shown without
their credentials.
"""

import sys

from oslo_config import cfg
from oslo_upgradecheck import upgradecheck

from nova_ha_ext import cmd
from nova_ha_ext import conf as ha_conf
from nova_ha_ext import ha_spec
from nova_ha_ext import urls

CONF = ha_conf.CONF

FILTER_NAME = 'HAAggregateFilter'
FILTER_PATH = 'nova_ha_ext.scheduler.filters.ha_aggregate.HAAggregateFilter'
#: Nova's filter that also reads the unscoped ``ha`` extra spec.
AGGREGATE_EXTRA_SPECS_FILTER = 'AggregateInstanceExtraSpecsFilter'
VALIDATOR_NAMESPACE = 'nova.api.extra_spec_validators'
VALIDATOR_MODULE = 'nova_ha_ext.api.extra_specs'
#: Seconds a pool has to answer its login and one call.
POOL_TIMEOUT = 10.0

Code = upgradecheck.Code
Result = upgradecheck.Result

DESCRIPTION = (
    "Check that nova-ha-ext is set up as HA needs: the scheduler filter, "
    "the extra spec validator, the pools of the HA aggregates, the "
    "flavors' keys and the coordination of the reconciler workers. Give "
    "it nova.conf and nova-ha-ext.conf, e.g. --config-file "
    "/etc/nova/nova.conf --config-file /etc/nova/nova-ha-ext.conf "
    "upgrade check.")


def _worst(results):
    """One :class:`Result` from ``[(code, line)]``; Success without any."""
    if not results:
        return None
    code = max(c for c, _line in results)
    return Result(code, ' '.join(line for _c, line in results))


class Checks(upgradecheck.UpgradeCommands):
    """The checks of ``nova-ha-status upgrade check``.

    :param conf: the ``ConfigOpts`` with Nova's and nova-ha-ext's options.
    :param context_factory: returns an admin ``RequestContext``.
    :param validator_namespace: the stevedore namespace Nova's API loads
        extra spec validators from.
    """

    display_title = 'nova-ha-ext upgrade check results'

    def __init__(self, conf=CONF, context_factory=None,
                 validator_namespace=VALIDATOR_NAMESPACE):
        super().__init__()
        self._conf = conf
        self._context_factory = context_factory
        self._validator_namespace = validator_namespace

    def _context(self):
        if self._context_factory is None:
            from nova import context as nova_context
            return nova_context.get_admin_context()
        return self._context_factory()

    # -- the scheduler filter ------------------------------------------

    def _check_filter(self):
        """HAAggregateFilter is enabled and can be loaded."""
        from nova import exception
        from nova.scheduler import filters

        opts = self._conf.filter_scheduler
        if FILTER_NAME not in opts.enabled_filters:
            return Result(Code.FAILURE, (
                "%s is not in [filter_scheduler] enabled_filters: HA "
                "flavors are not kept on HA pools. Add it there, and "
                "%s to available_filters, on every nova-scheduler"
                % (FILTER_NAME, FILTER_PATH)))
        try:
            classes = filters.HostFilterHandler().get_matching_classes(
                opts.available_filters)
        except (ImportError, exception.ClassNotFound) as exc:
            return Result(Code.FAILURE, (
                "[filter_scheduler] available_filters cannot be loaded, so "
                "nova-scheduler does not start: %s" % exc))
        if FILTER_NAME not in {c.__name__ for c in classes}:
            return Result(Code.FAILURE, (
                "%s is enabled but not available: nova-scheduler does not "
                "start. Add available_filters = %s to [filter_scheduler] "
                "(keep nova.scheduler.filters.all_filters)"
                % (FILTER_NAME, FILTER_PATH)))
        if AGGREGATE_EXTRA_SPECS_FILTER in opts.enabled_filters:
            return Result(Code.WARNING, (
                "%s is enabled too: it also reads the ha extra spec, by "
                "string, and refuses HA hosts to flavors whose ha is not "
                "spelled as on the aggregate, and hosts without ha=false "
                "metadata to ha=false flavors. Write ha=true alike on "
                "flavors and aggregates and leave ha off plain flavors "
                "(README: With Nova's AggregateInstanceExtraSpecsFilter)"
                % AGGREGATE_EXTRA_SPECS_FILTER))
        return Result(Code.SUCCESS)

    # -- the extra spec validator --------------------------------------

    def _check_validator(self):
        """Nova's API finds the ``ha`` validator by entry point."""
        from stevedore import extension

        failures = []

        def failed(manager, entry_point, exc):
            failures.append((entry_point, exc))

        manager = extension.ExtensionManager(
            self._validator_namespace, invoke_on_load=False,
            on_load_failure_callback=failed)
        registrants = []
        loaded = set()
        for ext in manager:
            loaded.add(ext.entry_point.value)
            registrants.extend(ext.entry_point.value
                               for validator in ext.plugin.register()
                               if validator.name == ha_spec.HA_KEY)
        for entry_point, exc in failures:
            if entry_point.value.split(':')[0] == VALIDATOR_MODULE:
                return Result(Code.FAILURE, (
                    "the %s entry point %s of nova-ha-ext cannot be loaded "
                    "(%s: %s): nova-api accepts any ha value. Reinstall "
                    "nova-ha-ext where nova-api runs"
                    % (self._validator_namespace, entry_point.name,
                       type(exc).__name__, exc)))
        if VALIDATOR_MODULE not in loaded:
            return Result(Code.FAILURE, (
                "no %s entry point of nova-ha-ext is installed: nova-api "
                "accepts ha=maybe and keys taken for ha. Install "
                "nova-ha-ext (pip install nova-ha-ext) where nova-api runs "
                "and restart it" % self._validator_namespace))
        others = sorted(set(registrants) - {VALIDATOR_MODULE})
        if others:
            # Nova keeps the last validator registered under a name.
            return Result(Code.WARNING, (
                "%s also register%s a validator of the ha extra spec: "
                "which one nova-api uses depends on the order plugins "
                "load in. Uninstall it, or have it not register ha"
                % (', '.join(others), 's' if len(others) == 1 else '')))
        return Result(Code.SUCCESS)

    # -- the pools of the HA aggregates --------------------------------

    def _check_pools(self):
        """Each HA aggregate names a pool, and each pool answers."""
        from nova import objects

        from nova_ha_ext.reconcile import discovery

        url_key = self._conf.ha_reconciler.pool_url_metadata_key
        aggregates = objects.AggregateList.get_all(self._context())
        targets = discovery.pool_targets(
            aggregates, url_key, self._conf.xenapi.allow_plain_http)
        results = []
        for agg in sorted(aggregates, key=lambda a: a.name):
            if ha_spec.aggregate_is_ha(agg) and not (
                    agg.metadata or {}).get(url_key):
                results.append((Code.WARNING, (
                    "HA aggregate %s has no %s metadata: the reconciler "
                    "cannot follow its pool after a failover; set it with "
                    "openstack aggregate set --property %s=https://<pool "
                    "member> %s." % (agg.name, url_key, url_key,
                                     agg.name))))
        for target in targets:
            problem = target.error or self._pool_problem(target)
            if problem:
                results.append((Code.FAILURE, "Pool %s (aggregate %s): %s."
                                % (target.url, target.name, problem)))
        if not targets and not results:
            return Result(Code.SUCCESS, "no aggregate names a pool (%s)"
                          % url_key)
        return _worst(results) or Result(Code.SUCCESS)

    def _pool_problem(self, target):
        """None if the pool answers a login and one call; else why not."""
        from nova_ha_ext.xenapi import client as xenapi_client
        from nova_ha_ext.xenapi import exceptions as xenapi_exc

        timeout = min(POOL_TIMEOUT, self._conf.xenapi.call_timeout)
        try:
            pool_client = xenapi_client.PoolClient.from_conf(
                self._conf, url=target.url, name=target.name,
                read_timeout=timeout, call_timeout=timeout)
        except (ValueError, xenapi_exc.PoolError) as exc:
            return str(exc)
        try:
            pool_client.call('pool.get_all')
        except xenapi_exc.PoolError as exc:
            return exc.reason
        finally:
            pool_client.close()
        return None

    # -- the flavors -----------------------------------------------------

    def _check_flavor_keys(self):
        """No flavor has a bad ``ha`` value or a key taken for ``ha``."""
        from nova import objects

        results = []
        for flavor in objects.FlavorList.get_all(self._context()):
            specs = flavor.extra_specs or {}
            try:
                ha_spec.restart_policy(specs, flavor.name)
            except ha_spec.InvalidHAValue as exc:
                results.append((Code.FAILURE, (
                    "%s: HAAggregateFilter refuses every host to its "
                    "instances. Fix it with openstack flavor set "
                    "--property ha=true %s." % (exc, flavor.name))))
            except ha_spec.InvalidRestartPolicy as exc:
                results.append((Code.FAILURE, (
                    "%s: HAAggregateFilter refuses every host to its "
                    "instances. Fix it with openstack flavor set "
                    "--property %s=<value> %s."
                    % (exc, exc.key, flavor.name))))
            keys = ha_spec.near_miss_keys(specs)
            if keys:
                results.append((Code.WARNING, (
                    "Flavor %s has %s, which nothing reads: its instances "
                    "are not HA. Replace %s with ha: openstack flavor "
                    "unset --property <key> %s; openstack flavor set "
                    "--property ha=true %s."
                    % (flavor.name, ', '.join(repr(k) for k in keys),
                       'it' if len(keys) == 1 else 'them', flavor.name,
                       flavor.name))))
        return _worst(results) or Result(Code.SUCCESS)

    # -- the coordination of the workers --------------------------------

    def _check_coordination(self):
        """``[coordination]`` lets several workers share the pools."""
        from nova_ha_ext.conf import coordination as coordination_conf
        from nova_ha_ext.reconcile import coordination

        try:
            coordination_conf.validate(self._conf)
        except cfg.Error as exc:
            return Result(Code.FAILURE, str(exc))
        opts = self._conf.coordination
        if not opts.backend_url:
            if not self._conf.oslo_concurrency.lock_path:
                return Result(Code.WARNING, (
                    "no [coordination] backend_url and no "
                    "[oslo_concurrency] lock_path: a second "
                    "nova-ha-reconciler on this host would reconcile "
                    "every pool again unnoticed. Run one worker and set "
                    "lock_path, or set backend_url on every worker"))
            return Result(Code.SUCCESS, (
                "no [coordination] backend_url: run exactly one "
                "nova-ha-reconciler (set backend_url to run several)"))
        try:
            owners = coordination.pool_owners(
                self._conf, ['any pool'],
                timeout=min(POOL_TIMEOUT, opts.member_timeout))
        except coordination.CoordinationError as exc:
            return Result(Code.FAILURE, (
                "the coordination backend %s does not answer: %s"
                % (urls.redact(opts.backend_url), exc)))
        if owners['any pool'] is None:
            return Result(Code.WARNING, (
                "no nova-ha-reconciler is in group %s of %s: nothing "
                "reconciles the pools" % (
                    opts.group, urls.redact(
                        opts.backend_url))))
        return Result(Code.SUCCESS)

    _upgrade_checks = (
        ('Scheduler filter', _check_filter),
        ('Extra spec validator', _check_validator),
        ('Pools of the HA aggregates', _check_pools),
        ('Flavor keys', _check_flavor_keys),
        ('Coordination of reconciler workers', _check_coordination),
    )


def main(argv=None):
    from nova import objects
    from oslo_log import log as logging

    checks = Checks(CONF)
    upgradecheck.register_cli_options(CONF, checks)
    # oslo.upgradecheck reads --json from its module's CONF.
    upgradecheck.CONF = CONF
    try:
        cmd.parse_args(sys.argv if argv is None else argv,
                       description=DESCRIPTION)
        cmd.check_database(CONF)
    except cfg.Error as exc:
        sys.stderr.write('nova-ha-status: %s\n' % exc)
        return 255
    # stdout is the result table or JSON.
    CONF.set_default('use_stderr', True)
    logging.setup(CONF, 'nova-ha-status')
    objects.register_all()
    return upgradecheck.run(CONF)
