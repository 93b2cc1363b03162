"""Inputs of the two stack components: every child's Args, resolved from the stack file once
(`dataplatform/resolve/`). The stacks only compose them and wire outputs to inputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from components.argocd import ArgoCDArgs
from components.backup import VeleroArgs
from components.cluster.local import LocalClusterArgs
from components.cluster.shared import SharedClusterArgs
from components.database.incluster_postgres import InClusterPostgresArgs
from components.frontdoor import FrontDoorArgs, StackRoutesArgs
from components.isolation import DomainIsolationArgs
from components.observability import MonitoringArgs
from components.site import Site
from components.storage.minio import MinioStorageArgs
from foundation.config.extra import ExtraApp
from foundation.config.monitoring import AlertingConfig
from foundation.config.warehouse import WarehouseConfig

if TYPE_CHECKING:  # the cloud SDKs load only for the clouds a stack uses
    from components.cluster.eks import EksClusterArgs
    from components.cluster.gke import GkeClusterArgs
    from components.database.cloudsql import CloudSqlPostgresArgs
    from components.database.rds import RdsPostgresArgs
    from components.storage.gcs import GcsLakeArgs
    from components.storage.s3 import S3LakeArgs

@dataclass(frozen=True)
class OwnedClusterArgs:
    """What a stack that owns its cluster creates on it."""

    cluster: LocalClusterArgs | EksClusterArgs | GkeClusterArgs
    """The cluster: a kubeconfig context (local), EKS (aws) or GKE (gcp)."""
    argocd: ArgoCDArgs | None = None
    """Argo CD (`apps.argocd.enabled`)."""
    monitoring: MonitoringArgs | None = None
    """kube-prometheus-stack (`monitoring.enabled`)."""
    backup: VeleroArgs | None = None
    """Velero, its bucket, identity and schedules (`backup.velero`, profiles/backup.yaml)."""
    front_door: FrontDoorArgs | None = None
    """Envoy Gateway, cert-manager, external-dns and the Gateway (`frontDoor.enabled`)."""


@dataclass(frozen=True)
class PlatformStackArgs:
    """Inputs of PlatformStack."""

    site: Site
    """Names, cloud, profile and labels of the stack."""
    owned: OwnedClusterArgs
    """The shared cluster and what runs on it."""
    routes: StackRoutesArgs | None = None
    """Hostnames and routes of Argo CD and Grafana (`frontDoor.enabled`)."""


@dataclass(frozen=True)
class DomainAppsArgs:
    """The apps of a domain: built-in ones with their settings, then the extra charts."""

    built_in: Mapping[str, Any] = field(default_factory=dict)
    """Enabled built-in app -> its settings, in build order (components/apps/registry.py)."""
    extra: Sequence[ExtraApp] = ()
    """`apps.extra`, in dependency order."""
    databases: Sequence[str] = ()
    """Apps that get a database (and `<app>-db-credentials`) in the domain's Postgres."""
    warehouse: WarehouseConfig | None = None
    """The domain's warehouse (dbt target, DataHub source); None: the domain's Postgres."""


@dataclass(frozen=True)
class DomainStackArgs:
    """Inputs of DomainStack."""

    site: Site
    """Names, cloud, profile and labels of the stack."""
    delivery: Literal["argocd", "helm"]
    """How apps are delivered: Argo CD Applications or Pulumi Helm releases."""
    cluster: OwnedClusterArgs | SharedClusterArgs
    """A dedicated cluster, or the platform stack's (through a StackReference)."""
    isolation: DomainIsolationArgs
    """Namespaces, quota, NetworkPolicies, RBAC; the AppProject is added when wired."""
    source_repos: Sequence[str] | None
    """Chart repositories of the domain's AppProject (argocd delivery), else None."""
    lake: MinioStorageArgs | S3LakeArgs | GcsLakeArgs
    """The lake buckets: MinIO (local), S3 or GCS."""
    database: InClusterPostgresArgs | RdsPostgresArgs | CloudSqlPostgresArgs
    """The metadata Postgres; a managed one gets the cluster's network when wired."""
    apps: DomainAppsArgs
    """The apps and their settings."""
    alerting: AlertingConfig | None = None
    """The domain's alert rules and routing; None: no domain monitoring."""
    routes: StackRoutesArgs | None = None
    """Hostnames and routes of the domain's web UIs (`frontDoor.enabled`)."""

    @property
    def namespace(self) -> str:
        """The domain's main namespace."""
        return self.isolation.namespaces[0]

    @property
    def managed_database(self) -> bool:
        return not isinstance(self.database, InClusterPostgresArgs)
