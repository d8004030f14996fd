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

"""The devstack plugin, run phase by phase against a scratch nova.conf.

Each phase runs in bash the way devstack runs it (``source
devstack/settings`` then ``source devstack/plugin.sh <mode> <phase>``), with
devstack's functions replaced by stubs: the ini functions edit real files
with devstack's semantics, ``async_runfunc`` and ``async_wait`` run and wait
for background jobs as ``inc/async`` does, ``openstack`` keeps the
aggregates and flavors it was asked to create in a state file and refuses
what Nova would refuse (a second aggregate or flavor of the same name, a
host twice, an unregistered host), and every other call is recorded.
"""

import configparser
import json
import os
import pathlib
import shlex
import stat
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLUGIN_DIR = ROOT / 'devstack'

FILTER_PATH = 'nova_ha_ext.scheduler.filters.ha_aggregate.HAAggregateFilter'
ALL_FILTERS = 'nova.scheduler.filters.all_filters'
NOVA_DEFAULT_FILTERS = ('ComputeFilter,ComputeCapabilitiesFilter,'
                        'ImagePropertiesFilter,'
                        'ServerGroupAntiAffinityFilter,'
                        'ServerGroupAffinityFilter')

# nova.conf as a deployment might have it before the plugin runs.
NOVA_CONF = """\
[DEFAULT]
debug = True

[filter_scheduler]
available_filters = nova.scheduler.filters.all_filters
available_filters = site_filters.rack.RackFilter
enabled_filters = ComputeFilter,ImagePropertiesFilter,RackFilter
track_instance_changes = False

[placement]
region_name = RegionOne
"""

# devstack's ini functions (inc/ini-config), same semantics: a section runs
# from its header to the next line starting with "["; a new option goes
# right after the header; iniset replaces the value of every line of the
# option; iniadd rewrites the option with the old values then the new ones;
# iniget_multiline prints every value on one line. iniset writes with sed,
# and so mangles values as sed does: a new option's value is the text of an
# "a\\" command (a backslash escapes the next character), a replaced one
# the replacement of an "s" command ("&" is the whole line, "\\1" the
# option's name and "=").
INI_TOOL = r'''
import re
import sys


def read(path):
    try:
        with open(path) as f:
            return f.read().split('\n')
    except FileNotFoundError:
        return []


def write(path, lines):
    with open(path, 'w') as f:
        f.write('\n'.join(lines))


def header_index(lines, section):
    for i, line in enumerate(lines):
        if line.startswith('[%s]' % section):
            return i
    return None


def section_range(lines, section):
    start = header_index(lines, section)
    if start is None:
        return None, None
    end = len(lines)
    for j in range(start + 1, len(lines)):
        if lines[j].startswith('['):
            end = j
            break
    return start, end


def option_re(option):
    return re.compile(r'^%s[ \t]*=[ \t]*' % re.escape(option))


def sed_text(value):
    return re.sub(r'\\(.)', r'\1', value)


def sed_replacement(value, match):
    def token(m):
        if m.group(0) == '&':
            return match.group(0)
        if m.group(0)[1].isdigit():
            return match.group(int(m.group(0)[1])) or ''
        return m.group(0)[1]
    return re.sub(r'&|\\.', token, value)


def values(lines, section, option):
    start, end = section_range(lines, section)
    if start is None:
        return []
    rx = option_re(option)
    return [rx.sub('', line) for line in lines[start + 1:end]
            if rx.match(line)]


def ensure_section(lines, section):
    if header_index(lines, section) is None:
        if lines and lines[-1] == '':
            lines.pop()
        lines.extend(['', '[%s]' % section, ''])


def set_multi(lines, section, option, new_values):
    ensure_section(lines, section)
    start, end = section_range(lines, section)
    rx = option_re(option)
    lines[start + 1:end] = [line for line in lines[start + 1:end]
                            if not rx.match(line)]
    lines[start + 1:start + 1] = ['%s = %s' % (option, v)
                                  for v in new_values]


def main(argv):
    cmd = argv[0]
    args = [a for a in argv[1:] if a != '-sudo']
    path, section, option = args[:3]
    rest = args[3:]
    lines = read(path)
    if cmd == 'iniget':
        for value in values(lines, section, option):
            print(value)
        return 0
    if cmd == 'iniget_multiline':
        print(' '.join(' '.join(values(lines, section, option)).split()))
        return 0
    if cmd == 'iniset':
        value = ' '.join(rest)
        ensure_section(lines, section)
        start, end = section_range(lines, section)
        rx = option_re(option)
        hits = [i for i in range(start + 1, end) if rx.match(lines[i])]
        if not hits:
            lines.insert(start + 1, '%s = %s' % (option, sed_text(value)))
        for i in hits:
            match = re.match(r'^(%s[ \t]*=[ \t]*).*$' % re.escape(option),
                             lines[i])
            lines[i] = sed_replacement(r'\1' + value, match)
    elif cmd == 'iniset_multiline':
        set_multi(lines, section, option, rest)
    elif cmd == 'iniadd':
        old = ' '.join(values(lines, section, option)).split()
        set_multi(lines, section, option, old + ' '.join(rest).split())
    elif cmd in ('inicomment', 'inidelete'):
        start, end = section_range(lines, section)
        if start is None:
            return 0
        rx = option_re(option)
        kept = []
        for line in lines[start + 1:end]:
            if rx.match(line):
                if cmd == 'inidelete':
                    continue
                line = '#' + line
            kept.append(line)
        lines[start + 1:end] = kept
    else:
        sys.stderr.write('unknown ini command %s\n' % cmd)
        return 2
    write(path, lines)
    return 0


sys.exit(main(sys.argv[1:]))
'''

# The rest of devstack's functions the plugin may call.
STUBS = r'''
function _record {
    printf '%q ' "$@" >> "$STUB_CALLS"
    echo >> "$STUB_CALLS"
}
function _ini {
    "$STUB_PYTHON" -S "$STUB_INI_TOOL" "$@"
}
function iniset { _ini iniset "$@"; }
function iniget { _ini iniget "$@"; }
function iniget_multiline { _ini iniget_multiline "$@"; }
function iniset_multiline { _ini iniset_multiline "$@"; }
function iniadd { _ini iniadd "$@"; }
function inicomment { _ini inicomment "$@"; }
function inidelete { _ini inidelete "$@"; }
function is_service_enabled {
    local service
    for service in "$@"; do
        if [[ ",$ENABLED_SERVICES," == *",$service,"* ]]; then
            return 0
        fi
    done
    return 1
}
function trueorfalse {
    local default=$1
    local value=${!2:-}
    case "$value" in
        1|yes|Yes|YES|true|True|TRUE|on|On|ON) echo True ;;
        0|no|No|NO|false|False|FALSE|off|Off|OFF) echo False ;;
        *) echo "$default" ;;
    esac
}
function define_plugin { echo "plugin defined: $*"; }
function get_python_exec_prefix { echo "$STUB_EXEC_PREFIX"; }
function setup_develop { _record setup_develop "$@"; }
function pip_install { _record pip_install "$@"; }
function run_process { _record run_process "$@"; }
function stop_process { _record stop_process "$@"; }
function echo_summary { echo "summary: $*"; }
function warn { _record warn "$2"; echo "WARNING: $2" >&2; }
function die { _record die "$@"; echo "die: $*" >&2; exit 1; }

# inc/async with DEVSTACK_PARALLEL on: the job runs in the background until
# async_wait waits for it; waiting for a job that never started or was
# already waited for only says so.
function async_runfunc {
    "$@" &
    echo $! > "$STUB_ASYNC_DIR/$1.pid"
}
function async_wait {
    local name pid
    for name in "$@"; do
        if [[ ! -f "$STUB_ASYNC_DIR/$name.pid" ]]; then
            echo "Not waiting for async task $name that we never started or" \
                "has already been waited for"
            continue
        fi
        pid=$(cat "$STUB_ASYNC_DIR/$name.pid")
        rm "$STUB_ASYNC_DIR/$name.pid"
        if [[ -p "$STUB_ASYNC_DIR/$name.gate" ]]; then
            : > "$STUB_ASYNC_DIR/$name.gate"
        fi
        wait "$pid"
    done
}

# lib/nova's configure_neutron_nova at its slowest: it reads nova.conf, says
# so on its "ready" pipe, and writes nova.conf back with its [neutron]
# options only once waited for (its "gate" pipe opens), as stack.sh does
# after post-config. Whatever nova.conf got in between is lost.
function configure_neutron_nova {
    "$STUB_PYTHON" -S -c '
import sys
path, ready, gate = sys.argv[1:]
with open(path) as f:
    text = f.read()
with open(ready, "w") as f:
    f.write("read\n")
with open(gate) as f:
    f.read()
with open(path, "w") as f:
    f.write(text.rstrip("\n") + "\n\n[neutron]\nauth_type = password\n")
' "$NOVA_CONF" "$STUB_ASYNC_DIR/configure_neutron_nova.ready" \
        "$STUB_ASYNC_DIR/configure_neutron_nova.gate"
}
'''

# The openstack client, as far as the plugin uses it.
OPENSTACK = r'''
import json
import os
import shlex
import sys


def fail(message, code=1):
    sys.stderr.write(message + '\n')
    sys.exit(code)


def main(argv):
    with open(os.environ['STUB_CALLS'], 'a') as log:
        log.write(shlex.join(['openstack'] + argv) + '\n')
    if argv[:1] != ['--os-cloud'] or len(argv) < 2:
        fail('no --os-cloud given', 2)
    args = argv[2:]
    state_file = os.environ['STUB_STATE']
    try:
        with open(state_file) as f:
            state = json.load(f)
    except FileNotFoundError:
        state = {'aggregates': {}, 'flavors': {}}
    aggs, flavors = state['aggregates'], state['flavors']
    computes = os.environ.get('STUB_COMPUTES', '').split()

    def option(name):
        return args[args.index(name) + 1] if name in args else None

    def properties():
        return dict(args[i + 1].split('=', 1)
                    for i, a in enumerate(args) if a == '--property')

    what = args[:2]
    name = args[-1]
    if what == ['aggregate', 'show']:
        name = args[2]
        if name not in aggs:
            fail("No aggregate with a name or ID of '%s' exists." % name)
        if option('-c') == 'hosts':
            print(repr(aggs[name]['hosts']))
        else:
            print(json.dumps(aggs[name]))
    elif what == ['aggregate', 'create']:
        if name in aggs:
            fail('Conflict (HTTP 409): Aggregate %s already exists.' % name)
        aggs[name] = {'hosts': [], 'properties': {}}
    elif what == ['aggregate', 'set']:
        if name not in aggs:
            fail("No aggregate with a name or ID of '%s' exists." % name)
        aggs[name]['properties'].update(properties())
    elif args[:3] == ['aggregate', 'add', 'host']:
        agg, host = args[3], args[4]
        if host not in computes:
            fail('Compute host %s could not be found. (HTTP 404)' % host)
        if host in aggs[agg]['hosts']:
            fail('Conflict (HTTP 409): Aggregate %s already has host %s.'
                 % (agg, host))
        aggs[agg]['hosts'].append(host)
    elif args[:3] == ['compute', 'service', 'list']:
        host = option('--host')
        if host in computes:
            print(host)
    elif what == ['flavor', 'show']:
        if name not in flavors:
            fail("No flavor with a name or ID of '%s' exists." % name)
        print(json.dumps(flavors[name]))
    elif what == ['flavor', 'create']:
        if name in flavors:
            fail('Conflict (HTTP 409): Flavor with name %s already exists.'
                 % name)
        flavors[name] = {'ram': option('--ram'), 'vcpus': option('--vcpus'),
                         'disk': option('--disk'), 'properties': {}}
    elif what == ['flavor', 'set']:
        if name not in flavors:
            fail("No flavor with a name or ID of '%s' exists." % name)
        flavors[name]['properties'].update(properties())
    else:
        fail('unexpected openstack command: %s' % ' '.join(args), 2)
    with open(state_file, 'w') as f:
        json.dump(state, f)
    return 0


sys.exit(main(sys.argv[1:]))
'''


# nova-ha-manage sync, as far as the plugin sees it: the aggregate's hosts
# become the registered compute hosts of the pool's hosts (STUB_POOL_HOSTS);
# exit code 1 when a host of the pool has no compute host to add.
NOVA_HA_MANAGE = r'''
import json
import os
import shlex
import sys

with open(os.environ['STUB_CALLS'], 'a') as log:
    log.write(shlex.join(sys.argv) + '\n')
args = sys.argv[1:]
with open(os.environ['STUB_STATE']) as f:
    state = json.load(f)
computes = os.environ.get('STUB_COMPUTES', '').split()
pool_hosts = os.environ.get('STUB_POOL_HOSTS', '').split()
aggregate = state['aggregates'][args[args.index('--pool') + 1]]
aggregate['hosts'] = [h for h in pool_hosts if h in computes]
with open(os.environ['STUB_STATE'], 'w') as f:
    json.dump(state, f)
sys.exit(0 if set(pool_hosts) <= set(computes) else 1)
'''


class Devstack(object):
    """A scratch node: nova.conf, stubs, and a way to run plugin phases."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.etc = tmp_path / 'etc' / 'nova'
        self.etc.mkdir(parents=True)
        self.nova_conf = self.etc / 'nova.conf'
        self.nova_conf.write_text(NOVA_CONF)
        self.ha_conf = self.etc / 'nova-ha-ext.conf'
        self.calls = tmp_path / 'calls.log'
        self.calls.write_text('')
        self.state = tmp_path / 'openstack-state.json'
        self.exec_prefix = tmp_path / 'venv' / 'bin'
        self.exec_prefix.mkdir(parents=True)
        manage = self.exec_prefix / 'nova-ha-manage'
        manage.write_text('#!%s -S\n%s' % (sys.executable, NOVA_HA_MANAGE))
        manage.chmod(0o755)
        stub_bin = tmp_path / 'stub-bin'
        stub_bin.mkdir()
        openstack = stub_bin / 'openstack'
        openstack.write_text('#!%s -S\n%s' % (sys.executable, OPENSTACK))
        openstack.chmod(0o755)
        self.ini_tool = tmp_path / 'ini_tool.py'
        self.ini_tool.write_text(INI_TOOL)
        self.stubs = tmp_path / 'stubs.sh'
        self.stubs.write_text(STUBS)
        self.async_dir = tmp_path / 'async'
        self.async_dir.mkdir()

        env = {k: v for k, v in os.environ.items()
               if not k.startswith(('NOVA_', 'OS_', 'ENABLED_SERVICES'))}
        env.update({
            'PATH': '%s:%s' % (stub_bin, os.environ.get('PATH', '')),
            'STUB_PYTHON': sys.executable,
            'STUB_INI_TOOL': str(self.ini_tool),
            'STUB_CALLS': str(self.calls),
            'STUB_STATE': str(self.state),
            'STUB_EXEC_PREFIX': str(self.exec_prefix),
            'STUB_ASYNC_DIR': str(self.async_dir),
            'STUB_COMPUTES': 'xs-a1 xs-a2',
            'STUB_POOL_HOSTS': 'xs-a1 xs-a2',
            'TOP_DIR': str(tmp_path / 'devstack'),
            'DEST': str(tmp_path / 'opt' / 'stack'),
            'NOVA_CONF': str(self.nova_conf),
            'NOVA_HA_EXT_CONF': str(self.ha_conf),
            'ENABLED_SERVICES': 'key,n-api,n-cond,n-sch,n-cpu,placement-api,'
                                'nova-ha-reconciler',
            'NOVA_HA_EXT_AGGREGATE': 'pool-a',
            'NOVA_HA_EXT_HOSTS': 'xs-a1 xs-a2',
            'NOVA_HA_EXT_POOL_URL': 'https://xs-a1.example.com',
            'NOVA_HA_EXT_FLAVOR': 'm1.large.ha',
            'NOVA_HA_EXT_FLAVOR_RAM': '4096',
            'NOVA_HA_EXT_FLAVOR_VCPUS': '2',
            'NOVA_HA_EXT_FLAVOR_DISK': '40',
            'NOVA_HA_EXT_ISOLATE_NON_HA': 'yes',
            'NOVA_HA_EXT_XENAPI_PASSWORD': 's3cret',
            'NOVA_HA_EXT_COMPUTE_WAIT': '0',
        })
        self.env = env

    def run_unchecked(self, *phase, neutron_writes_nova_conf=False,
                      **overrides):
        """Source settings and plugin.sh with ``phase``; return the result.

        Traces like stack.sh, and runs with errexit, nounset and pipefail,
        stricter than stack.sh. With ``neutron_writes_nova_conf``, the phase
        runs as stack.sh runs post-config: after ``async_runfunc
        configure_neutron_nova`` has read nova.conf, and before
        ``async_wait configure_neutron_nova``.
        """
        env = dict(self.env, **overrides)
        if neutron_writes_nova_conf:
            env['STUB_NEUTRON_NOVA'] = '1'
            for pipe in ('ready', 'gate'):
                os.mkfifo(self.async_dir / ('configure_neutron_nova.' + pipe))
        script = textwrap.dedent('''\
            set -o errexit -o nounset -o pipefail -o xtrace
            source "$1"
            source "$2/settings"
            shift 2
            if [[ -n "${STUB_NEUTRON_NOVA:-}" ]]; then
                async_runfunc configure_neutron_nova
                read -r _ < "$STUB_ASYNC_DIR/configure_neutron_nova.ready"
                # stack.sh waits for it after post-config; so does this
                # script however it ends, leaving no writer behind.
                trap 'async_wait configure_neutron_nova' EXIT
            fi
            source "$PLUGIN_SH" "$@"
            ''')
        env['PLUGIN_SH'] = str(PLUGIN_DIR / 'plugin.sh')
        return subprocess.run(
            ['bash', '-c', script, 'stack.sh', str(self.stubs),
             str(PLUGIN_DIR)] + list(phase),
            env=env, cwd=str(self.tmp), capture_output=True, text=True,
            timeout=60)

    def run(self, *phase, **kwargs):
        """Run a phase as :meth:`run_unchecked` does; it must succeed."""
        result = self.run_unchecked(*phase, **kwargs)
        assert result.returncode == 0, (
            'phase %s failed (%d)\nstdout:\n%s\nstderr:\n%s'
            % (' '.join(phase), result.returncode, result.stdout,
               result.stderr))
        return result

    def stack(self, **overrides):
        for phase in ('install', 'post-config', 'extra'):
            self.run('stack', phase, **overrides)

    def recorded(self):
        """Every recorded call, as a list of argument lists."""
        return [shlex.split(line) for line in
                self.calls.read_text().splitlines() if line.strip()]

    def openstack_calls(self, *prefix):
        """openstack calls (without --os-cloud) starting with ``prefix``."""
        found = []
        for call in self.recorded():
            if call[:1] == ['openstack']:
                args = call[3:]
                if args[:len(prefix)] == list(prefix):
                    found.append(args)
        return found

    def openstack_state(self):
        return json.loads(self.state.read_text())

    def ini_values(self, path, section, option):
        """Every value of ``option`` in ``section``, in file order."""
        values = []
        current = None
        for line in pathlib.Path(path).read_text().splitlines():
            if line.startswith('['):
                current = line.strip()[1:-1]
            elif current == section and '=' in line:
                key, value = line.split('=', 1)
                if key.strip() == option:
                    values.append(value.strip())
        return values


@pytest.fixture
def node(tmp_path):
    return Devstack(tmp_path)


def test_install_installs_the_plugin_from_its_checkout(node):
    node.run('stack', 'install')

    assert node.recorded() == [
        ['setup_develop', node.env['DEST'] + '/nova-ha-ext']]
    assert node.nova_conf.read_text() == NOVA_CONF


def test_settings_define_the_plugin_as_devstack_asks(node):
    result = node.run('stack', 'install')

    assert 'plugin defined: nova-ha-ext' in result.stdout.splitlines()


def assert_filters_added(node):
    """The plugin's filter is available and enabled, beside the site's."""
    assert node.ini_values(node.nova_conf, 'filter_scheduler',
                           'available_filters') == [
        ALL_FILTERS, 'site_filters.rack.RackFilter', FILTER_PATH]
    assert node.ini_values(node.nova_conf, 'filter_scheduler',
                           'enabled_filters') == [
        'ComputeFilter,ImagePropertiesFilter,RackFilter,HAAggregateFilter']


def test_post_config_adds_the_filter_and_keeps_existing_ones(node):
    node.run('stack', 'post-config')

    assert_filters_added(node)
    assert node.ini_values(node.nova_conf, 'ha_filter',
                           'isolate_non_ha_instances') == ['True']
    assert node.ini_values(node.nova_conf, 'ha_filter',
                           'require_pool_ha_ready') == ['True']
    # Nothing else changed.
    assert node.ini_values(node.nova_conf, 'DEFAULT', 'debug') == ['True']
    assert node.ini_values(node.nova_conf, 'filter_scheduler',
                           'track_instance_changes') == ['False']
    assert node.ini_values(node.nova_conf, 'placement',
                           'region_name') == ['RegionOne']


def test_post_config_twice_gives_an_identical_nova_conf(node):
    node.run('stack', 'install')
    node.run('stack', 'post-config')
    first = node.nova_conf.read_text()
    first_ha_conf = node.ha_conf.read_text()

    node.run('stack', 'install')
    node.run('stack', 'post-config')

    assert node.nova_conf.read_text() == first
    assert node.ha_conf.read_text() == first_ha_conf
    available = node.ini_values(node.nova_conf, 'filter_scheduler',
                                'available_filters')
    assert available.count(FILTER_PATH) == 1
    assert available.count(ALL_FILTERS) == 1
    enabled = node.ini_values(node.nova_conf, 'filter_scheduler',
                              'enabled_filters')
    assert len(enabled) == 1
    assert enabled[0].split(',').count('HAAggregateFilter') == 1


def test_post_config_on_nova_defaults_keeps_nova_filters(node):
    node.nova_conf.write_text('[DEFAULT]\ndebug = True\n')

    node.run('stack', 'post-config')
    node.run('stack', 'post-config')

    assert node.ini_values(node.nova_conf, 'filter_scheduler',
                           'available_filters') == [ALL_FILTERS, FILTER_PATH]
    assert node.ini_values(node.nova_conf, 'filter_scheduler',
                           'enabled_filters') == [
        NOVA_DEFAULT_FILTERS + ',HAAggregateFilter']


def test_post_config_does_not_repeat_a_filter_already_enabled(node):
    node.nova_conf.write_text(
        '[filter_scheduler]\n'
        'available_filters = %s\n'
        'enabled_filters = ComputeFilter, HAAggregateFilter\n'
        % FILTER_PATH)

    node.run('stack', 'post-config')

    # The operator's own list of filter classes is left as it is.
    assert node.ini_values(node.nova_conf, 'filter_scheduler',
                           'available_filters') == [FILTER_PATH]
    assert node.ini_values(node.nova_conf, 'filter_scheduler',
                           'enabled_filters') == [
        'ComputeFilter, HAAggregateFilter']


def test_post_config_scheduler_settings_follow_variables(node):
    node.run('stack', 'post-config', NOVA_HA_EXT_ISOLATE_NON_HA='False',
             NOVA_HA_EXT_REQUIRE_POOL_READY='false')

    assert node.ini_values(node.nova_conf, 'ha_filter',
                           'isolate_non_ha_instances') == ['False']
    assert node.ini_values(node.nova_conf, 'ha_filter',
                           'require_pool_ha_ready') == ['False']


def test_post_config_waits_for_the_background_writer_of_nova_conf(node):
    node.run('stack', 'post-config', neutron_writes_nova_conf=True)

    # Neither the plugin's edits nor devstack's are lost.
    assert node.ini_values(node.nova_conf, 'neutron', 'auth_type') == [
        'password']
    assert_filters_added(node)
    assert node.ini_values(node.nova_conf, 'ha_filter',
                           'require_pool_ha_ready') == ['True']


def test_post_config_leaves_nova_conf_alone_without_a_scheduler(node):
    node.run('stack', 'post-config', ENABLED_SERVICES='n-cpu')

    assert node.nova_conf.read_text() == NOVA_CONF
    assert node.ha_conf.exists()


def test_post_config_writes_nova_ha_ext_conf(node):
    node.run('stack', 'post-config')

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(node.ha_conf)
    assert {s: dict(parser[s]) for s in parser.sections()} == {
        'xenapi': {
            'connection_username': 'root',
            'connection_password': 's3cret',
            'insecure': 'False',
        },
        'ha_reconciler': {
            'interval': '60',
            'watch_events': 'True',
            'pool_url_metadata_key': 'xenapi_pool_url',
        },
    }
    # It holds a password.
    assert stat.S_IMODE(node.ha_conf.stat().st_mode) == 0o600


def test_the_password_stays_out_of_the_log(node):
    outputs = [node.run('stack', phase)
               for phase in ('install', 'post-config', 'extra')]

    assert 'connection_password = s3cret' in node.ha_conf.read_text()
    for result in outputs:
        assert 's3cret' not in result.stdout + result.stderr
    # The trace is on: it shows the rest of the work.
    assert 'connection_username' in outputs[1].stderr


def test_post_config_nova_ha_ext_conf_follows_variables(node):
    node.run('stack', 'post-config',
             NOVA_HA_EXT_XENAPI_USERNAME='ops',
             NOVA_HA_EXT_XENAPI_PASSWORD='',
             NOVA_HA_EXT_XENAPI_CA_FILE='/etc/pki/xs-ca.pem',
             NOVA_HA_EXT_XENAPI_INSECURE='True',
             NOVA_HA_EXT_RECONCILE_INTERVAL='15',
             NOVA_HA_EXT_WATCH_EVENTS='False',
             NOVA_HA_EXT_POOL_URL_KEY='pool_url',
             NOVA_HA_EXT_COORDINATION_URL='redis://:r3dis@127.0.0.1:6379')

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(node.ha_conf)
    assert dict(parser['xenapi']) == {
        'connection_username': 'ops',
        'ca_file': '/etc/pki/xs-ca.pem',
        'insecure': 'True',
    }
    assert dict(parser['ha_reconciler']) == {
        'interval': '15',
        'watch_events': 'False',
        'pool_url_metadata_key': 'pool_url',
    }
    assert dict(parser['coordination']) == {
        'backend_url': 'redis://:r3dis@127.0.0.1:6379'}


def test_the_coordination_password_stays_out_of_the_log(node):
    result = node.run('stack', 'post-config',
                      NOVA_HA_EXT_COORDINATION_URL='redis://:r3dis@db:6379')

    assert 'r3dis' in node.ha_conf.read_text()
    assert 'r3dis' not in result.stdout + result.stderr


def test_secrets_reach_nova_ha_ext_conf_byte_for_byte(node):
    # The working directory has files for a "*" to expand to.
    node.run('stack', 'post-config',
             NOVA_HA_EXT_XENAPI_PASSWORD='-n *  pass \\ & word',
             NOVA_HA_EXT_COORDINATION_URL='redis://:-n *  r\\3&dis@db:6379')

    lines = node.ha_conf.read_text().splitlines()
    assert 'connection_password = -n *  pass \\ & word' in lines
    assert 'backend_url = redis://:-n *  r\\3&dis@db:6379' in lines


@pytest.mark.parametrize('password', [
    '-n', '*', 'a  b', ' padded ', '"quoted"', "'single", 'pa$word', '$$',
    '#hash ;semi', 'x = y', 'back\\slash', 'and&amp'])
def test_secrets_load_back_exactly(node, password):
    from oslo_config import cfg

    from nova_ha_ext import conf as ha_conf

    node.run('stack', 'post-config', NOVA_HA_EXT_XENAPI_PASSWORD=password)

    conf = cfg.ConfigOpts()
    ha_conf.register_opts(conf)
    conf(['--config-file', str(node.ha_conf)], default_config_files=[],
         default_config_dirs=[])
    try:
        assert conf.xenapi.connection_password == password
    finally:
        conf.reset()


def test_a_secret_of_several_lines_stops_the_phase_naming_the_option(node):
    result = node.run_unchecked('stack', 'post-config',
                                NOVA_HA_EXT_XENAPI_PASSWORD='one\ntwo')

    assert result.returncode != 0
    assert ('The value of connection_password in %s must be one line'
            % node.ha_conf) in result.stderr
    assert 'two' not in result.stdout + result.stderr


def test_written_files_load_with_the_real_options(node):
    from nova.conf import scheduler as nova_scheduler_conf
    from oslo_config import cfg

    from nova_ha_ext import conf as ha_conf

    node.run('stack', 'post-config')

    conf = cfg.ConfigOpts()
    nova_scheduler_conf.register_opts(conf)
    ha_conf.register_opts(conf)
    # The reconciler's command line.
    conf(['--config-file', str(node.nova_conf),
          '--config-file', str(node.ha_conf)],
         default_config_files=[], default_config_dirs=[])
    try:
        # What the commands check at start-up.
        ha_conf.check(conf)
        assert conf.filter_scheduler.available_filters == [
            ALL_FILTERS, 'site_filters.rack.RackFilter', FILTER_PATH]
        assert conf.filter_scheduler.enabled_filters == [
            'ComputeFilter', 'ImagePropertiesFilter', 'RackFilter',
            'HAAggregateFilter']
        assert conf.ha_filter.isolate_non_ha_instances is True
        assert conf.ha_filter.require_pool_ha_ready is True
        assert conf.xenapi.connection_username == 'root'
        assert conf.xenapi.connection_password == 's3cret'
        assert conf.xenapi.insecure is False
        assert conf.ha_reconciler.interval == 60
        assert conf.ha_reconciler.watch_events is True
        assert conf.ha_reconciler.pool_url_metadata_key == 'xenapi_pool_url'
        # One worker unless a coordination backend is given.
        assert conf.coordination.backend_url is None
    finally:
        conf.reset()


def test_extra_creates_the_aggregate_and_flavor_once(node):
    node.stack()
    node.stack()

    state = node.openstack_state()
    assert state['aggregates'] == {
        'pool-a': {
            'hosts': ['xs-a1', 'xs-a2'],
            'properties': {'ha': 'true',
                           'xenapi_pool_url': 'https://xs-a1.example.com'},
        },
    }
    assert state['flavors'] == {
        'm1.large.ha': {'ram': '4096', 'vcpus': '2', 'disk': '40',
                        'properties': {'ha': 'true'}},
    }
    assert node.openstack_calls('aggregate', 'create') == [
        ['aggregate', 'create', 'pool-a']]
    assert node.openstack_calls('flavor', 'create') == [
        ['flavor', 'create', '--ram', '4096', '--vcpus', '2',
         '--disk', '40', 'm1.large.ha']]
    # Always as devstack's admin.
    clouds = {tuple(call[1:3]) for call in node.recorded()
              if call[0] == 'openstack'}
    assert clouds == {('--os-cloud', 'devstack-admin')}


def test_extra_without_pool_url_marks_the_aggregate_ha_only(node):
    node.run('stack', 'extra', NOVA_HA_EXT_POOL_URL='',
             NOVA_HA_EXT_FLAVOR='')

    state = node.openstack_state()
    assert state['aggregates']['pool-a']['properties'] == {'ha': 'true'}
    assert state['flavors'] == {}


def test_extra_gives_the_aggregate_its_pools_hosts_with_sync(node):
    node.run('stack', 'post-config')
    node.run('stack', 'extra', STUB_POOL_HOSTS='xs-a1 xs-a2 xs-a3',
             STUB_COMPUTES='xs-a1 xs-a2 xs-a3')

    assert [c for c in node.recorded()
            if c[0].endswith('nova-ha-manage')] == [
        [str(node.exec_prefix / 'nova-ha-manage'),
         '--config-file', str(node.nova_conf),
         '--config-file', str(node.ha_conf), 'sync', '--pool', 'pool-a']]
    assert node.openstack_state()['aggregates']['pool-a']['hosts'] == [
        'xs-a1', 'xs-a2', 'xs-a3']
    # The one way to add hosts: no 'openstack aggregate add host' as well.
    assert node.openstack_calls('aggregate', 'add', 'host') == []


def test_extra_warns_when_sync_leaves_a_host_of_the_pool_out(node):
    node.run('stack', 'extra', STUB_POOL_HOSTS='xs-a1 xs-a2 xs-a3')

    warnings = [call[1] for call in node.recorded() if call[0] == 'warn']
    assert len(warnings) == 1
    assert 'The hosts of aggregate pool-a do not match its pool' in (
        warnings[0])
    assert warnings[0].endswith('sync --pool pool-a')


def test_extra_without_pool_url_adds_the_hosts_it_is_given(node):
    node.run('stack', 'extra', NOVA_HA_EXT_POOL_URL='')

    assert node.openstack_state()['aggregates']['pool-a']['hosts'] == [
        'xs-a1', 'xs-a2']
    assert node.openstack_calls('aggregate', 'add', 'host') == [
        ['aggregate', 'add', 'host', 'pool-a', 'xs-a1'],
        ['aggregate', 'add', 'host', 'pool-a', 'xs-a2']]
    assert [c for c in node.recorded()
            if c[0].endswith('nova-ha-manage')] == []


def test_extra_skips_a_host_whose_compute_has_not_registered(node):
    node.run('stack', 'extra', STUB_COMPUTES='xs-a1',
             NOVA_HA_EXT_POOL_URL='')

    state = node.openstack_state()
    assert state['aggregates']['pool-a']['hosts'] == ['xs-a1']
    warnings = [call[1] for call in node.recorded() if call[0] == 'warn']
    assert len(warnings) == 1
    assert 'xs-a2' in warnings[0]
    assert 'openstack aggregate add host pool-a xs-a2' in warnings[0]

    # Once it has registered, the next run adds it.
    node.run('stack', 'extra', NOVA_HA_EXT_POOL_URL='')
    state = node.openstack_state()
    assert state['aggregates']['pool-a']['hosts'] == ['xs-a1', 'xs-a2']


def test_extra_starts_the_reconciler(node):
    node.stack()

    bin_dir = node.env['STUB_EXEC_PREFIX']
    assert [c for c in node.recorded() if c[0] == 'run_process'] == [
        ['run_process', 'nova-ha-reconciler',
         '%s/nova-ha-reconciler --config-file %s --config-file %s'
         % (bin_dir, node.nova_conf, node.ha_conf)]]


def test_extra_without_the_reconciler_service_starts_nothing(node):
    node.stack(ENABLED_SERVICES='n-api,n-sch,n-cpu')

    assert [c for c in node.recorded() if c[0] == 'run_process'] == []
    assert 'pool-a' in node.openstack_state()['aggregates']


def test_unstack_stops_the_reconciler(node):
    node.stack()
    node.run('unstack')

    assert node.recorded()[-1] == ['stop_process', 'nova-ha-reconciler']
    # Configuration stays until clean.
    assert node.ha_conf.exists()


def test_clean_removes_the_files_it_wrote(node):
    node.stack()
    node.run('unstack')
    node.run('clean')

    assert not node.ha_conf.exists()
    assert node.nova_conf.exists()
    # Cleaning twice is fine.
    node.run('clean')


def test_other_phases_do_nothing(node):
    for phase in (('stack', 'pre-install'), ('stack', 'test-config'),
                  ('source',)):
        node.run(*phase)

    assert node.recorded() == []
    assert node.nova_conf.read_text() == NOVA_CONF
    assert not node.ha_conf.exists()


def test_bashate_finds_nothing():
    result = subprocess.run(
        [sys.executable, '-m', 'bashate.bashate', '--error', 'E*',
         'devstack/plugin.sh', 'devstack/settings'],
        cwd=str(ROOT), capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == '', result.stdout
