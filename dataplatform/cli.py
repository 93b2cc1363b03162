"""`dataplatform`: the command line of the accelerator.

    dataplatform plan STACK [--json]    offline plan under the mock engine, with the policy pack
    dataplatform plan A B ... | --all | --affected BASE    a batch (per-stack output, all cores)
    dataplatform render STACK           render every Helm release with its pinned chart, validate
    dataplatform stacks                 list the stacks in stacks/
    dataplatform affected --base REF    the stacks a git change touches (for CI)
    dataplatform new customer NAME ...  stack files for a new customer
    dataplatform new domain NAME ...    a stack file for one more domain
    dataplatform docs [--check]         regenerate docs/reference/ (or check it is current)
    dataplatform footprints [--check]   the apps' pinned CPU/memory (profiles/footprints.yaml)
    dataplatform chart-keys [--check]   the pinned charts' values keys (chart-keys/)
    dataplatform status STACK [--wait]  after `pulumi up`: app states, URLs, admin Secrets, alerts
    dataplatform chart-data [--from DIR]  the pinned charts' data for the checks (.chart-data/)

Exit codes: 0 done; 1 a mandatory policy is violated (docs --check: a reference file is
stale); 2 invalid config or input, unknown stack, git error, a file that exists, or a file
or folder that cannot be read or written (a message, never a traceback); 130 interrupted
(Ctrl-C); 141 the reader of the output went away (`plan | head`), quietly. A batch exits
with the worst code of its stacks.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

# Only light imports here: `run()` checks the temporary directory before the SDKs load.
from foundation.layout import STACKS_DIR
from foundation.layout import display as _display

if TYPE_CHECKING:
    pass

EXIT_OK, EXIT_POLICY, EXIT_CONFIG = 0, 1, 2
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130, as a shell reports Ctrl-C
EXIT_CLOSED_PIPE = 128 + signal.SIGPIPE  # 141, as for a command killed by SIGPIPE
TEMP_VARS = ("TMPDIR", "TEMP", "TMP")  # the variables `tempfile` reads, in its order


def _os_error(exc: OSError) -> str:
    """`file: reason` for an OS error, in one line."""
    reason = exc.strerror or str(exc)
    return f"{_display(exc.filename)}: {reason}" if exc.filename else reason


def _offline_plan(args: argparse.Namespace):
    """The stack's offline plan, or the exit code after printing why there is none."""
    from dataplatform.plan.engine import plan_stack
    from foundation.config import ConfigError
    from foundation.config.loader import stack_file

    try:
        return plan_stack(args.stack, args.stacks_dir)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
    except ValueError as exc:
        # Components validate their arguments before creating any child.
        print(f"{stack_file(args.stack, args.stacks_dir)}: {exc}", file=sys.stderr)
    return EXIT_CONFIG


def _plan(args: argparse.Namespace) -> int:
    from dataplatform.plan.batch import Options, plan_stacks, print_outcomes

    stacks = _selected(args)
    if isinstance(stacks, int):
        return stacks
    options = Options(args.stacks_dir, policy=not args.no_policy,
                      policy_config=args.policy_config, as_json=args.json,
                      rendered=args.rendered, charts=args.charts)
    batch = bool(args.all or args.affected or len(stacks) != 1)
    outcomes = plan_stacks(stacks, options, args.jobs)
    try:
        return print_outcomes(outcomes, batch=batch, as_json=args.json)
    finally:
        outcomes.close()  # on Ctrl-C or a closed pipe: stop the workers and packs now


def _selected(args: argparse.Namespace) -> list[str] | int:
    """The stacks `plan` was given (named, --all, --affected), or the exit code."""
    if sum(map(bool, (args.stacks, args.all, args.affected))) != 1:
        print("plan: name the stacks, or give --all or --affected BASE (one of them)",
              file=sys.stderr)
        return EXIT_CONFIG
    if args.all:
        from foundation.config.loader import available_stacks

        return available_stacks(args.stacks_dir)
    if not args.affected:
        return list(dict.fromkeys(args.stacks))
    from dataplatform.affected import GitError, affected_stacks

    try:
        result = affected_stacks(Path.cwd(), args.affected, "HEAD")
    except GitError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    for name in result.removed:
        print(f"removed (not planned): {name}", file=sys.stderr)
    if not result.stacks:
        print(f"no stack is affected by the changes since {args.affected}", file=sys.stderr)
    return result.names()


def _render(args: argparse.Namespace) -> int:
    import json

    from dataplatform.rendered import RenderError, render_stack
    from dataplatform.rendered.report import summary_text, write_manifests

    plan = _offline_plan(args)
    if isinstance(plan, int):
        return plan
    try:
        result = render_stack(args.stack, args.stacks_dir, args.charts, plan)
    except RenderError as exc:
        print(f"render: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.out:
        try:
            write_manifests(result, args.out)
        except OSError as exc:
            print(f"render --out: {_os_error(exc)}", file=sys.stderr)
            return EXIT_CONFIG
    print(json.dumps(result.summary(), indent=2) if args.json else summary_text(result))
    return EXIT_POLICY if result.errors else EXIT_OK


def _stacks(args: argparse.Namespace) -> int:
    from foundation.config.loader import available_stacks

    print("\n".join(available_stacks(args.stacks_dir)))
    return EXIT_OK


def _affected(args: argparse.Namespace) -> int:
    import json

    from dataplatform.affected import FilterError, GitError, affected_stacks, check_filters

    if (args.base is None) == (not args.all):
        print("affected: give --base REF, or --all", file=sys.stderr)
        return EXIT_CONFIG
    try:
        # Before git: an unknown --kind or --cloud would select nothing, silently.
        kinds, clouds = check_filters(args.kind, args.cloud)
        result = affected_stacks(args.repo, None if args.all else args.base, args.head,
                                 kinds=kinds, clouds=clouds, deployable=args.deployable)
    except (GitError, FilterError) as exc:
        print(exc if isinstance(exc, GitError) else f"affected {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.json:
        print(json.dumps(result.as_json(), indent=None if args.compact else 2))
        return EXIT_OK
    for name in result.removed:
        print(f"removed (not planned): {name}", file=sys.stderr)
    if result.stacks:
        print("\n".join(result.names()))
    return EXIT_OK


def _docs(args: argparse.Namespace) -> int:
    from dataplatform import docs

    try:
        return EXIT_POLICY if docs.write(check=args.check) else EXIT_OK
    except OSError as exc:
        print(f"docs: {_os_error(exc)}", file=sys.stderr)
        return EXIT_CONFIG


def _footprints(args: argparse.Namespace) -> int:
    from dataplatform import footprints
    from dataplatform.rendered import RenderError

    try:
        return EXIT_POLICY if footprints.write(check=args.check, charts=args.charts) \
            else EXIT_OK
    except (RenderError, footprints.FootprintError) as exc:
        print(f"footprints: {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"footprints: {_os_error(exc)}", file=sys.stderr)
    return EXIT_CONFIG


def _chart_keys(args: argparse.Namespace) -> int:
    from dataplatform import chart_keys

    try:
        stale = chart_keys.write(check=args.check, charts=args.charts)
        return EXIT_POLICY if stale and args.check else EXIT_OK
    except chart_keys.ChartKeysError as exc:
        print(f"chart-keys: {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"chart-keys: {_os_error(exc)}", file=sys.stderr)
    return EXIT_CONFIG


def _chart_data(args: argparse.Namespace) -> int:
    from dataplatform import chart_data

    return chart_data.command(args)


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _new(args: argparse.Namespace) -> int:
    from dataplatform import onboarding as ob
    from dataplatform._onboarding_render import next_steps
    from foundation.config import ConfigError

    try:
        if args.what == "customer":
            stacks = ob.customer_stacks(
                args.name, cloud=args.cloud, region=args.region,
                domains=ob.split_list(args.domains, "domains"),
                environments=ob.split_list(args.environments, "environments"),
                stacks_dir=args.stacks_dir, gcp_project=args.gcp_project,
                labels=ob.Labels(args.owner, args.cost_center),
                kube_context=args.kube_context,
                public_access_cidrs=_csv(args.public_access_cidrs), apps=_csv(args.apps),
                alerts=ob.AlertEmail(args.alert_email, args.smtp_relay))
        else:
            stacks = [ob.domain_stack(args.name, platform=args.platform,
                                      stacks_dir=args.stacks_dir, owner=args.owner,
                                      cost_center=args.cost_center, apps=_csv(args.apps),
                                      alerts=ob.AlertEmail(args.alert_email, args.smtp_relay))]
        ob.write(stacks)
    except (ConfigError, ob.OnboardingError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    written = [(s.name, s.display, s.summary) for s in stacks]
    default_dir = args.stacks_dir.resolve() == STACKS_DIR.resolve()
    plan_args = "" if default_dir else f" --stacks-dir {args.stacks_dir}"
    print(next_steps(written, ob.stack_secret_keys(), ob.notes(stacks), plan_args))
    return EXIT_OK


def _add_new(sub: argparse._SubParsersAction) -> None:
    new = sub.add_parser("new", help="write stack files for a new customer or domain")
    kinds = new.add_subparsers(dest="what", required=True)
    customer = kinds.add_parser(
        "customer", help="platform + domain stacks per environment of a new customer")
    customer.add_argument("name", help="customer short name (at most 16 characters)")
    customer.add_argument("--cloud", required=True, choices=["aws", "gcp", "local"])
    customer.add_argument("--region", help="cloud region (aws, gcp)")
    customer.add_argument("--domains", required=True, help="comma-separated, e.g. sales,hr")
    customer.add_argument("--environments", required=True,
                          help="comma-separated, e.g. dev,prod (prod, production, prd and "
                               "live get the prod profile, others dev)")
    customer.add_argument("--gcp-project", help="GCP project id; {env} is replaced by "
                                                "the environment")
    customer.add_argument("--public-access-cidrs", metavar="CIDRS",
                          help="aws/gcp: CIDRs allowed on the cluster API endpoint (your CI "
                               "runners, VPN); default: aws private endpoint only, gcp a "
                               "placeholder to replace")
    customer.add_argument("--kube-context",
                          help="cloud local: kubeconfig context (default kind-<customer>)")
    domain = kinds.add_parser("domain", help="one more domain on an existing platform stack")
    domain.add_argument("name", help="domain name (at most 20 characters)")
    domain.add_argument("--platform", required=True, metavar="STACK",
                        help="the customer's platform stack for the environment")
    for p in (customer, domain):
        p.add_argument("--stacks-dir", type=Path, default=STACKS_DIR,
                       help="folder of the stack files (default: the project's stacks/)")
        p.add_argument("--owner", help="owning team label (default: a placeholder)")
        p.add_argument("--cost-center", help="cost center label (default: a placeholder)")
        p.add_argument("--apps", help="comma-separated built-in apps to enable "
                                      "(default: none)")
        p.add_argument("--alert-email", metavar="ADDRESS",
                       help="prod: where the alerts go, by email (default: a placeholder)")
        p.add_argument("--smtp-relay", metavar="HOST:PORT",
                       help="prod: the SMTP relay the alert emails go through "
                            "(default: a placeholder)")
        p.set_defaults(func=_new)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dataplatform", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="plan stacks offline (no CLI, credentials or cluster)")
    plan.add_argument("stacks", nargs="*", metavar="STACK",
                      help="stack names: stacks/Pulumi.<stack>.yaml (several: one batch)")
    plan.add_argument("--all", action="store_true", help="every stack of --stacks-dir")
    plan.add_argument("--affected", metavar="BASE",
                      help="the stacks the changes since BASE touch (as `affected --base`)")
    plan.add_argument("--jobs", type=int, metavar="N",
                      help="worker processes for a batch (default: one per core, when each "
                           "gets several stacks)")
    plan.add_argument("--json", action="store_true", help="machine-readable output")
    plan.add_argument("--stacks-dir", type=Path, default=STACKS_DIR,
                      help="folder of the stack files (default: the project's stacks/)")
    plan.add_argument("--no-policy", action="store_true",
                      help="skip the policy pack (policies/); no findings, no exit code 1")
    plan.add_argument("--policy-config", type=Path, default=None, metavar="FILE",
                      help="policy pack config (the --policy-pack-config format) "
                           "(default: policies/config/<stack>.json when it exists)")
    plan.add_argument("--rendered", action="store_true",
                      help="also render every Helm release (see `render`) and pass the "
                           "chart-made objects to the policy pack")
    plan.add_argument("--charts", type=Path, metavar="DIR",
                      help="chart folder for --rendered (as `render --charts`)")
    plan.set_defaults(func=_plan)
    render = sub.add_parser("render", help="render every Helm release of a stack with its "
                                           "pinned chart, and validate the objects")
    render.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml")
    render.add_argument("--out", type=Path, metavar="DIR",
                        help="write one manifest file per release into DIR")
    render.add_argument("--json", action="store_true", help="machine-readable summary")
    render.add_argument("--charts", type=Path, metavar="DIR",
                        help="chart folder (default: $DATAPLATFORM_CHARTS, ../shared/charts/src,"
                             " then Helm's repository cache)")
    render.add_argument("--stacks-dir", type=Path, default=STACKS_DIR)
    render.set_defaults(func=_render)
    stacks = sub.add_parser("stacks", help="list the stacks in stacks/")
    stacks.add_argument("--stacks-dir", type=Path, default=STACKS_DIR)
    stacks.set_defaults(func=_stacks)
    affected = sub.add_parser("affected", help="the stacks a git change touches, platform "
                                               "stacks first (for CI)")
    affected.add_argument("--base", metavar="REF", help="compare BASE...HEAD (merge base)")
    affected.add_argument("--head", metavar="REF", default="HEAD", help="default: HEAD")
    affected.add_argument("--all", action="store_true", help="every stack (no diff)")
    affected.add_argument("--json", action="store_true",
                          help="stacks, removed stacks, reasons and a GitHub matrix")
    affected.add_argument("--compact", action="store_true", help="JSON on one line")
    affected.add_argument("--kind", help="only these kinds, e.g. platform or domain")
    affected.add_argument("--cloud", help="only these clouds, e.g. aws,gcp")
    affected.add_argument("--deployable", action="store_true",
                          help="leave out the example stacks (`example: true`): for deploys")
    affected.add_argument("--repo", type=Path, default=Path.cwd(),
                          help="the git checkout of the project (default: the current folder)")
    affected.set_defaults(func=_affected)
    _add_new(sub)
    docs = sub.add_parser("docs", help="regenerate the schema of the stack files and the "
                                       "component reference (docs/reference/)")
    docs.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 when a generated file is stale (CI)")
    docs.set_defaults(func=_docs)
    fp = sub.add_parser("footprints", help="measure each domain app's CPU and memory per "
                                           "profile from the rendered charts "
                                           "(profiles/footprints.yaml)")
    fp.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 when the file is stale (CI)")
    fp.add_argument("--charts", type=Path, metavar="DIR", help="chart folder (as `render`)")
    fp.set_defaults(func=_footprints)
    keys = sub.add_parser("chart-keys", help="write the values keys of each pinned chart "
                                             "version (chart-keys/), which the loader checks "
                                             "stack values overrides against")
    keys.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 when a file is stale (CI)")
    keys.add_argument("--charts", type=Path, metavar="DIR",
                      help="one folder of defaults per chart (default: "
                           "../shared/charts/defaults)")
    keys.set_defaults(func=_chart_keys)
    data = sub.add_parser("chart-data", help="pull each pinned chart (or read --from DIR) and "
                                             "refresh the chart data the checks read "
                                             "(defaults/, src/, charts.lock.yaml)")
    data.add_argument("--from", dest="source", type=Path, metavar="DIR",
                      help="charts as <chart>/ folders or <chart>-<version>.tgz files "
                           "(default: `helm pull` from each pinned repository)")
    data.add_argument("--out", type=Path, metavar="DIR", default=None,
                      help="the chart data folder to refresh (default: .chart-data/)")
    data.add_argument("--chart", action="append", default=[], metavar="NAME",
                      help="only this pinned chart (repeatable; default: every one)")
    data.add_argument("--allow-repackage", action="append", default=[], metavar="NAME",
                      help="accept this chart with another appVersion than the lock's")
    data.set_defaults(func=_chart_data)
    from dataplatform.status.command import add_parser as add_status

    add_status(sub, STACKS_DIR)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


def _temp_dir_problem() -> str | None:
    """Why no temporary file can be made, or None. Importing the SDKs needs one; `tempfile`
    would silently pass over a TMPDIR that does not work, or fail deep in an import."""
    import tempfile

    var = next((v for v in TEMP_VARS if os.environ.get(v)), None)
    fix = "point TMPDIR at a writable folder (e.g. `export TMPDIR=$HOME/tmp`)"
    try:
        if var is None:
            tempfile.gettempdir()  # raises when no candidate folder takes a file
            return None
        with tempfile.TemporaryFile(dir=os.environ[var]):
            return None
    except OSError as exc:
        if var is None:
            return f"dataplatform: no usable temporary folder ({exc.strerror or exc}): {fix}"
        return (f"dataplatform: temporary folder {os.environ[var]} (from {var}) is not "
                f"usable: {exc.strerror or exc}; {fix}, or unset {var}")


_interrupted = threading.Event()
_leaving = threading.Lock()  # one way out: run()'s end, or the interrupt watchdog
INTERRUPT_GRACE = 3.0
"""Seconds Ctrl-C gets to unwind before the command leaves anyway."""
INTERRUPTED = b"dataplatform: interrupted\n"


def _on_sigint(signum: int, frame: Any) -> None:
    """Ctrl-C: unwind (stopping workers and policy packs on the way), within
    INTERRUPT_GRACE seconds. A second Ctrl-C is ignored, so the clean-up is not cut short:
    the watchdog is the way out. The SDK's runtime can catch the KeyboardInterrupt in a
    program and wait forever for the calls it interrupted; then the watchdog leaves."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _interrupted.set()
    threading.Timer(INTERRUPT_GRACE, _leave_interrupted).start()
    raise KeyboardInterrupt


def _leave_interrupted() -> None:
    """The watchdog: kill the policy packs, stop the workers, exit 130."""
    _leaving.acquire()  # never released: the process ends here or in run()
    batch = sys.modules.get("dataplatform.plan.batch")
    if batch is not None:
        batch.stop_now()
    with contextlib.suppress(OSError):  # not sys.stderr: a plan may have redirected it
        os.write(2, INTERRUPTED)
    os._exit(EXIT_INTERRUPTED)


def _say(message: str) -> None:
    """One line on stderr, even when stderr is gone."""
    with contextlib.suppress(OSError):
        print(message, file=sys.stderr, flush=True)


def _quiet_stdout() -> None:
    """The reader went away: send what is left in stdout's buffer nowhere (the Python
    docs' advice for BrokenPipeError), so the final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def run() -> NoReturn:
    """The `dataplatform` command: `main()`, then out without the interpreter's teardown.

    Tearing down the SDKs' tens of thousands of objects takes 0.3-0.5 s, a third of a
    plan; everything that must outlive the command (output, packs, workers, temporary
    files) is flushed or stopped by then. Never a traceback: Ctrl-C exits 130 with one
    line, a closed pipe exits quietly, an OS error names its file.
    """
    if problem := _temp_dir_problem():
        _say(problem)
        os._exit(EXIT_CONFIG)
    signal.signal(signal.SIGINT, _on_sigint)
    try:
        code = main()
    except SystemExit as exc:  # argparse's usage errors and --help
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        if exc.code is not None and not isinstance(exc.code, int):
            _say(str(exc.code))
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        code = EXIT_CLOSED_PIPE
    except OSError as exc:  # the last resort: the commands name their own files first
        _say(f"dataplatform: {_os_error(exc)}")
        code = EXIT_CONFIG
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        code = EXIT_CLOSED_PIPE
    except OSError:
        pass
    _leaving.acquire()  # the watchdog may be on its way out already
    if _interrupted.is_set():  # even if the SDK swallowed the KeyboardInterrupt
        code = EXIT_INTERRUPTED
        # A stopped pool's queues are garbage now: collected, their semaphores are
        # released, and multiprocessing's resource tracker does not warn of leaks.
        gc.collect()
        _say(INTERRUPTED.decode().rstrip())
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
