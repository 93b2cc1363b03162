"""Object storage: encrypted, versioned, never public, not force-destroyed in prod.

S3 configures a bucket through separate resources (`BucketServerSideEncryptionConfiguration`,
`BucketVersioning`, `BucketPublicAccessBlock`), so those checks are stack policies: they
look, for each bucket, for the resources attached to it. A resource is attached to a
bucket when it depends on the bucket (`bucket=bucket.id` makes it so), or when its
`bucket` input is the bucket's name. The legacy inline settings of `aws.s3.Bucket` count
too. GCS holds everything on the bucket itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pulumi_policy import PolicyResource, Severity

from guardrails._base import get, items, known, label, resource_policy, stack_policy

S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
GCS_BUCKETS = ("gcp:storage/bucket:Bucket",)
S3_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
S3_VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning",
                 "aws:s3/bucketVersioningV2:BucketVersioningV2")
S3_PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
BLOCK_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
               "restrictPublicBuckets")


def attached(resources: Sequence[PolicyResource], bucket: PolicyResource,
             types: Sequence[str]) -> list[PolicyResource]:
    """The resources of `types` that configure `bucket`."""
    names = {n for n in (known(bucket.props, "bucket"), bucket.name) if isinstance(n, str)}
    return [r for r in resources if r.resource_type in types and (
        bucket.urn in {d.urn for d in r.dependencies} or known(r.props, "bucket") in names)]


def _buckets(resources: Sequence[PolicyResource],
             types: Sequence[str]) -> Iterator[PolicyResource]:
    return (r for r in resources if r.resource_type in types)


def check_s3_encryption(resources, cfg) -> Iterator[tuple[str, str]]:
    for b in _buckets(resources, S3_BUCKETS):
        rules = [rule for c in attached(resources, b, S3_ENCRYPTION)
                 for rule in items(get(c.props, "rules"))]
        inline = get(b.props, "serverSideEncryptionConfiguration.rule")
        rules += [inline] if inline else []
        algos = [get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm") for rule in rules]
        if not algos:
            yield b.urn, (f"{label(b)} has no default encryption: add an "
                          "aws.s3.BucketServerSideEncryptionConfiguration with bucket=<bucket>.id "
                          "and sse_algorithm 'aws:kms' (with kms_master_key_id)")
        elif any(a not in SSE_ALGORITHMS for a in algos):
            yield b.urn, (f"{label(b)} has encryption rules without a valid sse_algorithm "
                          f"({algos}): use 'aws:kms' (or 'AES256' in dev)")
        elif cfg["profile"] == "prod" and not any(str(a).startswith("aws:kms") for a in algos):
            yield b.urn, (f"{label(b)} is encrypted with {algos[0]} (S3-managed keys): prod "
                          "buckets need SSE-KMS, set sse_algorithm 'aws:kms' and a "
                          "kms_master_key_id of a rotating customer key")


def check_gcs_encryption(args, cfg) -> Iterator[str]:
    if not get(args.props, "encryption.defaultKmsKeyName"):
        yield (f"{label(args)} has no customer-managed key: set "
               "encryption.default_kms_key_name to a Cloud KMS key in the bucket's location "
               "(and grant the Cloud Storage service agent encrypter/decrypter on it)")


def check_versioning(resources, cfg) -> Iterator[tuple[str, str]]:
    for b in _buckets(resources, S3_BUCKETS):
        statuses = [get(v.props, "versioningConfiguration.status")
                    for v in attached(resources, b, S3_VERSIONING)]
        if get(b.props, "versioning.enabled") is True:
            statuses.append("Enabled")
        if "Enabled" not in statuses:
            yield b.urn, (f"{label(b)} is not versioned: add an aws.s3.BucketVersioning with "
                          "bucket=<bucket>.id and versioning_configuration status 'Enabled'")
    for b in _buckets(resources, GCS_BUCKETS):
        if get(b.props, "versioning.enabled") is not True:
            yield b.urn, (f"{label(b)} is not versioned: set versioning="
                          "BucketVersioningArgs(enabled=True)")


def check_public_access(resources, cfg) -> Iterator[tuple[str, str]]:
    for b in _buckets(resources, S3_BUCKETS):
        blocks = attached(resources, b, S3_PUBLIC_ACCESS_BLOCK)
        if not blocks:
            yield b.urn, (f"{label(b)} has no public access block: add an "
                          "aws.s3.BucketPublicAccessBlock with bucket=<bucket>.id and "
                          + ", ".join(f"{f}=True" for f in BLOCK_FLAGS))
            continue
        open_flags = sorted({f for p in blocks for f in BLOCK_FLAGS
                             if get(p.props, f) is not True})
        if open_flags:
            yield b.urn, (f"{label(b)} may become public: its BucketPublicAccessBlock has "
                          f"{', '.join(open_flags)} not true; set all four flags to True")
    for b in _buckets(resources, GCS_BUCKETS):
        problems = []
        if get(b.props, "uniformBucketLevelAccess") is not True:
            problems.append("uniform_bucket_level_access=True (no object ACLs)")
        if get(b.props, "publicAccessPrevention") != "enforced":
            problems.append("public_access_prevention='enforced'")
        if problems:
            yield b.urn, f"{label(b)} may become public: set {' and '.join(problems)}"


def check_force_destroy(args, cfg) -> Iterator[str]:
    if get(args.props, "forceDestroy") is True:
        yield (f"{label(args)} has force_destroy: `pulumi destroy` would delete it with "
               "all its objects. Remove force_destroy in prod (storage.allowTeardown is for "
               "dev stacks only)")


POLICIES = [
    stack_policy(
        "s3-bucket-encryption",
        "S3 buckets have default encryption, with a KMS key in prod.",
        check_s3_encryption, uses_profile=True, severity=Severity.HIGH,
        fix="Attach an aws.s3.BucketServerSideEncryptionConfiguration (sse_algorithm "
            "'aws:kms', kms_master_key_id) to every bucket."),
    resource_policy(
        "gcs-bucket-encryption",
        "Prod GCS buckets are encrypted with a customer-managed Cloud KMS key.",
        GCS_BUCKETS, check_gcs_encryption, prod_only=True, severity=Severity.MEDIUM,
        fix="Set encryption.default_kms_key_name on the bucket."),
    stack_policy(
        "bucket-versioning",
        "Buckets keep object versions, so overwrites and deletes can be undone.",
        check_versioning, severity=Severity.MEDIUM,
        fix="S3: attach an aws.s3.BucketVersioning with status 'Enabled'; GCS: set "
            "versioning.enabled."),
    stack_policy(
        "bucket-public-access-blocked",
        "Buckets can never be made public.",
        check_public_access, severity=Severity.CRITICAL,
        fix="S3: attach an aws.s3.BucketPublicAccessBlock with all four flags true; GCS: "
            "uniform_bucket_level_access=True and public_access_prevention='enforced'."),
    resource_policy(
        "bucket-no-force-destroy",
        "Prod buckets are not force-destroyed with their data.",
        S3_BUCKETS + GCS_BUCKETS, check_force_destroy, prod_only=True,
        severity=Severity.HIGH, fix="Remove force_destroy (storage.allowTeardown) in prod."),
]
