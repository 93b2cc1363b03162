"""Security signals on EKS: metric filters on the control-plane log group, YACE, its IRSA role.

The cluster sends its `audit` log type to `/aws/eks/<cluster>/cluster` (components/cluster/
eks.py owns the group: bounded retention, protected and retained in prod). One metric filter
per signal counts the matching audit events into the CloudWatch namespace
DataPlatform/Audit, with the signal's dimensions from the JSON event. YACE reads those
metrics once a minute; its role may call cloudwatch:GetMetricData and ListMetrics (neither
can be scoped to a resource in IAM) and nothing else.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws
import yaml

from components._values import static_values
from components.helm_app import HelmApp, HelmAppArgs
from components.identity.workload_identity import irsa_trust_policy
from components.observability._audit_signals import CLOUDWATCH_NAMESPACE, SIGNALS

if TYPE_CHECKING:
    from components.observability.audit import AuditSignalsArgs

APP = "prometheus-yet-another-cloudwatch-exporter"
RELEASE = "audit-cloudwatch-exporter"
ACTIONS = ("cloudwatch:GetMetricData", "cloudwatch:ListMetrics")
PERIOD = 60
"""Seconds per point: the filters' sums are read minute by minute."""


def log_group(cluster_name: str) -> str:
    """The EKS control-plane log group (created by EksCluster)."""
    return f"/aws/eks/{cluster_name}/cluster"


def exporter_policy() -> str:
    """The role's only policy: read CloudWatch metrics."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "ReadMetrics", "Effect": "Allow", "Action": sorted(ACTIONS),
        "Resource": ["*"]}]}, sort_keys=True)


def service_account(namespace: str, profile: str) -> str:
    """`system:serviceaccount:<ns>:<name>`, the name from the values files."""
    name = static_values(APP, profile, {})["serviceAccount"]["name"]
    return f"system:serviceaccount:{namespace}:{name}"


def exporter_config(region: str) -> str:
    """YACE's config: the custom namespace's metrics, each minute's sum with its own
    timestamp (so Prometheus keeps one sample per minute), nothing when nothing happened."""
    return yaml.safe_dump({
        "apiVersion": "v1alpha1",
        "sts-region": region,
        "customNamespace": [{
            "name": "k8s-audit", "namespace": CLOUDWATCH_NAMESPACE, "regions": [region],
            "metrics": [{"name": s.name, "statistics": ["Sum"], "period": PERIOD,
                         "length": 5 * PERIOD, "nilToZero": False,
                         "addCloudwatchTimestamp": True} for s in SIGNALS],
        }],
    }, sort_keys=False)


def aws_collection(parent: pulumi.Resource, name: str, args: AuditSignalsArgs
                   ) -> tuple[str, dict[str, str], list[pulumi.Resource]]:
    """Metric filters, the role and YACE. Returns (collector name, Service selector,
    resources the ServiceMonitor waits for)."""
    assert args.region is not None  # AuditSignalsArgs checks it on aws
    region = args.region
    child = pulumi.ResourceOptions(parent=parent)
    for s in SIGNALS:
        aws.cloudwatch.LogMetricFilter(
            f"{name}-filter-{s.name}", name=f"{args.base}-audit-{s.name}",
            log_group_name=log_group(args.cluster_name), pattern=s.eks_pattern,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=s.name, namespace=CLOUDWATCH_NAMESPACE, value="1", unit="Count",
                dimensions=dict(s.eks_dimensions)),
            opts=child)
    trust = pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
        lambda v: irsa_trust_policy(v[0], v[1], service_account(args.namespace, args.profile)))
    role = aws.iam.Role(f"{name}-role", name=args.identity_name,
                        description=f"Audit metrics exporter of {args.base} (IRSA)",
                        assume_role_policy=trust, opts=child)
    policy = aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=exporter_policy(),
                                opts=child)
    computed = role.arn.apply(lambda arn: {
        "config": exporter_config(region),
        "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": arn}},
    })
    release = HelmApp(
        f"{name}-exporter",
        HelmAppArgs(app=APP, namespace=args.namespace, profile=args.profile, delivery="helm",
                    release_name=RELEASE, computed=computed),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[policy]))
    selector = {"app.kubernetes.io/name": APP, "app.kubernetes.io/instance": RELEASE}
    return "audit-cloudwatch-exporter", selector, [release]
