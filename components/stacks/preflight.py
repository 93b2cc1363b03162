"""Checks of the component arguments a stack config implies, before any resource exists.

The config model checks each file on its own; some rules need the components' own
knowledge (profile node sizes, naming limits of a cloud). They run here, all of them,
so a bad stack registers nothing, not even a provider.
"""

from __future__ import annotations

from collections.abc import Callable

from dataplatform.config.model import RuleViolations, StackConfig


def preflight(cfg: StackConfig) -> None:
    """Raise RuleViolations (keys relative to `dataplatform:`) or ValueError."""
    checks: list[Callable[[], object]] = []
    if cfg.owns_cluster and cfg.cloud == "aws":
        from components.cluster.eks import EksClusterArgs

        checks.append(lambda: EksClusterArgs.from_config(cfg))
    if cfg.owns_cluster and cfg.cloud == "gcp":
        from components.cluster.gke import GkeClusterArgs

        checks.append(lambda: GkeClusterArgs.from_config(cfg))
    if cfg.kind == "domain":
        from components.stacks._data_layer import check_args

        checks.append(lambda: check_args(cfg))
    problems: list[tuple[str, str]] = []
    for check in checks:
        try:
            check()
        except RuleViolations as exc:
            problems.extend(exc.problems)
    if problems:
        raise RuleViolations(problems)
