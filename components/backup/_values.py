"""The velero chart's values computed in code: which plugin, where backups go, how Velero
authenticates there, and the node agent. Everything else is in charts-values/velero/."""

from __future__ import annotations

from typing import Any

import pulumi
from pydantic import Field

from components._k8s import Resources, container_security, secret_env
from components._values import typed_settings
from foundation.config.base import Model

PLUGINS_APP = "velero-plugins"
LOCATION = "default"
SERVICE_ACCOUNT = "velero"
MINIO_REGION = "minio"  # any name: MinIO has one region, the S3 API needs one


class Plugin(Model):
    """One Velero plugin's init container."""

    image: str = Field(description="Plugin image, pinned by tag.")
    resources: Resources = Field(description="Init container requests and limits.")


class VeleroPlugins(Model):
    """charts-values/velero-plugins/: the object-store plugin of each cloud."""

    aws: Plugin = Field(description="velero-plugin-for-aws (S3, and MinIO locally).")
    gcp: Plugin = Field(description="velero-plugin-for-gcp (GCS).")


def plugin_container(cloud: str, profile: str) -> dict[str, Any]:
    """The init container that copies the cloud's plugin into Velero's plugin folder."""
    provider = "gcp" if cloud == "gcp" else "aws"
    plugin: Plugin = getattr(typed_settings(PLUGINS_APP, profile, VeleroPlugins), provider)
    return {"name": f"velero-plugin-for-{provider}", "image": plugin.image,
            "imagePullPolicy": "IfNotPresent",
            "volumeMounts": [{"mountPath": "/target", "name": "plugins"}],
            "resources": plugin.resources.model_dump(),
            "securityContext": container_security()}


def computed_values(cloud: str, profile: str, region: str | None, project: str | None,
                    volume_backup: str, bucket: pulumi.Input[str],
                    annotations: pulumi.Input[dict[str, str]] | None = None,
                    gsa_email: pulumi.Input[str] | None = None,
                    minio: tuple[pulumi.Input[str], pulumi.Input[str]] | None = None,
                    ) -> dict[str, Any]:
    """Values only the stack knows: bucket, region or MinIO endpoint, identity, modes.

    aws/gcp authenticate by workload identity (an annotated ServiceAccount, no Secret);
    locally, `minio` is (endpoint, Secret name): the MinIO keys reach the server and the
    node agent as environment variables read from that Secret, by name."""
    provider = "gcp" if cloud == "gcp" else "aws"
    fs, snapshots = volume_backup == "fs", volume_backup == "snapshot" and cloud != "local"
    config: dict[str, Any] = {}
    env: list[dict[str, Any]] = []
    if cloud == "aws":
        config = {"region": region}
    elif cloud == "gcp":
        config = {"serviceAccount": gsa_email}  # signs download URLs as itself
    else:
        assert minio is not None
        endpoint, secret = minio
        config = {"region": MINIO_REGION, "s3ForcePathStyle": "true", "s3Url": endpoint}
        env = [secret_env("AWS_ACCESS_KEY_ID", secret, "rootUser"),
               secret_env("AWS_SECRET_ACCESS_KEY", secret, "rootPassword")]
    configuration: dict[str, Any] = {
        "backupStorageLocation": [{"name": LOCATION, "provider": provider, "bucket": bucket,
                                   "default": True, "config": config}],
        "defaultVolumesToFsBackup": fs,
        "extraEnvVars": env,
    }
    if snapshots:
        configuration["volumeSnapshotLocation"] = [{
            "name": LOCATION, "provider": provider,
            "config": {"region": region} if cloud == "aws"
            else {"project": project, "snapshotLocation": region}}]
    server: dict[str, Any] = {"create": True, "name": SERVICE_ACCOUNT}
    if annotations is not None:
        server["annotations"] = annotations
    return {
        "initContainers": [plugin_container(cloud, profile)],
        "configuration": configuration,
        "credentials": {"useSecret": False},
        "serviceAccount": {"server": server},
        "backupsEnabled": True,
        "snapshotsEnabled": snapshots,
        "deployNodeAgent": fs,
    }
