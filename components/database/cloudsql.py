"""CloudSqlPostgres: the metadata database of gcp stacks with a managed database (prod).

A Cloud SQL for PostgreSQL instance with a private IP only (through private services
access on the cluster's VPC), TLS-only connections, REGIONAL availability (per profile),
daily backups with point-in-time recovery, and deletion protection both in Google and in
Pulumi. The instance is protected and kept on delete.

Same contract as InClusterPostgres: per app a database, a role (a built-in Cloud SQL user)
and a generated password, delivered as the Kubernetes Secret `<app>-db-credentials`
(host, port, database, username, password) in the app namespace. Cloud SQL creates users
natively, so no provisioning Job is needed.

Labels: the GCP provider's default labels do not reach Cloud SQL instances (upstream
terraform-provider-google#16375), so the same labels are set as `settings.user_labels`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from components.database._provision import app_credentials, check_databases
from components.database.connection import DatabaseConnection
from components.database.incluster_postgres import APP, PORT
from foundation.naming import Naming

GCP_NAME = re.compile(r"^[a-z][-a-z0-9]*[a-z0-9]$")
FLAGS = {  # connection and lock logging for audits; temp files logged from 0 bytes
    "log_connections": "on",
    "log_disconnections": "on",
    "log_checkpoints": "on",
    "log_lock_waits": "on",
    "log_temp_files": "0",
}
MAX_LOG_DAYS = 7  # Cloud SQL ENTERPRISE keeps at most 7 days of transaction logs


@dataclass(frozen=True, kw_only=True)
class CloudSqlPostgresArgs:
    """Inputs of CloudSqlPostgres. The resolve step fills the settings; the composing
    stack adds the cluster wiring (`k8s_provider`, `network`)."""

    naming: Naming
    """Deterministic names (instance, private services range)."""
    project: str
    """GCP project id."""
    region: str
    """Region of the instance."""
    namespace: pulumi.Input[str]
    """Namespace of the apps' credential Secrets."""
    databases: Sequence[str]
    """One database and user per entry (the enabled apps)."""
    tier: str
    """Cloud SQL tier (profile or `database.tier`)."""
    storage_gb: int
    """Initial disk size (GiB, SSD)."""
    max_storage_gb: int
    """Ceiling of disk autoresize (GiB)."""
    high_availability: bool
    """REGIONAL (standby in another zone) rather than ZONAL."""
    backup_retention_days: int
    """Recovery window in days: daily backups kept, point-in-time recovery over up to 7."""
    postgres_version: str
    """Pinned major version, e.g. '16'."""
    user_labels: Mapping[str, str] = field(default_factory=dict)
    """GCP labels of the instance (the provider's default labels do not reach it)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the Kubernetes objects."""
    peering_range: str | None = None
    """Existing private services access range of the VPC; None: create it and the peering."""
    peering_prefix_length: int = 20
    """Size of the private services access range created when peering_range is None."""
    k8s_provider: pulumi.ProviderResource | None = None
    """Kubernetes provider of the cluster the Secrets go to (wiring)."""
    network: pulumi.Input[str] | None = None
    """The cluster's VPC, as id (projects/<p>/global/networks/<n>) or self link: the
    instance's only network (wiring)."""

    def __post_init__(self):
        if not GCP_NAME.match(self.naming.name("postgres", kind="cloudsql-instance")):
            raise ValueError(f"'{self.naming.base}' gives no valid Cloud SQL instance name")


class CloudSqlPostgres(pulumi.ComponentResource):
    """Cloud SQL for PostgreSQL, private IP only, with one database and user per app."""

    host: pulumi.Output[str]
    port: pulumi.Output[int]
    instance_id: pulumi.Output[str]
    connections: dict[str, DatabaseConnection]

    def __init__(self, name: str, args: CloudSqlPostgresArgs,
                 opts: pulumi.ResourceOptions | None = None):
        check_databases(f"CloudSqlPostgres {name}", args.databases)
        if args.k8s_provider is None or args.network is None:
            raise ValueError(f"CloudSqlPostgres {name}: needs the cluster's k8s_provider "
                             "and network")
        super().__init__("dataplatform:database:CloudSqlPostgres", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        range_name, deps = self._private_services_access(name, args)
        # Recovery window: transaction logs for up to 7 days; Cloud SQL wants strictly
        # more daily backups than days of logs.
        log_days = min(args.backup_retention_days, MAX_LOG_DAYS)
        backups = max(args.backup_retention_days, log_days + 1)
        instance = gcp.sql.DatabaseInstance(
            f"{name}-instance", name=args.naming.name("postgres", kind="cloudsql-instance"),
            project=args.project, region=args.region,
            database_version=f"POSTGRES_{args.postgres_version}",
            deletion_protection=True,
            settings=gcp.sql.DatabaseInstanceSettingsArgs(
                # ENTERPRISE: custom tiers exist only there; the default may be PLUS.
                tier=args.tier, edition="ENTERPRISE",
                availability_type="REGIONAL" if args.high_availability else "ZONAL",
                disk_type="PD_SSD", disk_size=args.storage_gb, disk_autoresize=True,
                disk_autoresize_limit=args.max_storage_gb,
                deletion_protection_enabled=True,
                ip_configuration=gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
                    ipv4_enabled=False, private_network=args.network,
                    allocated_ip_range=range_name, ssl_mode="ENCRYPTED_ONLY"),
                backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                    enabled=True, point_in_time_recovery_enabled=True, start_time="01:00",
                    transaction_log_retention_days=log_days,
                    backup_retention_settings=gcp.sql
                    .DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                        retained_backups=backups, retention_unit="COUNT")),
                maintenance_window=gcp.sql.DatabaseInstanceSettingsMaintenanceWindowArgs(
                    day=7, hour=2, update_track="stable"),
                insights_config=gcp.sql.DatabaseInstanceSettingsInsightsConfigArgs(
                    query_insights_enabled=True),
                database_flags=[gcp.sql.DatabaseInstanceSettingsDatabaseFlagArgs(
                    name=k, value=v) for k, v in FLAGS.items()],
                user_labels=dict(args.user_labels)),
            # Losing the instance loses the data: never delete it from Pulumi.
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True,
                                        depends_on=deps))

        self.host = instance.private_ip_address
        self.port = pulumi.Output.from_input(PORT)
        self.instance_id = instance.name
        self.connections = {}
        in_cluster = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        labels = {**args.labels, "app.kubernetes.io/name": APP}
        for db in args.databases:
            password = random.RandomPassword(f"{name}-{db}-password", length=32,
                                             special=False, opts=child)
            database = gcp.sql.Database(
                f"{name}-{db}-database", name=db, instance=instance.name,
                project=args.project, deletion_policy="ABANDON", opts=child)
            secret_password: pulumi.Output[str] = pulumi.Output.secret(password.result)
            user = gcp.sql.User(
                f"{name}-{db}-user", name=db, instance=instance.name, project=args.project,
                password=secret_password, deletion_policy="ABANDON", opts=child)
            _, self.connections[db] = app_credentials(
                name, db, host=self.host, port=PORT, password=password.result,
                namespace=args.namespace, labels=labels,
                opts=pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(
                    depends_on=[database, user])))
        self.register_outputs({
            "host": self.host, "port": self.port, "instance_id": self.instance_id,
            "connections": {db: c.as_dict() for db, c in self.connections.items()}})

    def _private_services_access(self, name: str, args: CloudSqlPostgresArgs,
                                 ) -> tuple[pulumi.Input[str], list[pulumi.Resource]]:
        """The VPC's peering range for Google services and the peering itself."""
        if args.peering_range:
            return args.peering_range, []
        child = pulumi.ResourceOptions(parent=self)
        address = gcp.compute.GlobalAddress(
            f"{name}-psa-range", name=args.naming.name("psa"), project=args.project,
            purpose="VPC_PEERING", address_type="INTERNAL",
            prefix_length=args.peering_prefix_length, network=args.network, opts=child)
        peering = gcp.servicenetworking.Connection(
            f"{name}-psa", network=args.network, service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[address.name],
            # Deleting the peering fails while any Google service still uses it.
            deletion_policy="ABANDON", opts=child)
        return address.name, [peering]

