"""`dataplatform`: the command line of the accelerator.

    dataplatform plan STACK [--json]    offline plan under the mock engine
    dataplatform stacks                 list the stacks in stacks/

Exit codes: 0 planned; 1 a mandatory policy is violated; 2 invalid config or unknown
stack (a message, never a traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dataplatform.config import ConfigError
from dataplatform.config.loader import STACKS_DIR, available_stacks, stack_file

EXIT_OK, EXIT_POLICY, EXIT_CONFIG = 0, 1, 2


def _plan(args: argparse.Namespace) -> int:
    from dataplatform.plan.engine import plan_stack
    from dataplatform.plan.render import to_json, to_text

    try:
        plan = plan_stack(args.stack, args.stacks_dir)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    except ValueError as exc:
        # Components validate their arguments before creating any child.
        print(f"{stack_file(args.stack, args.stacks_dir)}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if not args.no_policy:
        from dataplatform.plan.policy import PolicyConfigError, PolicyPackError, check_plan

        try:
            plan.policy = [*plan.policy, *check_plan(plan, args.stacks_dir, args.policy_config)]
        except PolicyConfigError as exc:
            print(exc, file=sys.stderr)
            return EXIT_CONFIG
        except PolicyPackError as exc:
            # Fail closed: a plan the guardrails could not check does not pass.
            print(f"policy pack failed, the plan is not checked: {exc}", file=sys.stderr)
            return EXIT_POLICY
    print(to_json(plan) if args.json else to_text(plan))
    mandatory = [f for f in plan.policy if f["level"] == "mandatory"]
    return EXIT_POLICY if mandatory else EXIT_OK


def _stacks(args: argparse.Namespace) -> int:
    print("\n".join(available_stacks(args.stacks_dir)))
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dataplatform", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="plan a stack offline (no CLI, credentials or cluster)")
    plan.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml")
    plan.add_argument("--json", action="store_true", help="machine-readable output")
    plan.add_argument("--stacks-dir", type=Path, default=STACKS_DIR,
                      help="folder of the stack files (default: the project's stacks/)")
    plan.add_argument("--no-policy", action="store_true",
                      help="skip the policy pack (policies/); no findings, no exit code 1")
    plan.add_argument("--policy-config", type=Path, default=None, metavar="FILE",
                      help="policy pack config (the --policy-pack-config format) "
                           "(default: policies/config/<stack>.json when it exists)")
    plan.set_defaults(func=_plan)
    stacks = sub.add_parser("stacks", help="list the stacks in stacks/")
    stacks.add_argument("--stacks-dir", type=Path, default=STACKS_DIR)
    stacks.set_defaults(func=_stacks)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
