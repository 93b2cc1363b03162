"""The Pulumi program: one stack config in, one top component, its outputs out.

`__main__.py` calls `main()` under the real engine; the offline plan calls `build()`
under the mock engine. Both validate the stack file before any resource exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi

from dataplatform.config import ConfigError, StackConfig, load_stack_config
from dataplatform.config.loader import PROJECT, STACKS_DIR, Problem, _display, stack_file
from dataplatform.config.model import RuleViolations


def load(stack: str, stacks_dir: Path = STACKS_DIR) -> StackConfig:
    """The validated config of `stack`, its components' arguments checked too."""
    from components.stacks.preflight import preflight

    cfg = load_stack_config(stack, stacks_dir)
    try:
        preflight(cfg)
    except RuleViolations as exc:
        raise ConfigError(_display(stack_file(stack, stacks_dir)),
                          [Problem(f"{PROJECT}:{k}", m) for k, m in exc.problems]) from None
    return cfg


def build(cfg: StackConfig) -> dict[str, Any]:
    """Create the stack's top component and return the stack outputs."""
    from components.stacks import DomainStack, PlatformStack

    top = (PlatformStack if cfg.kind == "platform" else DomainStack)(cfg.naming.base, cfg)
    return top.exports


def main() -> None:
    """Entry point under `pulumi up`/`preview`: validate, build, export."""
    import sys

    try:
        cfg = load(pulumi.get_stack())
    except ConfigError as exc:
        # A clean message and exit code 2 instead of a traceback, before any resource.
        print(exc, file=sys.stderr)
        sys.exit(2)
    for key, value in build(cfg).items():
        pulumi.export(key, value)
