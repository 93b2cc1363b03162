"""`dataplatform`: the command line of the accelerator.

    dataplatform plan STACK [--json]    offline plan under the mock engine, with the policy pack
    dataplatform plan A B ... | --all | --affected BASE    a batch (per-stack output, all cores)
    dataplatform render STACK           render every Helm release with its pinned chart, validate
    dataplatform stacks                 list the stacks in stacks/
    dataplatform affected --base REF    the stacks a git change touches (for CI)
    dataplatform new customer NAME ...  stack files for a new customer
    dataplatform new domain NAME ...    a stack file for one more domain
    dataplatform docs [--check]         regenerate docs/reference/ (or check it is current)

Exit codes: 0 done; 1 a mandatory policy is violated (docs --check: a reference file is
stale); 2 invalid config or input, unknown stack, git error, or a file that exists (a
message, never a traceback). A batch exits with the worst code of its stacks.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from foundation.config import ConfigError
from foundation.config.loader import STACKS_DIR, available_stacks, stack_file

EXIT_OK, EXIT_POLICY, EXIT_CONFIG = 0, 1, 2


def _offline_plan(args: argparse.Namespace):
    """The stack's offline plan, or the exit code after printing why there is none."""
    from dataplatform.plan.engine import plan_stack

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
    return print_outcomes(plan_stacks(stacks, options, args.jobs), batch=batch,
                          as_json=args.json)


def _selected(args: argparse.Namespace) -> list[str] | int:
    """The stacks `plan` was given (named, --all, --affected), or the exit code."""
    if sum(map(bool, (args.stacks, args.all, args.affected))) != 1:
        print("plan: name the stacks, or give --all or --affected BASE (one of them)",
              file=sys.stderr)
        return EXIT_CONFIG
    if args.all:
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
        write_manifests(result, args.out)
    print(json.dumps(result.summary(), indent=2) if args.json else summary_text(result))
    return EXIT_POLICY if result.errors else EXIT_OK


def _stacks(args: argparse.Namespace) -> int:
    print("\n".join(available_stacks(args.stacks_dir)))
    return EXIT_OK


def _affected(args: argparse.Namespace) -> int:
    import json

    from dataplatform.affected import GitError, affected_stacks

    if (args.base is None) == (not args.all):
        print("affected: give --base REF, or --all", file=sys.stderr)
        return EXIT_CONFIG
    try:
        result = affected_stacks(args.repo, None if args.all else args.base, args.head,
                                 kinds=_csv(args.kind), clouds=_csv(args.cloud))
    except GitError as exc:
        print(exc, file=sys.stderr)
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

    return EXIT_POLICY if docs.write(check=args.check) else EXIT_OK


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _new(args: argparse.Namespace) -> int:
    from dataplatform import onboarding as ob
    from dataplatform._onboarding_render import next_steps

    try:
        if args.what == "customer":
            stacks = ob.customer_stacks(
                args.name, cloud=args.cloud, region=args.region,
                domains=ob.split_list(args.domains, "domains"),
                environments=ob.split_list(args.environments, "environments"),
                stacks_dir=args.stacks_dir, gcp_project=args.gcp_project,
                labels=ob.Labels(args.owner, args.cost_center),
                kube_context=args.kube_context,
                public_access_cidrs=_csv(args.public_access_cidrs), apps=_csv(args.apps))
        else:
            stacks = [ob.domain_stack(args.name, platform=args.platform,
                                      stacks_dir=args.stacks_dir, owner=args.owner,
                                      cost_center=args.cost_center, apps=_csv(args.apps))]
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
    affected.add_argument("--repo", type=Path, default=Path.cwd(),
                          help="the git checkout of the project (default: the current folder)")
    affected.set_defaults(func=_affected)
    _add_new(sub)
    docs = sub.add_parser("docs", help="regenerate the schema of the stack files and the "
                                       "component reference (docs/reference/)")
    docs.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 when a generated file is stale (CI)")
    docs.set_defaults(func=_docs)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


def run() -> NoReturn:
    """The `dataplatform` command: `main()`, then out without the interpreter's teardown.

    Tearing down the SDKs' tens of thousands of objects takes 0.3-0.5 s, a third of a
    plan; everything that must outlive the command (output, packs, workers, temporary
    files) is flushed or stopped by then.
    """
    try:
        code = main()
    except SystemExit as exc:  # argparse's usage errors and --help
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
