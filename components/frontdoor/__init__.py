"""The front door: every web UI over TLS at `<app>.<domain>.<environment>.<baseDomain>`.

The stack that owns the cluster builds FrontDoor (Envoy Gateway and the Gateway,
cert-manager and its ClusterIssuer, external-dns on aws/gcp); every stack with
`frontDoor.enabled` builds StackRoutes for its own apps (docs/front-door.md).
"""

from __future__ import annotations

import pulumi

from components.frontdoor.args import FrontDoorArgs, OidcArgs, Route, StackRoutesArgs
from components.frontdoor.certificates import CertManager
from components.frontdoor.dns import ExternalDns
from components.frontdoor.gateway import ClusterGateway
from components.frontdoor.routes import StackRoutes

__all__ = ["FrontDoor", "FrontDoorArgs", "OidcArgs", "Route", "StackRoutes",
           "StackRoutesArgs"]


class FrontDoor(pulumi.ComponentResource):
    """The cluster side of the front door."""

    gateway: ClusterGateway
    exports: pulumi.Output[dict]

    def __init__(self, name: str, args: FrontDoorArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:frontdoor:FrontDoor", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        certs = CertManager(f"{name}-cert-manager", args, opts=child) \
            if args.tls != "off" else None
        self.gateway = ClusterGateway(f"{name}-gateway", args, certs, opts=child)
        if args.cloud != "local":
            ExternalDns(f"{name}-external-dns", args, opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.gateway]))
        # What domain stacks on this cluster read (the platform's `frontDoor` output).
        self.exports = pulumi.Output.from_input({
            "baseDomain": args.base_domain, "gatewayNamespace": self.gateway.namespace,
            "gateway": self.gateway.gateway, "tls": args.tls,
            "caSecret": certs.ca_secret if certs else None})
        self.register_outputs({"exports": self.exports})
