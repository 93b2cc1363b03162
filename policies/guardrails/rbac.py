"""Kubernetes RBAC: nobody is made cluster-admin.

A ClusterRoleBinding or RoleBinding whose roleRef is the ClusterRole `cluster-admin`, or
whose subjects include the group `system:masters` (which bypasses RBAC), makes its
subjects cluster administrators (in a RoleBinding: of the namespace, Secrets included). A
ClusterRole or Role with a rule granting every verb (`*`) on every resource (`*`) is
cluster-admin under another name. Every RBAC API version and its `*Patch` type count.
Controllers that need it by design are listed in `exempt`; its default is `CONTROLLERS`
(Argo CD's application controller, which the platform installs), each with its reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from pulumi_policy import Severity

from guardrails._base import EXEMPT_PATTERNS, get, items, k8s_label, resource_policy, string_list
from guardrails.pods import exempt

RBAC_VERSIONS = ("rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1beta1",
                 "rbac.authorization.k8s.io/v1alpha1")
BINDINGS = tuple(f"kubernetes:{v}:{k}{p}" for v in RBAC_VERSIONS
                 for k in ("ClusterRoleBinding", "RoleBinding") for p in ("", "Patch"))
ROLES = tuple(f"kubernetes:{v}:{k}{p}" for v in RBAC_VERSIONS
              for k in ("ClusterRole", "Role") for p in ("", "Patch"))
CONTROLLERS = {
    "argocd-application-controller": "Argo CD's application controller applies every kind "
                                     "of object an AppProject allows, in any namespace; "
                                     "the domains' AppProjects are what restrict it",
}
"""Roles that grant everything by design, exempt by default (each with why)."""
ADMIN_ROLE = "cluster-admin"
ADMIN_GROUP = "system:masters"


def _strings(value) -> list[str]:
    return [value.strip()] if isinstance(value, str) else [str(v).strip() for v in items(value)]


def check_cluster_admin(args, cfg) -> Iterator[str]:
    if exempt(args, cfg["exempt"]):
        return
    what = k8s_label(args)
    if args.resource_type in BINDINGS:
        ref = get(args.props, "roleRef") or {}
        if get(ref, "kind") == "ClusterRole" and str(get(ref, "name") or "").strip() == ADMIN_ROLE:
            yield (f"{what} grants cluster-admin (roleRef ClusterRole cluster-admin): bind a "
                   "Role (or ClusterRole) that lists the verbs and resources its subjects "
                   "need, or list the binding in this rule's exempt after review")
        for s in items(get(args.props, "subjects")):
            if get(s, "kind") == "Group" and str(get(s, "name") or "").strip() == ADMIN_GROUP:
                yield (f"{what} binds the group {ADMIN_GROUP}, which bypasses RBAC: remove "
                       "that subject and bind the users or groups that need the role")
        return
    for i, rule in enumerate(items(get(args.props, "rules"))):
        if "*" in _strings(get(rule, "verbs")) and "*" in _strings(get(rule, "resources")):
            groups = json.dumps(_strings(get(rule, "apiGroups")))
            yield (f"{what}: rule {i} grants every verb on every resource (apiGroups "
                   f"{groups}), which is cluster-admin under another name: list "
                   "the verbs and resources needed, or list the role in this rule's exempt "
                   "after review")


POLICIES = [
    resource_policy(
        "k8s-no-cluster-admin",
        "No binding grants cluster-admin or system:masters, and no role grants every verb "
        "on every resource.",
        (*BINDINGS, *ROLES), check_cluster_admin, severity=Severity.CRITICAL,
        config={"exempt": string_list(
            sorted(CONTROLLERS),
            f"Roles and bindings not checked: {EXEMPT_PATTERNS}. The default lists the "
            "platform's controllers that need them: "
            + "; ".join(f"{k}: {v}" for k, v in sorted(CONTROLLERS.items())))},
        fix="Bind Roles that list the verbs and resources needed; never cluster-admin, "
            "system:masters or '*' on '*'."),
]
