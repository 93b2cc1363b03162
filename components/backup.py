"""Velero schedules for the volumes of a cluster this stack owns.

Only `Schedule` objects: Velero itself (server, node agent, plugins, storage location) is
installed beforehand (docs/backup-restore.md). Its chart is not pinned in
`charts.lock.yaml`, whose values keys we can check against `../shared`; a Schedule is a
small, stable API (`velero.io/v1`) that we can write without guessing chart keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from foundation.config.backup import VeleroConfig


@dataclass(frozen=True)
class VeleroSchedulesArgs:
    """Inputs of VeleroSchedules."""

    base: str
    """`<customer>-<domain>-<environment>` of the owning stack: prefix of Schedule names."""
    settings: VeleroConfig
    """The stack's `backup.velero` section."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels for the Schedules (and, through Velero, their Backups)."""


class VeleroSchedules(pulumi.ComponentResource):
    """A daily (by default) Velero backup of every non-system namespace's volumes."""

    schedule_names: pulumi.Output[list[str]]

    def __init__(self, name: str, args: VeleroSchedulesArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:backup:VeleroSchedules", name, None, opts)
        v = args.settings
        template = {
            "includedNamespaces": ["*"],
            "excludedNamespaces": sorted({*v.excluded_namespaces, v.namespace}),
            # fs: the node agent copies volume contents (works on any storage, kind too);
            # snapshot: CSI/cloud snapshots, fast but tied to the storage's zone/provider.
            "defaultVolumesToFsBackup": v.volume_backup == "fs",
            "snapshotVolumes": v.volume_backup == "snapshot",
            "ttl": v.ttl,
            **({"storageLocation": v.storage_location} if v.storage_location else {}),
        }
        schedule = k8s.apiextensions.CustomResource(
            f"{name}-volumes",
            api_version="velero.io/v1",
            kind="Schedule",
            metadata={"name": f"{args.base}-volumes", "namespace": v.namespace,
                      "labels": dict(args.labels)},
            # Backups outlive their Schedule: deleting the stack must not delete backups.
            spec={"schedule": v.schedule, "useOwnerReferencesInBackup": False,
                  "template": template},
            opts=pulumi.ResourceOptions(parent=self))
        self.schedule_names = pulumi.Output.all(schedule.metadata["name"]).apply(list)
        self.register_outputs({"schedule_names": self.schedule_names})
