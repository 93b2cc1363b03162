"""DataHub's Secrets: generated once with pulumi-random, or from config secrets.

Generated (stable across upgrades and Argo CD renders, unlike the chart's own random
Secrets): the system client secret and token-service signing key and salt, the encryption
key for secrets stored in DataHub, the frontend's session secret (`DATAHUB_SECRET`) and
Kafka's KRaft cluster id, and the root user's password (which replaces the image's default
`datahub:datahub`). From config secrets: the managed search password, the Metabase
and warehouse passwords the recipes read. Only names reach the Helm values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.apps.context import AppContext
from components.apps.datahub._settings import (
    AUTH_KEYS,
    AUTH_SECRET,
    ENCRYPTION_KEY,
    ENCRYPTION_SECRET,
    FRONTEND_KEY,
    FRONTEND_SECRET,
    KRAFT_KEY,
    KRAFT_SECRET,
    ROOT_USER,
    ROOT_USER_SECRET,
    SEARCH_SECRET,
    USER_PROPS,
)
from components.lineage.sources import METABASE_SECRET, WAREHOUSE_SECRET
from foundation.config.datahub import DataHubConfig
from foundation.config.secrets import config_secret


def _password(name: str, length: int, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
    return random.RandomPassword(name, length=length, special=False, opts=opts).result


MakeSecret = Callable[[str, str, Mapping[str, pulumi.Input[str]]], k8s.core.v1.Secret]


def root_user_secret(name: str, secret: MakeSecret,
                     opts: pulumi.ResourceOptions) -> k8s.core.v1.Secret:
    """The root user's generated password, as the frontend's JAAS `user.props`."""
    password = _password(f"{name}-root-password", 32, opts)
    return secret("root-user", ROOT_USER_SECRET, {
        USER_PROPS: password.apply(lambda p: f"{ROOT_USER}:{p}\n"),
        "username": ROOT_USER, "password": password})


def build_secrets(name: str, ctx: AppContext, dh: DataHubConfig, parent: pulumi.Resource,
                  recipe_secrets: set[str], protect: bool) -> list[k8s.core.v1.Secret]:
    """Every Secret DataHub and its recipes reference; `recipe_secrets`: those in use.

    `protect` (prod): the encryption key and the KRaft cluster id cannot change without
    losing data (secrets stored in DataHub, Kafka's log directories).
    """
    opts = pulumi.ResourceOptions(parent=parent)
    kept = pulumi.ResourceOptions(parent=parent, protect=protect or None)
    meta = {"namespace": ctx.namespace, "labels": dict(ctx.labels)}

    def secret(role: str, secret_name: str, data: Mapping[str, pulumi.Input[str]]
               ) -> k8s.core.v1.Secret:
        return k8s.core.v1.Secret(
            f"{name}-{role}", metadata={"name": secret_name, **meta}, type="Opaque",
            string_data={k: pulumi.Output.secret(v) for k, v in data.items()}, opts=opts)

    out = [
        secret("auth-secret", AUTH_SECRET, {
            key: _password(f"{name}-{key.replace('_', '-')}", length, opts)
            for key, length in AUTH_KEYS.items()}),
        secret("encryption-secret", ENCRYPTION_SECRET,
               {ENCRYPTION_KEY: _password(f"{name}-encryption-key", 32, kept)}),
        secret("frontend-secret", FRONTEND_SECRET,
               {FRONTEND_KEY: _password(f"{name}-frontend-key", 32, opts)}),
        root_user_secret(name, secret, opts),
    ]
    if dh.kafka.mode == "in-cluster":
        # KRaft wants 16 random bytes, base64url without padding (22 characters).
        cluster_id = random.RandomId(f"{name}-kraft-cluster-id", byte_length=16, opts=kept)
        out.append(secret("kraft-secret", KRAFT_SECRET,
                          {KRAFT_KEY: cluster_id.b64_url.apply(lambda v: v.rstrip("="))}))
    if dh.search.mode == "managed" and dh.search.password is not None:
        out.append(secret("search-secret", SEARCH_SECRET,
                          {"password": config_secret("apps.datahub.search.password")}))
    if METABASE_SECRET in recipe_secrets:
        out.append(secret("metabase-secret", METABASE_SECRET, {
            "password": config_secret("apps.datahub.ingestion.metabase.password")}))
    if WAREHOUSE_SECRET in recipe_secrets:
        out.append(secret("warehouse-secret", WAREHOUSE_SECRET,
                          {"password": config_secret("warehouse.password")}))
    return out
