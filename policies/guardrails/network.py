"""AWS security groups: no ingress from the internet.

A security group's ingress comes from its inline `ingress` blocks and from the rules
attached to it (`aws.ec2.SecurityGroupRule` of type `ingress`,
`aws.vpc.SecurityGroupIngressRule`). All of a group's CIDRs are judged together, by what
they cover (`_cidrs`): two rules of `0.0.0.0/1` and `128.0.0.0/1` open it as wide as one
`0.0.0.0/0`. A rule belongs to the group of the stack it depends on
(`security_group_id=group.id`), else to the groups of the same `securityGroupId` (a group
made elsewhere). Egress is not judged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pulumi_policy import PolicyResource, Severity

from guardrails._base import get, items, known, label, stack_policy
from guardrails._cidrs import coverage, shown

GROUP = "aws:ec2/securityGroup:SecurityGroup"
EC2_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def ingress_cidrs(r: PolicyResource) -> list[str]:
    """The CIDRs a security group (inline blocks) or an ingress rule lets in."""
    if r.resource_type == GROUP:
        return [str(c) for block in items(get(r.props, "ingress"))
                for key in ("cidrBlocks", "ipv6CidrBlocks") for c in items(get(block, key))]
    if r.resource_type == EC2_RULE:
        if str(get(r.props, "type") or "").strip().lower() != "ingress":
            return []
        return [str(c) for key in ("cidrBlocks", "ipv6CidrBlocks")
                for c in items(get(r.props, key))]
    return [str(c) for key in ("cidrIpv4", "cidrIpv6")
            if (c := get(r.props, key)) is not None]


def check_security_groups(resources: Sequence[PolicyResource], cfg) -> Iterator[tuple[str, str]]:
    groups = {r.urn: r for r in resources if r.resource_type == GROUP}
    members: dict[str, list[PolicyResource]] = {urn: [g] for urn, g in groups.items()}
    for r in resources:
        if r.resource_type not in (EC2_RULE, VPC_INGRESS):
            continue
        owner = next((d.urn for d in r.dependencies if d.urn in groups), None)
        key = owner or f"id:{known(r.props, 'securityGroupId') or r.urn}"
        members.setdefault(key, []).append(r)
    for key, group in members.items():
        cidrs = [c for r in group for c in ingress_cidrs(r)]
        covered = coverage(cidrs)
        if not covered.public:
            continue
        target = groups.get(key)
        rules = ", ".join(r.name for r in group)
        what = (label(target) if target else
                f"security group {key.removeprefix('id:')} (rules {rules})")
        message = (f"{what} lets the internet in: its ingress CIDRs {shown(cidrs)} "
                   f"together cover {covered.describe()}. Use source security groups or "
                   "your VPN's and CI runners' CIDRs, and reach public services through the "
                   "ingress controller")
        opening = [r for r in group if coverage(ingress_cidrs(r)) != coverage([])]
        reported = [target] if target else opening or group
        for r in reported:
            yield r.urn, message


POLICIES = [
    stack_policy(
        "security-group-not-public",
        "Security groups take no ingress from the internet: their CIDRs together cover no "
        "more than a sliver of it.",
        check_security_groups, severity=Severity.CRITICAL,
        fix="Allow ingress from source security groups or named CIDRs (VPN, CI runners), "
            "never 0.0.0.0/0 or ::/0 or sets that add up to them."),
]
