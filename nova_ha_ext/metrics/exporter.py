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


"""Serve the reconciler's metrics over HTTP for Prometheus to scrape.

:class:`Exporter` makes the project's own registry, the
:class:`~nova_ha_ext.metrics.recorder.Recorder` the runner hands its pass
reports to, and an HTTP server answering ``GET /metrics`` (any path, as
prometheus_client's own server does). The socket is bound when the
exporter is made, in the command's process, so that an address in use
stops ``nova-ha-reconciler`` at start-up; the server thread starts with
the service, in the process that reconciles.
"""

import socket
import socketserver
import threading
from wsgiref import simple_server

from oslo_log import log as logging
import prometheus_client

from nova_ha_ext.metrics import collector
from nova_ha_ext.metrics import listen
from nova_ha_ext.metrics import recorder as recorder_mod

LOG = logging.getLogger(__name__)

OPTION = '[ha_reconciler] metrics_listen'


class CannotListen(Exception):
    """The metrics address cannot be listened on."""


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):
        pass  # one line per scrape would drown the reconciler's log


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class Exporter:
    """The registry, the recorder and the HTTP server of one worker.

    :param conf: the ``ConfigOpts`` with ``[ha_reconciler]`` and
        ``[xenapi]``.
    :raises CannotListen: the address is bad or cannot be bound, naming
        the option.
    """

    def __init__(self, conf):
        try:
            self.host, self.port = listen.parse(
                conf.ha_reconciler.metrics_listen)
        except listen.BadListen as exc:
            raise CannotListen("invalid value for %s: %s" % (OPTION, exc))
        self.registry = prometheus_client.CollectorRegistry()
        self.recorder = recorder_mod.Recorder(
            self.registry,
            allow_two_host_pools=conf.xenapi.allow_two_host_pools)
        app = prometheus_client.make_wsgi_app(self.registry)
        server_cls = _Server6 if ':' in self.host else _Server
        try:
            self._server = simple_server.make_server(
                self.host, self.port, app, server_class=server_cls,
                handler_class=_QuietHandler)
        except OSError as exc:
            raise CannotListen("cannot listen on %s %s: %s" % (
                OPTION, listen.display(self.host, self.port),
                exc.strerror or exc))
        # The port actually bound (0 asks the system for one, in tests).
        self.port = self._server.server_address[1]
        self._thread = None

    @property
    def address(self):
        return listen.display(self.host, self.port)

    def watch(self, runner):
        """Report ``runner``'s worker and the pools it owns."""
        self.registry.register(collector.WorkerCollector(
            self.recorder, runner.coordinator,
            lambda: runner.reconciler.targets))

    def start(self):
        """Serve scrapes in a thread; record XenServer HA messages."""
        activate(self.recorder)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name='ha-metrics',
            daemon=True)
        self._thread.start()
        LOG.info("Serving metrics at http://%s/metrics", self.address)

    def stop(self):
        deactivate(self.recorder)
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()


_active = None


def activate(recorder):
    """Make ``recorder`` the one :func:`nova_ha_ext.metrics.ha_message`
    counts on.
    """
    global _active
    _active = recorder


def deactivate(recorder):
    global _active
    if _active is recorder:
        _active = None


def active():
    """The recorder of this process's exporter, or None (metrics off)."""
    return _active
