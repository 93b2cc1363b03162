"""bench/plan.py: a benchmark, so its figures are not asserted; that it runs, judges each
target met or missed and times what it says it times is."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

BENCH = Path(__file__).resolve().parents[2] / "bench" / "plan.py"
_SPEC = importlib.util.spec_from_file_location("bench_plan", BENCH)
bench = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = bench  # dataclasses look their module up there
_SPEC.loader.exec_module(bench)


def test_targets_print_met_or_missed_and_count_both(capsys):
    targets = bench.Targets()
    assert targets.check("fast", True) == "met"
    assert targets.check("slow", False) == "MISSED"
    targets.summary()
    out = capsys.readouterr().out
    assert "  met     fast" in out and "  MISSED  slow" in out and "1 met, 1 missed" in out


def test_spread_is_the_median_and_the_range():
    assert bench.spread([3.0, 1.0, 2.0]).split() == ["2.00", "s", "[1.00-3.00]"]


def test_timed_runs_the_real_cli_and_reads_its_peak_memory():
    run = bench.timed([*bench.CLI, "local-extra", "--json", "--no-policy"])
    assert run.code == 0 and '"stack": "local-extra"' in run.out
    assert run.wall > 0 and run.peak_mb > 20


def test_the_refusal_section_runs_end_to_end():
    proc = subprocess.run([sys.executable, str(BENCH), "--runs", "1", "--only", "refusal"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for case in bench.BAD_CASES:
        assert f"refusing {case}: " in proc.stdout
    assert " met, " in proc.stdout
