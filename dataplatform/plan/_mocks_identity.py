"""Mock outputs of workload-identity resources: IAM roles and policies, GCP service accounts.

Compatible with `_mocks_aws.py`/`_mocks_gcp.py` (which may list the same types and load
around this module): every function returns at least `id`, `arn`/`email` and `name`.
Deterministic: everything derives from the inputs and the resource name.
"""

from __future__ import annotations

import hashlib
from typing import Any

from dataplatform.plan.mocks import ACCOUNT_ID, GCP_PROJECT


def _unique_id(prefix: str, seed: str) -> str:
    """An IAM unique id (AROA…/ANPA…): prefix plus 17 deterministic characters."""
    return prefix + hashlib.sha256(seed.encode()).hexdigest()[:17].upper()


def _iam_path(inputs: dict[str, Any]) -> str:
    return inputs.get("path") or "/"


def _role(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    n = inputs.get("name") or name
    arn = f"arn:aws:iam::{ACCOUNT_ID}:role{_iam_path(inputs)}{n}"
    return {"id": n, "name": n, "arn": arn, "uniqueId": _unique_id("AROA", arn),
            "createDate": "2026-01-01T00:00:00Z"}


def _policy(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    n = inputs.get("name") or name
    arn = f"arn:aws:iam::{ACCOUNT_ID}:policy{_iam_path(inputs)}{n}"
    return {"id": arn, "name": n, "arn": arn, "policyId": _unique_id("ANPA", arn),
            "attachmentCount": 1}


def _attachment(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    digest = hashlib.sha256(f"{inputs.get('role')}/{inputs.get('policyArn')}".encode())
    return {"id": f"{inputs.get('role') or name}-{digest.hexdigest()[:20]}"}


def _account(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    p = inputs.get("project") or GCP_PROJECT
    email = f"{inputs.get('accountId') or name}@{p}.iam.gserviceaccount.com"
    digest = int(hashlib.sha256(email.encode()).hexdigest(), 16)
    return {"id": f"projects/{p}/serviceAccounts/{email}", "email": email,
            "name": f"projects/{p}/serviceAccounts/{email}",
            "member": f"serviceAccount:{email}",
            "uniqueId": str(10 ** 20 + digest % (9 * 10 ** 20))}


def _etag(seed: str) -> str:
    return "BwY" + hashlib.sha256(seed.encode()).hexdigest()[:8]


def _bucket_member(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    key = f"b/{inputs.get('bucket')}/{inputs.get('role')}/{inputs.get('member')}"
    return {"id": key, "etag": _etag(key)}


def _sa_member(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    key = f"{inputs.get('serviceAccountId')}/{inputs.get('role')}/{inputs.get('member')}"
    return {"id": key, "etag": _etag(key)}


OUTPUTS = {
    "aws:iam/role:Role": _role,
    "aws:iam/policy:Policy": _policy,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _attachment,
    "gcp:serviceaccount/account:Account": _account,
    "gcp:storage/bucketIAMMember:BucketIAMMember": _bucket_member,
    "gcp:serviceaccount/iAMMember:IAMMember": _sa_member,
}
