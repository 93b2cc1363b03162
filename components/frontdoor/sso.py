"""Native sign-on of the apps behind the front door: Argo CD, Grafana, DataHub, Airflow.

Each app gets its public URL and, with an OIDC issuer, its OIDC client settings and a role
mapping from the issuer's groups (admin groups -> the app's admin role, viewer groups ->
its read-only role; nobody else gets a role). What is known before deployment lives in
`charts-values/<chart>/front-door/`: `values.yaml` when the app is routed, `oidc.yaml` on
top with an issuer; code computes URLs, client ids and the group mappings only. The client
secret is a config secret, copied into a Secret of the app's own (`<app>-oidc`, key
`client-secret`) that the chart reads by reference, never into values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components._values import file_layers, layer
from components.frontdoor.args import OidcArgs, SignOn
from foundation.config.secrets import config_secret

SECRET_KEY = "client-secret"
"""Key of the client secret in each app's `<app>-oidc` Secret."""
ARGOCD_SECRET_LABELS = {"app.kubernetes.io/part-of": "argocd"}
"""Argo CD resolves `$<secret>:<key>` only in Secrets carrying this label."""


def oidc_secret(name: str, namespace: pulumi.Input[str], secret: str, oidc: OidcArgs,
                labels: Mapping[str, str], opts: pulumi.ResourceOptions) -> k8s.core.v1.Secret:
    """Secret `secret` (key `client-secret`) holding the config secret, for one app."""
    return k8s.core.v1.Secret(
        name, metadata={"name": secret, "namespace": namespace, "labels": dict(labels)},
        type="Opaque", string_data={SECRET_KEY: config_secret(oidc.secret_path)}, opts=opts)


def front_door_layers(chart: str, sign_on: SignOn) -> dict[str, Any]:
    """`charts-values/<chart>/front-door/values.yaml`, and its `oidc.yaml` with an issuer."""
    base, with_oidc = file_layers(f"{chart}/front-door", "oidc")
    return layer(base, with_oidc) if sign_on.oidc else dict(base)


def _host(url: str) -> str:
    return url.split("://", 1)[1]


# --- Argo CD (chart argo-cd: configs.cm, configs.rbac, configs.params, global.domain)

def argocd_values(sign_on: SignOn, secret: str) -> dict[str, Any]:
    """The URL (TLS ends at the Gateway: the server runs insecure, front-door/values.yaml)
    and, with an issuer, `oidc.config` naming the client secret as `$<secret>:<key>` and
    the RBAC policy: admin groups `role:admin`, viewer groups `role:readonly`. A domain's
    groups get their AppProject's roles (`project_roles`), not a global one."""
    values = layer(front_door_layers("argo-cd", sign_on), {
        "global": {"domain": _host(sign_on.url)}, "configs": {"cm": {"url": sign_on.url}}})
    oidc = sign_on.oidc
    if oidc is None:
        return values
    config = {"name": "SSO", "issuer": oidc.issuer, "clientID": oidc.client_id,
              "clientSecret": f"${secret}:{SECRET_KEY}",
              "requestedScopes": list(oidc.scopes)}
    policy = [f"g, {g}, role:admin" for g in oidc.admin_groups] + \
        [f"g, {g}, role:readonly" for g in oidc.viewer_groups]
    return layer(values, {"configs": {
        "cm": {"oidc.config": yaml.safe_dump(config, sort_keys=False)},
        "rbac": {"policy.csv": "\n".join(policy) + "\n",
                 "scopes": f"[{oidc.groups_claim}]"}}})


def project_roles(project: str, oidc: OidcArgs | None) -> list[dict[str, Any]]:
    """A domain's AppProject roles: its admin groups may do anything to the project's
    Applications (sync, delete, logs), its viewer groups only read them."""
    if oidc is None:
        return []
    apps = f"{project}/*"
    roles = [("admin", oidc.admin_groups, [
        f"p, proj:{project}:admin, applications, *, {apps}, allow",
        f"p, proj:{project}:admin, logs, get, {apps}, allow"]),
        ("viewer", oidc.viewer_groups, [
            f"p, proj:{project}:viewer, applications, get, {apps}, allow"])]
    return [{"name": role, "description": f"{role}s of {project} (single sign-on groups)",
             "policies": policies, "groups": list(groups)}
            for role, groups, policies in roles if groups]


# --- Grafana (kube-prometheus-stack's grafana subchart: grafana.ini, envValueFrom)

def grafana_role_path(oidc: OidcArgs) -> str:
    """JMESPath over the ID token: 'Admin' for an admin group, 'Viewer' for a viewer
    group, nothing else (role_attribute_strict refuses the login then). Groups and claim
    are validated (foundation/config/frontdoor.py: no quotes or backslashes)."""
    def member(groups: Sequence[str]) -> str:
        return " || ".join(f"contains(\"{oidc.groups_claim}\"[*], '{g}')" for g in groups)

    parts = [f"({member(g)}) && '{role}'" for g, role in (
        (oidc.admin_groups, "Admin"), (oidc.viewer_groups, "Viewer")) if g]
    return " || ".join(parts)


def grafana_values(sign_on: SignOn, secret: str) -> dict[str, Any]:
    """`grafana:` values of kube-prometheus-stack: root_url, and with an issuer the generic
    OAuth client, its secret from Secret `secret` through the environment."""
    ini: dict[str, Any] = {"server": {"root_url": sign_on.url, "domain": _host(sign_on.url)}}
    values: dict[str, Any] = {"grafana": {"grafana.ini": ini}}
    oidc = sign_on.oidc
    if oidc is not None:
        ini["auth.generic_oauth"] = {
            "client_id": oidc.client_id, "scopes": " ".join(oidc.scopes),
            "auth_url": oidc.authorization_endpoint, "token_url": oidc.token_endpoint,
            "groups_attribute_path": f"\"{oidc.groups_claim}\"",
            "role_attribute_path": grafana_role_path(oidc)}
        values["grafana"]["envValueFrom"] = {"GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET": {
            "secretKeyRef": {"name": secret, "key": SECRET_KEY}}}
    return {"grafana": layer(front_door_layers("kube-prometheus-stack", sign_on).get(
        "grafana") or {}, values["grafana"])}


# --- DataHub (datahub-frontend: extraEnvs; the chart's oidcAuthentication block knows
# only a few providers and no groups claim, so the AUTH_OIDC_* variables are set directly)

def datahub_frontend_env(sign_on: SignOn, secret: str) -> list[dict[str, Any]]:
    """AUTH_OIDC_* of the frontend: client, discovery, base URL, groups claim; the static
    ones (JIT provisioning, group extraction) come from front-door/oidc.yaml."""
    oidc = sign_on.oidc
    if oidc is None:
        return []
    static = front_door_layers("datahub", sign_on).get("datahub-frontend", {})
    return [*static.get("extraEnvs", []),
            {"name": "AUTH_OIDC_CLIENT_ID", "value": oidc.client_id},
            {"name": "AUTH_OIDC_CLIENT_SECRET", "valueFrom": {"secretKeyRef": {
                "name": secret, "key": SECRET_KEY}}},
            {"name": "AUTH_OIDC_DISCOVERY_URI", "value": oidc.discovery_url},
            {"name": "AUTH_OIDC_BASE_URL", "value": sign_on.url},
            {"name": "AUTH_OIDC_SCOPE", "value": " ".join(oidc.scopes)},
            {"name": "AUTH_OIDC_GROUPS_CLAIM", "value": oidc.groups_claim}]


# --- Airflow (FAB auth manager; webserver_config.py in front-door/oidc.yaml reads these)

def airflow_values(sign_on: SignOn, secret: str, static: Mapping[str, Any]) -> dict[str, Any]:
    """`api.base_url`, and with an issuer the API server's webserver_config.py (FAB OAuth
    against the issuer, charts-values/airflow/front-door/oidc.yaml) and the variables it
    reads: issuer, client, scopes, groups claim, the role mapping as JSON
    (admin groups -> Admin, viewer groups -> Viewer; others get Public: no access), the
    client secret from Secret `secret`."""
    base = {"config": {"api": {"base_url": sign_on.url}}}
    oidc = sign_on.oidc
    if oidc is None:
        return base
    roles: dict[str, list[str]] = {}
    for groups, role in ((oidc.admin_groups, "Admin"), (oidc.viewer_groups, "Viewer")):
        for g in groups:
            roles.setdefault(g, []).append(role)
    env = [{"name": "AIRFLOW_SSO_DISCOVERY_URL", "value": oidc.discovery_url},
           {"name": "AIRFLOW_SSO_CLIENT_ID", "value": oidc.client_id},
           {"name": "AIRFLOW_SSO_CLIENT_SECRET", "valueFrom": {"secretKeyRef": {
               "name": secret, "key": SECRET_KEY}}},
           {"name": "AIRFLOW_SSO_SCOPES", "value": " ".join(oidc.scopes)},
           {"name": "AIRFLOW_SSO_GROUPS_CLAIM", "value": oidc.groups_claim},
           {"name": "AIRFLOW_SSO_ROLES", "value": json.dumps(roles, sort_keys=True)}]
    files = layer(front_door_layers("airflow", sign_on), base)
    api = files.get("apiServer") or {}
    return layer(files, {"apiServer": {"env": [
        *((static.get("apiServer") or {}).get("env") or []), *(api.get("env") or []), *env]}})
