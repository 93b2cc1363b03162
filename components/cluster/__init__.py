"""Cluster components and the factory that picks one from its Args."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi

from components.cluster.base import ClusterHandle
from components.cluster.local import LocalCluster, LocalClusterArgs
from components.cluster.shared import SharedCluster, SharedClusterArgs

if TYPE_CHECKING:  # the cloud modules load their SDKs: imported lazily below
    from components.cluster.eks import EksCluster
    from components.cluster.gke import GkeCluster

__all__ = ["ClusterHandle", "SharedCluster", "SharedClusterArgs", "make_cluster"]


def make_cluster(name: str, args: object, opts: pulumi.ResourceOptions
                 ) -> LocalCluster | EksCluster | GkeCluster:
    """Create the stack's own cluster (platform stacks and dedicated domains) from its Args:
    LocalClusterArgs, EksClusterArgs or GkeClusterArgs.

    The result has a `.handle` (ClusterHandle). Cloud modules are imported lazily so a
    local plan never loads the AWS or GCP SDKs.
    """
    if isinstance(args, LocalClusterArgs):
        return LocalCluster(name, args, opts)
    if type(args).__name__ == "EksClusterArgs":
        from components.cluster.eks import EksCluster, EksClusterArgs

        assert isinstance(args, EksClusterArgs)
        return EksCluster(name, args, opts)
    from components.cluster.gke import GkeCluster, GkeClusterArgs

    if not isinstance(args, GkeClusterArgs):
        raise TypeError(f"no cluster component takes {type(args).__name__}")
    return GkeCluster(name, args, opts)
