"""The Pulumi program: one stack file in, its components' Args resolved once, one top
component, its outputs out.

`__main__.py` calls `main()` under the real engine; the offline plan calls `load()` and
`build()` under the mock engine. Both validate the stack file and resolve it before any
resource exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from components.stacks import DomainStack, PlatformStack
from components.stacks.args import DomainStackArgs, PlatformStackArgs
from dataplatform.resolve import resolve
from foundation.config import ConfigError, StackConfig, load_stack_config
from foundation.config.base import RuleViolations
from foundation.config.loader import PROJECT, STACKS_DIR, Problem, _display, stack_file
from foundation.layout import PROJECT_STACKS_DIR


@dataclass(frozen=True)
class LoadedStack:
    """A stack file, validated, and the Args of its top component."""

    cfg: StackConfig
    args: PlatformStackArgs | DomainStackArgs
    name: str = ""
    """The stack's name (`Pulumi.<name>.yaml`)."""


def load(stack: str, stacks_dir: Path = STACKS_DIR) -> LoadedStack:
    """The validated config of `stack` and the Args resolved from it, or ConfigError."""
    path = stack_file(stack, stacks_dir)
    return resolved(load_stack_config(stack, stacks_dir), path, stack)


def resolved(cfg: StackConfig, path: Path, name: str = "") -> LoadedStack:
    """`cfg` with its Args; the rules of the resolve step as a ConfigError on `path`."""
    try:
        return LoadedStack(cfg, resolve(cfg), name)
    except RuleViolations as exc:
        raise ConfigError(_display(path), [Problem(f"{PROJECT}:{k}", m)
                                           for k, m in exc.problems]) from None


def build(stack: LoadedStack) -> dict[str, Any]:
    """Create the stack's top component and return the stack outputs."""
    name, args = stack.cfg.naming.base, stack.args
    if isinstance(args, PlatformStackArgs):
        return PlatformStack(name, args).exports
    return DomainStack(name, args).exports


def main() -> None:
    """Entry point under `pulumi up`/`preview`: validate, resolve, build, export."""
    import sys

    try:
        # The folder `pulumi` reads (stackConfigDir), never $DATAPLATFORM_STACKS_DIR: the
        # program must build the very file whose config and secrets the engine holds.
        stack = load(pulumi.get_stack(), PROJECT_STACKS_DIR)
    except ConfigError as exc:
        # A clean message and exit code 2 instead of a traceback, before any resource.
        print(exc, file=sys.stderr)
        sys.exit(2)
    for key, value in build(stack).items():
        pulumi.export(key, value)
