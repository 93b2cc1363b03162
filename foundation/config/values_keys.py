"""Every key of a stack's Helm values overrides must be one the pinned chart knows.

Helm ignores a values key its chart does not know, so `replicaCont: 2` would plan and
deploy cleanly and do nothing. The keys each pinned chart version knows are committed in
`chart-keys/` (`dataplatform chart-keys`, see `foundation/chartkeys.py`): keys below a
free-form map (annotations, labels, env, a pass-through config block) and the keys of
`dataplatform/_chart_exceptions.py` are accepted.

Checked: the built-in charts' `values` (the sections of `prod_promises.SECTIONS`, and
`apps.datahub.prerequisites.values`), and an extra app's `values` when `chart-keys/` has
its chart at its exact version from the same repository. Not checked: an extra app's chart
the project has no index for (any chart may be one), and the values of our own components
that are not charts (dbt: `components/apps/dbt/_settings.py` validates them when it builds
the runners; MinIO and Postgres take no stack override).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from foundation import credentials
from foundation.chartkeys import KeyIndex, key_index
from foundation.charts import chart_pins
from foundation.config.extra import normalize_repo
from foundation.config.prod_promises import SECTIONS

if TYPE_CHECKING:
    from foundation.config.stack import StackConfig

# Config sections holding Helm values -> the chart (its charts-values/ folder is its name).
CHART_SECTIONS = {**SECTIONS, ("apps", "datahub", "prerequisites"): "datahub-prerequisites"}


def unknown_values_keys(values: Mapping[str, Any], index: KeyIndex,
                        prefix: str) -> list[tuple[str, str]]:
    """(`<prefix>.values.<key>`, why) for each key of `values` the chart does not know.

    A credential in plain text, and an encrypted `{secure: ...}` value, are left to the
    loader's own, more useful message for that key."""
    out: dict[str, str] = {}
    unknown = index.unknown(values)
    if unknown:
        clear = [f.path for f in credentials.find(values)]
        unknown = [u for u in unknown if not any(u.path[:len(c)] == c for c in clear)
                   and not _encrypted(values, u.path)]
    for u in unknown:
        key = ".".join(str(p) for p in u.path)
        what = f"unknown values key for chart {index.chart} {index.version}"
        last = u.path[-1]
        if isinstance(last, str) and "." in last:
            head, _, rest = last.partition(".")
            what += f": nest it as YAML maps, {head}: {{{rest}: …}}"
        elif u.near:
            what += f" (did you mean '{u.near}'?)"
        out.setdefault(f"{prefix}.values.{key}", what)
    return list(out.items())


def _encrypted(values: Mapping[str, Any], path: tuple[str | int, ...]) -> bool:
    parent: Any = values
    for part in path[:-1]:
        if isinstance(parent, Mapping):
            parent = parent.get(part)
        elif isinstance(parent, list) and isinstance(part, int):
            parent = parent[part]
    return path[-1] == "secure" and isinstance(parent, Mapping) and set(parent) == {"secure"}


def values_key_rules(cfg: StackConfig) -> list[tuple[str, str]]:
    """Problems of the stack's values overrides, keyed from the file root."""
    pins = chart_pins()
    out: list[tuple[str, str]] = []
    for section, chart in CHART_SECTIONS.items():
        node: Any = cfg
        for attr in section:
            node = getattr(node, attr)
        values = getattr(node, "values", None)
        index = key_index(chart, pins[chart].version) if values and chart in pins else None
        if values and index:  # no index for the pinned version: tests/unit/test_chart_keys.py
            out += unknown_values_keys(values, index, ".".join(section))
    for i, extra in enumerate(cfg.apps.extra):
        index = key_index(extra.chart, extra.version) if extra.values else None
        if index and normalize_repo(index.repo) == normalize_repo(extra.repo):
            out += unknown_values_keys(extra.values, index, f"apps.extra.{i}")
    return out
