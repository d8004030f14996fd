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

"""The reconciler: make Nova follow what XenServer HA did.

One pass over a pool reads both views, decides, and applies::

    view = nova_view.read_nova_view(ctxt, hostmap.nodenames(pool.ha.hosts))
    host_map = hostmap.map_hosts(pool.ha.hosts, view.compute_nodes)
    actions = decide.decide(view.instances, pool, host_map)
    results = apply.apply_actions(ctxt, actions, view.cells,
                                  set_protection=..., dry_run=...)

The core of a pass:

* :mod:`.hostmap` (pure) maps each XenServer host to its Nova compute node.
* :mod:`.decide` (pure) compares Nova's view with the pool's and returns
  actions; ``doc/decision-table.md`` is its specification.
* :mod:`.nova_view` reads Nova's view of a pool's compute nodes.
* :mod:`.apply` writes the actions to Nova; :mod:`.placement` is the one
  place that talks to placement.

This ``__init__`` imports nothing, so that the pure modules load (and are
tested) without Nova.
"""
