"""Inputs of the front-door components (`dataplatform/resolve/frontdoor.py` derives them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi

NAMESPACE = "envoy-gateway-system"
"""Envoy Gateway's namespace: its controller, the Gateway and the Envoy proxies."""
GATEWAY = "front-door"
"""The cluster's one Gateway (and its GatewayClass and EnvoyProxy)."""
ISSUER = "front-door"
"""The ClusterIssuer every front-door Certificate names."""
CERT_MANAGER_NAMESPACE = "cert-manager"
EXTERNAL_DNS_NAMESPACE = "external-dns"
OIDC_SECRET = "front-door-oidc"
"""Secret (key `client-secret`) an SSO SecurityPolicy reads, in each routed namespace."""
OIDC_SECRET_PATH = "frontDoor.oidc.clientSecret"
PROXY_LABELS = {"app.kubernetes.io/component": "proxy",
                "app.kubernetes.io/managed-by": "envoy-gateway",
                "gateway.envoyproxy.io/owning-gateway-name": GATEWAY}
"""Labels Envoy Gateway puts on the proxy pods of our Gateway (NetworkPolicy peers)."""
TlsMode = Literal["acme", "selfSigned", "off"]


@dataclass(frozen=True)
class Route:
    """One web UI behind the front door."""

    app: str
    """App key (airflow, metabase, argocd...): the HTTPRoute's name and hostname's label."""
    host: str
    """`<app>.<domain>.<environment>.<baseDomain>`."""
    namespace: str
    """Namespace of the app's Service (the HTTPRoute goes there)."""
    service: str
    """The app's Service."""
    port: int
    """The Service port the route targets."""
    target_port: int
    """The pods' port behind it (what the domain's NetworkPolicy opens to the proxies)."""
    sso_proxy: bool = False
    """Put the Gateway's OIDC filter in front (apps with no OIDC of their own)."""


@dataclass(frozen=True)
class OidcArgs:
    """The OIDC client of the front door, and who gets which role."""

    issuer: str
    """Issuer URL."""
    client_id: str
    """Client id."""
    secret_path: str = OIDC_SECRET_PATH
    """Config-secret path of the client secret (below `dataplatform:`)."""
    admin_groups: Sequence[str] = ()
    """Issuer groups mapped to each app's admin role."""
    viewer_groups: Sequence[str] = ()
    """Issuer groups mapped to each app's viewer (read-only) role."""
    groups_claim: str = "groups"
    """ID-token claim holding the groups."""
    scopes: Sequence[str] = ("openid", "email", "profile")
    """Scopes every client requests."""
    authorization_endpoint: str | None = None
    """The issuer's authorization endpoint (Grafana's generic OAuth has no discovery)."""
    token_endpoint: str | None = None
    """The issuer's token endpoint (Grafana)."""
    jwks_uri: str | None = None
    """The issuer's JWKS: the Gateway verifies the ID token's groups with it (None: the
    Gateway authenticates only; the config requires it when a proxied app is routed)."""

    @property
    def discovery_url(self) -> str:
        """OpenID Connect discovery document of the issuer."""
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"


@dataclass(frozen=True)
class SignOn:
    """How one app behind the front door signs people in (components/frontdoor/sso.py)."""

    url: str
    """The app's public URL (`https://<app>.<domain>.<env>.<baseDomain>`)."""
    oidc: OidcArgs | None = None
    """Native OIDC; None: the app keeps its own login (local dev without an issuer)."""


@dataclass(frozen=True)
class StackRoutesArgs:
    """The hostnames of one stack: its routes, and the listener that admits them."""

    owner: str
    """`<customer>-<domain>-<environment>`: names of the ListenerSet and Certificate."""
    namespace: str
    """Where the ListenerSet and its Certificate live (the domain's main namespace)."""
    wildcard: str
    """`*.<domain>.<environment>.<baseDomain>`."""
    routes: Sequence[Route]
    """The routed apps."""
    listener: Literal["gateway", "listenerset"] = "listenerset"
    """`gateway`: the cluster owner's hostnames, a listener of the Gateway itself (made by
    FrontDoor); `listenerset`: a domain on a shared cluster attaches its own ListenerSet."""
    route_namespaces: Sequence[str] = ()
    """Namespaces whose HTTPRoutes the listener admits."""
    tls: TlsMode = "selfSigned"
    """`off`: plain HTTP on port 80 (dev only; the config refuses it in prod)."""
    oidc: OidcArgs | None = None
    """SSO for `sso_proxy` routes; None: no sign-on at the Gateway (local dev)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels for every object."""

    def urls(self) -> dict[str, str]:
        """App -> its public URL (the stack's `urls` output)."""
        scheme = "http" if self.tls == "off" else "https"
        return {r.app: f"{scheme}://{r.host}" for r in self.routes}

    def sign_on(self) -> dict[str, SignOn]:
        """App -> its public URL and native OIDC, for the apps that sign people in
        themselves (not behind the Gateway's OIDC filter)."""
        urls = self.urls()
        return {r.app: SignOn(urls[r.app], self.oidc) for r in self.routes if not r.sso_proxy}


@dataclass(frozen=True)
class FrontDoorArgs:
    """The cluster side: Envoy Gateway and the Gateway, cert-manager and its issuer,
    external-dns (clouds)."""

    base: str
    """`<customer>-<domain>-<environment>` of the stack owning the cluster."""
    cloud: Literal["aws", "gcp", "local"]
    """Where DNS and DNS-01 go: Route 53, Cloud DNS, nowhere (local)."""
    profile: str
    """Profile whose values files are layered in."""
    cluster_name: str
    """external-dns's TXT owner id: records another cluster wrote are never touched."""
    base_domain: str
    """Base of the hostnames (external-dns's domain filter)."""
    owner: StackRoutesArgs
    """The owning stack's own hostnames: a listener of the Gateway."""
    tls: TlsMode = "selfSigned"
    acme_email: str | None = None
    """ACME account contact (mode acme)."""
    acme_server: Literal["production", "staging"] = "production"
    zone: str | None = None
    """DNS name of the customer's zone (aws/gcp)."""
    route53_zone_id: str | None = None
    cloud_dns_zone: str | None = None
    region: str | None = None
    """aws: region of the Route 53 client."""
    project: str | None = None
    """gcp: project of the Cloud DNS zone and the service accounts."""
    cert_manager_identity: str = ""
    """IAM role / GSA id of cert-manager (aws/gcp)."""
    external_dns_identity: str = ""
    """IAM role / GSA id of external-dns (aws/gcp)."""
    monitoring: bool = False
    """Scrape the proxies (the Prometheus operator's CRDs are installed)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    oidc_issuer: pulumi.Input[str | None] | None = None
    """aws: the cluster's OIDC issuer (set by the cluster owner)."""
    oidc_provider_arn: pulumi.Input[str | None] | None = None
    """aws: the cluster's IAM OIDC provider."""

    def __post_init__(self):
        problems = []
        if self.cloud in ("aws", "gcp") and not (self.zone and self.cert_manager_identity
                                                 and self.external_dns_identity):
            problems.append(f"cloud {self.cloud} needs the zone and both identities")
        if self.cloud == "aws" and not (self.route53_zone_id and self.region):
            problems.append("cloud aws needs route53_zone_id and region")
        if self.cloud == "gcp" and not (self.cloud_dns_zone and self.project):
            problems.append("cloud gcp needs cloud_dns_zone and project")
        if self.tls == "acme" and (self.cloud == "local" or not self.acme_email):
            problems.append("tls acme needs a cloud DNS zone and acme_email")
        if problems:
            raise ValueError(f"FrontDoor {self.base}: " + "; ".join(problems))
