"""`backup:` backups of what lives in the cluster (platform stacks and dedicated domains).

Managed databases back themselves up (RDS/Cloud SQL snapshots and point-in-time recovery,
`database.backupRetentionDays`). What stays in the cluster (in-cluster Postgres and MinIO
in dev, Prometheus, DataHub's prerequisites, PVCs of apps) is covered by Velero when
`backup.velero.enabled`: the stack creates Velero `Schedule` objects. Velero itself (its
server, node agent, plugins and BackupStorageLocation) is installed separately, because
its chart is not among the pinned charts whose values this project can check, and where
backups go is a decision of the customer's operations: see docs/backup-restore.md.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field

from foundation.config._checks import matching
from foundation.config.base import Model

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
    """Velero `Schedule`s for the cluster's volumes (Velero must already be installed)."""

    enabled: bool = Field(False, description="Create the Velero schedules.")
    namespace: K8sName = Field("velero", description="Namespace of the Velero server, where "
                                                     "Schedules must live.")
    schedule: Cron = Field("0 2 * * *", description="When the backup runs (cron, in the "
                                                     "Velero server's time zone).")
    ttl: GoDuration = Field("720h", description="How long each backup is kept (720h: 30 "
                                                "days).")
    storage_location: K8sName | None = Field(
        None, description="BackupStorageLocation to write to (None: Velero's default).")
    volume_backup: Literal["fs", "snapshot"] = Field(
        "fs", description="'fs': file-system backup of volume contents by the node agent "
                          "(any storage, kind included); 'snapshot': CSI or cloud volume "
                          "snapshots (needs a VolumeSnapshotLocation or CSI snapshot class).")
    excluded_namespaces: list[K8sName] = Field(
        default_factory=lambda: ["kube-system", "kube-public", "kube-node-lease"],
        description="Namespaces left out (Velero's own namespace is always left out).")


class BackupConfig(Model):
    """Backups of in-cluster state; managed databases have their own (`database`)."""

    velero: VeleroConfig = Field(default_factory=VeleroConfig)


def backup_rules(cfg: Any) -> list[tuple[str, str]]:
    """Cross-section problems of `cfg.backup` (a StackConfig), keyed from the file root."""
    if cfg.backup.velero.enabled and not cfg.owns_cluster:
        return [("backup.velero.enabled", "Velero schedules belong to the stack that owns "
                                          "the cluster: enable them in the platform stack")]
    return []
