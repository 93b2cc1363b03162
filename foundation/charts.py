"""The chart pins this project deploys (`charts.lock.yaml` at the repository root)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from foundation import yamlfile
from foundation.layout import LOCK_FILE


@dataclass(frozen=True)
class ChartPin:
    """One pinned chart: where it comes from and the exact version."""

    name: str
    repo: str
    version: str
    app_version: str = ""
    """What the chart at `repo` declares as its appVersion (empty: it declares none)."""


@cache
def chart_pins() -> dict[str, ChartPin]:
    data = yamlfile.read(LOCK_FILE)["charts"]
    return {name: ChartPin(name, c["repo"], str(c["version"]), str(c.get("appVersion") or ""))
            for name, c in data.items()}


def chart_pin(name: str) -> ChartPin:
    return chart_pins()[name]


def allowed_repos(extra: Iterable[str] = ()) -> list[str]:
    """Every chart repository the lock uses (the default allow-list of AppProjects), plus
    `extra` ones (a stack's `apps.allowedRepos`, for its extra apps)."""
    return sorted({p.repo for p in chart_pins().values()} | set(extra))
