"""Resource footprint: summed over the rendered pods of shipped stacks (`dataplatform
render`), then, for comparison, the earlier estimate from the values files alone.

    .venv/bin/python bench/footprint.py [--profile dev|prod]    (default: both)

Every folder of `charts-values/` is an app (folders without a values file are skipped):
- named after a chart of `charts.lock.yaml` (argo-cd, airbyte, airflow, metabase, datahub,
  datahub-prerequisites, kube-prometheus-stack, ...): the chart's defaults from
  `../shared/charts/defaults/<chart>/` are merged with our `values.yaml` and `<profile>.yaml`
  and its enabled components are found by `dataplatform.chartcheck.iter_components` (see its
  heuristics: DaemonSets count once, init containers add up, runtime-sized job pods and
  switched-off sidecars are left out);
- any other (postgres, minio, dbt, ...) sizes our own manifests: every map holding
  `requests`/`limits` is a container, times the nearest `replicas`/`replicaCount` above it
  (else 1); the containers under an `ONE_AT_A_TIME` path run one after the other (init
  containers), so the pod requests their largest;
- extra apps (an `apps.extra[].name` of a stack file in stacks/) are opt-in charts pinned
  outside the lock: summed the same way from our values only, shown but left out of the
  domain total.
Sums CPU/memory requests and limits per app, compares the dev profile with the domain's
budget (whole domain and each app's share), and lists every component left without
requests.cpu, requests.memory or limits.memory. Stack overrides and values computed in code
are not included. Exit 1 if a component lacks resources or dev is over budget.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from components._values import deep_merge, static_values
from dataplatform.chartcheck import (
    Component,
    containers_without_resources,
    iter_components,
    load_chart,
    shared_charts_dir,
)
from foundation.charts import chart_pins
from foundation.config.loader import STACKS_DIR
from foundation.layout import VALUES_DIR
from foundation.quantity import parse_quantity

FIELDS = (("requests", "cpu"), ("requests", "memory"), ("limits", "cpu"), ("limits", "memory"))
REQUIRED = (("requests", "cpu"), ("requests", "memory"), ("limits", "memory"))
GiB = 2**30
DOMAIN_BUDGET = (4.0, 12 * GiB)
"""Requests of the whole dev domain: one 4 vCPU / 16 GiB node or a laptop kind cluster."""
BUDGETS: dict[str, tuple[float, float]] = {
    "argo-cd": (0.29, 800 * 2**20),
    "airbyte": (0.6, 1.75 * GiB),
    "airflow": (0.45, 1.5 * GiB),
    "metabase": (0.2, 768 * 2**20),
    "dbt": (0.1, 256 * 2**20),
    "datahub": (1.4, 4.5 * GiB),
    "kube-prometheus-stack": (0.4, 1.25 * GiB),
}
"""Dev share of each app (requests); `datahub` covers every `datahub-*` folder too."""
ONE_AT_A_TIME: dict[str, tuple[str, ...]] = {"dbt": ("resources",)}
"""Own manifests whose containers under these paths never run together (dbt's git-sync,
dbt and uploader are init containers of one Job pod)."""


@dataclass
class Footprint:
    app: str
    kind: str                  # "chart", "manifests" or "extra"
    totals: list[float]        # FIELDS, times replicas
    missing: list[str]         # components without REQUIRED resources
    note: str = ""


def cpu(cores: float) -> str:
    return f"{cores * 1000:.0f}m"


def mem(size: float) -> str:
    return f"{size / GiB:.2f}Gi" if size >= GiB else f"{size / 2**20:.0f}Mi"


def _get(node: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _quantity(res: Any, kind: str, name: str) -> float:
    value = _get(res, (kind, name))
    return 0.0 if value in (None, "") else parse_quantity(value)


def _sum(components: list[Component]) -> list[float]:
    return [sum(_quantity(c.resources, k, n) * c.replicas for c in components)
            for k, n in FIELDS]


def own_components(values: Mapping[str, Any], path: tuple[str, ...] = (),
                   replicas: int = 1) -> Iterator[Component]:
    """Containers of our own manifests: maps with `requests`/`limits`, lists searched too."""
    if isinstance(values, list):
        for i, item in enumerate(values):
            yield from own_components(item, (*path[:-1], f"{path[-1]}[{i}]") if path
                                      else (f"[{i}]",), replicas)
        return
    if not isinstance(values, Mapping):
        return
    if any(isinstance(values.get(k), Mapping) for k in ("requests", "limits")):
        yield Component(".".join(path), values, replicas)
        return
    for name in ("replicas", "replicaCount"):
        if isinstance(values.get(name), int) and not isinstance(values.get(name), bool):
            replicas = values[name]
    for key, value in values.items():
        yield from own_components(value, (*path, str(key)), replicas)


def _own_totals(app: str, comps: list[Component]) -> list[float]:
    """Like `_sum`, except that containers run one at a time count once, the largest."""
    groups = ONE_AT_A_TIME.get(app, ())
    together = [c for c in comps if not any(c.path.startswith(g + ".") for g in groups)]
    totals = _sum(together)
    for group in groups:
        members = [c for c in comps if c.path.startswith(group + ".")]
        for i, (k, n) in enumerate(FIELDS):
            totals[i] += max((_quantity(c.resources, k, n) * c.replicas for c in members),
                             default=0.0)
    return totals


def extra_apps(stacks_dir: Path = STACKS_DIR) -> set[str]:
    """Names of the extra apps (`apps.extra[].name`) of the stack files."""
    names: set[str] = set()
    for path in stacks_dir.glob("Pulumi.*.yaml"):
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        apps = config.get("dataplatform:apps") or {}
        names.update(e["name"] for e in apps.get("extra") or []
                     if isinstance(e, Mapping) and isinstance(e.get("name"), str))
    return names


def footprint(app: str, profile: str, shared: Path | None,
              extras: Set[str] = frozenset()) -> Footprint:
    """One app's footprint in `profile`."""
    if not any((VALUES_DIR / app).glob("*.yaml")):
        return Footprint(app, "-", [0.0] * len(FIELDS), [], note="no values file yet")
    ours = static_values(app, profile)
    if app not in chart_pins():
        comps = list(own_components(ours))
        missing = [c.path for c in comps if c.replicas != 0 and any(
            _get(c.resources, keys) in (None, "") for keys in REQUIRED)]
        extra = app in extras
        note = ("opt-in, our values only" if extra else "") + (
            "; no requests/limits found" if not comps else "")
        return Footprint(app, "extra" if extra else "manifests", _own_totals(app, comps),
                         missing, note=note.lstrip("; "))
    chart_dir = shared / "defaults" / app if shared else None
    if chart_dir is None or not chart_dir.is_dir():
        return Footprint(app, "chart", [0.0] * len(FIELDS), [],
                         note=f"no chart defaults for {app}: not counted")
    merged = deep_merge(load_chart(chart_dir).defaults, ours)
    return Footprint(app, "chart", _sum(list(iter_components(merged, chart_dir))),
                     containers_without_resources(merged, chart_dir))


def budget_of(app: str) -> tuple[str, tuple[float, float]] | None:
    for name, budget in BUDGETS.items():
        if app == name or app.startswith(name + "-"):
            return name, budget
    return None


def report(profile: str, shared: Path | None) -> tuple[list[Footprint], list[str]]:
    """Print the table of `profile`; return the footprints and the budget problems."""
    apps = sorted(d.name for d in VALUES_DIR.iterdir() if d.is_dir())
    extras = extra_apps()
    rows = [footprint(app, profile, shared, extras) for app in apps]
    header = (f"{'app':<24}{'kind':<11}{'cpu req':>9}{'mem req':>10}{'cpu lim':>9}"
              f"{'mem lim':>10}")
    print(f"\nprofile: {profile}\n{header}\n{'-' * len(header)}")
    for f in rows:
        t = f.totals
        print(f"{f.app:<24}{f.kind:<11}{cpu(t[0]):>9}{mem(t[1]):>10}{cpu(t[2]):>9}"
              f"{mem(t[3]):>10}" + (f"  ({f.note})" if f.note else ""))
    domain = [f for f in rows if f.kind != "extra"]
    grand = [sum(f.totals[i] for f in domain) for i in range(len(FIELDS))]
    print(f"{'-' * len(header)}\n{'TOTAL (without extras)':<35}{cpu(grand[0]):>9}"
          f"{mem(grand[1]):>10}{cpu(grand[2]):>9}{mem(grand[3]):>10}")
    problems: list[str] = []
    if profile == "dev":
        shares: dict[str, list[float]] = {}
        for f in domain:
            if (found := budget_of(f.app)) is not None:
                acc = shares.setdefault(found[0], [0.0, 0.0])
                acc[0], acc[1] = acc[0] + f.totals[0], acc[1] + f.totals[1]
        print("\nbudgets (dev requests):")
        for name, (used_cpu, used_mem) in sorted(shares.items()):
            max_cpu, max_mem = BUDGETS[name]
            ok = used_cpu <= max_cpu + 1e-9 and used_mem <= max_mem
            print(f"  {name:<22}{cpu(used_cpu):>7} / {cpu(max_cpu):<7}{mem(used_mem):>9} / "
                  f"{mem(max_mem):<8}{'ok' if ok else 'OVER'}")
            if not ok:
                problems.append(f"{name} over its dev share")
        ok = grand[0] <= DOMAIN_BUDGET[0] + 1e-9 and grand[1] <= DOMAIN_BUDGET[1]
        print(f"  {'dev domain':<22}{cpu(grand[0]):>7} / {cpu(DOMAIN_BUDGET[0]):<7}"
              f"{mem(grand[1]):>9} / {mem(DOMAIN_BUDGET[1]):<8}{'ok' if ok else 'OVER'}")
        if not ok:
            problems.append("the dev domain is over budget")
    return rows, problems


def rendered_report(stacks: list[str]) -> list[str]:
    """Requests and limits summed over each stack's rendered pods (the truth the values-file
    estimate below approximates), against the domain namespace's ResourceQuota."""
    from dataplatform.rendered import RenderError, render_stack
    from dataplatform.rendered.footprint import cpu as cores
    from dataplatform.rendered.footprint import memory as nbytes
    from dataplatform.rendered.footprint import stack_workloads, totals

    problems: list[str] = []
    gib = 2**30
    print("from the render (replicas x containers, init containers by the max rule; "
          "LimitRange defaults applied)")
    print(f"{'stack':<15}{'scope':<24}{'cpu req':>8}{'mem req':>9}{'cpu lim':>8}{'mem lim':>9}"
          f"{'jobs req':>16}{'unsized':>8}")
    for stack in stacks:
        try:
            result = render_stack(stack)
        except RenderError as exc:
            print(f"{stack:<15}not rendered: {exc}"[:200])
            continue
        work = stack_workloads(result)
        quotas = [o for o in result.direct if o.get("kind") == "ResourceQuota"]
        scopes = {"all": work}
        for q in quotas:
            ns = q["metadata"]["namespace"]
            scopes[ns] = [w for w in work if _namespace(w, result) == ns]
        for scope, items in scopes.items():
            t, b = totals(items), totals(items, batch=True)
            unsized = sum(len(w.unsized) > 0 for w in items)
            print(f"{stack:<15}{scope[:23]:<24}{t.req_cpu:>8.2f}{t.req_mem / gib:>8.2f}G"
                  f"{t.lim_cpu:>8.2f}{t.lim_mem / gib:>8.2f}G"
                  f"{b.req_cpu:>8.2f}/{b.req_mem / gib:>6.2f}G{unsized:>8}")
        for q in quotas:
            ns, hard = q["metadata"]["namespace"], q["spec"]["hard"]
            t = totals(scopes[ns])
            t.add(totals(scopes[ns], batch=True))
            for key, used, conv in (("requests.cpu", t.req_cpu, cores),
                                    ("requests.memory", t.req_mem, nbytes),
                                    ("limits.cpu", t.lim_cpu, cores),
                                    ("limits.memory", t.lim_mem, nbytes)):
                if key in hard and used > conv(hard[key]) + 1e-9:
                    problems.append(f"{stack}: {ns} asks {used:.2f} of {key}, quota "
                                    f"{hard[key]}")
        for w in work:
            for gap in w.unsized:
                print(f"  unsized in the chart (LimitRange default applies): {w.release} "
                      f"{w.kind} {w.name}: {gap}")
        left = sorted({s for r in result.releases for s in r.left_out})
        if left:
            print(f"  not rendered (no templates in the chart folder): {', '.join(left)}")
        # A repackaged chart that drops components makes these figures too low: say so.
        for e in result.errors:
            print(f"  render error, figures leave it out: {e}"[:200])
    for p in problems:
        print(f"QUOTA: {p}")
    return problems


def _namespace(w, result) -> str:
    release = next((r for r in result.releases if f"{r.namespace}/{r.name}" == w.release), None)
    if release is not None:
        return release.namespace
    obj = next(o for o in result.direct if o.get("metadata", {}).get("name") == w.name
               and o.get("kind") == w.kind)
    return obj["metadata"].get("namespace", "default")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["dev", "prod"], action="append",
                        help="profile to report (repeatable; default: dev and prod)")
    parser.add_argument("--stacks", default="local,gcp-marketing,aws-finance",
                        help="stacks whose render is summed (comma-separated)")
    args = parser.parse_args(argv)
    quota_problems = rendered_report([s for s in args.stacks.split(",") if s])
    print("\nthe values-file estimate (what the render replaces):")
    shared = shared_charts_dir()
    if shared is None:
        print("note: ../shared/charts is absent: chart apps are not counted", file=sys.stderr)
    failed = False
    for profile in args.profile or ["dev", "prod"]:
        rows, problems = report(profile, shared)
        missing = {f.app: f.missing for f in rows if f.missing}
        print(f"\ncomponents without requests.cpu/requests.memory/limits.memory ({profile}):"
              + ("" if missing else " none"))
        for app, paths in missing.items():
            print(f"  {app}: {', '.join(paths)}")
        for problem in problems:
            print(f"OVER BUDGET: {problem}")
        failed = failed or bool(missing) or bool(problems)
    return 1 if failed or quota_problems else 0


if __name__ == "__main__":
    sys.exit(main())
