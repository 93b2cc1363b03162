"""Every README command works in a fresh clone, in the order written.

The `dataplatform` commands of the README's bash blocks run, in order, in a copy of the
checkout (so `new` writes there); the stacks they write then plan cleanly. Every other line
must start with a tool this machine cannot run (the Pulumi CLI, a cloud CLI, kubectl, kind):
a new kind of command in the README fails here until it is run or listed."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
EXTERNAL = {"pulumi", "kind", "k3d", "kubectl", "aws", "gcloud", "python3"}
"""Tools the README uses that need a cluster, a cloud or the Pulumi CLI (python3: the venv
setup, which the suite itself runs in)."""
SUITE = {".venv/bin/pytest", ".venv/bin/pip"}
"""The setup and the test command: this suite is their run."""
FIXTURE_STACKS = REPO / "tests" / "fixtures" / "stacks"
IGNORED = shutil.ignore_patterns(".git", ".venv", ".tools", "__pycache__", "tests", "*.egg-info",
                                 ".chart-data", ".pytest_cache")


def readme_lines() -> list[str]:
    """Each command of the README's bash blocks, continuation lines joined, `&&` split."""
    out: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                out += [part.strip() for part in line.split("&&")]
    return out


def test_every_readme_command_runs_in_a_fresh_copy_in_order(tmp_path):
    clone = tmp_path / "clone"
    shutil.copytree(REPO, clone, ignore=IGNORED)
    # The README on the examples as shipped (the fixtures), whatever a consultant made of
    # stacks/: deleted, edited, or a customer named like the README's own.
    shutil.rmtree(clone / "stacks", ignore_errors=True)
    shutil.copytree(FIXTURE_STACKS, clone / "stacks")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAPLATFORM_")}
    ran = []
    for line in readme_lines():
        argv = shlex.split(line)
        tool = argv[0].removeprefix(".venv/bin/")
        if argv[0] in SUITE or tool in EXTERNAL:
            continue
        assert tool == "dataplatform", f"README command nobody runs or lists: {line}"
        proc = subprocess.run([sys.executable, "-m", "dataplatform.cli", *argv[1:]], cwd=clone,
                              env=env, capture_output=True, text=True)
        assert proc.returncode == 0, f"{line}\n{proc.stdout}\n{proc.stderr}"
        ran.append(line)
    assert any("new domain hr" in line for line in ran), ran
    written = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml")
                     for p in (clone / "stacks").glob("Pulumi.hooli-*.yaml"))
    assert "hooli-hr-prod" in written and "hooli-platform-prod" in written, written
    proc = subprocess.run([sys.executable, "-m", "dataplatform.cli", "plan", *written],
                          cwd=clone, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count("Plan of stack 'hooli-") == len(written)
