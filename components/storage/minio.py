"""MinioStorage: the local cloud's object storage, one small StatefulSet plus a bucket Job."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pydantic import Field

from components._k8s import Resources, container_security, pod_security, secret_env
from components._values import typed_settings
from foundation.config.base import Model

APP = "minio"
UID = 1000
API_PORT, CONSOLE_PORT = 9000, 9001
SECRET = "minio-credentials"


class MinioSettings(Model):
    """charts-values/minio/: images and sizes."""

    image: str = Field(description="MinIO server image, pinned by tag.")
    client_image: str = Field(description="MinIO client (mc) image for the bucket Job.")
    storage_size: str = Field(description="Size of the data volume.")
    storage_class: str | None = Field(None, description="StorageClass; unset for the default.")
    resources: Resources = Field(description="Server container resources.")
    client_resources: Resources = Field(description="Bucket Job container resources.")


@dataclass(frozen=True)
class MinioStorageArgs:
    """Inputs of MinioStorage."""

    namespace: pulumi.Input[str]
    """Namespace to run in (the domain's)."""
    buckets: Mapping[str, str]
    """Lake zone -> bucket name."""
    profile: str
    """Profile whose settings file is layered in."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels for every object."""


class MinioStorage(pulumi.ComponentResource):
    """S3-compatible storage inside the cluster, with generated root credentials."""

    endpoint: pulumi.Output[str]
    credentials_secret: pulumi.Output[str]
    buckets: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: MinioStorageArgs,
                 opts: pulumi.ResourceOptions | None = None):
        settings = typed_settings(APP, args.profile, MinioSettings)
        super().__init__("dataplatform:storage:MinioStorage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {**args.labels, "app.kubernetes.io/name": APP}
        meta = {"namespace": args.namespace, "labels": labels}
        password = random.RandomPassword(f"{name}-root-password", length=32, special=False,
                                         opts=child)
        secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata={"name": SECRET, **meta},
            string_data={"rootUser": "minio-admin", "rootPassword": password.result},
            opts=child)
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": APP, **meta},
            spec={"selector": {"app.kubernetes.io/name": APP}, "ports": [
                {"name": "api", "port": API_PORT, "targetPort": API_PORT},
                {"name": "console", "port": CONSOLE_PORT, "targetPort": CONSOLE_PORT}]},
            opts=child)
        env = [secret_env("MINIO_ROOT_USER", SECRET, "rootUser"),
               secret_env("MINIO_ROOT_PASSWORD", SECRET, "rootPassword")]
        statefulset = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata={"name": APP, **meta},
            spec={
                "serviceName": APP,
                "replicas": 1,
                "selector": {"matchLabels": {"app.kubernetes.io/name": APP}},
                "template": {"metadata": {"labels": labels}, "spec": {
                    "securityContext": pod_security(UID),
                    "containers": [{
                        "name": APP, "image": settings.image,
                        "args": ["server", "/data", "--console-address", f":{CONSOLE_PORT}"],
                        "env": env,
                        "ports": [{"name": "api", "containerPort": API_PORT},
                                  {"name": "console", "containerPort": CONSOLE_PORT}],
                        "readinessProbe": {"httpGet": {"path": "/minio/health/ready",
                                                       "port": API_PORT}},
                        "livenessProbe": {"httpGet": {"path": "/minio/health/live",
                                                      "port": API_PORT}},
                        "resources": settings.resources.model_dump(),
                        "securityContext": container_security(),
                        "volumeMounts": [{"name": "data", "mountPath": "/data"},
                                         {"name": "tmp", "mountPath": "/tmp"}],
                    }],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                }},
                "volumeClaimTemplates": [{
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"],
                             "storageClassName": settings.storage_class,
                             "resources": {"requests": {"storage": settings.storage_size}}}}],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[secret, service]))
        self._bucket_job(name, args, settings, labels, statefulset)
        self.endpoint = pulumi.Output.concat("http://", service.metadata["name"], ".",
                                             service.metadata["namespace"],
                                             f".svc.cluster.local:{API_PORT}")
        self.credentials_secret = secret.metadata["name"]
        self.buckets = pulumi.Output.from_input(dict(args.buckets))
        self.register_outputs({"endpoint": self.endpoint,
                               "credentials_secret": self.credentials_secret,
                               "buckets": self.buckets})

    def _bucket_job(self, name: str, args: MinioStorageArgs, settings: MinioSettings,
                    labels: Mapping[str, str], statefulset: k8s.apps.v1.StatefulSet):
        # Idempotent: re-running on an existing store changes nothing.
        script = " && ".join([
            f'mc alias set lake "http://{APP}:{API_PORT}" "$MINIO_ROOT_USER" '
            '"$MINIO_ROOT_PASSWORD"',
            *(f"mc mb --ignore-existing lake/{shlex.quote(b)} && "
              f"mc version enable lake/{shlex.quote(b)}" for b in args.buckets.values()),
        ])
        k8s.batch.v1.Job(
            f"{name}-buckets",
            metadata={"name": "minio-buckets", "namespace": args.namespace, "labels": labels},
            spec={"backoffLimit": 6, "template": {"metadata": {"labels": labels}, "spec": {
                "restartPolicy": "OnFailure",
                "securityContext": pod_security(UID),
                "containers": [{
                    "name": "mc", "image": settings.client_image,
                    "command": ["/bin/sh", "-c", script],
                    "env": [secret_env("MINIO_ROOT_USER", SECRET, "rootUser"),
                            secret_env("MINIO_ROOT_PASSWORD", SECRET,
                                       "rootPassword"),
                            {"name": "MC_CONFIG_DIR", "value": "/tmp/.mc"}],
                    "resources": settings.client_resources.model_dump(),
                    "securityContext": container_security(),
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                }],
                "volumes": [{"name": "tmp", "emptyDir": {}}],
            }}},
            # A Job's pod template is immutable: a new bucket list means a new Job.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[statefulset],
                                        replace_on_changes=["spec"],
                                        delete_before_replace=True),
        )
