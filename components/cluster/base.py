"""The contract every cluster component fulfils, whatever the cloud."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class ClusterHandle:
    """What the rest of the platform needs from a cluster.

    EKS, GKE, a local kubeconfig context and a platform stack's shared cluster all
    produce one, so in-cluster components never branch on the cloud.
    """

    name: pulumi.Output[str]
    """Cluster name."""
    provider: k8s.Provider
    """Kubernetes provider every in-cluster resource of the stack uses."""
    kubeconfig: pulumi.Output[str | None]
    """Kubeconfig (secret), or None when the provider uses a kubeconfig context."""
    kube_context: pulumi.Output[str | None]
    """Kubeconfig context (local clusters), or None."""
    endpoint: pulumi.Output[str | None]
    """API server endpoint, when known."""
    oidc_issuer: pulumi.Output[str | None]
    """OIDC issuer URL for workload identity (EKS IRSA / GKE WI), when the cloud has one."""
    oidc_provider_arn: pulumi.Output[str | None]
    """aws: ARN of the cluster's IAM OIDC provider (IRSA trust); else None."""
    network: pulumi.Output[dict | None]
    """Where managed services attach: aws `vpcId`, `privateSubnetIds`,
    `clusterSecurityGroupId`; gcp `network`, `subnetwork`; None on local clusters."""

    def outputs(self) -> dict[str, pulumi.Output]:
        """The stack outputs a platform stack publishes for its domains."""
        return {
            "clusterName": self.name,
            "kubeconfig": pulumi.Output.secret(self.kubeconfig),
            "kubeContext": self.kube_context,
            "clusterEndpoint": self.endpoint,
            "oidcIssuer": self.oidc_issuer,
            "oidcProviderArn": self.oidc_provider_arn,
            "network": self.network,
        }
