"""How many checks skipped for want of chart data, for the suite's summary.

Without chart data (`dataplatform.chartcheck.shared_charts_dir()`: `$DATAPLATFORM_CHART_DATA`,
`../shared/charts`, then `.chart-data/`) the checks against the pinned charts' defaults,
schemas and sources skip one by one, each with its own reason; `tests/conftest.py` counts
them and says so at the end of the run, loudly, instead of leaving them in the `-ra` list.
A test module skipped whole (at collection, `allow_module_level`) counts its tests.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CHART_DATA = "$DATAPLATFORM_CHART_DATA, ../shared/charts and .chart-data/"
FETCH_HINT = ("run `dataplatform chart-data` (helm pull of each pinned chart into "
              ".chart-data/, or `--from DIR` with the charts), then the tests again")
"""What to do about it."""

# What every missing-chart-data skip names: the folder (`../shared/charts/defaults/x`,
# the resolved `<root>/shared/charts/src`, `.chart-data`), `../shared` (it holds nothing but
# chart data), or the chart data it wanted.
_CHART_DATA_SKIP = re.compile(r"shared[/\\]charts|\.\./shared\b|\.chart-data|DATAPLATFORM_CHART_DATA"
                              r"|chart (?:data|defaults|sources|lock)\b", re.I)


def skip_reason(report: Any) -> str:
    """The reason of a skipped test report (`longrepr` is `(path, line, reason)`)."""
    longrepr = getattr(report, "longrepr", None)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr or "")


def is_chart_data_skip(reason: str) -> bool:
    return bool(_CHART_DATA_SKIP.search(reason))


def tests_in(module: Path) -> int:
    """The test functions (and `Test*` methods) of a module: what skipping it skips."""
    try:
        tree = ast.parse(module.read_text())
    except (OSError, SyntaxError, ValueError):
        return 1
    nodes = [*tree.body, *(n for c in tree.body if isinstance(c, ast.ClassDef)
                           and c.name.startswith("Test") for n in c.body)]
    return max(1, sum(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                      and n.name.startswith("test") for n in nodes))


def checks_skipped(report: Any) -> int:
    """1 for a skipped test; the module's tests for a module skipped at collection."""
    if getattr(report, "when", None) != "collect":
        return 1
    return tests_in(REPO / str(getattr(report, "nodeid", "")).split("::")[0])


def chart_data_skips(skipped: Iterable[Any]) -> int:
    """How many checks the skipped reports skipped because chart data is absent."""
    return sum(checks_skipped(r) for r in skipped if is_chart_data_skip(skip_reason(r)))


def summary_line(count: int) -> str:
    return (f"{count} check{'s' if count != 1 else ''} skipped: chart data missing from "
            f"{CHART_DATA} (each skip above names the chart) — {FETCH_HINT}")
