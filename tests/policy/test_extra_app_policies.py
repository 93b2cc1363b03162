"""The existing chart guardrails cover extra apps: their helm.v4.Chart (patched apps) and
Release/Application resources, with the repositories reviewed in the policy config."""

from __future__ import annotations

import pytest

from dataplatform.plan.policy import check_plan, evaluate

pytestmark = pytest.mark.policy

REPOS = "chart-repository-allowed"


def _charts(findings: list[dict[str, str]], policy: str) -> set[str]:
    return {f["urn"].rsplit("::", 1)[-1] for f in findings if f["policy"] == policy}


def test_example_stack_passes_with_its_reviewed_repositories(shipped_plan, pack):
    findings = check_plan(shipped_plan("local-extra"), pack=pack)
    assert not [f for f in findings if f["policy"] in (REPOS, "chart-version-pinned")]


@pytest.mark.parametrize(("profile", "level"), [("dev", "advisory"), ("prod", "mandatory")])
def test_extra_repositories_need_the_platform_review(shipped_plan, pack, profile, level):
    """apps.allowedRepos is the domain's request; the policy config is the review."""
    findings = evaluate(shipped_plan("local-extra"), profile, {}, pack)
    assert _charts(findings, REPOS) == {"acme-insights-dev-superset-helm-chart",
                                        "acme-insights-dev-dagster-helm-chart"}
    assert {f["level"] for f in findings if f["policy"] == REPOS} == {level}
