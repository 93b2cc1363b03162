"""`dataplatform plan`: one stack or many, in one process or across cores.

`plan_stacks` hands the stacks to one `Planner` (planner.py), which shares the imports,
the policy pack and the platform plans between them; or, when several cores help, to
worker processes with a planner each. The outcomes come back per stack, in the order
asked, each with its own output, messages and exit code; `print_outcomes` prints them.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import util as mp_util

from dataplatform.plan.planner import EXIT_OK, Options, Outcome, Planner

STACKS_PER_WORKER = 4
"""A worker pays about a second to start (imports, its pack, its platform plans): fewer
stacks than this per core run faster in one process."""


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
