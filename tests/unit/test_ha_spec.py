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

"""The HA rules: which flavors ask for HA, which aggregates and hosts do."""

import logging

from nova import objects
import pytest

from nova_ha_ext import ha_spec

objects.register_all()

TRUE_VALUES = ['true', 'True', 'TRUE', 't', 'T', '1', 'yes', 'Yes', 'YES',
               'y', 'on', 'On', 'ON', ' true ']
FALSE_VALUES = ['false', 'False', 'FALSE', 'f', '0', 'no', 'No', 'NO', 'n',
                'off', 'Off', 'OFF', ' false ']
BAD_VALUES = ['maybe', '', ' ', '2', '-1', 'truee', 'enabled', 'true,false']

LOGGER = 'nova_ha_ext.ha_spec'


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """Forget the bad values already warned about by earlier tests."""
    monkeypatch.setattr(ha_spec, '_warned_aggregates', set())


def _aggregate(agg_id=1, name='pool-a', **metadata):
    return objects.Aggregate(id=agg_id, name=name, metadata=metadata,
                             hosts=[])


def _warnings(caplog):
    return [r for r in caplog.records
            if r.name == LOGGER and r.levelno == logging.WARNING]


class TestParseHAValue:

    @pytest.mark.parametrize('value', TRUE_VALUES)
    def test_true_like_values_parse_as_true(self, value):
        assert ha_spec.parse_ha_value(value) is True

    @pytest.mark.parametrize('value', FALSE_VALUES)
    def test_false_like_values_parse_as_false(self, value):
        assert ha_spec.parse_ha_value(value) is False

    @pytest.mark.parametrize('value', [True, False])
    def test_booleans_are_taken_as_they_are(self, value):
        assert ha_spec.parse_ha_value(value) is value

    @pytest.mark.parametrize('value', BAD_VALUES)
    def test_values_that_are_not_boolean_like_are_refused(self, value):
        with pytest.raises(ha_spec.InvalidHAValue):
            ha_spec.parse_ha_value(value)

    def test_refusal_names_the_owner_the_value_and_the_valid_values(self):
        with pytest.raises(ha_spec.InvalidHAValue) as exc:
            ha_spec.parse_ha_value('maybe', owner='flavor gold')
        message = str(exc.value)
        assert "flavor gold has ha='maybe'" in message
        for valid in ('true', 'false', 'yes', 'no', 'on', 'off', '1', '0'):
            assert valid in ha_spec.accepted_values()
            assert valid in message
        assert (exc.value.owner, exc.value.value) == ('flavor gold', 'maybe')

    def test_refusal_is_a_value_error(self):
        assert issubclass(ha_spec.InvalidHAValue, ValueError)


class TestFlavorRequestsHA:

    @pytest.mark.parametrize('extra_specs', [None, {}])
    def test_flavor_without_extra_specs_does_not_ask_for_ha(
            self, extra_specs):
        assert ha_spec.flavor_requests_ha(extra_specs) is False

    def test_flavor_with_other_extra_specs_only_does_not_ask_for_ha(self):
        specs = {'hw:cpu_policy': 'dedicated',
                 'aggregate_instance_extra_specs:ha': 'true'}
        assert ha_spec.flavor_requests_ha(specs) is False

    @pytest.mark.parametrize('value', TRUE_VALUES)
    def test_flavor_with_true_like_ha_asks_for_ha(self, value):
        assert ha_spec.flavor_requests_ha({'ha': value}) is True

    @pytest.mark.parametrize('value', FALSE_VALUES)
    def test_flavor_with_false_like_ha_does_not_ask_for_ha(self, value):
        assert ha_spec.flavor_requests_ha({'ha': value}) is False

    @pytest.mark.parametrize('value', BAD_VALUES)
    def test_flavor_with_bad_ha_value_is_refused(self, value):
        with pytest.raises(ha_spec.InvalidHAValue):
            ha_spec.flavor_requests_ha({'ha': value}, flavor_name='gold')

    def test_refusal_names_the_flavor_and_the_value(self):
        with pytest.raises(ha_spec.InvalidHAValue, match=(
                r"^flavor gold has ha='maybe', which is not boolean-like")):
            ha_spec.flavor_requests_ha({'ha': 'maybe'}, flavor_name='gold')


class TestNearMiss:

    @pytest.mark.parametrize('key', [
        'HA', 'Ha', 'hA', 'ha ', ' ha', ' HA ', 'ha:foo', 'HA:foo', 'ha:',
        'ha:a:b', 'aggregate_instance_extra_specs:ha',
        'aggregate_instance_extra_specs:HA', 'capabilities:ha', 'xenapi:ha'])
    def test_keys_that_look_like_ha_are_near_misses(self, key):
        reason = ha_spec.near_miss(key)

        assert reason.startswith(repr(key))
        assert "'ha'" in reason

    @pytest.mark.parametrize('key', [
        'ha', 'hw:cpu_policy', 'hardware', 'aha', 'has', 'hw:ha_mode',
        'trait:CUSTOM_HA', 'a:ha:b', 'aggregate_instance_extra_specs:zone'])
    def test_ha_itself_and_other_keys_are_not(self, key):
        assert ha_spec.near_miss(key) is None

    def test_case_and_spaces_are_named_in_the_reason(self):
        assert 'lower case and without spaces' in ha_spec.near_miss('HA')

    def test_the_ha_scope_is_named_in_the_reason(self):
        assert "scope 'ha:'" in ha_spec.near_miss('ha:foo')

    def test_near_miss_keys_of_a_flavor_are_sorted(self):
        specs = {'ha': 'true', 'hw:cpu_policy': 'dedicated', 'ha:foo': 'x',
                 'HA': 'true', 'aggregate_instance_extra_specs:ha': 'true'}

        assert ha_spec.near_miss_keys(specs) == [
            'HA', 'aggregate_instance_extra_specs:ha', 'ha:foo']

    @pytest.mark.parametrize('extra_specs', [None, {}])
    def test_a_flavor_without_extra_specs_has_none(self, extra_specs):
        assert ha_spec.near_miss_keys(extra_specs) == []

    def test_near_misses_do_not_ask_for_ha(self):
        specs = {'HA': 'true', 'ha ': 'true', 'ha:foo': 'true'}

        assert ha_spec.flavor_requests_ha(specs) is False


class TestAggregateIsHA:

    def test_aggregate_without_metadata_is_not_ha(self):
        assert ha_spec.aggregate_is_ha(_aggregate()) is False

    def test_aggregate_with_other_metadata_only_is_not_ha(self):
        agg = _aggregate(availability_zone='az1', filter_tenant_id='t1')
        assert ha_spec.aggregate_is_ha(agg) is False

    @pytest.mark.parametrize('value', TRUE_VALUES)
    def test_aggregate_with_true_like_ha_is_ha(self, value):
        assert ha_spec.aggregate_is_ha(_aggregate(ha=value)) is True

    @pytest.mark.parametrize('value', FALSE_VALUES)
    def test_aggregate_with_false_like_ha_is_not_ha(self, value):
        assert ha_spec.aggregate_is_ha(_aggregate(ha=value)) is False

    @pytest.mark.parametrize('value', BAD_VALUES)
    def test_aggregate_with_bad_ha_value_is_not_ha(self, value):
        assert ha_spec.aggregate_is_ha(_aggregate(ha=value)) is False

    def test_bad_value_warning_names_the_aggregate_and_the_value(
            self, caplog):
        ha_spec.aggregate_is_ha(_aggregate(7, 'pool-east', ha='maybe'))
        [record] = _warnings(caplog)
        message = record.getMessage()
        assert 'Aggregate pool-east (id 7)' in message
        assert "ha='maybe'" in message
        assert 'openstack aggregate set --property ha=true pool-east' in (
            message)

    def test_bad_value_is_warned_about_once(self, caplog):
        agg = _aggregate(ha='maybe')
        for _ in range(100):
            ha_spec.aggregate_is_ha(agg)
        assert len(_warnings(caplog)) == 1

    def test_each_bad_aggregate_is_warned_about(self, caplog):
        ha_spec.aggregate_is_ha(_aggregate(1, 'pool-a', ha='maybe'))
        ha_spec.aggregate_is_ha(_aggregate(2, 'pool-b', ha='maybe'))
        messages = [r.getMessage() for r in _warnings(caplog)]
        assert len(messages) == 2
        assert 'pool-a' in messages[0] and 'pool-b' in messages[1]

    def test_a_new_bad_value_of_the_same_aggregate_is_warned_about(
            self, caplog):
        ha_spec.aggregate_is_ha(_aggregate(ha='maybe'))
        ha_spec.aggregate_is_ha(_aggregate(ha='perhaps'))
        assert len(_warnings(caplog)) == 2

    def test_good_values_are_not_warned_about(self, caplog):
        for value in TRUE_VALUES + FALSE_VALUES:
            ha_spec.aggregate_is_ha(_aggregate(ha=value))
        assert _warnings(caplog) == []


class TestHostIsHA:

    HA = _aggregate(1, 'pool-ha', ha='true')
    NON_HA = _aggregate(2, 'pool-plain', ha='false')
    UNTAGGED = _aggregate(3, 'az1', availability_zone='az1')
    BAD = _aggregate(4, 'pool-bad', ha='maybe')

    @pytest.mark.parametrize('aggregates, expected', [
        pytest.param([], False, id='no-aggregate'),
        pytest.param([HA], True, id='ha-aggregate'),
        pytest.param([NON_HA], False, id='non-ha-aggregate'),
        pytest.param([UNTAGGED], False, id='untagged-aggregate'),
        pytest.param([BAD], False, id='bad-aggregate'),
        pytest.param([UNTAGGED, HA], True, id='untagged-and-ha'),
        pytest.param([BAD, HA], True, id='bad-and-ha'),
        pytest.param([NON_HA, UNTAGGED, BAD], False, id='all-but-ha'),
    ])
    def test_host_is_ha_when_one_of_its_aggregates_is_ha(
            self, aggregates, expected):
        assert ha_spec.host_is_ha(aggregates) is expected

    @pytest.mark.parametrize('aggregates', [
        pytest.param([HA, NON_HA], id='ha-first'),
        pytest.param([NON_HA, HA], id='non-ha-first'),
    ])
    def test_ha_aggregate_wins_over_a_disagreeing_one(self, aggregates):
        assert ha_spec.host_is_ha(aggregates) is True


class TestOneHomePerRule:
    """The rules the mixin, the filter and the reconciler share."""

    def test_an_ha_flavor_asks_xenserver_to_restart_its_vm(self):
        assert ha_spec.restart_priority(True) == 'restart'
        assert ha_spec.restart_priority(False) == ''

    def test_the_mixin_reports_exactly_the_pool_stats(self):
        from nova_ha_ext.virt.xenapi import mixin
        assert set(mixin.pool_stats(None, None)) == set(ha_spec.POOL_STATS)
        for name in ha_spec.POOL_STATS:
            # ComputeCapabilitiesFilter matches unscoped extra specs
            # against stats: never one named like the ha key.
            assert name.startswith(ha_spec.POOL_STAT_PREFIX)
            assert name != ha_spec.HA_KEY


class TestRestartPolicy:

    def test_an_ha_flavor_without_policy_keys_is_restarted_first(self):
        policy = ha_spec.restart_policy({'ha': 'true'})

        assert policy == ha_spec.RestartPolicy('restart', 0, 0)
        assert policy.in_plan

    def test_the_policy_keys_are_read(self):
        policy = ha_spec.restart_policy({
            'ha': 'true', 'ha:restart_priority': 'best-effort',
            'ha:order': '3', 'ha:start_delay': ' 20 '})

        assert policy == ha_spec.RestartPolicy('best-effort', 3, 20)
        assert not policy.in_plan

    def test_a_flavor_that_does_not_ask_for_ha_has_no_policy(self):
        assert ha_spec.restart_policy(
            {'ha': 'false', 'ha:order': '3'}) is None
        assert ha_spec.restart_policy({}) is None

    @pytest.mark.parametrize('key, value, words', [
        ('ha:restart_priority', 'always', 'one of: restart, best-effort'),
        ('ha:restart_priority', '', 'one of'),
        ('ha:order', '-1', 'an integer >= 0'),
        ('ha:order', '1.5', 'an integer >= 0'),
        ('ha:order', '²', 'an integer >= 0'),
        ('ha:start_delay', 'soon', 'an integer >= 0 (seconds)'),
        ('ha:start_delay', str(2 ** 63), 'below 2**63'),
    ])
    def test_a_bad_value_is_refused_naming_the_key(self, key, value, words):
        with pytest.raises(ha_spec.InvalidRestartPolicy) as exc:
            ha_spec.restart_policy({'ha': 'true', key: value},
                                   flavor_name='m1.ha')

        message = str(exc.value)
        assert "flavor m1.ha has extra spec '%s'" % key in message
        assert words in message
        assert "got '%s'" % value in message

    @pytest.mark.parametrize('key', ha_spec.RESTART_POLICY_KEYS)
    def test_the_policy_keys_are_not_near_misses(self, key):
        assert ha_spec.near_miss(key) is None
        assert ha_spec.near_miss(key.upper()) is not None
