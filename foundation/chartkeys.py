"""The values keys each pinned chart version knows (`chart-keys/<chart>-<version>.json`).

Helm ignores a values key its chart does not know, so a typo (`replicaCont: 2`) deploys
fine and does nothing. `dataplatform chart-keys` writes, per pinned chart version, the
keys its defaults, schema and bundled subcharts declare (`dataplatform/chartcheck.py`
builds the tree from `../shared/charts/defaults/<chart>/`); the loader checks stack
overrides against it (`foundation/config/values_keys.py`) without the chart sources.

A file is `{"chart", "version", "repo", "keys"}`; `keys` is a tree of nodes:

- a map `{key: node}`: the keys known there, checked; under it `"<items>"` is the element
  tree of a list value, `"<any>"` the node of any other key (a schema's
  `additionalProperties`), `"<patterns>"` `{regex: node}` (`patternProperties`);
  a list value is free-form when there is no `"<items>"`;
- a list `[node]`: a list of maps whose elements are checked against `node` (a map
  value is free-form);
- `"<global>"` (a subchart's `global`): the node of the chart's top-level `global`;
- `null` (a scalar) or `"*"` (a free-form map or list: annotations, labels, env, a block
  passed through to the application's own configuration, an exception of
  `dataplatform/_chart_exceptions.py`): anything below is accepted.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from foundation.layout import CHART_KEYS_DIR

FREE = "*"
ITEMS, ANY, PATTERNS = "<items>", "<any>", "<patterns>"
GLOBAL = "<global>"  # a subchart's `global`: the chart's own `global` node
SPECIAL = (ITEMS, ANY, PATTERNS)

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Unknown:
    """A values key the chart does not know, and the closest key it knows there."""

    path: Path
    near: str | None


@dataclass(frozen=True)
class KeyIndex:
    chart: str
    version: str
    repo: str
    keys: Any

    def unknown(self, values: Mapping[str, Any]) -> list[Unknown]:
        """Every key of `values` this chart version does not know (see the module doc)."""
        return list(unknown_keys(values, self.keys))


def index_file(chart: str, version: str) -> str:
    return f"{chart}-{version}.json"


@cache
def key_index(chart: str, version: str) -> KeyIndex | None:
    """The committed index of `chart` at `version`, or None when the project has none."""
    path = CHART_KEYS_DIR / index_file(chart, version)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("chart") != chart or str(data.get("version")) != version:
        return None  # a renamed or hand-copied file: not what it claims to be
    return KeyIndex(chart, version, str(data.get("repo") or ""), data["keys"])


def _lookup(node: Mapping[str, Any], key: str) -> list[Any] | None:
    """The nodes `key` gets in the map node `node`, or None when it is unknown there."""
    if key in node and key not in SPECIAL:
        return [node[key]]
    matched = [sub for pattern, sub in (node.get(PATTERNS) or {}).items()
               if re.search(pattern, key)]
    if matched:
        return matched
    return [node[ANY]] if ANY in node else None


def closest(name: str, keys: Iterable[str]) -> str | None:
    """The key `name` was probably meant to be (`podCIDR` -> `podCidr`, `replicaCont` ->
    `replicas`), compared case-insensitively; None when nothing is close. The one "did you
    mean" of the project: stack keys, stack names and chart values keys."""
    lower = {str(k).lower(): str(k) for k in keys}
    near = difflib.get_close_matches(name.lower(), list(lower), n=1)
    return lower[near[0]] if near else None


def unknown_keys(value: Any, node: Any, path: Path = (),
                 root_global: Any = None) -> Iterator[Unknown]:
    """Walk `value` against the tree `node`; yield each unknown key (depth first)."""
    if not path and isinstance(node, Mapping):
        root_global = node.get("global")
    if node == GLOBAL:
        node = root_global
    if isinstance(node, list):
        node = {ITEMS: node[0]} if isinstance(value, list) else FREE
    if not isinstance(node, Mapping):
        return  # a scalar or free-form node: anything below is accepted
    if isinstance(value, Mapping):
        for key, sub in value.items():
            children = _lookup(node, str(key))
            if children is None:
                known = (k for k in node if k not in SPECIAL)
                yield Unknown((*path, str(key)), closest(str(key), known))
                continue
            for child in children:
                yield from unknown_keys(sub, child, (*path, str(key)), root_global)
    elif isinstance(value, list) and ITEMS in node:
        for i, item in enumerate(value):
            if isinstance(item, Mapping):
                yield from unknown_keys(item, node[ITEMS], (*path, i), root_global)
