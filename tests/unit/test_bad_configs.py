"""The bad-config corpus (tests/bad_configs/): every file is refused by `dataplatform plan`.

Each `<case>.yaml` is a whole stack file whose leading comment says what must be reported:
`# expect: <key> | <message fragment>` (one or more), and `# xfail: <why>` for a gap the
config model does not catch yet. The case is planned as stack `<case>` in a copy of the
shipped stacks: exit 2, one message on stderr naming the file and the key, no traceback,
nothing on stdout, no program run (so no resource registered). How fast a file is refused
is measured by `bench/plan.py`, not asserted here (wall clocks are flaky on 2 cores).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from dataplatform import cli
from dataplatform.plan import engine
from foundation.config import loader

pytestmark = pytest.mark.unit

CORPUS = Path(__file__).resolve().parents[1] / "bad_configs"
MAX_STDERR = 4000  # a bad value is echoed clipped, never in full


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    expect: tuple[tuple[str, str], ...]
    xfail: str | None


def read_case(path: Path) -> Case:
    expect, xfail = [], None
    for raw in path.read_bytes().split(b"\n"):
        if not raw.startswith(b"#"):
            break
        line = raw.decode("utf-8", "replace").lstrip("# ").rstrip()
        if line.startswith("expect:"):
            key, _, fragment = line.removeprefix("expect:").partition(" | ")
            expect.append((key.strip(), fragment.strip()))
        elif line.startswith("xfail:"):
            xfail = line.removeprefix("xfail:").strip()
    assert expect, f"{path.name}: no '# expect: <key> | <fragment>' header"
    return Case(path.stem, path, tuple(expect), xfail)


CASES = [read_case(p) for p in sorted(CORPUS.glob("*.yaml"))]


def params(cases: list[Case]) -> list:
    return [pytest.param(c, id=c.name, marks=[pytest.mark.xfail(reason=c.xfail, strict=True)]
                         if c.xfail else []) for c in cases]


def install(case: Case, stacks) -> Path:
    """Copy the case into the tmp stacks dir (seeded with the shipped stacks)."""
    assert not (stacks.path / f"Pulumi.{case.name}.yaml").exists(), "name clashes with a stack"
    target = stacks.path / f"Pulumi.{case.name}.yaml"
    shutil.copyfile(case.path, target)
    return target


def check_output(case: Case, target: Path, code: int, out: str, err: str) -> None:
    assert code == cli.EXIT_CONFIG, f"exit {code}, stderr:\n{err}"
    assert "Traceback" not in err, err
    assert out == "", f"stdout must stay empty, got:\n{out[:500]}"
    assert err.startswith(f"{loader._display(target)}: "), f"file not named first:\n{err}"
    assert len(err) < MAX_STDERR, f"{len(err)} characters on stderr"
    lines = err.splitlines()
    for key, fragment in case.expect:
        mine = [line for line in lines if line.startswith(f"  - {key}: ")]
        assert mine, f"no problem reported for key {key}:\n{err}"
        assert any(fragment in line for line in mine), f"{key}: no '{fragment}' in:\n{err}"


def test_corpus_has_at_least_30_cases():
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)
    assert not set(loader.available_stacks()) & {c.name for c in CASES}


@pytest.mark.parametrize("case", params(CASES))
def test_case_is_refused_in_process(case, stacks, capsys, monkeypatch):
    target = install(case, stacks)
    ran = []

    def record(stack, *args, **kwargs):
        ran.append(stack)
        return engine.Plan(engine.PROJECT, stack)

    monkeypatch.setattr(engine, "run_program", record)
    code = cli.main(["plan", case.name, "--stacks-dir", str(stacks.path)])
    out, err = capsys.readouterr()
    assert ran == [], f"the program ran (resources registered) for {ran}"
    check_output(case, target, code, out, err)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dataplatform.cli", "plan", *args],
                          capture_output=True, text=True, timeout=120)


def test_file_level_cases_are_refused_by_a_real_process(stacks):
    """Parser limits matter most in a fresh interpreter: one process per file-level case."""
    cases = [c for c in CASES if not c.xfail and c.expect[0][0] == "(file)"]
    targets = {c.name: install(c, stacks) for c in cases}
    with ThreadPoolExecutor(max_workers=2) as pool:
        procs = list(pool.map(lambda c: _run(c.name, "--stacks-dir", str(stacks.path)), cases))
    failures = []
    for case, proc in zip(cases, procs, strict=True):
        try:
            check_output(case, targets[case.name], proc.returncode, proc.stdout, proc.stderr)
        except AssertionError as exc:
            failures.append(f"{case.name}: {exc}")
    assert not failures, "\n".join(failures)


def test_every_case_is_refused_in_one_real_batch(stacks):
    """Every case at once through `plan A B ... --json`: each stack exits 2 with its own
    messages and no plan, and the batch exits 2, whatever the other stacks did."""
    cases = [c for c in CASES if not c.xfail]
    targets = {c.name: install(c, stacks) for c in cases}
    proc = _run(*targets, "local", "--stacks-dir", str(stacks.path), "--json", "--no-policy")
    assert proc.returncode == cli.EXIT_CONFIG, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-4000:]
    outcomes = {o["stack"]: o for o in json.loads(proc.stdout)["stacks"]}
    assert list(outcomes) == [*targets, "local"]
    assert outcomes["local"]["exit"] == 0 and outcomes["local"]["plan"]["resources"]
    failures = []
    for case in cases:
        o = outcomes[case.name]
        err = "".join(f"{line}\n" for line in o["messages"])
        try:
            assert o["plan"] is None
            check_output(case, targets[case.name], o["exit"], "", err)
            prefixed = [line for line in proc.stderr.splitlines()
                        if line.startswith(f"[{case.name}] ")]
            assert len(prefixed) == len(o["messages"]), "stderr lines not prefixed per stack"
        except AssertionError as exc:
            failures.append(f"{case.name}: {exc}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("body,key,fragment", [
    # Just under the size limit: a flat map of short keys, parsed then refused by count.
    ("config:\n  dataplatform:labels:\n" + "".join(f"    k{i}: v\n" for i in range(12000)),
     "(file)", "more than 20000 values"),
    # Over the size limit: refused before parsing.
    ("config:\n" + "#" * (loader.MAX_BYTES + 1) + "\n", "(file)", f"larger than {loader.MAX_BYTES}"),
    # A huge bad value: reported, but echoed clipped.
    ("config:\n  dataplatform:customer: " + "A" * 200_000 + "\n", "dataplatform:customer",
     "not a valid name"),
])
def test_large_files_are_refused(stacks, capsys, monkeypatch, body, key, fragment):
    assert len(body) < loader.MAX_BYTES or fragment.startswith("larger")
    case = Case("large", stacks.path / "Pulumi.large.yaml", ((key, fragment),), None)
    case.path.write_text(body)
    monkeypatch.setattr(engine, "run_program", lambda *a, **k: pytest.fail("program ran"))
    code = cli.main(["plan", "large", "--stacks-dir", str(stacks.path)])
    out, err = capsys.readouterr()
    check_output(case, case.path, code, out, err)
