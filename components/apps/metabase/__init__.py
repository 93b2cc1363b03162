"""Metabase: the domain's dashboards, chart `metabase` (pmint93), pinned in the lock.

- Application database: the domain's Postgres, never the embedded H2. Host, port, name,
  user and password come from `metabase-db-credentials` (existingSecret*Key values); on a
  managed database a JDBC URI without credentials adds `sslmode=require` (Metabase 0.43+
  combines MB_DB_CONNECTION_URI with MB_DB_USER/MB_DB_PASS).
- Encryption key (encrypts the saved data-source credentials): generated once with
  pulumi-random into the Secret `metabase-encryption-key`. The chart only reads it from
  `database.existingSecret`, which is the database layer's Secret, so it is referenced
  through `extraEnv` instead. Never rotate it: Metabase cannot decrypt with a new key.
- Access: the `metabase` ClusterIP Service (port 80), inside the cluster only; prod runs
  2 replicas with the chart's PodDisruptionBudget and zone spread (charts-values/metabase/).
- First run: no open setup wizard. The `metabase-setup` Job (`_setup_job.py`) completes
  Metabase's setup API with an admin whose password is generated (Secret
  `metabase-admin-credentials`, keys username/password) and, with DataHub in the domain,
  keeps DataHub's read-only user (Secret `metabase-datahub-credentials`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components._k8s import secret_env
from components.apps.context import AppContext
from components.apps.metabase._setup_job import ADMIN_SECRET, build_setup
from components.helm_app import HelmApp, helm_child_opts
from foundation.config.app import AppConfig

APP = "metabase"
SERVICE = APP
"""The chart's fullname for release `metabase` (the release name contains the chart's)."""
SERVICE_PORT = 80
ENCRYPTION_SECRET = "metabase-encryption-key"
ENCRYPTION_KEY = "encryptionKey"
__all__ = ["ADMIN_SECRET", "APP", "ENCRYPTION_KEY", "ENCRYPTION_SECRET", "SERVICE", "SERVICE_PORT",
           "Metabase", "build", "computed_values"]


def computed_values(ctx: AppContext, encryption_secret: pulumi.Input[str],
                    static: Mapping[str, Any]) -> dict[str, Any]:
    """Secret names and, on a managed database, the TLS connection URI (no credentials)."""
    db = ctx.database(APP)
    env = [*static.get("extraEnv", []),  # a list: ours would replace the stack's otherwise
           secret_env("MB_ENCRYPTION_SECRET_KEY", encryption_secret, ENCRYPTION_KEY)]
    if ctx.managed_database:
        env.append({"name": "MB_DB_CONNECTION_URI", "value": pulumi.Output.concat(
            "jdbc:postgresql://", db.host, ":", db.port.apply(str), "/", db.database,
            "?sslmode=require")})
    return {"database": {"type": "postgres", "existingSecret": db.secret_name},
            "extraEnv": env}


class Metabase(pulumi.ComponentResource):
    """Metabase on the domain's Postgres, with a generated encryption key."""

    url: pulumi.Output[str]
    encryption_secret: pulumi.Output[str]
    values: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, settings: AppConfig, ctx: AppContext,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:apps:Metabase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        args = ctx.helm_args(APP, settings)
        # prod: protected, as a new key would leave the saved credentials unreadable.
        key = random.RandomPassword(f"{name}-encryption-key", length=64, special=False,
                                    opts=pulumi.ResourceOptions(
                                        parent=self, protect=ctx.profile == "prod"))
        secret = k8s.core.v1.Secret(
            f"{name}-encryption",
            metadata={"name": ENCRYPTION_SECRET, "namespace": ctx.namespace,
                      "labels": {**ctx.labels, "app.kubernetes.io/name": APP}},
            string_data={ENCRYPTION_KEY: key.result}, opts=child)
        helm = HelmApp(f"{name}-helm", args.with_computed(computed_values(
            ctx, secret.metadata["name"], args.static_values)),
            opts=helm_child_opts(self, name, [*ctx.depends_on, secret]))
        url = f"http://{SERVICE}.{ctx.namespace}.svc.cluster.local:{SERVICE_PORT}"
        build_setup(name, ctx, self, url, [helm])
        self.url = pulumi.Output.from_input(url)
        self.encryption_secret = secret.metadata["name"]
        self.values = helm.values
        self.register_outputs({"url": self.url, "encryption_secret": self.encryption_secret,
                               "values": self.values})


def build(name: str, settings: AppConfig, ctx: AppContext) -> Metabase:
    return Metabase(name, settings, ctx, opts=ctx.opts)
