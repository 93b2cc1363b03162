"""Benchmark of the offline plan: wall time and peak memory, and how they scale.

    .venv/bin/python bench/plan.py [--stacks 1,5,10,20]

Targets (issue 2): one full domain stack plans in <= 2 s wall and <= 300 MB peak RSS on
the 2-core machine, in a fresh process (imports included, as `dataplatform plan` runs);
N stacks plan in time linear in N. Each measurement runs in its own child process, so
the peak RSS of one does not leak into the next. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CHILD = """
import sys, time
from pathlib import Path
t0 = time.perf_counter()
from dataplatform.plan.engine import plan_stack
names, folder = sys.argv[1].split(","), Path(sys.argv[2])
for n in names:
    plan = plan_stack(n, folder)
print(f"{time.perf_counter() - t0:.3f} {len(plan.resources)}")
"""


def make_stacks(folder: Path, count: int) -> list[str]:
    """`count` domain stacks like the quickstart, each with every built-in app on."""
    base = yaml.safe_load((REPO / "stacks" / "Pulumi.local.yaml").read_text())
    names = []
    for i in range(count):
        cfg = {"config": dict(base["config"])}
        cfg["config"]["dataplatform:domain"] = f"domain{i:02d}"
        cfg["config"]["dataplatform:apps"] = {a: {"enabled": True} for a in (
            "airbyte", "airflow", "metabase", "datahub")}
        name = f"bench-{i:02d}"
        (folder / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(cfg))
        names.append(name)
    return names


def run_child(names: list[str], folder: Path) -> tuple[float, float, float, int]:
    """(wall s incl. interpreter start, in-process s, peak RSS MB, resources of last)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, ",".join(names), str(folder)],
                            stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdout is not None  # stdout=PIPE
    out = proc.stdout.read().split()  # read to EOF first, so a full pipe cannot block
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
    proc.stdout.close()
    if proc.returncode != 0:
        raise SystemExit(f"plan failed for {names[:3]}…")
    return wall, float(out[0]), usage.ru_maxrss / 1024, int(out[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stacks", default="1,5,10,20", help="stack counts to measure")
    ap.add_argument("--repeat", type=int, default=3, help="runs per count (best is kept)")
    args = ap.parse_args()
    counts = [int(c) for c in args.stacks.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="dataplatform-bench-"))
    try:
        names = make_stacks(folder, max(counts))
        print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
        print(f"{'stacks':>6} {'wall s':>8} {'plan s':>8} {'s/stack':>8} {'peak MB':>8} "
              f"{'res/stack':>9}")
        rows = []
        for n in counts:
            runs = [run_child(names[:n], folder) for _ in range(args.repeat)]
            wall, inproc, rss, res = min(runs)
            rows.append((n, inproc))
            print(f"{n:>6} {wall:>8.2f} {inproc:>8.2f} {inproc / n:>8.3f} {rss:>8.0f} {res:>9}")
        if len(rows) > 1:
            (n0, t0), (n1, t1) = rows[0], rows[-1]
            slope = (t1 - t0) / (n1 - n0)
            print(f"marginal cost: {slope:.3f} s per extra stack; "
                  f"t({n1})/t({n0}) = {t1 / t0:.1f} for {n1 / n0:.0f}x the stacks")
        print("shipped stacks, each planned cold in its own process (referenced platform "
              "plans included):")
        for stack in sorted(p.name[7:-5] for p in (REPO / "stacks").glob("Pulumi.*.yaml")):
            wall, inproc, rss, res = min(run_child([stack], REPO / "stacks")
                                         for _ in range(args.repeat))
            print(f"  {stack:<16} {wall:>6.2f} s wall {rss:>6.0f} MB peak {res:>5} resources")
        print("targets: one stack <= 2 s wall and <= 300 MB peak; time linear in stacks")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
