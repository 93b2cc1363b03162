"""ExternalDns: external-dns (the pinned chart), writing the records of the front door's
routes to Route 53 or Cloud DNS through workload identity, in the customer's zone only:
the zone filter (id or name), the domain filter (the base domain) and the identity's
grants all say so, and the TXT registry (owner id: the cluster) keeps it off records
another cluster wrote."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.frontdoor._identity import for_addon, zone_identity
from components.frontdoor.args import EXTERNAL_DNS_NAMESPACE, FrontDoorArgs
from components.helm_app import HelmApp, HelmAppArgs

APP = "external-dns"
SERVICE_ACCOUNT = "external-dns"


def provider_values(args: FrontDoorArgs) -> dict:
    """The provider, filters and owner id of this cluster."""
    if args.cloud == "aws":
        provider = {"name": "aws"}
        extra = [f"--zone-id-filter={args.route53_zone_id}"]
        env = [{"name": "AWS_DEFAULT_REGION", "value": args.region}]
    else:
        provider = {"name": "google"}
        extra = [f"--zone-id-filter={args.cloud_dns_zone}", f"--google-project={args.project}"]
        env = []
    return {"provider": provider, "domainFilters": [args.base_domain],
            "txtOwnerId": args.cluster_name, "extraArgs": extra, "env": env,
            "serviceMonitor": {"enabled": args.monitoring}}


class ExternalDns(pulumi.ComponentResource):
    """external-dns and its identity, on aws or gcp."""

    values: pulumi.Output[dict]

    def __init__(self, name: str, args: FrontDoorArgs,
                 opts: pulumi.ResourceOptions | None = None):
        if args.cloud == "local":
            raise ValueError(f"ExternalDns {name}: a local cluster has no cloud DNS")
        super().__init__("dataplatform:frontdoor:ExternalDns", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ns = k8s.core.v1.Namespace(f"{name}-namespace", metadata={
            "name": EXTERNAL_DNS_NAMESPACE, "labels": {
                **args.labels, "pod-security.kubernetes.io/enforce": "restricted"}}, opts=child)
        annotations, grants = zone_identity(self, f"{name}-identity", for_addon(
            args, APP, args.external_dns_identity, EXTERNAL_DNS_NAMESPACE, SERVICE_ACCOUNT))
        static = provider_values(args)
        release = HelmApp(f"{name}-chart", HelmAppArgs(
            app=APP, namespace=ns.metadata["name"], profile=args.profile, delivery="helm",
            release_name=APP, computed=annotations.apply(lambda a: {
                **static, "serviceAccount": {"annotations": a}})),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ns, *grants]))
        self.values = release.values
        self.register_outputs({"values": self.values})
