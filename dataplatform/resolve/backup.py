"""VeleroArgs of a stack that owns its cluster, when its backups are on."""

from __future__ import annotations

from components.backup import STORES, Store, VeleroArgs
from components.site import Site
from foundation.config.backup import velero_enabled
from foundation.config.database import database_mode
from foundation.config.monitoring import monitoring_enabled
from foundation.config.stack import StackConfig


def velero_stores(cfg: StackConfig) -> list[Store]:
    """The stores that can exist on this cluster. A platform stack cannot know its domains'
    choices, so it covers every kind a domain on it may run (a Schedule whose label finds
    nothing makes an empty backup); a dedicated domain covers exactly what it runs."""
    platform = cfg.kind == "platform"
    datahub = cfg.apps.datahub
    names = [
        *(["postgres"] if platform or database_mode(cfg) == "in-cluster" else []),
        *(["minio"] if cfg.cloud == "local" else []),  # the local lake
        *(["kafka"] if platform or (datahub.enabled and datahub.kafka.mode == "in-cluster")
          else []),
        *(["opensearch"] if platform or (datahub.enabled and datahub.search.mode == "in-cluster")
          else []),
    ]
    stores = [STORES[n] for n in names]
    # Prometheus has a volume in prod, or with monitoring.storageSize (dev has none).
    if monitoring_enabled(cfg) and (cfg.profile == "prod" or cfg.monitoring.storage_size):
        stores.append(Store("prometheus", STORES["prometheus"].selector,
                            (cfg.monitoring.namespace,)))
    return stores


def velero_args(cfg: StackConfig, site: Site) -> VeleroArgs | None:
    """None unless the stack installs Velero (foundation/config/backup.py decides)."""
    if not velero_enabled(cfg):
        return None
    naming = cfg.naming
    identity = {"aws": naming.name("velero", kind="iam-role"),
                "gcp": naming.name("velero", kind="gcp-service-account")}.get(cfg.cloud, "")
    return VeleroArgs(
        base=naming.base, settings=cfg.backup.velero, profile=cfg.profile, cloud=cfg.cloud,
        bucket=naming.bucket("velero", cfg.cloud), stores=velero_stores(cfg),
        identity_name=identity, region=cfg.region, project=cfg.gcp_project,
        labels=site.k8s_labels)
