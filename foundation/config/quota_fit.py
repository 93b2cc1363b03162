"""The domain quota admits the domain's apps: a config rule, from pinned figures.

A domain namespace's ResourceQuota (`isolation.quota`) caps the sum of its pods' CPU and
memory requests and limits; a pod that would cross it is refused at admission, and its
Deployment or StatefulSet waits without a word. Rendering the charts needs Helm and the
chart sources, which the loader does not have, so each app's footprint per profile is
pinned in `profiles/footprints.yaml` (generated from the rendered charts by `dataplatform
footprints`). What a domain stack asks of its main namespace's quota, per figure:

- the standing pods of each enabled built-in app (Argo CD runs in its own namespace),
  of the in-cluster Postgres when the database is in-cluster, and of MinIO on cloud local;
- one pod of each declared dbt job (`apps.dbt.projects[].jobs[]`: schedules may coincide);
- the largest batch pod (hook, migration, scheduled ingestion) of those apps, as one may
  run at any time next to everything standing.

The figures are the pinned footprint of the stack's profile: values overrides
(`apps.<app>.values`) that resize an app are not included, nor are extra apps
(`apps.extra`), whose charts are not pinned here.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from foundation import yamlfile
from foundation.layout import PROFILES_DIR
from foundation.quantity import parse_quantity

if TYPE_CHECKING:
    from foundation.config.stack import StackConfig

FOOTPRINTS_FILE = PROFILES_DIR / "footprints.yaml"
# The quota's figures: (stack key under isolation.quota, cpu or memory).
FIELDS = (("requestsCpu", "cpu"), ("requestsMemory", "memory"), ("limitsCpu", "cpu"),
          ("limitsMemory", "memory"))
ATTRS = {"requestsCpu": "requests_cpu", "requestsMemory": "requests_memory",
         "limitsCpu": "limits_cpu", "limitsMemory": "limits_memory"}
ARGO = "argocd"
GiB = 2**30
# `dataplatform new customer --domains` takes any number of domains; the prod workload
# maxima of profiles/eks.yaml and gke.yaml are sized for this many on one cluster, each
# with every app (tests/unit/test_autoscaling.py checks it against the profiles).
MAX_DOMAINS_PER_CLUSTER = 6


def cluster_fit(quotas: Collection[Mapping[str, str]], nodes: int,
                allocatable: Mapping[str, str]) -> list[str]:
    """Why domain quotas (isolation.quota figures) cannot all be granted on `nodes` nodes
    offering `allocatable` (`cpu`, `memory`) each: one line per requests figure short."""
    out = []
    for key, kind in FIELDS[:2]:
        wanted = sum(parse_quantity(q[key]) for q in quotas)
        room = nodes * parse_quantity(allocatable[kind])
        if wanted > room + 1e-9:
            unit = " CPU" if kind == "cpu" else ""
            out.append(f"{key}: {len(quotas)} domain quotas request {_show(wanted, kind)}"
                       f"{unit} but {nodes} nodes offer {_show(room, kind)}{unit}")
    return out


def footprints(profile: str) -> dict[str, dict[str, tuple[float, ...]]]:
    """{app: {"standing"|"batch": figures in FIELDS order}} of `profile`."""
    data = ((yamlfile.read(FOOTPRINTS_FILE) if FOOTPRINTS_FILE.is_file() else None)
            or {}).get(profile) or {}
    return {app: {part: tuple(parse_quantity(figures[k]) for k, _ in FIELDS)
                  for part, figures in parts.items()} for app, parts in data.items()}


@dataclass
class Need:
    """What the apps ask of the quota, per figure, and where each figure comes from."""

    totals: list[float] = field(default_factory=lambda: [0.0] * len(FIELDS))
    parts: list[list[tuple[str, float]]] = field(
        default_factory=lambda: [[] for _ in FIELDS])

    def add(self, label: str, figures: tuple[float, ...], times: int = 1) -> None:
        for i, value in enumerate(figures):
            if value * times > 0:
                self.totals[i] += value * times
                self.parts[i].append((label, value * times))


def need(profile: str, apps: Collection[str], *, in_cluster_db: bool, local: bool,
         dbt_jobs: int = 0) -> Need:
    """What `apps` (built-in app keys) of a `profile` domain ask of its quota."""
    pinned = footprints(profile)
    present = [a for a in apps if a != ARGO and a in pinned]
    present += [name for name, on in (("postgres", in_cluster_db), ("minio", local))
                if on and name in pinned]
    out, zero = Need(), (0.0,) * len(FIELDS)
    for app in present:
        out.add(app, pinned[app].get("standing", zero))
    if "dbt" in present and dbt_jobs:
        out.add(f"dbt {dbt_jobs} job{'s' if dbt_jobs != 1 else ''}",
                pinned["dbt"].get("batch", zero), dbt_jobs)
    batch = [(a, pinned[a].get("batch", zero)) for a in present if a != "dbt"]
    for i in range(len(FIELDS)):
        app, figures = max(batch, key=lambda b: b[1][i], default=("", zero))
        if figures[i] > 0:
            out.totals[i] += figures[i]
            out.parts[i].append((f"largest batch pod ({app})", figures[i]))
    return out


def stack_need(cfg: StackConfig) -> Need | None:
    """What a domain stack's apps ask of its main namespace's quota; None for a platform."""
    from foundation.config.database import database_mode

    if cfg.kind != "domain":
        return None
    enabled = [a for a in type(cfg.apps).built_in() if getattr(cfg.apps, a).enabled]
    jobs = sum(len(p.jobs) for p in cfg.apps.dbt.projects) if cfg.apps.dbt.enabled else 0
    return need(cfg.profile, enabled, in_cluster_db=database_mode(cfg) == "in-cluster",
                local=cfg.cloud == "local", dbt_jobs=jobs)


def _show(value: float, kind: str) -> str:
    """Rounded up to a tenth of a core or GiB, so that the figure always suffices."""
    tenth = math.ceil(round(value / (1 if kind == "cpu" else GiB) * 10, 6)) / 10
    text = f"{tenth:g}"
    return text if kind == "cpu" else f"{text}Gi"


def quota_problems(cfg: StackConfig) -> list[tuple[str, str]]:
    """(key under the stack's config, message) for each quota figure the apps exceed."""
    wanted = stack_need(cfg)
    if wanted is None:
        return []
    quota, out = cfg.isolation.quota, []
    for i, (key, kind) in enumerate(FIELDS):
        admitted = getattr(quota, ATTRS[key])
        if wanted.totals[i] <= parse_quantity(admitted) + 1e-9:
            continue
        unit = "CPU" if kind == "cpu" else ""
        total = _show(wanted.totals[i], kind)
        parts = ", ".join(f"{label} {_show(v, kind)}" for label, v in wanted.parts[i])
        what = ("the enabled apps request" if key.startswith("requests")
                else "the enabled apps' limits add up to")
        out.append((f"isolation.quota.{key}",
                    f"{what} {total}{' ' + unit if unit else ''} ({parts}; profile "
                    f"{cfg.profile}, profiles/footprints.yaml) but the quota admits "
                    f"{admitted}: raise it to at least {total}"))
    return out


def fitting_quota(wanted: Need, defaults: Mapping[str, str], headroom: float
                  ) -> dict[str, str]:
    """Quota figures that admit `wanted` with `headroom` (0.25: a quarter more), rounded up
    to whole cores and GiB, never below `defaults` (keyed like FIELDS)."""
    out = {}
    for i, (key, kind) in enumerate(FIELDS):
        unit = 1 if kind == "cpu" else GiB
        whole = math.ceil(round(wanted.totals[i] * (1 + headroom) / unit, 6))
        floor = parse_quantity(defaults[key])
        out[key] = defaults[key] if whole * unit <= floor else (
            str(whole) if kind == "cpu" else f"{whole}Gi")
    return out
