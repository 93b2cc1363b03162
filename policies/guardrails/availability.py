"""Stack-wide, prod only: a serving workload survives a node drain.

A *serving* workload is a Deployment or StatefulSet (never a Job or CronJob) that a
Service of the same namespace selects, of any type (ClusterIP, headless, LoadBalancer):
the Service's non-empty `spec.selector` is a subset of the workload's pod template labels
(`spec.template.metadata.labels`). A Service whose every port is a metrics port (its name
matches `metricsPorts`: `metrics`, `*-metrics`, `prometheus`, `jmx`, `statsd-*`) serves
monitoring, not users, and does not count: a single exporter loses a scrape in a drain,
and two would report twice. Such a workload needs

- at least `minReplicas` (2) replicas: `spec.replicas` (unset is 1), or the `minReplicas`
  of a HorizontalPodAutoscaler of the namespace whose `scaleTargetRef` names it (unset
  is 1);
- a PodDisruptionBudget of the namespace selecting its pods: `spec.selector.matchLabels`
  a subset of the pod template labels, and any `matchExpressions` true of them. A PDB
  with an empty selector does not count.

The namespace is `metadata.namespace` (unset: `default`). `exempt` lists workloads not
checked, as patterns of their name (see `pods.exempt`); its default is `SINGLETONS`, the
charts' one-instance workloads, each with its reason. Values that are unknown during
`pulumi preview` are not judged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from fnmatch import fnmatchcase

from pulumi_policy import PolicyResource, Severity
from pulumi_policy.proxy import UnknownValueError

from guardrails._base import (
    EXEMPT_PATTERNS,
    get,
    integer,
    items,
    k8s_label,
    known,
    stack_policy,
    string_list,
)
from guardrails.pods import exempt

WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")
SERVICE = "kubernetes:core/v1:Service"
PDBS = ("kubernetes:policy/v1:PodDisruptionBudget",
        "kubernetes:policy/v1beta1:PodDisruptionBudget")
SINGLETONS = {
    "*/airbyte-temporal": "Airbyte's Temporal (temporalio/auto-setup) migrates its schema "
                          "at start; the chart runs one",
    "*/datahub-datahub-mce-consumer": "DataHub's chart refuses a second MCE consumer with "
                                      "managed ingestion in standalone mode",
    "*/kube-prometheus-stack-operator": "prometheus-operator has no leader election: two "
                                        "would reconcile the same objects",
}
"""Serving workloads that run one instance by design, exempt by default (each with why)."""
HPAS = ("kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        "kubernetes:autoscaling/v2beta2:HorizontalPodAutoscaler")


def namespace(r: PolicyResource) -> str:
    return str(known(r.props, "metadata.namespace") or "default")


def object_name(r: PolicyResource) -> str:
    return str(known(r.props, "metadata.name") or r.name)


def text(value) -> str:
    """A label value as a string (a double 1.0 is "1")."""
    number = integer(value) if isinstance(value, float) else None
    return str(number if number is not None else value)


def labels(value) -> dict[str, str]:
    return {str(k): text(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def selects(selector: Mapping, pod: Mapping[str, str]) -> bool:
    """Whether a label selector (matchLabels, matchExpressions) picks pods labelled `pod`."""
    match = labels(known(selector, "matchLabels"))
    exprs = items(known(selector, "matchExpressions"))
    if not match and not exprs:
        return False
    if any(pod.get(k) != v for k, v in match.items()):
        return False
    for e in exprs:
        key, op = str(known(e, "key")), known(e, "operator")
        values = {text(v) for v in items(known(e, "values"))}
        has = key in pod
        ok = {"In": has and pod.get(key) in values, "NotIn": pod.get(key) not in values,
              "Exists": has, "DoesNotExist": not has}.get(op, False)
        if not ok:
            return False
    return True


def serves_users(service: PolicyResource, metrics_ports: Sequence[str]) -> bool:
    """Whether a Service exposes a port that is not a metrics port (or names no ports)."""
    names = [str(known(p, "name") or "") for p in items(known(service.props, "spec.ports"))]
    return not names or not all(any(fnmatchcase(n, str(m)) for m in metrics_ports)
                                for n in names)


def replicas(r: PolicyResource, hpas: Sequence[PolicyResource]) -> tuple[int, str] | None:
    """The fewest replicas `r` runs and where that is set: its HPA's minReplicas, else
    spec.replicas (unset: 1); None when unknown (during preview)."""
    kind = r.resource_type.rsplit(":", 1)[-1]
    try:
        for h in hpas:
            if (namespace(h) == namespace(r)
                    and known(h.props, "spec.scaleTargetRef.kind") == kind
                    and known(h.props, "spec.scaleTargetRef.name") == object_name(r)):
                count = integer(get(h.props, "spec.minReplicas", 1)) or 1
                return count, f"HorizontalPodAutoscaler '{object_name(h)}' minReplicas"
        value = get(r.props, "spec.replicas")
    except UnknownValueError:
        return None
    spec_count = integer(value)
    return (1, "spec.replicas (unset)") if spec_count is None else (spec_count, "spec.replicas")


def check_ha(resources, cfg) -> Iterator[tuple[str, str]]:
    by_type: dict[str, list[PolicyResource]] = {}
    for r in resources:
        by_type.setdefault(r.resource_type, []).append(r)
    services = [s for s in by_type.get(SERVICE, []) if serves_users(s, cfg["metricsPorts"])]
    pdbs = [p for t in PDBS for p in by_type.get(t, [])]
    hpas = [h for t in HPAS for h in by_type.get(t, [])]
    minimum = integer(cfg["minReplicas"]) or 2
    for r in (w for t in WORKLOADS for w in by_type.get(t, [])):
        pod, ns = labels(known(r.props, "spec.template.metadata.labels")), namespace(r)
        serving = [(s, sel) for s in services if namespace(s) == ns and
                   (sel := labels(known(s.props, "spec.selector"))) and
                   all(pod.get(k) == v for k, v in sel.items())]
        if not serving or exempt(r, cfg["exempt"]):
            continue
        # Name a Service that clients use before a headless one (peer discovery).
        service, selector = min(serving, key=lambda s: (
            known(s[0].props, "spec.clusterIP") == "None", object_name(s[0])))
        where = f"namespace '{ns}'" + ("" if known(r.props, "metadata.namespace") else
                                       " (metadata.namespace unset)")
        what = f"{k8s_label(r)}, served by Service '{object_name(service)}',"
        found = replicas(r, hpas)
        if found is not None and found[0] < minimum:
            yield r.urn, (f"{what} runs {found[0]} replica(s) in prod ({found[1]}): set "
                          f"spec.replicas >= {minimum} (or an HPA minReplicas >= {minimum}) "
                          "so a node can be drained or lost without an outage")
        if not any(namespace(p) == ns and selects(known(p.props, "spec.selector") or {}, pod)
                   for p in pdbs):
            example = ", ".join(f"{k}: {v}" for k, v in sorted(selector.items()))
            yield r.urn, (f"{what} has no PodDisruptionBudget in {where} selecting "
                          "its pods: create one whose spec.selector.matchLabels are a subset "
                          f"of its pod template labels (e.g. {{{example}}}) with "
                          "maxUnavailable: 1")


POLICIES = [
    stack_policy(
        "k8s-prod-ha",
        "In prod, every Deployment or StatefulSet a Service selects runs at least two "
        "replicas and has a PodDisruptionBudget.",
        check_ha, prod_only=True, severity=Severity.HIGH,
        config={
            "minReplicas": {"type": "integer", "minimum": 1, "default": 2,
                            "description": "The fewest replicas a serving workload runs."},
            "metricsPorts": string_list(
                ["metrics", "*-metrics", "prometheus", "jmx", "statsd-*"],
                "Service port names (shell-style patterns) that only Prometheus scrapes; a "
                "Service with no other port does not make a workload serving."),
            "exempt": string_list(
                sorted(SINGLETONS),
                f"Workloads not checked: {EXEMPT_PATTERNS}. The default lists the charts' "
                "singletons: " + "; ".join(f"{k}: {v}" for k, v in sorted(SINGLETONS.items())))},
        fix="Set spec.replicas >= 2 and add a PodDisruptionBudget selecting the pods."),
]
