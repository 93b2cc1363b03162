"""The suite's summary says how many checks skipped for missing chart data (../shared)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from chart_data import CHART_DATA, chart_data_skips, is_chart_data_skip, summary_line

pytestmark = pytest.mark.unit

TESTS = Path(__file__).resolve().parents[1]


def _skipped(reason: str) -> SimpleNamespace:
    """A skipped test's report, as pytest (and pytest-xdist) hands it to the summary."""
    return SimpleNamespace(longrepr=("tests/unit/test_x.py", 1, f"Skipped: {reason}"))


CHART_SKIPS = [
    "../shared/charts is absent from this checkout: no chart defaults to check against",
    "no defaults for chart 'airflow' under /work/shared/charts/defaults/airflow",
    "/work/shared/charts/src is absent: no chart sources to measure profiles/footprints.yaml",
    "../shared/charts/defaults/metabase is absent from this checkout",
    "no defaults for extra chart 'dagster' in ../shared/charts/defaults: keys are not checked",
]
OTHER_SKIPS = [
    "actionlint is not installed (pip install -e '.[dev]' on Linux x86_64)",
    "the airflow chart folder is the pinned chart: nothing is missing",
    "not a git checkout",
    "running as root, and no setpriv to drop the DAC capabilities",
]


def test_counts_the_skips_for_missing_chart_data_only():
    reports = [_skipped(r) for r in CHART_SKIPS + OTHER_SKIPS]
    assert chart_data_skips(reports) == len(CHART_SKIPS)
    assert chart_data_skips([]) == 0


def test_every_skip_the_suite_writes_for_chart_data_is_counted():
    """A new skip that names ../shared in another way is still counted."""
    found = []
    for path in TESTS.rglob("*.py"):
        text = path.read_text()
        for m in re.finditer(r"pytest\.skip\((.*?)(?:,\s*allow_module_level=True)?\)\s*$",
                             text, re.S | re.M):
            call = m.group(1)
            if "shared" in call.lower() or "NO_SHARED" in call:
                found.append((path.name, call))
    assert len(found) >= 8, found  # the chart checks of several files
    for name, call in found:
        literal = call if "NO_SHARED" not in call else "../shared/charts is absent"
        assert is_chart_data_skip(literal), (name, call)


def test_the_summary_says_it_loudly(request):
    # The hook pytest registered from tests/conftest.py (two conftest modules in the tree).
    (conftest,) = [p for p in request.config.pluginmanager.get_plugins()
                   if getattr(p, "__file__", None) == str(TESTS / "conftest.py")]
    written: list[tuple[str, str, dict]] = []
    reporter = SimpleNamespace(
        stats={"skipped": [_skipped(r) for r in CHART_SKIPS[:3] + OTHER_SKIPS]},
        write_sep=lambda sep, text, **markup: written.append((sep, text, markup)))
    conftest.pytest_terminal_summary(reporter)
    assert written == [("!", summary_line(3), {"red": True, "bold": True})]
    assert summary_line(3).startswith(f"3 checks skipped: chart data missing from {CHART_DATA}")
    assert summary_line(1).startswith("1 check skipped:")
    written.clear()
    conftest.pytest_terminal_summary(SimpleNamespace(stats={}, write_sep=reporter.write_sep))
    assert written == []  # nothing skipped for chart data: nothing said
