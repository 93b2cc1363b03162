"""What every stack that owns a cluster creates: the cluster, Argo CD, monitoring, backups."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi

from components.argocd import ArgoCD
from components.cluster import ClusterHandle, make_cluster
from components.observability import Monitoring
from components.stacks.args import OwnedClusterArgs

if TYPE_CHECKING:
    from components.frontdoor import FrontDoor


@dataclass(frozen=True)
class OwnedCluster:
    handle: ClusterHandle
    argocd: ArgoCD | None
    monitoring: Monitoring | None = None
    front_door: FrontDoor | None = None


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
    if monitoring is not None and args.monitoring and args.monitoring.audit:
        # after monitoring: its ServiceMonitor and PrometheusRule need the operator's CRDs
        from components.observability.audit import AuditSignals

        handle = cluster.handle
        AuditSignals(f"{name}-security", dataclasses.replace(
            args.monitoring.audit, oidc_issuer=handle.oidc_issuer,
            oidc_provider_arn=handle.oidc_provider_arn), opts=pulumi.ResourceOptions(
                parent=parent, providers=[handle.provider, *([provider] if provider else [])],
                depends_on=[monitoring]))
    if args.backup:  # bucket and identity on the cloud provider, the rest in the cluster
        from components.backup import Velero

        handle = cluster.handle
        Velero(f"{name}-backup", dataclasses.replace(
            args.backup, oidc_issuer=handle.oidc_issuer,
            oidc_provider_arn=handle.oidc_provider_arn), opts=pulumi.ResourceOptions(
                parent=parent, providers=[handle.provider, *([provider] if provider else [])]))
    front_door = None
    if args.front_door:  # after monitoring: its PodMonitor needs the operator's CRDs
        from components.frontdoor import FrontDoor

        handle = cluster.handle
        front_door = FrontDoor(f"{name}-front-door", dataclasses.replace(
            args.front_door, oidc_issuer=handle.oidc_issuer,
            oidc_provider_arn=handle.oidc_provider_arn), opts=pulumi.ResourceOptions(
                parent=parent, providers=[handle.provider, *([provider] if provider else [])],
                depends_on=[monitoring] if monitoring else None))
    return OwnedCluster(cluster.handle, argocd, monitoring, front_door)
