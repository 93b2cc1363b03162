"""RdsPostgres: the metadata database of aws stacks with a managed database (prod).

An RDS for PostgreSQL instance in the cluster's private subnets: encrypted with its own
rotating KMS key, multi-AZ (per profile), TLS enforced (`rds.force_ssl`), reachable on
5432 only from the cluster's security group / node CIDRs, never publicly, with automated
backups and a final snapshot. The instance and its key are protected and kept on delete.

Same contract as InClusterPostgres: per app a database, a role and a generated password,
delivered as the Kubernetes Secret `<app>-db-credentials` (host, port, database,
username, password) in the app namespace. Without a SQL-level provider the roles and
databases are created by a provisioning Job running psql against the endpoint, with the
master password and the app passwords read from Secrets.
Tags come from the AWS provider's default tags; nothing here sets them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from components._k8s import secret_env
from components._values import typed_settings
from components.database._provision import app_credentials, check_databases, provision_job
from components.database.connection import DatabaseConnection
from components.database.incluster_postgres import (
    APP,
    PORT,
    SUPERUSER_SECRET,
    UID,
    PostgresSettings,
)
from foundation.naming import Naming, fit

MASTER_USER = "dbadmin"
# RDS identifiers: a letter first, lowercase letters, digits and single hyphens.
RDS_NAME = re.compile(r"^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$")


@dataclass(frozen=True, kw_only=True)
class RdsPostgresArgs:
    """Inputs of RdsPostgres. The resolve step fills the settings; the composing stack
    adds the cluster wiring (`k8s_provider`, `vpc_id`, `subnet_ids`, a source)."""

    naming: Naming
    """Deterministic names (instance identifier, groups, key alias, final snapshot)."""
    profile: str
    """Profile whose charts-values/postgres/ file sizes the provisioning Job."""
    namespace: pulumi.Input[str]
    """Namespace of the apps' credential Secrets, the admin Secret and the Job."""
    databases: Sequence[str]
    """One database and role per entry (the enabled apps)."""
    instance_class: str
    """RDS instance class (profile or `database.instanceClass`)."""
    storage_gb: int
    """Initial allocated storage (GiB, gp3)."""
    max_storage_gb: int
    """Ceiling of storage autoscaling (GiB)."""
    multi_az: bool
    """Synchronous standby in a second AZ."""
    backup_retention_days: int
    """Days of automated backups (point-in-time recovery window)."""
    postgres_version: str
    """Pinned major version, e.g. '16'; minor versions upgrade automatically."""
    allowed_security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups allowed to connect on 5432 (the cluster / node security group)."""
    allowed_cidrs: Sequence[str] = ()
    """CIDRs allowed to connect on 5432 (node subnets), when no group can be named."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the Kubernetes objects."""
    k8s_provider: pulumi.ProviderResource | None = None
    """Kubernetes provider of the cluster the Secrets and the Job go to (wiring)."""
    vpc_id: pulumi.Input[str] | None = None
    """VPC of the cluster, where the security group is created (wiring)."""
    subnet_ids: pulumi.Input[Sequence[str]] | None = None
    """Private subnets (at least two AZs) of the DB subnet group (wiring)."""

    def __post_init__(self):
        for cidr in self.allowed_cidrs:
            if ipaddress.ip_network(cidr, strict=True).prefixlen == 0:
                raise ValueError(f"RdsPostgres: {cidr} would open the database to any address")
        if not RDS_NAME.match(self.naming.name("postgres", kind="rds-instance")):
            raise ValueError(f"'{self.naming.base}' gives no valid RDS identifier")


class RdsPostgres(pulumi.ComponentResource):
    """RDS for PostgreSQL with one database and role per app."""

    host: pulumi.Output[str]
    port: pulumi.Output[int]
    instance_id: pulumi.Output[str]
    connections: dict[str, DatabaseConnection]

    def __init__(self, name: str, args: RdsPostgresArgs,
                 opts: pulumi.ResourceOptions | None = None):
        check_databases(f"RdsPostgres {name}", args.databases)
        if args.k8s_provider is None or args.vpc_id is None or args.subnet_ids is None:
            raise ValueError(f"RdsPostgres {name}: needs the cluster's k8s_provider, vpc_id "
                             "and subnet_ids")
        if not args.allowed_security_group_ids and not args.allowed_cidrs:
            raise ValueError(f"RdsPostgres {name}: needs a source allowed to connect: the "
                             "cluster's security group id or the node CIDRs")
        settings = typed_settings(APP, args.profile, PostgresSettings)
        super().__init__("dataplatform:database:RdsPostgres", name, None, opts)
        instance, master_password = self._instance(name, args)
        self.host, self.port = instance.address, pulumi.Output.from_input(PORT)
        self.instance_id = instance.identifier
        self.connections = {}
        self._credentials(name, args, settings, instance, master_password)
        self.register_outputs({
            "host": self.host, "port": self.port, "instance_id": self.instance_id,
            "connections": {db: c.as_dict() for db, c in self.connections.items()}})

    def _instance(self, name: str, args: RdsPostgresArgs
                  ) -> tuple[aws.rds.Instance, pulumi.Output[str]]:
        """The instance with its key, subnets, firewall and parameters; its master password."""
        child = pulumi.ResourceOptions(parent=self)
        # Losing the instance or its key loses the data: never delete them from Pulumi.
        kept = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        ident = args.naming.name("postgres", kind="rds-instance")
        major = args.postgres_version

        key = aws.kms.Key(
            f"{name}-key", description=f"Metadata Postgres {ident} (storage, insights)",
            enable_key_rotation=True, deletion_window_in_days=30, opts=kept)
        aws.kms.Alias(f"{name}-key-alias", name=f"alias/{ident}", target_key_id=key.key_id,
                      opts=child)
        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets", name=ident, description=f"Private subnets of {ident}",
            subnet_ids=args.subnet_ids, opts=child)
        firewall = self._security_group(name, args, ident)
        params = aws.rds.ParameterGroup(
            # The major version is in the name: an upgrade creates a new group beside it.
            f"{name}-params", name=args.naming.name(f"postgres{major}", kind="rds-instance"),
            family=f"postgres{major}", description=f"Parameters of {ident}",
            parameters=[aws.rds.ParameterGroupParameterArgs(name=k, value=v)
                        for k, v in (("rds.force_ssl", "1"), ("log_connections", "1"),
                                     ("log_disconnections", "1"))],
            opts=child)
        master = random.RandomPassword(f"{name}-master-password", length=32, special=False,
                                       opts=child)
        master_password: pulumi.Output[str] = pulumi.Output.secret(master.result)
        instance = aws.rds.Instance(
            f"{name}-instance", identifier=ident, engine="postgres", engine_version=major,
            instance_class=args.instance_class, port=PORT,
            allocated_storage=args.storage_gb, max_allocated_storage=args.max_storage_gb,
            storage_type="gp3", storage_encrypted=True, kms_key_id=key.arn,
            db_subnet_group_name=subnets.name, vpc_security_group_ids=[firewall.id],
            parameter_group_name=params.name, publicly_accessible=False,
            multi_az=args.multi_az, username=MASTER_USER, password=master_password,
            backup_retention_period=args.backup_retention_days,
            backup_window="01:00-02:00", maintenance_window="sun:02:30-sun:03:30",
            copy_tags_to_snapshot=True, delete_automated_backups=False,
            deletion_protection=True, skip_final_snapshot=False,
            final_snapshot_identifier=fit(f"{ident}-final", 255),
            auto_minor_version_upgrade=True, allow_major_version_upgrade=False,
            performance_insights_enabled=True, performance_insights_kms_key_id=key.arn,
            performance_insights_retention_period=7,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            opts=kept)
        return instance, master_password

    def _credentials(self, name: str, args: RdsPostgresArgs, settings: PostgresSettings,
                     instance: aws.rds.Instance, master_password: pulumi.Output[str]) -> None:
        """The admin Secret, one generated password and Secret per app, and the Job that
        creates their databases and roles."""
        child = pulumi.ResourceOptions(parent=self)
        in_cluster = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        labels = {**args.labels, "app.kubernetes.io/name": APP}
        secrets = [k8s.core.v1.Secret(
            f"{name}-admin",
            metadata={"name": SUPERUSER_SECRET, "namespace": args.namespace, "labels": labels},
            string_data={"host": self.host, "port": str(PORT), "username": MASTER_USER,
                         "password": master_password},
            opts=in_cluster)]
        for db in args.databases:
            password = random.RandomPassword(f"{name}-{db}-password", length=32,
                                             special=False, opts=child)
            secret, self.connections[db] = app_credentials(
                name, db, host=self.host, port=PORT, password=password.result,
                namespace=args.namespace, labels=labels, opts=in_cluster)
            secrets.append(secret)
        if args.databases:
            admin = [secret_env(var, SUPERUSER_SECRET, key) for var, key in (
                ("PGHOST", "host"), ("PGPORT", "port"), ("PGUSER", "username"),
                ("PGPASSWORD", "password"))]
            provision_job(
                f"{name}-provision", namespace=args.namespace, databases=args.databases,
                image=settings.image, resources=settings.job_resources.model_dump(),
                labels=labels, uid=UID, grant_to_admin=True,
                admin_env=[*admin, {"name": "PGDATABASE", "value": "postgres"},
                           {"name": "PGSSLMODE", "value": "require"}],
                opts=pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(
                    depends_on=[instance, *secrets])))

    def _security_group(self, name: str, args: RdsPostgresArgs,
                        ident: str) -> aws.ec2.SecurityGroup:
        """Postgres from the cluster only; no egress (replies need none)."""
        ingress = []
        if args.allowed_security_group_ids:
            ingress.append(aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=PORT, to_port=PORT,
                security_groups=list(args.allowed_security_group_ids),
                description="Postgres from the cluster's security group"))
        if args.allowed_cidrs:
            ingress.append(aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=PORT, to_port=PORT,
                cidr_blocks=list(args.allowed_cidrs),
                description="Postgres from the cluster's node subnets"))
        return aws.ec2.SecurityGroup(
            f"{name}-sg", name=ident, vpc_id=args.vpc_id,
            description=f"Postgres {ident}: 5432 from the cluster only",
            ingress=ingress, egress=[], opts=pulumi.ResourceOptions(parent=self))
