"""SharedCluster: a domain's view of its platform stack's cluster, via StackReference."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.base import ClusterHandle


@dataclass(frozen=True)
class SharedClusterArgs:
    """Inputs of SharedCluster."""

    stack_ref: str
    """Fully qualified platform stack: `<organization>/<project>/<stack>`."""


class SharedCluster(pulumi.ComponentResource):
    """Reads the platform stack's outputs and builds a provider for its cluster."""

    name: pulumi.Output[str]
    argocd_namespace: pulumi.Output[str | None]
    handle: ClusterHandle

    def __init__(self, name: str, args: SharedClusterArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:cluster:SharedCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ref = pulumi.StackReference(f"{name}-ref", stack_name=args.stack_ref, opts=child)
        out = ref.get_output
        provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=out("kubeconfig"),
            context=out("kubeContext"),
            enable_server_side_apply=True,
            opts=child,
        )
        self.name = out("clusterName")
        self.argocd_namespace = out("argocdNamespace")
        self.handle = ClusterHandle(self.name, provider, out("kubeconfig"),
                                    out("kubeContext"), out("clusterEndpoint"),
                                    out("oidcIssuer"), out("oidcProviderArn"), out("network"))
        self.register_outputs({"name": self.name, "argocd_namespace": self.argocd_namespace})
