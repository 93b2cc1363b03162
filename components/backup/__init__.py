"""Velero for a cluster this stack owns: the pinned chart, where backups go, who Velero is
there, and a Schedule per in-cluster store.

- aws: an S3 bucket (components/storage/s3.py's guardrails) and an IRSA role allowed on
  that bucket (and its KMS key) only, plus EBS snapshots in `snapshot` mode;
- gcp: a GCS bucket and a Google service account bound through Workload Identity, with
  object rights on that bucket and disk-snapshot rights in `snapshot` mode;
- local: a MinIO of its own in Velero's namespace (components/storage/minio.py), whose
  generated keys Velero reads from the MinIO Secret by name.

In prod the bucket (and its key) is protected and retained on delete, like the lake's.
The release is applied by Pulumi, not Argo CD: the Schedules need its CRDs first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from components.backup._schedules import (
    STORES,
    Store,
    VeleroSchedules,
    VeleroSchedulesArgs,
    schedule_spec,
)
from components.backup._values import LOCATION, SERVICE_ACCOUNT, computed_values
from components.helm_app import HelmApp, HelmAppArgs
from foundation.config.backup import VeleroConfig

APP = "velero"

__all__ = ["APP", "STORES", "Store", "Velero", "VeleroArgs", "VeleroSchedules",
           "VeleroSchedulesArgs", "schedule_spec"]


@dataclass(frozen=True)
class VeleroArgs:
    """Inputs of Velero. (`dataplatform/resolve/cluster.py` derives them.)"""

    base: str
    """`<customer>-<domain>-<environment>` of the stack owning the cluster."""
    settings: VeleroConfig
    """The stack's `backup.velero` section."""
    profile: str
    """Profile whose values file is layered in; prod protects and retains the bucket."""
    cloud: Literal["aws", "gcp", "local"]
    """Where backups go: S3, GCS or an in-cluster MinIO."""
    bucket: str
    """Bucket name (cfg.naming.bucket('velero', cloud))."""
    stores: Sequence[Store]
    """The stores a Schedule covers (those that can exist on this cluster)."""
    identity_name: str = ""
    """IAM role (aws) or Google service-account id (gcp) of Velero: from cfg.naming."""
    region: str | None = None
    """aws/gcp: region of the bucket (and of the snapshots)."""
    project: str | None = None
    """gcp: project of the bucket, the service account and the snapshots."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels for the namespace, the Schedules and the MinIO objects."""
    oidc_issuer: pulumi.Input[str | None] | None = None
    """aws: the cluster's OIDC issuer (set by the cluster owner once the cluster exists)."""
    oidc_provider_arn: pulumi.Input[str | None] | None = None
    """aws: the cluster's IAM OIDC provider."""

    def __post_init__(self):
        problems = []
        if self.cloud in ("aws", "gcp") and not (self.region and self.identity_name):
            problems.append(f"cloud {self.cloud} needs region and identity_name")
        if self.cloud == "gcp" and not self.project:
            problems.append("cloud gcp needs the project")
        if self.profile == "prod" and self.cloud == "local":
            problems.append("profile prod has no in-cluster MinIO for backups")
        if not self.stores:
            problems.append("no stores to back up")
        if problems:
            raise ValueError(f"Velero {self.base}: " + "; ".join(problems))

    @property
    def node_agent(self) -> bool:
        """fs backups: the node agent reads volumes from the host (privileged namespace)."""
        return self.settings.volume_backup == "fs"


class Velero(pulumi.ComponentResource):
    """Velero with its bucket, identity and Schedules."""

    namespace: pulumi.Output[str]
    bucket: pulumi.Output[str]
    schedule_names: pulumi.Output[list[str]]
    release: HelmApp

    def __init__(self, name: str, args: VeleroArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:backup:Velero", name, None, opts)
        ns_name = args.settings.namespace
        child = pulumi.ResourceOptions(parent=self)
        # The node agent mounts the kubelet's pod folder and runs as root: `privileged`
        # only when fs backups need it, else the server's namespace stays `restricted`.
        level = "privileged" if args.node_agent else "restricted"
        ns = k8s.core.v1.Namespace(f"{name}-namespace", metadata={"name": ns_name, "labels": {
            **args.labels, "pod-security.kubernetes.io/enforce": level,
            "pod-security.kubernetes.io/warn": "restricted"}}, opts=child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        annotations = gsa_email = minio = None
        if args.cloud == "aws":
            from components.backup._aws import aws_storage

            bucket, annotations, deps = aws_storage(
                self, name, args, f"system:serviceaccount:{ns_name}:{SERVICE_ACCOUNT}")
        elif args.cloud == "gcp":
            from components.backup._gcp import gcp_storage

            bucket, annotations, gsa_email, deps = gcp_storage(self, name, args, ns_name,
                                                               SERVICE_ACCOUNT)
        else:
            from components.storage.minio import MinioStorage, MinioStorageArgs

            store = MinioStorage(f"{name}-minio", MinioStorageArgs(
                namespace=ns_name, buckets={"backups": args.bucket}, profile=args.profile,
                labels=args.labels), opts=in_ns)
            bucket = store.buckets.apply(lambda b: b["backups"])
            minio = (store.endpoint, store.credentials_secret)
            deps = [store]
        self.release = HelmApp(
            f"{name}-chart",
            HelmAppArgs(app=APP, namespace=ns.metadata["name"], profile=args.profile,
                        delivery="helm", release_name=APP, computed=computed_values(
                            args.cloud, args.profile, args.region, args.project,
                            args.settings.volume_backup, bucket, annotations, gsa_email,
                            minio)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ns, *deps]))
        schedules = VeleroSchedules(
            f"{name}-schedules",
            VeleroSchedulesArgs(base=args.base, settings=args.settings, stores=args.stores,
                                storage_location=LOCATION, labels=args.labels),
            # The chart brings the Schedule CRD.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]))
        self.namespace = ns.metadata["name"]
        self.bucket = pulumi.Output.from_input(bucket)
        self.schedule_names = schedules.schedule_names
        self.register_outputs({"namespace": self.namespace, "bucket": self.bucket,
                               "schedule_names": self.schedule_names})
