"""A domain's data layer: lake storage, metadata database and workload identities.

The cloud decides the implementation (MinIO / S3 / GCS; in-cluster Postgres / RDS /
Cloud SQL; no identity / IRSA / GKE WI); the domain stack only wires the results.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import pulumi

from components.cluster.base import ClusterHandle
from components.database.connection import DatabaseConnection
from dataplatform.config.database import database_mode
from dataplatform.config.model import StackConfig
from dataplatform.naming import LAKE_ZONES


@dataclass(frozen=True)
class Lake:
    component: pulumi.ComponentResource
    buckets: pulumi.Output[dict[str, str]]
    endpoint: pulumi.Output[str]


@dataclass(frozen=True)
class Identities:
    service_accounts: pulumi.Output[dict]
    """Identity -> {name, annotations} (the `serviceAccounts` stack output)."""
    names: Mapping[str, str]
    """Identity -> ServiceAccount name, for the identities that exist."""
    resources: tuple[pulumi.Resource, ...]


@dataclass(frozen=True)
class Database:
    component: pulumi.ComponentResource
    host: pulumi.Output[str]
    connections: Mapping[str, DatabaseConnection]


def check_args(cfg: StackConfig) -> None:
    """Cross-section rules of the cloud components, before any resource exists."""
    if cfg.cloud == "aws":
        from components.storage.s3 import S3LakeArgs

        S3LakeArgs.from_config(cfg)
    elif cfg.cloud == "gcp":
        from components.storage.gcs import GcsLakeArgs

        GcsLakeArgs.from_config(cfg)


def private_service_ports(cfg: StackConfig) -> list[int]:
    """Ports of the VPC-private services the domain's pods reach: a managed Postgres, and
    a warehouse addressed by host (Snowflake and BigQuery are public endpoints)."""
    ports = set()
    if database_mode(cfg) != "in-cluster":
        ports.add(5432)
    if cfg.warehouse is not None and cfg.warehouse.effective_port:
        ports.add(cfg.warehouse.effective_port)
    return sorted(ports)


def build_lake(name: str, cfg: StackConfig, namespace: str, labels: Mapping[str, str],
               opts: pulumi.ResourceOptions, cloud_opts: pulumi.ResourceOptions) -> Lake:
    """MinIO in the cluster on local; S3 or GCS buckets in the cloud."""
    if cfg.cloud == "local":
        from components.storage.minio import MinioStorage, MinioStorageArgs

        store = MinioStorage(f"{name}-storage", MinioStorageArgs(
            namespace=namespace, profile=cfg.profile, labels=labels,
            buckets={z: cfg.naming.bucket(z, cfg.cloud) for z in LAKE_ZONES}), opts=opts)
        return Lake(store, store.buckets, store.endpoint)
    if cfg.cloud == "aws":
        from components.storage.s3 import S3Lake, S3LakeArgs

        lake = S3Lake(f"{name}-lake", S3LakeArgs.from_config(cfg), opts=cloud_opts)
        endpoint = f"https://s3.{cfg.region}.amazonaws.com"
    else:
        from components.storage.gcs import GcsLake, GcsLakeArgs

        lake = GcsLake(f"{name}-lake", GcsLakeArgs.from_config(cfg), opts=cloud_opts)
        endpoint = "https://storage.googleapis.com"
    return Lake(lake, lake.buckets, pulumi.Output.from_input(endpoint))


def build_database(name: str, cfg: StackConfig, namespace: str, apps: Sequence[str],
                   handle: ClusterHandle, labels: Mapping[str, str],
                   opts: pulumi.ResourceOptions, cloud_opts: pulumi.ResourceOptions) -> Database:
    """In-cluster Postgres in dev/local; RDS or Cloud SQL when managed (prod default)."""
    if database_mode(cfg) == "in-cluster":
        from components.database.incluster_postgres import (
            InClusterPostgres,
            InClusterPostgresArgs,
        )

        db = InClusterPostgres(f"{name}-postgres", InClusterPostgresArgs(
            namespace=namespace, profile=cfg.profile, labels=labels, databases=list(apps)),
            opts=opts)
        return Database(db, db.host, db.connections)
    net = handle.network
    common = dict(namespace=namespace, databases=list(apps), k8s_provider=handle.provider,
                  labels=labels)
    if cfg.cloud == "aws":
        from components.database.rds import RdsPostgres, RdsPostgresArgs

        args = RdsPostgresArgs.from_config(
            cfg, vpc_id=net.apply(lambda n: n["vpcId"]),
            subnet_ids=net.apply(lambda n: n["privateSubnetIds"]),
            allowed_security_group_ids=[net.apply(lambda n: n["clusterSecurityGroupId"])],
            **common)
        db = RdsPostgres(f"{name}-rds", args, opts=cloud_opts)
    else:
        from components.database.cloudsql import CloudSqlPostgres, CloudSqlPostgresArgs

        args = CloudSqlPostgresArgs.from_config(
            cfg, network=net.apply(lambda n: n["network"]), **common)
        db = CloudSqlPostgres(f"{name}-cloudsql", args, opts=cloud_opts)
    return Database(db, db.host, db.connections)


def build_identities(name: str, cfg: StackConfig, namespace: str, lake: Lake,
                     handle: ClusterHandle, apps: Collection[str], labels: Mapping[str, str],
                     opts: pulumi.ResourceOptions) -> Identities:
    """One cloud identity per app that touches the lake; none on local (MinIO keys)."""
    if cfg.cloud == "local":
        return Identities(pulumi.Output.from_input({}), {}, ())
    from components.identity import DomainIdentities, DomainIdentitiesArgs

    def zone(outputs: pulumi.Output[dict], z: str) -> pulumi.Output[str]:
        return outputs.apply(lambda d: d[z])

    extra = {}
    if cfg.cloud == "aws":
        comp = lake.component
        extra = dict(bucket_arns={z: zone(comp.bucket_arns, z) for z in LAKE_ZONES},
                     kms_key_arn=comp.kms_key_arn, oidc_provider_arn=handle.oidc_provider_arn,
                     oidc_issuer=handle.oidc_issuer)
    ids = DomainIdentities(f"{name}-identities", DomainIdentitiesArgs(
        cfg=cfg, namespace=namespace, buckets={z: zone(lake.buckets, z) for z in LAKE_ZONES},
        k8s_provider=handle.provider, apps=set(apps), labels=labels, **extra), opts=opts)
    from components.identity.domain_identities import load_matrix

    matrix = load_matrix().identities
    names = {k: matrix[k].service_account for k in ids.identities}
    return Identities(ids.service_accounts, names, (ids,))
