"""`apps.extra` (any chart as a domain app), `apps.allowedRepos`, and per-app `patches`.

An extra app is a chart pinned in the stack file instead of charts.lock.yaml: an exact
version from an allow-listed https repository, installed through the same HelmApp and
values layering as the built-in apps (`charts-values/<name>/` when present). Patches change
rendered objects that values cannot reach: JSON 6902 operations or a strategic-merge
fragment, each aimed at one object by kind, name and optional namespace.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, model_validator

from foundation.charts import chart_pins
from foundation.config._checks import matching
from foundation.config.base import Model, RuleViolations, dns_label

if TYPE_CHECKING:
    from foundation.config.stack import StackConfig

EXACT_VERSION = re.compile(r"v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")
CHART_NAME = re.compile(r"[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?")
REPO_URL = re.compile(r"https://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~%/-]*)?")
KIND = re.compile(r"[A-Z][A-Za-z0-9]{0,62}")
OBJECT_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
# Names an extra app may not take: the built-in apps, every chart of the lock (release
# names in the domain namespace) and our own components with a charts-values/ folder.
OWN_COMPONENTS = ("minio", "postgres", "extra")
# Built-in apps that are not a Helm chart (their objects are built in code): no patches.
NOT_CHARTS = ("dbt",)


def normalize_repo(url: str) -> str:
    return url.strip().rstrip("/").lower()


ChartVersion = Annotated[str, matching(
    EXACT_VERSION, "an exact chart version: pin one such as 1.2.3 (ranges like ^1.2, ~1, "
                   ">=1.0, 1.x, '*' and 'latest' are refused)")]
RepoUrl = Annotated[str, matching(REPO_URL, "an https:// Helm repository URL")]
AppName = Annotated[str, dns_label(30)]


class PatchTarget(Model):
    """The one rendered object a patch changes."""

    kind: Annotated[str, matching(KIND, "a Kubernetes kind such as Deployment")] = Field(
        description="Object kind, e.g. Deployment, StatefulSet, Service.")
    name: Annotated[str, matching(OBJECT_NAME, "a Kubernetes object name")] = Field(
        description="metadata.name of the rendered object.")
    namespace: str | None = Field(
        None, description="metadata.namespace (full name); default: any namespace.")


class JsonOp(Model):
    """One JSON 6902 operation."""

    op: Literal["add", "remove", "replace", "move", "copy", "test"] = Field(
        description="Operation (RFC 6902).")
    path: str = Field(pattern=r"^/", description="JSON pointer to change, e.g. /spec/replicas.")
    value: Any = Field(None, description="Value for add, replace and test.")
    from_: str | None = Field(None, alias="from", pattern=r"^/",
                              description="Source pointer for move and copy.")

    @model_validator(mode="after")
    def _operands(self) -> JsonOp:
        if self.op in ("add", "replace", "test") and "value" not in self.model_fields_set:
            raise ValueError(f"op '{self.op}' needs a value")
        if self.op in ("move", "copy") and self.from_ is None:
            raise ValueError(f"op '{self.op}' needs from")
        return self


_OPS = TypeAdapter(list[JsonOp])


class Patch(Model):
    """A change to one rendered object that the chart's values cannot express."""

    target: PatchTarget = Field(description="The object to change.")
    type: Literal["json6902", "strategic"] = Field(
        description="'json6902': a list of RFC 6902 operations; 'strategic': a fragment "
                    "merged like kubectl's strategic merge (containers by name...).")
    patch: Any = Field(description="The operations (json6902) or the fragment (strategic).")

    @model_validator(mode="after")
    def _body(self) -> Patch:
        if self.target.kind == "Secret":
            raise RuleViolations([("target.kind", "Secrets cannot be patched (their data "
                                                  "would leave the secret store in clear)")])
        if self.type == "strategic":
            if not isinstance(self.patch, dict) or not self.patch:
                raise RuleViolations([("patch", "a strategic patch is a non-empty mapping "
                                                "(a fragment of the object)")])
            meta = self.patch.get("metadata") or {}
            fixed = [k for k in ("apiVersion", "kind") if k in self.patch] + [
                f"metadata.{k}" for k in ("name", "namespace") if isinstance(meta, dict)
                and k in meta]
            if fixed:
                raise RuleViolations([("patch", f"remove {', '.join(fixed)}: the target "
                                                "selects the object")])
            return self
        if not isinstance(self.patch, list) or not self.patch:
            raise RuleViolations([("patch", "a json6902 patch is a non-empty list of "
                                            "operations ({op, path, value})")])
        try:
            _OPS.validate_python(self.patch)
        except ValidationError as exc:
            raise RuleViolations([
                (".".join(["patch", *(str(p) for p in e["loc"])]),
                 e["msg"].removeprefix("Value error, ")) for e in exc.errors()]) from None
        return self

    @property
    def ops(self) -> list[JsonOp]:
        """The json6902 operations, typed."""
        return _OPS.validate_python(self.patch) if self.type == "json6902" else []


class ExtraApp(Model):
    """A chart that is not built in, deployed as one of the domain's apps."""

    name: AppName = Field(description="App name: Helm release name, charts-values/<name>/.")
    repo: RepoUrl = Field(description="Chart repository (allow-listed, https).")
    chart: Annotated[str, matching(CHART_NAME, "a chart name")] = Field(
        description="Chart name in the repository.")
    version: ChartVersion = Field(description="Exact chart version (no ranges, no latest).")
    namespace: str | None = Field(
        None, description="Namespace suffix from isolation.extraNamespaces; default: the "
                          "domain's main namespace.")
    values: dict[str, Any] = Field(
        default_factory=dict,
        description="Helm values deep-merged over charts-values/<name>/ (lists replace).")
    sync_wave: int | None = Field(None, description="Argo CD sync wave of the Application.")
    depends_on: list[str] = Field(
        default_factory=list, description="Apps (built-in or extra) deployed first.")
    patches: list[Patch] = Field(default_factory=list,
                                 description="Changes to rendered objects.")


def reserved_names(built_in: list[str]) -> set[str]:
    return {*built_in, *chart_pins(), *OWN_COMPONENTS}


def allowed_repos(extra: list[str]) -> set[str]:
    """Normalized repositories extra apps may use: the lock's, plus `apps.allowedRepos`."""
    return {normalize_repo(p.repo) for p in chart_pins().values()} | {
        normalize_repo(r) for r in extra}


def extra_app_rules(cfg: StackConfig) -> list[tuple[str, str]]:
    """Cross-field rules of `apps.extra` and of patches, keyed relative to the stack config."""
    apps = cfg.apps
    built_in = apps.built_in()
    enabled = {a for a in built_in if getattr(apps, a).enabled}
    names = [e.name for e in apps.extra]
    allowed = allowed_repos(apps.allowed_repos)
    namespaces = set(cfg.isolation.extra_namespaces)
    reserved = reserved_names(built_in)
    p: list[tuple[str, str]] = []
    for i, e in enumerate(apps.extra):
        key = f"apps.extra.{i}"
        if e.name in reserved:
            p.append((f"{key}.name", f"'{e.name}' is taken by a built-in app or chart: "
                                     "choose another name"))
        elif names.index(e.name) != i:
            p.append((f"{key}.name", f"'{e.name}' is listed more than once in apps.extra"))
        if normalize_repo(e.repo) not in allowed:
            p.append((f"{key}.repo", f"'{e.repo}' is not an allow-listed chart repository: "
                                     "use one of charts.lock.yaml or add it to "
                                     "apps.allowedRepos after review"))
        if e.namespace is not None and e.namespace not in namespaces:
            known = ", ".join(sorted(namespaces)) or "none declared"
            p.append((f"{key}.namespace", f"'{e.namespace}' is not a namespace of this "
                                          "domain: leave it unset (main namespace) or use "
                                          f"one of isolation.extraNamespaces ({known})"))
        for j, dep in enumerate(e.depends_on):
            if dep == e.name:
                p.append((f"{key}.dependsOn.{j}", "an app cannot depend on itself"))
            elif dep in built_in and dep not in enabled:
                p.append((f"{key}.dependsOn.{j}", f"built-in app '{dep}' is not enabled"))
            elif dep not in built_in and dep not in names:
                p.append((f"{key}.dependsOn.{j}", f"unknown app '{dep}' (apps: "
                          f"{', '.join(sorted(enabled | set(names))) or 'none'})"))
    cycle = _cycle({e.name: [d for d in e.depends_on if d in names] for e in apps.extra})
    if cycle:
        i = names.index(cycle[0])
        p.append((f"apps.extra.{i}.dependsOn", f"dependency cycle: {' -> '.join(cycle)}"))
    if apps.argocd.patches:
        p.append(("apps.argocd.patches", "Argo CD's own release takes no patches: use "
                                         "apps.argocd.values"))
    p += [(f"apps.{a}.patches", f"{a} is not a Helm chart (its objects are built in code): "
                                "patches apply to chart-based apps") for a in NOT_CHARTS
          if a in built_in and getattr(apps, a).patches]
    if cfg.delivery == "argocd":
        patched = [(f"apps.{a}.patches", a) for a in built_in
                   if a not in ("argocd", *NOT_CHARTS) and getattr(apps, a).patches]
        patched += [(f"apps.extra.{i}.patches", e.name) for i, e in enumerate(apps.extra)
                    if e.patches]
        p += [(k, "delivery 'argocd' cannot patch a chart from a Helm repository (Argo CD "
                  "has no Helm post-renderer): use delivery: helm for this stack, see "
                  "docs/extending.md") for k, _ in patched]
    return p


def _cycle(graph: dict[str, list[str]]) -> list[str]:
    """One dependency cycle of `graph` as [a, b, ..., a], or []."""
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt] if nxt in path else [node, nxt]
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[node] = 2
        return []

    for start in graph:
        if start not in state and (found := visit(start, [start])):
            return found
    return []


def build_order(extra: list[ExtraApp]) -> list[ExtraApp]:
    """Extra apps with each one after the extra apps it depends on (rules exclude cycles)."""
    by_name, done, out = {e.name: e for e in extra}, set(), []

    def add(e: ExtraApp) -> None:
        if e.name in done:
            return
        done.add(e.name)
        for dep in e.depends_on:
            if dep in by_name:
                add(by_name[dep])
        out.append(e)

    for e in extra:
        add(e)
    return out
