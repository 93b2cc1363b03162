"""AWS IAM: no wildcards in what a policy allows, no administrator policies, no role that
anyone may assume.

The program's policies name their actions and buckets; this rule is for what extra apps
and patches bring in. A policy document arrives as a JSON string (the providers' input)
or an object; `Statement` may be one statement or a list, `Action`/`Resource` a string or
a list. Only `Allow` statements are judged (a wide `Deny` only takes away). Wildcards:
an action `*`, `*:*` or `<service>:*` (IAM compares actions case-insensitively: `S3:*`
too), a resource `*` or an ARN whose resource part is `*` (`arn:aws:s3:::*`), and
`NotAction`/`NotResource`, which allow everything but a list. Managed policies attached
by ARN are judged by name: `AdministratorAccess` is `*` on `*`. A role's trust policy may
not let every principal (`*`, `{"AWS": "*"}`) assume it, unless a Condition pins the caller
to an account, organisation, VPC or endpoint (`RESTRICTING_KEYS`, or an `aws:SourceIp`
that does not cover the internet); bucket policies are judged the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import Severity

from guardrails._base import as_map, get, items, known, label, resource_policy, string_list
from guardrails._cidrs import covers_public

DOCUMENTS = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
ROLE = "aws:iam/role:Role"
ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
ADMIN_POLICIES = ("AdministratorAccess",)
"""AWS managed policies that allow `*` on `*` (arn:aws:iam::aws:policy/<name>)."""
RESTRICTING_KEYS = {k.lower() for k in (
    "aws:SourceVpc", "aws:SourceVpce", "aws:SourceAccount", "aws:SourceArn", "aws:SourceOwner",
    "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn",
    "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:userid")}
"""Condition keys that pin who may call (as AWS's own public-bucket analysis counts them)."""
WHOLE_ARN = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:[^:]*:\*$")
STAR_ONLY_ACTIONS = {a.lower() for a in (
    "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements",
    "ec2:DescribeSnapshots", "ec2:DescribeVolumes",
    "route53:ListHostedZones", "route53:ListHostedZonesByName",
    "cloudwatch:GetMetricData", "cloudwatch:ListMetrics")}
"""Read-only actions with no resource-level permissions: IAM grants them on `*` only, so a
statement of these alone (named exactly, no wildcard) may say `Resource: "*"`
(cluster-autoscaler's describes, Velero's in snapshot mode, the front door's zone lookups,
the audit metrics exporter's CloudWatch reads)."""


def strings(value: Any) -> list[str]:
    """A string-or-list field as a list of strings."""
    return [value] if isinstance(value, str) else [str(v) for v in items(value)]


def statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of a policy document (a JSON string or an object)."""
    stmt = as_map(document).get("Statement")
    stmts = [stmt] if isinstance(stmt, Mapping) else items(stmt)
    return [s for s in stmts if isinstance(s, Mapping)]


def allows(stmt: Mapping[str, Any]) -> bool:
    return str(stmt.get("Effect", "Allow")).strip().lower() != "deny"


def wild_action(action: str) -> bool:
    parts = action.strip().split(":", 1)
    return parts == ["*"] or (len(parts) == 2 and "*" in (parts[0].strip(), parts[1].strip()))


def wild_resource(resource: str) -> bool:
    return resource.strip() == "*" or bool(WHOLE_ARN.match(resource.strip()))


def wildcards(document: Any) -> Iterator[str]:
    """What each `Allow` statement of `document` allows too widely."""
    for i, stmt in enumerate(statements(document)):
        if not allows(stmt):
            continue
        sid = f"statement {stmt.get('Sid') or i}"
        for key, what in (("NotAction", "every action but"), ("NotResource",
                                                             "every resource but")):
            if key in stmt:
                yield f"{sid} allows {what} {strings(stmt[key])} ({key})"
        actions = [a for a in strings(stmt.get("Action")) if wild_action(a)]
        if actions:
            yield f"{sid} allows the actions {actions}"
        resources = [r for r in strings(stmt.get("Resource")) if wild_resource(r)]
        named = [a.strip().lower() for a in strings(stmt.get("Action"))]
        if named and all(a in STAR_ONLY_ACTIONS for a in named):
            resources = [r for r in resources if r.strip() != "*"]
        if resources:
            yield f"{sid} allows them on the resources {resources}"


def anyone(principal: Any) -> bool:
    """Whether a policy's Principal is everyone: "*" or {"AWS": "*"} (any key, any list)."""
    if isinstance(principal, str):
        return principal.strip() == "*"
    if isinstance(principal, Mapping):
        return any("*" in [s.strip() for s in strings(v)] for v in principal.values())
    return False


def restricted(stmt) -> bool:
    """Whether a statement's Condition pins the caller (account, org, VPC, private IPs)."""
    for operator, clauses in as_map(stmt.get("Condition")).items():
        op = str(operator).lower()
        if "not" in op or op.startswith("null") or not isinstance(clauses, dict):
            continue
        for key, values in clauses.items():
            k = str(key).lower()
            if k in RESTRICTING_KEYS:
                return True
            if k == "aws:sourceip" and not covers_public(strings(values)):
                return True
    return False


def admin_arn(arn: Any) -> bool:
    return any(str(arn).strip().endswith(f":policy/{name}") for name in ADMIN_POLICIES)


def exempt(args, patterns) -> bool:
    names = {args.name, str(known(args.props, "name") or "")} - {""}
    return any(fnmatchcase(n, str(p)) for n in names for p in patterns)


FIX = ("name the actions and the resources (ARNs) the workload needs, without NotAction or "
       "NotResource, or list the policy in this rule's exempt after review")


def check_iam(args, cfg) -> Iterator[str]:
    if exempt(args, cfg["exempt"]):
        return
    t = args.resource_type
    if t in DOCUMENTS:
        found = list(wildcards(get(args.props, DOCUMENTS[t])))
        if found:
            yield f"{label(args)} is too wide: {'; '.join(found)}: {FIX}"
        return
    if t in ATTACHMENTS:
        arn = get(args.props, "policyArn")
        if admin_arn(arn):
            yield (f"{label(args)} attaches {arn} (every action on every resource): use a "
                   "policy that names the actions and resources the workload needs instead")
        return
    for p in items(get(args.props, "inlinePolicies")):
        found = list(wildcards(get(p, "policy")))
        if found:
            yield (f"{label(args)}: inline policy '{get(p, 'name', '?')}' is too wide: "
                   f"{'; '.join(found)}: {FIX}")
    admin = [a for a in items(get(args.props, "managedPolicyArns")) if admin_arn(a)]
    if admin:
        yield (f"{label(args)} has managed_policy_arns {admin} (every action on every "
               "resource): remove it and use a policy that names the actions and resources "
               "it needs")
    for i, stmt in enumerate(statements(get(args.props, "assumeRolePolicy"))):
        if allows(stmt) and anyone(stmt.get("Principal")) and not restricted(stmt):
            yield (f"{label(args)}: its trust policy (statement {stmt.get('Sid') or i}) lets "
                   "any AWS principal assume it: set the Principal to the account, role or "
                   "OIDC provider that needs it (with a Condition on the audience/subject)")


POLICIES = [
    resource_policy(
        "iam-no-wildcards",
        "IAM policies allow named actions on named resources: no '*', 's3:*', NotAction or "
        "NotResource, no AdministratorAccess, no role anyone may assume.",
        (*DOCUMENTS, ROLE, *ATTACHMENTS), check_iam, severity=Severity.HIGH,
        config={"exempt": string_list(
            [], "IAM resources not checked (reviewed): shell-style patterns of the Pulumi "
                "name or the policy's name.")},
        fix="Name the actions and resource ARNs; drop NotAction/NotResource and "
            "AdministratorAccess; give roles a specific trusted principal."),
]
