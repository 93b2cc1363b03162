"""Velero on gcp: its GCS bucket (the lake's guardrails; CMEK, protected and retained in
prod) and its Google service account: objects of that bucket, signing its own download
URLs, persistent-disk snapshots in `snapshot` mode, impersonable only by Velero's
Kubernetes ServiceAccount through Workload Identity."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

from components.identity.workload_identity import GCP_ANNOTATION, WI_USER
from components.storage.gcs import GcsLake, GcsLakeArgs

if TYPE_CHECKING:
    from components.backup import VeleroArgs

ZONE = "backups"
OBJECTS_ROLE = "roles/storage.objectUser"
"""Create, read, list and delete objects (and multipart uploads); no bucket or ACL admin."""
TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"
"""On itself only: signBlob, for the signed URLs of `velero backup logs/download`."""
# velero-plugin-for-gcp's documented permissions for disk snapshots, nothing else.
SNAPSHOT_PERMISSIONS = (
    "compute.disks.create", "compute.disks.createSnapshot", "compute.disks.get",
    "compute.projects.get", "compute.snapshots.create", "compute.snapshots.delete",
    "compute.snapshots.get", "compute.snapshots.setLabels", "compute.snapshots.useReadOnly",
    "compute.zones.get",
)


def snapshot_role_id(base: str) -> str:
    """Custom role id (letters, digits, `_` and `.`): one per stack, deterministic."""
    return "velero_" + base.replace("-", "_")


def gcp_storage(parent: pulumi.Resource, name: str, args: VeleroArgs, namespace: str,
                service_account: str):
    """The bucket, then the Google service account Velero acts as.

    Returns (bucket name, ServiceAccount annotations, GSA email, resources to wait for)."""
    assert args.project and args.region  # VeleroArgs checks them on gcp
    child = pulumi.ResourceOptions(parent=parent)
    lake = GcsLake(f"{name}-bucket", GcsLakeArgs(
        base=f"{args.base}-velero", buckets={ZONE: args.bucket}, profile=args.profile,
        project=args.project, location=args.region), opts=child)
    gsa = gcp.serviceaccount.Account(
        f"{name}-gsa", account_id=args.identity_name, project=args.project,
        display_name=f"Velero of {args.base}",
        description=f"Kubernetes {namespace}/{service_account} (Workload Identity)", opts=child)
    member = pulumi.Output.concat("serviceAccount:", gsa.email)
    bucket = lake.buckets.apply(lambda b: b[ZONE])
    grants: list[pulumi.Resource] = [
        gcp.storage.BucketIAMMember(f"{name}-objects", bucket=bucket, role=OBJECTS_ROLE,
                                    member=member, opts=child),
        gcp.serviceaccount.IAMMember(f"{name}-sign-own-urls", service_account_id=gsa.name,
                                     role=TOKEN_CREATOR, member=member, opts=child),
        gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity", service_account_id=gsa.name, role=WI_USER,
            member=f"serviceAccount:{args.project}.svc.id.goog[{namespace}/{service_account}]",
            opts=child),
    ]
    if args.settings.volume_backup == "snapshot":
        role = gcp.projects.IAMCustomRole(
            f"{name}-snapshot-role", project=args.project, role_id=snapshot_role_id(args.base),
            title=f"Velero snapshots of {args.base}",
            permissions=list(SNAPSHOT_PERMISSIONS), opts=child)
        grants.append(gcp.projects.IAMMember(f"{name}-snapshots", project=args.project,
                                             role=role.name, member=member, opts=child))
    annotations = gsa.email.apply(lambda e: {GCP_ANNOTATION: e})
    return bucket, annotations, gsa.email, [lake, *grants]
