"""The domain side of a stack: fence, lake, metadata database, apps and alerting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.apps.datahub import DataHubSettings
from components.apps.registry import BUILT_IN
from components.database.incluster_postgres import InClusterPostgresArgs
from components.isolation import DomainIsolationArgs
from components.site import Site
from components.stacks.args import DomainAppsArgs
from components.storage.minio import MinioStorageArgs
from dataplatform.resolve.frontdoor import stack_routes
from foundation.charts import allowed_repos
from foundation.config.base import RuleViolations
from foundation.config.database import database_mode, instance_size, load_profile, max_storage_gb
from foundation.config.extra import build_order
from foundation.config.gcp import GROUP_EMAIL
from foundation.config.stack import StackConfig
from foundation.naming import LAKE_ZONES

if TYPE_CHECKING:
    from components.database.cloudsql import CloudSqlPostgresArgs
    from components.database.rds import RdsPostgresArgs
    from components.storage.gcs import GcsLakeArgs
    from components.storage.s3 import S3LakeArgs


def isolation(cfg: StackConfig, site: Site) -> DomainIsolationArgs:
    """The fence: every namespace of the domain (the main one first) and its rules;
    RuleViolations when its admins could not reach it on the stack's cloud."""
    admin_rules(cfg)
    naming = cfg.naming
    return DomainIsolationArgs(
        domain_id=naming.base,
        namespaces=[naming.namespace(), *(naming.namespace(x)
                                          for x in cfg.isolation.extra_namespaces)],
        settings=cfg.isolation, labels=site.k8s_labels, private_ports=private_ports(cfg),
        gateway_ports=gateway_ports(cfg, site))


def admin_rules(cfg: StackConfig) -> None:
    """How a person reaches the domain's admin groups depends on the cloud: EKS access
    entries map IAM principals (aws only), and GKE's only group source is Google Groups
    for RBAC, whose groups are emails."""
    iso, p = cfg.isolation, []
    if cfg.kind == "platform" and (iso.admin_principals or iso.admin_groups):
        p.append(("isolation", "admin groups and principals are a domain's: set them in "
                               "each domain stack"))
    elif iso.admin_principals and cfg.cloud != "aws":
        p.append(("isolation.adminPrincipals", "IAM principals get EKS access entries: "
                  f"cloud 'aws' only, not '{cfg.cloud}'" + (
                      " (on gcp, name Google Groups in adminGroups)" if cfg.cloud == "gcp"
                      else "")))
    if cfg.cloud == "gcp" and cfg.kind != "platform":
        p += [(f"isolation.adminGroups.{i}", f"'{g}' is not a Google Group email: on GKE "
               "a user's groups are the Google Groups (lowercase emails) under the cluster's "
               "cluster.gcp.securityGroup") for i, g in enumerate(iso.admin_groups)
              if not GROUP_EMAIL.match(g)]
    if p:
        raise RuleViolations(p)


def gateway_ports(cfg: StackConfig, site: Site) -> list[int]:
    """Pod ports of the domain's routed apps: what its NetworkPolicy opens to the Gateway."""
    routes = stack_routes(cfg, site)
    main = cfg.naming.namespace()
    return sorted({r.target_port for r in routes.routes if r.namespace == main}) \
        if routes else []


def private_ports(cfg: StackConfig) -> list[int]:
    """Ports of the VPC-private services the domain's pods reach: a managed Postgres, and
    a warehouse addressed by host (Snowflake and BigQuery are public endpoints)."""
    ports = set()
    if database_mode(cfg) != "in-cluster":
        ports.add(5432)
    if cfg.warehouse is not None and cfg.warehouse.effective_port:
        ports.add(cfg.warehouse.effective_port)
    return sorted(ports)


def source_repos(cfg: StackConfig) -> list[str] | None:
    """The AppProject's chart repositories (argocd delivery), else None."""
    return allowed_repos(cfg.apps.allowed_repos) if cfg.delivery == "argocd" else None


def lake(cfg: StackConfig, site: Site) -> MinioStorageArgs | S3LakeArgs | GcsLakeArgs:
    """MinIO on local, S3 on aws, GCS on gcp; one bucket per lake zone."""
    buckets = {z: cfg.naming.bucket(z, cfg.cloud) for z in LAKE_ZONES}
    if cfg.cloud == "local":
        return MinioStorageArgs(namespace=cfg.naming.namespace(), buckets=buckets,
                                profile=cfg.profile, labels=site.k8s_labels)
    s = cfg.storage
    common: dict[str, Any] = dict(
        base=cfg.naming.base, buckets=buckets, profile=cfg.profile,
        allow_teardown=s.allow_teardown, logs_retention_days=s.logs_retention_days,
        noncurrent_version_retention_days=s.noncurrent_version_retention_days)
    if cfg.cloud == "aws":
        from components.storage.s3 import S3LakeArgs

        return S3LakeArgs(**common, kms_key_arn=s.kms_key_arn)
    from components.storage.gcs import GcsLakeArgs

    assert cfg.gcp_project and cfg.region  # the model requires both on cloud gcp
    return GcsLakeArgs(**common, project=cfg.gcp_project, location=cfg.region,
                       kms_key_name=s.kms_key_name)


def database(cfg: StackConfig, site: Site, apps: list[str]
             ) -> InClusterPostgresArgs | RdsPostgresArgs | CloudSqlPostgresArgs:
    """In-cluster Postgres unless the database is managed (prod default): RDS or Cloud SQL,
    whose names only their cloud can judge (RuleViolations)."""
    namespace, labels = cfg.naming.namespace(), site.k8s_labels
    if database_mode(cfg) == "in-cluster":
        return InClusterPostgresArgs(namespace=namespace, profile=cfg.profile, labels=labels,
                                     databases=apps)
    db, naming = cfg.database, cfg.naming
    sized: dict[str, Any] = dict(
        naming=naming, namespace=namespace, databases=tuple(apps),
        storage_gb=db.storage_gb, max_storage_gb=max_storage_gb(cfg),
        backup_retention_days=db.backup_retention_days, postgres_version=db.postgres_version,
        labels=labels)
    ha = load_profile(cfg.profile).high_availability
    if cfg.cloud == "aws":
        from components.database.rds import RDS_NAME, RdsPostgresArgs

        if not RDS_NAME.match(naming.name("postgres", kind="rds-instance")):
            raise RuleViolations([("customer", "RDS identifiers start with a letter and have "
                                               f"no '--': '{naming.base}'")])
        return RdsPostgresArgs(**sized, profile=cfg.profile, instance_class=instance_size(cfg),
                               multi_az=ha)
    from components.database.cloudsql import GCP_NAME, CloudSqlPostgresArgs

    if not GCP_NAME.match(naming.base):
        raise RuleViolations([("customer", "Cloud SQL names must start with a letter: "
                                           f"'{naming.base}'")])
    assert cfg.gcp_project and cfg.region  # the model requires both on cloud gcp
    return CloudSqlPostgresArgs(
        **sized, project=cfg.gcp_project, region=cfg.region, tier=instance_size(cfg),
        high_availability=ha,
        # Default labels never reach Cloud SQL instances (provider issue), so set them.
        user_labels=site.gcp_labels)


def apps(cfg: StackConfig) -> DomainAppsArgs:
    """The enabled built-in apps with their own settings, in build order, and the extras."""
    sections = cfg.apps
    enabled = [a for a in BUILT_IN if getattr(sections, a.key).enabled]
    settings: dict[str, Any] = {a.key: getattr(sections, a.key) for a in enabled}
    if "datahub" in settings:  # its lineage reads the dbt projects' artifacts
        settings["datahub"] = DataHubSettings(
            config=sections.datahub,
            dbt_projects=tuple(sections.dbt.projects) if "dbt" in settings else ())
    return DomainAppsArgs(
        built_in=settings, extra=tuple(build_order(list(sections.extra))),
        databases=tuple(a.key for a in enabled if a.database == "always"
                        or (a.database == "without-warehouse" and cfg.warehouse is None)),
        warehouse=cfg.warehouse)
