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

"""The checked-in configuration sample matches the options in the code."""

import difflib
import pathlib

from oslo_config import cfg
from oslo_config import generator

ROOT = pathlib.Path(__file__).resolve().parents[2]
GENERATOR_CONF = ROOT / 'etc' / 'nova-ha-ext' / (
    'nova-ha-ext-config-generator.conf')
SAMPLE = ROOT / 'etc' / 'nova-ha-ext' / 'nova-ha-ext.conf.sample'


def _generate(output_file):
    """Run oslo-config-generator with the project's generator config."""
    conf = cfg.ConfigOpts()
    generator.register_cli_opts(conf)
    conf(['--config-file', str(GENERATOR_CONF),
          '--output-file', str(output_file)])
    generator.generate(conf)


def test_config_sample_is_up_to_date(tmp_path):
    fresh = tmp_path / 'nova-ha-ext.conf.sample'
    _generate(fresh)

    expected = fresh.read_text()
    actual = SAMPLE.read_text()
    diff = ''.join(difflib.unified_diff(
        actual.splitlines(keepends=True), expected.splitlines(keepends=True),
        fromfile=str(SAMPLE.relative_to(ROOT)), tofile='generated'))
    assert actual == expected, (
        '%s is out of date with the options in nova_ha_ext/conf; '
        'run "tox -e genconfig" and commit the result.\n%s'
        % (SAMPLE.relative_to(ROOT), diff))


def test_config_sample_lists_the_filter_options():
    sample = SAMPLE.read_text()
    assert '[ha_filter]' in sample
    assert '#isolate_non_ha_instances = false' in sample
