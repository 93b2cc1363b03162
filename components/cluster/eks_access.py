"""EksAdminAccess: the EKS access entries that put a domain's people in its admin groups.

EKS authenticates an IAM principal only through an access entry (the clusters here run
authentication mode API: no aws-auth ConfigMap). Each of `isolation.adminPrincipals` gets
a STANDARD entry whose Kubernetes groups are the domain's admin groups, and no access
policy: what the group may do is the domain's RoleBindings' business (components/isolation.py),
so EKS grants nothing beside them. The stack that owns the RoleBindings (the domain stack)
creates the entries, on its platform's cluster or on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

ENTRY_TYPE = "STANDARD"


@dataclass(frozen=True)
class EksAdminAccessArgs:
    """Inputs of EksAdminAccess."""

    cluster_name: pulumi.Input[str]
    """The EKS cluster the domain runs on (its platform's, or its own)."""
    principals: Sequence[str]
    """IAM role or user ARNs (validated by foundation/config/isolation.py)."""
    groups: Sequence[str]
    """Kubernetes groups each entry carries: the subjects of the domain's RoleBindings."""

    def __post_init__(self) -> None:
        if not self.principals or not self.groups:
            raise ValueError("EksAdminAccess needs principals and groups")


def entry_name(principal: str) -> str:
    """A resource name per principal: its kind, account and name (IAM names are unique per
    account and kind, whatever the path)."""
    account, resource = principal.split(":", 5)[4:]
    kind, _, rest = resource.partition("/")
    return re.sub(r"[^a-z0-9-]+", "-", f"{kind}-{account}-{rest.rsplit('/', 1)[-1]}".lower())


class EksAdminAccess(pulumi.ComponentResource):
    """One access entry per admin principal, in the domain's admin groups."""

    entries: list[aws.eks.AccessEntry]

    def __init__(self, name: str, args: EksAdminAccessArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:cluster:EksAdminAccess", name, None, opts)
        # Children do not inherit the component's depends_on: each entry waits itself for
        # what the stack put first (the RoleBindings that give its groups their meaning).
        child = pulumi.ResourceOptions(parent=self, depends_on=opts.depends_on if opts else None)
        self.entries = [
            aws.eks.AccessEntry(
                f"{name}-{entry_name(principal)}",
                cluster_name=args.cluster_name,
                principal_arn=principal,
                type=ENTRY_TYPE,
                kubernetes_groups=list(args.groups),
                opts=child)
            for principal in args.principals
        ]
        self.register_outputs({})
