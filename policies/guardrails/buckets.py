"""Object storage: encrypted, versioned, never public, not force-destroyed in prod.

`bucket-no-public-grants` judges what grants access itself, wherever it comes from (an
extra app's bucket policy, an ACL, an IAM member on a bucket made elsewhere): an `Allow`
to every principal unless a Condition pins the caller to an account, organisation, VPC,
endpoint or a non-public IP range; a canned ACL or grant to all (authenticated) users; a
public access block with a flag off; GCS `allUsers` / `allAuthenticatedUsers`.

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

from guardrails._base import (
    as_map,
    flag,
    get,
    items,
    known,
    label,
    resource_policy,
    stack_policy,
)
from guardrails.iam import allows, anyone, restricted, statements

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


S3_POLICIES = {"aws:s3/bucketPolicy:BucketPolicy": "policy", **{b: "policy" for b in S3_BUCKETS}}
S3_ACLS = ("aws:s3/bucketAclV2:BucketAclV2", "aws:s3/bucketAcl:BucketAcl", *S3_BUCKETS)
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_GRANTEES = ("/global/AllUsers", "/global/AuthenticatedUsers")
ACCOUNT_PUBLIC_ACCESS_BLOCK = ("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",)
GCS_MEMBERS = {  # type -> (field, is it a list)
    "gcp:storage/bucketIAMMember:BucketIAMMember": ("member", False),
    "gcp:storage/bucketIAMBinding:BucketIAMBinding": ("members", True),
    "gcp:storage/managedFolderIamMember:ManagedFolderIamMember": ("member", False),
    "gcp:storage/managedFolderIamBinding:ManagedFolderIamBinding": ("members", True),
}
GCS_POLICIES = ("gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
                "gcp:storage/managedFolderIamPolicy:ManagedFolderIamPolicy")
GCS_ENTITIES = ("gcp:storage/bucketAccessControl:BucketAccessControl",
                "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl",
                "gcp:storage/objectAccessControl:ObjectAccessControl")
GCS_ACLS = ("gcp:storage/bucketACL:BucketACL", "gcp:storage/defaultObjectACL:DefaultObjectACL",
            "gcp:storage/objectACL:ObjectACL")
GCS_PUBLIC = ("allusers", "allauthenticatedusers")
GCS_PUBLIC_ACLS = ("publicread", "publicreadwrite", "authenticatedread")


def public_statements(document) -> list[str]:
    return [str(s.get("Sid") or i) for i, s in enumerate(statements(document))
            if allows(s) and anyone(s.get("Principal")) and not restricted(s)]


def gcs_public(member) -> bool:
    return str(member).strip().lower() in GCS_PUBLIC


def check_public_grants(args, cfg) -> Iterator[str]:
    t, props, what = args.resource_type, args.props, label(args)
    if t in S3_POLICIES:
        sids = public_statements(get(props, S3_POLICIES[t]))
        if sids:
            yield (f"{what}: its bucket policy allows everyone (Principal '*', statements "
                   f"{', '.join(sids)}): name the principals (roles, accounts), or add a "
                   "Condition on aws:SourceVpce / aws:PrincipalOrgID")
    if t in S3_ACLS:
        acl = str(get(props, "acl") or "").strip().lower()
        grants = [g for g in items(get(props, "accessControlPolicy.grants"))
                  if str(get(g, "grantee.uri") or "").endswith(PUBLIC_GRANTEES)]
        if acl in PUBLIC_ACLS or grants:
            shown = f"the canned ACL '{acl}'" if acl in PUBLIC_ACLS else "grants to all users"
            yield (f"{what} makes the bucket public with {shown}: remove it (keep "
                   "BucketOwnershipControls BucketOwnerEnforced, which disables ACLs)")
    if t in (*S3_PUBLIC_ACCESS_BLOCK, *ACCOUNT_PUBLIC_ACCESS_BLOCK):
        off = [f for f in BLOCK_FLAGS if not flag(get(props, f))]
        if off:
            yield (f"{what} leaves {', '.join(off)} off: set all four flags to True")
    if t in GCS_MEMBERS:
        field, many = GCS_MEMBERS[t]
        members = items(get(props, field)) if many else [get(props, field)]
        public = [str(m) for m in members if gcs_public(m)]
        if public:
            yield (f"{what} grants {get(props, 'role')} to {', '.join(public)}: remove that "
                   "member and grant the role to service accounts or groups instead (and "
                   "keep public_access_prevention 'enforced' on the bucket)")
    if t in GCS_POLICIES:
        bindings = items(as_map(get(props, "policyData")).get("bindings"))
        public = sorted({f"{get(b, 'role')} to {m}" for b in bindings
                         for m in items(get(b, "members")) if gcs_public(m)})
        if public:
            yield (f"{what} grants {', '.join(public)}: remove those members from "
                   "policy_data and grant service accounts or groups instead")
    if t in GCS_ENTITIES and gcs_public(get(props, "entity")):
        yield (f"{what} gives {get(props, 'entity')} access: remove it and grant service "
               "accounts or groups through IAM instead")
    if t in GCS_ACLS:
        predefined = str(get(props, "predefinedAcl") or "").strip()
        acl = predefined.lower()
        entities = [str(e) for e in items(get(props, "roleEntities"))
                    if str(e).rsplit(":", 1)[-1].strip().lower() in GCS_PUBLIC]
        if acl in GCS_PUBLIC_ACLS or entities:
            shown = (f"predefined_acl '{predefined}'" if acl in GCS_PUBLIC_ACLS
                     else ", ".join(entities))
            yield (f"{what} makes objects public ({shown}): remove it and use uniform "
                   "bucket-level access with IAM")


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
    resource_policy(
        "bucket-no-public-grants",
        "No bucket policy, ACL, IAM member or public access block opens a bucket to "
        "everyone.",
        (*S3_POLICIES, *S3_ACLS, *S3_PUBLIC_ACCESS_BLOCK, *ACCOUNT_PUBLIC_ACCESS_BLOCK,
         *GCS_MEMBERS, *GCS_POLICIES, *GCS_ENTITIES, *GCS_ACLS),
        check_public_grants, severity=Severity.CRITICAL,
        fix="Grant named principals only: no Principal '*' without a pinning Condition, no "
            "public ACLs, all four public-access-block flags true, no allUsers or "
            "allAuthenticatedUsers."),
]
