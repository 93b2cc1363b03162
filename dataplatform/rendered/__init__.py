"""Rendered truth: every Helm release of a stack's plan rendered with its real pinned
chart, then checked as the API server and Argo CD would check it.

`render_stack(stack)` plans the stack offline, finds each release (a `helm.v3.Release`
or `helm.v4.Chart` under `helm` delivery, an Argo CD Application's Helm source under
`argocd`), renders it with the release's final layered values, name and namespace, for
the cluster's Kubernetes version and the CRD API versions the platform installs. Every
rendered object, and every Kubernetes object the program creates directly, is then
validated: schema (built-in or CRD), duplicate kind/name in a namespace, and the
namespaces and kinds the domain's AppProject admits.
"""

from __future__ import annotations

import copy
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from components._values import static_values
from dataplatform.chartcheck import shared_lock_charts
from dataplatform.plan.engine import Plan, PlannedResource
from dataplatform.rendered.expected import identity_warning, missing
from dataplatform.rendered.helm import (
    Capabilities,
    RenderError,
    find_chart,
    template,
    usable_chart,
)
from dataplatform.rendered.podsecurity import namespace_levels, pod_spec, violations
from dataplatform.rendered.schemas import Validator, cluster_scoped
from foundation import yamlfile
from foundation.charts import ChartPin, chart_pin, chart_pins
from foundation.config.loader import STACKS_DIR

RELEASE_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
CRD_CHARTS = ("argo-cd", "kube-prometheus-stack")
"""Charts whose CRDs the platform installs (their objects validate what others make)."""
OPTIONAL_CRD_CHARTS = {"velero": ("velero.io",),
                       "gateway-helm": ("gateway.networking.k8s.io", "gateway.envoyproxy.io"),
                       "cert-manager": ("cert-manager.io",)}
"""Charts pinned only in our lock whose CRDs validate the program's own objects (Velero's
Schedules): read when a chart folder holds the chart; else the program's objects of that
API group are left unvalidated, and `skipped` says so."""

__all__ = ["Release", "RenderError", "RenderResult", "releases_of", "render_stack"]


@dataclass
class Release:
    """One Helm release of a plan, as Helm would install it."""

    urn: str
    delivery: str
    chart: ChartPin
    name: str
    namespace: str
    values: dict[str, Any]
    project: str | None = None
    """Under `argocd`: the AppProject's name (the domain's fence)."""
    objects: list[dict[str, Any]] = field(default_factory=list)
    manifest: str = ""
    left_out: tuple[str, ...] = ()
    """Subcharts the chart folder has no templates for (their objects are not rendered)."""


@dataclass
class RenderResult:
    """The releases of one stack, rendered, and every problem found."""

    stack: str
    kube_version: str
    releases: list[Release]
    direct: list[dict[str, Any]]
    errors: list[str]
    warnings: list[str] = field(default_factory=list)
    """Chart folders that are not the pinned chart (a repackage with another appVersion)."""
    skipped: list[str] = field(default_factory=list)
    """Releases not rendered: their chart is pinned only in our lock (not in ../shared's)
    and no chart folder holds it. One line each, naming the chart."""

    def summary(self) -> dict[str, Any]:
        return {
            "stack": self.stack, "kubernetesVersion": self.kube_version,
            "releases": {f"{r.namespace}/{r.name}": {
                "chart": f"{r.chart.name}-{r.chart.version}", "delivery": r.delivery,
                "objects": dict(sorted(Counter(o["kind"] for o in r.objects).items())),
                "subchartsNotRendered": list(r.left_out)}
                for r in self.releases},
            "directObjects": len(self.direct),
            "warnings": self.warnings,
            "skipped": self.skipped,
            "errors": self.errors,
        }


def releases_of(plan: Plan) -> list[Release]:
    """The Helm releases a plan would install, with their final values."""
    out = []
    for r in plan.resources:
        if r.type in RELEASE_TYPES:
            i = r.inputs
            repo = (i.get("repositoryOpts") or {}).get("repo", "")
            out.append(Release(r.urn, "helm", _pin(i["chart"], str(i["version"]), repo),
                               i["name"], i["namespace"], i.get("values") or {}))
        elif r.type == APPLICATION:
            spec = r.inputs["spec"]
            src, helm = spec["source"], spec["source"].get("helm", {})
            out.append(Release(r.urn, "argocd", _pin(src["chart"], str(src["targetRevision"]),
                                                     src["repoURL"]),
                               helm.get("releaseName", src["chart"]),
                               spec["destination"]["namespace"],
                               helm.get("valuesObject") or {}, spec.get("project")))
    return out


def _pin(chart: str, version: str, repo: str) -> ChartPin:
    if chart.startswith("oci://"):  # an OCI chart's reference holds its repository
        repo, _, chart = chart.rpartition("/")
    pinned = chart_pins().get(chart)
    return pinned if pinned and pinned.version == version else ChartPin(chart, repo, version)


def direct_objects(plan: Plan) -> list[dict[str, Any]]:
    """The Kubernetes objects the program registers itself (not through a chart)."""
    out = []
    for r in plan.resources:
        if (r.custom and r.type.startswith("kubernetes:") and r.type not in RELEASE_TYPES
                and "apiVersion" in r.inputs and "kind" in r.inputs):
            out.append(dict(r.inputs))
    return out


@cache
def platform_crds(charts: Path | None = None) -> tuple[dict[str, Any], ...]:
    """The CRDs of the charts the platform installs, from the charts' own CRD files."""
    crds = []
    for name in CRD_CHARTS:
        pin = chart_pin(name)
        text = template(find_chart(pin, charts), name, "crds", {}, Capabilities("1.33.0"))
        crds += [o for o in _objects(text) if o.get("kind") == "CustomResourceDefinition"]
    for name in OPTIONAL_CRD_CHARTS:
        try:
            folder = find_chart(chart_pin(name), charts)
        except RenderError:
            continue
        # Our values: cert-manager templates its CRDs only with `crds.enabled`.
        text = template(folder, name, "crds", static_values(name, "dev"), Capabilities("1.33.0"))
        crds += [o for o in _objects(text) if o.get("kind") == "CustomResourceDefinition"]
    return tuple(crds)


class _Loader(yamlfile.SafeLoader):  # type: ignore[misc,valid-type]
    """YAML as the API server reads it: a bare `=` is a string, not YAML 1.1's value tag."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: node.value)


def _objects(text: str) -> list[dict[str, Any]]:
    """The objects of a manifest; each call gets its own copies (callers place them)."""
    return copy.deepcopy(_parsed(text))


@lru_cache(maxsize=64)
def _parsed(text: str) -> list[dict[str, Any]]:
    # Parsing is most of a render; a manifest rendered again (the same release and values)
    # is parsed once per process.
    return [o for o in yaml.load_all(text, Loader=_Loader)
            if isinstance(o, dict) and o.get("kind")]


def kube_version(stack: str, stacks_dir: Path = STACKS_DIR) -> str:
    """The Kubernetes version of the cluster the stack deploys to."""
    from foundation.config import load_stack_config

    cfg = load_stack_config(stack, stacks_dir)
    if cfg.platform is not None and (cfg.cluster.mode or "shared") == "shared":
        return kube_version(cfg.platform.stack, stacks_dir)
    return f"{cfg.cluster.version}.0"


def render_stack(stack: str, stacks_dir: Path = STACKS_DIR, charts: Path | None = None,
                 plan: Plan | None = None) -> RenderResult:
    """Plan (unless given), render and validate `stack`. Raises RenderError or ConfigError."""
    from dataplatform.plan.engine import plan_stack

    plan = plan or plan_stack(stack, stacks_dir)
    version = kube_version(stack, stacks_dir)
    validator = Validator(version, platform_crds(charts))
    caps = Capabilities(version, tuple(validator.api_versions))
    releases, skipped = _renderable(releases_of(plan), charts)
    errors: list[str] = []
    warnings: list[str] = []
    found = [find_chart(rel.chart, charts) for rel in releases]
    # Helm runs in its own processes: every release at once, on every core.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        manifests = list(pool.map(lambda rc: _template_or_error(rc[0], rc[1], caps),
                                  zip(releases, found, strict=True)))
    for rel, chart, manifest in zip(releases, found, manifests, strict=True):
        rel.left_out = usable_chart(chart)[1]
        where = f"{rel.namespace}/{rel.name} ({rel.chart.name} {rel.chart.version})"
        warning = identity_warning(rel.chart, chart)
        if warning and warning not in warnings:
            warnings.append(warning)
        if isinstance(manifest, RenderError):
            errors.append(f"{where}: helm template failed: {manifest}")
            continue
        rel.manifest = manifest
        rel.objects = [_placed(o, rel.namespace, validator) for o in _objects(rel.manifest)]
        absent = missing(rel.chart.name, rel.name, rel.values, rel.objects)
        if absent:
            errors.append(f"{where}: renders no {', '.join(absent)}: the install would lack "
                          "a component the platform relies on"
                          + (" (see the chart warning above)" if warning else ""))
    direct = direct_objects(plan)
    unknown = {g: n for n, gs in OPTIONAL_CRD_CHARTS.items() for g in gs
               if not any(gv.startswith(f"{g}/") for gv, _ in validator.crd_schemas)}
    groups = Counter(str(o.get("apiVersion")).split("/")[0] for o in direct)
    skipped += [f"program: {groups[g]} {g} objects not validated: chart {n}, whose CRDs "
                "define them, is in no chart folder" for g, n in unknown.items() if groups[g]]
    errors += _check(plan, releases, [o for o in direct if str(o.get("apiVersion")).split(
        "/")[0] not in unknown], validator)
    return RenderResult(stack, version, releases, direct, errors, warnings, skipped)


def _renderable(releases: list[Release], charts: Path | None
                ) -> tuple[list[Release], list[str]]:
    """The releases to render, and a line per one left out: a chart our lock pins but the
    shared lock does not (cluster-autoscaler) may be absent from every chart folder. Any
    other missing chart is still an error (`find_chart`)."""
    shared, pins = shared_lock_charts(), chart_pins()
    keep, skipped = [], []
    for rel in releases:
        pin = rel.chart
        if shared and pin.name not in shared and pins.get(pin.name) == pin:
            try:
                find_chart(pin, charts)
            except RenderError:
                skipped.append(f"{rel.namespace}/{rel.name}: chart {pin.name} {pin.version} is "
                               "in no chart folder (../shared does not pin it): not rendered; "
                               f"`helm pull {pin.name} --repo {pin.repo} --version "
                               f"{pin.version}` into --charts DIR renders it")
                continue
        keep.append(rel)
    return keep, skipped


def _template_or_error(rel: Release, chart: Path, caps: Capabilities) -> str | RenderError:
    try:
        return template(chart, rel.name, rel.namespace, rel.values, caps)
    except RenderError as exc:
        return exc


def _placed(obj: dict[str, Any], namespace: str, validator: Validator) -> dict[str, Any]:
    """`obj` as it lands: a namespaced object without a namespace goes to the release's,
    as `helm install --namespace` and Argo CD's destination both place it (most charts
    leave `metadata.namespace` out)."""
    meta = obj.get("metadata")
    if isinstance(meta, dict) and not meta.get("namespace") and not cluster_scoped(
            obj, validator):
        obj["metadata"] = {**meta, "namespace": namespace}
    return obj


def _check(plan: Plan, releases: list[Release], direct: list[dict[str, Any]],
           validator: Validator) -> list[str]:
    errors: list[str] = []
    seen: dict[tuple[str, str, str, str], str] = {}
    projects = {r.inputs["metadata"].get("name"): r for r in plan.by_type(APP_PROJECT)}
    levels = namespace_levels(direct)
    sources: list[tuple[str, Release | None, dict[str, Any], str]] = [
        ("program", None, o, "default") for o in direct]
    sources += [(f"{r.namespace}/{r.name}", r, o, r.namespace)
                for r in releases for o in r.objects]
    for where, rel, obj, default_ns in sources:
        meta = obj.get("metadata") or {}
        scoped = cluster_scoped(obj, validator)
        ns = "" if scoped else str(meta.get("namespace") or default_ns)
        label = f"{where}: {obj.get('kind')} {ns + '/' if ns else ''}{meta.get('name', '?')}"
        errors += [f"{label}: {e}" for e in validator.errors(obj)]
        spec = pod_spec(obj)
        if spec is not None and ns in levels:
            errors += [f"{label}: Pod Security '{levels[ns]}' of {ns} refuses it: {v}"
                       for v in violations(spec, levels[ns])]
        if meta.get("name") is not None:
            key = (str(obj.get("apiVersion")).split("/")[0] if "/" in str(obj.get("apiVersion"))
                   else "", str(obj.get("kind")), ns, str(meta.get("name")))
            if key in seen:
                errors.append(f"{label}: duplicate of the one from {seen[key]}")
            seen.setdefault(key, where)
        if rel is not None and rel.project in projects:
            errors += [f"{label}: {e}" for e in _fenced(obj, ns, scoped,
                                                        projects[rel.project].inputs["spec"])]
    return errors


def _fenced(obj: dict[str, Any], ns: str, scoped: bool, spec: dict[str, Any]) -> list[str]:
    """What the AppProject would refuse to sync."""
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    kind = str(obj.get("kind"))

    def listed(entries: list[dict[str, str]] | None) -> bool:
        return any(e.get("group") in ("*", group) and e.get("kind") in ("*", kind)
                   for e in entries or [])

    if scoped:
        if not listed(spec.get("clusterResourceWhitelist")):
            return ["cluster-scoped, and the domain's AppProject admits no such kind "
                    "(clusterResourceWhitelist)"]
        return []
    out = []
    if listed(spec.get("namespaceResourceBlacklist")):
        out.append("a kind the domain's AppProject refuses (namespaceResourceBlacklist)")
    if not any(d.get("namespace") in ("*", ns) for d in spec.get("destinations") or []):
        out.append(f"namespace {ns} is not a destination of the domain's AppProject")
    return out


def as_planned(result: RenderResult) -> list[PlannedResource]:
    """The rendered objects as the analyzer would see chart children: typed by their
    Pulumi Kubernetes token, parented to the Release or Application that makes them."""
    out = []
    for rel in result.releases:
        for obj in rel.objects:
            api, kind = str(obj["apiVersion"]), str(obj["kind"])
            if kind == "CustomResourceDefinition":
                continue  # megabytes of schema, and no guardrail reads one
            group, _, version = api.rpartition("/")
            token = f"kubernetes:{group or 'core'}/{version}:{kind}"
            meta = obj.get("metadata") or {}
            name = (f"{meta['namespace']}/{meta.get('name')}" if meta.get("namespace")
                    else str(meta.get("name")))
            # The engine's URN of a child: the parent's type chain, `$`, its own type.
            prefix, project, parent_types, _ = rel.urn.split("::", 3)
            urn = f"{prefix}::{project}::{parent_types}${token}::{name}"
            out.append(PlannedResource(urn=urn, type=token, name=name, parent=rel.urn,
                                       custom=True, inputs=obj, protect=False,
                                       retain_on_delete=False, depends_on=[], provider=None))
    return out
