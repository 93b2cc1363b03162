"""Shared fixtures: offline plans of the fixture stacks (and of the shipped examples), and
throw-away stack folders.

The suite owns its stacks (tests/fixtures/stacks): the shipped examples in stacks/ are a
consultant's to edit or delete. `$DATAPLATFORM_STACKS_DIR` is set here, before any project
module is imported (each binds its default stacks folder at import), so every default
`stacks_dir`, `--stacks-dir` and the CLI subprocesses read the fixtures.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from stackdir import FIXTURE_STACKS, StackDir

if TYPE_CHECKING:
    from dataplatform.plan.engine import Plan

os.environ["DATAPLATFORM_STACKS_DIR"] = str(FIXTURE_STACKS)  # foundation.layout.STACKS_ENV

REPO = Path(__file__).resolve().parents[1]
_PLANS: dict[str, Plan] = {}


def pytest_configure(config):
    """Fail at once, not with ~100 puzzling failures, when a project module was imported
    before the variable was set (a plugin, or an import added above it)."""
    from foundation import layout

    if layout.STACKS_DIR != FIXTURE_STACKS:
        raise pytest.UsageError(
            f"foundation.layout.STACKS_DIR is {layout.STACKS_DIR}, not the test fixtures "
            f"{FIXTURE_STACKS}: a project module was imported before tests/conftest.py set "
            f"${layout.STACKS_ENV}")


@pytest.fixture(scope="session")
def _shared_plans(tmp_path_factory) -> Path | None:
    """Under pytest-xdist, a folder all workers of the session share (else None)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return None
    folder = tmp_path_factory.getbasetemp().parent / "shipped-plans"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def shipped_plan(_shared_plans):
    """Plan of a fixture stack (or of one in `stacks_dir`, e.g. a shipped example), computed
    once per test session (with pytest-xdist, by the first worker that needs it; the others
    read it back). Folders whose stack files say the same share their plans."""

    def get(stack: str, stacks_dir: Path = FIXTURE_STACKS) -> Plan:
        key = f"{_folder_key(stacks_dir)}-{stack}"
        if key not in _PLANS:
            _PLANS[key] = _plan_once(stack, stacks_dir, key, _shared_plans)
        return _PLANS[key]

    return get


def _folder_key(folder: Path) -> str:
    """What a plan in `folder` depends on there: every stack file's content, comments aside
    (a domain plans its platform too), so an unedited shipped example reuses the plan of its
    fixture. A file that does not parse keys by the folder: its plan then fails loudly."""
    try:
        docs = {p.name: yaml.safe_load(p.read_text())
                for p in sorted(folder.glob("Pulumi.*.yaml"))}
        text = json.dumps(docs, sort_keys=True, default=str)
    except (OSError, yaml.YAMLError):
        text = str(folder.resolve())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _plan_once(stack: str, stacks_dir: Path, key: str, shared: Path | None) -> Plan:
    from dataplatform.plan.engine import plan_stack

    if shared is None:
        return plan_stack(stack, stacks_dir)
    with open(shared / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one worker plans; the others wait, then read
        done = shared / f"{key}.pickle"
        if done.exists():
            return pickle.loads(done.read_bytes())
        plan = plan_stack(stack, stacks_dir)
        tmp = done.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(plan))
        tmp.replace(done)
        return plan


@pytest.fixture
def stacks(tmp_path) -> StackDir:
    return StackDir(tmp_path)


@pytest.fixture
def mock_engine():
    """A bare mock engine for tests that resolve Outputs or build one component."""
    import pulumi
    from pulumi.runtime import settings

    from dataplatform.plan.engine import RecordingMonitor
    from dataplatform.plan.mocks import PlatformMocks

    mocks = PlatformMocks()
    monitor = RecordingMonitor(mocks)
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="dataplatform", stack="test", preview=True,
                             monitor=monitor)
    yield monitor
    settings.ROOT.set(None)


@pytest.fixture(scope="session")
def pack():
    """The policy pack in `policies/`, one process per test session (and worker)."""
    from dataplatform.plan.policy import PolicyPackClient

    with PolicyPackClient() as client:
        yield client


def pytest_terminal_summary(terminalreporter):
    """Say, at the end of the run, how many checks skipped for missing chart data."""
    from chart_data import chart_data_skips, summary_line

    skipped = terminalreporter.stats.get("skipped", [])
    count = chart_data_skips(skipped)
    if count:
        terminalreporter.write_sep("!", summary_line(count), red=True, bold=True)
    # The alert rules' promtool unit tests (tests/promtool.py) skip the same way.
    from promtool import GET_HINT, skip_count

    if missed := skip_count(skipped):
        terminalreporter.write_sep("!", f"{missed} promtool check{'s' if missed != 1 else ''}"
                                   f" skipped: no promtool — {GET_HINT}", red=True, bold=True)
