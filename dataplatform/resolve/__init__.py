"""The one resolve step: a validated stack config becomes every component's typed Args.

`resolve(cfg)` runs once, before any resource exists. The model's own rules have run when
the file was loaded; the rules only a component knows (node-group sizes of a profile, the
name alphabet of a cloud) run here, each once, and their problems are reported together.
Components never see the StackConfig: they take the Args made here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from components.site import Site
from components.stacks.args import DomainStackArgs, PlatformStackArgs
from dataplatform.resolve import cluster, domain
from dataplatform.resolve.frontdoor import stack_routes
from foundation.config.base import RuleViolations
from foundation.config.monitoring import alerting_enabled
from foundation.config.stack import StackConfig

T = TypeVar("T")


def site(cfg: StackConfig) -> Site:
    """The stack-wide facts every component may read."""
    return Site(naming=cfg.naming, cloud=cfg.cloud, profile=cfg.profile, region=cfg.region,
                gcp_project=cfg.gcp_project, common_labels=cfg.common_labels)


def resolve(cfg: StackConfig) -> PlatformStackArgs | DomainStackArgs:
    """The top component's Args; RuleViolations (keys relative to `dataplatform:`) with
    every problem found, or ValueError for an impossible combination."""
    problems: list[tuple[str, str]] = []

    def part(make: Callable[[], T]) -> T | None:
        try:
            return make()
        except RuleViolations as exc:
            problems.extend(exc.problems)
            return None

    s = site(cfg)
    if cfg.kind == "platform":
        owned = part(lambda: cluster.owned_cluster(cfg, s))
        part(lambda: domain.admin_rules(cfg))
        _raise(problems)
        assert owned is not None
        return PlatformStackArgs(site=s, owned=owned, routes=stack_routes(cfg, s))
    where: Any = (part(lambda: cluster.owned_cluster(cfg, s)) if cfg.owns_cluster
                  else cluster.shared_cluster(cfg))
    apps = domain.apps(cfg)
    fence = part(lambda: domain.isolation(cfg, s))
    lake = part(lambda: domain.lake(cfg, s))
    db = part(lambda: domain.database(cfg, s, list(apps.databases)))
    _raise(problems)
    assert where is not None and fence is not None and lake is not None and db is not None
    return DomainStackArgs(
        site=s, delivery=cfg.delivery, cluster=where, isolation=fence,
        source_repos=domain.source_repos(cfg), lake=lake, database=db, apps=apps,
        alerting=cfg.alerting if alerting_enabled(cfg) else None,
        routes=stack_routes(cfg, s))


def _raise(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise RuleViolations(problems)
