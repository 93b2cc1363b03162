"""Security signals on GKE: log-based metrics on Cloud Audit Logs, stackdriver_exporter, its GSA.

GKE writes the API server's audit events to Cloud Audit Logs: Admin Activity (every write,
exec and attach included, denied ones too) is always on and free. Data Access (reads: get,
list, watch) is off by default and not turned on here: it logs every read of every
controller; without it a denied *read* of a Secret is not counted on GKE (docs/security.md).
One log-based counter metric per signal, its labels extracted from the entry, restricted to
this cluster. The exporter runs as a Google service account with roles/monitoring.viewer
(read metrics) only, impersonable by its Kubernetes ServiceAccount alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

from components._values import static_values
from components.helm_app import HelmApp, HelmAppArgs
from components.identity.workload_identity import GCP_ANNOTATION, WI_USER
from components.observability._audit_signals import GCP_METRIC_PREFIX, SIGNALS

if TYPE_CHECKING:
    from components.observability.audit import AuditSignalsArgs

APP = "prometheus-stackdriver-exporter"
RELEASE = "audit-stackdriver-exporter"
VIEWER = "roles/monitoring.viewer"


def service_account_name(profile: str) -> str:
    """The exporter's Kubernetes ServiceAccount, from the values files."""
    return str(static_values(APP, profile, {})["serviceAccount"]["name"])


def log_filter(signal_filter: str, cluster_name: str) -> str:
    """The signal's filter on this cluster's audit entries only."""
    return f'{signal_filter} AND resource.labels.cluster_name="{cluster_name}"'


def gcp_collection(parent: pulumi.Resource, name: str, args: AuditSignalsArgs
                   ) -> tuple[str, dict[str, str], list[pulumi.Resource]]:
    """Log metrics, the GSA and the exporter. Returns (collector name, Service selector,
    resources the ServiceMonitor waits for)."""
    assert args.project is not None  # AuditSignalsArgs checks it on gcp
    child = pulumi.ResourceOptions(parent=parent)
    for s in SIGNALS:
        gcp.logging.Metric(
            f"{name}-metric-{s.name}", name=GCP_METRIC_PREFIX + s.name, project=args.project,
            description=s.description, filter=log_filter(s.gcp_filter, args.cluster_name),
            metric_descriptor=gcp.logging.MetricMetricDescriptorArgs(
                metric_kind="DELTA", value_type="INT64", unit="1",
                labels=[gcp.logging.MetricMetricDescriptorLabelArgs(
                    key=label, value_type="STRING") for label in s.labels]),
            label_extractors=dict(s.gcp_extractors), opts=child)
    sa = service_account_name(args.profile)
    gsa = gcp.serviceaccount.Account(
        f"{name}-gsa", account_id=args.identity_name, project=args.project,
        display_name=f"Audit metrics exporter of {args.base}",
        description=f"Kubernetes {args.namespace}/{sa} (Workload Identity)", opts=child)
    member = pulumi.Output.concat("serviceAccount:", gsa.email)
    grants = [
        gcp.projects.IAMMember(f"{name}-monitoring-viewer", project=args.project, role=VIEWER,
                               member=member, opts=child),
        gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity", service_account_id=gsa.name, role=WI_USER,
            member=f"serviceAccount:{args.project}.svc.id.goog[{args.namespace}/{sa}]",
            opts=child),
    ]
    computed = gsa.email.apply(lambda email: {
        "stackdriver": {"projectId": args.project},
        "serviceAccount": {"annotations": {GCP_ANNOTATION: email}},
    })
    release = HelmApp(
        f"{name}-exporter",
        HelmAppArgs(app=APP, namespace=args.namespace, profile=args.profile, delivery="helm",
                    release_name=RELEASE, computed=computed),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=grants))
    selector = {"app.kubernetes.io/name": APP, "app.kubernetes.io/instance": RELEASE}
    return "audit-stackdriver-exporter", selector, [release]
