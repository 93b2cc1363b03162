"""Stack-wide: in prod, the resources that hold data survive a mistaken delete.

Data-holding resources are buckets, database instances and Aurora clusters, EFS file
systems, and the KMS keys that encrypt them: a key counts when a bucket, a bucket's
encryption configuration or a database depends on it (losing that key loses the data).
Keys that only guard a cluster's etcd follow the cluster's lifecycle and are not
required to be kept.

`protect` arrives in the analyzer protocol's resource options. `retainOnDelete` does
not (AnalyzerResourceOptions has no such field), so the offline plan passes it as the
reserved property `__retainOnDelete`; under `pulumi preview` it is absent and only
`protect` is checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pulumi_policy import PolicyResource, Severity

from guardrails._base import KEEP_FIX, label, protection_gaps, stack_policy, string_list
from guardrails.buckets import GCS_BUCKETS, S3_BUCKETS, S3_ENCRYPTION
from guardrails.databases import CLOUD_SQL, RDS

EFS = ("aws:efs/fileSystem:FileSystem",)
DATA = (*S3_BUCKETS, *GCS_BUCKETS, *RDS, *CLOUD_SQL, *EFS)
KEYS = ("aws:kms/key:Key", "gcp:kms/cryptoKey:CryptoKey")
KEY_USERS = (*DATA, *S3_ENCRYPTION)


def data_resources(resources: Sequence[PolicyResource],
                   extra_types: Sequence[str] = ()) -> list[PolicyResource]:
    """The stack's data-holding resources, the keys that encrypt them included."""
    data_types = (*DATA, *extra_types)
    used_keys = {d.urn for r in resources if r.resource_type in (*KEY_USERS, *extra_types)
                 for d in r.dependencies if d.resource_type in KEYS}
    return [r for r in resources if r.resource_type in data_types or r.urn in used_keys]


def check_protected(resources, cfg) -> Iterator[tuple[str, str]]:
    for r in data_resources(resources, cfg["extraDataTypes"]):
        if missing := protection_gaps(r):
            yield r.urn, (f"{label(r)} holds data but lacks {' and '.join(missing)}: "
                          f"{KEEP_FIX} so neither `pulumi destroy` nor a replacement "
                          "deletes it")


POLICIES = [
    stack_policy(
        "prod-data-protected",
        "In prod, buckets, databases (Aurora included), EFS file systems and their KMS keys "
        "are protected and retained on delete.",
        check_protected, prod_only=True, severity=Severity.CRITICAL,
        config={"extraDataTypes": string_list(
            [], "More resource types that hold data (e.g. aws:dynamodb/table:Table).")},
        fix="Create data-holding resources with protect=True and retain_on_delete=True."),
]
