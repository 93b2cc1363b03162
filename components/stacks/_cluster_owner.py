"""What every stack that owns a cluster creates: the cluster and Argo CD."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components._labels import k8s_labels
from components.argocd import ArgoCD, ArgoCDArgs
from components.cluster import ClusterHandle, make_cluster
from components.observability import Monitoring, MonitoringArgs
from dataplatform.config.model import StackConfig
from dataplatform.config.observability import monitoring_enabled


@dataclass(frozen=True)
class OwnedCluster:
    handle: ClusterHandle
    argocd: ArgoCD | None
    monitoring: Monitoring | None = None


def build_owned_cluster(name: str, cfg: StackConfig, parent: pulumi.Resource,
                        provider: pulumi.ProviderResource | None) -> OwnedCluster:
    """Cluster (and Argo CD, when enabled) as children of `parent`, on the cloud `provider`."""
    cluster = make_cluster(f"{name}-cluster", cfg, pulumi.ResourceOptions(
        parent=parent, providers=[provider] if provider else None))
    argocd = None
    if cfg.apps.argocd.enabled:
        argocd = ArgoCD(f"{name}-argocd",
                        ArgoCDArgs(profile=cfg.profile, overrides=cfg.apps.argocd.values,
                                   labels=k8s_labels(cfg)),
                        opts=pulumi.ResourceOptions(parent=parent,
                                                    providers=[cluster.handle.provider]))
    monitoring = None
    if monitoring_enabled(cfg):  # after Argo CD: it scrapes Argo CD's metrics Services
        monitoring = Monitoring(f"{name}-monitoring", MonitoringArgs(
            settings=cfg.monitoring, profile=cfg.profile, domain=cfg.domain,
            domain_namespaces=MonitoringArgs.domain_pattern(cfg.customer),
            labels=k8s_labels(cfg), argocd_namespace=argocd.namespace if argocd else None),
            opts=pulumi.ResourceOptions(parent=parent, providers=[cluster.handle.provider],
                                        depends_on=[argocd] if argocd else None))
    if cfg.backup.velero.enabled:
        from components.backup import VeleroSchedules, VeleroSchedulesArgs

        VeleroSchedules(f"{name}-backup", VeleroSchedulesArgs(
            base=cfg.naming.base, settings=cfg.backup.velero, labels=k8s_labels(cfg)),
            opts=pulumi.ResourceOptions(parent=parent, providers=[cluster.handle.provider]))
    return OwnedCluster(cluster.handle, argocd, monitoring)
