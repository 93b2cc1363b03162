"""`storage` section of a stack file: the domain's lake buckets on aws (S3) and gcp (GCS).

The rules that need the rest of the stack file (the profile, the cloud, the region) live
in `StorageConfig.rule_violations`, which the `StackConfig` validator calls, so
`allowTeardown: true` on a prod stack is refused when the file is loaded (and the lake's
Args refuse it again, for a caller that builds them by hand).
"""

from __future__ import annotations

from pydantic import Field

from foundation.config.base import Model

KMS_KEY_ARN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]+$"
KMS_KEY_NAME = r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$"
PROD_TEARDOWN = ("allowTeardown lets `pulumi destroy` delete non-empty lake buckets, which "
                 "profile 'prod' does not allow: remove it (prod buckets are protected and "
                 "retained on delete)")


class StorageConfig(Model):
    """Every field has a default, so `storage` can be omitted."""

    allow_teardown: bool = Field(
        False,
        description="Dev only: let `pulumi destroy` delete buckets that still hold objects "
        "(force_destroy). Refused on profile 'prod', whose buckets are protected and "
        "retained on delete.",
    )
    logs_retention_days: int = Field(
        30, ge=1, le=3650,
        description="Days after which objects in the `logs` bucket expire.",
    )
    noncurrent_version_retention_days: int = Field(
        30, ge=1, le=3650,
        description="Days a noncurrent (overwritten or deleted) object version is kept in "
        "any lake bucket before it is deleted for good.",
    )
    kms_key_arn: str | None = Field(
        None, pattern=KMS_KEY_ARN,
        description="aws: bring your own KMS key (key or alias ARN) for the buckets' SSE-KMS "
        "instead of the key the lake creates in prod (used in dev too when set). Its key "
        "policy must let the stack's principals use it.",
    )
    kms_key_name: str | None = Field(
        None, pattern=KMS_KEY_NAME,
        description="gcp: bring your own Cloud KMS key (projects/…/locations/<region>/"
        "keyRings/…/cryptoKeys/…) as the buckets' default key, instead of the key the lake "
        "creates in prod (used in dev too when set). It must be in the stack's region, and "
        "its owner must grant the project's Cloud Storage service agent "
        "roles/cloudkms.cryptoKeyEncrypterDecrypter.",
    )

    def rule_violations(self, profile: str, cloud: str,
                        region: str | None = None) -> list[tuple[str, str]]:
        """Cross-section problems, keyed from the stack file root (`storage.…`)."""
        p: list[tuple[str, str]] = []
        if self.allow_teardown and profile == "prod":
            p.append(("storage.allowTeardown", PROD_TEARDOWN))
        if self.kms_key_arn and cloud != "aws":
            p.append(("storage.kmsKeyArn", f"kmsKeyArn is for cloud 'aws', not '{cloud}'"))
        if self.kms_key_name and cloud != "gcp":
            p.append(("storage.kmsKeyName", f"kmsKeyName is for cloud 'gcp', not '{cloud}'"))
        if self.kms_key_name and cloud == "gcp" and region:
            location = self.kms_key_name.split("/")[3]
            if location != region:
                p.append(("storage.kmsKeyName", f"the key is in location '{location}' but "
                          f"the buckets are in '{region}': Cloud Storage needs a key in the "
                          "bucket's location"))
        return p
