"""ClusterAutoscaler: cluster-autoscaler on EKS, with its IRSA role.

Why cluster-autoscaler and not Karpenter: the node groups stay the EKS managed node groups
of `profiles/eks.yaml` (their bounds are the profile's, one place), the autoscaler only
moves each group's desired size between them, and its whole AWS surface is one small IAM
policy scoped by the cluster's tag. Karpenter would replace the node groups by its own
provisioning (NodePools, an SQS interruption queue, EventBridge rules, a node IAM role
it passes), a second model of the same bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components._values import static_values
from components.cluster import _eks_iam as iam
from components.helm_app import HelmApp, HelmAppArgs

APP = "cluster-autoscaler"
NAMESPACE = "kube-system"


def service_account(profile: str) -> str:
    """`system:serviceaccount:kube-system:<name>`, the name from the values files: the one
    the chart runs as is the only one the IRSA role trusts."""
    name = static_values(APP, profile, {})["rbac"]["serviceAccount"]["name"]
    return f"system:serviceaccount:{NAMESPACE}:{name}"


def image_mismatch(kubernetes_version: str, profile: str) -> str | None:
    """Why the values' image cannot run on `kubernetes_version` ('1.33'), or None: upstream
    supports each autoscaler minor with the same Kubernetes minor only."""
    tag = str(static_values(APP, profile, {})["image"]["tag"])
    minor = ".".join(tag.removeprefix("v").split(".")[:2])
    if minor == ".".join(kubernetes_version.split(".")[:2]):
        return None
    return (f"cluster-autoscaler {tag} (image.tag, charts-values/{APP}/) is for Kubernetes "
            f"{minor}, not {kubernetes_version}: set image.tag to the newest "
            f"v{kubernetes_version}.x autoscaler when cluster.version moves")


@dataclass(frozen=True)
class ClusterAutoscalerArgs:
    """Inputs of ClusterAutoscaler."""

    cluster_name: str
    """EKS cluster name: discovery tags, the policy's tag condition, autoDiscovery."""
    region: str
    """AWS region of the cluster (the autoscaler's AWS_REGION, ARNs' partition)."""
    profile: str
    """Profile whose values file is layered in (prod: 2 replicas on the system group)."""
    role_name: str
    """IAM role name of the autoscaler (IRSA)."""
    oidc_provider_arn: pulumi.Input[str]
    """ARN of the cluster's IAM OIDC provider (the role's trust)."""
    oidc_issuer: pulumi.Input[str]
    """OIDC issuer URL of the cluster (the trust's condition keys)."""
    provider: k8s.Provider
    """Kubernetes provider of the cluster."""


class ClusterAutoscaler(pulumi.ComponentResource):
    """cluster-autoscaler (a pinned Helm release in kube-system) and its scoped IRSA role."""

    role_arn: pulumi.Output[str]
    values: pulumi.Output[dict]

    def __init__(self, name: str, args: ClusterAutoscalerArgs,
                 opts: pulumi.ResourceOptions | None = None,
                 depends_on: Sequence[pulumi.Resource] = ()):
        super().__init__("dataplatform:cluster:ClusterAutoscaler", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-role", name=args.role_name,
            assume_role_policy=iam.irsa_trust(args.oidc_provider_arn, args.oidc_issuer,
                                              service_account(args.profile)),
            opts=child)
        policy = aws.iam.RolePolicy(
            f"{name}-policy", role=role.id,
            policy=iam.autoscaler_policy(args.cluster_name, args.region),
            opts=child)
        computed = role.arn.apply(lambda arn: {
            "autoDiscovery": {"clusterName": args.cluster_name},
            "awsRegion": args.region,
            "rbac": {"serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": arn}}},
        })
        # A Helm release, not an Application: nodes come before Argo CD can sync anything.
        release = HelmApp(
            f"{name}-chart",
            HelmAppArgs(app=APP, namespace=NAMESPACE, profile=args.profile, delivery="helm",
                        computed=computed, release_name=APP),
            opts=pulumi.ResourceOptions(parent=self, providers=[args.provider],
                                        depends_on=[policy, *depends_on]))
        self.role_arn = role.arn
        self.values = release.values
        self.register_outputs({"role_arn": self.role_arn, "values": self.values})
