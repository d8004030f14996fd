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

"""HAAggregateFilter's verdicts, as a table, and the ``ha`` validator.

Every row of the table names a flavor and the ``[ha_filter]
isolate_non_ha_instances`` setting, and lists the hosts that pass. The hosts
are real ``HostState`` objects sharing real ``Aggregate`` objects, as Nova's
HostManager builds them.
"""

import logging

from nova.api.validation.extra_specs import validators
from nova import exception
from nova import objects
from nova.scheduler import filters
from nova.scheduler import host_manager
from nova.scheduler import utils as scheduler_utils
from oslo_config import fixture as config_fixture
from oslo_utils.fixture import uuidsentinel
import pytest

from nova_ha_ext.api import extra_specs
from nova_ha_ext import conf
from nova_ha_ext import ha_spec
from nova_ha_ext.scheduler.filters import ha_aggregate

objects.register_all()

FILTER_PATH = 'nova_ha_ext.scheduler.filters.ha_aggregate.HAAggregateFilter'

# The aggregates, shared by the hosts that belong to them.
HA_POOL = objects.Aggregate(
    id=1, name='pool-ha', hosts=[], metadata={'ha': 'true'})
HA_POOL_UPPER = objects.Aggregate(
    id=2, name='pool-ha-upper', hosts=[], metadata={'ha': 'YES'})
NON_HA_POOL = objects.Aggregate(
    id=3, name='pool-plain', hosts=[], metadata={'ha': 'false'})
AZ = objects.Aggregate(
    id=4, name='az1', hosts=[], metadata={'availability_zone': 'az1'})
BAD_POOL = objects.Aggregate(
    id=5, name='pool-bad', hosts=[], metadata={'ha': 'maybe'})

# Host name -> the aggregates it belongs to.
HOST_AGGREGATES = {
    'ha': [HA_POOL],
    'ha-upper-case': [HA_POOL_UPPER],
    'ha-in-az': [AZ, HA_POOL],
    'non-ha': [NON_HA_POOL],
    'non-ha-in-az': [NON_HA_POOL, AZ],
    'az-only': [AZ],
    'no-aggregate': [],
    # Disagreeing aggregates: the HA one wins, whatever the order.
    'non-ha-and-ha': [NON_HA_POOL, HA_POOL],
    'ha-and-non-ha': [HA_POOL, NON_HA_POOL],
    # A bad value makes its aggregate non-HA; it vetoes nothing.
    'bad': [BAD_POOL],
    'bad-and-ha': [BAD_POOL, HA_POOL],
}
ALL = frozenset(HOST_AGGREGATES)
HA_HOSTS = frozenset(
    ['ha', 'ha-upper-case', 'ha-in-az', 'non-ha-and-ha', 'ha-and-non-ha',
     'bad-and-ha'])
NON_HA_HOSTS = ALL - HA_HOSTS
NONE = frozenset()

NO_EXTRA_SPECS = object()

# (flavor extra specs, isolate_non_ha_instances, hosts that pass)
TABLE = [
    # Flavors asking for HA pass HA hosts only, isolation or not.
    ({'ha': 'true'}, False, HA_HOSTS),
    ({'ha': 'true'}, True, HA_HOSTS),
    ({'ha': 'True'}, False, HA_HOSTS),
    ({'ha': 'TRUE'}, True, HA_HOSTS),
    ({'ha': '1'}, False, HA_HOSTS),
    ({'ha': 'yes'}, False, HA_HOSTS),
    ({'ha': 'Yes'}, True, HA_HOSTS),
    ({'ha': 'on'}, False, HA_HOSTS),
    ({'ha': 'ON'}, True, HA_HOSTS),
    ({'ha': 'true', 'hw:cpu_policy': 'dedicated'}, False, HA_HOSTS),
    # Other flavors pass every host, or non-HA hosts only with isolation.
    ({'ha': 'false'}, False, ALL),
    ({'ha': 'false'}, True, NON_HA_HOSTS),
    ({'ha': 'False'}, True, NON_HA_HOSTS),
    ({'ha': '0'}, False, ALL),
    ({'ha': '0'}, True, NON_HA_HOSTS),
    ({'ha': 'no'}, False, ALL),
    ({'ha': 'NO'}, True, NON_HA_HOSTS),
    ({'ha': 'off'}, True, NON_HA_HOSTS),
    ({}, False, ALL),
    ({}, True, NON_HA_HOSTS),
    ({'hw:cpu_policy': 'dedicated'}, False, ALL),
    ({'hw:cpu_policy': 'dedicated'}, True, NON_HA_HOSTS),
    (NO_EXTRA_SPECS, False, ALL),
    (NO_EXTRA_SPECS, True, NON_HA_HOSTS),
    # A flavor whose ha value is not boolean-like passes no host.
    ({'ha': 'maybe'}, False, NONE),
    ({'ha': 'maybe'}, True, NONE),
    ({'ha': ''}, False, NONE),
]


def _row_id(specs, isolate, _expected):
    specs = ('no-extra-specs' if specs is NO_EXTRA_SPECS else
             ','.join('%s=%s' % kv for kv in sorted(specs.items())) or '{}')
    return '%s-isolate=%s' % (specs, isolate)


ROWS = [pytest.param(*row, id=_row_id(*row)) for row in TABLE]
CELLS = [pytest.param(specs, isolate, host, host in expected,
                      id='%s-%s' % (_row_id(specs, isolate, expected), host))
         for specs, isolate, expected in TABLE
         for host in sorted(HOST_AGGREGATES)]


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """Forget the bad values already warned about by earlier tests."""
    monkeypatch.setattr(ha_spec, '_warned_aggregates', set())
    monkeypatch.setattr(ha_aggregate, '_warned_flavors', set())


@pytest.fixture
def config():
    fixture = config_fixture.Config(conf.CONF)
    fixture.setUp()
    yield fixture
    fixture.cleanUp()


@pytest.fixture
def isolate(config):
    def _set(value):
        config.config(isolate_non_ha_instances=value, group='ha_filter')
    return _set


def _hosts():
    hosts = []
    for name in sorted(HOST_AGGREGATES):
        host = host_manager.HostState(name, name + '-node', uuidsentinel.cell)
        host.aggregates = HOST_AGGREGATES[name]
        hosts.append(host)
    return hosts


def _spec(extra_specs, rebuild=False, name='gold'):
    flavor = objects.Flavor(name=name)
    if extra_specs is not NO_EXTRA_SPECS:
        flavor.extra_specs = dict(extra_specs)
    hints = {'_nova_check_type': ['rebuild']} if rebuild else {}
    return objects.RequestSpec(
        flavor=flavor, scheduler_hints=hints,
        instance_uuid=uuidsentinel.instance)


def _names(host_states):
    return {h.host for h in host_states}


def _through_nova(spec, hosts=None):
    """Run the filter as Nova's scheduler does."""
    handler = filters.HostFilterHandler()
    [filter_cls] = handler.get_matching_classes([FILTER_PATH])
    return handler.get_filtered_objects(
        [filter_cls()], hosts or _hosts(), spec, index=0)


def _warnings(caplog, logger):
    return [r.getMessage() for r in caplog.records
            if r.name == logger and r.levelno == logging.WARNING]


def _debug_messages(caplog):
    return [r.getMessage() for r in caplog.records
            if r.name == ha_aggregate.__name__ and r.levelno == logging.DEBUG]


class TestVerdictTable:

    @pytest.mark.parametrize('specs, isolation, host, passes', CELLS)
    def test_host_passes(self, isolate, specs, isolation, host, passes):
        isolate(isolation)
        [host_state] = [h for h in _hosts() if h.host == host]
        verdict = ha_aggregate.HAAggregateFilter().host_passes(
            host_state, _spec(specs))
        assert verdict is passes

    @pytest.mark.parametrize('specs, isolation, expected', ROWS)
    def test_filter_all(self, isolate, specs, isolation, expected):
        isolate(isolation)
        passed = ha_aggregate.HAAggregateFilter().filter_all(
            _hosts(), _spec(specs))
        assert _names(passed) == expected

    @pytest.mark.parametrize('specs, isolation, expected', ROWS)
    def test_nova_filter_handler(self, isolate, specs, isolation, expected):
        isolate(isolation)
        assert _names(_through_nova(_spec(specs))) == expected

    @pytest.mark.parametrize('log_level', [logging.INFO, logging.DEBUG],
                             ids=['info', 'debug'])
    @pytest.mark.parametrize('rebuild', [False, True],
                             ids=['boot', 'rebuild'])
    @pytest.mark.parametrize('specs, isolation, _expected', ROWS)
    def test_filter_all_matches_host_passes_and_novas_rebuild_rule(
            self, isolate, caplog, specs, isolation, _expected, rebuild,
            log_level):
        """The fast path gives the verdicts of Nova's per-host path.

        ``BaseHostFilter.filter_all`` is Nova's reference: ``host_passes``
        per host, skipped on rebuild when ``RUN_ON_REBUILD`` is False.
        """
        caplog.set_level(log_level, logger=ha_aggregate.__name__)
        isolate(isolation)
        spec = _spec(specs, rebuild=rebuild)
        fltr = ha_aggregate.HAAggregateFilter()
        fast = list(fltr.filter_all(_hosts(), spec))
        reference = list(filters.BaseHostFilter.filter_all(
            fltr, _hosts(), spec))
        assert [h.host for h in fast] == [h.host for h in reference]

    @pytest.mark.parametrize('specs, isolation, _expected', ROWS)
    def test_every_host_passes_on_rebuild(
            self, isolate, specs, isolation, _expected):
        isolate(isolation)
        spec = _spec(specs, rebuild=True)
        assert scheduler_utils.request_is_rebuild(spec)
        assert _names(_through_nova(spec)) == ALL


class TestFilterBehaviour:

    def test_filter_all_keeps_the_order_of_the_hosts(self):
        hosts = _hosts()
        passed = ha_aggregate.HAAggregateFilter().filter_all(
            hosts, _spec({'ha': 'true'}))
        assert list(passed) == [h for h in hosts if h.host in HA_HOSTS]

    def test_isolation_is_off_by_default(self):
        passed = ha_aggregate.HAAggregateFilter().filter_all(
            _hosts(), _spec({}))
        assert _names(passed) == ALL

    def test_aggregate_metadata_change_is_seen_by_the_next_request(self):
        pool = objects.Aggregate(
            id=10, name='pool', hosts=[], metadata={'ha': 'false'})
        host = host_manager.HostState('h1', 'n1', uuidsentinel.cell)
        host.aggregates = [pool]
        fltr = ha_aggregate.HAAggregateFilter()
        assert list(fltr.filter_all([host], _spec({'ha': 'true'}))) == []
        pool.metadata = {'ha': 'true'}
        assert list(fltr.filter_all([host], _spec({'ha': 'true'}))) == [host]

    def test_each_instance_of_a_request_is_filtered(self):
        # Each one takes headroom from the pool it lands on.
        fltr = ha_aggregate.HAAggregateFilter()
        assert fltr.run_filter_for_index(0) is True
        assert fltr.run_filter_for_index(1) is True

    def test_nova_loads_the_filter_from_available_filters(self):
        classes = filters.HostFilterHandler().get_matching_classes(
            ['nova.scheduler.filters.all_filters', FILTER_PATH])
        assert ha_aggregate.HAAggregateFilter in classes

    def test_hosts_rejected_for_an_ha_flavor_are_logged_at_debug(
            self, caplog):
        caplog.set_level(logging.DEBUG, logger=ha_aggregate.__name__)
        list(ha_aggregate.HAAggregateFilter().filter_all(
            _hosts(), _spec({'ha': 'true'})))
        messages = _debug_messages(caplog)
        assert len(messages) == len(NON_HA_HOSTS)
        for host in NON_HA_HOSTS:
            [message] = [m for m in messages if m.startswith('(%s, ' % host)]
            assert 'the flavor asks for ha=true' in message

    def test_hosts_rejected_by_isolation_are_logged_at_debug(
            self, isolate, caplog):
        isolate(True)
        caplog.set_level(logging.DEBUG, logger=ha_aggregate.__name__)
        list(ha_aggregate.HAAggregateFilter().filter_all(
            _hosts(), _spec({})))
        messages = _debug_messages(caplog)
        assert len(messages) == len(HA_HOSTS)
        for host in HA_HOSTS:
            [message] = [m for m in messages if m.startswith('(%s, ' % host)]
            assert 'isolate_non_ha_instances' in message

    def test_bad_flavor_value_warning_names_the_flavor_and_the_value(
            self, caplog):
        _through_nova(_spec({'ha': 'maybe'}, name='gold'))
        [message] = _warnings(caplog, ha_aggregate.__name__)
        assert "HAAggregateFilter rejects every host" in message
        assert "flavor gold has ha='maybe'" in message


class TestNearMissKeys:

    def test_a_near_miss_flavor_is_treated_as_not_asking_for_ha(self):
        passed = _through_nova(_spec({'HA': 'true'}))

        assert _names(passed) == ALL

    def test_one_warning_per_flavor_across_requests(self, caplog):
        for _ in range(10):
            _through_nova(_spec({'HA': 'true', 'ha:foo': 'x'}, name='gold'))

        [message] = _warnings(caplog, ha_aggregate.__name__)
        assert message.startswith('Flavor gold has extra spec(s) that '
                                  'nova-ha-ext ignores')
        assert "'HA' is not 'ha'" in message
        assert "'ha:foo' is in the scope 'ha:'" in message
        assert 'scheduled as instances that do not ask for HA' in message
        assert 'openstack flavor set --property ha=true gold' in message

    def test_each_flavor_is_warned_about(self, caplog):
        _through_nova(_spec({'HA': 'true'}, name='gold'))
        _through_nova(_spec({'ha ': 'true'}, name='silver'))

        messages = _warnings(caplog, ha_aggregate.__name__)
        assert [m.split()[1] for m in messages] == ['gold', 'silver']

    def test_the_warning_says_how_the_flavor_is_scheduled(self, caplog):
        _through_nova(_spec({'ha': 'true',
                             'aggregate_instance_extra_specs:ha': 'true'}))

        [message] = _warnings(caplog, ha_aggregate.__name__)
        assert 'scheduled as HA instances; remove it' in message
        assert 'openstack flavor set' not in message

    def test_flavors_without_near_misses_are_not_warned_about(self, caplog):
        _through_nova(_spec({'ha': 'true', 'hw:cpu_policy': 'dedicated'}))

        assert _warnings(caplog, ha_aggregate.__name__) == []


class TestBadAggregateValue:

    @pytest.mark.parametrize('isolation', [False, True])
    def test_hosts_of_a_bad_aggregate_are_not_ha(self, isolate, isolation):
        isolate(isolation)
        fltr = ha_aggregate.HAAggregateFilter()
        [bad] = [h for h in _hosts() if h.host == 'bad']
        assert fltr.host_passes(bad, _spec({'ha': 'true'})) is False
        assert fltr.host_passes(bad, _spec({})) is True

    def test_one_warning_across_many_hosts_and_requests(self, caplog):
        bad = objects.Aggregate(
            id=42, name='pool-typo', hosts=[], metadata={'ha': 'maybe'})
        hosts = []
        for i in range(50):
            host = host_manager.HostState('h%d' % i, 'n%d' % i,
                                          uuidsentinel.cell)
            host.aggregates = [bad] if i % 2 else [AZ, bad]
            hosts.append(host)
        fltr = ha_aggregate.HAAggregateFilter()
        for _ in range(10):
            assert _through_nova(_spec({'ha': 'true'}), hosts) == []
            assert list(fltr.filter_all(hosts, _spec({'ha': 'yes'}))) == []
            assert not any(fltr.host_passes(h, _spec({'ha': 'true'}))
                           for h in hosts)
        [message] = _warnings(caplog, ha_spec.__name__)
        assert 'pool-typo' in message
        assert "ha='maybe'" in message


class TestHAExtraSpecValidator:

    @pytest.fixture
    def validator(self):
        [validator] = [v for v in extra_specs.register() if v.name == 'ha']
        return validator

    def test_validator_is_registered_for_the_ha_key(self, validator):
        assert validator.name == 'ha'
        assert validators.VALIDATORS['ha'] is validator

    @pytest.mark.parametrize('value', [
        'true', 'false', 'True', 'FALSE', '1', '0', 'yes', 'no', 'on', 'off'])
    def test_boolean_like_values_are_accepted(self, validator, value):
        validator.validate('ha', value)
        validators.validate('ha', value)

    @pytest.mark.parametrize('value', ['maybe', '', '2', 'true,false'])
    def test_other_values_are_refused(self, validator, value):
        with pytest.raises(exception.ValidationError):
            validator.validate('ha', value)
        with pytest.raises(exception.ValidationError):
            validators.validate('ha', value)

    def test_refusal_names_the_key_the_value_and_the_valid_values(
            self, validator):
        with pytest.raises(exception.ValidationError) as exc:
            validator.validate('ha', 'maybe')
        message = str(exc.value)
        assert "extra spec 'ha' must be boolean-like" in message
        assert "got 'maybe'" in message
        assert 'true' in message and 'false' in message

    def test_scoped_keys_are_left_to_their_own_validators(self):
        validators.validate('aggregate_instance_extra_specs:ha', 'maybe')

    @pytest.mark.parametrize('key', [
        'HA', 'Ha', 'ha ', ' ha', ' HA ', 'ha:foo', 'HA:foo', 'ha :foo'])
    def test_near_misses_nova_lets_a_plugin_claim_are_refused(self, key):
        with pytest.raises(exception.ValidationError) as exc:
            validators.validate(key, 'true')

        message = str(exc.value)
        assert message.startswith('Validation failed; extra spec %r' % key)
        assert 'openstack flavor set --property ha=true' in message

    @pytest.mark.parametrize('key', [
        # Nova's own validator claims it, for its own filter.
        'aggregate_instance_extra_specs:ha',
        # Claiming it would make Nova refuse every unknown namespace.
        'xenapi:ha'])
    def test_near_misses_in_other_namespaces_are_left_to_nova(self, key):
        validators.validate(key, 'true')

    @pytest.mark.parametrize('key', [
        'hardware', 'has_gpu', 'foo:bar', 'hide_hypervisor_id'])
    def test_other_keys_are_still_accepted(self, key):
        validators.validate(key, 'true')


class TestOneVerdict:
    """``passes`` is the filter's one verdict; both paths ask it."""

    @pytest.mark.parametrize(
        'wants_ha, is_ha, ready, isolate_non_ha, require_ready, expected', [
            # A flavor that does not ask for HA: everywhere, unless isolated.
            (False, False, None, False, True, True),
            (False, True, False, False, True, True),
            (False, False, None, True, True, True),
            (False, True, True, True, True, False),
            # An HA flavor: HA hosts only, whose pool is not reported
            # not HA-ready when readiness is required.
            (True, False, True, False, True, False),
            (True, True, True, False, True, True),
            (True, True, None, False, True, True),
            (True, True, False, False, True, False),
            (True, True, False, False, False, True),
        ])
    def test_the_verdict_over_plain_values(
            self, wants_ha, is_ha, ready, isolate_non_ha, require_ready,
            expected):
        assert ha_aggregate.passes(wants_ha, is_ha, ready, isolate_non_ha,
                                   require_ready) is expected

    @pytest.mark.parametrize('has_room, require_ready, expected', [
        # The pool's failover plan has room for the flavor, or the host
        # reports no headroom (or the flavor takes none): it passes.
        (True, True, True),
        (None, True, True),
        # No room: refused, when pools' readiness is required.
        (False, True, False),
        (False, False, True),
    ])
    def test_the_headroom_in_the_verdict(self, has_room, require_ready,
                                         expected):
        assert ha_aggregate.passes(True, True, True, False, require_ready,
                                   has_room=has_room) is expected
        # It never lets a host pass that fails for another reason.
        assert ha_aggregate.passes(True, False, True, False, require_ready,
                                   has_room=has_room) is False

    @pytest.mark.parametrize('isolation', [False, True])
    @pytest.mark.parametrize('specs', [{'ha': 'true'}, {'ha': 'false'}])
    def test_both_paths_ask_the_one_verdict(
            self, monkeypatch, isolate, specs, isolation):
        """Turning the verdict around turns both paths' answers around."""
        isolate(isolation)
        real = ha_aggregate.passes
        monkeypatch.setattr(ha_aggregate, 'passes',
                            lambda *args, **kw: not real(*args, **kw))
        fltr = ha_aggregate.HAAggregateFilter()
        spec = _spec(specs)
        hosts = _hosts()
        expected = {h.host for h in hosts if not real(
            ha_spec.flavor_requests_ha(specs), ha_spec.host_is_ha(
                h.aggregates), None, isolation, True)}
        assert {h.host for h in hosts if fltr.host_passes(h, spec)} == (
            expected)
        assert _names(fltr.filter_all(_hosts(), spec)) == expected
