"""Shared fixtures: offline plans of the shipped stacks, and throw-away stack folders."""

from __future__ import annotations

import fcntl
import os
import pickle
from pathlib import Path

import pytest
from stackdir import StackDir

from dataplatform.plan.engine import Plan, plan_stack

REPO = Path(__file__).resolve().parents[1]
_PLANS: dict[str, Plan] = {}


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
    """Plan of a shipped stack, computed once per test session (with pytest-xdist, by the
    first worker that needs it; the others read it back)."""

    def get(stack: str) -> Plan:
        if stack not in _PLANS:
            _PLANS[stack] = _plan_once(stack, _shared_plans)
        return _PLANS[stack]

    return get


def _plan_once(stack: str, shared: Path | None) -> Plan:
    if shared is None:
        return plan_stack(stack)
    with open(shared / f"{stack}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one worker plans; the others wait, then read
        done = shared / f"{stack}.pickle"
        if done.exists():
            return pickle.loads(done.read_bytes())
        plan = plan_stack(stack)
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

    count = chart_data_skips(terminalreporter.stats.get("skipped", []))
    if count:
        terminalreporter.write_sep("!", summary_line(count), red=True, bold=True)
