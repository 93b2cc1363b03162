"""Every policy, with compliant and violating resources, through the real pack over gRPC."""

from __future__ import annotations

import re

import pytest
from cases_data import CASES as DATA_CASES
from cases_exposure import CASES as EXPOSURE_CASES
from cases_platform import CASES as PLATFORM_CASES
from cases_pods import CASES as POD_CASES
from policy_helpers import run

pytestmark = pytest.mark.policy

CASES = DATA_CASES + PLATFORM_CASES + POD_CASES + EXPOSURE_CASES
FIX = re.compile(r"\b(set|add|use|remove|create|pin|list|annotate|upgrade|replace|raise)\b",
                 re.I)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_policy_case(pack, case):
    findings = run(pack, list(case.resources), case.profile, case.overrides)
    mine = [f for f in findings if f["policy"] == case.policy]
    if not case.violates:
        assert not mine, mine
        return
    assert mine, f"{case.policy} did not fire; findings: {findings}"
    level = "mandatory" if case.profile == "prod" else "advisory"
    urns = {r.urn for r in case.resources}
    for f in mine:
        assert f["level"] == level
        assert f["urn"] in urns, "reported against the offending resource"
        assert FIX.search(f["message"]), f"the message says how to fix it: {f['message']}"
        assert "\n" not in f["message"]


def test_every_policy_has_a_compliant_and_a_violating_case(pack):
    assert len(pack.policies) >= 15
    for name in pack.policies:
        assert any(c.policy == name and not c.violates for c in CASES), f"{name}: no ok case"
        assert any(c.policy == name and c.violates for c in CASES), f"{name}: no bad case"
    assert {c.policy for c in CASES} <= set(pack.policies), "cases name real policies"


def test_every_policy_describes_itself_and_its_fix(pack):
    for p in pack.info.policies:
        assert p.description and p.remediation_steps, p.name
        assert p.policy_type in (1, 2), "resource or stack policy"


def test_a_violation_in_dev_is_only_advisory(pack):
    case = next(c for c in DATA_CASES if c.id == "rds-in-dev")
    findings = run(pack, list(case.resources), "dev")
    assert {f["level"] for f in findings} == {"advisory"}


def test_the_pack_readme_states_each_rules_level_in_dev(pack):
    """`not checked` in dev: no violating case is reported in a dev stack; `advisory`: some
    are, and only as advisory (prod is mandatory for all, see test_policy_case)."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "policies" / "README.md").read_text()
    dev = dict(re.findall(r"(?m)^\| `([a-z0-9-]+)` \| ([a-z ]+) \|", readme))
    for name in pack.policies:
        found = [f for c in CASES if c.policy == name and c.violates
                 for f in run(pack, list(c.resources), "dev", c.overrides)
                 if f["policy"] == name]
        if dev[name] == "not checked":
            assert not found, (name, found)
        else:
            assert found and {f["level"] for f in found} == {"advisory"}, name
