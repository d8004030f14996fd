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

"""The harness the tests, the demo and the benchmarks share.

It ships with the package, as Nova ships ``nova/tests/fixtures``, so that
the demo and the benchmarks run from an installed nova-ha-ext too. Nothing
under ``nova_ha_ext`` outside this package imports it.

Importing this package, or any module of it, has no side effect, with one
exception that says so: :mod:`nova_case` (and :mod:`xenapi_pools`, built
on it) imports Nova's functional test package, which monkey-patches the
process with eventlet. Import those first, and only in a process that runs
Nova in-process; the other modules (:mod:`waiting`, :mod:`pools`,
:mod:`hostile`, :mod:`workers`, :mod:`notification_bus`) work in any
process.
"""
