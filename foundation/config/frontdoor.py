"""`frontDoor:`: how people reach the web UIs: hostnames, TLS, DNS and single sign-on.

One Gateway per cluster (Envoy Gateway, in the stack that owns the cluster), a ListenerSet
and HTTPRoutes per domain (docs/front-door.md). Hostnames follow one rule,
`<app>.<domain>.<environment>.<baseDomain>` (foundation/naming.py).
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from foundation.config.base import Model
from foundation.config.secrets import SecretValue
from foundation.naming import FRONT_DOOR_APPS, PLATFORM_UI_APPS, UI_APPS, hostname

DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*"
                      r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
EMAIL = re.compile(r"^[^@\s]+@[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$")
ROUTE53_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
CLOUD_DNS_ZONE = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
SSO_GROUP = re.compile(r"^[A-Za-z0-9/][A-Za-z0-9@._:/+=-]{0,254}$")
"""A group an app's role mapping names: Argo CD's policy CSV, Grafana's JMESPath and the
Gateway's claim match take it as is, so quotes, commas, backslashes and blanks (which
would break out of those syntaxes) are refused, whatever the spelling."""
CLAIM = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
PROXIED_APPS = ("airbyte", "metabase")
"""No OIDC in their open-source editions: the Gateway signs people in and checks groups."""


def dns_name(value: str) -> str:
    """A lowercase DNS name without a trailing dot: one spelling per name, so the zone
    check below cannot be sidestepped by case or a root dot."""
    if not DNS_NAME.match(value):
        raise ValueError(f"'{value}' is not a DNS name: lowercase labels of letters, digits "
                         "and '-', separated by dots, no trailing dot")
    return value


def _https_url(value: str | None, what: str) -> str | None:
    if value is None:
        return value
    parts = urlsplit(value.strip())
    if (parts.scheme.lower() != "https" or not parts.hostname or parts.username
            or parts.password or parts.query or parts.fragment or value != value.strip()):
        raise ValueError(f"'{value}' is not {what}: https://host[/path], no credentials, "
                         "query or fragment")
    return value


def within(name: str, zone: str) -> bool:
    """`name` is `zone` or below it, on a label boundary (`evilexample.com` is not under
    `example.com`)."""
    return name == zone or name.endswith(f".{zone}")


class TlsConfig(Model):
    """Certificates of the front door (cert-manager)."""

    mode: Literal["acme", "selfSigned", "off"] = Field(
        "selfSigned", description="'acme': Let's Encrypt through DNS-01 in the customer's "
        "zone (aws, gcp); 'selfSigned': a local CA whose root the README says how to trust "
        "(local); 'off': no certificates (not in prod).")
    acme_email: str | None = Field(
        None, description="Contact e-mail of the ACME account (expiry notices); needed "
        "with mode 'acme'.")
    acme_server: Literal["production", "staging"] = Field(
        "production", description="Let's Encrypt's production or staging directory "
        "(staging: untrusted certificates, generous rate limits, for trials).")

    @field_validator("acme_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.match(value):
            raise ValueError(f"'{value}' is not an e-mail address")
        return value


class DnsConfig(Model):
    """The customer's DNS zone, where external-dns writes records and DNS-01 proves names."""

    zone: str | None = Field(None, description="DNS name of the zone (e.g. data.hooli.com); "
                                               "baseDomain must lie within it.")
    route53_zone_id: str | None = Field(None, description="aws: id of the Route 53 hosted "
                                                          "zone (Z...).")
    cloud_dns_zone: str | None = Field(None, description="gcp: name of the Cloud DNS managed "
                                                         "zone, in the stack's project.")

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else dns_name(value)

    @field_validator("route53_zone_id")
    @classmethod
    def _zone_id(cls, value: str | None) -> str | None:
        if value is not None and not ROUTE53_ZONE_ID.match(value):
            raise ValueError(f"'{value}' is not a Route 53 hosted zone id (Z followed by "
                             "upper-case letters and digits, no /hostedzone/ prefix)")
        return value

    @field_validator("cloud_dns_zone")
    @classmethod
    def _managed_zone(cls, value: str | None) -> str | None:
        if value is not None and not CLOUD_DNS_ZONE.match(value):
            raise ValueError(f"'{value}' is not a Cloud DNS managed zone name")
        return value


class OidcConfig(Model):
    """The OIDC issuer people sign in with (Google, Entra ID, Okta, Keycloak, Dex)."""

    issuer: str | None = Field(None, description="Issuer URL (https); none: no single "
                                                 "sign-on (local dev only).")
    client_id: str | None = Field(None, description="Client id registered at the issuer.")
    client_secret: SecretValue | None = Field(
        None, description="Client secret (a config secret: `pulumi config set --secret "
        "--path 'dataplatform:frontDoor.oidc.clientSecret' <value>`).")
    jwks_uri: str | None = Field(
        None, description="The issuer's JWKS URI (`jwks_uri` of <issuer>/.well-known/"
        "openid-configuration): the Gateway checks the ID token's group claim with it "
        "before Airbyte and Metabase (needed when either is routed).")
    authorization_endpoint: str | None = Field(
        None, description="The issuer's authorization endpoint (`authorization_endpoint` "
        "of its discovery document): Grafana's generic OAuth does not discover it (needed "
        "when Grafana is routed).")
    token_endpoint: str | None = Field(
        None, description="The issuer's token endpoint (`token_endpoint`), for Grafana.")
    groups_claim: str = Field("groups", description="ID-token claim holding the user's "
                                                    "groups (a top-level claim).")
    scopes: list[str] = Field(
        default_factory=lambda: ["openid", "email", "profile"],
        description="Scopes every app requests; add the one your issuer needs for the "
        "groups claim (Dex, Okta, Keycloak: 'groups'; Entra ID and Google put groups in "
        "the token through the app registration instead).")
    admin_groups: list[str] = Field(
        default_factory=list, description="Platform stack: issuer groups administering "
        "the cluster's Argo CD and Grafana (needed with an issuer). A domain's groups are "
        "isolation.adminGroups and isolation.viewerGroups.")
    viewer_groups: list[str] = Field(
        default_factory=list, description="Platform stack: issuer groups with read-only "
        "access to Argo CD and Grafana.")

    @field_validator("issuer")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        return _https_url(value, "an issuer URL")

    @field_validator("jwks_uri", "authorization_endpoint", "token_endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return _https_url(value, "an endpoint URL")

    @field_validator("groups_claim")
    @classmethod
    def _claim(cls, value: str) -> str:
        if not CLAIM.match(value):
            raise ValueError(f"'{value}' is not a top-level claim name (letters, digits, "
                             "'_' and '-', starting with a letter or '_')")
        return value

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("the scopes must include 'openid'")
        bad = [v for v in value if not re.match(r"^[\x21\x23-\x5b\x5d-\x7e]+$", v)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a scope (RFC 6749: printable ASCII, no "
                             "blank, quote or backslash)")
        return value


class FrontDoorConfig(Model):
    """Hostnames, TLS, DNS and single sign-on of the web UIs."""

    enabled: bool = Field(False, description="Reach the UIs through the cluster's Gateway.")
    base_domain: str | None = Field(
        None, description="Base of every hostname: <app>.<domain>.<environment>.<baseDomain> "
        "(e.g. data.hooli.com; locally 'localhost').")
    tls: TlsConfig = Field(default_factory=TlsConfig)
    dns: DnsConfig = Field(default_factory=DnsConfig)
    oidc: OidcConfig = Field(default_factory=OidcConfig)
    apps: list[str] | None = Field(
        None, description="Apps to route (default: every enabled app with a web UI: "
        "airflow, airbyte, metabase, datahub; a cluster owner adds argocd and grafana).")

    @field_validator("base_domain")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        return None if value is None else dns_name(value)


def routed_apps(cfg: Any) -> list[str]:
    """The apps a stack routes: `frontDoor.apps`, or every enabled UI app."""
    fd: FrontDoorConfig = cfg.front_door
    return list(fd.apps) if fd.apps is not None else [a for a in FRONT_DOOR_APPS
                                                      if app_enabled(cfg, a)]


def app_enabled(cfg: Any, app: str) -> bool:
    """Whether `app` runs in this stack: a domain app enabled under `apps:`, or a cluster
    owner's Argo CD / Grafana (kube-prometheus-stack)."""
    if app in UI_APPS:
        return cfg.kind == "domain" and getattr(cfg.apps, app).enabled
    if app == "argocd":
        return cfg.owns_cluster and cfg.apps.argocd.enabled
    if app == "grafana":
        return cfg.owns_cluster and cfg.monitoring.enabled
    return False


def front_door_rules(cfg: Any) -> list[tuple[str, str]]:
    """Cross-section problems of `cfg.front_door` (a StackConfig), keyed from the file root."""
    fd: FrontDoorConfig = cfg.front_door
    if not fd.enabled:
        return []
    p: list[tuple[str, str]] = []
    if not fd.base_domain:
        p.append(("frontDoor.baseDomain", "the front door needs the base of its hostnames"))
    tls, oidc = fd.tls, fd.oidc
    if cfg.profile == "prod" and tls.mode != "acme":
        p.append(("frontDoor.tls.mode", f"a prod stack needs publicly trusted TLS: 'acme', "
                                        f"not '{tls.mode}'"))
    if tls.mode == "acme":
        if cfg.cloud == "local":
            p.append(("frontDoor.tls.mode", "'acme' proves names through the cloud's DNS "
                                            "(DNS-01): aws or gcp; locally use 'selfSigned'"))
        if not tls.acme_email:
            p.append(("frontDoor.tls.acmeEmail", "mode 'acme' needs the ACME account's "
                                                 "contact e-mail"))
    if cfg.profile == "prod" and not oidc.issuer:
        p.append(("frontDoor.oidc.issuer", "a prod stack needs single sign-on: set the OIDC "
                                           "issuer, clientId and clientSecret"))
    if oidc.issuer and not oidc.client_id:
        p.append(("frontDoor.oidc.clientId", "an OIDC issuer needs the client id"))
    if oidc.issuer and oidc.client_secret is None:
        p.append(("frontDoor.oidc.clientSecret", "an OIDC issuer needs the client secret: "
                  "`pulumi config set --secret --path 'dataplatform:frontDoor.oidc."
                  "clientSecret' <value>`"))
    if not oidc.issuer and (oidc.client_id or oidc.client_secret):
        p.append(("frontDoor.oidc.issuer", "clientId and clientSecret need the issuer"))
    p += _dns_rules(cfg, fd)
    p += _route_rules(cfg, fd)
    p += _sso_rules(cfg, fd)
    return p


def sso_groups(cfg: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(key, group) of the stack's admin and viewer groups for the apps' roles: a
    platform's `frontDoor.oidc.*Groups`, a domain's `isolation.*Groups` (the admins'
    default `<domain-id>-admins` when none is listed)."""
    if cfg.kind == "platform":
        o = cfg.front_door.oidc
        return ([(f"frontDoor.oidc.adminGroups.{i}", g) for i, g in enumerate(o.admin_groups)],
                [(f"frontDoor.oidc.viewerGroups.{i}", g) for i, g in enumerate(o.viewer_groups)])
    iso = cfg.isolation
    admins = [(f"isolation.adminGroups.{i}", g) for i, g in enumerate(iso.admin_groups)] \
        or [("isolation.adminGroups", g) for g in iso.effective_admin_groups(cfg.naming.base)]
    return admins, [(f"isolation.viewerGroups.{i}", g) for i, g in enumerate(iso.viewer_groups)]


def _sso_rules(cfg: Any, fd: FrontDoorConfig) -> list[tuple[str, str]]:
    oidc, p = fd.oidc, []
    if cfg.kind != "platform":
        p += [(f"frontDoor.oidc.{k}", "a domain's sign-on groups are isolation.adminGroups "
               "and isolation.viewerGroups") for k, v in (
                   ("adminGroups", oidc.admin_groups), ("viewerGroups", oidc.viewer_groups)) if v]
    if not oidc.issuer:
        return p
    if cfg.kind == "platform" and not oidc.admin_groups:
        p.append(("frontDoor.oidc.adminGroups", "with an OIDC issuer, name the issuer's "
                  "groups that administer Argo CD and Grafana (nobody else gets a role)"))
    admins, viewers = sso_groups(cfg)
    p += [(key, f"'{g}' cannot be a sign-on group: letters, digits and @ . _ : / + = - "
                "only (the apps' role mappings take it as is)")
          for key, g in (*admins, *viewers) if not SSO_GROUP.match(g)]
    proxied = sorted(set(PROXIED_APPS) & set(routed_apps(cfg)))
    if proxied and not oidc.jwks_uri:
        p.append(("frontDoor.oidc.jwksUri", f"{' and '.join(proxied)} have no OIDC of their "
                  "own: the Gateway checks the ID token's groups with the issuer's JWKS URI "
                  "(jwks_uri of <issuer>/.well-known/openid-configuration)"))
    if "grafana" in routed_apps(cfg):
        p += [(f"frontDoor.oidc.{k}", f"Grafana's generic OAuth needs the issuer's {what} "
               f"({what} of <issuer>/.well-known/openid-configuration)")
              for k, v, what in (("authorizationEndpoint", oidc.authorization_endpoint,
                                  "authorization_endpoint"),
                                 ("tokenEndpoint", oidc.token_endpoint, "token_endpoint"))
              if not v]
    return p


def _dns_rules(cfg: Any, fd: FrontDoorConfig) -> list[tuple[str, str]]:
    dns, p = fd.dns, []
    if cfg.cloud == "local":
        return [(f"frontDoor.dns.{k}", "a local cluster has no cloud DNS zone: its names "
                 "resolve locally (README, Reaching the apps)")
                for k, v in (("zone", dns.zone), ("route53ZoneId", dns.route53_zone_id),
                             ("cloudDnsZone", dns.cloud_dns_zone)) if v]
    if not dns.zone:
        p.append(("frontDoor.dns.zone", "the customer's DNS zone (its DNS name) is needed on "
                                        f"cloud '{cfg.cloud}'"))
    elif fd.base_domain and not within(fd.base_domain, dns.zone):
        p.append(("frontDoor.baseDomain", f"'{fd.base_domain}' is outside the customer's zone "
                                          f"'{dns.zone}': every hostname must lie within it"))
    owner = cfg.owns_cluster
    wrong, needed = (("cloudDnsZone", dns.cloud_dns_zone), ("route53ZoneId", "aws")) \
        if cfg.cloud == "aws" else (("route53ZoneId", dns.route53_zone_id),
                                    ("cloudDnsZone", "gcp"))
    if wrong[1]:
        p.append((f"frontDoor.dns.{wrong[0]}", f"not on cloud '{cfg.cloud}'"))
    have = dns.route53_zone_id if cfg.cloud == "aws" else dns.cloud_dns_zone
    if owner and not have:
        p.append((f"frontDoor.dns.{needed[0]}", f"the stack owning the cluster runs "
                  f"external-dns and cert-manager's DNS-01 solver on cloud '{needed[1]}': "
                  "name the zone they may write"))
    return p


def _route_rules(cfg: Any, fd: FrontDoorConfig) -> list[tuple[str, str]]:
    p = []
    known = sorted(FRONT_DOOR_APPS)
    for i, app in enumerate(fd.apps or []):
        if app not in FRONT_DOOR_APPS:
            p.append((f"frontDoor.apps.{i}", f"'{app}' has no web UI to route (known: "
                                             f"{', '.join(known)})"))
        elif not app_enabled(cfg, app):
            where = ("the stack that owns the cluster" if app in PLATFORM_UI_APPS
                     else f"apps.{app}.enabled")
            p.append((f"frontDoor.apps.{i}", f"a route to '{app}', which this stack does "
                                             f"not run (see {where})"))
        elif fd.apps and fd.apps.index(app) != i:
            p.append((f"frontDoor.apps.{i}", f"'{app}' is listed more than once"))
    if fd.base_domain and not p:
        for app in routed_apps(cfg):
            name = hostname(app, cfg.naming, fd.base_domain)
            if len(name) > 253 or any(len(label) > 63 for label in name.split(".")):
                p.append(("frontDoor.baseDomain", f"hostname '{name}' is longer than DNS "
                                                  "allows (253, 63 per label)"))
    return p
