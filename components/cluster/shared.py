"""SharedCluster: a domain's view of its platform stack's cluster, via StackReference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.base import ClusterHandle


@dataclass(frozen=True)
class SharedClusterArgs:
    """Inputs of SharedCluster."""

    stack_ref: str
    """Fully qualified platform stack: `<organization>/<project>/<stack>`."""
    front_door: str | None = None
    """The domain's `frontDoor.baseDomain` when its front door is on: the platform must
    publish a front door (`frontDoor` output) with a Gateway and the same baseDomain."""


def checked_front_door(stack_ref: str, base_domain: str, published: Any) -> dict[str, Any]:
    """The platform's `frontDoor` output, when it matches the domain's front door; else a
    ValueError naming the key to fix (the offline plan exits 2 with it)."""
    if not isinstance(published, dict) or not published.get("gateway"):
        raise ValueError(f"frontDoor.enabled: platform stack '{stack_ref}' publishes no front "
                         "door (its `frontDoor` output has no Gateway): turn frontDoor on in "
                         "the platform stack first, or off in this domain")
    theirs = published.get("baseDomain")
    if theirs != base_domain:
        raise ValueError(f"frontDoor.baseDomain: '{base_domain}' differs from the platform "
                         f"stack's '{theirs}' ('{stack_ref}'): its Gateway and certificates "
                         "serve that base domain only")
    return published


class SharedCluster(pulumi.ComponentResource):
    """Reads the platform stack's outputs and builds a provider for its cluster."""

    name: pulumi.Output[str]
    argocd_namespace: pulumi.Output[str | None]
    front_door: pulumi.Output[dict[str, Any] | None]
    """The platform's front door, checked against the domain's (None: not asked)."""
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
        base = args.front_door
        self.front_door = out("frontDoor").apply(
            lambda v: None if base is None else checked_front_door(args.stack_ref, base, v))
        self.name = out("clusterName")
        self.argocd_namespace = out("argocdNamespace")
        self.handle = ClusterHandle(self.name, provider, out("kubeconfig"),
                                    out("kubeContext"), out("clusterEndpoint"),
                                    out("oidcIssuer"), out("oidcProviderArn"), out("network"))
        self.register_outputs({"name": self.name, "argocd_namespace": self.argocd_namespace,
                               "front_door": self.front_door})
