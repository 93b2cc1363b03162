"""Compliant and violating cases for the pod rules as charts render them: the pod-spec
kinds added for rendered objects, `k8s-no-privileged` and the stack rule `k8s-prod-ha`.

Rendered objects arrive as the offline plan will feed them: the kind's type token, the
whole Kubernetes object as inputs, the chart's Release (or Application) as parent.
"""

from __future__ import annotations

from dataclasses import replace

from cases_platform import container, pod
from policy_helpers import STACK, bad, ok, res

RELEASE_URN = f"urn:pulumi:{STACK}::dataplatform::kubernetes:helm.sh/v3:Release::airflow"
NEW_KINDS = {  # kind -> where its pod spec sits
    "batch/v1beta1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "core/v1:ReplicationController": ("spec", "template", "spec"),
    "core/v1:PodTemplate": ("template", "spec"),
}
POD_RULES = ("k8s-image-pinned", "k8s-resources-set", "k8s-run-as-non-root",
             "k8s-no-host-path", "k8s-no-privileged")


def rendered(kind: str, name: str, body: dict, *, ns: str = "data", labels=None,
             parent: str | None = RELEASE_URN):
    """A chart-rendered object: `kubernetes:<kind>` and apiVersion/kind/metadata + `body`."""
    group, kind_name = kind.split(":")
    metadata = {"name": name, **({"namespace": ns} if ns else {}),
                **({"labels": labels} if labels else {})}
    obj = {"apiVersion": group.removeprefix("core/"), "kind": kind_name, "metadata": metadata,
           **body}
    r = res(f"kubernetes:{kind}", f"{ns}/{name}" if ns else name, obj)
    if parent is None:
        return r
    parent_type = parent.split("::")[2]
    return replace(r, parent=parent,
                   urn=f"urn:pulumi:{STACK}::dataplatform::{parent_type}${r.type}::{r.name}")


def nest(path: tuple[str, ...], spec: dict) -> dict:
    for key in reversed(path):
        spec = {key: spec}
    return spec


def of_kind(kind: str, spec: dict):
    return rendered(kind, kind.split(":")[1].lower(), nest(NEW_KINDS[kind], spec))


BAD_POD = {  # a pod spec violating each pod rule
    "k8s-image-pinned": pod(containers=[container(image="acme/app:latest")]),
    "k8s-resources-set": pod(containers=[{"name": "app", "image": "acme/app:1.0"}]),
    "k8s-run-as-non-root": pod(runAsNonRoot=True, runAsUser=0),
    "k8s-no-host-path": pod(volumes=[{"name": "logs", "hostPath": {"path": "/var/log"}}]),
    "k8s-no-privileged": pod(containers=[container(securityContext={"privileged": True})]),
}
NEW_KIND_CASES = [case for kind in NEW_KINDS for rule in POD_RULES for case in (
    ok(rule, f"{kind}-compliant", of_kind(kind, pod())),
    bad(rule, f"{kind}-violating", of_kind(kind, BAD_POD[rule])))]


def priv(**security):
    return rendered("apps/v1:Deployment", "web", {"spec": {"template": {"spec": pod(
        containers=[container(securityContext=security)])}}})


def deployment(name="web", host=None, **pod_kw):
    """A rendered Deployment; `host` adds pod-spec fields (hostNetwork...), `pod_kw` go to
    `pod` (containers, init, volumes, pod securityContext)."""
    spec = {**pod(**pod_kw), **(host or {})}
    return rendered("apps/v1:Deployment", name, {"spec": {"template": {"spec": spec}}})


def web(kind="apps/v1:Deployment", name="web", replicas=2, ns="data", labels=None):
    labels = labels or {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "ui"}
    spec = {"selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod()}}
    if replicas is not None:
        spec["replicas"] = replicas
    return rendered(kind, name, {"spec": spec}, ns=ns)


def svc(name="web", ns="data", type_="ClusterIP", headless=False, ports=None, **selector):
    spec = {"type": type_, "selector": selector or {"app.kubernetes.io/name": "web"},
            "ports": ports or [{"port": 80}], **({"clusterIP": "None"} if headless else {})}
    return rendered("core/v1:Service", name, {"spec": spec}, ns=ns)


def pdb(name="web", ns="data", api="policy/v1", expressions=None, **labels):
    selector = {"matchLabels": labels or {"app.kubernetes.io/name": "web"}}
    if expressions is not None:
        selector = {"matchExpressions": expressions, **({"matchLabels": labels} if labels else {})}
    return rendered(f"{api}:PodDisruptionBudget", name,
                    {"spec": {"maxUnavailable": 1, "selector": selector}}, ns=ns)


def hpa(target="web", minimum=2, ns="data"):
    return rendered("autoscaling/v2:HorizontalPodAutoscaler", target, {"spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
        "minReplicas": minimum, "maxReplicas": 5}}, ns=ns)


def job():
    labels = {"app.kubernetes.io/name": "web"}
    return rendered("batch/v1:Job", "migrate", {"spec": {"template": {
        "metadata": {"labels": labels}, "spec": pod()}}})


HA = "k8s-prod-ha"
NO_PRIV = "k8s-no-privileged"
exempt_exporter = {NO_PRIV: {"exempt": ["monitoring/*node-exporter*"]}}
more_caps = {NO_PRIV: {"allowedCapabilities": ["NET_BIND_SERVICE", "CHOWN"]}}
node_exporter = rendered("apps/v1:DaemonSet", "kps-prometheus-node-exporter", {"spec": {
    "template": {"spec": {**pod(), "hostNetwork": True, "hostPID": True}}}}, ns="monitoring")

CASES = [
    *NEW_KIND_CASES,

    ok(NO_PRIV, "restricted", priv(allowPrivilegeEscalation=False,
                                   capabilities={"drop": ["ALL"]})),
    ok(NO_PRIV, "escalation-unset", priv()),
    ok(NO_PRIV, "net-bind-service", priv(capabilities={"add": ["CAP_NET_BIND_SERVICE"]})),
    ok(NO_PRIV, "configured-capability", priv(capabilities={"add": ["chown"]}),
       overrides=more_caps),
    ok(NO_PRIV, "container-port-only", deployment(containers=[container(
        ports=[{"containerPort": 8080}])])),
    ok(NO_PRIV, "host-network-false", deployment(host={"hostNetwork": False})),
    ok(NO_PRIV, "exempt-node-agent", node_exporter, overrides=exempt_exporter),
    ok(NO_PRIV, "strings-false", priv(privileged="false", allowPrivilegeEscalation="false")),
    bad(NO_PRIV, "privileged", priv(privileged=True)),
    bad(NO_PRIV, "privileged-in-dev", priv(privileged=True), profile="dev"),
    bad(NO_PRIV, "privileged-string", priv(privileged="true")),
    bad(NO_PRIV, "escalation-true", priv(allowPrivilegeEscalation=True)),
    bad(NO_PRIV, "sys-admin", priv(capabilities={"add": ["SYS_ADMIN"]})),
    bad(NO_PRIV, "all-capabilities", priv(capabilities={"add": ["ALL"]})),
    bad(NO_PRIV, "privileged-init", deployment(init=[container(
        "init", securityContext={"privileged": True})])),
    bad(NO_PRIV, "privileged-ephemeral", rendered("core/v1:Pod", "debug", {"spec": {
        **pod(), "ephemeralContainers": [container("debugger",
                                                   securityContext={"privileged": True})]}})),
    bad(NO_PRIV, "host-network", node_exporter),
    bad(NO_PRIV, "host-ipc-string", deployment(host={"hostIPC": "true"})),
    bad(NO_PRIV, "host-port", deployment(containers=[container(
        ports=[{"containerPort": 8080, "hostPort": 8080}])])),
    bad(NO_PRIV, "host-port-string", deployment(containers=[container(
        ports=[{"containerPort": 8080, "hostPort": "8080"}])])),
    bad(NO_PRIV, "cronjob", rendered("batch/v1:CronJob", "cleanup", {"spec": {"jobTemplate": {
        "spec": {"template": {"spec": pod(containers=[container(securityContext={
            "privileged": True})])}}}}})),

    ok("k8s-run-as-non-root", "strings", deployment(runAsNonRoot="true", runAsUser="1000")),
    ok("k8s-run-as-non-root", "floats", deployment(runAsNonRoot=True, runAsUser=1000.0)),
    bad("k8s-run-as-non-root", "uid-string-0", deployment(runAsNonRoot="true", runAsUser="0")),
    bad("k8s-run-as-non-root", "uid-float-0", deployment(runAsNonRoot=True, runAsUser=0.0)),
    bad("k8s-run-as-non-root", "container-uid-string-0", deployment(containers=[container(
        securityContext={"runAsUser": "0"})])),
    bad("k8s-run-as-non-root", "non-root-string-false", deployment(runAsNonRoot="false",
                                                                   runAsUser=1000)),

    ok(HA, "replicated-with-pdb", web(), svc(), pdb()),
    ok(HA, "statefulset-headless", web("apps/v1:StatefulSet", replicas=3),
       svc(headless=True), pdb()),
    ok(HA, "hpa-min-2", web(replicas=None), svc(), pdb(), hpa()),
    ok(HA, "pdb-match-expressions", web(), svc(), pdb(expressions=[
        {"key": "app.kubernetes.io/name", "operator": "In", "values": ["web", "api"]}])),
    ok(HA, "policy-v1beta1", web(), svc(), pdb(api="policy/v1beta1")),
    ok(HA, "strings", web(replicas="3"), svc(), pdb()),
    ok(HA, "not-served", web(replicas=1)),
    ok(HA, "service-elsewhere", web(replicas=1), svc(ns="other")),
    ok(HA, "service-selects-other-pods", web(replicas=1), svc(**{"app.kubernetes.io/name": "x"})),
    ok(HA, "job-is-not-serving", job(), svc()),
    ok(HA, "metrics-only-service", web(replicas=1), svc(ports=[
        {"name": "metrics", "port": 9399}, {"name": "http-metrics", "port": 9100},
        {"name": "jmx", "port": 5555}, {"name": "prometheus", "port": 4318}])),
    ok(HA, "exempt", web(replicas=1), svc(), overrides={HA: {"exempt": ["data/web"]}}),
    ok(HA, "dev", web(replicas=1), svc(), profile="dev"),
    bad(HA, "one-replica", web(replicas=1), svc(), pdb()),
    bad(HA, "replicas-unset", web(replicas=None), svc(), pdb()),
    bad(HA, "replicas-string-1", web(replicas="1"), svc(), pdb()),
    bad(HA, "hpa-min-1", web(replicas=3), svc(), pdb(), hpa(minimum=1)),
    bad(HA, "no-pdb", web(), svc()),
    bad(HA, "pdb-other-namespace", web(), svc(), pdb(ns="other")),
    bad(HA, "pdb-other-labels", web(), svc(), pdb(**{"app.kubernetes.io/name": "api"})),
    bad(HA, "pdb-wider-than-pods", web(), svc(), pdb(**{"app.kubernetes.io/name": "web",
                                                        "tier": "frontend"})),
    bad(HA, "pdb-expression-false", web(), svc(), pdb(expressions=[
        {"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["web"]}])),
    bad(HA, "loadbalancer-statefulset", web("apps/v1:StatefulSet", replicas=1),
        svc(type_="LoadBalancer")),
    bad(HA, "metrics-and-http-ports", web(replicas=1), svc(ports=[
        {"name": "metrics", "port": 9399}, {"name": "http", "port": 80}]), pdb()),
    bad(HA, "metrics-port-not-configured", web(replicas=1), pdb(), svc(ports=[
        {"name": "metrics", "port": 9399}]), overrides={HA: {"metricsPorts": []}}),
    bad(HA, "three-replicas-below-configured", web(replicas=3), svc(), pdb(),
        overrides={HA: {"minReplicas": 4}}),
]
