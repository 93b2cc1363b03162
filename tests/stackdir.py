"""The tests' stack folders, and StackDir, a throw-away one (the `stacks` fixture;
module-scoped fixtures import it from here, since `conftest` names two modules in this tree).

- FIXTURE_STACKS (tests/fixtures/stacks): what the suite plans. tests/conftest.py points
  `$DATAPLATFORM_STACKS_DIR` here, so every default `stacks_dir` and `--stacks-dir` reads it.
- SHIPPED_STACKS (stacks/): the examples a consultant may edit or delete; only the tests
  about the examples themselves read it, over `shipped_examples()`.

No project module is imported at the top: conftest imports this before it sets the
variable the project's modules read when they are imported.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from dataplatform.plan.engine import Plan

FIXTURE_STACKS = Path(__file__).resolve().parent / "fixtures" / "stacks"
SHIPPED_STACKS = Path(__file__).resolve().parents[1] / "stacks"  # layout.PROJECT_STACKS_DIR


def shipped_examples() -> list[Any]:
    """Parameters of a test about the shipped examples: the stacks stacks/ holds at
    collection time, or one skipped case saying there are none (all deleted)."""
    from foundation.config.loader import available_stacks

    return available_stacks(SHIPPED_STACKS) or [pytest.param(
        None, id="no-shipped-stacks",
        marks=pytest.mark.skip(reason="no shipped stacks in stacks/: nothing to check"))]


class StackDir:
    """A temporary stacks folder, seeded with the fixture stacks."""

    def __init__(self, path: Path):
        self.path = path
        for f in FIXTURE_STACKS.glob("Pulumi.*.yaml"):
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
        """The `dataplatform:` config of a fixture stack (a shipped stack as the tests know
        it), keys without the namespace."""
        data = yaml.safe_load((FIXTURE_STACKS / f"Pulumi.{stack}.yaml").read_text())["config"]
        return {k.split(":", 1)[1]: v for k, v in data.items() if k.startswith("dataplatform:")}

    def on_own_cluster(self, cfg: dict, **cluster) -> dict:
        """A domain's `cfg` moved onto a cluster of its own: it then runs its front door's
        external-dns and DNS-01 solver, which need the zone its platform names."""
        cfg.pop("platform", None)
        cfg["cluster"] = {"mode": "dedicated", **cluster}
        door = cfg.get("frontDoor") or {}
        if door.get("enabled") and cfg.get("cloud") == "aws":
            zone = self.shipped("aws-platform")["frontDoor"]["dns"]["route53ZoneId"]
            door["dns"] = {**door.get("dns", {}), "route53ZoneId": zone}
        return cfg

    def plan(self, stack: str) -> Plan:
        from dataplatform.plan.engine import plan_stack

        return plan_stack(stack, self.path)
