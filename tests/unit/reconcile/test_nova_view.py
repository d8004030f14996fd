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

"""Reading an instance's own flavor from its ``instance_extra`` row.

The query itself runs against Nova's databases in the functional tests.
"""

import collections

from oslo_serialization import jsonutils
import pytest

from nova import objects

from nova_ha_ext.reconcile import nova_view

Row = collections.namedtuple(
    'Row', 'uuid host node vm_state task_state power_state flavor '
           'has_ports')

objects.register_all()


def _flavor_json(name, extra_specs):
    # As Nova stores it: Instance._save_flavor, the primitives of
    # {'cur': Flavor, 'old': None, 'new': None}.
    flavor = objects.Flavor(name=name, extra_specs=extra_specs)
    return jsonutils.dumps({'cur': flavor.obj_to_primitive(),
                            'old': None, 'new': None})


def _row(flavor):
    return Row('uuid-1', 'c1', 'n1', 'active', None, 1, flavor, False)


@pytest.mark.parametrize('extra_specs, wanted', [
    ({'ha': 'true'}, True),
    ({'ha': 'False'}, False),
    ({}, False),
    ({'hw:cpu_policy': 'dedicated'}, False),
])
def test_the_stored_flavor_says_whether_ha_is_wanted(extra_specs, wanted):
    instance = nova_view._nova_instance(
        _row(_flavor_json('m1.ha', extra_specs)))
    assert (instance.wants_ha, instance.ha_spec_error) == (wanted, '')
    assert (instance.uuid, instance.host, instance.node, instance.vm_state,
            instance.task_state, instance.power_state) == (
        'uuid-1', 'c1', 'n1', 'active', None, 1)


def test_a_bad_ha_value_is_carried_to_the_decision():
    instance = nova_view._nova_instance(
        _row(_flavor_json('m1.odd', {'ha': 'maybe'})))
    assert instance.wants_ha is None
    assert "m1.odd" in instance.ha_spec_error
    assert "'maybe'" in instance.ha_spec_error


@pytest.mark.parametrize('flavor, message', [
    (None, 'the instance has no stored flavor'),
    ('', 'the instance has no stored flavor'),
    ('{"cur": null}', 'its stored flavor cannot be read'),
    ('not json', 'its stored flavor cannot be read'),
])
def test_an_unreadable_stored_flavor_is_carried_to_the_decision(flavor,
                                                                message):
    instance = nova_view._nova_instance(_row(flavor))
    assert instance.wants_ha is None
    assert instance.ha_spec_error.startswith(message)
