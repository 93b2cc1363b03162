"""`dataplatform plan`: one stack or many, in one process or across cores.

A `Planner` plans stacks one after another and shares what they have in common: the
imports, one policy pack process (launched first, so it starts while the program runs),
and the plans of referenced platform stacks. `plan_stacks` hands a batch to one planner,
or, when several cores help, to worker processes with a planner each; the outcomes come
back per stack, in the order asked, each with its own output, messages and exit code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import multiprocessing
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import util as mp_util
from pathlib import Path
from typing import Any

from foundation.config import ConfigError
from foundation.config.loader import STACKS_DIR, stack_file

EXIT_OK, EXIT_POLICY, EXIT_CONFIG = 0, 1, 2
STACKS_PER_WORKER = 4
"""A worker pays about a second to start (imports, its pack, its platform plans): fewer
stacks than this per core run faster in one process."""


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


class Planner:
    """Plans stacks in this process, sharing one policy pack and the platform plans."""

    def __init__(self, options: Options):
        from dataplatform.plan.engine import Plan
        from dataplatform.plan.policy import PolicyPackClient

        self.options = options
        self.cache: dict[str, Plan] = {}
        self.pack: PolicyPackClient | None = PolicyPackClient() if options.policy else None

    def _launch_pack(self) -> None:
        """Start the pack once a stack file proved valid: it boots on the other core while
        the program runs (a refused file never pays for it)."""
        if self.pack is not None and self.pack.proc is None:
            self.pack.launch()

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
        handler.setFormatter(logging.Formatter("%(message)s"))
        logging.getLogger().addHandler(handler)
        try:
            with contextlib.redirect_stderr(err):
                outcome = self._plan(stack)
        finally:
            logging.getLogger().removeHandler(handler)
        outcome.err = err.getvalue()
        return outcome

    def _plan(self, stack: str) -> Outcome:
        from dataplatform.plan.engine import plan_stack
        from dataplatform.plan.render import to_json, to_text

        opts = self.options
        try:
            plan = plan_stack(stack, opts.stacks_dir, cache=self.cache,
                              on_valid=self._launch_pack)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return Outcome(stack, EXIT_CONFIG)
        except ValueError as exc:
            # Components validate their arguments before creating any child.
            print(f"{stack_file(stack, opts.stacks_dir)}: {exc}", file=sys.stderr)
            return Outcome(stack, EXIT_CONFIG)
        if self.pack is not None:
            findings = self._check(plan)
            if isinstance(findings, int):
                return Outcome(stack, findings)
            # A copy: the plan itself may sit in the cache of referenced platform plans.
            plan = dataclasses.replace(plan, policy=[*plan.policy, *findings])
        mandatory = [f for f in plan.policy if f["level"] == "mandatory"]
        data = plan.as_json()
        return Outcome(stack, EXIT_POLICY if mandatory else EXIT_OK,
                       to_json(plan) if opts.as_json else to_text(plan), plan_json=data)

    def _check(self, plan: Any) -> list[dict[str, str]] | int:
        """The pack's findings on `plan`, or an exit code when it could not be checked."""
        from dataplatform.plan.policy import PolicyConfigError, PolicyPackError, check_plan

        opts, extra = self.options, []
        if opts.rendered:
            from dataplatform.rendered import RenderError, as_planned, render_stack

            try:
                extra = as_planned(render_stack(plan.stack, opts.stacks_dir, opts.charts, plan))
            except RenderError as exc:
                print(f"render: {exc}", file=sys.stderr)
                return EXIT_CONFIG
        try:
            return check_plan(plan, opts.stacks_dir, opts.policy_config, pack=self.pack,
                              extra=extra)
        except PolicyConfigError as exc:
            print(exc, file=sys.stderr)
            return EXIT_CONFIG
        except PolicyPackError as exc:
            # Fail closed: a plan the guardrails could not check does not pass.
            print(f"policy pack failed, the plan is not checked: {exc}", file=sys.stderr)
            return EXIT_POLICY


def workers_for(count: int, jobs: int | None = None) -> int:
    """Processes for `count` stacks: `jobs` if given, else one per core that gets at least
    STACKS_PER_WORKER stacks (1 means: plan in this process)."""
    if jobs is not None:
        return max(1, min(jobs, count))
    return max(1, min(os.cpu_count() or 1, count // STACKS_PER_WORKER))


def plan_stacks(stacks: Sequence[str], options: Options,
                jobs: int | None = None) -> Iterator[Outcome]:
    """Each stack's outcome, in the order of `stacks` (platform stacks are best first:
    a worker then has their plans when its domains reference them)."""
    workers = workers_for(len(stacks), jobs)
    if workers == 1:
        with Planner(options) as planner:
            for stack in stacks:
                yield planner.plan(stack)
        return
    # spawn, not fork: a forked child would inherit the parent's gRPC and asyncio state.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(options,)) as pool:
        futures = [pool.submit(_plan_in_worker, stack) for stack in stacks]
        for future in futures:
            yield future.result()


_worker: Planner | None = None


def _start_worker(options: Options) -> None:
    global _worker
    _worker = Planner(options)
    # Pool workers leave through os._exit: a multiprocessing finalizer still runs there,
    # and stops this worker's policy pack.
    mp_util.Finalize(_worker, _worker.close, exitpriority=10)


def _plan_in_worker(stack: str) -> Outcome:
    assert _worker is not None  # set by the pool's initializer
    return _worker.plan(stack)


def print_outcomes(outcomes: Iterator[Outcome], *, batch: bool, as_json: bool) -> int:
    """Print each outcome as it comes; the worst exit code.

    One stack prints as it always has. A batch prints each stack's messages on stderr,
    prefixed with `[stack] `, and its plan on stdout under a `=== stack ===` header; with
    `--json`, one document: `{"exit": worst, "stacks": [{stack, exit, plan, messages}]}`.
    """
    worst, collected = EXIT_OK, []
    for outcome in outcomes:
        worst = max(worst, outcome.code)
        if as_json and batch:
            collected.append(outcome.as_json())
        if batch:
            for line in outcome.err.splitlines():
                print(f"[{outcome.stack}] {line}", file=sys.stderr)
        elif outcome.err:
            print(outcome.err, end="", file=sys.stderr)
        if outcome.out and not (as_json and batch):
            if batch:
                print(f"=== {outcome.stack} (exit {outcome.code}) ===")
            print(outcome.out, flush=True)
    if as_json and batch:
        print(json.dumps({"exit": worst, "stacks": collected}, indent=2, sort_keys=True))
    return worst
