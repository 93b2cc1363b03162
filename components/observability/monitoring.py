"""Monitoring: the cluster's kube-prometheus-stack, its Grafana content and alert routing root.

Created by every stack that owns a cluster (platform stacks, dedicated domains), after Argo
CD. Like Argo CD it is a Helm release applied by Pulumi, not an Argo CD Application: the
domains' ServiceMonitors, PrometheusRules and AlertmanagerConfigs need its CRDs to exist
before Pulumi creates them. Children: the namespace, Grafana's admin Secret (pulumi-random
password, `grafana.admin.existingSecret`), the platform receiver's Secret (mounted into
Alertmanager, referenced by `*_file` fields; without a receiver, allowed in dev only, the
plan says so in an `info:` note), one ConfigMap per dashboard of
monitoring/dashboards/ and one for monitoring/datasources/ (loaded by Grafana's
sidecars), the chart, and a ServiceMonitor for Argo CD's metrics Services. Beside it, the
Prometheus Pushgateway (chart `prometheus-pushgateway`), where the domains' dbt runs push
their test results, with a ServiceMonitor that keeps the pushed labels
(docs/data-quality.md). And the OpenTelemetry Collector every OTLP-speaking app sends to
(components/observability/otel.py, docs/monitoring.md).

Prod: the release is `protect`ed, and the Prometheus and Alertmanager volumes are PVCs of
their StatefulSets, made by the operator, so Pulumi cannot protect them itself: their
`persistentVolumeClaimRetentionPolicy` is Retain (charts-values/kube-prometheus-stack/
prod.yaml), so deleting the Prometheus object or uninstalling the chart keeps the claims, and
the volume follows its StorageClass' reclaim policy only once a claim is deleted by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components._values import layer
from components.frontdoor.args import SignOn
from components.frontdoor.sso import grafana_values, oidc_secret
from components.helm_app import HelmApp, HelmAppArgs
from components.observability._alerting import alertmanager_receiver, secret_data
from components.observability._common import APP, MONITORING_API, domain_relabeling
from components.observability._content import DATASOURCES_FILE, dashboards
from components.observability.audit import AuditSignalsArgs
from components.observability.otel import OtelCollector, OtelCollectorArgs
from foundation.config.monitoring import MonitoringConfig

GRAFANA_SECRET = "grafana-admin"
GRAFANA_OIDC_SECRET = "grafana-oidc"
RECEIVER_SECRET = "alertmanager-platform-receiver"
PLATFORM_RECEIVER = "platform-team"
PUSHGATEWAY = "prometheus-pushgateway"
"""Chart, release, Service (fullnameOverride) and pod label of the Pushgateway."""
PUSHGATEWAY_PORT = 9091


def pushgateway_url(namespace: str) -> str:
    """Where a domain's batch runs push: the Pushgateway's Service in `namespace`."""
    return f"http://{PUSHGATEWAY}.{namespace}.svc:{PUSHGATEWAY_PORT}"
DOMAIN_NAMESPACES = "dataplatform.io/domain-id"
"""Label of every domain namespace (components/isolation.py): they may push."""
NO_PLATFORM_RECEIVER = (
    "monitoring.platformReceiver: none, so the cluster's alerts notify no one (they show in "
    "Alertmanager and Grafana only); fine in dev, a prod stack needs one")
"""The plan's note (INFO, not a warning) for a dev cluster without a platform receiver."""


@dataclass(frozen=True)
class MonitoringArgs:
    """Inputs of Monitoring."""

    settings: MonitoringConfig
    """`monitoring:` of the stack file."""
    profile: str
    """Profile whose values file is layered in (dev: small, no volumes; prod: volumes)."""
    domain: str
    """Domain of the cluster owner ('platform' or the dedicated domain): Argo CD's series."""
    domain_namespaces: str
    """Regex of the domains' namespaces: the chart's app-level rules skip them."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels for every object."""
    argocd_namespace: pulumi.Input[str] | None = None
    """Argo CD's namespace, to scrape its metrics Services (None: no Argo CD)."""
    audit: AuditSignalsArgs | None = None
    """Security signals: audit metrics and the platform's security rules, created beside
    Monitoring by the cluster owner (components/observability/audit.py)."""
    sign_on: SignOn | None = None
    """Grafana's public URL and OIDC when the front door routes it (frontdoor/sso.py)."""

    @staticmethod
    def domain_pattern(customer: str) -> str:
        """Domain namespaces are `<customer>-<domain>-<environment>[-<suffix>]`."""
        return f"{re.escape(customer)}-.+"


class Monitoring(pulumi.ComponentResource):
    """kube-prometheus-stack with the project's Grafana content and alert routing."""

    namespace: pulumi.Output[str]
    grafana_secret: pulumi.Output[str]
    release: HelmApp

    def __init__(self, name: str, args: MonitoringArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:observability:Monitoring", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        # node-exporter needs the host's network, PIDs and filesystem: `privileged` here only.
        ns = k8s.core.v1.Namespace(f"{name}-namespace", metadata={"name": s.namespace, "labels": {
            **args.labels, "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/warn": "baseline",
            "pod-security.kubernetes.io/audit": "baseline"}}, opts=child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        meta = {"namespace": s.namespace, "labels": dict(args.labels)}
        password = random.RandomPassword(f"{name}-grafana-admin-password", length=32,
                                         special=False, opts=child)
        deps: list[pulumi.Resource] = [ns, k8s.core.v1.Secret(
            f"{name}-grafana-admin", metadata={"name": GRAFANA_SECRET, **meta},
            string_data={"admin-user": "admin", "admin-password": password.result},
            opts=in_ns)]
        receiver = s.platform_receiver
        if receiver is None:  # a prod stack cannot get here (foundation/config/monitoring.py)
            pulumi.log.info(NO_PLATFORM_RECEIVER, resource=self)
        data = secret_data([(receiver, "monitoring.platformReceiver", None)]) if receiver else {}
        if data:
            deps.append(k8s.core.v1.Secret(f"{name}-platform-receiver",
                                           metadata={"name": RECEIVER_SECRET, **meta},
                                           string_data=data, opts=in_ns))
        self._grafana_content(name, meta, in_ns)
        computed = computed_values(args, RECEIVER_SECRET if data else None)
        if args.sign_on is not None:
            computed = layer(computed, grafana_values(args.sign_on, GRAFANA_OIDC_SECRET))
            if args.sign_on.oidc is not None:
                deps.append(oidc_secret(f"{name}-grafana-oidc", s.namespace,
                                        GRAFANA_OIDC_SECRET, args.sign_on.oidc,
                                        args.labels, in_ns))
        self.release = HelmApp(
            f"{name}-chart",
            HelmAppArgs(app=APP, namespace=ns.metadata["name"], profile=args.profile,
                        delivery="helm", overrides=s.values, release_name=APP,
                        computed=computed),
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps,
                                        protect=True if args.profile == "prod" else None))
        if args.argocd_namespace is not None:
            self._argocd_monitor(name, args, meta)
        self._pushgateway(name, args, meta)
        # OTLP collection (components/observability/otel.py), after the Prometheus it feeds.
        OtelCollector(f"{name}-otel", OtelCollectorArgs(
            namespace=s.namespace, profile=args.profile, backend=s.otlp,
            labels=args.labels, after=[self.release]), opts=pulumi.ResourceOptions(parent=self))
        self.namespace = ns.metadata["name"]
        self.grafana_secret = pulumi.Output.from_input(GRAFANA_SECRET)
        self.register_outputs({"namespace": self.namespace,
                               "grafana_secret": self.grafana_secret})

    def _grafana_content(self, name: str, meta: Mapping[str, Any],
                         opts: pulumi.ResourceOptions) -> None:
        labels = meta["labels"]
        for path in dashboards():
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{path.stem}",
                metadata={"name": f"dashboard-{path.stem}", "namespace": meta["namespace"],
                          "labels": {**labels, "grafana_dashboard": "1"}},
                data={path.name: path.read_text()}, opts=opts)
        k8s.core.v1.ConfigMap(
            f"{name}-datasources",
            metadata={"name": "grafana-datasources", "namespace": meta["namespace"],
                      "labels": {**labels, "grafana_datasource": "1"}},
            data={DATASOURCES_FILE.name: DATASOURCES_FILE.read_text()}, opts=opts)

    def _argocd_monitor(self, name: str, args: MonitoringArgs,
                        meta: Mapping[str, Any]) -> None:
        # Every Service of the `argocd` release with a port `http-metrics`: the metrics
        # Services of the controller, server, repo-server, ApplicationSet, notifications.
        k8s.apiextensions.CustomResource(
            f"{name}-argocd-monitor", api_version=MONITORING_API, kind="ServiceMonitor",
            metadata={"name": "argocd", **meta},
            spec={"selector": {"matchLabels": {"app.kubernetes.io/instance": "argocd",
                                               "app.kubernetes.io/part-of": "argocd"}},
                  "namespaceSelector": {"matchNames": [args.argocd_namespace]},
                  "endpoints": [{"port": "http-metrics", "interval": "30s",
                                 "relabelings": domain_relabeling(args.domain)}]},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]))


    def _pushgateway(self, name: str, args: MonitoringArgs, meta: Mapping[str, Any]) -> None:
        # After the stack: its operator serves the ServiceMonitor CRD.
        after = pulumi.ResourceOptions(parent=self, depends_on=[self.release])
        ns = args.settings.namespace
        HelmApp(f"{name}-pushgateway", HelmAppArgs(
            app=PUSHGATEWAY, namespace=ns, profile=args.profile, delivery="helm",
            release_name=PUSHGATEWAY, computed={"networkPolicy": {"customSelectors": [
                {"namespaceSelector": {"matchExpressions": [
                    {"key": DOMAIN_NAMESPACES, "operator": "Exists"}]}},
                {"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": ns}}}]}}), opts=after)
        # honorLabels: the job, domain and project of the grouping key, and the pushed
        # namespace, win over the target's own labels (the Pushgateway's pod).
        k8s.apiextensions.CustomResource(
            f"{name}-pushgateway-monitor", api_version=MONITORING_API, kind="ServiceMonitor",
            metadata={"name": PUSHGATEWAY, **meta},
            spec={"selector": {"matchLabels": {"app.kubernetes.io/name": PUSHGATEWAY,
                                               "app.kubernetes.io/instance": PUSHGATEWAY}},
                  "namespaceSelector": {"matchNames": [ns]},
                  "endpoints": [{"port": "http", "interval": "30s", "honorLabels": True}]},
            opts=after)


def computed_values(args: MonitoringArgs, receiver_secret: str | None) -> dict[str, Any]:
    """Values known only from the stack config: secret names, receivers, storage."""
    s = args.settings
    spec: dict[str, Any] = {}
    if s.retention:
        spec["retention"] = s.retention
    if s.retention_size:
        spec["retentionSize"] = s.retention_size
    claim: dict[str, Any] = {}
    if s.storage_size:
        claim = {"accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": s.storage_size}}}
        spec["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": "Retain",
                                                        "whenScaled": "Retain"}
    if s.storage_class:
        claim["storageClassName"] = s.storage_class
    if claim:
        spec["storageSpec"] = {"volumeClaimTemplate": {"spec": claim}}
    alertmanager: dict[str, Any] = {"config": {"receivers": [
        {"name": "null"},
        alertmanager_receiver(PLATFORM_RECEIVER, s.platform_receiver, receiver_secret)]}}
    if receiver_secret:
        alertmanager["alertmanagerSpec"] = {"secrets": [receiver_secret]}
    return {
        "grafana": {"admin": {"existingSecret": GRAFANA_SECRET}},
        "alertmanager": alertmanager,
        "defaultRules": {"appNamespacesTarget": args.domain_namespaces},
        "prometheus": {"prometheusSpec": spec},
    }
