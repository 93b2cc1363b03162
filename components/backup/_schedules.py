"""Velero Schedules: one per kind of in-cluster store, each picking the store's pods and
volumes by the label its StatefulSet gives them (a StatefulSet's PVCs carry its selector's
labels, so the same label finds the claims)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from foundation.config.backup import VeleroConfig

NAME_LABEL = "app.kubernetes.io/name"


@dataclass(frozen=True)
class Store:
    """A kind of stateful store in the cluster and how Velero finds it."""

    name: str
    """Short name (`postgres`): the Schedule is `<base>-<name>`."""
    selector: Mapping[str, str]
    """Labels of its pods and PVCs (the StatefulSet's selector)."""
    namespaces: tuple[str, ...] = ("*",)
    """Namespaces it lives in; `*`: any (every domain's), less the excluded ones."""


STORES: dict[str, Store] = {s.name: s for s in (
    # components/database/incluster_postgres.py (dev, or prod with inClusterReason)
    Store("postgres", {NAME_LABEL: "postgres"}),
    # components/storage/minio.py: the local lake
    Store("minio", {NAME_LABEL: "minio"}),
    # datahub-prerequisites' subcharts: Bitnami Kafka and OpenSearch (common.labels /
    # opensearch.selectorLabels: app.kubernetes.io/name is the chart's name)
    Store("kafka", {NAME_LABEL: "kafka"}),
    Store("opensearch", {NAME_LABEL: "opensearch"}),
    # the Prometheus Operator's StatefulSet (kube-prometheus-stack, prod or storageSize)
    Store("prometheus", {NAME_LABEL: "prometheus"}),
)}
"""Every store kind a Schedule can cover; the resolve step picks those that can exist."""


@dataclass(frozen=True)
class VeleroSchedulesArgs:
    """Inputs of VeleroSchedules."""

    base: str
    """`<customer>-<domain>-<environment>` of the owning stack: prefix of Schedule names."""
    settings: VeleroConfig
    """The stack's `backup.velero` section."""
    stores: Sequence[Store]
    """The stores to back up, one Schedule each."""
    storage_location: str = "default"
    """BackupStorageLocation the backups go to (`backup.velero.storageLocation` wins)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels for the Schedules (and, through Velero, their Backups)."""

    def __post_init__(self):
        names = [s.name for s in self.stores]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"VeleroSchedules {self.base}: stores must be a non-empty list "
                             f"without duplicates, not {names}")


def schedule_spec(args: VeleroSchedulesArgs, store: Store) -> dict:
    """The `spec` of the Schedule of `store`."""
    v = args.settings
    return {
        "schedule": v.schedule,
        # Backups outlive their Schedule: deleting the stack must not delete backups.
        "useOwnerReferencesInBackup": False,
        "template": {
            "includedNamespaces": list(store.namespaces),
            "excludedNamespaces": sorted({*v.excluded_namespaces, v.namespace}),
            "labelSelector": {"matchLabels": dict(store.selector)},
            # fs: the node agent copies volume contents (works on any storage, kind too);
            # snapshot: EBS / persistent-disk snapshots, fast but tied to the zone.
            "defaultVolumesToFsBackup": v.volume_backup == "fs",
            "snapshotVolumes": v.volume_backup == "snapshot",
            "ttl": v.ttl,
            "storageLocation": v.storage_location or args.storage_location,
        },
    }


class VeleroSchedules(pulumi.ComponentResource):
    """A daily (by default) Velero backup of each kind of in-cluster store."""

    schedule_names: pulumi.Output[list[str]]

    def __init__(self, name: str, args: VeleroSchedulesArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:backup:VeleroSchedules", name, None, opts)
        names = []
        for store in args.stores:
            schedule = k8s.apiextensions.CustomResource(
                f"{name}-{store.name}",
                api_version="velero.io/v1",
                kind="Schedule",
                metadata={"name": f"{args.base}-{store.name}",
                          "namespace": args.settings.namespace,
                          "labels": {**args.labels, "dataplatform.io/store": store.name}},
                spec=schedule_spec(args, store),
                opts=pulumi.ResourceOptions(parent=self))
            names.append(schedule.metadata["name"])
        self.schedule_names = pulumi.Output.all(*names).apply(list)
        self.register_outputs({"schedule_names": self.schedule_names})
