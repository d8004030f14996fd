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

"""HANotifier through real oslo.messaging, on Nova's notification options."""

import threading

from nova.conf import notifications as nova_notifications
from oslo_config import cfg
import pytest

from nova_ha_ext.notifications import notifier as ha_notifier
from nova_ha_ext.notifications import objects
from nova_ha_ext.testing import notification_bus

POOL = dict(uuid='4a3c1f0e-8d2b-4c55-9e1f-6b7a2d9c0e13', name='pool-a',
            aggregate='ha-pool-a')


def _payload(ready=False):
    return objects.HAPoolReadinessPayload(
        pool=objects.HAPoolPayload(**POOL), ready=ready,
        reasons=[] if ready else ['HA is not enabled on the pool'])


@pytest.fixture
def conf():
    conf = cfg.ConfigOpts()
    nova_notifications.register_opts(conf)
    conf([])
    yield conf
    # Nova's option groups, and so their overrides, are shared with every
    # ConfigOpts that registers them.
    conf.reset()


@pytest.fixture
def bus(conf):
    bus = notification_bus.NotificationBus(conf).start()
    conf.set_override('driver', ['messaging'], 'oslo_messaging_notifications')
    yield bus
    bus.stop()


def _notifier(conf, bus, fmt):
    conf.set_override('notification_format', fmt, 'notifications')
    notifier = ha_notifier.HANotifier(conf, host='reconciler-1',
                                      transport=bus.transport)
    return notifier


@pytest.mark.parametrize('fmt', ['versioned', 'both'])
def test_versioned_formats_send_on_the_versioned_topic(conf, bus, fmt):
    notifier = _notifier(conf, bus, fmt)
    notifier.emit(None, 'ha_pool.readiness.update', _payload())
    [sent] = bus.wait_for('ha_pool.readiness.update')
    assert sent['publisher_id'] == 'nova-ha-reconciler:reconciler-1'
    assert sent['priority'] == 'INFO'
    assert notification_bus.data(sent) == {
        'pool': POOL, 'ready': False,
        'reasons': ['HA is not enabled on the pool']}
    assert sent['payload']['nova_ha_ext_object.version'] == '1.0'
    notifier.close()


def test_unversioned_sends_nothing_as_nova_does(conf, bus):
    notifier = _notifier(conf, bus, 'unversioned')
    assert not notifier.enabled
    notifier.emit(None, 'ha_pool.readiness.update', _payload())
    # A notification sent after it proves the bus delivered what came.
    conf.set_override('notification_format', 'versioned', 'notifications')
    marker = ha_notifier.HANotifier(conf, host='marker',
                                    transport=bus.transport)
    marker.emit(None, 'ha_pool.readiness.update', _payload(ready=True))
    bus.wait_for('ha_pool.readiness.update')
    assert [n['publisher_id'] for n in bus.received] == [
        'nova-ha-reconciler:marker']
    marker.close()


def test_the_noop_driver_sends_nothing(conf, bus):
    conf.set_override('driver', ['noop'], 'oslo_messaging_notifications')
    notifier = _notifier(conf, bus, 'versioned')
    assert not notifier.enabled
    notifier.emit(None, 'ha_pool.readiness.update', _payload())
    assert notifier.flush(1.0)
    assert notifier.sent == 0


def test_the_topics_are_novas_versioned_ones(conf, bus):
    conf.set_override('versioned_notifications_topics', ['ops'],
                      'notifications')
    ops = notification_bus.NotificationBus(conf, topic='ops',
                                           transport=bus.transport).start()
    try:
        notifier = _notifier(conf, bus, 'versioned')
        notifier.emit(None, 'ha_pool.readiness.update', _payload())
        ops.wait_for('ha_pool.readiness.update')
        assert notifier.flush(5.0)
        assert bus.of('ha_pool.readiness.update') == []
        notifier.close()
    finally:
        ops.stop()


def test_a_blocked_bus_does_not_block_the_caller(conf, bus):
    notifier = _notifier(conf, bus, 'versioned')
    release = threading.Event()
    sent = notifier._send

    def slow_send(context, message):
        release.wait(10)
        sent(context, message)
    notifier._send = slow_send
    for ready in (False, True):
        # Returns at once although the first one cannot go out yet.
        notifier.emit(None, 'ha_pool.readiness.update', _payload(ready))
    assert not notifier.flush(0.05)
    release.set()
    sent_in_order = bus.wait_for('ha_pool.readiness.update', count=2)
    assert [notification_bus.data(n)['ready'] for n in sent_in_order] == [
        False, True]
    notifier.close()
