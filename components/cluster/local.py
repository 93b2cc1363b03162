"""LocalCluster: an existing kind/k3d/minikube cluster, reached through a kubeconfig context."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.base import ClusterHandle


@dataclass(frozen=True)
class LocalClusterArgs:
    """Inputs of LocalCluster."""

    kube_context: str
    """Kubeconfig context to deploy into, e.g. `kind-dataplatform`."""
    cluster_name: str
    """Deterministic name the platform gives the cluster (for labels and outputs)."""
    context_defaulted: bool = False
    """The stack file names no context: the plan says which one it assumed."""


class LocalCluster(pulumi.ComponentResource):
    """Adopts a local cluster: nothing is created but the provider bound to its context."""

    name: pulumi.Output[str]
    kube_context: pulumi.Output[str]
    handle: ClusterHandle

    def __init__(self, name: str, args: LocalClusterArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:cluster:LocalCluster", name, None, opts)
        if args.context_defaulted:
            pulumi.log.info(f"cluster.kubeContext unset: deploying into kubeconfig context "
                            f"'{args.kube_context}' (`kind create cluster --name "
                            f"{args.kube_context.removeprefix('kind-')}` makes it)",
                            resource=self)
        provider = k8s.Provider(
            f"{name}-provider",
            context=args.kube_context,
            # Server-side apply lets Argo CD and Pulumi share field ownership cleanly.
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = pulumi.Output.from_input(args.cluster_name)
        self.kube_context = pulumi.Output.from_input(args.kube_context)
        none = pulumi.Output.from_input(None)
        self.handle = ClusterHandle(self.name, provider, none, self.kube_context, none, none,
                                    none, none)
        self.register_outputs({"name": self.name, "kube_context": self.kube_context})
