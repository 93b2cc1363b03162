"""`dataplatform plan`: one stack or many, in one process or across cores.

`plan_stacks` hands the stacks to one `Planner` (planner.py), which shares the imports,
the policy pack and the platform plans between them; or, when several cores help, to
worker processes with a planner each. The outcomes come back per stack, in the order
asked, each with its own output, messages and exit code; `print_outcomes` prints them.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import sys
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import util as mp_util
from typing import Any

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
                jobs: int | None = None) -> Generator[Outcome, None, None]:
    """Each stack's outcome, in the order of `stacks` (platform stacks are best first:
    a worker then has their plans when its domains reference them).

    Interrupted (Ctrl-C), closed early or failing, it stops its policy pack, or its
    workers and theirs, before it lets the exception through."""
    workers = workers_for(len(stacks), jobs)
    if workers == 1:
        with Planner(options) as planner:
            _planners.add(planner)
            try:
                for stack in stacks:
                    yield planner.plan(stack)
            finally:
                _planners.discard(planner)
        return
    # spawn, not fork: a forked child would inherit the parent's gRPC and asyncio state.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                               initargs=(options,))
    _pools.add(pool)
    try:
        futures = [pool.submit(_plan_in_worker, stack) for stack in stacks]
        for future in futures:
            yield future.result()
    except BaseException:
        # The workers first: a plain shutdown would wait for the stacks being planned.
        _terminate(pool)
        raise
    finally:
        _pools.discard(pool)
    pool.shutdown()


# What this process runs now, for `stop_now()`.
_planners: set[Planner] = set()
_pools: set[ProcessPoolExecutor] = set()


def stop_now() -> None:
    """Kill the policy packs of this process's planners and stop its workers: for a
    Ctrl-C that could not unwind (see `dataplatform.cli`), from any thread."""
    for planner in list(_planners):
        _kill_pack(planner)
    for pool in list(_pools):
        _terminate(pool)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop the pool's workers now; each kills its policy pack on SIGTERM (_on_sigterm)."""
    workers = list((pool._processes or {}).values())  # 3.14: pool.terminate_workers()
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(timeout=10)
        if worker.exitcode is None:
            worker.kill()
            worker.join()
    # The workers are gone: the pool's thread sees it at once, and lets go of the queues
    # (whose semaphores multiprocessing's resource tracker would report as leaked).
    pool.shutdown(wait=True, cancel_futures=True)


def _kill_pack(planner: Planner | None) -> None:
    """SIGKILL the planner's policy pack, if it runs. With os.kill, not Popen's methods:
    the caller (a signal handler, another thread) may have interrupted them, holding their
    lock."""
    proc = planner.pack.proc if planner is not None and planner.pack is not None else None
    if proc is not None and proc.returncode is None:  # not reaped: the pid is still its
        with contextlib.suppress(OSError):
            os.kill(proc.pid, signal.SIGKILL)


_worker: Planner | None = None


def _on_sigterm(signum: int, frame: Any) -> None:
    """The parent stops this worker (Ctrl-C, a closed pipe): kill the policy pack, leave
    without a word (no traceback, no teardown)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once is enough
    _kill_pack(_worker)
    os._exit(128 + signum)


def _start_worker(options: Options) -> None:
    global _worker
    # Ctrl-C reaches the whole process group: the parent alone handles it, and stops the
    # workers with SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
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
