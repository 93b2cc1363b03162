"""How a domain is fenced off: quota, default limits, Pod Security, network."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from foundation.config.base import Cidr, Model, Quantity, RuleViolations, StackName, dns_label

# Groups Kubernetes fills itself: binding one makes everyone (or every node, every
# workload, the break-glass superusers) admin of the domain. All of `system:` is reserved.
EVERYONE = ("system:", "*")


def _real_group(value: str) -> str:
    spelled = value.strip().lower()
    if not spelled or any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError(f"'{value}' is not a group name: no blanks or control characters")
    if spelled.startswith(EVERYONE):
        raise ValueError(f"'{value}' is a group Kubernetes fills itself (every user, node, "
                         "workload or superuser): name your identity provider's group of "
                         "this domain's admins")
    return value


# An IAM role or user, as EKS access entries take it: the principal itself, with its path
# (an IAM Identity Center permission set's role lives under aws-reserved/sso.amazonaws.com/).
IAM_PRINCIPAL = re.compile(
    r"^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:(?:role|user)/(?:[A-Za-z0-9_+=,.@-]+/)*"
    r"[A-Za-z0-9_+=,.@-]{1,64}$")
SSO_PATH = "role/aws-reserved/sso.amazonaws.com/"


def _iam_principal(value: str) -> str:
    if ":sts::" in value or ":assumed-role/" in value:
        raise ValueError(f"'{value}' is an STS session, which EKS access entries refuse: give "
                         "the ARN of the role it assumed, arn:aws:iam::<account>:role/<name>")
    if not IAM_PRINCIPAL.match(value):
        raise ValueError(f"'{value}' is not an IAM role or user ARN "
                         "(arn:aws:iam::<12-digit account>:role/<path/>name)")
    if ":role/aws-service-role/" in value:
        raise ValueError(f"'{value}' is a service-linked role: EKS gives no access entry to "
                         "one; name the role your people assume")
    if ":role/AWSReservedSSO_" in value:
        raise ValueError(f"'{value}' lacks its path: an IAM Identity Center role is "
                         f"arn:aws:iam::<account>:{SSO_PATH}<region>/AWSReservedSSO_… "
                         "(aws iam list-roles --path-prefix /aws-reserved/sso.amazonaws.com/)")
    return value


class QuotaConfig(Model):
    """The domain namespace's ResourceQuota."""

    requests_cpu: Quantity = Field("8", description="Total CPU requests.")
    requests_memory: Quantity = Field("24Gi", description="Total memory requests.")
    limits_cpu: Quantity = Field("16", description="Total CPU limits.")
    limits_memory: Quantity = Field("48Gi", description="Total memory limits.")
    pods: int = Field(100, ge=1, description="Pod count.")
    persistent_volume_claims: int = Field(30, ge=0, description="PVC count.")
    storage: Quantity = Field("500Gi", description="Total requested storage.")


class LimitRangeConfig(Model):
    """Defaults for containers that state no resources of their own."""

    default_request_cpu: Quantity = Field("100m", description="Default CPU request.")
    default_request_memory: Quantity = Field("128Mi", description="Default memory request.")
    default_limit_cpu: Quantity = Field("500m", description="Default CPU limit.")
    default_limit_memory: Quantity = Field("512Mi", description="Default memory limit.")


class IsolationConfig(Model):
    """How a domain is fenced off from the others."""

    pod_security: Literal["restricted", "baseline"] = Field(
        "baseline",
        description="Pod Security Standard enforced on the domain namespaces "
        "('restricted' is always warned about and audited).",
    )
    extra_namespaces: list[Annotated[str, dns_label(15)]] = Field(
        default_factory=list,
        description="Extra namespaces for the domain, as suffixes of its main one.",
    )
    admin_groups: list[Annotated[str, AfterValidator(_real_group)]] = Field(
        default_factory=list,
        description="Groups made admin of the domain namespaces (RoleBinding subjects; "
        "default: '<customer>-<domain>-<environment>-admins'). How a person lands in them: "
        "aws, the IAM roles of adminPrincipals; gcp, Google Groups (emails) that are "
        "members of the platform's cluster.gcp.securityGroup; local, a client certificate "
        "or OIDC token carrying the group.",
    )
    viewer_groups: list[Annotated[str, AfterValidator(_real_group)]] = Field(
        default_factory=list,
        description="Groups of the OIDC issuer that may view the domain's apps (their "
        "viewer roles, through the front door's single sign-on); admins are adminGroups.",
    )
    admin_principals: list[Annotated[str, AfterValidator(_iam_principal)]] = Field(
        default_factory=list,
        description="aws: IAM roles (or users) whose sessions are the domain's admins: each "
        "gets an EKS access entry on the cluster carrying adminGroups, and no access "
        "policy (the RoleBinding authorizes). An IAM Identity Center permission set is its "
        "role's full ARN, path included (arn:aws:iam::<account>:role/aws-reserved/"
        "sso.amazonaws.com/<region>/AWSReservedSSO_<set>_<id>). EKS allows one access "
        "entry per principal and cluster: a role admin of two domains on one cluster, or "
        "the role that deploys the cluster, cannot be listed.",
    )
    quota: QuotaConfig = Field(default_factory=QuotaConfig)
    limit_range: LimitRangeConfig = Field(default_factory=LimitRangeConfig)
    monitoring_namespace: StackName = Field(
        "monitoring", description="Namespace allowed to scrape the domain's pods."
    )
    ingress_namespace: StackName = Field(
        "ingress-nginx", description="Namespace of the ingress controller."
    )
    egress_cidrs: list[Cidr] = Field(
        default_factory=lambda: ["0.0.0.0/0"],
        description="Destinations pods may reach outside the cluster (sources, object "
        "storage, Git). Cluster-internal traffic is governed by the other rules.",
    )

    @model_validator(mode="after")
    def _unique_namespaces(self) -> IsolationConfig:
        # Each namespace's resources are named after its suffix; the main one's are 'main'.
        p = [("extraNamespaces", f"'{n}' is listed more than once")
             for n in sorted({n for n in self.extra_namespaces
                              if self.extra_namespaces.count(n) > 1})]
        if "main" in self.extra_namespaces:
            p.append(("extraNamespaces", "'main' is reserved for the domain's main namespace"))
        p += [("adminPrincipals", f"'{a}' is listed more than once (EKS allows one access "
               "entry per principal)") for a in sorted({a for a in self.admin_principals
                                                         if self.admin_principals.count(a) > 1})]
        if p:
            raise RuleViolations(p)
        return self

    def effective_admin_groups(self, domain_id: str) -> list[str]:
        """The groups the domain's RoleBindings bind, and its EKS access entries carry."""
        return list(self.admin_groups) or [f"{domain_id}-admins"]
