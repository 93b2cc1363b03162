"""What EksCluster derives from the cluster it made: a kubeconfig and the OIDC issuer."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi_aws as aws


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig authenticating with `aws eks get-token` (no credential inside)."""
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": cluster_name,
        "clusters": [{"name": cluster_name, "cluster": {
            "server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": cluster_name, "context": {
            "cluster": cluster_name, "user": cluster_name}}],
        "users": [{"name": cluster_name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name,
                     "--region", region, "--output", "json"],
            "interactiveMode": "Never"}}}],
    }, indent=2, sort_keys=True)


def oidc_issuer(identities: Sequence[aws.eks.outputs.ClusterIdentity]) -> str:
    """The cluster's OIDC issuer URL: EKS gives every cluster one (the SDK types it optional)."""
    oidcs = identities[0].oidcs if identities else None
    issuer = oidcs[0].issuer if oidcs else None
    if issuer is None:
        raise ValueError("EKS cluster reports no OIDC issuer")
    return issuer
