"""The front door's Args: the cluster side (a stack owning its cluster) and each stack's
routes. `foundation/config/frontdoor.py` has checked the section already."""

from __future__ import annotations

from components.frontdoor import FrontDoorArgs, OidcArgs, Route, StackRoutesArgs
from components.frontdoor.backends import BACKENDS
from components.site import Site
from foundation.config.frontdoor import routed_apps, sso_groups
from foundation.config.stack import StackConfig
from foundation.naming import PLATFORM_UI_APPS, hostname, wildcard_host

ARGOCD_NAMESPACE = "argocd"  # components/argocd.py's ArgoCDArgs default


def _owner_namespaces(cfg: StackConfig) -> dict[str, str]:
    """Namespaces of the cluster owner's own UIs."""
    return {"argocd": ARGOCD_NAMESPACE, "grafana": cfg.monitoring.namespace}


def stack_routes(cfg: StackConfig, site: Site) -> StackRoutesArgs | None:
    """This stack's hostnames and routes; None without `frontDoor.enabled`."""
    fd = cfg.front_door
    if not fd.enabled:
        return None
    assert fd.base_domain  # front_door_rules requires it
    naming, main = cfg.naming, cfg.naming.namespace()
    own = _owner_namespaces(cfg)
    routes = []
    for app in routed_apps(cfg):
        b = BACKENDS[app]
        routes.append(Route(app=app, host=hostname(app, naming, fd.base_domain),
                            namespace=own[app] if app in PLATFORM_UI_APPS else main,
                            service=b.service, port=b.port, target_port=b.target_port,
                            sso_proxy=b.sso_proxy))
    domain_namespaces = [] if cfg.kind == "platform" else [
        main, *(naming.namespace(x) for x in cfg.isolation.extra_namespaces)]
    return StackRoutesArgs(
        owner=naming.base, namespace=main, wildcard=wildcard_host(naming, fd.base_domain),
        routes=tuple(routes), listener="gateway" if cfg.owns_cluster else "listenerset",
        route_namespaces=tuple(sorted({*domain_namespaces, *(r.namespace for r in routes)})),
        tls=fd.tls.mode, labels=site.k8s_labels, oidc=oidc_args(cfg))


def oidc_args(cfg: StackConfig) -> OidcArgs | None:
    """The stack's OIDC client and role groups; None without an issuer."""
    oidc = cfg.front_door.oidc
    if not (oidc.issuer and oidc.client_id):
        return None
    admins, viewers = sso_groups(cfg)
    return OidcArgs(oidc.issuer, oidc.client_id, admin_groups=tuple(g for _, g in admins),
                    viewer_groups=tuple(g for _, g in viewers),
                    groups_claim=oidc.groups_claim, scopes=tuple(oidc.scopes),
                    authorization_endpoint=oidc.authorization_endpoint,
                    token_endpoint=oidc.token_endpoint, jwks_uri=oidc.jwks_uri)


def front_door(cfg: StackConfig, site: Site) -> FrontDoorArgs | None:
    """The cluster side, for a stack owning its cluster with the front door on."""
    routes = stack_routes(cfg, site)
    if routes is None or not cfg.owns_cluster:
        return None
    fd, naming = cfg.front_door, cfg.naming
    identity = {"aws": "iam-role", "gcp": "gcp-service-account"}.get(cfg.cloud)
    assert fd.base_domain
    return FrontDoorArgs(
        base=naming.base, cloud=cfg.cloud, profile=cfg.profile, cluster_name=naming.base,
        base_domain=fd.base_domain, owner=routes, tls=fd.tls.mode,
        acme_email=fd.tls.acme_email, acme_server=fd.tls.acme_server, zone=fd.dns.zone,
        route53_zone_id=fd.dns.route53_zone_id, cloud_dns_zone=fd.dns.cloud_dns_zone,
        region=cfg.region, project=cfg.gcp_project,
        cert_manager_identity=naming.name("cert-manager", kind=identity) if identity else "",
        external_dns_identity=naming.name("external-dns", kind=identity) if identity else "",
        monitoring=cfg.monitoring.enabled, labels=site.k8s_labels)
