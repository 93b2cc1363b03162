"""CertManager: cert-manager (the pinned chart) and the front door's ClusterIssuer.

- `acme`: Let's Encrypt, DNS-01 in the customer's zone only (the solver's selector, and an
  identity allowed on that zone alone: components/frontdoor/_identity.py);
- `selfSigned`: a self-signed issuer signs a CA Certificate (Secret `front-door-ca` in
  cert-manager's namespace), and a CA issuer signs every front-door certificate with it:
  one root to trust on a laptop (README, Reaching the apps).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.frontdoor._identity import for_addon, zone_identity
from components.frontdoor.args import CERT_MANAGER_NAMESPACE, ISSUER, FrontDoorArgs
from components.frontdoor.routes import CERT_API
from components.helm_app import HelmApp, HelmAppArgs

APP = "cert-manager"
SERVICE_ACCOUNT = "cert-manager"
"""The controller's ServiceAccount (the chart's fullname for release `cert-manager`)."""
CA_SECRET = "front-door-ca"
ACME_SERVERS = {"production": "https://acme-v02.api.letsencrypt.org/directory",
                "staging": "https://acme-staging-v02.api.letsencrypt.org/directory"}


def acme_solver(args: FrontDoorArgs) -> dict:
    """DNS-01 through the cloud's DNS, for names in the customer's zone only."""
    if args.cloud == "aws":
        dns01 = {"route53": {"region": args.region, "hostedZoneID": args.route53_zone_id}}
    else:
        dns01 = {"cloudDNS": {"project": args.project, "hostedZoneName": args.cloud_dns_zone}}
    return {"selector": {"dnsZones": [args.zone]}, "dns01": dns01}


class CertManager(pulumi.ComponentResource):
    """cert-manager, its cloud identity (acme) and the ClusterIssuer `front-door`."""

    issuer: pulumi.Output[str]
    ca_secret: pulumi.Output[str | None]

    def __init__(self, name: str, args: FrontDoorArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:frontdoor:CertManager", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = dict(args.labels)
        ns = k8s.core.v1.Namespace(f"{name}-namespace", metadata={
            "name": CERT_MANAGER_NAMESPACE, "labels": {
                **labels, "pod-security.kubernetes.io/enforce": "restricted"}}, opts=child)
        deps: list[pulumi.Resource] = [ns]
        computed: pulumi.Input[dict] = {}
        if args.tls == "acme":
            annotations, grants = zone_identity(self, f"{name}-identity", for_addon(
                args, APP, args.cert_manager_identity, CERT_MANAGER_NAMESPACE,
                SERVICE_ACCOUNT))
            computed = annotations.apply(lambda a: {"serviceAccount": {"annotations": a}})
            deps += grants
        release = HelmApp(f"{name}-chart", HelmAppArgs(
            app=APP, namespace=ns.metadata["name"], profile=args.profile, delivery="helm",
            release_name=APP, computed=computed),
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps))
        after = pulumi.ResourceOptions(parent=self, depends_on=[release])
        ca_secret = None
        if args.tls == "acme":
            spec: dict = {"acme": {
                "server": ACME_SERVERS[args.acme_server], "email": args.acme_email,
                "privateKeySecretRef": {"name": f"{ISSUER}-acme-account"},
                "solvers": [acme_solver(args)]}}
            issuer_deps: list[pulumi.Resource] = [release]
        else:  # selfSigned (tls 'off' builds no CertManager)
            root = k8s.apiextensions.CustomResource(
                f"{name}-selfsigned", api_version=CERT_API, kind="ClusterIssuer",
                metadata={"name": f"{ISSUER}-selfsigned", "labels": labels},
                spec={"selfSigned": {}}, opts=after)
            ca = k8s.apiextensions.CustomResource(
                f"{name}-ca", api_version=CERT_API, kind="Certificate",
                metadata={"name": CA_SECRET, "namespace": CERT_MANAGER_NAMESPACE,
                          "labels": labels},
                spec={"isCA": True, "commonName": f"{args.base} front door CA",
                      "secretName": CA_SECRET, "duration": "87600h",  # 10 years
                      "privateKey": {"algorithm": "ECDSA", "size": 256},
                      "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer",
                                    "name": f"{ISSUER}-selfsigned"}},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[root]))
            spec = {"ca": {"secretName": CA_SECRET}}
            issuer_deps = [ca]
            ca_secret = CA_SECRET
        issuer = k8s.apiextensions.CustomResource(
            f"{name}-issuer", api_version=CERT_API, kind="ClusterIssuer",
            metadata={"name": ISSUER, "labels": labels}, spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=issuer_deps))
        self.issuer = issuer.metadata["name"]
        self.ca_secret = pulumi.Output.from_input(ca_secret)
        self.register_outputs({"issuer": self.issuer, "ca_secret": self.ca_secret})
