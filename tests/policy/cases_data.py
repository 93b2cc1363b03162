"""Compliant and violating resources for the data policies: buckets, databases, prod
protection. Each case goes through the real pack (see test_policies.py)."""

from __future__ import annotations

from policy_helpers import AWS, GCP, bad, ok, res

BUCKET, KEY = "aws:s3/bucket:Bucket", "aws:kms/key:Key"
SSE = ("aws:s3/bucketServerSideEncryptionConfiguration:"
       "BucketServerSideEncryptionConfiguration")
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
GCS = "gcp:storage/bucket:Bucket"
RDS = "aws:rds/instance:Instance"
SQL = "gcp:sql/databaseInstance:DatabaseInstance"
EKS = "aws:eks/cluster:Cluster"
FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")

raw = res(BUCKET, "lake-raw", {"bucket": "acme-raw", "forceDestroy": False}, provider=AWS)
other = res(BUCKET, "lake-other", {"bucket": "acme-other"}, provider=AWS)


def sse(algo: str, bucket=raw, *, linked: bool = True, key=None):
    rule = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": algo}}
    if key is not None:
        rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] = "arn:aws:kms:key/1"
    deps = (bucket,) + ((key,) if key is not None else ()) if linked else ()
    return res(SSE, f"{bucket.name}-sse", {"bucket": bucket.inputs["bucket"], "rules": [rule]},
               depends_on=deps)


def versioning(status: str, bucket=raw):
    return res(VERSIONING, f"{bucket.name}-versioning",
               {"bucket": "acme-raw", "versioningConfiguration": {"status": status}},
               depends_on=(bucket,))


def pab(**flags):
    inputs = {"bucket": "acme-raw", **{f: flags.get(f, True) for f in FLAGS}}
    return res(PAB, "lake-raw-pab", inputs, depends_on=(raw,))


def gcs(name="lake-gcs", **inputs):
    base = {"name": name, "uniformBucketLevelAccess": True,
            "publicAccessPrevention": "enforced", "versioning": {"enabled": True}}
    return res(GCS, name, {**base, **inputs}, provider=GCP)


def rds(**inputs):
    base = {"deletionProtection": True, "backupRetentionPeriod": 7,
            "publiclyAccessible": False, "storageEncrypted": True, "engine": "postgres"}
    return res(RDS, "db", {**base, **inputs}, provider=AWS, protect=True, retain=True)


def cloudsql(**settings):
    base = {"deletionProtectionEnabled": True, "ipConfiguration": {"ipv4Enabled": False},
            "backupConfiguration": {"enabled": True,
                                    "backupRetentionSettings": {"retainedBackups": 8}}}
    return res(SQL, "sql", {"deletionProtection": True, "settings": {**base, **settings}},
               provider=GCP)


lake_key = res(KEY, "lake-key", {"enableKeyRotation": True}, provider=AWS, protect=True,
               retain=True)
loose_key = res(KEY, "lake-key", {"enableKeyRotation": True}, provider=AWS)
kept = {"protect": True, "retain": True}

CASES = [
    ok("s3-bucket-encryption", "kms", raw, sse("aws:kms", key=lake_key), lake_key),
    ok("s3-bucket-encryption", "matched-by-name", raw, sse("aws:kms", linked=False)),
    ok("s3-bucket-encryption", "aes256-in-dev", raw, sse("AES256"), profile="dev"),
    ok("s3-bucket-encryption", "inline-legacy", res(BUCKET, "inline", {
        "serverSideEncryptionConfiguration": {"rule": {"applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms"}}}})),
    bad("s3-bucket-encryption", "none", raw),
    bad("s3-bucket-encryption", "other-bucket-only", raw, other, sse("aws:kms", bucket=other)),
    bad("s3-bucket-encryption", "aes256-in-prod", raw, sse("AES256")),
    bad("s3-bucket-encryption", "invalid-algorithm", raw, sse("rot13")),
    bad("s3-bucket-encryption", "none-in-dev", raw, profile="dev"),

    ok("gcs-bucket-encryption", "cmek", gcs(encryption={"defaultKmsKeyName": "projects/p/k"})),
    ok("gcs-bucket-encryption", "google-keys-in-dev", gcs(), profile="dev"),
    bad("gcs-bucket-encryption", "google-keys-in-prod", gcs()),

    ok("bucket-versioning", "s3-enabled", raw, versioning("Enabled")),
    ok("bucket-versioning", "gcs-enabled", gcs()),
    bad("bucket-versioning", "s3-suspended", raw, versioning("Suspended")),
    bad("bucket-versioning", "s3-none", raw),
    bad("bucket-versioning", "gcs-none", gcs(versioning={"enabled": False})),

    ok("bucket-public-access-blocked", "s3-all-four", raw, pab()),
    ok("bucket-public-access-blocked", "gcs-enforced", gcs()),
    bad("bucket-public-access-blocked", "s3-policy-allowed", raw, pab(blockPublicPolicy=False)),
    bad("bucket-public-access-blocked", "s3-no-block", raw),
    bad("bucket-public-access-blocked", "gcs-inherited", gcs(publicAccessPrevention="inherited")),
    bad("bucket-public-access-blocked", "gcs-acls", gcs(uniformBucketLevelAccess=False)),
    bad("bucket-public-access-blocked", "s3-in-dev", raw, profile="dev"),

    ok("bucket-no-force-destroy", "prod", raw),
    ok("bucket-no-force-destroy", "dev-teardown",
       res(BUCKET, "dev", {"forceDestroy": True}), profile="dev"),
    bad("bucket-no-force-destroy", "s3-prod", res(BUCKET, "b", {"forceDestroy": True})),
    bad("bucket-no-force-destroy", "gcs-prod", gcs(forceDestroy=True)),

    ok("db-deletion-protection", "rds", rds()),
    ok("db-deletion-protection", "cloudsql", cloudsql()),
    bad("db-deletion-protection", "rds-off", rds(deletionProtection=False)),
    bad("db-deletion-protection", "rds-unset", res(RDS, "db", {"engine": "postgres"})),
    bad("db-deletion-protection", "cloudsql-api-unguarded",
        cloudsql(deletionProtectionEnabled=False)),
    bad("db-deletion-protection", "rds-in-dev", rds(deletionProtection=False), profile="dev"),

    ok("db-backup-retention", "rds-7", rds()),
    ok("db-backup-retention", "rds-1-in-dev", rds(backupRetentionPeriod=1), profile="dev"),
    ok("db-backup-retention", "cloudsql-8", cloudsql()),
    bad("db-backup-retention", "rds-3", rds(backupRetentionPeriod=3)),
    bad("db-backup-retention", "rds-7-below-configured-14", rds(),
        overrides={"db-backup-retention": {"minimumDays": 14}}),
    bad("db-backup-retention", "cloudsql-off", cloudsql(backupConfiguration={"enabled": False})),
    bad("db-backup-retention", "cloudsql-3", cloudsql(backupConfiguration={
        "enabled": True, "backupRetentionSettings": {"retainedBackups": 3}})),

    ok("db-not-public", "rds-private", rds()),
    ok("db-not-public", "cloudsql-private", cloudsql()),
    bad("db-not-public", "rds-public", rds(publiclyAccessible=True)),
    bad("db-not-public", "cloudsql-default-ipv4", cloudsql(ipConfiguration={})),

    ok("db-storage-encrypted", "rds", rds()),
    bad("db-storage-encrypted", "rds-plain", rds(storageEncrypted=False)),

    ok("prod-data-protected", "bucket-kept", res(BUCKET, "b", {"bucket": "b"}, **kept)),
    ok("prod-data-protected", "dev-unprotected", res(BUCKET, "b", {}), profile="dev"),
    ok("prod-data-protected", "cluster-key-follows-cluster", loose_key,
       res(EKS, "eks", {"name": "c"}, depends_on=(loose_key,))),
    ok("prod-data-protected", "lake-key-kept", res(BUCKET, "lake-raw", {"bucket": "acme-raw"},
                                                   **kept),
       lake_key, sse("aws:kms", key=lake_key)),
    bad("prod-data-protected", "bucket-not-retained", res(BUCKET, "b", {}, protect=True)),
    bad("prod-data-protected", "rds-unprotected", res(RDS, "db", {}, retain=True)),
    bad("prod-data-protected", "gcs-unprotected", gcs()),
    bad("prod-data-protected", "lake-key-loose", res(BUCKET, "lake-raw", {"bucket": "acme-raw"},
                                                     **kept),
        loose_key, sse("aws:kms", key=loose_key)),
]
