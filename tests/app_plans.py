"""Plans of the fixture stacks (tests/fixtures/stacks) with data apps set, the values an
app's chart receives, and the pinned chart defaults they are checked against (shared by the
tests/unit/test_app_*.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_secrets import PlantingMocks, planted_plan

from dataplatform.chartcheck import iter_components, shared_charts_dir
from dataplatform.plan.engine import Plan
from foundation.quantity import parse_quantity

APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
RELEASE = "kubernetes:helm.sh/v3:Release"
# The fixture stacks the app tests plan -> the namespace of their domain.
STACKS = {"local": "acme-marketing-dev", "gcp-marketing": "acme-marketing-dev",
          "aws-finance": "acme-finance-prod"}
_PLANS: dict[str, Plan] = {}


def plan_of(stacks, stack: str, tag: str, **config: Any) -> Plan:
    """Plan of shipped `stack` with the top-level `config` keys set (cached per
    configuration; the test stacks are named `<stack>-<tag><n>`)."""
    key = json.dumps([stack, tag, config], sort_keys=True)
    if key not in _PLANS:
        name = f"{stack}-{tag}{len(_PLANS)}"
        stacks.write(name, {**stacks.shipped(stack), **config})
        _PLANS[key] = stacks.plan(name)
    return _PLANS[key]


# HelmApps that are not an app component's own chart keep their name (no `-helm`).
_OWN_NAMES = {"datahub-prerequisites"}


def helm_name(stack: str, app: str) -> str:
    """Name of `app`'s HelmApp in `stack` (its Application / Release carry it as prefix):
    an app component's HelmApp child is `<component>-helm`."""
    return f"{STACKS[stack]}-{app}" + ("" if app in _OWN_NAMES else "-helm")


def application_values(plan: Plan, stack: str, app: str) -> dict[str, Any]:
    """The merged values Argo CD receives for `app` (`valuesObject` of its Application)."""
    application = plan.get(APPLICATION, f"{helm_name(stack, app)}-application")
    return application.inputs["spec"]["source"]["helm"]["valuesObject"]


def delivered_values(plan: Plan, stack: str, app: str) -> dict[str, Any]:
    """The merged values of `app`: its Application's under Argo CD, else its Release's."""
    name = helm_name(stack, app)
    if [r for r in plan.by_type(APPLICATION) if r.name == f"{name}-application"]:
        return application_values(plan, stack, app)
    return plan.get(RELEASE, f"{name}-release").inputs["values"]


def chart_dir(chart: str) -> Path:
    """The pinned chart's defaults under ../shared (the test skips without them)."""
    shared = shared_charts_dir()
    if shared is None or not (shared / "defaults" / chart).is_dir():
        pytest.skip(f"../shared/charts/defaults/{chart} is absent from this checkout")
    return shared / "defaults" / chart


def requested(values: dict[str, Any], chart: Path) -> tuple[float, float]:
    """vCPU and bytes of memory requested by the chart's components, replicas counted."""
    comps = list(iter_components(values, chart))
    return (sum(parse_quantity(c.resources["requests"]["cpu"]) * c.replicas for c in comps),
            sum(parse_quantity(c.resources["requests"]["memory"]) * c.replicas for c in comps))


class AppPlans:
    """One app's plans: the shipped stacks with `apps.<app>` set, its values, its chart."""

    def __init__(self, app: str, tag: str):
        self.app, self.tag = app, tag

    def plan(self, stacks, stack: str, settings: dict[str, Any] | None = None,
             **extra: Any) -> Plan:
        """Plan of shipped `stack` with `apps.<app>` set to `settings` (default: enabled)."""
        apps = {self.app: {"enabled": True} if settings is None else settings}
        return plan_of(stacks, stack, self.tag, apps=apps, **extra)

    def planted(self, stacks, stack: str, monkeypatch) -> tuple[Plan, PlantingMocks]:
        """Shipped `stack` with the app enabled, planned with planted secret values."""
        name = f"{stack}-planted"
        stacks.write(name, {**stacks.shipped(stack), "apps": {self.app: {"enabled": True}}})
        return planted_plan(name, stacks.path, monkeypatch)

    def values(self, plan: Plan, stack: str) -> dict[str, Any]:
        return application_values(plan, stack, self.app)

    def chart_dir(self) -> Path:
        return chart_dir(self.app)


def removed(on: Plan, off: Plan) -> set[tuple[str, str]]:
    """(type, name) of the resources planned in `on` and not in `off`."""
    return {(r.type, r.name) for r in on.resources} - {(r.type, r.name) for r in off.resources}
