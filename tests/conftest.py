"""Shared fixtures: offline plans of the shipped stacks, and throw-away stack folders."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from dataplatform.config.loader import STACKS_DIR
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


class StackDir:
    """A temporary stacks/ folder, seeded with the shipped stack files."""

    def __init__(self, path: Path):
        self.path = path
        for f in STACKS_DIR.glob("Pulumi.*.yaml"):
            shutil.copy(f, path / f.name)

    def write(self, stack: str, config: dict | str) -> Path:
        target = self.path / f"Pulumi.{stack}.yaml"
        if isinstance(config, str):
            target.write_text(textwrap.dedent(config))
        else:
            body = {"config": {f"dataplatform:{k}": v for k, v in config.items()}}
            target.write_text(yaml.safe_dump(body, sort_keys=False))
        return target

    def shipped(self, stack: str) -> dict:
        """The `dataplatform:` config of a shipped stack, keys without the namespace."""
        data = yaml.safe_load((STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
        return {k.split(":", 1)[1]: v for k, v in data.items() if k.startswith("dataplatform:")}

    def plan(self, stack: str) -> Plan:
        return plan_stack(stack, self.path)


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
