"""What profile prod promises about availability, and the overrides that would undo it.

The promise is read from the prod profile's own values files (`charts-values/<app>/
prod.yaml`), not restated here: every replica count of 2 or more there (`replicas`,
`replicaCount`, `minReplicas`) and every PodDisruptionBudget switched on (`enabled` or
`create` under `podDisruptionBudget` / `pdb`) is what prod runs for its user-facing and
HA services. A stack's values override that lowers such a count below 2, switches such a
PDB off, or removes the block that holds it (`apiServer: null`, which Helm's merge turns
into the chart default) is refused, whatever way it is spelt (`"1"`, `1.0`, `"false"`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from foundation import yamlfile
from foundation.layout import VALUES_DIR

if TYPE_CHECKING:
    from foundation.config.stack import StackConfig

REPLICA_KEYS = {"replicas", "replicaCount", "minReplicas"}
PDB_KEYS = {"podDisruptionBudget", "pdb"}
PDB_SWITCHES = {"enabled", "create"}
# Config sections holding Helm values, and the charts-values folder each one layers over.
SECTIONS = {("apps", "argocd"): "argo-cd", ("apps", "airbyte"): "airbyte",
            ("apps", "airflow"): "airflow", ("apps", "metabase"): "metabase",
            ("apps", "datahub"): "datahub", ("monitoring",): "kube-prometheus-stack"}

Path = tuple[str, ...]


@cache
def promises(folder: str) -> tuple[tuple[Path, str], ...]:
    """(values path, "replicas" | "pdb") that `charts-values/<folder>/prod.yaml` promises."""
    path = VALUES_DIR / folder / "prod.yaml"
    data = yamlfile.read(path) if path.is_file() else None
    return tuple(_promised(data, ())) if isinstance(data, Mapping) else ()


def _promised(node: Mapping[str, Any], path: Path) -> Iterator[tuple[Path, str]]:
    for key, value in node.items():
        here = (*path, str(key))
        if key in REPLICA_KEYS and isinstance(value, int) and value >= 2:
            yield here, "replicas"
        elif key in PDB_KEYS and isinstance(value, Mapping):
            yield from ((((*here, s)), "pdb") for s in PDB_SWITCHES if value.get(s) is True)
        elif isinstance(value, Mapping):
            yield from _promised(value, here)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _off(value: Any) -> bool:
    """A PDB switch turned off, in any spelling Helm templates would read as false."""
    return value is None or value is False or str(value).strip().lower() in (
        "false", "0", "no", "off", "")


def undone(overrides: Mapping[str, Any], folder: str) -> list[tuple[str, str]]:
    """(dotted values key, why) for each prod promise `overrides` would undo."""
    out: dict[str, str] = {}  # one problem per key (a nulled block holds several promises)
    for path, kind in promises(folder):
        node: Any = overrides
        for depth, key in enumerate(path):
            if not isinstance(node, Mapping) or key not in node:
                break
            node = node[key]
            last = depth == len(path) - 1
            if not last and not isinstance(node, Mapping):
                out.setdefault(".".join(path[:depth + 1]), f"replaces the block that holds "
                               f"{'.'.join(path)}, which profile prod sets ({_what(kind)})")
                break
            if last and kind == "replicas" and ((n := _number(node)) is None or n < 2):
                out[".".join(path)] = (f"{node!r} is fewer than the 2 replicas profile prod "
                                       "runs (a drain or a crash takes it down)")
            elif last and kind == "pdb" and _off(node):
                out[".".join(path)] = ("profile prod keeps this PodDisruptionBudget: "
                                       "without it a node drain can stop every replica")
    return list(out.items())


def _what(kind: str) -> str:
    return "2 replicas" if kind == "replicas" else "a PodDisruptionBudget"


def prod_promise_rules(cfg: StackConfig) -> list[tuple[str, str]]:
    """Problems of a prod stack's values overrides, keyed from the file root."""
    if cfg.profile != "prod":
        return []
    out = []
    for section, folder in SECTIONS.items():
        node: Any = cfg
        for attr in section:
            node = getattr(node, attr)
        values = getattr(node, "values", None) or {}
        prefix = ".".join(section)
        out += [(f"{prefix}.values.{key}", why) for key, why in undone(values, folder)]
    return out
