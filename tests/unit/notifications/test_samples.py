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

"""The samples in doc/notifications/ say what the code sends."""

import json
import os

from oslo_versionedobjects import base as ovo_base
import pytest

from nova_ha_ext.notifications import base
from nova_ha_ext.notifications import objects

SAMPLES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'doc',
                       'notifications')
NS = 'nova_ha_ext_object.'


def _sample(event_type):
    with open(os.path.join(SAMPLES, event_type + '.json')) as f:
        return json.load(f)


def _check_object(primitive, where):
    """The sample's object has its class's name, version and fields."""
    name = primitive[NS + 'name']
    cls = ovo_base.VersionedObjectRegistry.obj_classes()[name][0]
    assert cls.__module__.startswith('nova_ha_ext.notifications'), where
    assert primitive[NS + 'namespace'] == 'nova_ha_ext', where
    assert primitive[NS + 'version'] == cls.VERSION, (
        '%s: the sample has %s %s, the code %s: bump the sample with the '
        'payload' % (where, name, primitive[NS + 'version'], cls.VERSION))
    data = primitive[NS + 'data']
    assert set(data) == set(cls.fields), (
        '%s: %s fields differ: only in the sample %s, only in the code %s'
        % (where, name, sorted(set(data) - set(cls.fields)),
           sorted(set(cls.fields) - set(data))))
    for field, value in data.items():
        if isinstance(value, dict) and NS + 'name' in value:
            _check_object(value, '%s.%s' % (where, field))
        else:
            # Rebuilding each value through its field proves its type.
            cls.fields[field].from_primitive(None, field, value)
    return cls


def test_every_event_type_has_a_sample_and_no_sample_is_stale():
    files = {f[:-len('.json')] for f in os.listdir(SAMPLES)
             if f.endswith('.json')}
    assert files == set(objects.EVENT_TYPES)


@pytest.mark.parametrize('event_type', sorted(objects.EVENT_TYPES))
def test_sample_matches_its_notification(event_type):
    sample = _sample(event_type)
    cls, priority = objects.EVENT_TYPES[event_type]
    assert sample['event_type'] == event_type
    assert sample['publisher_id'].startswith(base.SOURCE + ':')
    payload_cls = _check_object(sample['payload'], event_type)
    assert cls.fields['payload'].AUTO_TYPE._obj_name == \
        payload_cls.obj_name()
    if event_type != 'ha_pool.xenserver_message':
        # A XenServer message takes its priority from the message's.
        assert sample['priority'] == priority.upper()


@pytest.mark.parametrize('event_type', sorted(objects.EVENT_TYPES))
def test_the_code_builds_the_sample(event_type):
    # From the sample's own values, the code sends the same thing back.
    sample = _sample(event_type)
    payload = base.NotificationObject.obj_from_primitive(sample['payload'])
    note = objects.notification(event_type, sample['publisher_id'].split(
        ':', 1)[1], payload, sample['priority'].lower())
    priority, publisher_id, sent_type, primitive = note.message()
    assert (priority.upper(), publisher_id, sent_type, primitive) == (
        sample['priority'], sample['publisher_id'], event_type,
        sample['payload'])


def test_no_class_takes_the_name_of_one_of_novas():
    # oslo.versionedobjects has one table of names for every registry: a
    # class of ours named like one of Nova's objects, or like one of the
    # notification objects Nova registers for its tests and docs, would
    # replace it or be replaced.
    from nova.notifications.objects import base as nova_notifications
    from nova import objects as nova_objects
    from nova.objects import base as nova_base
    nova_objects.register_all()
    assert nova_notifications.EventType in \
        nova_base.NovaObjectRegistry.notification_classes
    novas = {c.obj_name() for c in
             nova_base.NovaObjectRegistry.notification_classes}
    ours = [c for c in list(vars(objects).values()) + list(
            vars(base).values())
            if isinstance(c, type) and issubclass(c, base.NotificationObject)
            and c.obj_name() in ovo_base.VersionedObjectRegistry.obj_classes()]
    assert len(ours) == 13
    table = ovo_base.VersionedObjectRegistry.obj_classes()
    for cls in ours:
        assert cls.obj_name() not in novas, cls.obj_name()
        assert table[cls.obj_name()] == [cls], cls.obj_name()
