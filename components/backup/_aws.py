"""Velero on aws: its S3 bucket (the lake's guardrails: versioned, encrypted, private,
TLS-only; protected and retained in prod) and its IRSA role, allowed on that bucket only,
plus EBS snapshots in `snapshot` mode."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from components.identity.workload_identity import AWS_ANNOTATION, irsa_trust_policy
from components.storage.s3 import S3Lake, S3LakeArgs

if TYPE_CHECKING:
    from components.backup import VeleroArgs

ZONE = "backups"
# What velero-plugin-for-aws does on its bucket (its README's policy), nothing more.
S3_BUCKET_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucket")
S3_OBJECT_ACTIONS = ("s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject",
                     "s3:ListMultipartUploadParts", "s3:PutObject", "s3:PutObjectTagging")
KMS_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
# EBS snapshots (snapshot mode). Describe* cannot be scoped to a resource in IAM: region only.
EC2_DESCRIBE = ("ec2:DescribeSnapshots", "ec2:DescribeVolumes")
EC2_CREATE = ("ec2:CreateSnapshot", "ec2:CreateVolume")
SNAPSHOT_TAG = "velero.io/backup"
"""Tag velero-plugin-for-aws puts on every snapshot it makes (DeleteSnapshot is limited to them)."""


def velero_policy(bucket_arn: str, kms_key_arn: str | None, region: str,
                  snapshots: bool) -> str:
    """The role's policy: the bucket (and its key), and EBS snapshots when asked."""
    statements: list[dict[str, Any]] = [
        {"Sid": "Bucket", "Effect": "Allow", "Action": sorted(S3_BUCKET_ACTIONS),
         "Resource": [bucket_arn]},
        {"Sid": "Objects", "Effect": "Allow", "Action": sorted(S3_OBJECT_ACTIONS),
         "Resource": [f"{bucket_arn}/*"]},
    ]
    if kms_key_arn:
        statements.append({"Sid": "BucketKey", "Effect": "Allow", "Action": sorted(KMS_ACTIONS),
                           "Resource": [kms_key_arn]})
    if snapshots:
        part = bucket_arn.split(":")[1]
        volumes, snaps = (f"arn:{part}:ec2:{region}:*:volume/*",
                          f"arn:{part}:ec2:{region}::snapshot/*")
        in_region = {"StringEquals": {"aws:RequestedRegion": region}}
        statements += [
            {"Sid": "DescribeVolumes", "Effect": "Allow", "Action": sorted(EC2_DESCRIBE),
             "Resource": ["*"], "Condition": in_region},
            {"Sid": "SnapshotAndRestoreVolumes", "Effect": "Allow",
             "Action": sorted(EC2_CREATE), "Resource": [volumes, snaps]},
            {"Sid": "TagWhatItCreates", "Effect": "Allow", "Action": ["ec2:CreateTags"],
             "Resource": [volumes, snaps],
             "Condition": {"StringEquals": {"ec2:CreateAction": sorted(EC2_CREATE)}}},
            {"Sid": "DeleteItsSnapshots", "Effect": "Allow", "Action": ["ec2:DeleteSnapshot"],
             "Resource": [snaps],
             "Condition": {"Null": {f"aws:ResourceTag/{SNAPSHOT_TAG}": "false"}}},
        ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def aws_storage(parent: pulumi.Resource, name: str, args: VeleroArgs, subject: str):
    """The bucket, then the role Velero's ServiceAccount assumes.

    Returns (bucket name, ServiceAccount annotations, resources the release waits for)."""
    assert args.region is not None  # VeleroArgs checks it on aws
    lake = S3Lake(f"{name}-bucket", S3LakeArgs(
        base=f"{args.base}-velero", buckets={ZONE: args.bucket}, profile=args.profile),
        opts=pulumi.ResourceOptions(parent=parent))
    child = pulumi.ResourceOptions(parent=parent)
    trust = pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
        lambda v: irsa_trust_policy(v[0], v[1], subject))
    role = aws.iam.Role(f"{name}-role", name=args.identity_name,
                        description=f"Velero of {args.base} (IRSA)",
                        assume_role_policy=trust, opts=child)
    snapshots = args.settings.volume_backup == "snapshot"
    document = pulumi.Output.all(lake.bucket_arns, lake.kms_key_arn).apply(
        lambda v: velero_policy(v[0][ZONE], v[1], args.region or "", snapshots))
    policy = aws.iam.Policy(f"{name}-policy", name=args.identity_name,
                            description=f"Velero of {args.base}: its bucket"
                            + (" and EBS snapshots" if snapshots else ""),
                            policy=document, opts=child)
    attachment = aws.iam.RolePolicyAttachment(f"{name}-policy-attachment", role=role.name,
                                              policy_arn=policy.arn, opts=child)
    bucket = lake.buckets.apply(lambda b: b[ZONE])
    return bucket, role.arn.apply(lambda arn: {AWS_ANNOTATION: arn}), [lake, attachment]
