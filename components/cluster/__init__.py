"""Cluster components and the factory that picks one from the stack config."""

from __future__ import annotations

import pulumi

from components.cluster.base import ClusterHandle
from components.cluster.local import LocalCluster, LocalClusterArgs
from components.cluster.shared import SharedCluster, SharedClusterArgs
from dataplatform.config.model import StackConfig

__all__ = ["ClusterHandle", "SharedCluster", "SharedClusterArgs", "make_cluster"]


def make_cluster(name: str, cfg: StackConfig,
                 opts: pulumi.ResourceOptions) -> pulumi.ComponentResource:
    """Create the stack's own cluster (platform stacks and dedicated domains).

    The result has a `.handle` (ClusterHandle). Cloud modules are imported lazily so a
    local plan never loads the AWS or GCP SDKs.
    """
    if cfg.cloud == "local":
        return LocalCluster(name, LocalClusterArgs(cfg.cluster.kube_context, cfg.naming.base),
                            opts)
    if cfg.cloud == "aws":
        from components.cluster.eks import EksCluster, EksClusterArgs

        return EksCluster(name, EksClusterArgs.from_config(cfg), opts)
    from components.cluster.gke import GkeCluster, GkeClusterArgs

    return GkeCluster(name, GkeClusterArgs.from_config(cfg), opts)
