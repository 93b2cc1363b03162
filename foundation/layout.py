"""Where the project's data lives: one folder per kind of data, each read by one loader.

| folder | kind | loader |
|---|---|---|
| `stacks/` | stack files (`Pulumi.<stack>.yaml`); `$DATAPLATFORM_STACKS_DIR` points the commands elsewhere | `foundation/config/loader.py` |
| `charts.lock.yaml` | chart pins | `foundation/charts.py` |
| `chart-keys/` | values keys per pinned chart version (generated: `dataplatform chart-keys`) | `foundation/chartkeys.py` |
| `charts-values/<app>/` | layered values per app and profile (charts and our own manifests) | `components/_values.py` |
| `profiles/` | infrastructure sizes per profile (nodes, databases), app footprints | `foundation/profiles.py`, `foundation/config/quota_fit.py` |
| `access/` | the least-privilege matrix of workload identities | `components/identity/domain_identities.py` |
| `monitoring/` | Grafana dashboards and datasources, alert rule templates, exporter collectors | `components/observability/_content.py` |
| `policies/config/` | per-stack policy enforcement overrides | `dataplatform/plan/policy.py` |
"""  # noqa: E501  (a table reads better unwrapped)

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT_STACKS_DIR = REPO_ROOT / "stacks"
"""The project's stack files: Pulumi.yaml's `stackConfigDir`, what `pulumi up` reads, and
where the shipped examples live (`example: true`); a consultant may delete or edit them."""
STACKS_ENV = "DATAPLATFORM_STACKS_DIR"
LOCK_FILE = REPO_ROOT / "charts.lock.yaml"
VALUES_DIR = REPO_ROOT / "charts-values"
CHART_KEYS_DIR = REPO_ROOT / "chart-keys"
PROFILES_DIR = REPO_ROOT / "profiles"
ACCESS_DIR = REPO_ROOT / "access"
MONITORING_DIR = REPO_ROOT / "monitoring"
POLICY_CONFIG_DIR = REPO_ROOT / "policies" / "config"


def stacks_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The folder the commands read stack files from by default: `$DATAPLATFORM_STACKS_DIR`
    when set and not empty (a relative path from the current folder), else the project's
    `stacks/`. The test suite points it at its own fixtures (tests/fixtures/stacks)."""
    value = environ.get(STACKS_ENV, "")
    return Path(value).expanduser().absolute() if value else PROJECT_STACKS_DIR


STACKS_DIR = stacks_dir()
"""Resolved once, at import: the default of every `stacks_dir` parameter and of
`--stacks-dir`. The Pulumi program itself reads PROJECT_STACKS_DIR, as `pulumi` does."""


def display(path: str | os.PathLike[str]) -> str:
    """`path` as messages name it: relative to the current folder when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return str(path) if rel.startswith(os.pardir) else rel
