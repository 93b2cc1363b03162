"""StackDir: a throw-away stacks/ folder (the `stacks` fixture; module-scoped fixtures
import it from here, since `conftest` names two modules in this tree)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import yaml

from dataplatform.plan.engine import Plan, plan_stack
from foundation.config.loader import STACKS_DIR


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
