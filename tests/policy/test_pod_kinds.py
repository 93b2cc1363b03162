"""Every Kubernetes kind that carries a pod template, in every API version and as its
`*Patch` type, is seen by every pod rule: the list (`kubernetes.POD_SPEC`) is checked
against the Kubernetes provider SDK, and each type goes through the pack over gRPC."""

from __future__ import annotations

import re
from pathlib import Path

import pulumi_kubernetes
import pytest
from cases_platform import pod
from cases_pods import BAD_POD, POD_RULES, nest
from policy_helpers import guardrails, res, run

pytestmark = pytest.mark.policy

POD_SPEC: dict[str, str] = guardrails().kubernetes.POD_SPEC
KINDS = set(guardrails().kubernetes.POD_TEMPLATE_KINDS)
TOKEN = re.compile(r"['\"](kubernetes:[a-z0-9.]+/[a-z0-9]+:([A-Za-z]+))['\"]")


def sdk_tokens() -> set[str]:
    """The provider SDK's resource types whose kind carries a pod template (and patches)."""
    found = set()
    for f in Path(pulumi_kubernetes.__file__).parent.rglob("*.py"):
        for token, kind in TOKEN.findall(f.read_text()):
            if kind.removesuffix("Patch") in KINDS and not kind.endswith("List"):
                found.add(token)
    return found


def test_the_pod_kinds_are_exactly_those_of_the_provider_sdk():
    tokens = sdk_tokens()
    assert "kubernetes:batch/v2alpha1:CronJobPatch" in tokens
    assert set(POD_SPEC) == tokens


def test_patches_and_versions_share_their_kinds_path():
    assert POD_SPEC["kubernetes:core/v1:Pod"] == POD_SPEC["kubernetes:core/v1:PodPatch"] == "spec"
    assert POD_SPEC["kubernetes:core/v1:PodTemplate"] == "template.spec"
    for token, path in POD_SPEC.items():
        kind = token.rsplit(":", 1)[-1].removesuffix("Patch")
        assert path == POD_SPEC[token.removesuffix("Patch")], token
        assert path.endswith("spec") and (kind != "CronJob" or "jobTemplate" in path)


def _objects(spec: dict) -> list:
    return [res(t, re.sub(r"[^a-z0-9]+", "-", t.lower()), nest(tuple(path.split(".")), spec))
            for t, path in POD_SPEC.items()]


@pytest.mark.parametrize("rule", POD_RULES)
def test_every_pod_rule_sees_every_pod_kind(pack, rule):
    assert not [f for f in run(pack, _objects(pod())) if f["policy"] == rule]
    bad = _objects(BAD_POD[rule])
    flagged = {f["urn"] for f in run(pack, bad) if f["policy"] == rule}
    assert flagged == {r.urn for r in bad}, sorted({r.urn for r in bad} - flagged)
