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

"""Refuse a second reconciler worker on this host when nothing shares pools.

Without ``[coordination] backend_url`` exactly one worker may run.
:func:`single_worker_guard` holds an exclusive ``flock`` on a file under
``[oslo_concurrency] lock_path`` for the worker's life; a second worker on
this host finds it held and is refused with the holder's pid.
"""

import errno
import fcntl
import os

from oslo_concurrency import lockutils
from oslo_log import log as logging

from nova_ha_ext.reconcile import backend

LOG = logging.getLogger(__name__)

#: Name of the lock file of :func:`single_worker_guard`.
GUARD_NAME = 'nova-ha-reconciler.lock'


class WorkerAlreadyRunning(backend.CoordinationError):
    """Another single worker holds this host's worker lock file."""


class WorkerGuard:
    """The lock file of a single worker; :meth:`release` frees it.

    ``held`` is False when the guard could not be taken and was not needed
    (a backend is configured) or cannot work (no lock path).
    """

    def __init__(self, path=None, fd=None):
        self.path = path
        self._fd = fd

    @property
    def held(self):
        return self._fd is not None

    def release(self):
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def single_worker_guard(conf, name=GUARD_NAME):
    """Refuse a second worker on this host when there is no backend.

    Without ``[coordination] backend_url`` nothing shares the pools, so a
    second worker would reconcile every pool a second time. Workers on other
    hosts cannot be detected without a backend, but one on this host can:
    the worker takes an exclusive ``flock`` on ``name`` under
    ``[oslo_concurrency] lock_path``. ``flock`` (not the ``fcntl`` record
    locks of oslo.concurrency) also excludes a second guard of the same
    process, and the kernel frees it when the holder dies, however it dies.

    :returns: a :class:`WorkerGuard`; not ``held`` when a backend is
        configured (several workers are then fine) or when ``lock_path`` is
        unset (a warning says that a second worker cannot be detected).
    :raises WorkerAlreadyRunning: naming the file and the holder's pid.
    """
    if conf.coordination.backend_url:
        return WorkerGuard()
    lock_path = lockutils.get_lock_path(conf)
    if not lock_path:
        LOG.warning("[oslo_concurrency] lock_path is not set, so a second "
                    "nova-ha-reconciler on this host cannot be detected; "
                    "run a single worker, or set [coordination] backend_url "
                    "to run several.")
        return WorkerGuard()
    path = os.path.join(lock_path, name)
    try:
        os.makedirs(lock_path, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise backend.CoordinationError(
            "cannot open the worker lock file %s: %s; check "
            "[oslo_concurrency] lock_path" % (path, exc))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        holder = _read_holder(fd)
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES, errno.EAGAIN):
            raise backend.CoordinationError(
                "cannot lock the worker lock file %s: %s" % (path, exc))
        raise WorkerAlreadyRunning(
            "another nova-ha-reconciler%s already runs on this host (it "
            "holds %s). Without [coordination] backend_url only one worker "
            "may run: stop the other one, or set [coordination] "
            "backend_url on every worker so that they share the pools."
            % (' (pid %s)' % holder if holder else '', path))
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, ('%d\n' % os.getpid()).encode(), 0)
    except OSError:
        pass
    return WorkerGuard(path, fd)


def _read_holder(fd):
    try:
        return os.pread(fd, 32, 0).decode('ascii', 'replace').strip()
    except OSError:
        return ''
