"""What a stack really asks of the cluster, summed over its rendered pods.

A workload's pod counts `replicas` times (DaemonSets once per node: counted once here),
its containers add up, and its init containers, which run one after the other before
them, count by Kubernetes' rule: the pod's effective request is the larger of the sum
of its containers and its largest init container. Jobs and CronJobs run now and then,
so they are listed apart from the standing footprint.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dataplatform.rendered.podsecurity import POD_PATHS
from foundation.quantity import parse_quantity

if TYPE_CHECKING:
    from dataplatform.rendered import RenderResult

BATCH = ("Job", "CronJob")
# One quantity parser for the project (CPU in cores, memory in bytes).
cpu = memory = parse_quantity


@dataclass
class Usage:
    """CPU (cores) and memory (bytes), requested and limited."""

    req_cpu: float = 0.0
    req_mem: float = 0.0
    lim_cpu: float = 0.0
    lim_mem: float = 0.0

    def add(self, other: Usage, times: float = 1) -> None:
        self.req_cpu += other.req_cpu * times
        self.req_mem += other.req_mem * times
        self.lim_cpu += other.lim_cpu * times
        self.lim_mem += other.lim_mem * times

    def max(self, other: Usage) -> Usage:
        return Usage(*(max(a, b) for a, b in zip(self.as_tuple(), other.as_tuple(),
                                                 strict=True)))

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.req_cpu, self.req_mem, self.lim_cpu, self.lim_mem)


@dataclass
class Workload:
    """One pod template of a release, sized."""

    release: str
    kind: str
    name: str
    replicas: int
    pod: Usage
    unsized: list[str] = field(default_factory=list)


def _container(c: Mapping[str, Any],
               defaults: Mapping[str, Any] | None = None) -> tuple[Usage, list[str]]:
    """A container's usage, with the namespace LimitRange's defaults where it sets none
    (the API server applies them at admission), and what it leaves unset itself."""
    res = c.get("resources") or {}
    req, lim = res.get("requests") or {}, res.get("limits") or {}
    given = (req, lim)
    if defaults:
        req = {**(defaults.get("defaultRequest") or {}), **req}
        lim = {**(defaults.get("default") or {}), **lim}
    missing = [f"{k}.{r}" for k, d in zip(("requests", "limits"), given, strict=True)
               for r in ("cpu", "memory") if d.get(r) in (None, "")]
    return Usage(cpu(req.get("cpu", 0)), memory(req.get("memory", 0)),
                 cpu(lim.get("cpu", 0)), memory(lim.get("memory", 0))), missing


def workloads(release: str, objects: Iterable[Mapping[str, Any]],
              limit_ranges: Mapping[str, Mapping[str, Any]] | None = None,
              namespace: str = "default") -> Iterator[Workload]:
    """Sized pod templates of `objects`; `limit_ranges` maps a namespace to the Container
    entry of its LimitRange."""
    for obj in objects:
        ns = (obj.get("metadata") or {}).get("namespace") or namespace
        defaults = (limit_ranges or {}).get(ns)
        path = POD_PATHS.get(str(obj.get("kind")))
        if path is None:
            continue
        spec: Any = obj
        for part in path:
            spec = (spec or {}).get(part)
        spec = spec or {}
        main, init, unsized = Usage(), Usage(), []
        for kind in ("containers", "initContainers"):
            for c in spec.get(kind) or []:
                usage, missing = _container(c, defaults)
                if kind == "containers":
                    main.add(usage)
                else:
                    init = init.max(usage)
                unsized += [f"{kind[:-1]} {c.get('name')}: no {m}" for m in missing]
        replicas = 1 if obj["kind"] in ("Pod", "DaemonSet", *BATCH) else int(
            (obj.get("spec") or {}).get("replicas", 1) if obj.get("spec") else 1)
        yield Workload(release, str(obj["kind"]), str(obj["metadata"].get("name")),
                       replicas, main.max(init), unsized)


def limit_ranges(objects: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The Container defaults of each namespace's LimitRange."""
    out = {}
    for o in objects:
        if o.get("kind") == "LimitRange":
            for limit in (o.get("spec") or {}).get("limits") or []:
                if limit.get("type") == "Container":
                    out[(o.get("metadata") or {}).get("namespace", "default")] = limit
    return out


def stack_workloads(result: RenderResult) -> list[Workload]:
    """Every sized pod template: each release's, then the program's own (`program`)."""
    ranges = limit_ranges(result.direct)
    out = [w for r in result.releases
           for w in workloads(f"{r.namespace}/{r.name}", r.objects, ranges, r.namespace)]
    return out + list(workloads("program", result.direct, ranges))


def totals(items: Iterable[Workload], *, batch: bool = False) -> Usage:
    """The standing footprint (or, with `batch`, the Jobs and CronJobs) of `items`."""
    total = Usage()
    for w in items:
        if (w.kind in BATCH) == batch:
            total.add(w.pod, w.replicas)
    return total
