"""The data platform's guardrails: the policies of the `dataplatform-guardrails` pack.

One module per concern; each exports `POLICIES`. `policies/__main__.py` serves them as a
CrossGuard policy pack. Enforcement: mandatory in prod stacks, advisory in dev (see
`default_enforcement_level`); the policy config overrides it per policy or for `all`.
"""

from __future__ import annotations

from guardrails import (
    apps,
    availability,
    buckets,
    clusters,
    databases,
    iam,
    kubernetes,
    network,
    pods,
    rbac,
    stack,
    tags,
    volumes,
)
from guardrails._base import default_enforcement_level

PACK_NAME = "dataplatform-guardrails"
DESCRIPTION = ("Data platform guardrails: encrypted, private, protected data; hardened "
               "clusters and workloads; pinned charts; cost tags.")
POLICIES = [
    *buckets.POLICIES,
    *databases.POLICIES,
    *clusters.POLICIES,
    *kubernetes.POLICIES,
    *pods.POLICIES,
    *rbac.POLICIES,
    *iam.POLICIES,
    *network.POLICIES,
    *apps.POLICIES,
    *tags.POLICIES,
    *stack.POLICIES,
    *volumes.POLICIES,
    *availability.POLICIES,
]

__all__ = ["DESCRIPTION", "PACK_NAME", "POLICIES", "default_enforcement_level"]
