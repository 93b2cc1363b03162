"""What every stack that owns a cluster creates: the cluster, Argo CD, monitoring, backups."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pulumi

from components.argocd import ArgoCD
from components.cluster import ClusterHandle, make_cluster
from components.observability import Monitoring
from components.stacks.args import OwnedClusterArgs


@dataclass(frozen=True)
class OwnedCluster:
    handle: ClusterHandle
    argocd: ArgoCD | None
    monitoring: Monitoring | None = None


def build_owned_cluster(name: str, args: OwnedClusterArgs, parent: pulumi.Resource,
                        provider: pulumi.ProviderResource | None) -> OwnedCluster:
    """Cluster, Argo CD, monitoring and backups as children of `parent`, on the cloud
    `provider`."""
    cluster = make_cluster(f"{name}-cluster", args.cluster, pulumi.ResourceOptions(
        parent=parent, providers=[provider] if provider else None))
    in_cluster = pulumi.ResourceOptions(parent=parent, providers=[cluster.handle.provider])
    argocd = ArgoCD(f"{name}-argocd", args.argocd, opts=in_cluster) if args.argocd else None
    monitoring = None
    if args.monitoring:  # after Argo CD: it scrapes Argo CD's metrics Services
        monitoring = Monitoring(f"{name}-monitoring", dataclasses.replace(
            args.monitoring, argocd_namespace=argocd.namespace if argocd else None),
            opts=pulumi.ResourceOptions(parent=parent, providers=[cluster.handle.provider],
                                        depends_on=[argocd] if argocd else None))
    if args.backup:
        from components.backup import VeleroSchedules

        VeleroSchedules(f"{name}-backup", args.backup, opts=in_cluster)
    return OwnedCluster(cluster.handle, argocd, monitoring)
