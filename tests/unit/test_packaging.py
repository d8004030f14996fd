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

"""nova-ha-ext works when installed from its wheel, not only from the tree.

The wheel is built from a copy of the work tree (with its git metadata, for
pbr) and installed with ``pip --no-deps`` into a new virtualenv without
system site packages. Nova and the other dependencies come from the test
environment: its site-packages entries are linked into the new one, except
nova-ha-ext's own editable install (its metadata, its import finder and its
``.pth``) and pip. A probe then runs in the new virtualenv in isolated mode
(``-I``: no PYTHONPATH, no user site, no script or working directory on the
path) from outside the work tree, and reports what Nova sees: the filter by
class path, the ``ha`` validator, the console scripts, the
``oslo.config.opts`` entry point and the simulator's data file.
"""

import importlib.metadata
import importlib.util
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

FILTER_PATH = 'nova_ha_ext.scheduler.filters.ha_aggregate.HAAggregateFilter'
CONSOLE_SCRIPTS = {
    'nova-ha-xapi-simulator': 'nova_ha_ext.cmd.simulator:main',
    'nova-ha-reconciler': 'nova_ha_ext.cmd.reconciler:main',
    'nova-ha-manage': 'nova_ha_ext.cmd.manage:main',
    'nova-ha-status': 'nova_ha_ext.cmd.status:main',
}
OPT_GROUPS = ['coordination', 'ha_filter', 'ha_reconciler', 'xenapi']
DATA_FILE = 'nova_ha_ext/simulator/data/xenapi.json'

# Work tree entries that are not part of the source.
_NOT_SOURCE = shutil.ignore_patterns(
    '.venv', '.tox', '.stestr', '.pytest_cache', '.hypothesis', 'build',
    'dist', '*.egg-info', '__pycache__', '*.pyc', 'AUTHORS', 'ChangeLog')

# Run in the new virtualenv: prints what Nova finds there, as JSON.
PROBE = textwrap.dedent('''\
    import importlib.metadata as md
    import importlib.resources
    import json
    import os
    import sys

    FILTER_PATH = %(filter_path)r
    result = {'sys_path': sys.path, 'prefix': sys.prefix}


    def location(ep):
        return str(ep.dist.locate_file(''))


    import nova_ha_ext
    result['package_file'] = nova_ha_ext.__file__
    result['distributions'] = sorted(
        str(d.locate_file('')) for d in md.distributions()
        if (d.metadata['Name'] or '').lower().replace('_', '-')
        == 'nova-ha-ext')

    from nova.scheduler import filters
    classes = filters.HostFilterHandler().get_matching_classes([FILTER_PATH])
    result['filter_classes'] = [
        '%%s.%%s' %% (c.__module__, c.__name__) for c in classes]
    result['filter_files'] = [
        sys.modules[c.__module__].__file__ for c in classes]
    result['filters_are_host_filters'] = all(
        issubclass(c, filters.BaseHostFilter) for c in classes)

    from nova.api.validation.extra_specs import validators
    validators.VALIDATORS.clear()
    validators.load_validators()
    result['ha_validator'] = 'ha' in validators.VALIDATORS
    validators.validate('ha', 'true')
    try:
        validators.validate('ha', 'maybe')
        result['ha_maybe'] = 'accepted'
    except Exception as exc:
        result['ha_maybe'] = '%%s: %%s' %% (type(exc).__name__, exc)
    result['validator_entry_points'] = [
        [ep.value, location(ep)]
        for ep in md.entry_points(group='nova.api.extra_spec_validators')
        if ep.name == 'nova_ha_ext']

    opts_eps = [ep for ep in md.entry_points(group='oslo.config.opts')
                if ep.name == 'nova_ha_ext']
    result['opts_entry_points'] = [[ep.value, location(ep)]
                                   for ep in opts_eps]
    result['opt_groups'] = sorted(
        getattr(group, 'name', group)
        for ep in opts_eps for group, _ in ep.load()())

    result['console_scripts'] = {}
    for ep in md.distribution('nova-ha-ext').entry_points:
        if ep.group == 'console_scripts':
            try:
                loaded = callable(ep.load())
            except Exception as exc:
                loaded = '%%s: %%s' %% (type(exc).__name__, exc)
            result['console_scripts'][ep.name] = [ep.value, loaded]

    from nova_ha_ext.simulator import datamodel
    data = importlib.resources.files('nova_ha_ext.simulator').joinpath(
        'data', 'xenapi.json')
    result['data_file'] = datamodel.DATA_FILE
    result['data_file_is_file'] = data.is_file()
    with open(datamodel.DATA_FILE) as f:
        result['data_file_is_json'] = isinstance(json.load(f), dict)

    print(json.dumps(result))
    ''') % {'filter_path': FILTER_PATH}


def _version_tuple(version):
    return tuple(int(p) for p in re.findall(r'\d+', version)[:2])


def _can_build_without_isolation():
    """Can this environment build the wheel by itself (no download)?"""
    try:
        setuptools_version = importlib.metadata.version('setuptools')
        importlib.metadata.version('pbr')
    except importlib.metadata.PackageNotFoundError:
        return False
    if _version_tuple(setuptools_version) >= (70, 1):
        return True  # setuptools has its own bdist_wheel
    try:
        importlib.metadata.version('wheel')
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True,
                            timeout=300, **kwargs)
    assert result.returncode == 0, (
        '%s failed (%d)\nstdout:\n%s\nstderr:\n%s'
        % (' '.join(map(str, cmd)), result.returncode, result.stdout,
           result.stderr))
    return result


def _clean_env():
    return {k: v for k, v in os.environ.items()
            if not k.startswith('PYTHON') and k != 'VIRTUAL_ENV'}


def _build_wheel(tmp):
    """Build the wheel from a copy of the work tree; return its path."""
    src = tmp / 'src'
    shutil.copytree(ROOT, src, symlinks=True, ignore=_NOT_SOURCE)
    outdir = tmp / 'dist'
    no_isolation = _can_build_without_isolation()
    if importlib.util.find_spec('build') is not None:
        cmd = [sys.executable, '-m', 'build', '--wheel', '--outdir',
               str(outdir)]
        if no_isolation:
            cmd.append('--no-isolation')
    else:
        cmd = [sys.executable, '-m', 'pip', 'wheel', '--no-deps',
               '--wheel-dir', str(outdir)]
        if no_isolation:
            cmd.append('--no-build-isolation')
    _run(cmd + [str(src)], cwd=str(tmp), env=_clean_env())
    wheels = list(outdir.glob('nova_ha_ext-*.whl'))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _is_own_install(entry):
    """Is this site-packages entry nova-ha-ext's editable install, or pip?"""
    name = entry.name.lower()
    if name == '__pycache__' or name.startswith('__editable__'):
        return True
    if re.match(r'(nova[-_.]ha[-_.]ext|pip)([-.]|$)', name):
        return True
    if entry.suffix in ('.pth', '.egg-link') and entry.is_file():
        text = entry.read_text(errors='replace')
        return str(ROOT) in text or 'nova_ha_ext' in text
    return False


def _make_venv(tmp):
    """A virtualenv with the test environment's dependencies, not ours."""
    venv = tmp / 'venv'
    _run([sys.executable, '-m', 'venv', '--without-pip', str(venv)],
         env=_clean_env())
    python = venv / 'bin' / 'python'
    site = pathlib.Path(_run(
        [str(python), '-I', '-c',
         'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
        cwd=str(tmp)).stdout.strip())
    deps = pathlib.Path(sysconfig.get_paths()['purelib'])
    for entry in sorted(deps.iterdir()):
        if not _is_own_install(entry):
            os.symlink(entry, site / entry.name)
    return venv, python, site


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('packaging')
    wheel = _build_wheel(tmp)
    venv, python, site = _make_venv(tmp)
    # The test environment's pip installs into the new virtualenv.
    _run([sys.executable, '-m', 'pip', '--python', str(python), 'install',
          '--no-deps', '--no-index', '--no-compile', str(wheel)],
         cwd=str(tmp), env=_clean_env())
    probe = tmp / 'probe.py'
    probe.write_text(PROBE)
    workdir = tmp / 'elsewhere'
    workdir.mkdir()
    result = _run([str(python), '-I', str(probe)], cwd=str(workdir),
                  env=_clean_env())
    return {
        'wheel': wheel,
        'venv': venv,
        'python': python,
        'site': site,
        'probe': json.loads(result.stdout.strip().splitlines()[-1]),
    }


def _inside(path, directory):
    return pathlib.Path(path).resolve().is_relative_to(
        pathlib.Path(directory).resolve())


def test_wheel_holds_the_package_and_its_data(installed):
    with zipfile.ZipFile(installed['wheel']) as wheel:
        names = wheel.namelist()
        entry_points = next(
            wheel.read(n).decode() for n in names
            if n.endswith('.dist-info/entry_points.txt'))

    assert DATA_FILE in names
    assert 'nova_ha_ext/scheduler/filters/ha_aggregate.py' in names
    assert {n.split('/')[0] for n in names
            if not n.split('/')[0].endswith('.dist-info')} == {'nova_ha_ext'}
    for group in ('[console_scripts]', '[oslo.config.opts]',
                  '[nova.api.extra_spec_validators]'):
        assert group in entry_points


def test_every_directory_of_the_package_is_a_package():
    # pbr lists as packages the directories with an __init__.py; setuptools
    # warns at every install of one Python could import that is not listed.
    not_packages = sorted(
        str(d.relative_to(ROOT)) for d in (ROOT / 'nova_ha_ext').rglob('*')
        if d.is_dir() and d.name != '__pycache__' and
        not (d / '__init__.py').is_file())

    assert not_packages == []


def test_the_package_comes_from_the_wheel(installed):
    probe = installed['probe']
    site = installed['site']

    assert _inside(probe['package_file'], site)
    assert not _inside(probe['package_file'], ROOT)
    assert probe['distributions'] == [str(site)]
    assert [p for p in probe['sys_path'] if p and _inside(p, ROOT)] == []
    assert probe['prefix'] == str(installed['venv'])


def test_nova_loads_the_filter_by_class_path(installed):
    probe = installed['probe']

    assert probe['filter_classes'] == [FILTER_PATH]
    assert probe['filters_are_host_filters'] is True
    assert _inside(probe['filter_files'][0], installed['site'])


def test_nova_api_validates_the_ha_extra_spec(installed):
    probe = installed['probe']

    assert probe['ha_validator'] is True
    assert probe['ha_maybe'].startswith('ValidationError: ')
    assert "'ha'" in probe['ha_maybe']
    assert probe['validator_entry_points'] == [
        ['nova_ha_ext.api.extra_specs', str(installed['site'])]]


@pytest.mark.parametrize('script', sorted(CONSOLE_SCRIPTS))
def test_console_script_is_installed(installed, script):
    path = installed['venv'] / 'bin' / script

    assert path.is_file(), '%s is not installed' % script
    assert os.access(path, os.X_OK)
    shebang = path.read_text().splitlines()[0]
    assert shebang == '#!%s' % installed['python']
    assert installed['probe']['console_scripts'][script] == [
        CONSOLE_SCRIPTS[script], True]


def test_oslo_config_opts_entry_point_lists_every_group(installed):
    probe = installed['probe']

    assert probe['opts_entry_points'] == [
        ['nova_ha_ext.conf.opts:list_opts', str(installed['site'])]]
    assert probe['opt_groups'] == OPT_GROUPS


def test_simulator_data_file_is_installed(installed):
    probe = installed['probe']

    assert _inside(probe['data_file'], installed['site'])
    assert probe['data_file_is_file'] is True
    assert probe['data_file_is_json'] is True
