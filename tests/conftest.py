"""Shared fixtures: offline plans of the shipped stacks, and throw-away stack folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from stackdir import StackDir

from dataplatform.plan.engine import Plan, plan_stack

REPO = Path(__file__).resolve().parents[1]
_PLANS: dict[str, Plan] = {}


@pytest.fixture
def shipped_plan():
    """Plan of a shipped stack, computed once per test session."""

    def get(stack: str) -> Plan:
        if stack not in _PLANS:
            _PLANS[stack] = plan_stack(stack)
        return _PLANS[stack]

    return get


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
