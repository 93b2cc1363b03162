"""Golden digests of every shipped stack's offline plan: a diff names each resource whose
type, parent, options or inputs a change touched, and each policy finding that changed
(tests/golden/plans/<stack>.yaml). Speed work on the plan must leave them as they are.

Each resource is one line: its type, its parent, protect/retain/aliases, and a short hash
of its inputs and dependencies; `UPDATE_GOLDEN=1 pytest tests/unit/test_plan_golden.py`
rewrites them after a deliberate change, for review like any other diff.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from golden_files import assert_golden

from dataplatform.plan.policy import check_plan
from foundation.config.loader import available_stacks

pytestmark = pytest.mark.unit

SHIPPED = available_stacks()


def digest(plan) -> dict[str, str]:
    names = {r.urn: r.name for r in plan.resources}
    out = {}
    for r in plan.resources:
        body = json.dumps({"inputs": r.inputs, "depends_on": sorted(names.get(d, d)
                                                                     for d in r.depends_on),
                           "provider": r.provider and r.provider.rsplit("::", 1)[-1]},
                          sort_keys=True, default=str)
        flags = [f for f, on in (("protect", r.protect), ("retain", r.retain_on_delete)) if on]
        flags += [f"alias({a})" for a in r.aliases]
        parent = names.get(r.parent or "", "-")
        out[f"{r.type} {r.name}"] = " ".join(
            [f"parent={parent}", *flags, hashlib.sha256(body.encode()).hexdigest()[:12]])
    return out


@pytest.mark.parametrize("stack", SHIPPED)
def test_plan_matches_its_golden_digest(shipped_plan, pack, stack):
    plan = shipped_plan(stack)
    findings = check_plan(plan, pack=pack)  # what `dataplatform plan` adds to the plan
    assert_golden(f"plans/{stack}", {"outputs": sorted(plan.outputs),
                                     "policy": findings, "resources": digest(plan)})
