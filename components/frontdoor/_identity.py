"""Who cert-manager and external-dns are in the cloud: the customer's zone, nothing more.

- aws: an IRSA role per add-on, trusted by its ServiceAccount only. Record changes are
  allowed on the one hosted zone; cert-manager's are limited to TXT records named
  `_acme-challenge.*` (Route 53's record-set conditions). Listing zones and reading a
  change's status cannot be scoped to a zone in IAM.
- gcp: a Google service account per add-on, impersonable only by its ServiceAccount
  (Workload Identity), with `roles/dns.admin` on the one managed zone (Cloud DNS's
  per-zone IAM) and a project role holding only `dns.managedZones.list` (both tools list
  the zones to find theirs; Cloud DNS offers no narrower grant).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi

from components.frontdoor.args import FrontDoorArgs
from components.identity.workload_identity import (
    AWS_ANNOTATION,
    GCP_ANNOTATION,
    WI_USER,
    irsa_trust_policy,
)

ZONE_ROLE = "roles/dns.admin"
LIST_ZONES = ("dns.managedZones.list",)


@dataclass(frozen=True)
class ZoneIdentityArgs:
    """One add-on's cloud identity, allowed on the customer's zone only."""

    who: str
    """`cert-manager` or `external-dns` (what the policy allows differs)."""
    cloud: str
    """`aws` or `gcp`."""
    name: str
    """IAM role name (aws) or service-account id (gcp), from naming."""
    namespace: str
    """Namespace of the add-on's Kubernetes ServiceAccount."""
    service_account: str
    """Its Kubernetes ServiceAccount (the chart's)."""
    route53_zone_id: str | None = None
    """aws: the hosted zone."""
    cloud_dns_zone: str | None = None
    """gcp: the managed zone."""
    project: str | None = None
    """gcp: the project of the zone and the service account."""
    base: str = ""
    """`<customer>-<domain>-<environment>`: descriptions and the custom role's id."""
    oidc_issuer: pulumi.Input[str | None] | None = None
    """aws: the cluster's OIDC issuer."""
    oidc_provider_arn: pulumi.Input[str | None] | None = None
    """aws: the cluster's IAM OIDC provider."""


def for_addon(args: FrontDoorArgs, who: str, name: str, namespace: str,
              service_account: str) -> ZoneIdentityArgs:
    """The identity of `who` (cert-manager or external-dns) on the front door's zone."""
    return ZoneIdentityArgs(
        who=who, cloud=args.cloud, name=name, namespace=namespace,
        service_account=service_account, route53_zone_id=args.route53_zone_id,
        cloud_dns_zone=args.cloud_dns_zone, project=args.project, base=args.base,
        oidc_issuer=args.oidc_issuer, oidc_provider_arn=args.oidc_provider_arn)


def route53_policy(who: str, zone_id: str) -> str:
    """The add-on's Route 53 policy: its zone's records (cert-manager: ACME TXT only)."""
    zone = f"arn:aws:route53:::hostedzone/{zone_id}"
    change: dict[str, Any] = {"Sid": "ZoneRecords", "Effect": "Allow",
                              "Action": ["route53:ChangeResourceRecordSets",
                                         "route53:ListResourceRecordSets"],
                              "Resource": [zone]}
    if who == "cert-manager":
        change["Condition"] = {
            "ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsRecordTypes": ["TXT"]},
            "ForAllValues:StringLike": {
                "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.*"]}}
        listing = ["route53:ListHostedZonesByName"]
        reads = [{"Sid": "ChangeStatus", "Effect": "Allow", "Action": ["route53:GetChange"],
                  "Resource": ["arn:aws:route53:::change/*"]}]
    else:
        change["Action"].append("route53:ListTagsForResources")
        listing = ["route53:ListHostedZones"]
        reads = []
    statements = [change, *reads, {"Sid": "FindZones", "Effect": "Allow", "Action": listing,
                                   "Resource": ["*"]}]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def zone_identity(parent: pulumi.Resource, name: str, args: ZoneIdentityArgs
                  ) -> tuple[pulumi.Output[dict[str, str]], list[pulumi.Resource]]:
    """The identity; returns (ServiceAccount annotations, resources the release waits for)."""
    child = pulumi.ResourceOptions(parent=parent)
    if args.cloud == "aws":
        import pulumi_aws as aws

        assert args.route53_zone_id  # the config requires it on aws
        subject = f"system:serviceaccount:{args.namespace}:{args.service_account}"
        trust = pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
            lambda v: irsa_trust_policy(v[0], v[1], subject))
        role = aws.iam.Role(f"{name}-role", name=args.name, assume_role_policy=trust,
                            description=f"{args.who} of {args.base}: zone "
                                        f"{args.route53_zone_id} (IRSA)", opts=child)
        policy = aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=route53_policy(
            args.who, args.route53_zone_id), opts=child)
        return role.arn.apply(lambda arn: {AWS_ANNOTATION: arn}), [policy]
    import pulumi_gcp as gcp

    assert args.project and args.cloud_dns_zone  # the config requires both on gcp
    gsa = gcp.serviceaccount.Account(
        f"{name}-gsa", account_id=args.name, project=args.project,
        display_name=f"{args.who} of {args.base}",
        description=f"Kubernetes {args.namespace}/{args.service_account} (Workload Identity)",
        opts=child)
    member = pulumi.Output.concat("serviceAccount:", gsa.email)
    lister = gcp.projects.IAMCustomRole(
        f"{name}-list-zones", project=args.project,
        role_id=f"{args.who.replace('-', '_')}_{args.base.replace('-', '_')}",
        title=f"{args.who} of {args.base}: list DNS zones", permissions=list(LIST_ZONES),
        opts=child)
    grants = [
        gcp.dns.DnsManagedZoneIamMember(f"{name}-zone", project=args.project,
                                     managed_zone=args.cloud_dns_zone, role=ZONE_ROLE,
                                     member=member, opts=child),
        gcp.projects.IAMMember(f"{name}-list", project=args.project, role=lister.name,
                               member=member, opts=child),
        gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity", service_account_id=gsa.name, role=WI_USER,
            member=f"serviceAccount:{args.project}.svc.id.goog"
                   f"[{args.namespace}/{args.service_account}]", opts=child),
    ]
    return gsa.email.apply(lambda e: {GCP_ANNOTATION: e}), grants
