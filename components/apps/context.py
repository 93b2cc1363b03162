"""AppContext: what a domain gives each of its apps (the one wiring contract).

The domain stack builds the data layer (lake, metadata database, identities) and hands
every app the same context, and the app its own settings (its `apps.<app>` section, as
the resolve step typed it). Apps read bucket names, database connections, ServiceAccounts
and the delivery target from here; they never see the stack config, so an app can be
tested with a hand-made context.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi

from components.database.connection import DatabaseConnection
from components.helm_app import ArgoCDTarget, Delivery, HelmAppArgs, SyncSettings
from components.site import Site
from foundation.config.app import AppConfig
from foundation.config.warehouse import WarehouseConfig

if TYPE_CHECKING:
    from components.frontdoor.args import SignOn

MINIO_SECRET = "minio-credentials"
"""Secret with the MinIO root keys (rootUser, rootPassword), local cloud only."""


@dataclass(frozen=True)
class AppContext:
    """The domain's data layer and delivery settings, as one app sees them."""

    name: str
    """Name prefix of the domain's resources (the stack component's name)."""
    site: Site
    """Names, cloud, region, profile of the stack."""
    delivery: Delivery
    """`argocd` (Applications) or `helm` (Pulumi releases)."""
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
    managed_database: bool
    """True for RDS/Cloud SQL: connections must use TLS (sslmode=require). No default: a
    context that forgot it would connect to a managed database without TLS."""
    warehouse: WarehouseConfig | None
    """The domain's warehouse (dbt target, DataHub source); None: the domain's Postgres."""
    opts: pulumi.ResourceOptions
    """In-cluster options: Kubernetes provider, after isolation and the data layer."""
    pushgateway_url: str | None
    """The cluster's Pushgateway, where batch runs push their results (dbt), in
    `isolation.monitoringNamespace`; None: no push. No default: a domain that forgot it
    would lose its data-quality signal without a word."""
    depends_on: tuple[pulumi.Resource, ...] = field(default=())
    """Resources every app waits for (isolation, lake, database, identities)."""
    sign_on: Mapping[str, SignOn] = field(default_factory=dict)
    """App -> its public URL and native OIDC, when the front door routes it
    (components/frontdoor/sso.py); absent: in-cluster only, the app's own login."""

    @property
    def cloud(self) -> str:
        return self.site.cloud

    @property
    def profile(self) -> str:
        return self.site.profile

    def bucket(self, zone: str) -> pulumi.Output[str]:
        return self.buckets.apply(lambda b: b[zone])

    def database(self, app: str) -> DatabaseConnection:
        return self.databases[app]

    def service_account(self, identity: str) -> str | None:
        """ServiceAccount bound to `identity`'s cloud role, or None (local: no identity)."""
        return self.service_accounts.get(identity)

    def helm_args(self, app: str, settings: AppConfig | None = None, *,
                  computed: pulumi.Input[Mapping[str, Any]] | None = None,
                  sync_wave: int | None = None, **kwargs: Any) -> HelmAppArgs:
        """HelmAppArgs for `app` with this domain's profile and delivery, and the stack's
        values and patches of `settings` (the app's `apps.<app>` section)."""
        if settings is not None:
            kwargs.setdefault("overrides", settings.values)
            kwargs.setdefault("patches", tuple(settings.patches))
        return HelmAppArgs(
            app=app, namespace=self.namespace, profile=self.profile,
            delivery=self.delivery, computed=computed, argocd=self.argocd,
            labels=self.labels, sync=SyncSettings(sync_wave=sync_wave), **kwargs)
