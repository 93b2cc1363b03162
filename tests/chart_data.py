"""How many checks skipped for want of chart data, for the suite's summary.

Without `../shared/charts` (a clone that has only this repository) the checks against
the pinned charts' defaults, schemas and sources skip one by one, each with its own
reason; `tests/conftest.py` counts them and says so at the end of the run, loudly,
instead of leaving them in the `-ra` list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

CHART_DATA = "../shared/charts"
FETCH_HINT = ("put the pinned charts (charts.lock.yaml) there as ../shared/README.md "
              "describes, or run the tests in a checkout that has ../shared")
"""What to do about it; name the project's chart-fetching command here once it has one."""

# What every missing-chart-data skip names: the folder (`../shared/charts/defaults/x`,
# the resolved `<root>/shared/charts/src`), or the chart data it wanted.
_CHART_DATA_SKIP = re.compile(r"shared[/\\]charts|chart (?:data|defaults)\b", re.I)


def skip_reason(report: Any) -> str:
    """The reason of a skipped test report (`longrepr` is `(path, line, reason)`)."""
    longrepr = getattr(report, "longrepr", None)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr or "")


def is_chart_data_skip(reason: str) -> bool:
    return bool(_CHART_DATA_SKIP.search(reason))


def chart_data_skips(skipped: Iterable[Any]) -> int:
    """How many of the skipped test reports skipped because chart data is absent."""
    return sum(1 for r in skipped if is_chart_data_skip(skip_reason(r)))


def summary_line(count: int) -> str:
    return (f"{count} check{'s' if count != 1 else ''} skipped: chart data missing from "
            f"{CHART_DATA} (each skip above names the chart) — {FETCH_HINT}")
