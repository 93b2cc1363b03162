"""GcsLake: the domain's lake on GCP, one locked-down Cloud Storage bucket per lake zone.

Every bucket: uniform bucket-level access (no object ACLs), public access prevention
enforced, versioning, lifecycle rules (noncurrent versions and incomplete uploads
everywhere, live objects of `logs`) and, in prod, CMEK: a rotating Cloud KMS key the
project's Cloud Storage service agent may use (or a key you bring). In prod buckets and
keys are protected and retained on delete; `force_destroy` only ever in dev with
`storage.allowTeardown`. Labels come from the GCP provider's default labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.storage._lake_policy import (
    ABORT_MULTIPART_DAYS,
    LOGS_ZONE,
    LakeArgs,
    lake_opts,
)

KMS_ROTATION = "7776000s"  # 90 days
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


@dataclass(frozen=True, kw_only=True)
class GcsLakeArgs(LakeArgs):
    """Inputs of GcsLake. (`dataplatform/resolve/domain.py` derives them.)"""

    project: str
    """GCP project of the buckets and the key ring."""
    location: str
    """Region of the buckets and the key ring (a CMEK must be in the bucket's location)."""
    kms_key_name: str | None = None
    """A Cloud KMS key you bring (full resource name): used instead of creating one."""

    @property
    def creates_key(self) -> bool:
        """Prod without a key of its own: the lake creates its key ring and key."""
        return self.prod and not self.kms_key_name


class GcsLake(pulumi.ComponentResource):
    """Versioned, private, uniformly accessed GCS buckets, one per lake zone."""

    buckets: pulumi.Output[dict[str, str]]
    bucket_urls: pulumi.Output[dict[str, str]]
    kms_key_id: pulumi.Output[str | None]

    def __init__(self, name: str, args: GcsLakeArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:storage:GcsLake", name, None, opts)
        key_id: pulumi.Input[str] | None = args.kms_key_name
        deps: list[pulumi.Resource] = []
        if args.creates_key:
            key_id, grant = self._key(name, args)
            deps.append(grant)  # the service agent must be able to use the key first
        created = {zone: self._bucket(name, zone, bucket, args, key_id, deps)
                   for zone, bucket in args.buckets.items()}
        self.buckets = pulumi.Output.all(**{z: b.name for z, b in created.items()})
        self.bucket_urls = pulumi.Output.all(**{z: b.url for z, b in created.items()})
        self.kms_key_id = pulumi.Output.from_input(key_id)
        self.register_outputs({"buckets": self.buckets, "bucket_urls": self.bucket_urls,
                               "kms_key_id": self.kms_key_id})

    def _key(self, name: str, args: GcsLakeArgs) -> tuple[pulumi.Output[str], pulumi.Resource]:
        """The lake's CMEK, usable by the project's Cloud Storage service agent."""
        # Key rings and keys cannot be deleted in GCP: Pulumi only forgets them on destroy.
        ring = gcp.kms.KeyRing(f"{name}-keyring", name=f"{args.base}-lake",
                               project=args.project, location=args.location,
                               opts=lake_opts(self, args.prod, stateful=True))
        key = gcp.kms.CryptoKey(f"{name}-key", name="lake", key_ring=ring.id,
                                purpose="ENCRYPT_DECRYPT", rotation_period=KMS_ROTATION,
                                opts=lake_opts(self, args.prod, stateful=True))
        agent = gcp.storage.get_project_service_account_output(
            project=args.project, opts=pulumi.InvokeOutputOptions(parent=self))
        grant = gcp.kms.CryptoKeyIAMMember(
            f"{name}-key-gcs-agent", crypto_key_id=key.id, role=ENCRYPTER_DECRYPTER,
            member=agent.email_address.apply(lambda e: f"serviceAccount:{e}"),
            opts=lake_opts(self, args.prod))
        return key.id, grant

    def _bucket(self, name: str, zone: str, bucket_name: str, args: GcsLakeArgs,
                key_id: pulumi.Input[str] | None,
                deps: list[pulumi.Resource]) -> gcp.storage.Bucket:
        s = gcp.storage
        return s.Bucket(
            f"{name}-{zone}", name=bucket_name, project=args.project, location=args.location,
            uniform_bucket_level_access=True, public_access_prevention="enforced",
            versioning=s.BucketVersioningArgs(enabled=True),
            encryption=s.BucketEncryptionArgs(default_kms_key_name=key_id)
            if key_id is not None else None,
            lifecycle_rules=_lifecycle_rules(zone, args),
            force_destroy=args.force_destroy,
            opts=lake_opts(self, args.prod, stateful=True, depends_on=deps or None))


def _lifecycle_rules(zone: str, args: GcsLakeArgs) -> list[gcp.storage.BucketLifecycleRuleArgs]:
    s = gcp.storage
    rules = [
        s.BucketLifecycleRuleArgs(
            action=s.BucketLifecycleRuleActionArgs(type="Delete"),
            condition=s.BucketLifecycleRuleConditionArgs(
                days_since_noncurrent_time=args.noncurrent_version_retention_days,
                with_state="ARCHIVED")),
        s.BucketLifecycleRuleArgs(
            action=s.BucketLifecycleRuleActionArgs(type="AbortIncompleteMultipartUpload"),
            condition=s.BucketLifecycleRuleConditionArgs(age=ABORT_MULTIPART_DAYS)),
    ]
    if zone == LOGS_ZONE:
        # Deleting a live object of a versioned bucket archives it; the rule above then
        # removes the archived version after the noncurrent retention.
        rules.append(s.BucketLifecycleRuleArgs(
            action=s.BucketLifecycleRuleActionArgs(type="Delete"),
            condition=s.BucketLifecycleRuleConditionArgs(
                age=args.logs_retention_days, with_state="LIVE")))
    return rules
