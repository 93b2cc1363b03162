"""Workload identity: an app's Kubernetes ServiceAccount acting as a cloud identity."""

from components.identity.domain_identities import (
    DomainIdentities,
    DomainIdentitiesArgs,
    load_matrix,
)
from components.identity.workload_identity import (
    BucketGrant,
    WorkloadIdentity,
    WorkloadIdentityArgs,
)

__all__ = [
    "BucketGrant",
    "DomainIdentities",
    "DomainIdentitiesArgs",
    "WorkloadIdentity",
    "WorkloadIdentityArgs",
    "load_matrix",
]
