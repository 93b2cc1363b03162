"""Mock outputs of the lake buckets (S3, GCS) and their KMS keys, as the clouds add them.

Everything is derived from the inputs and names with sha256, so two runs produce the
same plan. The KMS entries may also be defined in `_mocks_aws`/`_mocks_gcp`; this module
sorts after them and wins, so it keeps the same output shapes (arn/keyId/id; ids of the
form `projects/<p>/locations/<l>/keyRings/<k>/cryptoKeys/<c>`).
"""

from __future__ import annotations

import base64
import hashlib
import importlib
from typing import Any

from dataplatform.plan.mocks import ACCOUNT_ID, GCP_PROJECT

AWS_REGION = "eu-west-1"  # when the inputs do not say (the region is on the provider)
GCP_REGION = "europe-west1"
GCS_API = "https://www.googleapis.com/storage/v1"
# Route 53 hosted zone of the S3 website/REST endpoints, per region.
S3_HOSTED_ZONES = {"eu-west-1": "Z1BKCTXD74EZPE", "eu-central-1": "Z21DNDUVLTQW6Q",
                   "us-east-1": "Z3AQBSTGFYJSTF", "us-west-2": "Z3BJ6K6RIION7M"}


def _hex(seed: str, n: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def _digits(seed: str, n: int) -> str:
    """n deterministic decimal digits, not starting with 0 (as `_mocks_gcp` derives them)."""
    value = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return str(10 ** (n - 1) + value % (9 * 10 ** (n - 1)))


def _uuid(seed: str) -> str:
    h = _hex(seed, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


# AWS ----------------------------------------------------------------------------------


def _region(inputs: dict[str, Any]) -> str:
    return inputs.get("region") or AWS_REGION


def _s3_bucket(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    bucket, region = inputs.get("bucket") or name, _region(inputs)
    return {"id": bucket, "bucket": bucket, "arn": f"arn:aws:s3:::{bucket}",
            "bucketDomainName": f"{bucket}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
            "hostedZoneId": S3_HOSTED_ZONES.get(region, "Z1BKCTXD74EZPE"),
            "region": region, "forceDestroy": bool(inputs.get("forceDestroy"))}


def _bucket_setting(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    """Per-bucket settings resources: AWS ids them by the bucket name."""
    return {"id": inputs.get("bucket") or name}


def _kms_key(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    region = _region(inputs)
    key_id = _uuid(f"kms/{region}/{name}")
    return {"id": key_id, "keyId": key_id,
            "arn": f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}",
            "keyUsage": inputs.get("keyUsage") or "ENCRYPT_DECRYPT",
            "customerMasterKeySpec": inputs.get("customerMasterKeySpec") or "SYMMETRIC_DEFAULT",
            "isEnabled": inputs.get("isEnabled", True),
            "rotationPeriodInDays": (inputs.get("rotationPeriodInDays") or 365)
            if inputs.get("enableKeyRotation") else None,
            "multiRegion": bool(inputs.get("multiRegion"))}


def _kms_alias(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    region, alias = _region(inputs), inputs.get("name") or f"alias/{name}"
    target = inputs.get("targetKeyId") or _uuid(f"kms/{region}/{name}")
    return {"id": alias, "name": alias,
            "arn": f"arn:aws:kms:{region}:{ACCOUNT_ID}:{alias}",
            "targetKeyArn": target if target.startswith("arn:")
            else f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{target}"}


# GCP ----------------------------------------------------------------------------------


def _project(inputs: dict[str, Any]) -> str:
    return inputs.get("project") or GCP_PROJECT


def _gcs_bucket(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    bucket, p = inputs.get("name") or name, _project(inputs)
    return {"id": bucket, "name": bucket, "url": f"gs://{bucket}",
            "selfLink": f"{GCS_API}/b/{bucket}", "project": p,
            "projectNumber": int(_digits(p, 12)),
            "location": (inputs.get("location") or GCP_REGION).upper(),
            "storageClass": inputs.get("storageClass") or "STANDARD",
            "timeCreated": "2025-01-01T00:00:00.000Z"}


def _key_ring(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    n, p = inputs.get("name") or name, _project(inputs)
    loc = inputs.get("location") or GCP_REGION
    return {"id": f"projects/{p}/locations/{loc}/keyRings/{n}", "name": n}


def _crypto_key(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    n, ring = inputs.get("name") or name, inputs.get("keyRing") or ""
    if not ring.startswith("projects/"):
        ring = f"projects/{GCP_PROJECT}/locations/{GCP_REGION}/keyRings/{ring or 'ring'}"
    return {"id": f"{ring}/cryptoKeys/{n}", "name": n, "primary": [{
        "name": f"{ring}/cryptoKeys/{n}/cryptoKeyVersions/1", "state": "ENABLED"}]}


def _key_member(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    key, role, member = inputs.get("cryptoKeyId"), inputs.get("role"), inputs.get("member")
    seed = f"{key}/{role}/{member}"
    etag = "BwY" + base64.b64encode(hashlib.sha256(seed.encode()).digest()[:6]).decode()
    return {"id": seed, "etag": etag}


def _gcs_service_account(args: dict[str, Any]) -> dict[str, Any]:
    p = args.get("project") or GCP_PROJECT
    email = f"service-{_digits(p, 12)}@gs-project-accounts.iam.gserviceaccount.com"
    return {"id": email, "emailAddress": email, "member": f"serviceAccount:{email}",
            "project": p}


# Areas that may define the KMS types too (this module sorts after them, so it wins).
_OTHER_AREAS = ("dataplatform.plan._mocks_aws", "dataplatform.plan._mocks_gcp")


def _shared(token: str, fn):
    """Our outputs for `token`, overlaid with those of another area that also defines it,
    so that registering the type here never changes that area's plans."""

    def merged(inputs: dict[str, Any], name: str) -> dict[str, Any]:
        out = fn(inputs, name)
        for module in _OTHER_AREAS:
            try:
                other = getattr(importlib.import_module(module), "OUTPUTS", {}).get(token)
            except ModuleNotFoundError:
                continue
            if other is not None and other is not merged:
                out.update(other(inputs, name))
        return out

    return merged


OUTPUTS = {
    "aws:s3/bucket:Bucket": _s3_bucket,
    "aws:s3/bucketVersioning:BucketVersioning": _bucket_setting,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        _bucket_setting,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_setting,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _bucket_setting,
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_setting,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_setting,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "gcp:storage/bucket:Bucket": _gcs_bucket,
    "gcp:kms/keyRing:KeyRing": _key_ring,
    "gcp:kms/cryptoKey:CryptoKey": _crypto_key,
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": _key_member,
}
for _token in ("aws:kms/key:Key", "aws:kms/alias:Alias", "gcp:kms/keyRing:KeyRing",
               "gcp:kms/cryptoKey:CryptoKey", "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"):
    OUTPUTS[_token] = _shared(_token, OUTPUTS[_token])

CALLS = {
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": _gcs_service_account,
}
