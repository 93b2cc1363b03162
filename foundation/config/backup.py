"""`backup:` backups of what lives in the cluster (platform stacks and dedicated domains).

Managed databases back themselves up (RDS/Cloud SQL snapshots and point-in-time recovery,
`database.backupRetentionDays`). What stays in the cluster (in-cluster Postgres and MinIO
in dev, DataHub's Kafka and OpenSearch, Prometheus) is backed up by Velero, which the stack
that owns the cluster installs with its bucket and identity (components/backup/), and one
Velero `Schedule` per kind of store. On by default where the profile says so
(`profiles/backup.yaml`: prod); a prod stack turns it off only with `disabledReason`.
docs/backup-restore.md is the runbook.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from foundation.config._checks import matching
from foundation.config.base import Model
from foundation.layout import PROFILES_DIR
from foundation.profiles import profile_section

PROFILES_FILE = PROFILES_DIR / "backup.yaml"
CRON = re.compile(r"(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|"
                  r"@every \d+[smh]|([0-9A-Za-z*/,?-]+\s+){4}[0-9A-Za-z*/,?-]+)")
GO_DURATION = re.compile(r"(\d+(\.\d+)?(h|m|s|ms))+")
K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


Cron = Annotated[str, matching(CRON, "a cron expression (5 fields, e.g. '0 2 * * *', or "
                                     "@daily / @every 6h)")]
GoDuration = Annotated[str, matching(GO_DURATION, "a duration such as 720h or 168h30m")]
K8sName = Annotated[str, matching(K8S_NAME, "a Kubernetes name (lowercase letters, digits "
                                            "and '-', at most 63)")]


class VeleroConfig(Model):
    """Velero, its bucket and identity, and a `Schedule` per in-cluster store."""

    enabled: bool | None = Field(
        None, description="Install Velero and create the schedules (None: the profile's "
                          "default, profiles/backup.yaml: on in prod, off in dev).")
    disabled_reason: str | None = Field(
        None, min_length=10, max_length=300,
        description="Profile prod with enabled false: why this stack's in-cluster stores "
                    "have no backup. Required there, refused elsewhere: it documents an "
                    "accepted risk in the stack file.")
    namespace: K8sName = Field("velero", description="Namespace of the Velero server, where "
                                                     "Schedules must live.")
    schedule: Cron = Field("0 2 * * *", description="When the backups run (cron, in the "
                                                     "Velero server's time zone).")
    ttl: GoDuration = Field("720h", description="How long each backup is kept (720h: 30 "
                                                "days).")
    storage_location: K8sName | None = Field(
        None, description="BackupStorageLocation to write to (None: the one the stack "
                          "creates, `default`, on its bucket).")
    volume_backup: Literal["fs", "snapshot"] = Field(
        "fs", description="'fs': file-system backup of volume contents by the node agent "
                          "into the bucket (any storage, kind included); 'snapshot': EBS / "
                          "persistent-disk snapshots (aws, gcp), with the snapshot rights "
                          "they need granted to Velero's identity.")
    excluded_namespaces: list[K8sName] = Field(
        default_factory=lambda: ["kube-system", "kube-public", "kube-node-lease"],
        description="Namespaces left out (Velero's own namespace is always left out).")


class BackupConfig(Model):
    """Backups of in-cluster state; managed databases have their own (`database`)."""

    velero: VeleroConfig = Field(default_factory=VeleroConfig)


class BackupProfile(Model):
    """One profile of `profiles/backup.yaml`."""

    velero: bool = Field(description="Velero on by default for a stack owning its cluster.")


@cache
def load_profile(profile: str, path: Path = PROFILES_FILE) -> BackupProfile:
    """The `profile` section of the backup profiles file, validated."""
    return profile_section(path, profile, BackupProfile)


def velero_enabled(cfg: Any) -> bool:
    """Whether `cfg` (a StackConfig) installs Velero: only a stack owning its cluster does,
    when `backup.velero.enabled` says so or, unset, its profile does."""
    explicit = cfg.backup.velero.enabled
    wanted = load_profile(cfg.profile).velero if explicit is None else explicit
    return bool(cfg.owns_cluster and wanted)


def backup_rules(cfg: Any) -> list[tuple[str, str]]:
    """Cross-section problems of `cfg.backup` (a StackConfig), keyed from the file root."""
    v, p = cfg.backup.velero, []
    if v.enabled is True and not cfg.owns_cluster:
        p.append(("backup.velero.enabled", "Velero belongs to the stack that owns the "
                                           "cluster: enable it in the platform stack"))
    defaulted_on = cfg.owns_cluster and load_profile(cfg.profile).velero
    if v.enabled is False and defaulted_on and not v.disabled_reason:
        p.append(("backup.velero.enabled", f"profile '{cfg.profile}' backs up the cluster's "
                  "stores: keep it on, or state the accepted risk in "
                  "backup.velero.disabledReason"))
    if v.disabled_reason and not (v.enabled is False and defaulted_on):
        p.append(("backup.velero.disabledReason", f"only for a stack whose profile "
                  f"('{cfg.profile}') turns backups on and that owns its cluster, with "
                  "backup.velero.enabled false"))
    return p
