"""Benchmark of `dataplatform plan` as users and CI run it: fresh processes, the policy pack
and the JSON included. Prints figures and each target as met or missed; asserts nothing.

    .venv/bin/python bench/plan.py                 # everything, 5 runs each (~8 minutes)
    .venv/bin/python bench/plan.py --quick         # 1 run, batches of 1 and 5 (~1 minute)
    .venv/bin/python bench/plan.py --only stacks   # or: floor, phases, batch, refusal

Targets (issue 15), medians on the 2-core machine:
- a shipped stack, `dataplatform plan STACK --json`, cold: <= 1.0 s and <= 200 MB peak
  (the peak is the largest process of the command: the CLI or its policy pack);
- 50 domain stacks as `dataplatform new` writes them, one `plan --json` batch: <= 15 s;
- our time over the floor's (a bare program registering as many resources under the
  same mock engine, in a fresh process): under 2x on the largest stack;
- a refused stack file (the bad-config corpus): <= 1.0 s.
Each timing is the median of the runs, with its spread (min-max); a batch is timed as one
process (`plan s1 s2 ...`) and as one process per stack run one after the other (what a
CI loop did before batches).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from components.apps.registry import BUILT_IN  # noqa: E402 (after the path)
from foundation.config.loader import available_stacks, load_stack_config  # noqa: E402

ONE_STACK_S, ONE_STACK_MB, BATCH_50_S, FLOOR_RATIO, REFUSE_S = 1.0, 200, 15.0, 2.0, 1.0
NEW_APPS = "airbyte,airflow,metabase,datahub"
"""Every built-in app `dataplatform new --apps` enables alone (dbt needs a project)."""
BAD_CASES = ("bare-scalar", "cidr-garbage", "unknown-app")
"""Refusals timed: a file-level, a value and a key problem of tests/bad_configs/."""
CLI = [sys.executable, "-m", "dataplatform.cli", "plan"]

FLOOR = """
import sys, time
import pulumi
from pulumi.runtime import settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        return args.name, dict(args.inputs)
    def call(self, args):
        return {}, []

pulumi.runtime.set_mocks(Mocks(), project="floor", stack="floor", preview=True)
def main():
    for i in range(int(sys.argv[1])):
        pulumi.CustomResource("floor:index:Resource", f"r{i}", {"name": f"r{i}", "i": i})
_sync_await(run_pulumi_func(main))
"""

PHASES = """
import importlib, json, sys, time
t0 = time.perf_counter()
from dataplatform.plan.planner import Options, Planner
from dataplatform.plan import engine, _streamed
t_imports = time.perf_counter()
preload = sys.argv[2:]
marks = {}
real_run, real_finish = engine.run_program, _streamed.StreamedCheck.finish
def run(*a, **k):
    if "run" not in marks:
        marks["run"] = time.perf_counter()
        for name in preload:  # the SDK modules a first run used, timed on their own
            getattr(importlib.import_module(name), "__name__")
        marks["sdk"] = time.perf_counter()
    return real_run(*a, **k)
def finish(self, *a, **k):
    marks["finish"] = time.perf_counter()
    out = real_finish(self, *a, **k)
    marks["findings"] = time.perf_counter()
    return out
engine.run_program, _streamed.StreamedCheck.finish = run, finish
before = set(sys.modules)
with Planner(Options(as_json=True)) as planner:
    planner.plan(sys.argv[1])
    t_done = time.perf_counter()
t_end = time.perf_counter()
# Modules that ran: the SDKs register each service lazily, loaded on first use.
sdk = [m for m, mod in sys.modules.items() if m not in before and type(mod).__name__ !=
       "_LazyModule" and m.split(".")[0] in
       ("pulumi_kubernetes", "pulumi_aws", "pulumi_gcp", "pulumi_random")]
print(json.dumps({"imports": t_imports - t0, "load": marks["run"] - t_imports,
                  "sdk": marks["sdk"] - marks["run"], "program": marks["finish"] - marks["sdk"],
                  "policy": marks["findings"] - marks["finish"],
                  "output": t_done - marks["findings"], "stop": t_end - t_done,
                  "modules": sdk}))
"""


@dataclass
class Run:
    wall: float
    peak_mb: float
    code: int
    out: str


def timed(cmd: list[str], cwd: Path = REPO) -> Run:
    """Wall time, peak RSS (MB, the largest of the process and its waited children)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    assert proc.stdout is not None  # stdout=PIPE
    out = proc.stdout.read()  # read to EOF first, so a full pipe cannot block the child
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
    proc.stdout.close()
    return Run(wall, usage.ru_maxrss / 1024, proc.returncode, out)


def spread(values: list[float]) -> str:
    med = statistics.median(values)
    return f"{med:6.2f} s  [{min(values):.2f}-{max(values):.2f}]"


class Targets:
    def __init__(self) -> None:
        self.rows: list[tuple[str, bool]] = []

    def check(self, what: str, ok: bool) -> str:
        self.rows.append((what, ok))
        return "met" if ok else "MISSED"

    def summary(self) -> None:
        print("\ntargets:")
        for what, ok in self.rows:
            print(f"  {'met   ' if ok else 'MISSED'}  {what}")
        missed = sum(not ok for _, ok in self.rows)
        print(f"  {len(self.rows) - missed} met, {missed} missed")


def shipped_stacks(runs: int, targets: Targets) -> dict[str, tuple[int, float]]:
    """Each shipped stack, cold, as a user runs it; returns {stack: (resources, median)}."""
    local = load_stack_config("local")
    missing = {a.key for a in BUILT_IN if not getattr(local.apps, a.key).enabled}
    assert not missing, f"the local stack must enable every built-in app, not {missing}"
    print(f"\n## One stack: `dataplatform plan STACK --json`, policy pack included ({runs} runs)")
    print(f"{'stack':<16}{'resources':>10}  {'median  [spread]':<22}{'peak MB':>8}  target")
    result = {}
    for stack in available_stacks():
        rs = [timed([*CLI, stack, "--json"]) for _ in range(runs)]
        assert all(r.code == 0 for r in rs), f"{stack}: exit {[r.code for r in rs]}"
        count = len(json.loads(rs[0].out)["resources"])
        walls, peak = [r.wall for r in rs], max(r.peak_mb for r in rs)
        med = statistics.median(walls)
        ok = targets.check(f"{stack}: {med:.2f} s <= {ONE_STACK_S} s and {peak:.0f} MB <= "
                           f"{ONE_STACK_MB} MB", med <= ONE_STACK_S and peak <= ONE_STACK_MB)
        print(f"{stack:<16}{count:>10}  {spread(walls):<22}{peak:>8.0f}  {ok}")
        result[stack] = (count, med)
    return result


def floor(runs: int, stacks: dict[str, tuple[int, float]], targets: Targets) -> None:
    print(f"\n## The floor: a bare program, as many resources, the same mock engine ({runs} runs)")
    print(f"{'stack':<16}{'resources':>10}  {'floor':<22}{'ours / floor':>13}")
    largest = max(stacks, key=lambda s: stacks[s][0])
    for stack, (count, ours) in stacks.items():
        walls = [timed([sys.executable, "-c", FLOOR, str(count)]).wall for _ in range(runs)]
        ratio = ours / statistics.median(walls)
        mark = ""
        if stack == largest:
            mark = "  largest: " + targets.check(
                f"{stack} (largest): {ratio:.1f}x the floor, aim < {FLOOR_RATIO}x",
                ratio < FLOOR_RATIO)
        print(f"{stack:<16}{count:>10}  {spread(walls):<22}{ratio:>12.1f}x{mark}")


def phases(stacks: list[str]) -> None:
    """Where a plan's time goes: an instrumented in-process run per stack, after a first
    run that lists the SDK modules its program imports (then timed on their own)."""
    print("\n## Where the time goes (one instrumented run each, seconds)")
    print(f"{'stack':<16}{'imports':>8}{'load':>7}{'SDK imports':>12}{'program':>9}"
          f"{'policy':>8}{'output':>8}{'stop':>6}  SDK services imported")
    for stack in stacks:
        first = _phase_run(stack, [])
        p = _phase_run(stack, first["modules"])
        # Service packages (pulumi_aws.ec2), not the top-level functions (get_region).
        services = sorted({m for m in first["modules"] if m.count(".") == 1
                           and "_" not in m.split(".")[1].rstrip("_")
                           and m.split(".")[1] not in ("provider", "outputs", "config")})
        print(f"{stack:<16}{p['imports']:>8.2f}{p['load']:>7.2f}{p['sdk']:>12.2f}"
              f"{p['program']:>9.2f}{p['policy']:>8.2f}{p['output']:>8.2f}{p['stop']:>6.2f}"
              f"  {', '.join(services)}")
    print("imports: Python, Pulumi, pydantic, our config model. SDK imports: the cloud SDK "
          "modules the program uses (each service package imports all its resources).\n"
          "program: our components and the Pulumi SDK registering each resource under the "
          "mock engine (the pack analyses them meanwhile, on the other core).\n"
          "policy: what is left of the analysis after the program, and AnalyzeStack.")


def _phase_run(stack: str, preload: list[str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", PHASES, stack, *preload], cwd=REPO,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.splitlines()[-1])


def new_domains(folder: Path, count: int) -> list[str]:
    subprocess.run([*CLI[:-1], "new", "customer", "bench", "--cloud", "local",
                    "--domains", ",".join(f"d{i:02d}" for i in range(count)),
                    "--environments", "dev", "--apps", NEW_APPS, "--stacks-dir", str(folder)],
                   cwd=REPO, check=True, capture_output=True)
    return [f"bench-d{i:02d}-dev" for i in range(count)]


def batches(runs: int, counts: list[int], separate_runs: int, targets: Targets) -> None:
    folder = Path(tempfile.mkdtemp(prefix="dataplatform-bench-"))
    try:
        names = new_domains(folder, max(counts))
        print(f"\n## Domain stacks from `dataplatform new customer ... --apps {NEW_APPS}` "
              f"(local, dev), with their platform stack")
        print(f"{'stacks':>6}  {'one batch process':<24}{'peak MB':>8}  "
              f"{'a process per stack':<24}{'runs':>5}  {'batch s/stack':>13}")
        for n in counts:
            cmd = [*CLI, *names[:n], "--json", "--stacks-dir", str(folder)]
            rs = [timed(cmd) for _ in range(runs)]
            assert all(r.code == 0 for r in rs), f"batch of {n}: exit {[r.code for r in rs]}"
            k = separate_runs if n > 5 else runs
            sep = [sum(timed([*CLI, s, "--json", "--stacks-dir", str(folder)]).wall
                       for s in names[:n]) for _ in range(k)]
            walls = [r.wall for r in rs]
            med = statistics.median(walls)
            mark = ""
            if n == 50:
                mark = "  " + targets.check(f"50 domain stacks in one batch: {med:.1f} s <= "
                                            f"{BATCH_50_S} s", med <= BATCH_50_S)
            print(f"{n:>6}  {spread(walls):<24}{max(r.peak_mb for r in rs):>8.0f}  "
                  f"{spread(sep):<24}{k:>5}  {med / n:>13.3f}{mark}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def refusal(runs: int, targets: Targets) -> None:
    print(f"\n## A refused stack file, in a fresh process ({runs} runs)")
    folder = Path(tempfile.mkdtemp(prefix="dataplatform-bench-bad-"))
    try:
        for case in BAD_CASES:
            shutil.copy(REPO / "tests" / "bad_configs" / f"{case}.yaml",
                        folder / f"Pulumi.{case}.yaml")
            rs = [timed([*CLI, case, "--stacks-dir", str(folder)]) for _ in range(runs)]
            assert all(r.code == 2 for r in rs), f"{case}: exit {[r.code for r in rs]}"
            med = statistics.median(r.wall for r in rs)
            ok = targets.check(f"refusing {case}: {med:.2f} s <= {REFUSE_S} s", med <= REFUSE_S)
            print(f"{case:<24}{spread([r.wall for r in rs])}  {ok}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per measurement (median kept)")
    ap.add_argument("--counts", default="1,5,20,50", help="batch sizes (domain stacks)")
    ap.add_argument("--separate-runs", type=int, default=1,
                    help="runs of the one-process-per-stack loop for batches over 5 stacks")
    ap.add_argument("--only", help="comma-separated: stacks, floor, phases, batch, refusal")
    ap.add_argument("--quick", action="store_true", help="1 run, batches of 1 and 5")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.counts = 1, "1,5"
    only = set(args.only.split(",")) if args.only else {"stacks", "floor", "phases", "batch",
                                                          "refusal"}
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
          f"{args.runs} runs per figure")
    targets = Targets()
    measured = {}
    if only & {"stacks", "floor", "phases"}:
        measured = shipped_stacks(args.runs, targets)
    if "floor" in only:
        floor(args.runs, measured, targets)
    if "phases" in only:
        largest = max(measured, key=lambda s: measured[s][0])
        phases(sorted({"local", largest}))
    if "batch" in only:
        batches(args.runs, [int(c) for c in args.counts.split(",")], args.separate_runs,
                targets)
    if "refusal" in only:
        refusal(args.runs, targets)
    targets.summary()


if __name__ == "__main__":
    main()
