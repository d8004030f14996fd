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

"""nova-ha-manage: the state of every XenServer HA pool, and reconciling.

::

    nova-ha-manage --config-file /etc/nova/nova.conf \\
        --config-file /etc/nova/nova-ha-ext.conf status [--format json]
    nova-ha-manage ... reconcile [--pool POOL] [--dry-run] [--format json]
    nova-ha-manage ... sync --pool POOL [--dry-run]
    nova-ha-manage ... plan --pool POOL --fail-host HOST [--fail-host HOST]
    nova-ha-manage ... pause --pool POOL --reason REASON
    nova-ha-manage ... resume --pool POOL

Exit codes, for monitoring:

* 0: all is well: every pool answered, is HA-ready and in sync, and its
  aggregate holds exactly its hosts (status); every change was applied, or
  none was needed (reconcile, sync); a dry run found nothing to change.
* 1: something needs an operator: a pool is unreachable or not HA-ready,
  its aggregate has drifted from it, no live reconciler worker owns a
  pool, instances are out of sync or skipped, a flavor has a key taken for
  ``ha`` that nothing reads, a change failed, a pool was skipped because a
  worker held its lock, sync kept or could not add a host, a dry run
  found changes to make, a pool is paused, members of an anti-affinity
  server group share a XenServer host, or a plan found protected
  instances that would not restart.
* 2: the command could not run: bad arguments, configuration or database
  access, an unknown pool, or a pause or resume that cannot be done.
"""

import json
import sys

from nova import objects
from oslo_config import cfg

from nova_ha_ext import cmd
from nova_ha_ext import conf as ha_conf
from nova_ha_ext import ha_spec
from nova_ha_ext.reconcile import coordination
from nova_ha_ext.reconcile import decide
from nova_ha_ext.reconcile import discovery
from nova_ha_ext.reconcile import engine
from nova_ha_ext.reconcile import failover_what_if
from nova_ha_ext.reconcile import membership
from nova_ha_ext.reconcile import outcome
from nova_ha_ext.reconcile import pause
from nova_ha_ext.xenapi import exceptions as xenapi_exc
from nova_ha_ext.xenapi import ha_messages
from nova_ha_ext.xenapi import storage

CONF = ha_conf.CONF

DESCRIPTION = ("The state of every XenServer HA pool that Nova's aggregates "
               "describe, reconciling Nova with the pools, and keeping each "
               "pool's aggregate in step with the pool. Exit code 0: all is "
               "well; 1: an operator is needed; 2: the command could not run.")

OK, ATTENTION, ERROR = 0, 1, 2


def _add_parsers(subparsers):
    status = subparsers.add_parser(
        'status', help='Every pool: reachability, HA state and readiness, '
                       'hosts, instances out of sync.')
    status.add_argument('--format', choices=('table', 'json'),
                        default='table')
    status.set_defaults(func=status_command)
    rec = subparsers.add_parser(
        'reconcile', help='Make Nova follow the pools now and print what '
                          'was (or, with --dry-run, would be) done.')
    rec.add_argument('--pool', action='append', dest='pools',
                     help='Only this pool (an aggregate name); repeatable.')
    rec.add_argument('--dry-run', action='store_true',
                     help='Write nothing anywhere; print the plan.')
    rec.add_argument('--format', choices=('table', 'json'),
                     default='table')
    rec.set_defaults(func=reconcile_command)
    sync = subparsers.add_parser(
        'sync', help="Make a pool's aggregate hold the pool's compute "
                     "hosts, as 'openstack aggregate add host' and "
                     "'remove host' do; never removes a host Nova still "
                     "has instances on.")
    sync.add_argument('--pool', required=True,
                      help='The pool (an aggregate name).')
    sync.add_argument('--dry-run', action='store_true',
                      help='Change nothing; print what would change.')
    sync.set_defaults(func=sync_command)
    plan = subparsers.add_parser(
        'plan', help="What XenServer HA would do if these hosts failed: "
                     "where each protected instance would restart, and "
                     "which would not fit. Reads only.")
    plan.add_argument('--pool', required=True,
                      help='The pool (an aggregate name).')
    plan.add_argument('--fail-host', action='append', dest='fail_hosts',
                      required=True,
                      help="A XenServer host's hostname (a compute node's "
                           "hypervisor_hostname); repeatable.")
    plan.add_argument('--format', choices=('table', 'json'),
                      default='table')
    plan.set_defaults(func=plan_command)
    pause_ = subparsers.add_parser(
        'pause', help="Pause a pool for maintenance: the reconcilers read "
                      "and report it, and write nothing for it until it is "
                      "resumed.")
    pause_.add_argument('--pool', required=True,
                        help='The pool (an aggregate name).')
    pause_.add_argument('--reason', required=True,
                        help='Why, for whoever finds the pool paused.')
    pause_.set_defaults(func=pause_command)
    resume = subparsers.add_parser(
        'resume', help='Resume a paused pool: the next pass writes again.')
    resume.add_argument('--pool', required=True,
                        help='The pool (an aggregate name).')
    resume.set_defaults(func=resume_command)


command_opt = cfg.SubCommandOpt('command', title='Commands',
                                handler=_add_parsers)


def table(headers, rows):
    """Plain text table: one header line, a rule, then the rows."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows])
              for i, h in enumerate(headers)]
    line = '  '.join('%-*s' % (w, h) for w, h in zip(widths, headers))
    out = [line.rstrip(), '  '.join('-' * w for w in widths)]
    for row in rows:
        out.append('  '.join('%-*s' % (w, c)
                             for w, c in zip(widths, row)).rstrip())
    return '\n'.join(out)


def _pool_status(report, allow_two):
    status = {'pool': report.pool, 'url': report.url,
              'reachable': report.reachable}
    if not report.reachable:
        status['error'] = report.error
        return status
    ha = report.snapshot.ha
    readiness = ha.readiness(allow_two_host_pools=allow_two)
    status.update({
        'uuid': ha.uuid,
        'ha_enabled': ha.ha_enabled,
        'ha_host_failures_to_tolerate': ha.ha_host_failures_to_tolerate,
        'ha_plan_exists_for': ha.ha_plan_exists_for,
        'ha_overcommitted': ha.ha_overcommitted,
        'ha_ready': readiness.ready,
        'not_ready_reasons': list(readiness.reasons),
        'master': getattr(ha.host(ha.master), 'hostname', ha.master),
        'hosts': [{'hostname': h.hostname, 'live': h.live}
                  for h in ha.hosts],
        'out_of_sync': report.out_of_sync,
        'actions': [_result_dict(r) for r in report.results],
        'problems': list(report.problems),
        'compute_services': [c.as_dict() for c in report.services],
        'anti_affinity': (report.anti_affinity.as_dict()
                          if report.anti_affinity else None),
    })
    return status


def _breaches(pool):
    return (pool.get('anti_affinity') or {}).get('breaches', [])


def _result_dict(result):
    action = result.action
    return {
        'instance': action.instance_uuid, 'action': action.kind,
        'rule': action.rule, 'status': result.status,
        'from': str(action.source) if action.source else None,
        'to': str(action.target) if action.target else None,
        'reason': result.detail or action.reason,
    }


def _tied_vms(reconciler, report):
    """The pool's protected VMs HA cannot restart, as status shows them.

    :returns: the VMs, and why they could not be read (or None).
    """
    try:
        tied = storage.read_tied_vms(
            reconciler.client(report.pool),
            [host.ref for host in report.snapshot.ha.hosts])
    except xenapi_exc.PoolError as exc:
        return [], 'could not read the storage of the pool: %s' % exc
    return [{'vm': t.name_label or t.ref, 'instance': t.nova_uuid,
             'sr': t.sr_name, 'reason': t.reason()} for t in tied], None


def _recent_alerts(reconciler, report, limit=5):
    """The pool's latest XenServer HA alerts, as status shows them.

    :returns: the alerts, and why they could not be read (or None).
    """
    try:
        alerts = ha_messages.read_recent(reconciler.client(report.pool),
                                         limit)
    except xenapi_exc.PoolError as exc:
        return [], 'could not read the HA alerts of the pool: %s' % exc
    return [{'time': a.timestamp.isoformat(), 'name': a.name,
             'priority': a.priority, 'cls': a.cls, 'obj_uuid': a.obj_uuid,
             'body': a.body, 'uuid': a.uuid} for a in alerts], None


def _owners(names):
    """Which worker reconciles each pool, as the workers see it."""
    try:
        return coordination.pool_owners(CONF, names)
    except coordination.CoordinationError as exc:
        return {name: 'unknown (%s)' % exc for name in names}


def _ignored_flavor_keys(context):
    """One row per flavor extra spec taken for ``ha`` that nothing reads."""
    return [{'flavor': flavor.name, 'flavor_id': flavor.flavorid,
             'key': key, 'value': flavor.extra_specs[key],
             'reason': ha_spec.near_miss(key)}
            for flavor in objects.FlavorList.get_all(context)
            for key in ha_spec.near_miss_keys(flavor.extra_specs)]


def status_command(context, args, out):
    reconciler = engine.Reconciler(CONF)
    try:
        reports = reconciler.reconcile(context, dry_run=True)
        tied = {r.pool: _tied_vms(reconciler, r) for r in reports
                if r.reachable}
        alerts = {r.pool: _recent_alerts(reconciler, r) for r in reports
                  if r.reachable}
    finally:
        reconciler.close()
    pools = [_pool_status(r, CONF.xenapi.allow_two_host_pools)
             for r in reports]
    for p in pools:
        if p['pool'] in tied:
            p['tied_vms'], problem = tied[p['pool']]
            p['problems'].extend([problem] if problem else [])
        if p['pool'] in alerts:
            # History, not a problem: they do not change the exit code.
            p['xenserver_ha_alerts'], p['xenserver_ha_alerts_error'] = \
                alerts[p['pool']]
    owners = _owners([p['pool'] for p in pools])
    drifts = membership.read_drifts(context, [
        (reconciler.targets[r.pool], r.snapshot)
        for r in reports if r.reachable])
    for p in pools:
        # None: no worker is alive to reconcile it.
        p['owner'] = owners[p['pool']]
        if p['pool'] in drifts:
            p['aggregate'] = drifts[p['pool']].as_dict()
    pauses = pause.read_all(context)
    for p in pools:
        paused = pauses.get(reconciler.targets[p['pool']].aggregate_id)
        p['paused'] = paused.as_dict() if paused else None
    ignored = _ignored_flavor_keys(context)
    if args.format == 'json':
        out.write(json.dumps({'pools': pools, 'ignored_flavor_keys': ignored},
                             indent=2, sort_keys=True))
        out.write('\n')
    else:
        rows = []
        for p in pools:
            owner = p['owner'] or 'NONE (no live worker)'
            if not p['reachable']:
                rows.append([p['pool'], 'UNREACHABLE', '-', '-', '-', '-',
                             owner, p['error']])
                continue
            hosts = ' '.join('%s%s' % (h['hostname'],
                                       '' if h['live'] else '(dead)')
                             for h in p['hosts'])
            rows.append([p['pool'], 'ready' if p['ha_ready'] else
                         'NOT READY', '%d/%d' % (
                             p['ha_plan_exists_for'],
                             p['ha_host_failures_to_tolerate']),
                         p['out_of_sync'], hosts,
                         'in step' if p['aggregate']['in_step'] else
                         'DRIFTED', owner,
                         '; '.join(p['not_ready_reasons'] +
                                   p['problems'])])
        out.write(table(['pool', 'HA', 'plan', 'out of sync', 'hosts',
                         'aggregate', 'worker', 'reasons'], rows) + '\n')
        for name, drift in sorted(drifts.items()):
            if not drift.in_step:
                out.write('\nAggregate %s has drifted from its pool '
                          '(nova-ha-manage sync --pool %s):\n'
                          % (name, name))
                out.write(''.join('  %s\n' % line
                                  for line in drift.problems()))
        breach_rows = [[p['pool'], b['group_name'] or '-', b['group'],
                        b['host'], ' '.join(b['instances'])]
                       for p in pools for b in _breaches(p)]
        if breach_rows:
            out.write('\nAnti-affinity server groups whose members share a '
                      'XenServer host (XenServer HA restarts follow its own '
                      'plan):\n')
            out.write(table(['pool', 'group', 'group uuid', 'host',
                             'instances'], breach_rows) + '\n')
        for p in pools:
            groups = p.get('anti_affinity') or {}
            if groups.get('vm_groups', '').startswith('report-only'):
                out.write('Pool %s: anti-affinity is %s.\n'
                          % (p['pool'], groups['vm_groups']))
        paused_rows = [[p['pool'], p['paused']['by'], p['paused']['at'],
                        p['paused']['reason']]
                       for p in pools if p['paused']]
        if paused_rows:
            out.write('\nPaused pools (read and reported, nothing written '
                      'for them; nova-ha-manage resume --pool POOL):\n')
            out.write(table(['pool', 'paused by', 'since', 'reason'],
                            paused_rows) + '\n')
        if not pools:
            out.write('No pools: no aggregate has %s metadata.\n'
                      % CONF.ha_reconciler.pool_url_metadata_key)
        tied_rows = [[p['pool'], t['instance'] or '-', t['vm'], t['sr']]
                     for p in pools for t in p.get('tied_vms', ())]
        if tied_rows:
            out.write('\nProtected VMs XenServer HA cannot restart on '
                      'another host (a disk on an SR not every host sees; '
                      'move their disks to shared storage):\n')
            out.write(table(['pool', 'instance', 'VM', 'SR'], tied_rows)
                      + '\n')
        alert_rows = [[p['pool'], a['time'], a['name'], '%s %s' % (
            a['cls'], a['obj_uuid']), a['body']]
            for p in pools for a in p.get('xenserver_ha_alerts', ())]
        alert_rows += [[p['pool'], '-', '-', '-',
                        p['xenserver_ha_alerts_error']] for p in pools
                       if p.get('xenserver_ha_alerts_error')]
        if alert_rows:
            out.write('\nRecent XenServer HA alerts (newest first):\n')
            out.write(table(['pool', 'time', 'alert', 'about', 'body'],
                            alert_rows) + '\n')
        if ignored:
            out.write('\nFlavor extra specs that nova-ha-ext ignores (use '
                      '%s=true or %s=false instead):\n'
                      % (ha_spec.HA_KEY, ha_spec.HA_KEY))
            out.write(table(['flavor', 'key', 'value', 'reason'], [
                [i['flavor'], repr(i['key']), i['value'], i['reason']]
                for i in ignored]) + '\n')
    healthy = all(p['reachable'] and p['ha_ready'] and not p['out_of_sync']
                  and not p['problems'] and p['owner'] and
                  p['aggregate']['in_step'] and not p.get('tied_vms') and
                  not p['paused'] and not _breaches(p)
                  for p in pools)
    return OK if healthy and pools and not ignored else ATTENTION


def reconcile_command(context, args, out):
    # With a coordination backend, the workers' pool locks keep this run
    # and theirs apart; it owns no pool (a dry run takes no lock).
    coordinator = coordination.PoolCoordinator(CONF)
    coordinator.start(join=False)
    reconciler = engine.Reconciler(CONF, coordinator=coordinator)
    try:
        reports = reconciler.reconcile(context, names=args.pools,
                                       dry_run=args.dry_run)
    finally:
        reconciler.close()
        coordinator.stop()
    if args.format == 'json':
        out.write(json.dumps({'dry_run': args.dry_run, 'pools': [
            {'pool': r.pool, 'error': r.error, 'skipped': r.skipped,
             'seconds': r.seconds, 'problems': list(r.problems),
             'actions': [_result_dict(x) for x in r.results],
             'compute_services': [c.as_dict() for c in r.services],
             'anti_affinity': (r.anti_affinity.as_dict()
                               if r.anti_affinity else None),
             'paused': r.paused.as_dict() if r.paused else None}
            for r in reports]}, indent=2, sort_keys=True) + '\n')
    else:
        rows = []
        for r in reports:
            if not r.reachable:
                rows.append([r.pool, '-', 'unreachable', 'failed', '-', '-',
                             r.error])
            if r.skipped:
                rows.append([r.pool, '-', 'pool', 'skipped', '-', '-',
                             r.skipped])
            for problem in r.problems:
                rows.append([r.pool, '-', 'pool', 'failed', '-', '-',
                             problem])
            for x in r.results:
                d = _result_dict(x)
                rows.append([r.pool, d['instance'], d['action'],
                             d['status'], d['from'] or '-', d['to'] or '-',
                             d['reason']])
            for c in r.services:
                rows.append([r.pool, '-', c.kind, c.status, c.host, '-',
                             c.reason])
            groups = r.anti_affinity
            for b in groups.breaches if groups else ():
                rows.append([r.pool, ' '.join(b.instances), 'anti-affinity',
                             'reported', '-', b.host, b.describe()])
            for step in groups.steps if groups else ():
                rows.append([r.pool, step.instance or '-', step.kind,
                             step.status, '-', '-', step.reason])
        out.write(table(['pool', 'instance', 'action', 'status', 'from',
                         'to', 'reason'], rows) + '\n')
        out.write('%s: %d pool(s), %d change(s) %s, %d failed.\n' % (
            'Dry run' if args.dry_run else 'Done', len(reports),
            sum(r.count(status=outcome.DRY_RUN if args.dry_run
                        else outcome.APPLIED) for r in reports),
            'to make' if args.dry_run else 'applied',
            sum(r.failed for r in reports)))
    needs_attention = any(
        not r.reachable or r.failed or r.skipped or
        any(x.status in (outcome.DRY_RUN, outcome.PAUSED) or
            x.action.kind in (decide.SKIP, decide.MISSING,
                              decide.HA_RESTART_FAILED)
            for x in r.results) or
        any(c.status in (outcome.DRY_RUN, outcome.PAUSED)
            for c in r.services) or
        bool(r.anti_affinity and r.anti_affinity.breaches)
        for r in reports)
    return ATTENTION if needs_attention else OK


def sync_command(context, args, out):
    reconciler = engine.Reconciler(CONF)
    try:
        targets = {t.name: t for t in reconciler.discover(context)}
        if args.pool not in targets:
            raise engine.UnknownPool(
                "no aggregate describes pool %s; pools are aggregates with "
                "%s metadata: %s" % (
                    args.pool, CONF.ha_reconciler.pool_url_metadata_key,
                    ', '.join(sorted(targets)) or 'none'))
        snapshot = reconciler.client(args.pool).read_pool()
    except xenapi_exc.PoolError as exc:
        out.write('Pool %s is unreachable, nothing changed: %s\n'
                  % (args.pool, exc))
        return ATTENTION
    finally:
        reconciler.close()
    target = targets[args.pool]
    drift = membership.read_drifts(context, [(target, snapshot)])[args.pool]
    changes = membership.sync(context, target, drift, dry_run=args.dry_run)
    if changes:
        out.write(table(['pool', 'host', 'change', 'status', 'reason'],
                        [[args.pool, c.host, c.kind, c.status, c.reason]
                         for c in changes]) + '\n')
    for host, others in sorted(drift.shared.items()):
        out.write('Host %s is also in HA aggregate(s) %s: remove it from '
                  'the aggregates of pools it is not in.\n'
                  % (host, ', '.join(others)))

    def count(kind, status):
        return sum(1 for c in changes if c.kind == kind and c.status == status)

    if args.dry_run:
        out.write('Dry run: aggregate %s, %d host(s) to add, %d to '
                  'remove.\n' % (args.pool, count(membership.ADD,
                                                  outcome.DRY_RUN),
                                 count(membership.REMOVE, outcome.DRY_RUN)))
    else:
        out.write('Done: aggregate %s, %d host(s) added, %d removed, %d '
                  'failed.\n' % (
                      args.pool,
                      count(membership.ADD, outcome.APPLIED),
                      count(membership.REMOVE, outcome.APPLIED),
                      sum(1 for c in changes
                          if c.status == outcome.FAILED)))
    in_step = not drift.shared and all(
        c.status == outcome.APPLIED for c in changes)
    return OK if in_step else ATTENTION


def plan_command(context, args, out):
    reconciler = engine.Reconciler(CONF)
    try:
        targets = {t.name for t in reconciler.discover(context)}
        if args.pool not in targets:
            raise engine.UnknownPool(
                "no aggregate describes pool %s; pools are aggregates with "
                "%s metadata: %s" % (
                    args.pool, CONF.ha_reconciler.pool_url_metadata_key,
                    ', '.join(sorted(targets)) or 'none'))
        client = reconciler.client(args.pool)
        snapshot = client.read_pool()
        hosts = {h.hostname: h for h in snapshot.ha.hosts}
        unknown = [h for h in args.fail_hosts if h not in hosts]
        if unknown:
            raise engine.UnknownPool(
                "pool %s has no host %s; its hosts are: %s" % (
                    args.pool, ', '.join(unknown), ', '.join(sorted(hosts))))
        what_if = failover_what_if.compute(
            client, snapshot, [hosts[h].ref for h in args.fail_hosts])
    except xenapi_exc.PoolError as exc:
        out.write('Pool %s is unreachable: %s\n' % (args.pool, exc))
        return ATTENTION
    finally:
        reconciler.close()
    names = failover_what_if.instance_names(
        context, [r.nova_uuid for r in what_if.rows if r.nova_uuid])
    failing = ', '.join(args.fail_hosts)
    if args.format == 'json':
        out.write(json.dumps({
            'pool': args.pool, 'failed_hosts': args.fail_hosts,
            'instances': [dict(r.as_dict(), name=names.get(r.nova_uuid))
                          for r in what_if.rows],
            'best_effort': [dict(r.as_dict(), name=names.get(r.nova_uuid))
                            for r in what_if.best_effort],
        }, indent=2, sort_keys=True) + '\n')
    elif what_if.rows or what_if.best_effort:
        out.write(table(
            ['instance', 'uuid', 'VM', 'from', 'restarts on'],
            [[names.get(r.nova_uuid) or '-', r.nova_uuid or '-',
              r.vm_name, r.from_host, r.outcome]
             for r in what_if.rows + what_if.best_effort]) + '\n')
    else:
        out.write('No protected VM runs on %s.\n' % failing)
    stranded = [r for r in what_if.rows if not r.restarts]
    if args.format == 'table':
        out.write('If %s failed, XenServer HA would restart %d protected '
                  'VM(s) and could not restart %d.\n'
                  % (failing, len(what_if.rows) - len(stranded),
                     len(stranded)))
    return ATTENTION if stranded else OK


def _target(context, name):
    """The pool named ``name``, as its aggregate describes it."""
    targets = {t.name: t for t in discovery.discover_pools(context, CONF)}
    if name not in targets:
        raise engine.UnknownPool(
            "no aggregate describes pool %s; pools are aggregates with %s "
            "metadata: %s" % (name, CONF.ha_reconciler.pool_url_metadata_key,
                              ', '.join(sorted(targets)) or 'none'))
    return targets[name]


def pause_command(context, args, out):
    paused = pause.pause(context, _target(context, args.pool), args.reason)
    out.write('Pool %s %s. The reconcilers read and report it, and write '
              'nothing for it until: nova-ha-manage resume --pool %s\n'
              % (args.pool, paused.describe(), args.pool))
    return OK


def resume_command(context, args, out):
    was = pause.resume(context, _target(context, args.pool))
    out.write('Pool %s resumed (it was %s); the next pass writes for it '
              'again.\n' % (args.pool, was.describe()))
    return OK


def run(context, args, out=sys.stdout):
    """Run a parsed command; return the exit code."""
    try:
        return args.func(context, args, out)
    except (engine.UnknownPool, pause.PauseError) as exc:
        out.write('Error: %s\n' % exc)
        return ERROR


def main(argv=None):
    from nova import context as nova_context
    from oslo_log import log as logging

    CONF.register_cli_opt(command_opt)
    try:
        cmd.parse_args(sys.argv if argv is None else argv,
                       description=DESCRIPTION)
        ha_conf.check(CONF)
        cmd.check_database(CONF)
    except cfg.Error as exc:
        sys.stderr.write('nova-ha-manage: %s\n' % exc)
        return ERROR
    # Logs to stderr: stdout is the command's output, which scripts parse
    # (oslo.log writes to stdout when neither a log file nor use_stderr is
    # set).
    CONF.set_default('use_stderr', True)
    logging.setup(CONF, 'nova-ha-manage')
    objects.register_all()
    try:
        return run(nova_context.get_admin_context(), CONF.command)
    except Exception as exc:  # tell the operator, without a stack trace
        sys.stderr.write('nova-ha-manage: %s: %s%s\n'
                         % (type(exc).__name__, exc,
                            cmd.database_hint(exc)))
        return ERROR
