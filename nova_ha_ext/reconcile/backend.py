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

"""Check a tooz backend URL and tell its driver the member timeout.

The rules of ``[coordination]`` that single options cannot express live
here, so that the options' :func:`~nova_ha_ext.conf.coordination.validate`
and the :class:`~nova_ha_ext.reconcile.coordination.PoolCoordinator` apply
the same ones:

* :func:`backend_url_problem`: whether ``backend_url`` names an installed
  tooz driver that tracks group membership, and no timeout of its own;
* :func:`heartbeat_problem`: whether ``heartbeat_interval`` leaves room in
  ``member_timeout`` for a missed heartbeat;
* :func:`backend_options`: the driver's own option(s) that carry
  ``member_timeout``.

tooz itself is imported only to load a driver, so that checking the options
costs nothing when no backend is configured.
"""

import importlib.metadata
import urllib.parse

from oslo_utils import netutils

from nova_ha_ext import urls

_TOOZ_BACKENDS = 'tooz.backends'

#: Drivers of tooz with group membership, and the options that carry the
#: member timeout to each (an option per key).
TIMEOUT_OPTIONS = {
    'file': ('timeout',),
    'zookeeper': ('timeout',),
    'kazoo': ('timeout',),
    'redis': ('membership_timeout', 'lock_timeout'),
    'etcd3+http': ('membership_timeout', 'lock_timeout'),
    'etcd3+https': ('membership_timeout', 'lock_timeout'),
    'memcached': ('membership_timeout', 'lock_timeout', 'leader_timeout'),
}

#: Drivers of tooz that offer locks but no group membership.
_LOCK_ONLY = frozenset(['ipc', 'mysql', 'postgresql', 'kubernetes'])

#: The Python package each driver needs, for the message when it is missing.
_DRIVER_PACKAGES = {
    'redis': 'redis',
    'etcd3+http': 'etcd3gw',
    'etcd3+https': 'etcd3gw',
    'zookeeper': 'kazoo',
    'kazoo': 'kazoo',
    'memcached': 'pymemcache',
}


class CoordinationError(Exception):
    """Coordination cannot work as configured, or the backend failed."""


def installed_backends():
    """Names (URL schemes) of the tooz drivers installed here, sorted."""
    return sorted({ep.name for ep in
                   importlib.metadata.entry_points(group=_TOOZ_BACKENDS)})


def _entry_point(scheme):
    for ep in importlib.metadata.entry_points(group=_TOOZ_BACKENDS):
        if ep.name == scheme:
            return ep
    return None


def _has_membership(driver_cls):
    # Imported with a driver only: checking the options loads no tooz.
    from tooz import coordination as tooz_coordination
    base = tooz_coordination.CoordinationDriver
    return (getattr(driver_cls, 'join_group', None) is not base.join_group and
            getattr(driver_cls, 'get_members', None) is not base.get_members)


def backend_url_problem(url):
    """Why ``url`` cannot serve as ``[coordination] backend_url``, or None.

    The message says what to do and never contains the URL's password.
    """
    shown = urls.redact(url)
    if urls.password_needs_encoding(url):
        return ("the password in %s holds a '/', '?' or '#' that is not "
                "percent-encoded, so tooz would read part of it as the host "
                "or path; write them as %%2F, %%3F and %%23 (and any '@' "
                "after the host as %%40)" % shown)
    try:
        parts = netutils.urlsplit(url)
    except ValueError as exc:
        return "%s is not a valid URL: %s" % (shown,
                                              urls.scrub(exc, url))
    scheme = parts.scheme
    backends = installed_backends()
    membership = [b for b in backends if b not in _LOCK_ONLY]
    if not scheme:
        return ("%s is not a tooz URL; write it as DRIVER://..., where "
                "DRIVER is one of: %s" % (shown, ', '.join(membership)))
    ep = _entry_point(scheme)
    if ep is None:
        return ("unknown tooz backend '%s' in %s; tooz knows these "
                "drivers: %s (of which these track group membership, as the "
                "reconcilers need: %s)"
                % (scheme, shown, ', '.join(backends),
                   ', '.join(membership)))
    if scheme in _LOCK_ONLY:
        return ("the tooz backend '%s' only offers locks, but the "
                "reconcilers share the pools through group membership; use "
                "one of: %s" % (scheme, ', '.join(membership)))
    try:
        driver_cls = ep.load()
    except ImportError as exc:
        package = _DRIVER_PACKAGES.get(scheme)
        hint = (" (install the Python package %s)" % package
                if package else '')
        return ("the tooz backend '%s' cannot be loaded: %s%s"
                % (scheme, urls.scrub(exc, url), hint))
    if scheme not in TIMEOUT_OPTIONS and not _has_membership(driver_cls):
        return ("the tooz backend '%s' does not track group membership, "
                "which the reconcilers need to share the pools; use one of: "
                "%s" % (scheme, ', '.join(membership)))
    if scheme == 'file' and not parts.path:
        return ("%s names no directory; write file:///PATH/TO/DIRECTORY"
                % shown)
    query = urllib.parse.parse_qs(parts.query)
    managed = [k for k in TIMEOUT_OPTIONS.get(scheme, ()) if k in query]
    if managed:
        return ("%s sets %s; remove it from the URL and set "
                "[coordination] member_timeout instead, which nova-ha-ext "
                "passes to the backend" % (shown, ', '.join(
                    '%s=' % k for k in managed)))
    return None


def backend_options(url, member_timeout):
    """The tooz options for ``url``'s driver.

    ``member_timeout`` goes to the option(s) of the driver that bound how
    long a silent member stays in the group (and its locks live). The
    ``synchronous`` executor runs the driver's calls in the calling thread:
    every call here waits for its answer anyway, and tooz's default thread
    pool makes ``stop()`` wait a second for its idle worker.

    They are passed to ``tooz.coordination.get_coordinator`` as keyword
    arguments, which win over the URL's query.
    """
    scheme = netutils.urlsplit(url).scheme
    options = {key: int(member_timeout)
               for key in TIMEOUT_OPTIONS.get(scheme, ())}
    options['executor'] = 'synchronous'
    return options


def heartbeat_problem(heartbeat_interval, member_timeout):
    """Why ``heartbeat_interval`` does not fit ``member_timeout``, or None.

    A worker must be able to miss a heartbeat and still stop acting on its
    pools (:attr:`~nova_ha_ext.reconcile.coordination.PoolCoordinator.
    stale_after`, ``member_timeout - 2 * heartbeat_interval``) before the
    others may take them: the interval is at most a third of the timeout.
    """
    if heartbeat_interval * 3 <= member_timeout:
        return None
    return ("%g s leaves too little of member_timeout (%d s) for a missed "
            "heartbeat; use at most a third of it (%.2f s) or raise "
            "member_timeout" % (heartbeat_interval, member_timeout,
                                member_timeout / 3.0))
