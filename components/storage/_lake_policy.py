"""What the S3 and GCS lakes share: their common args, the rules, resource options, policy."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from foundation.config.base import RuleViolations
from foundation.config.storage import PROD_TEARDOWN

LOGS_ZONE = "logs"
ABORT_MULTIPART_DAYS = 7  # incomplete multipart uploads are garbage after a week


@dataclass(frozen=True, kw_only=True)
class LakeArgs:
    """Inputs both lakes take (`dataplatform/resolve/domain.py` derives them from a stack file)."""

    base: str
    """`<customer>-<domain>-<environment>`: the basis of the KMS key (ring/alias) names."""
    buckets: Mapping[str, str]
    """Lake zone -> bucket name; the `logs` zone gets the retention rule."""
    profile: str
    """'dev' or 'prod'. Prod: customer-managed key, protect and retain_on_delete."""
    allow_teardown: bool = False
    """Dev only: buckets are force-destroyed (deleted with their objects)."""
    logs_retention_days: int = 30
    """Days after which current objects of the `logs` bucket expire."""
    noncurrent_version_retention_days: int = 30
    """Days a noncurrent object version is kept, in every bucket."""

    def __post_init__(self):
        if self.profile not in ("dev", "prod"):
            raise ValueError(f"profile must be 'dev' or 'prod', not '{self.profile}'")
        if self.allow_teardown and self.profile == "prod":
            raise RuleViolations([("storage.allowTeardown", PROD_TEARDOWN)])
        if not self.buckets:
            raise ValueError("a lake needs at least one bucket")
        for key in ("logs_retention_days", "noncurrent_version_retention_days"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be at least 1 day")

    @property
    def prod(self) -> bool:
        return self.profile == "prod"

    @property
    def force_destroy(self) -> bool:
        """True only in dev with allowTeardown; never in prod."""
        return self.allow_teardown and not self.prod


def lake_opts(parent: pulumi.Resource, prod: bool, *, stateful: bool = False,
              depends_on: list[pulumi.Resource] | None = None) -> pulumi.ResourceOptions:
    """Options of a lake child.

    In prod, buckets and keys (`stateful`) are protected, and every child is retained on
    delete: removing the component from the program leaves the data where it is, with its
    guardrails (versioning, public access block, TLS policy, key grant) still in place.
    """
    # None outside prod: inherit from the parent rather than overriding it with False.
    return pulumi.ResourceOptions(parent=parent, depends_on=depends_on,
                                  protect=True if prod and stateful else None,
                                  retain_on_delete=True if prod else None)


def tls_only_policy(bucket_arn: str) -> str:
    """Bucket policy JSON denying every request to the bucket and its objects without TLS."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    })
