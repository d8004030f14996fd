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

"""Which errors nova-ha-manage reports as an unknown pool."""

import io
import types

import pytest

from nova_ha_ext.cmd import manage
from nova_ha_ext.reconcile import engine


def _args(error):
    def func(context, args, out):
        raise error
    return types.SimpleNamespace(func=func)


def test_an_unknown_pool_is_reported_as_such():
    out = io.StringIO()
    code = manage.run(None, _args(engine.UnknownPool(
        'no aggregate describes pool(s) pool-z')), out)
    assert code == manage.ERROR
    assert out.getvalue() == (
        'Error: no aggregate describes pool(s) pool-z\n')


def test_a_key_error_from_elsewhere_is_not_an_unknown_pool():
    """A KeyError of a bug is not reported as a usage error.

    It reaches main()'s report of unexpected errors, with its type.
    """
    out = io.StringIO()
    with pytest.raises(KeyError):
        manage.run(None, _args(KeyError('xenapi_pool_uuid')), out)
    assert out.getvalue() == ''


def test_unknown_pool_is_its_own_exception():
    assert not issubclass(engine.UnknownPool, KeyError)
