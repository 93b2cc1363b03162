"""OtelCollector: the cluster's OpenTelemetry Collector, where every app that speaks OTLP
sends its telemetry.

Run by the stack that owns the cluster, next to kube-prometheus-stack (whose operator it
waits for: the Prometheus it writes to must exist), in the monitoring namespace: one
Deployment (chart `opentelemetry-collector`, pinned), Service `opentelemetry-collector`,
OTLP on gRPC 4317 and HTTP 4318. Metrics go to the platform's Prometheus through
Prometheus' own OTLP receiver (`/api/v1/otlp/v1/metrics`, turned on in
charts-values/kube-prometheus-stack/values.yaml); metrics, traces and logs also go to the
customer's OTLP backend when `monitoring.otlp` names one (its headers are config secrets,
kept in Secret `otlp-backend-headers` and read as environment). Without a backend, traces
and logs end in the `nop` exporter.

The `domain` and `namespace` of every signal are set from the Kubernetes API by the
sender's pod (charts-values/opentelemetry-collector/values.yaml), never taken from the
sender: a pod cannot raise or silence another domain's alerts. The chart's NetworkPolicy
lets only domain namespaces and the monitoring namespace in, and the collector out to DNS,
the API server, Prometheus and the backend's port. Docs: docs/monitoring.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.helm_app import HelmApp, HelmAppArgs
from components.observability._common import APP as STACK_RELEASE
from foundation.config.monitoring import OtlpBackend
from foundation.config.secrets import config_secret

COLLECTOR = "opentelemetry-collector"
"""Chart, release, Service (fullnameOverride) and pod label `app.kubernetes.io/name`."""
OTLP_GRPC_PORT, OTLP_HTTP_PORT = 4317, 4318
HEADERS_SECRET = "otlp-backend-headers"
PROMETHEUS_EXPORTER = "otlphttp/prometheus"
PROMETHEUS_PORT = 9090
SIGNALS = ("metrics", "traces", "logs")
DOMAIN_NAMESPACES = "dataplatform.io/domain-id"
"""Label of every domain namespace (components/isolation.py): they may send."""


def collector_host(namespace: str) -> str:
    """The collector's in-cluster DNS name."""
    return f"{COLLECTOR}.{namespace}.svc"


def prometheus_otlp_url(namespace: str) -> str:
    """Prometheus' OTLP receiver (kube-prometheus-stack's Service `<release>-prometheus`)."""
    return (f"http://{STACK_RELEASE}-prometheus.{namespace}.svc:{PROMETHEUS_PORT}"
            "/api/v1/otlp/v1/metrics")


def header_env(index: int) -> str:
    """The collector's environment variable holding the backend's `index`th header."""
    return f"OTLP_HEADER_{index}"


@dataclass(frozen=True)
class OtelCollectorArgs:
    """Inputs of OtelCollector."""

    namespace: str
    """The monitoring namespace (kube-prometheus-stack's)."""
    profile: str
    """Profile whose values file is layered in (prod: two replicas and a PDB)."""
    backend: OtlpBackend | None = None
    """`monitoring.otlp`: the customer's OTLP backend, if any."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels for the objects made here."""
    after: Sequence[pulumi.Resource] = ()
    """What the release waits for: kube-prometheus-stack (the Prometheus it writes to)."""


class OtelCollector(pulumi.ComponentResource):
    """The OpenTelemetry Collector of one cluster."""

    grpc_endpoint: pulumi.Output[str]
    http_endpoint: pulumi.Output[str]

    def __init__(self, name: str, args: OtelCollectorArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:observability:OtelCollector", name, None, opts)
        deps: list[pulumi.Resource] = list(args.after)
        backend = args.backend
        if backend is not None and backend.headers:
            deps.append(k8s.core.v1.Secret(
                f"{name}-backend-headers",
                metadata={"name": HEADERS_SECRET, "namespace": args.namespace,
                          "labels": dict(args.labels)},
                string_data={h: config_secret(f"monitoring.otlp.headers.{h}")
                             for h in backend.headers},
                opts=pulumi.ResourceOptions(parent=self)))
        HelmApp(f"{name}-chart", HelmAppArgs(
            app=COLLECTOR, namespace=args.namespace, profile=args.profile, delivery="helm",
            release_name=COLLECTOR, computed=computed_values(args.namespace, backend)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps))
        host = collector_host(args.namespace)
        self.grpc_endpoint = pulumi.Output.from_input(f"http://{host}:{OTLP_GRPC_PORT}")
        self.http_endpoint = pulumi.Output.from_input(f"http://{host}:{OTLP_HTTP_PORT}")
        self.register_outputs({"grpc_endpoint": self.grpc_endpoint,
                               "http_endpoint": self.http_endpoint})


def _backend_exporter(backend: OtlpBackend) -> tuple[str, dict[str, Any]]:
    """(exporter id, its settings); header values are `${env:...}` references."""
    settings: dict[str, Any] = {"endpoint": backend.endpoint}
    if backend.headers:
        settings["headers"] = {h: f"${{env:{header_env(i)}}}"
                               for i, h in enumerate(backend.headers)}
    if backend.endpoint.lower().startswith("http://"):
        settings["tls"] = {"insecure": True}
    return ("otlp/backend" if backend.protocol == "grpc" else "otlphttp/backend"), settings


def computed_values(namespace: str, backend: OtlpBackend | None) -> dict[str, Any]:
    """Values known only from the stack config: exporters, header env, NetworkPolicy."""
    exporters: dict[str, Any] = {PROMETHEUS_EXPORTER: {
        "metrics_endpoint": prometheus_otlp_url(namespace), "tls": {"insecure": True}}}
    routes: dict[str, list[str]] = {"metrics": [PROMETHEUS_EXPORTER], "traces": [],
                                    "logs": []}
    values: dict[str, Any] = {}
    egress: list[dict[str, Any]] = [
        {"to": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
         "ports": [{"protocol": p, "port": 53} for p in ("UDP", "TCP")]},
        # k8s_attributes watches pods and namespaces; the API server's address is the
        # cluster's own, so its ports are allowed, not its IP (as for the domains).
        {"ports": [{"protocol": "TCP", "port": p} for p in (443, 6443)]},
        {"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}],
         "ports": [{"protocol": "TCP", "port": PROMETHEUS_PORT}]},
    ]
    if backend is not None:
        exporter, settings = _backend_exporter(backend)
        exporters[exporter] = settings
        for signal in backend.signals:
            routes[signal].append(exporter)
        # The backend is a host name: any address, on its port only.
        egress.append({"ports": [{"protocol": "TCP", "port": backend.port}]})
        if backend.headers:
            values["extraEnvs"] = [
                {"name": header_env(i), "valueFrom": {"secretKeyRef": {
                    "name": HEADERS_SECRET, "key": h}}}
                for i, h in enumerate(backend.headers)]
    values["config"] = {"exporters": exporters, "service": {"pipelines": {
        s: {"exporters": routes[s] or ["nop"]} for s in SIGNALS}}}
    values["networkPolicy"] = {
        "enabled": True,
        "allowIngressFrom": [
            {"namespaceSelector": {"matchExpressions": [
                {"key": DOMAIN_NAMESPACES, "operator": "Exists"}]}},
            {"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": namespace}}}],
        "egressRules": egress}
    return values
