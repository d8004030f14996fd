#!/bin/bash
#
# devstack plugin of nova-ha-ext.
#
# stack.sh, unstack.sh and clean.sh source this file, after
# devstack/settings, with the mode and the phase as arguments:
#
#   stack install      install nova-ha-ext where nova runs
#   stack post-config  enable HAAggregateFilter in nova.conf, set [ha_filter],
#                      write nova-ha-ext.conf ([xenapi], [ha_reconciler])
#   stack extra        create the HA aggregate (its hosts are the pool's, with
#                      nova-ha-manage sync) and the HA flavor, start
#                      nova-ha-reconciler
#   unstack            stop nova-ha-reconciler
#   clean              remove nova-ha-ext.conf
#
# Every step can run again on a stacked node and leaves the same result.

# Save trace setting
_XTRACE_NOVA_HA_EXT=$(set +o | grep xtrace)
set -o xtrace


# Helpers
# -------

# Is word $1 one of the blank-separated words of $2?
function _nova_ha_ext_has_word {
    local word=$1
    local words=$2
    words=$(echo "$words" | tr '\n\t' '  ')
    [[ " $words " == *" $word "* ]]
}

# Is filter name $1 in the comma-separated list $2?
function _nova_ha_ext_has_filter {
    local name=$1
    local filters=$2
    filters=${filters//[[:space:]]/}
    [[ ",$filters," == *",$name,"* ]]
}

# Print the line "name = value" of an option of nova-ha-ext.conf, with the
# value written so that oslo.config reads back exactly $2: "$" doubled (it
# would substitute "$name"), and quoted when it starts or ends with a blank
# or starts with a quote (it would strip them). printf, unlike echo or
# iniset, writes every other byte as it is.
function _nova_ha_ext_conf_line {
    local name=$1
    local value=$2
    if [[ "$value" == *$'\n'* ]]; then
        die $LINENO "The value of $name in $NOVA_HA_EXT_CONF must be one line"
    fi
    value=${value//\$/\$\$}
    case "$value" in
        [[:space:]]*|*[[:space:]]|\"*|\'*)
            value="\"$value\""
            ;;
    esac
    printf '%s = %s\n' "$name" "$value"
}

# The openstack client with the admin credentials of devstack's clouds.yaml.
function _nova_ha_ext_openstack {
    openstack --os-cloud "$NOVA_HA_EXT_OS_CLOUD" "$@"
}

# Wait until nova-compute on host $1 has registered its service, at most
# NOVA_HA_EXT_COMPUTE_WAIT seconds. Nova refuses to add an unknown host to an
# aggregate.
function _nova_ha_ext_wait_for_compute {
    local host=$1
    local deadline
    deadline=$((SECONDS + NOVA_HA_EXT_COMPUTE_WAIT))
    local found
    while true; do
        found=$(_nova_ha_ext_openstack compute service list \
            --service nova-compute --host "$host" -f value -c Host \
            2>/dev/null || true)
        if [[ -n "$found" ]]; then
            return 0
        fi
        if [[ $SECONDS -ge $deadline ]]; then
            return 1
        fi
        sleep 2
    done
}


# Install
# -------

# Install nova-ha-ext (editable) into the Python environment of Nova, so
# that nova-scheduler finds the filter and nova-api the ha validator.
function install_nova_ha_ext {
    setup_develop "$NOVA_HA_EXT_DIR"
}


# Configure
# ---------

# Make HAAggregateFilter available and enabled in nova.conf, and set the
# [ha_filter] options.
function configure_nova_ha_ext_scheduler {
    # stack.sh runs configure_neutron_nova in the background and waits for it
    # only after post-config: two writers of nova.conf at once lose updates.
    # Waiting for a job that has finished, or never started, returns at once.
    async_wait configure_neutron_nova

    local available
    available=$(iniget_multiline "$NOVA_CONF" filter_scheduler \
        available_filters)
    if [[ -z "$available" ]]; then
        # Unset, the option means Nova's own filters: keep them once it has
        # a value.
        iniadd "$NOVA_CONF" filter_scheduler available_filters \
            "$NOVA_HA_EXT_NOVA_ALL_FILTERS"
    fi
    if ! _nova_ha_ext_has_word "$NOVA_HA_EXT_FILTER_PATH" "$available"; then
        iniadd "$NOVA_CONF" filter_scheduler available_filters \
            "$NOVA_HA_EXT_FILTER_PATH"
    fi

    local enabled
    enabled=$(iniget "$NOVA_CONF" filter_scheduler enabled_filters)
    enabled=${enabled:-$NOVA_HA_EXT_NOVA_DEFAULT_FILTERS}
    if ! _nova_ha_ext_has_filter "$NOVA_HA_EXT_FILTER_NAME" "$enabled"; then
        enabled=$enabled,$NOVA_HA_EXT_FILTER_NAME
    fi
    iniset "$NOVA_CONF" filter_scheduler enabled_filters "$enabled"

    iniset "$NOVA_CONF" ha_filter isolate_non_ha_instances \
        "$NOVA_HA_EXT_ISOLATE_NON_HA"
    iniset "$NOVA_CONF" ha_filter require_pool_ha_ready \
        "$NOVA_HA_EXT_REQUIRE_POOL_READY"
}

# Write nova-ha-ext.conf, the second configuration file of the reconciler
# and nova-ha-manage, from scratch. Not with devstack's ini helpers: iniset's
# sed commands eat backslashes and expand "&", and iniget echoes values
# unquoted (globbing "*", squeezing blanks, eating a leading "-n").
function configure_nova_ha_ext_conf {
    local conf=$NOVA_HA_EXT_CONF
    mkdir -p "$(dirname "$conf")"
    rm -f "$conf"
    # It holds the XenAPI password: readable by the stack user only.
    touch "$conf"
    chmod 0600 "$conf"

    local xtrace
    xtrace=$(set +o | grep xtrace)
    {
        echo "# Written by the nova-ha-ext devstack plugin at each stack.sh."
        echo
        echo "[xenapi]"
        _nova_ha_ext_conf_line connection_username \
            "$NOVA_HA_EXT_XENAPI_USERNAME"
        # Keep the password out of the stack.sh log.
        set +o xtrace
        if [[ -n "${NOVA_HA_EXT_XENAPI_PASSWORD:-}" ]]; then
            _nova_ha_ext_conf_line connection_password \
                "$NOVA_HA_EXT_XENAPI_PASSWORD"
        fi
        $xtrace
        if [[ -n "$NOVA_HA_EXT_XENAPI_CA_FILE" ]]; then
            _nova_ha_ext_conf_line ca_file "$NOVA_HA_EXT_XENAPI_CA_FILE"
        fi
        _nova_ha_ext_conf_line insecure "$NOVA_HA_EXT_XENAPI_INSECURE"

        echo
        echo "[ha_reconciler]"
        _nova_ha_ext_conf_line interval "$NOVA_HA_EXT_RECONCILE_INTERVAL"
        _nova_ha_ext_conf_line watch_events "$NOVA_HA_EXT_WATCH_EVENTS"
        _nova_ha_ext_conf_line pool_url_metadata_key \
            "$NOVA_HA_EXT_POOL_URL_KEY"

        # The URL may hold the backend's password: keep it out of the log too.
        set +o xtrace
        if [[ -n "${NOVA_HA_EXT_COORDINATION_URL:-}" ]]; then
            echo
            echo "[coordination]"
            _nova_ha_ext_conf_line backend_url \
                "$NOVA_HA_EXT_COORDINATION_URL"
        fi
        $xtrace
    } >> "$conf"
}


# Create the HA aggregate and flavor
# ----------------------------------

# The aggregate NOVA_HA_EXT_AGGREGATE with metadata ha=true and the pool
# URL, holding the compute hosts of the pool's XenServer hosts, as
# "nova-ha-manage sync" finds them. Without a pool URL there is no pool to
# read: it holds the hosts of NOVA_HA_EXT_HOSTS.
function create_nova_ha_ext_aggregate {
    local agg=$NOVA_HA_EXT_AGGREGATE
    if ! _nova_ha_ext_openstack aggregate show "$agg" >/dev/null 2>&1; then
        _nova_ha_ext_openstack aggregate create "$agg"
    fi

    local -a props=(--property ha=true)
    if [[ -n "$NOVA_HA_EXT_POOL_URL" ]]; then
        props+=(--property "$NOVA_HA_EXT_POOL_URL_KEY=$NOVA_HA_EXT_POOL_URL")
    fi
    _nova_ha_ext_openstack aggregate set "${props[@]}" "$agg"

    if [[ -n "$NOVA_HA_EXT_POOL_URL" ]]; then
        _nova_ha_ext_sync_aggregate "$agg"
        return 0
    fi

    # "['a', 'b']" or "a, b", depending on the client: keep the names.
    local members
    members=$(_nova_ha_ext_openstack aggregate show "$agg" -f value -c hosts)
    members=$(echo "$members" | tr -d "[]',\"")
    local host
    for host in $NOVA_HA_EXT_HOSTS; do
        if _nova_ha_ext_has_word "$host" "$members"; then
            continue
        fi
        if ! _nova_ha_ext_wait_for_compute "$host"; then
            local msg="nova-compute on $host has not registered, not adding"
            msg+=" it to $agg; add it later with:"
            msg+=" openstack aggregate add host $agg $host"
            warn $LINENO "$msg"
            continue
        fi
        _nova_ha_ext_openstack aggregate add host "$agg" "$host"
    done
}

# Make the hosts of aggregate $1 those of its pool with nova-ha-manage sync,
# once the nova-compute of each host of NOVA_HA_EXT_HOSTS has registered.
function _nova_ha_ext_sync_aggregate {
    local agg=$1
    local host
    for host in $NOVA_HA_EXT_HOSTS; do
        if ! _nova_ha_ext_wait_for_compute "$host"; then
            warn $LINENO "nova-compute on $host has not registered yet"
        fi
    done
    local -a manage=("$NOVA_HA_EXT_BIN_DIR/nova-ha-manage"
        --config-file "$NOVA_CONF" --config-file "$NOVA_HA_EXT_CONF")
    if ! "${manage[@]}" sync --pool "$agg"; then
        local msg="The hosts of aggregate $agg do not match its pool yet"
        msg+=" (see above); once fixed, run: ${manage[*]} sync --pool $agg"
        warn $LINENO "$msg"
    fi
}

# The flavor NOVA_HA_EXT_FLAVOR with extra spec ha=true.
function create_nova_ha_ext_flavor {
    local flavor=$NOVA_HA_EXT_FLAVOR
    if [[ -z "$flavor" ]]; then
        return 0
    fi
    if ! _nova_ha_ext_openstack flavor show "$flavor" >/dev/null 2>&1; then
        _nova_ha_ext_openstack flavor create \
            --ram "$NOVA_HA_EXT_FLAVOR_RAM" \
            --vcpus "$NOVA_HA_EXT_FLAVOR_VCPUS" \
            --disk "$NOVA_HA_EXT_FLAVOR_DISK" \
            "$flavor"
    fi
    _nova_ha_ext_openstack flavor set --property ha=true "$flavor"
}


# The reconciler service
# ----------------------

function start_nova_ha_ext_reconciler {
    local cmd="$NOVA_HA_EXT_BIN_DIR/nova-ha-reconciler"
    cmd+=" --config-file $NOVA_CONF --config-file $NOVA_HA_EXT_CONF"
    run_process nova-ha-reconciler "$cmd"
}

function stop_nova_ha_ext_reconciler {
    stop_process nova-ha-reconciler
}

function cleanup_nova_ha_ext {
    rm -f "$NOVA_HA_EXT_CONF"
}


# Dispatch
# --------

if [[ "${1:-}" == "stack" && "${2:-}" == "install" ]]; then
    echo_summary "Installing nova-ha-ext"
    install_nova_ha_ext

elif [[ "${1:-}" == "stack" && "${2:-}" == "post-config" ]]; then
    echo_summary "Configuring nova-ha-ext"
    if is_service_enabled n-sch; then
        configure_nova_ha_ext_scheduler
    fi
    configure_nova_ha_ext_conf

elif [[ "${1:-}" == "stack" && "${2:-}" == "extra" ]]; then
    if is_service_enabled n-api; then
        echo_summary "Creating the HA aggregate and flavor of nova-ha-ext"
        create_nova_ha_ext_aggregate
        create_nova_ha_ext_flavor
    fi
    if is_service_enabled nova-ha-reconciler; then
        echo_summary "Starting nova-ha-reconciler"
        start_nova_ha_ext_reconciler
    fi
fi

if [[ "${1:-}" == "unstack" ]]; then
    if is_service_enabled nova-ha-reconciler; then
        stop_nova_ha_ext_reconciler
    fi
fi

if [[ "${1:-}" == "clean" ]]; then
    cleanup_nova_ha_ext
fi

# Restore xtrace
$_XTRACE_NOVA_HA_EXT
