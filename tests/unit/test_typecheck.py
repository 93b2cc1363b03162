"""The type checker: mypy, as configured in pyproject.toml (`[tool.mypy]`), finds no error.

mypy runs through its API (`mypy.api.run`) on the configured `files`, in a child process
with a memory cap: a mistyped nested dict literal passed to a pulumi_kubernetes resource
can send mypy's overload check past 15 GB (python/mypy#17231), and the cap turns that into
a failure that names the line instead of the machine running out of memory. mypy keeps its
incremental cache in `.mypy_cache/` at the repo root, so a second run only rechecks what
changed.
"""

from __future__ import annotations

import multiprocessing
import resource
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api", reason="mypy is not installed (the `dev` extra)")

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
# Address space of the mypy process: a clean run of the whole configuration stays near 2 GB.
MEMORY_CAP = 8 << 30


def test_mypy_finds_no_error(monkeypatch):
    # The config's paths (`files`, `mypy_path`, the cache) are relative to the repo root,
    # and the child process starts in the parent's working directory.
    monkeypatch.chdir(REPO)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                             initializer=resource.setrlimit,
                             initargs=(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))) as pool:
        stdout, stderr, status = pool.submit(
            mypy_api.run, ["--config-file", str(REPO / "pyproject.toml")]).result()
    report = "\n".join(part for part in (stdout.strip(), stderr.strip()) if part)
    if status == 2:  # mypy stopped: a bad configuration, or a crash (INTERNAL ERROR on stderr)
        report += (f"\n\nmypy stopped; if it crashed, most likely out of its {MEMORY_CAP >> 30} GiB "
                   "on the line its INTERNAL ERROR names (the captured stderr): a nested dict "
                   "literal that does not match the resource's "
                   "*ArgsDict (camelCase keys, an untyped dict) is checked against every "
                   "overload and union member. Fix that literal (snake_case keys as the SDK's "
                   "TypedDicts spell them, or the *Args classes).")
    assert status == 0 and "Success: no issues found" in stdout, (
        f"mypy exited with {status}:\n{report}")
