"""A domain's data layer: lake storage, metadata database and workload identities.

The resolve step chose the implementation (MinIO / S3 / GCS; in-cluster Postgres / RDS /
Cloud SQL; no identity / IRSA / GKE WI) by the Args it made; here each is created and its
cluster wiring added, and the domain stack only wires the results.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.cluster.base import ClusterHandle
from components.database.connection import DatabaseConnection
from components.database.incluster_postgres import InClusterPostgres, InClusterPostgresArgs
from components.site import Site
from components.storage.minio import MinioStorage, MinioStorageArgs
from foundation.naming import LAKE_ZONES


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


def build_lake(name: str, args: object, region: str | None, opts: pulumi.ResourceOptions,
               cloud_opts: pulumi.ResourceOptions) -> Lake:
    """MinIO in the cluster on local; S3 or GCS buckets in the cloud."""
    if isinstance(args, MinioStorageArgs):
        store = MinioStorage(f"{name}-storage", args, opts=opts)
        return Lake(store, store.buckets, store.endpoint)
    if type(args).__name__ == "S3LakeArgs":
        from components.storage.s3 import S3Lake, S3LakeArgs

        assert isinstance(args, S3LakeArgs)
        s3 = S3Lake(f"{name}-lake", args, opts=cloud_opts)
        return Lake(s3, s3.buckets, pulumi.Output.from_input(
            f"https://s3.{region}.amazonaws.com"))
    from components.storage.gcs import GcsLake, GcsLakeArgs

    assert isinstance(args, GcsLakeArgs)
    gcs = GcsLake(f"{name}-lake", args, opts=cloud_opts)
    return Lake(gcs, gcs.buckets, pulumi.Output.from_input("https://storage.googleapis.com"))


def build_database(name: str, args: object, handle: ClusterHandle,
                   opts: pulumi.ResourceOptions, cloud_opts: pulumi.ResourceOptions) -> Database:
    """In-cluster Postgres in dev/local; RDS or Cloud SQL, on the cluster's network."""
    if isinstance(args, InClusterPostgresArgs):
        db = InClusterPostgres(f"{name}-postgres", args, opts=opts)
        return Database(db, db.host, db.connections)
    def net(key: str) -> pulumi.Output[Any]:
        return handle.network.apply(lambda n: _network_field(n, key))

    if type(args).__name__ == "RdsPostgresArgs":
        from components.database.rds import RdsPostgres, RdsPostgresArgs

        assert isinstance(args, RdsPostgresArgs)
        rds = RdsPostgres(f"{name}-rds", dataclasses.replace(
            args, k8s_provider=handle.provider, vpc_id=net("vpcId"),
            subnet_ids=net("privateSubnetIds"),
            allowed_security_group_ids=[net("clusterSecurityGroupId")]),
            opts=cloud_opts)
        return Database(rds, rds.host, rds.connections)
    from components.database.cloudsql import CloudSqlPostgres, CloudSqlPostgresArgs

    assert isinstance(args, CloudSqlPostgresArgs)
    sql = CloudSqlPostgres(f"{name}-cloudsql", dataclasses.replace(
        args, k8s_provider=handle.provider, network=net("network")),
        opts=cloud_opts)
    return Database(sql, sql.host, sql.connections)


def _network_field(network: dict | None, key: str) -> Any:
    """One field of ClusterHandle.network, which is None only on local clusters: the
    resolve step picks RDS / Cloud SQL on aws / gcp only, whose clusters (EKS, GKE, or a
    platform stack's) publish their network."""
    if network is None:
        raise ValueError(f"the cluster publishes no network ({key}): a managed database "
                         "needs an EKS or GKE cluster")
    return network[key]


def build_identities(name: str, site: Site, namespace: str, lake: Lake,
                     handle: ClusterHandle, apps: Collection[str], labels: Mapping[str, str],
                     opts: pulumi.ResourceOptions) -> Identities:
    """One cloud identity per app that touches the lake; none on local (MinIO keys)."""
    if site.cloud == "local":
        return Identities(pulumi.Output.from_input({}), {}, ())
    from components.identity import DomainIdentities, DomainIdentitiesArgs
    from components.identity.domain_identities import load_matrix

    def zone(outputs: pulumi.Output[dict], z: str) -> pulumi.Output[str]:
        return outputs.apply(lambda d: d[z])

    extra: dict[str, Any] = {}
    if site.cloud == "aws":
        from components.storage.s3 import S3Lake

        comp = lake.component
        assert isinstance(comp, S3Lake)
        extra = dict(bucket_arns={z: zone(comp.bucket_arns, z) for z in LAKE_ZONES},
                     kms_key_arn=comp.kms_key_arn, oidc_provider_arn=handle.oidc_provider_arn,
                     oidc_issuer=handle.oidc_issuer)
    ids = DomainIdentities(f"{name}-identities", DomainIdentitiesArgs(
        site=site, namespace=namespace, buckets={z: zone(lake.buckets, z) for z in LAKE_ZONES},
        k8s_provider=handle.provider, apps=set(apps), labels=labels, **extra), opts=opts)
    matrix = load_matrix().identities
    names = {k: matrix[k].service_account for k in ids.identities}
    return Identities(ids.service_accounts, names, (ids,))
