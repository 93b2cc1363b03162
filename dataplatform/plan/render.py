"""Text and JSON forms of a plan.

The text form is for people: the resource tree (each component with its children, as the
URNs' parent chain gives it), a line per app (chart, version, delivery, namespace) under
the component that delivers it, the outputs, and the policy findings. Every line fits
WIDTH columns: long names, types, values and URNs continue on the next line, nothing is
cut (`--json` has every value on one line). Output values the offline plan's mocks made
up (an ARN with the mock account, a hashed endpoint: `mocks.offline_value`) end in
OFFLINE, so nobody takes them for the real ones.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from dataplatform.plan.engine import Plan, PlannedResource
from dataplatform.plan.mocks import strings

WIDTH = 100
OFFLINE = "(offline)"
LEGEND = f"{OFFLINE}: made up by the offline plan's mocks; a deployed stack gets real ones."
HELM_APP = "dataplatform:apps:HelmApp"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
RELEASE = "kubernetes:helm.sh/v3:Release"
CHART = "kubernetes:helm.sh/v4:Chart"
_BREAKS = "/:$,.@-"
"""Where a long word (a URN, an ARN, a URL) may break when no space is near."""


def to_json(plan: Plan) -> str:
    return json.dumps(plan.as_json(), indent=2, sort_keys=True)


def fit(text: str, first: str, rest: str, width: int = WIDTH) -> list[str]:
    """`text` after `first`, continued on lines after `rest`, none wider than `width`:
    broken at a space, else after one of _BREAKS, else anywhere."""
    lines, prefix = [], first
    while len(prefix) + len(text) > width and width - len(prefix) > 0:
        room = width - len(prefix)
        cut = text.rfind(" ", 1, room + 1)
        if cut <= 0:
            cut = max((text.rfind(c, 1, room) + 1 for c in _BREAKS), default=0)
        if cut <= 0:
            cut = room
        lines.append(prefix + text[:cut].rstrip())
        text, prefix = text[cut:].lstrip(" "), rest
    lines.append(prefix + text)
    return lines


def _flags(r: PlannedResource) -> str:
    flags = [f for f, on in (("protect", r.protect), ("retain", r.retain_on_delete)) if on]
    return f"  [{', '.join(flags)}]" if flags else ""


def app_line(r: PlannedResource) -> str | None:
    """`chart C V, delivery D, namespace N` for a resource that delivers an app: an Argo
    CD Application, a Helm Release or a (patched) Helm Chart; None for any other."""
    if r.type == APPLICATION:
        spec = r.inputs.get("spec") or {}
        source: dict[str, Any] = spec.get("source") or next(iter(spec.get("sources") or []), {})
        chart = source.get("chart") or source.get("path") or source.get("repoURL") or "?"
        version = source.get("targetRevision") or "?"
        namespace = (spec.get("destination") or {}).get("namespace") or "?"
        delivery = "argocd"
    elif r.type in (RELEASE, CHART):
        chart, version = r.inputs.get("chart") or "?", r.inputs.get("version") or "?"
        namespace, delivery = r.inputs.get("namespace") or "default", "helm"
    else:
        return None
    return f"app: chart {chart} {version}, delivery {delivery}, namespace {namespace}"


def _app_lines(plan: Plan, by_urn: dict[str, PlannedResource]) -> dict[str, list[str]]:
    """The app lines, by the URN of the component they print under: the HelmApp that
    owns the Application/Release/Chart, else that resource itself."""
    out: dict[str, list[str]] = defaultdict(list)
    for r in plan.resources:
        line = app_line(r)
        if line is None:
            continue
        parent = by_urn.get(r.parent or "")
        out[parent.urn if parent is not None and parent.type == HELM_APP else r.urn].append(line)
    return out


def _tree(plan: Plan) -> list[str]:
    by_urn = {r.urn: r for r in plan.resources}
    children: dict[str | None, list[PlannedResource]] = defaultdict(list)
    for r in plan.resources:
        children[r.parent if r.parent in by_urn else None].append(r)
    apps = _app_lines(plan, by_urn)
    lines: list[str] = []

    def walk(parent: str | None, prefix: str) -> None:
        kids = sorted(children.get(parent, []), key=lambda r: (r.name, r.type))
        for i, r in enumerate(kids):
            last = i == len(kids) - 1
            inner = prefix + ("   " if last else "│  ")  # this node's children's prefix
            body = inner + ("│  " if children.get(r.urn) else "   ")  # its own extra lines
            kind = f"({r.type}){_flags(r)}"
            head = f"{prefix}{'└─ ' if last else '├─ '}{r.name}"
            if len(head) + 2 + len(kind) <= WIDTH:
                lines.append(f"{head}  {kind}")
            else:
                lines.extend(fit(r.name, head[:-len(r.name)], body))
                lines.extend(fit(kind, body + " ", body + "  "))
            for line in apps.get(r.urn, []):
                lines.extend(fit(line, body, body + "  "))
            walk(r.urn, inner)

    walk(None, "")
    return lines


def _offline(value: Any, offline: frozenset[str]) -> list[bool]:
    """For each string leaf of `value`: whether it holds an offline-only value."""
    return [any(t in leaf for t in offline) for leaf in strings(value)]


def _value(head: str, value: Any, indent: str, offline: frozenset[str]) -> list[str]:
    """`value` after `head` (a key, or a list's dash), nested under `indent` when it does
    not fit on one line or mixes offline-only and real values."""
    marks = _offline(value, offline)
    one = json.dumps(value, sort_keys=True)
    mark = f"  {OFFLINE}" if marks and all(marks) else ""
    if len(head) + len(one) + len(mark) <= WIDTH and (all(marks) or not any(marks)):
        return [head + one + mark]
    if isinstance(value, dict) and value:
        out = [head.rstrip()]
        for key in sorted(value):
            out += _value(f"{indent}  {key}: ", value[key], indent + "  ", offline)
        return out
    if isinstance(value, list) and value:
        out = [head.rstrip()]
        for item in value:
            out += _value(f"{indent}  - ", item, indent + "    ", offline)
        return out
    # A long scalar: the mark on the key's line, the value below it, continued if need be.
    return [head + mark.lstrip() if mark else head.rstrip(),
            *fit(one, indent + "    ", indent + "    ")]


def _outputs(plan: Plan) -> list[str]:
    lines = ["Outputs:"]
    for key in sorted(plan.outputs):
        lines += _value(f"  {key}: ", plan.outputs[key], "  ", plan.offline_values)
    if any(line.endswith(OFFLINE) for line in lines):
        lines += fit(LEGEND, "  ", "  ")
    return lines


def _policy(plan: Plan) -> list[str]:
    if not plan.policy:
        return ["Policy findings: none"]
    lines = [f"Policy findings ({len(plan.policy)}):"]
    for f in plan.policy:
        text = f"[{f['level']}] {f['policy']}: {f['message']}".splitlines() or [""]
        lines += fit(text[0], "  ", "      ")
        for more in text[1:]:
            lines += fit(more, "      ", "      ")
        lines += fit(f"at {f['urn']}", "      ", "         ")
    return lines


def to_text(plan: Plan) -> str:
    """A readable resource tree, children sorted by name, then outputs and policy findings."""
    lines = [f"Plan of stack '{plan.stack}' (project {plan.project}): "
             f"{len(plan.resources)} resources"]
    lines += _tree(plan)
    lines += ["", *_outputs(plan), "", *_policy(plan)]
    return "\n".join(lines)
