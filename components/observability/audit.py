"""AuditSignals: Kubernetes audit events as Prometheus metrics, and the platform's security rules.

Created by every stack that owns a cluster and runs monitoring, after Monitoring (the
ServiceMonitor and PrometheusRule need its CRDs). One design on every cloud
(`_audit_signals.py`): audit events are counted into `dataplatform_audit_<signal>` series,
and the same rules (monitoring/rules/security.yaml) run on them everywhere.

- aws: the `audit` control-plane log type (EKS log group `/aws/eks/<cluster>/cluster`), one
  CloudWatch Logs metric filter per signal, YACE with an IRSA role allowed
  cloudwatch:GetMetricData and ListMetrics only (`_audit_aws.py`);
- gcp: Cloud Audit Logs (Admin Activity, always on), one log-based metric per signal,
  stackdriver_exporter acting as a Google service account with roles/monitoring.viewer only,
  through Workload Identity (`_audit_gcp.py`);
- local: kind keeps the API server's audit log off unless the cluster was created with an
  audit policy (docs/security.md); nothing is collected and the plan says so in an `info:`
  line.

Beside the collection: the security family rendered for the cluster owner's own namespaces
(Argo CD, monitoring, kube-system...) plus the cluster-wide rules (`requires: [platform]`),
in one PrometheusRule of the monitoring namespace; its alerts go to the platform team. Each
domain's PrometheusRule carries the same family for its own namespaces (DomainMonitoring).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components.observability._audit_signals import SIGNALS, metric_relabelings
from components.observability._common import MONITORING_API
from components.observability._rules import RuleScope, render_groups
from foundation.config.monitoring import AlertThresholds

FAMILY = "security"
RULES_NAME = "platform-security-alerts"
LOCAL_NOTE = (
    "security signals: a local cluster has no API server audit log unless kind was created "
    "with an audit policy (docs/security.md, 'Security signals'); the audit alerts stay "
    "silent here, the front door's still fire")
"""The plan's note (INFO) on local clusters."""
PLATFORM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
"""Namespaces of every cluster the platform's rules watch, beside its components' own."""


@dataclass(frozen=True)
class AuditSignalsArgs:
    """Inputs of AuditSignals. (`dataplatform/resolve/audit.py` derives them.)"""

    cloud: Literal["aws", "gcp", "local"]
    """Where the audit events come from: EKS logs, Cloud Audit Logs, none (local)."""
    base: str
    """`<customer>-<domain>-<environment>` of the stack owning the cluster."""
    profile: str
    """Profile whose values files are layered in."""
    domain: str
    """Domain of the cluster owner ('platform' or the dedicated domain): its alerts' label."""
    namespace: str
    """The monitoring namespace (the exporter, its ServiceMonitor, the PrometheusRule)."""
    platform_namespaces: Sequence[str]
    """The cluster owner's own namespaces, which the platform's security rules watch."""
    front_door: bool = False
    """The cluster runs the front door (Envoy Gateway): its login-failure rule ships."""
    cluster_name: str = ""
    """aws/gcp: the cluster's name (EKS log group; GKE's `resource.labels.cluster_name`)."""
    identity_name: str = ""
    """aws: the exporter's IAM role name; gcp: its Google service-account id."""
    region: str | None = None
    """aws: region of the log group and of the metrics."""
    project: str | None = None
    """gcp: project of the audit logs, the log metrics and the service account."""
    runbook_url: str = "docs/runbooks/alerts.md"
    """Runbook document of the alerts."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels for every Kubernetes object."""
    oidc_issuer: pulumi.Input[str | None] | None = None
    """aws: the cluster's OIDC issuer (set by the cluster owner once the cluster exists)."""
    oidc_provider_arn: pulumi.Input[str | None] | None = None
    """aws: the cluster's IAM OIDC provider."""

    def __post_init__(self) -> None:
        missing = [key for key, needed in (
            ("cluster_name", self.cloud != "local"), ("identity_name", self.cloud != "local"),
            ("region", self.cloud == "aws"), ("project", self.cloud == "gcp"))
            if needed and not getattr(self, key)]
        if missing:
            raise ValueError(f"AuditSignals {self.base}: cloud {self.cloud} needs "
                             + ", ".join(missing))
        if not self.platform_namespaces:
            raise ValueError(f"AuditSignals {self.base}: no platform namespace to watch")

    @property
    def features(self) -> frozenset[str]:
        """What the platform's rules may require."""
        return frozenset({"platform", *(["gateway"] if self.front_door else [])})


def platform_scope(args: AuditSignalsArgs) -> RuleScope:
    """The scope the cluster owner's security rules are rendered for."""
    return RuleScope(domain=args.domain, namespaces=tuple(args.platform_namespaces),
                     features=args.features, project=None, thresholds=AlertThresholds(),
                     notify="platform", runbook_url=args.runbook_url)


class AuditSignals(pulumi.ComponentResource):
    """Audit metrics from the cloud's audit logs, their exporter, the platform's rules."""

    signals: pulumi.Output[list[str]]
    alert_names: pulumi.Output[list[str]]
    collector: pulumi.Output[str]

    def __init__(self, name: str, args: AuditSignalsArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:observability:AuditSignals", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        meta = {"namespace": args.namespace, "labels": dict(args.labels)}
        collector = "none"
        selector: dict[str, str] = {}
        deps: list[pulumi.Resource] = []
        if args.cloud == "aws":
            from components.observability._audit_aws import aws_collection

            collector, selector, deps = aws_collection(self, name, args)
        elif args.cloud == "gcp":
            from components.observability._audit_gcp import gcp_collection

            collector, selector, deps = gcp_collection(self, name, args)
        else:
            pulumi.log.info(LOCAL_NOTE, resource=self)
        if args.cloud != "local":
            k8s.apiextensions.CustomResource(
                f"{name}-monitor", api_version=MONITORING_API, kind="ServiceMonitor",
                metadata={"name": collector, **meta}, spec=monitor_spec(
                    args.cloud, args.namespace, selector),
                opts=pulumi.ResourceOptions(parent=self, depends_on=deps))
        groups = render_groups(platform_scope(args), only=(FAMILY,))
        k8s.apiextensions.CustomResource(
            f"{name}-rules", api_version=MONITORING_API, kind="PrometheusRule",
            metadata={"name": RULES_NAME, **meta}, spec={"groups": groups}, opts=child)
        self.signals = pulumi.Output.from_input(
            [s.metric for s in SIGNALS] if args.cloud != "local" else [])
        self.alert_names = pulumi.Output.from_input(
            [r["alert"] for g in groups for r in g["rules"]])
        self.collector = pulumi.Output.from_input(collector)
        self.register_outputs({"signals": self.signals, "alert_names": self.alert_names,
                               "collector": self.collector})


def monitor_spec(cloud: str, namespace: str, selector: Mapping[str, str]) -> dict[str, Any]:
    """The exporter's ServiceMonitor: every minute (the points are per minute), the point's
    own timestamp kept so each minute is counted once, names and labels normalized."""
    return {
        "selector": {"matchLabels": dict(selector)},
        "namespaceSelector": {"matchNames": [namespace]},
        "endpoints": [{"port": "http", "interval": "60s", "scrapeTimeout": "50s",
                       "honorTimestamps": True, "honorLabels": cloud == "gcp",
                       "metricRelabelings": metric_relabelings(cloud)}],
    }
