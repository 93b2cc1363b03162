"""Text and JSON forms of a plan."""

from __future__ import annotations

import json
from collections import defaultdict

from dataplatform.plan.engine import Plan, PlannedResource


def to_json(plan: Plan) -> str:
    return json.dumps(plan.as_json(), indent=2, sort_keys=True)


def _flags(r: PlannedResource) -> str:
    flags = [f for f, on in (("protect", r.protect), ("retain", r.retain_on_delete)) if on]
    return f"  [{', '.join(flags)}]" if flags else ""


def to_text(plan: Plan) -> str:
    """A readable resource tree, children sorted by name, then outputs and policy findings."""
    children: dict[str | None, list[PlannedResource]] = defaultdict(list)
    urns = {r.urn for r in plan.resources}
    for r in plan.resources:
        children[r.parent if r.parent in urns else None].append(r)
    lines = [f"Plan of stack '{plan.stack}' (project {plan.project}): "
             f"{len(plan.resources)} resources"]

    def walk(parent: str | None, prefix: str) -> None:
        kids = sorted(children.get(parent, []), key=lambda r: (r.name, r.type))
        for i, r in enumerate(kids):
            last = i == len(kids) - 1
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{r.name}  ({r.type}){_flags(r)}")
            walk(r.urn, prefix + ("   " if last else "│  "))

    walk(None, "")
    lines.append("")
    lines.append("Outputs:")
    for key in sorted(plan.outputs):
        lines.append(f"  {key}: {json.dumps(plan.outputs[key], sort_keys=True)}")
    lines.append("")
    if plan.policy:
        lines.append(f"Policy findings ({len(plan.policy)}):")
        for f in plan.policy:
            lines.append(f"  [{f['level']}] {f['policy']}: {f['message']}  ({f['urn']})")
    else:
        lines.append("Policy findings: none")
    return "\n".join(lines)
