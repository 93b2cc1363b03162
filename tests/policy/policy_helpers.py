"""Resources as the offline plan holds them, and a round trip through the pack."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from dataplatform.plan.engine import PlannedResource
from dataplatform.plan.policy import PolicyPackClient

STACK = "policy-test"
TAGS = {"customer": "acme", "domain": "finance", "environment": "prod", "owner": "finance-data",
        "cost-center": "cc-2000", "managed-by": "pulumi"}


def res(type_: str, name: str, inputs: dict | None = None, *, protect: bool = False,
        retain: bool = False, provider: PlannedResource | None = None,
        depends_on: tuple[PlannedResource, ...] = ()) -> PlannedResource:
    """A planned resource as the recording monitor would hold it."""
    return PlannedResource(
        urn=f"urn:pulumi:{STACK}::dataplatform::{type_}::{name}", type=type_, name=name,
        parent=None, custom=True, inputs=inputs or {}, protect=protect,
        retain_on_delete=retain, depends_on=[d.urn for d in depends_on],
        provider=provider.urn if provider else None)


AWS = res("pulumi:providers:aws", "aws", {"defaultTags": json.dumps({"tags": TAGS}),
                                          "region": "eu-west-1"})
GCP = res("pulumi:providers:gcp", "gcp", {"defaultLabels": json.dumps(TAGS),
                                          "project": "acme-data"})


def run(pack: PolicyPackClient, resources: list[PlannedResource], profile: str = "prod",
        overrides: dict | None = None) -> list[dict[str, str]]:
    """Configure the pack for a stack of `profile`, then analyze `resources` (+ providers)."""
    pack.configure(STACK, profile, overrides)
    providers = [p for p in (AWS, GCP) if any(r.provider == p.urn for r in resources)]
    return pack.analyze([*providers, *resources], STACK)


@dataclass(frozen=True)
class Case:
    """Resources that comply with `policy` or violate it (`violates`), in a stack of `profile`."""

    policy: str
    id: str
    resources: tuple[PlannedResource, ...]
    violates: bool
    profile: str = "prod"
    overrides: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.policy}:{'bad' if self.violates else 'ok'}:{self.id}"


def ok(policy: str, id_: str, *resources: PlannedResource, **kw) -> Case:
    return Case(policy, id_, resources, False, **kw)


def bad(policy: str, id_: str, *resources: PlannedResource, **kw) -> Case:
    return Case(policy, id_, resources, True, **kw)


def guardrails(module: str = ""):
    """The pack's `guardrails` package (or its `module`), imported in this process (for its
    constants and pure helpers; the rules themselves are judged through the pack's process)."""
    import importlib
    import sys
    from pathlib import Path

    folder = str(Path(__file__).resolve().parents[2] / "policies")
    sys.path.insert(0, folder)
    try:
        return importlib.import_module(f"guardrails.{module}" if module else "guardrails")
    finally:
        sys.path.remove(folder)
