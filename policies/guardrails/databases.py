"""Managed databases (RDS instances, Aurora clusters, Cloud SQL): deletion protection, a
final snapshot, backups, no public endpoint, encrypted storage.

Aurora keeps `publiclyAccessible` on its cluster instances (`aws:rds/clusterInstance`),
not on the cluster: those are judged by `db-not-public`. Cloud SQL's authorized networks
are judged by what they cover together (see `_cidrs`).
"""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import Severity

from guardrails._base import flag, get, items, label, num, resource_policy
from guardrails._cidrs import coverage, shown

RDS = ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster")
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
CLOUD_SQL = ("gcp:sql/databaseInstance:DatabaseInstance",)
CLOUD_SQL_DEFAULT_BACKUPS = 7  # what Cloud SQL keeps when retainedBackups is unset


def check_deletion_protection(args, cfg) -> Iterator[str]:
    if args.resource_type in RDS:
        if get(args.props, "deletionProtection") is not True:
            yield (f"{label(args)} can be deleted by `pulumi destroy` or a replacement: set "
                   "deletion_protection=True")
        return
    missing = [k for k, path in (("deletion_protection", "deletionProtection"),
                                 ("settings.deletion_protection_enabled",
                                  "settings.deletionProtectionEnabled"))
               if get(args.props, path) is not True]
    if missing:
        yield (f"{label(args)} can be deleted: set {' and '.join(f'{k}=True' for k in missing)} "
               "(the first guards against Pulumi, the second against the Cloud SQL API)")


def check_backups(args, cfg) -> Iterator[str]:
    days = int(cfg["minimumDays"])
    if args.resource_type in RDS:
        kept = num(get(args.props, "backupRetentionPeriod") or 0)
        if kept < days:
            yield (f"{label(args)} keeps {kept} day(s) of automated backups: set "
                   f"backup_retention_period to at least {days} (database.backupRetentionDays)")
        return
    backup = get(args.props, "settings.backupConfiguration") or {}
    if get(backup, "enabled") is not True:
        yield (f"{label(args)} has no automated backups: set settings.backup_configuration "
               "enabled=True with point_in_time_recovery_enabled=True")
        return
    kept = num(get(backup, "backupRetentionSettings.retainedBackups",
                   CLOUD_SQL_DEFAULT_BACKUPS))
    if kept < days:
        yield (f"{label(args)} keeps {kept} daily backup(s): set backup_retention_settings "
               f"retained_backups to at least {days} (database.backupRetentionDays)")


def check_not_public(args, cfg) -> Iterator[str]:
    if args.resource_type in (*RDS, RDS_CLUSTER_INSTANCE):
        if flag(get(args.props, "publiclyAccessible")):
            yield (f"{label(args)} is publicly accessible: set publicly_accessible=False and "
                   "reach it from the cluster's private subnets")
        return
    ip = get(args.props, "settings.ipConfiguration") or {}
    ipv4 = get(ip, "ipv4Enabled")
    if ipv4 is None or flag(ipv4):
        yield (f"{label(args)} has a public IPv4 address (ipv4_enabled defaults to true): set "
               "settings.ip_configuration ipv4_enabled=False with a private_network")
    cidrs = [str(get(n, "value")) for n in items(get(ip, "authorizedNetworks"))]
    covered = coverage(cidrs)
    if covered.public:
        yield (f"{label(args)} authorizes the internet (authorized_networks "
               f"{shown(cidrs)}: together {covered.describe()}): remove those "
               "authorized_networks and connect through the private network (or the Cloud "
               "SQL Auth Proxy)")


def check_final_snapshot(args, cfg) -> Iterator[str]:
    if flag(get(args.props, "skipFinalSnapshot")):
        yield (f"{label(args)} skips its final snapshot: a delete or replacement loses the "
               "data for good. Set skip_final_snapshot=False with a "
               "final_snapshot_identifier")


def check_storage_encrypted(args, cfg) -> Iterator[str]:
    if get(args.props, "storageEncrypted") is not True:
        yield (f"{label(args)} stores data unencrypted: set storage_encrypted=True with a "
               "kms_key_id (encryption cannot be turned on later without a restore)")


POLICIES = [
    resource_policy(
        "db-deletion-protection",
        "Managed databases have deletion protection.",
        RDS + CLOUD_SQL, check_deletion_protection, severity=Severity.CRITICAL,
        fix="RDS: deletion_protection=True. Cloud SQL: deletion_protection=True and "
            "settings.deletion_protection_enabled=True."),
    resource_policy(
        "db-backup-retention",
        "Prod databases keep automated backups for at least a week.",
        RDS + CLOUD_SQL, check_backups, prod_only=True, severity=Severity.HIGH,
        config={"minimumDays": {"type": "integer", "minimum": 1, "default": 7,
                                "description": "Minimum days (RDS) or daily backups "
                                               "(Cloud SQL) kept."}},
        fix="Raise database.backupRetentionDays (RDS backup_retention_period, Cloud SQL "
            "retained_backups)."),
    resource_policy(
        "db-not-public",
        "Managed databases have no public endpoint and authorize no internet-wide networks.",
        (*RDS, RDS_CLUSTER_INSTANCE, *CLOUD_SQL), check_not_public, severity=Severity.CRITICAL,
        fix="RDS and Aurora instances: publicly_accessible=False. Cloud SQL: "
            "ip_configuration ipv4_enabled=False with a private network, and no authorized "
            "networks that cover the internet."),
    resource_policy(
        "db-final-snapshot",
        "Prod RDS instances and Aurora clusters take a final snapshot when deleted.",
        RDS, check_final_snapshot, prod_only=True, severity=Severity.HIGH,
        fix="Set skip_final_snapshot=False and a final_snapshot_identifier."),
    resource_policy(
        "db-storage-encrypted",
        "RDS and Aurora storage is encrypted at rest (Cloud SQL always is).",
        RDS, check_storage_encrypted, severity=Severity.HIGH,
        fix="Set storage_encrypted=True and kms_key_id."),
]
