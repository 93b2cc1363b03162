"""The `status` command: arguments, the polling of `--wait`, exit codes.

Exit codes: 0 every app Synced/Healthy (argocd) or deployed (helm); 1 an app is not, the
wait timed out, or the cluster or the backend did not answer; 2 bad input (unknown stack,
with a "did you mean"), no Pulumi CLI, a stack never deployed, an unusable kubeconfig.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from dataplatform.status import StatusError
from dataplatform.status.outputs import (
    EXIT_INPUT,
    EXIT_UNHEALTHY,
    ClusterTarget,
    OutputsReader,
    PulumiCli,
    StackView,
    stack_view,
)

if TYPE_CHECKING:
    from dataplatform.status.cluster import Cluster
    from dataplatform.status.report import Report

EXIT_OK = 0
POLL_SECONDS = 10.0
DEFAULT_TIMEOUT = 600.0


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _connect(target: ClusterTarget) -> Any:
    from dataplatform.status.cluster import connect

    return connect(target)


@dataclass
class Deps:
    """What the command talks to; tests replace each."""

    reader: OutputsReader = field(default_factory=PulumiCli)
    connect: Callable[[ClusterTarget], Any] = _connect
    clock: Clock = field(default_factory=SystemClock)
    out: TextIO | None = None
    err: TextIO | None = None


def add_parser(sub: argparse._SubParsersAction, stacks_dir: Path) -> None:
    p = sub.add_parser("status", help="after `pulumi up`: each app's sync/health or release "
                                      "state, how to reach it, its admin Secret, firing "
                                      "alerts (needs the Pulumi CLI and the cluster)")
    p.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml")
    p.add_argument("--wait", action="store_true",
                   help="poll until every app is Synced/Healthy (or deployed)")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help=f"with --wait: give up after SECONDS (default {DEFAULT_TIMEOUT:.0f})")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.add_argument("--stacks-dir", type=Path, default=stacks_dir)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, deps: Deps | None = None) -> int:
    deps = deps or Deps()
    out, err = deps.out or sys.stdout, deps.err or sys.stderr
    try:
        return _run(args, deps, out, err)
    except StatusError as exc:
        print(exc, file=err)
        return exc.code


def _run(args: argparse.Namespace, deps: Deps, out: TextIO, err: TextIO) -> int:
    from foundation.config import ConfigError, load_stack_config

    if args.timeout is not None and (not args.wait or not args.timeout > 0):
        raise StatusError("status: --timeout takes a number of seconds above 0, with --wait",
                          EXIT_INPUT)
    try:
        cfg = load_stack_config(args.stack, args.stacks_dir)
    except ConfigError as exc:
        raise StatusError(str(exc), EXIT_INPUT) from None
    platform = cfg.platform.stack if cfg.platform else None
    view = stack_view(args.stack, platform, cfg.cluster.kube_context, deps.reader)

    from dataplatform.status.cluster import Cluster, ClusterUnreachable
    from dataplatform.status.report import collect, text

    cluster = Cluster(deps.connect(view.cluster))
    clock = deps.clock
    deadline = clock.now() + (args.timeout or DEFAULT_TIMEOUT)
    polls = 0
    while True:
        polls += 1
        report, unreachable = None, None
        try:
            report = collect(args.stack, view.cluster.source, view.access, cluster)
        except ClusterUnreachable as exc:
            unreachable = str(exc)
        if not args.wait or (report is not None and report.healthy):
            break
        left = deadline - clock.now()
        if left <= 0:
            break
        print(f"status: waiting ({_waiting(report, unreachable)})", file=err)
        clock.sleep(min(POLL_SECONDS, left))
    if report is None:
        timed = f"timed out after {args.timeout or DEFAULT_TIMEOUT:.0f} s: " if args.wait else ""
        raise StatusError(f"status: {timed}cannot reach the cluster ({view.cluster.source}): "
                          f"{unreachable}", EXIT_UNHEALTHY)
    _alerts(report, view, cfg, cluster, ClusterUnreachable)
    print(json.dumps(report.as_json(), indent=2) if args.json else text(report), file=out)
    if report.healthy:
        if args.wait and polls > 1:
            print(f"status: every app is ready (after {polls} polls)", file=err)
        return EXIT_OK
    if args.wait:
        print(f"status: timed out after {args.timeout or DEFAULT_TIMEOUT:.0f} s; still "
              f"waiting: {_waiting(report, None)}", file=err)
    return EXIT_UNHEALTHY


def _waiting(report: Report | None, unreachable: str | None) -> str:
    if report is None:
        return f"the cluster did not answer: {unreachable}"
    return ", ".join(f"{a.name} ({a.state})" for a in report.waiting())


def _alerts(report: Report, view: StackView, cfg: Any, cluster: Cluster,
            unreachable: type[Exception]) -> None:
    from dataplatform.status.report import stack_alerts

    if view.alertmanager is None:
        return
    namespaces = {str(e.get("namespace")) for e in view.access.values()}
    namespaces.update(str(n) for n in view.outputs.get("namespaces") or [])
    try:
        found = cluster.alerts(*view.alertmanager)
    except unreachable as exc:
        report.alerts_error = str(exc)
        return
    report.alerts_checked = True
    domain = cfg.domain if cfg.kind == "domain" else None
    report.alerts = stack_alerts(found, namespaces, domain, f"{cfg.customer}-")
