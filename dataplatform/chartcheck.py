"""Check our Helm values against what each pinned chart version really ships.

Helm silently ignores a values key the chart does not know, so a typo (`server.resourcs`)
deploys fine and does nothing. Each pinned version's defaults (`values.yaml`, `Chart.yaml`,
`values.schema.json` if any, the same per bundled subchart under `charts/`) live outside the
project, in a chart data folder (`<root>/defaults/<chart>/`, `<root>/src/<chart>/`,
`<root>/charts.lock.yaml`); `shared_charts_dir()` finds it, and callers must cope with it
being absent. These are heuristics over values files, not a Helm render: each public
function says what it assumes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from components._values import deep_merge

# What the pinned charts' values files do not say (kept apart: data, re-checked per bump).
from dataplatform._chart_exceptions import (
    OPEN_MAP_NAMES,
    PASS_THROUGH,
    RUNTIME_SIZED,
    SWITCHED_BY,
    TEMPLATE_ONLY_KEYS,
    TEST_HOOK_KEYS,
)
from foundation import chartkeys, yamlfile
from foundation.chartkeys import ANY, FREE, GLOBAL, ITEMS, PATTERNS
from foundation.layout import REPO_ROOT

_SchemaRef = tuple[Any, Any]  # (schema node, document root for `$ref`)
_DECLARING = ("properties", "patternProperties", "additionalProperties")


CHART_DATA_ENV = "DATAPLATFORM_CHART_DATA"
SHARED_CHART_DATA = REPO_ROOT.parent / "shared" / "charts"
"""What CI and the project's own checkouts have beside the repository (read-only)."""
LOCAL_CHART_DATA = REPO_ROOT / ".chart-data"
"""What `dataplatform chart-data` writes by default (git-ignored): a clone's own copy."""


def chart_data_dirs() -> list[Path]:
    """Where chart data is looked for, in order: `$DATAPLATFORM_CHART_DATA`,
    `<repo>/../shared/charts`, `<repo>/.chart-data`."""
    env = os.environ.get(CHART_DATA_ENV)
    return [*([Path(env)] if env else []), SHARED_CHART_DATA, LOCAL_CHART_DATA]


def shared_charts_dir() -> Path | None:
    """The chart data folder the checks read: the first of `chart_data_dirs()` that is a
    folder, else None (the one place that decides; `rendered.helm` asks here too)."""
    return next((path for path in chart_data_dirs() if path.is_dir()), None)


def shared_lock_charts() -> set[str]:
    """Charts `../shared/charts/charts.lock.yaml` pins (empty without ../shared): the ones
    whose defaults and sources the shared folder is expected to hold. A chart pinned only
    in our lock (cluster-autoscaler) is skipped, and named, where those are read."""
    shared = shared_charts_dir()
    lock = shared / "charts.lock.yaml" if shared else None
    if lock is None or not lock.is_file():
        return set()
    return set((_yaml(lock) or {}).get("charts") or {})


@dataclass(frozen=True, eq=False)
class Chart:
    """What one chart version ships: defaults, optional schema, bundled subcharts."""

    name: str
    defaults: dict[str, Any]
    schema: dict[str, Any] | None
    subcharts: dict[str, Chart]   # values key (alias or name) -> subchart
    conditions: dict[str, str]    # values key -> `condition` from Chart.yaml dependencies


def _yaml(path: Path) -> Any:
    return yamlfile.read(path) if path.is_file() else None


@cache
def load_chart(chart_dir: Path) -> Chart:
    """Read `chart_dir` and, recursively, every subchart folder under `charts/`."""
    chart_dir = Path(chart_dir)
    schema_file = chart_dir / "values.schema.json"
    meta = _yaml(chart_dir / "Chart.yaml") or {}
    subcharts: dict[str, Chart] = {}
    conditions: dict[str, str] = {}
    for dep in meta.get("dependencies") or []:
        key = dep.get("alias") or dep["name"]
        if (chart_dir / "charts" / dep["name"]).is_dir():
            subcharts[key] = load_chart(chart_dir / "charts" / dep["name"])
        if dep.get("condition"):
            conditions[key] = dep["condition"]
    folders = (chart_dir / "charts").iterdir() if (chart_dir / "charts").is_dir() else []
    for folder in sorted(f for f in folders if f.is_dir()):
        subcharts.setdefault(folder.name, load_chart(folder))
    return Chart(meta.get("name", chart_dir.name), _yaml(chart_dir / "values.yaml") or {},
                 json.loads(schema_file.read_text()) if schema_file.is_file() else None,
                 subcharts, conditions)


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _walk_charts(chart: Chart) -> Iterator[Chart]:
    yield chart
    for sub in chart.subcharts.values():
        yield from _walk_charts(sub)


def _get(node: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


# --- values.schema.json: a subset (properties, patternProperties, additionalProperties,
# items, local `$ref`, allOf/anyOf/oneOf as a union). An object schema that declares none of
# the first three adds no known keys; `additionalProperties: true` makes a key free-form.

def _expand(schemas: list[_SchemaRef]) -> list[_SchemaRef]:
    """Follow `$ref` (`#/...` in the same file) and allOf/anyOf/oneOf into a flat list."""
    out: list[_SchemaRef] = []
    stack, seen = list(schemas), set()
    while stack:
        node, root = stack.pop()
        if not isinstance(node, Mapping) or id(node) in seen:
            continue
        seen.add(id(node))
        out.append((node, root))
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part) if isinstance(target, Mapping) else None
            stack.append((target, root))
        for keyword in ("allOf", "anyOf", "oneOf"):
            stack.extend((sub, root) for sub in node.get(keyword) or [])
    return out


def _schema_children(schemas: list[_SchemaRef], key: str) -> tuple[list[_SchemaRef], bool]:
    """Sub-schemas `key` gets, and whether `additionalProperties: true` frees it."""
    children: list[_SchemaRef] = []
    free = False
    for schema, root in schemas:
        matched = False
        props = schema.get("properties")
        if isinstance(props, Mapping) and key in props:
            children.append((props[key], root))
            matched = True
        for pattern, sub in (schema.get("patternProperties") or {}).items():
            if re.search(pattern, key):
                children.append((sub, root))
                matched = True
        extra = schema.get("additionalProperties")
        if not matched and extra is True:
            free = True
        elif not matched and isinstance(extra, Mapping):
            children.append((extra, root))
    return children, free


# --- known keys: the tree of `foundation/chartkeys.py`, built from defaults and schema

def _is_free(default: Any) -> bool:
    return default is None or (isinstance(default, Mapping) and not default)


_MAX_DEPTH = 40  # deeper than any chart's values; stops a self-referencing schema


@dataclass
class _Ctx:
    accepted: frozenset[str]   # PASS_THROUGH blocks and TEMPLATE_ONLY_KEYS of the chart
    globals_node: Any          # the tree of `global`, shared by the chart and its subcharts


def _leaf(d_nodes: list[Any], schemas: list[_SchemaRef]) -> Any:
    """A node that accepts anything below: null for a scalar, `*` for an open map/list."""
    scalar = all(not isinstance(d, Mapping | list) and d is not None for d in d_nodes) and all(
        s.get("type") not in ("object", "array") and s.get("additionalProperties") is not True
        for s, _ in schemas)
    return None if scalar else FREE


def _map_node(d_nodes: list[Any], s_nodes: list[_SchemaRef], path: str,
              ctx: _Ctx, depth: int) -> dict[str, Any] | None:
    """The keys a map value may have at `path`, or None when it is free-form there."""
    if path in ctx.accepted or any(_is_free(d) for d in d_nodes) or depth > _MAX_DEPTH:
        return None
    d_maps = [d for d in d_nodes if isinstance(d, Mapping)]
    if d_maps and re.search(OPEN_MAP_NAMES, path.rsplit(".", 1)[-1]) and all(
            not isinstance(v, Mapping | list) for m in d_maps for v in m.values()):
        return None  # labels, annotations...: an example in the defaults, not a key list
    schemas = _expand(s_nodes)
    if not d_maps and not any(k in s for s, _ in schemas for k in _DECLARING):
        return None  # nothing says which keys exist here (scalar default, bare object schema)
    keys = dict.fromkeys(str(k) for m in d_maps for k in m)
    keys.update(dict.fromkeys(str(k) for s, _ in schemas
                              if isinstance(s.get("properties"), Mapping)
                              for k in s["properties"]))
    # A TEMPLATE_ONLY_KEYS entry (or a pass-through block) whose parent is here.
    keys.update(dict.fromkeys(a[len(path) + 1:] if path else a for a in ctx.accepted
                              if a.startswith(f"{path}." if path else "")
                              and "." not in (a[len(path) + 1:] if path else a)))
    node: dict[str, Any] = {}
    for key in keys:
        child_path = _join(path, key)
        child_s, free = _schema_children(schemas, key)
        child_d = [m[k] for m in d_maps for k in m if str(k) == key]
        node[key] = (FREE if child_path in ctx.accepted or free
                     else _value_node(child_d, child_s, child_path, ctx, depth + 1))
    patterns = {p: _value_node([], [(sub, root)], _join(path, p), ctx, depth + 1)
                for s, root in schemas for p, sub in (s.get("patternProperties") or {}).items()}
    if patterns:
        node[PATTERNS] = patterns
    extra = [s.get("additionalProperties") for s, _ in schemas]
    if any(e is True for e in extra):
        node[ANY] = FREE
    elif rest := [(e, root) for (s, root), e in zip(schemas, extra, strict=True)
                  if isinstance(e, Mapping)]:
        node[ANY] = _value_node([], rest, _join(path, "*"), ctx, depth + 1)
    return node


def _value_node(d_nodes: list[Any], s_nodes: list[_SchemaRef], path: str,
                ctx: _Ctx, depth: int) -> Any:
    """The node of a key whose defaults are `d_nodes` and schemas `s_nodes`."""
    as_map = _map_node(d_nodes, s_nodes, path, ctx, depth)
    # A default list whose first element is a map is the element's template; any other
    # default list (empty, of scalars) or a non-list default leaves elements free-form.
    as_list = None
    if all(isinstance(d, list) and d and isinstance(d[0], Mapping) for d in d_nodes):
        elem_s = [(s["items"], root) for s, root in _expand(s_nodes)
                  if isinstance(s.get("items"), Mapping)]
        if d_nodes or elem_s:
            as_list = _map_node([d[0] for d in d_nodes], elem_s, f"{path}[]", ctx, depth + 1)
    if as_map is None and as_list is None:
        return _leaf(d_nodes, _expand(s_nodes))
    if as_map is None:
        return [as_list]
    if as_list is not None:
        as_map[ITEMS] = as_list
    return as_map


def _chart_node(chart: Chart, path: str, extra_d: list[Any], extra_s: list[_SchemaRef],
                ctx: _Ctx) -> Any:
    """A chart's top level: its keys, `global`, and each bundled subchart under its key."""
    # An empty `<sub>: {}` block in the parent adds nothing; only all-empty means free-form.
    d_nodes = [d for d in (chart.defaults, *extra_d) if not _is_free(d)] or [{}]
    s_nodes = [*([(chart.schema, chart.schema)] if chart.schema else []), *extra_s]
    node = _map_node(d_nodes, s_nodes, path, ctx, 0)
    if node is None:
        return FREE
    # A subchart's `global` is the chart's (Helm shares it): a reference, not a copy.
    node["global"] = GLOBAL if path and ctx.globals_node != FREE else ctx.globals_node
    schemas = _expand(s_nodes)
    for key, sub in chart.subcharts.items():
        # Helm merges the parent's `<sub>:` block onto the subchart's own defaults.
        node[key] = _chart_node(sub, _join(path, key),
                                [d[key] for d in d_nodes if isinstance(d, Mapping) and key in d],
                                _schema_children(schemas, key)[0], ctx)
    return node


@cache
def key_tree(chart_dir: Path) -> Any:
    """The values keys the chart at `chart_dir` knows, as a `foundation/chartkeys.py` tree.

    Known: present in the defaults, or declared by `values.schema.json` (see the subset above).
    Free-form (anything goes below): a default that is `{}` or null, a default list that is
    empty or not of maps, a default scalar where we set a map, `additionalProperties: true`,
    the `PASS_THROUGH` blocks, the `TEMPLATE_ONLY_KEYS`, and a flat map of scalars under a
    name of `OPEN_MAP_NAMES` (labels, annotations...). A key naming a bundled subchart
    is checked against that subchart's defaults and schema plus the parent's block for it.
    `global` is checked against the top-level chart's `global` and every subchart's non-empty
    `global`; it is free-form when the top-level chart's `global` is empty or absent.
    """
    chart = load_chart(Path(chart_dir))
    accepted = PASS_THROUGH.get(chart.name, ()) + TEMPLATE_ONLY_KEYS.get(chart.name, ())
    ctx = _Ctx(frozenset(accepted), FREE)
    if not _is_free(chart.defaults.get("global")):
        globals_d = [c.defaults["global"] for c in _walk_charts(chart)
                     if not _is_free(c.defaults.get("global"))]
        globals_s = [s for c in _walk_charts(chart) if c.schema
                     for s in _schema_children(_expand([(c.schema, c.schema)]), "global")[0]]
        ctx.globals_node = _value_node(globals_d, globals_s, "global", ctx, 1)
    return _chart_node(chart, "", [], [], ctx)


def unknown_keys(values: Mapping[str, Any], chart_dir: Path) -> list[str]:
    """Dotted paths (`a.b`, `a.list[0].c`) of keys in `values` the chart does not know
    (see `key_tree`)."""
    found = {"".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in u.path).lstrip(".")
             for u in chartkeys.unknown_keys(values, key_tree(Path(chart_dir)))}
    return sorted(found)


# --- resources

@dataclass(frozen=True)
class Component:
    """One `resources` key of the chart defaults, as our merged values leave it."""

    path: str        # dotted path of the `resources` key, e.g. `redis-ha.haproxy.resources`
    resources: Any   # merged value (normally a map with requests/limits)
    replicas: int


def _resource_paths(defaults: Mapping[str, Any], skip: set[str],
                    prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in defaults.items():
        if not prefix and key in skip:
            continue
        if key == "resources" and (value is None or isinstance(value, Mapping)):
            yield (*prefix, key)
        elif isinstance(value, Mapping):
            yield from _resource_paths(value, skip, (*prefix, key))


def _replicas(merged: Mapping[str, Any], keys: tuple[str, ...]) -> int:
    """Replicas of the nearest enclosing map with `replicas`/`replicaCount` (HPA: minReplicas)."""
    for depth in range(len(keys) - 1, -1, -1):
        node = _get(merged, keys[:depth])
        if not isinstance(node, Mapping):
            continue
        hpa = node.get("autoscaling")
        if (isinstance(hpa, Mapping) and hpa.get("enabled") is True
                and isinstance(hpa.get("minReplicas"), int)):
            return hpa["minReplicas"]
        for name in ("replicas", "replicaCount"):
            if isinstance(node.get(name), int) and not isinstance(node.get(name), bool):
                return node[name]
    return 1


def _standalone_replica(owners: list[Any], keys: tuple[str, ...]) -> bool:
    """Bitnami charts deploy `readReplicas`/`secondary` only with `architecture: replication`."""
    return any(isinstance(owner, Mapping) and owner.get("architecture") == "standalone"
               and key in ("readReplicas", "secondary")
               for owner, key in zip(owners, keys, strict=True))


def _subchart_enabled(chart: Chart, key: str, merged: Mapping[str, Any]) -> bool:
    """Helm's rule: the first condition path that resolves to a bool decides; else enabled."""
    for cond in chart.conditions.get(key, f"{key}.enabled").split(","):
        value = _get(merged, tuple(cond.strip().split(".")))
        if isinstance(value, bool):
            return value
    return True


def _switched_off(chart: str, keys: tuple[str, ...], merged: Mapping[str, Any]) -> bool:
    switch = SWITCHED_BY.get(chart, {}).get(".".join(keys))
    return switch is not None and not _get(merged, tuple(switch.split(".")))


def _components(chart: Chart, merged: Mapping[str, Any], prefix: str) -> Iterator[Component]:
    for keys in _resource_paths(chart.defaults, set(chart.subcharts)):
        owners = [_get(merged, keys[:depth]) for depth in range(len(keys))]
        if (any(isinstance(o, Mapping) and o.get("enabled") in (False, "false") for o in owners)
                or TEST_HOOK_KEYS.intersection(keys) or _standalone_replica(owners, keys)
                or ".".join(keys) in RUNTIME_SIZED.get(chart.name, ())
                or _switched_off(chart.name, keys, merged)):
            continue
        yield Component(_join(prefix, ".".join(keys)), _get(merged, keys),
                        _replicas(merged, keys))
    for key, sub in chart.subcharts.items():
        if _subchart_enabled(chart, key, merged):
            parent_block = chart.defaults.get(key) or {}
            sub_chart = Chart(sub.name, deep_merge(sub.defaults, parent_block), sub.schema,
                              sub.subcharts, sub.conditions)
            yield from _components(sub_chart, deep_merge(sub_chart.defaults,
                                                         merged.get(key) or {}),
                                   _join(prefix, key))


def iter_components(merged: Mapping[str, Any], chart_dir: Path) -> Iterator[Component]:
    """Every enabled component of the chart and its enabled subcharts.

    `merged` is the chart defaults deep-merged with our values. Heuristics: a component is
    a `resources` key (a map or null) anywhere in the defaults' maps (lists are not searched);
    it is disabled when its own map or any enclosing map has `enabled: false`, or its subchart's
    Chart.yaml `condition` (else `<sub>.enabled`) is false; Helm test hooks are skipped, and
    so are Bitnami `readReplicas`/`secondary` under `architecture: standalone`, and the
    `RUNTIME_SIZED` keys and the `SWITCHED_BY` ones whose switch is empty.
    Replicas come from the nearest enclosing `replicas`/`replicaCount` (or HPA `minReplicas`).
    Not modelled: other components switched by settings (executor type, `mode`), DaemonSets
    (counted once, not per node), init containers (summed like regular containers).
    """
    yield from _components(load_chart(Path(chart_dir)), merged, "")


def containers_without_resources(merged: Mapping[str, Any], chart_dir: Path) -> list[str]:
    """Paths of enabled components (see `iter_components`) lacking `requests.cpu`,
    `requests.memory` or `limits.memory`; components scaled to 0 replicas are skipped."""
    required = (("requests", "cpu"), ("requests", "memory"), ("limits", "memory"))
    return [c.path for c in iter_components(merged, chart_dir) if c.replicas != 0
            and any(_get(c.resources, keys) in (None, "") for keys in required)]


# --- quantities

