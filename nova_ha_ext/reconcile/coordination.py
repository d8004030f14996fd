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

"""Share the pools between several reconciler workers through tooz.

:class:`PoolCoordinator` tells a worker which pools are its own and locks a
pool while the worker acts on it::

    coord = PoolCoordinator(conf)
    coord.start()
    ...
    for name in pools:
        if not coord.owns(name):
            continue
        try:
            with coord.lock(name) as held:
                ...                 # a pass; held.ensure() between steps
        except PoolUnavailable:
            continue                # another worker has it, or it moved
    ...
    coord.stop()

With ``[coordination] backend_url`` the workers join a tooz group. A
background thread heartbeats every ``heartbeat_interval`` and reads the
group's live members each time; the pools the worker was last told of
(:meth:`PoolCoordinator.set_pools`) are shared out over them by
:func:`nova_ha_ext.reconcile.assignment.assign`, a pure function of the
pool names and the member ids, recomputed from each full read of the
membership. That is why :func:`pool_owners`, which reads the membership
without joining, gives the same answer as the workers, and why a worker
never acts on a share that a partial update left half-changed.

How a dead worker is noticed depends on the driver, and ``member_timeout``
is handed to each as the option it understands
(:func:`.backend.backend_options`):

* ``file``: a member is a file whose mtime each heartbeat touches;
  ``get_members`` skips a file older than the ``timeout`` option. A killed
  worker's file stays but counts as gone ``member_timeout`` seconds after
  its last heartbeat. Its locks (``fcntl`` locks) are freed by the kernel
  when the process dies.
* ``redis``: a heartbeat sets a key that expires after
  ``membership_timeout``; ``get_members`` drops members whose key has
  expired. Locks expire after ``lock_timeout`` unless a heartbeat renews them.
* ``etcd3``: membership and locks are leases of ``membership_timeout`` and
  ``lock_timeout`` seconds that the heartbeat refreshes.
* ``zookeeper``: members are ephemeral nodes of a session whose timeout is
  ``timeout``.

The others see a worker gone at their first heartbeat after that, so its
pools move within ``member_timeout + heartbeat_interval`` seconds. A worker
that cannot heartbeat for ``member_timeout - 2 * heartbeat_interval`` seconds
(:attr:`PoolCoordinator.stale_after`) owns nothing from then on, before the
others can take its pools. While the backend is unreachable, :meth:`owns`
is False for every pool: no pool is reconciled twice, at the price of none
being reconciled by this worker until the backend answers again.

Without a backend there is a single worker, which owns every pool; its pool
locks are local to the process. Nothing can tell whether another worker runs
on another host, so :meth:`PoolCoordinator.start` warns that more workers
need a backend, and refuses to run if another worker holds the
:func:`.guard.single_worker_guard` lock file of this host.

The URL checks live in :mod:`.backend` and the single-worker lock file in
:mod:`.guard`; this module holds the coordinator and :func:`pool_owners`.
"""

import contextlib
import os
import socket
import threading
import time
import urllib.parse
import uuid

from oslo_log import log as logging
from oslo_utils import netutils
import tooz
from tooz import coordination as tooz_coordination

from nova_ha_ext.reconcile import assignment
from nova_ha_ext.reconcile import backend
from nova_ha_ext.reconcile import guard
from nova_ha_ext import urls

LOG = logging.getLogger(__name__)

#: Prefix of the name of a pool's lock in the backend.
LOCK_PREFIX = 'nova-ha-ext-pool-'

#: What :func:`pool_owners` reports as owner without a backend.
SINGLE_WORKER = '(single worker)'

# Defined with the checks that raise them; callers catch them from here.
CoordinationError = backend.CoordinationError
WorkerAlreadyRunning = guard.WorkerAlreadyRunning


class PoolUnavailable(CoordinationError):
    """This worker must not act on the pool now; try again later.

    :ivar pool: the pool's name.
    """

    def __init__(self, pool, reason):
        super().__init__("pool %s: %s" % (pool, reason))
        self.pool = pool


class PoolLocked(PoolUnavailable):
    """Another worker (or another thread of this one) holds the pool."""


class PoolNotOwned(PoolUnavailable):
    """The pool belongs to another worker, or to none while out of touch."""


# -- names and members -----------------------------------------------------

def default_member_id():
    """``<hostname>-<pid>-<random>``: unique even across containers."""
    return '%s-%d-%s' % (socket.gethostname(), os.getpid(),
                         uuid.uuid4().hex[:6])


def _binary(value):
    return value if isinstance(value, bytes) else str(value).encode('utf-8')


def _text(value):
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return str(value)


def lock_name(pool_name):
    """The backend lock of a pool: ``nova-ha-ext-pool-<quoted name>``.

    The name is percent-quoted so that any pool name makes a valid key and
    file name.
    """
    return _binary(LOCK_PREFIX + urllib.parse.quote(pool_name, safe=''))


def _read_members(coord, group_id):
    """``{member_id (bytes): capabilities}`` of the live members."""
    # One round trip where the driver can (tooz >= 7.x); else as the
    # Partitioner does, a read per member.
    getter = getattr(coord, 'get_members_with_capabilities', None)
    try:
        found = None
        if getter is not None:
            try:
                found = getter(group_id).get()
            except tooz.NotImplemented:
                found = None
        if found is None:
            found = {}
            for member in coord.get_members(group_id).get():
                try:
                    found[member] = coord.get_member_capabilities(
                        group_id, member).get()
                except tooz_coordination.MemberNotJoined:
                    continue
    except tooz_coordination.GroupNotCreated:
        return {}
    return {_binary(m): caps for m, caps in found.items()}


def _make_driver(conf, member_id):
    opts = conf.coordination
    problem = backend.backend_url_problem(opts.backend_url)
    if problem:
        raise CoordinationError(
            "invalid value for [coordination] backend_url: %s" % problem)
    try:
        return tooz_coordination.get_coordinator(
            opts.backend_url, _binary(member_id),
            **backend.backend_options(opts.backend_url, opts.member_timeout))
    except Exception as exc:
        raise CoordinationError(
            "cannot use the tooz backend %s: %s" % (
                urls.redact(opts.backend_url),
                urls.scrub(exc, opts.backend_url)))


def _bounded(func, timeout, what):
    """Run ``func()`` in a daemon thread; give up after ``timeout`` s."""
    outcome = {}

    def run():
        try:
            outcome['value'] = func()
        except BaseException as exc:
            outcome['error'] = exc

    thread = threading.Thread(target=run, name='ha-coordination-call',
                              daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise CoordinationError("%s did not answer within %g s"
                                % (what, timeout))
    if 'error' in outcome:
        raise outcome['error']
    return outcome.get('value')


# -- the coordinator -------------------------------------------------------

class PoolLock:
    """A pool lock held by this worker (what :meth:`PoolCoordinator.lock`
    yields).

    A backend lock can be lost while held: redis and etcd locks expire when
    the worker cannot renew them for ``member_timeout`` seconds (the process
    was frozen, or the backend was out of reach), and another worker may
    then take the pool. Call :meth:`ensure` between the steps of a pass.
    """

    def __init__(self, coordinator, pool, backend_lock, check_owner):
        self.pool = pool
        self._coordinator = coordinator
        self._backend_lock = backend_lock
        self._check_owner = check_owner

    def held(self):
        """Whether the lock (and, if checked, the ownership) still holds."""
        if self._backend_lock is not None:
            try:
                if not self._backend_lock.is_still_owner():
                    return False
            except tooz.NotImplemented:
                pass
            except Exception:
                return False
        if self._check_owner and not self._coordinator.owns(self.pool):
            return False
        return True

    def ensure(self):
        """:raises PoolUnavailable: when :meth:`held` is False."""
        if not self.held():
            raise PoolUnavailable(self.pool,
                                  "the lock or the ownership was lost")


class _View:
    """One read of the group: its members and when it was taken."""

    def __init__(self, members, started):
        self.members = members
        self.member_ids = tuple(sorted(_text(m) for m in members))
        self.started = started


class PoolCoordinator:
    """Which pools this worker owns, and a lock per pool.

    :param conf: the ``ConfigOpts`` with ``[coordination]`` (and
        ``[oslo_concurrency]`` for the single-worker guard).
    :param member_id: this worker's id in the group; by default
        ``[coordination] member_id``, else :func:`default_member_id`.
    :param on_change: optional ``on_change(coordinator)``, called from the
        heartbeat thread when the members change or this worker loses or
        regains the backend: the moment to reconcile newly owned pools.
    :param clock: a monotonic clock (for tests).

    Without a backend the coordinator owns every pool and its locks are
    local to the process; callers need not tell the two modes apart.
    """

    def __init__(self, conf, member_id=None, on_change=None,
                 clock=time.monotonic):
        opts = conf.coordination
        self._conf = conf
        self.member_id = (member_id or opts.member_id or
                          default_member_id())
        self._member = _binary(self.member_id)
        self._group = _binary(opts.group)
        self._backend_url = opts.backend_url
        self.member_timeout = opts.member_timeout
        self.heartbeat_interval = opts.heartbeat_interval
        problem = backend.heartbeat_problem(self.heartbeat_interval,
                                            self.member_timeout)
        if problem:
            raise CoordinationError(
                "invalid value for [coordination] heartbeat_interval: %s"
                % problem)
        #: Seconds after the start of the last good heartbeat after which
        #: this worker stops owning pools (the others take them over only
        #: after member_timeout).
        self.stale_after = self.member_timeout - 2 * self.heartbeat_interval
        self._on_change = on_change
        self._clock = clock
        self._coord = None
        self._join = False
        self._joined = False
        self._started = False
        self._view = None
        self._pools = frozenset()
        self._share = None
        self._healthy = None
        self._stale_warned = False
        self._guard = None
        self._io_lock = threading.RLock()
        self._state_lock = threading.Lock()
        self._local_locks = {}
        self._halt = threading.Event()
        self._first_refresh = threading.Event()
        self._thread = None

    # -- properties --------------------------------------------------------

    @property
    def coordinated(self):
        """Whether a backend shares the pools between several workers."""
        return bool(self._backend_url)

    @property
    def backend(self):
        """The backend URL without its secrets (for logs and status)."""
        return urls.redact(self._backend_url)

    @property
    def healthy(self):
        """Whether this worker is in touch with the backend and the group
        (without a backend: whether it is started).
        """
        if not self.coordinated:
            return self._started
        view = self._view
        return (self._started and view is not None and bool(self._healthy)
                and self._clock() - view.started <= self.stale_after)

    # -- life cycle --------------------------------------------------------

    def start(self, join=True, wait=True):
        """Start heartbeating and, with ``join``, take a share of the pools.

        ``join=False`` (for ``nova-ha-manage``) only offers the pool locks
        and :meth:`owners`: the coordinator owns nothing.

        The backend is reached from a heartbeat thread; while it does not
        answer the worker owns nothing and retries every
        ``heartbeat_interval``: start() never fails because of an outage.

        :param wait: wait up to ``member_timeout`` seconds for the first
            read of the group.
        :returns: :attr:`healthy`.
        :raises WorkerAlreadyRunning: without a backend, if another worker
            runs on this host (see :func:`.guard.single_worker_guard`).
        :raises CoordinationError: if ``backend_url`` is unusable.
        """
        if self._started:
            return self.healthy
        self._join = join
        if not self.coordinated:
            if join:
                self._guard = guard.single_worker_guard(self._conf)
                LOG.warning(
                    "[coordination] backend_url is not set: this worker "
                    "reconciles every pool. Running more than one "
                    "nova-ha-reconciler requires [coordination] backend_url "
                    "(a second worker on this host is refused; one on "
                    "another host cannot be detected).")
            self._started = True
            return True
        self._coord = _make_driver(self._conf, self.member_id)
        scheme = netutils.urlsplit(self._backend_url).scheme
        if scheme not in backend.TIMEOUT_OPTIONS:
            LOG.warning("nova-ha-ext does not know which option of the tooz "
                        "backend '%s' sets the member timeout: its own "
                        "default applies instead of [coordination] "
                        "member_timeout", scheme)
        self._started = True
        self._halt.clear()
        self._thread = threading.Thread(target=self._run,
                                        name='ha-coordination', daemon=True)
        self._thread.start()
        LOG.info("Coordinating through %s as member %s of group %s "
                 "(member timeout %d s)", self.backend, self.member_id,
                 _text(self._group), self.member_timeout)
        if wait:
            self._first_refresh.wait(self.member_timeout)
        return self.healthy

    def stop(self, timeout=None):
        """Leave the group (the others take the pools at their next
        heartbeat) and disconnect. Never raises for the backend's trouble.
        """
        if not self._started:
            return
        self._started = False
        self._halt.set()
        timeout = self.member_timeout if timeout is None else timeout
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._coord is not None:
            coord = self._coord
            # A heartbeat stuck on the backend holds the I/O lock.
            got = self._io_lock.acquire(timeout=timeout)
            try:
                self._coord = None
                if not got:
                    raise CoordinationError("a heartbeat is stuck on the "
                                            "backend")
                if coord.is_started:
                    # tooz leaves every joined group, releases the
                    # redis locks and deletes the heartbeat key.
                    _bounded(coord.stop, timeout, 'the tooz backend')
            except Exception as exc:
                LOG.warning("Could not leave the coordination group "
                            "cleanly (the others will take this worker's "
                            "pools after member_timeout): %s",
                            urls.scrub(exc, self._backend_url))
            finally:
                if got:
                    self._io_lock.release()
            self._view = None
            self._joined = False
        if self._guard is not None:
            self._guard.release()
            self._guard = None

    def _run(self):
        while not self._halt.is_set():
            self.refresh()
            self._first_refresh.set()
            self._halt.wait(self.heartbeat_interval)

    # -- heartbeat and membership -----------------------------------------

    def refresh(self):
        """Heartbeat and read the group now; the heartbeat thread does it
        every ``heartbeat_interval``.

        Joins (again) if this worker is not among the live members: at
        start, after the others dropped it (it could not heartbeat for
        ``member_timeout``), or after the backend lost its data.

        :returns: :attr:`healthy`. Never raises for the backend's trouble.
        """
        if not self.coordinated:
            return self._started
        with self._io_lock:
            coord = self._coord
            if coord is None or not self._started:
                return False
            started = self._clock()
            try:
                if not coord.is_started:
                    coord.start(start_heart=False)
                coord.heartbeat()
                members = _read_members(coord, self._group)
                if self._join and self._member not in members:
                    self._enter_group(coord)
                    members = _read_members(coord, self._group)
                    if self._member not in members:
                        raise CoordinationError(
                            "joined group %s but is not among its live "
                            "members" % _text(self._group))
            except Exception as exc:
                changed = self._set_health(False, exc)
            else:
                changed = self._publish(members, started)
                changed = self._set_health(True) or changed
        if changed:
            self._notify()
        return self.healthy

    def _enter_group(self, coord):
        if self._joined:
            LOG.warning("Member %s dropped out of group %s (it could not "
                        "heartbeat for %d s); joining again",
                        self.member_id, _text(self._group),
                        self.member_timeout)
        try:
            self._join_group(coord)
        except tooz_coordination.MemberAlreadyExist:
            # A stale entry of this member id: a previous run that died, or
            # a heartbeat that came too late. Replace it.
            LOG.warning("Group %s still lists member %s, which does not "
                        "heartbeat; replacing it. If another live worker "
                        "uses this [coordination] member_id, give each "
                        "worker its own.", _text(self._group),
                        self.member_id)
            try:
                coord.leave_group(self._group).get()
            except (tooz_coordination.MemberNotJoined,
                    tooz_coordination.GroupNotCreated):
                pass
            self._join_group(coord)
        self._joined = True
        LOG.info("Joined group %s as %s", _text(self._group),
                 self.member_id)

    def _join_group(self, coord):
        # What join_partitioned_group() does (the weight is the capability
        # the Partitioner reads), creating the group first: tooz's
        # join_group_create() sleeps a second before joining a group it had
        # to create.
        try:
            coord.create_group(self._group).get()
        except tooz_coordination.GroupAlreadyExist:
            pass
        try:
            coord.join_group(self._group,
                             capabilities={'weight': 1}).get()
        except tooz_coordination.GroupNotCreated:
            # Deleted in between: let tooz retry.
            coord.join_group_create(self._group,
                                    capabilities={'weight': 1})

    def _publish(self, members, started):
        old = self._view
        self._view = _View(members, started)
        if self._clock() - started <= self.stale_after:
            # A heartbeat that took too long leaves the view stale.
            with self._state_lock:
                self._stale_warned = False
        if old is None or set(old.members) != set(members):
            LOG.info("Group %s has %d live worker(s): %s; pools rebalanced",
                     _text(self._group), len(members),
                     ', '.join(sorted(_text(m) for m in members)) or 'none')
            return True
        return False

    def _set_health(self, healthy, exc=None):
        """Record the outcome of a refresh; log only the transitions.

        :returns: whether the health changed (and on_change is due).
        """
        with self._state_lock:
            was, self._healthy = self._healthy, healthy
        if healthy and was is False:
            LOG.info("Coordination backend %s answers again; member %s "
                     "takes its share of the pools", self.backend,
                     self.member_id)
            return True
        if not healthy and was is not False:
            LOG.warning("Coordination backend %s failed (%s): member %s "
                        "acts on no pool until it answers again; its pools "
                        "move to the other workers after %d s",
                        self.backend, urls.scrub(exc, self._backend_url),
                        self.member_id, self.member_timeout)
            return was is not None
        if not healthy:
            LOG.debug("Coordination backend %s still fails: %s",
                      self.backend, urls.scrub(exc, self._backend_url))
        return False

    def _notify(self):
        if self._on_change is None:
            return
        try:
            self._on_change(self)
        except Exception:
            LOG.exception("Coordination on_change callback failed")

    # -- ownership ---------------------------------------------------------

    def owns(self, pool_name):
        """Whether this worker must reconcile ``pool_name`` now.

        False for every pool while the backend does not answer, when the
        last good heartbeat is older than :attr:`stale_after`, before the
        first read of the group, after :meth:`stop`, and with
        ``start(join=False)``. Never blocks on the backend.
        """
        if not self.coordinated:
            return True
        if not (self._started and self._join):
            return False
        view = self._view
        if view is None or not self._healthy:
            return False
        if self._clock() - view.started > self.stale_after:
            self._warn_stale(view)
            return False
        return self._owner(view, pool_name) == self.member_id

    def set_pools(self, pool_names):
        """The pools to share out: every pool there is, as discovered.

        Every worker must be told the same names (each full pass discovers
        the aggregates with a pool URL). Until they are, a pool that one
        worker has discovered and another not can move the owner of a few
        others: such a pool may have two owners, whose passes its lock keeps
        apart, or none, until the next full pass.
        """
        self._pools = frozenset(pool_names)

    def _owner(self, view, pool_name):
        """The owner of ``pool_name`` when the known pools are shared over
        ``view``'s members; a pool not known yet is placed as if added.
        """
        pools = self._pools
        share = self._share
        # Recomputed only when the members or the pools change.
        if share is None or share[:2] != (view.member_ids, pools):
            share = (view.member_ids, pools,
                     assignment.assign(pools, view.member_ids))
            self._share = share
        if pool_name in pools:
            return share[2][pool_name]
        return assignment.assign(pools | {pool_name},
                                 view.member_ids)[pool_name]

    def _warn_stale(self, view):
        with self._state_lock:
            if self._stale_warned:
                return
            self._stale_warned = True
        LOG.warning("Member %s has not heartbeaten for %.1f s; it acts on "
                    "no pool until it does", self.member_id,
                    self._clock() - view.started)

    def owned(self, pool_names):
        """The names in ``pool_names`` this worker owns, in their order."""
        return [name for name in pool_names if self.owns(name)]

    def members(self):
        """The live workers' ids (str) as last read, sorted."""
        if not self.coordinated:
            return [self.member_id]
        view = self._view
        return sorted(_text(m) for m in view.members) if view else []

    def owners(self, pool_names):
        """``{pool: owner's member id or None}`` from the last read.

        Without a backend every pool is this worker's. See
        :func:`pool_owners` for a reader that is not a worker.
        """
        if not self.coordinated:
            return {name: self.member_id for name in pool_names}
        view = self._view
        if view is None:
            return {name: None for name in pool_names}
        return {name: self._owner(view, name) for name in pool_names}

    # -- locks -------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, pool_name, timeout=0.0, check_owner=None):
        """Hold ``pool_name``'s lock: no other worker acts on it meanwhile.

        Every apply step of a pass belongs under it. The backend lock is
        named ``nova-ha-ext-pool-<name>`` (:func:`lock_name`); without a
        backend a lock of this process stands in.

        :param timeout: seconds to wait for a lock held elsewhere; 0 (the
            default) does not wait.
        :param check_owner: also require :meth:`owns` (checked again once
            the lock is held, in case the pool moved meanwhile). Defaults
            to True for a joined worker, False with ``start(join=False)``.
        :yields: a :class:`PoolLock`.
        :raises PoolLocked: another worker or thread holds it.
        :raises PoolNotOwned: ``check_owner`` and the pool is not ours.
        :raises PoolUnavailable: the backend did not answer.
        """
        if check_owner is None:
            check_owner = self._join
        if not self.coordinated:
            with self._state_lock:
                local = self._local_locks.setdefault(pool_name,
                                                     threading.Lock())
            if not (local.acquire(True, timeout) if timeout > 0
                    else local.acquire(False)):
                raise PoolLocked(pool_name, "another thread holds its lock")
            try:
                yield PoolLock(self, pool_name, None, False)
            finally:
                local.release()
            return
        if check_owner and not self.owns(pool_name):
            raise PoolNotOwned(pool_name, "owned by another worker, or by "
                               "none while this one is out of touch")
        coord = self._coord
        if coord is None or not self._started:
            raise PoolUnavailable(pool_name, "coordination is stopped")
        try:
            backend_lock = coord.get_lock(lock_name(pool_name))
            if timeout > 0:
                acquired = backend_lock.acquire(blocking=True,
                                                timeout=timeout)
            else:
                acquired = backend_lock.acquire(blocking=False)
        except Exception as exc:
            raise PoolUnavailable(pool_name, "the coordination backend "
                                  "failed: %s" % urls.scrub(
                                      exc, self._backend_url))
        if not acquired:
            raise PoolLocked(pool_name, "another worker holds its lock")
        try:
            if check_owner and not self.owns(pool_name):
                raise PoolNotOwned(pool_name, "it moved to another worker")
            yield PoolLock(self, pool_name, backend_lock, check_owner)
        finally:
            try:
                backend_lock.release()
            except Exception as exc:
                LOG.warning("Could not release the lock of pool %s (it "
                            "expires by itself): %s", pool_name,
                            urls.scrub(exc, self._backend_url))


def pool_owners(conf, pool_names, timeout=None):
    """``{pool: member id of its owner, or None}`` from the live group.

    For ``nova-ha-manage status``: reads the group's members once, without
    joining it, and answers as the workers do
    (:func:`~nova_ha_ext.reconcile.assignment.assign` over ``pool_names``).
    A pool maps to None when no worker is alive. Without a backend every
    pool maps to :data:`SINGLE_WORKER`.

    :param timeout: seconds to wait for the backend (default
        ``[coordination] member_timeout``).
    :raises CoordinationError: if the backend is unusable or does not
        answer; the message holds no password.
    """
    opts = conf.coordination
    if not opts.backend_url:
        return {name: SINGLE_WORKER for name in pool_names}
    reader = 'nova-ha-manage-%s' % default_member_id()
    coord = _make_driver(conf, reader)
    group = _binary(opts.group)

    def read():
        coord.start(start_heart=False)
        try:
            return _read_members(coord, group)
        finally:
            try:
                coord.stop()
            except Exception:
                pass

    try:
        members = _bounded(
            read, opts.member_timeout if timeout is None else timeout,
            'the coordination backend %s' % urls.redact(opts.backend_url))
    except CoordinationError:
        raise
    except Exception as exc:
        raise CoordinationError(
            "cannot read group %s from %s: %s" % (
                opts.group, urls.redact(opts.backend_url),
                urls.scrub(exc, opts.backend_url)))
    return assignment.assign(pool_names, [_text(m) for m in members])
