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

"""What became of one step of a pass: the statuses every step reports.

The instance actions (:mod:`.apply`), aggregate membership
(:mod:`.membership`), compute services (:mod:`.services`) and VM groups
(:mod:`.affinity`) report their steps with these, so that commands,
metrics and notifications read one vocabulary.
"""

import dataclasses

#: Decided, not yet written.
PLANNED = 'planned'
#: Written.
APPLIED = 'applied'
#: Tried and refused; the reason says by whom.
FAILED = 'failed'
#: Not written because the pass was a dry run.
DRY_RUN = 'dry-run'
#: Nothing to write: reported for an operator.
REPORTED = 'reported'
#: Not written because the pool is paused (:mod:`.pause`).
PAUSED = 'paused'


class Step:
    """A frozen dataclass step with a ``status`` and a ``reason``."""

    def with_status(self, status, reason=None, **changes):
        """This step with ``status``, a new reason if given, and changes."""
        return dataclasses.replace(self, status=status,
                                   reason=reason or self.reason, **changes)
