"""PlatformStack: the shared cluster of a customer environment, with Argo CD."""

from __future__ import annotations

import pulumi

from components.cloud_provider import cloud_provider
from components.stacks._cluster_owner import build_owned_cluster
from components.stacks.args import PlatformStackArgs


class PlatformStack(pulumi.ComponentResource):
    """The shared cluster, its GitOps engine and its monitoring stack."""

    cluster_name: pulumi.Output[str]
    argocd_namespace: pulumi.Output[str | None]
    exports: dict[str, pulumi.Output]

    def __init__(self, name: str, args: PlatformStackArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:stack:PlatformStack", name, None, opts)
        provider = cloud_provider(name, args.site, pulumi.ResourceOptions(parent=self))
        owned = build_owned_cluster(name, args.owned, self, provider)
        self.cluster_name = owned.handle.name
        self.argocd_namespace = pulumi.Output.from_input(
            owned.argocd.namespace if owned.argocd else None)
        naming = args.site.naming
        # What domain stacks read through their StackReference.
        self.exports = {**owned.handle.outputs(), "argocdNamespace": self.argocd_namespace,
                        # None: no monitoring stack, so no CRDs for the domains' monitors.
                        "monitoringNamespace": pulumi.Output.from_input(
                            owned.monitoring.namespace if owned.monitoring else None),
                        "customer": pulumi.Output.from_input(naming.customer),
                        "environment": pulumi.Output.from_input(naming.environment)}
        self.register_outputs(self.exports)
