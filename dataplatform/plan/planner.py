"""`Planner`: what `dataplatform plan` does to one stack, with what stacks share kept.

For each stack: validate its file, start its policy check, plan it, finish the check,
print it. What a planner keeps across stacks: the imports, one policy pack process
(launched on the first valid stack, so it boots beside that stack's program), and the
plans of platform stacks (referenced or planned themselves).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foundation.config import ConfigError
from foundation.config.loader import STACKS_DIR, _display, stack_file

if TYPE_CHECKING:
    from dataplatform.plan._streamed import StreamedCheck
    from dataplatform.plan.engine import Plan
    from dataplatform.plan.policy import PolicyPackClient
    from dataplatform.program import LoadedStack

EXIT_OK, EXIT_POLICY, EXIT_CONFIG = 0, 1, 2


@dataclass(frozen=True)
class Options:
    """What `dataplatform plan` was asked for, the same for every stack of a batch."""

    stacks_dir: Path = STACKS_DIR
    policy: bool = True
    policy_config: Path | None = None
    as_json: bool = False
    rendered: bool = False
    charts: Path | None = None


@dataclass
class Outcome:
    """One stack's result: its exit code, its printed plan, and its messages."""

    stack: str
    code: int
    out: str = ""
    """The plan as text, or as JSON (`--json`); empty when there is no plan."""
    err: str = ""
    """What the stack wrote on stderr: config errors, warnings of the program."""
    plan_json: dict[str, Any] | None = field(default=None, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "exit": self.code, "plan": self.plan_json,
                "messages": self.err.splitlines()}


class _Formatter(logging.Formatter):
    """A warning as its bare message; a note below WARNING (the program's `pulumi.log.info`)
    as `info: <message>`, as the Pulumi CLI shows it: information, not a warning."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        return f"info: {text}" if record.levelno < logging.WARNING else text


class Planner:
    """Plans stacks in this process, sharing one policy pack and the platform plans."""

    def __init__(self, options: Options):
        from dataplatform.plan.policy import PolicyPackClient

        self.options = options
        self.cache: dict[str, Plan] = {}
        self.pack: PolicyPackClient | None = PolicyPackClient() if options.policy else None

    def close(self) -> None:
        if self.pack is not None:
            self.pack.stop()
            self.pack = None

    def __enter__(self) -> Planner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def plan(self, stack: str) -> Outcome:
        """Plan, check and print one stack, with its stderr kept apart."""
        err = io.StringIO()
        # The program's warnings reach the root logger (the mock engine's Log); kept with
        # the stack's other messages whatever handlers the host process has.
        handler = logging.StreamHandler(err)
        handler.setFormatter(_Formatter())
        logging.getLogger().addHandler(handler)
        try:
            with contextlib.redirect_stderr(err):
                outcome = self._plan(stack)
        finally:
            logging.getLogger().removeHandler(handler)
        outcome.err = err.getvalue()
        return outcome

    def _plan(self, stack: str) -> Outcome:
        from dataplatform.plan.esc import esc_notice
        from dataplatform.plan.placeholders import placeholder_warnings
        from dataplatform.plan.render import to_json, to_text
        from dataplatform.program import load

        opts = self.options
        try:
            loaded = load(stack, opts.stacks_dir)
            check = self._start_check(stack, loaded.cfg.profile)
        except (ConfigError, ValueError) as exc:  # a stack or policy config file: named
            print(exc, file=sys.stderr)
            return Outcome(stack, EXIT_CONFIG)
        for warning in placeholder_warnings(loaded.cfg, stack_file(stack, opts.stacks_dir)):
            print(warning, file=sys.stderr)
        path = stack_file(stack, opts.stacks_dir)
        if (notice := esc_notice(path, _display(path))) is not None:
            print(notice, file=sys.stderr)
        try:
            plan = self._run(loaded, check)
        except (ConfigError, ValueError) as exc:
            # Components validate their arguments before creating any child.
            print(exc if isinstance(exc, ConfigError) else
                  f"{stack_file(stack, opts.stacks_dir)}: {exc}", file=sys.stderr)
            return Outcome(stack, EXIT_CONFIG)
        if check is not None:
            findings = self._finish_check(check, plan)
            if isinstance(findings, int):
                return Outcome(stack, findings)
            # A copy: the plan itself may sit in the cache of referenced platform plans.
            plan = dataclasses.replace(plan, policy=[*plan.policy, *findings])
        mandatory = [f for f in plan.policy if f["level"] == "mandatory"]
        return Outcome(stack, EXIT_POLICY if mandatory else EXIT_OK,
                       to_json(plan) if opts.as_json else to_text(plan),
                       plan_json=plan.as_json())

    def _run(self, loaded: LoadedStack, check: StreamedCheck | None) -> Plan:
        from dataplatform.plan.engine import plan_loaded

        try:
            # A platform already planned as a reference is checked, not run again.
            return self.cache.get(loaded.name) or plan_loaded(
                loaded, self.options.stacks_dir, cache=self.cache,
                listener=check.add if check is not None else None)
        except BaseException:
            if check is not None:
                check.close()
            raise

    def _start_check(self, stack: str, profile: str) -> StreamedCheck | None:
        """The stack's policy check, started before its program: the pack boots (once per
        planner) and analyses resources while the program registers them."""
        from dataplatform.plan._streamed import StreamedCheck
        from dataplatform.plan.policy import read_overrides

        if self.pack is None:
            return None
        overrides = read_overrides(stack, self.options.policy_config)
        return StreamedCheck(self.pack, stack, profile, overrides)

    def _finish_check(self, check: StreamedCheck, plan: Plan) -> list[dict[str, str]] | int:
        """The pack's findings on `plan`, or an exit code when it could not be checked."""
        from dataplatform.plan.policy import CONFIG_DIR, PolicyConfigError, PolicyPackError

        opts, extra = self.options, []
        if opts.rendered:
            from dataplatform.rendered import RenderError, as_planned, render_stack

            try:
                extra = as_planned(render_stack(plan.stack, opts.stacks_dir, opts.charts, plan))
            except RenderError as exc:
                check.close()
                print(f"render: {exc}", file=sys.stderr)
                return EXIT_CONFIG
        try:
            return check.finish([*plan.resources, *extra])
        except PolicyConfigError as exc:
            where = opts.policy_config or CONFIG_DIR / f"{plan.stack}.json"
            print(f"{where}: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        except PolicyPackError as exc:
            # Fail closed: a plan the guardrails could not check does not pass.
            print(f"policy pack failed, the plan is not checked: {exc}", file=sys.stderr)
            return EXIT_POLICY
