"""AppContext: what a domain gives each of its apps (the one wiring contract).

The domain stack builds the data layer (lake, metadata database, identities) and hands
every app the same context. App components read their bucket names, database connection,
ServiceAccount and delivery target from here, never from the stack config's other
sections, so an app can be tested with a hand-made context.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.database.connection import DatabaseConnection
from components.helm_app import ArgoCDTarget, HelmAppArgs, SyncSettings
from dataplatform.config.model import StackConfig

MINIO_SECRET = "minio-credentials"
"""Secret with the MinIO root keys (rootUser, rootPassword), local cloud only."""


@dataclass(frozen=True)
class AppContext:
    """The domain's data layer and delivery settings, as one app sees them."""

    name: str
    """Name prefix of the domain's resources (the stack component's name)."""
    cfg: StackConfig
    """The validated stack config (an app reads its own `apps.<app>` section)."""
    namespace: str
    """The domain's main namespace; apps are installed there."""
    labels: Mapping[str, str]
    """Kubernetes labels every object carries."""
    enabled: frozenset[str]
    """Built-in apps enabled in this domain (for cross-app wiring such as lineage)."""
    buckets: pulumi.Output[dict[str, str]]
    """Lake zone -> bucket name."""
    storage_endpoint: pulumi.Output[str]
    """S3-compatible endpoint (MinIO on local, S3/GCS otherwise)."""
    databases: Mapping[str, DatabaseConnection]
    """App -> its metadata database (Secret `<app>-db-credentials`)."""
    service_accounts: Mapping[str, str]
    """Identity -> ServiceAccount created with workload identity (empty on local)."""
    argocd: ArgoCDTarget | None
    """Argo CD target for `argocd` delivery, None for `helm`."""
    opts: pulumi.ResourceOptions
    """In-cluster options: Kubernetes provider, after isolation and the data layer."""
    depends_on: tuple[pulumi.Resource, ...] = field(default=())
    """Resources every app waits for (isolation, lake, database, identities)."""

    @property
    def cloud(self) -> str:
        return self.cfg.cloud

    @property
    def profile(self) -> str:
        return self.cfg.profile

    @property
    def managed_database(self) -> bool:
        """True for RDS/Cloud SQL: connections must use TLS (sslmode=require)."""
        from dataplatform.config.database import database_mode

        return database_mode(self.cfg) != "in-cluster"

    def bucket(self, zone: str) -> pulumi.Output[str]:
        return self.buckets.apply(lambda b: b[zone])

    def database(self, app: str) -> DatabaseConnection:
        return self.databases[app]

    def service_account(self, identity: str) -> str | None:
        """ServiceAccount bound to `identity`'s cloud role, or None (local: no identity)."""
        return self.service_accounts.get(identity)

    def helm_args(self, app: str, computed: pulumi.Input[Mapping[str, Any]] | None = None,
                  *, sync_wave: int | None = None, **kwargs: Any) -> HelmAppArgs:
        """HelmAppArgs for `app` with this domain's profile, overrides and delivery."""
        if app in type(self.cfg.apps).built_in():
            section = getattr(self.cfg.apps, app)
            overrides = section.values
            kwargs.setdefault("patches", tuple(section.patches))  # apps.<app>.patches
        else:
            overrides = kwargs.pop("overrides", {})
        return HelmAppArgs(
            app=app, namespace=self.namespace, profile=self.profile,
            delivery=self.cfg.delivery, overrides=overrides, computed=computed,
            argocd=self.argocd, labels=self.labels,
            sync=SyncSettings(sync_wave=sync_wave), **kwargs)
