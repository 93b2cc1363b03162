"""S3Lake: the domain's lake on AWS, one locked-down S3 bucket per lake zone.

Every bucket: versioning, default encryption (SSE-KMS with the lake's rotating KMS key in
prod, or a key you bring; SSE-S3 in dev), all four public-access blocks, bucket-owner
enforced ownership (no ACLs), a policy refusing requests without TLS, and lifecycle rules
(noncurrent versions and incomplete uploads everywhere, current objects of `logs`). In prod
buckets and key are protected and retained on delete; `force_destroy` only ever in dev with
`storage.allowTeardown`. Tags come from the AWS provider's default tags; nothing here sets them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.storage._lake_policy import (
    ABORT_MULTIPART_DAYS,
    LOGS_ZONE,
    LakeArgs,
    lake_opts,
    tls_only_policy,
)

KEY_DELETION_WINDOW_DAYS = 30


@dataclass(frozen=True, kw_only=True)
class S3LakeArgs(LakeArgs):
    """Inputs of S3Lake. (`dataplatform/resolve/domain.py` derives them.)"""

    kms_key_arn: str | None = None
    """A KMS key (or alias) ARN you bring: used instead of creating the lake key."""

    @property
    def creates_key(self) -> bool:
        """Prod without a key of its own: the lake creates its KMS key."""
        return self.prod and not self.kms_key_arn


class S3Lake(pulumi.ComponentResource):
    """Versioned, encrypted, private, TLS-only S3 buckets, one per lake zone."""

    buckets: pulumi.Output[dict[str, str]]
    bucket_arns: pulumi.Output[dict[str, str]]
    kms_key_arn: pulumi.Output[str | None]

    def __init__(self, name: str, args: S3LakeArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:storage:S3Lake", name, None, opts)
        key_arn: pulumi.Input[str] | None = args.kms_key_arn
        if args.creates_key:
            key = aws.kms.Key(
                f"{name}-kms-key", description=f"Lake buckets of {args.base}",
                enable_key_rotation=True, deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
                opts=lake_opts(self, args.prod, stateful=True))
            aws.kms.Alias(f"{name}-kms-alias", name=f"alias/{args.base}-lake",
                          target_key_id=key.key_id, opts=lake_opts(self, args.prod))
            key_arn = key.arn
        created = {zone: self._bucket(name, zone, bucket, args, key_arn)
                   for zone, bucket in args.buckets.items()}
        self.buckets = pulumi.Output.all(**{z: b.bucket for z, b in created.items()})
        self.bucket_arns = pulumi.Output.all(**{z: b.arn for z, b in created.items()})
        self.kms_key_arn = pulumi.Output.from_input(key_arn)
        self.register_outputs({"buckets": self.buckets, "bucket_arns": self.bucket_arns,
                               "kms_key_arn": self.kms_key_arn})

    def _bucket(self, name: str, zone: str, bucket_name: str, args: S3LakeArgs,
                key_arn: pulumi.Input[str] | None) -> aws.s3.Bucket:
        s3, prod = aws.s3, args.prod
        child = f"{name}-{zone}"
        bucket = s3.Bucket(child, bucket=bucket_name, force_destroy=args.force_destroy,
                           opts=lake_opts(self, prod, stateful=True))
        opts = lake_opts(self, prod)
        s3.BucketVersioning(
            f"{child}-versioning", bucket=bucket.id,
            versioning_configuration=s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"),
            opts=opts)
        sse = s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs
        by_default = (sse(sse_algorithm="aws:kms", kms_master_key_id=key_arn)
                      if key_arn is not None else sse(sse_algorithm="AES256"))
        s3.BucketServerSideEncryptionConfiguration(
            f"{child}-encryption", bucket=bucket.id,
            rules=[s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=by_default,
                bucket_key_enabled=True if key_arn is not None else None)],
            opts=opts)
        access_block = s3.BucketPublicAccessBlock(
            f"{child}-public-access-block", bucket=bucket.id,
            block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=opts)
        s3.BucketOwnershipControls(
            f"{child}-ownership", bucket=bucket.id,
            rule=s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=opts)
        # After the access block: S3 rejects concurrent changes to one bucket's settings.
        s3.BucketPolicy(f"{child}-tls-only", bucket=bucket.id,
                        policy=bucket.arn.apply(tls_only_policy),
                        opts=lake_opts(self, prod, depends_on=[access_block]))
        s3.BucketLifecycleConfiguration(
            f"{child}-lifecycle", bucket=bucket.id, rules=_lifecycle_rules(zone, args),
            opts=opts)
        return bucket


def _lifecycle_rules(zone: str, args: S3LakeArgs) -> list[
        aws.s3.BucketLifecycleConfigurationRuleArgs]:
    s3 = aws.s3
    rules = [s3.BucketLifecycleConfigurationRuleArgs(
        id="expire-noncurrent-versions", status="Enabled",
        filter=s3.BucketLifecycleConfigurationRuleFilterArgs(),  # every object
        noncurrent_version_expiration=(
            s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=args.noncurrent_version_retention_days)),
        abort_incomplete_multipart_upload=(
            s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=ABORT_MULTIPART_DAYS)))]
    if zone == LOGS_ZONE:
        rules.append(s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-logs", status="Enabled",
            filter=s3.BucketLifecycleConfigurationRuleFilterArgs(),
            expiration=s3.BucketLifecycleConfigurationRuleExpirationArgs(
                days=args.logs_retention_days)))
    return rules
