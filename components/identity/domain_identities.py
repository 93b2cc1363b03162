"""DomainIdentities: one WorkloadIdentity per enabled app that touches the lake.

Who may do what to which zone is not written here: it is `access/identity.yaml`, the
least-privilege matrix, validated on load. This module only joins it with the domain's
buckets, the cluster's OIDC details and the set of enabled apps.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import pulumi
from pydantic import AfterValidator, Field, model_validator

from components.identity.workload_identity import (
    BucketGrant,
    WorkloadIdentity,
    WorkloadIdentityArgs,
)
from components.site import Site
from foundation import yamlfile
from foundation.config.apps import Apps
from foundation.config.base import Model
from foundation.layout import ACCESS_DIR
from foundation.naming import LAKE_ZONES, is_dns_label

IDENTITY_FILE = ACCESS_DIR / "identity.yaml"


def _dns(value: str) -> str:
    if not is_dns_label(value):
        raise ValueError(f"'{value}' is not a DNS-1123 label")
    return value


def _app(value: str) -> str:
    if value not in Apps.model_fields:
        raise ValueError(f"'{value}' is not an app (one of {sorted(Apps.model_fields)})")
    return value


Zone = Literal[LAKE_ZONES]  # type: ignore[valid-type]


class IdentityProfile(Model):
    """One identity of the matrix."""

    app: Annotated[str, AfterValidator(_app)] = Field(
        description="The apps.<app> switch that enables this identity.")
    service_account: Annotated[str, AfterValidator(_dns)] = Field(
        description="Kubernetes ServiceAccount name in the domain namespace.")
    buckets: dict[Zone, Literal["read", "write", "readwrite"]] = Field(
        min_length=1, description="Lake zone -> access; unlisted zones: none.")


class IdentityMatrix(Model):
    """`access/identity.yaml`."""

    identities: dict[Annotated[str, AfterValidator(_dns)], IdentityProfile] = Field(
        description="Identity name -> its app, ServiceAccount and lake access.")

    @model_validator(mode="after")
    def _unique_service_accounts(self) -> IdentityMatrix:
        names = [p.service_account for p in self.identities.values()]
        if len(set(names)) != len(names):
            raise ValueError(f"two identities share a ServiceAccount: {names}")
        return self


@cache
def load_matrix(path: Path = IDENTITY_FILE) -> IdentityMatrix:
    """The least-privilege matrix, validated."""
    return IdentityMatrix.model_validate(yamlfile.read(path))


@dataclass(frozen=True)
class DomainIdentitiesArgs:
    """Inputs of DomainIdentities."""

    site: Site
    """The stack's cloud (aws or gcp), names and GCP project."""
    namespace: pulumi.Input[str]
    """Domain namespace the ServiceAccounts go into."""
    buckets: Mapping[str, pulumi.Input[str]]
    """Lake zone -> bucket name."""
    k8s_provider: pulumi.ProviderResource
    """The cluster's Kubernetes provider."""
    apps: Collection[str]
    """Enabled apps (keys of `apps:`); identities of other apps are not created."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the ServiceAccounts."""
    bucket_arns: Mapping[str, pulumi.Input[str]] | None = None
    """aws: lake zone -> bucket ARN."""
    kms_key_arn: pulumi.Input[str] | None = None
    """aws: the lake's KMS key, when the buckets use SSE-KMS."""
    oidc_provider_arn: pulumi.Input[str] | None = None
    """aws: ARN of the cluster's IAM OIDC provider."""
    oidc_issuer: pulumi.Input[str | None] | None = None
    """aws: the cluster's OIDC issuer URL (ClusterHandle.oidc_issuer)."""
    workload_pool: pulumi.Input[str] | None = None
    """gcp: the cluster's workload pool (default `<gcpProject>.svc.id.goog`)."""
    matrix_file: Path = IDENTITY_FILE
    """The least-privilege matrix."""


class DomainIdentities(pulumi.ComponentResource):
    """The workload identities of a domain's apps, per the least-privilege matrix."""

    service_accounts: pulumi.Output[dict[str, dict[str, Any]]]
    identities: dict[str, WorkloadIdentity]

    def __init__(self, name: str, args: DomainIdentitiesArgs,
                 opts: pulumi.ResourceOptions | None = None):
        site = args.site
        if site.cloud not in ("aws", "gcp"):
            raise ValueError(f"DomainIdentities {name}: cloud '{site.cloud}' has no workload "
                             "identity (MinIO uses its own credentials)")
        matrix = load_matrix(args.matrix_file).identities
        wanted = {k: p for k, p in matrix.items() if p.app in args.apps}
        refs: Mapping[str, pulumi.Input[str]] = (
            args.bucket_arns if site.cloud == "aws" else args.buckets) or {}
        missing = sorted({z for p in wanted.values() for z in p.buckets} - set(refs))
        if missing:
            what = "bucket ARNs" if site.cloud == "aws" else "buckets"
            raise ValueError(f"DomainIdentities {name}: no {what} for zones {missing}")
        super().__init__("dataplatform:identity:DomainIdentities", name, None, opts)
        kind = "iam-role" if site.cloud == "aws" else "gcp-service-account"
        self.identities = {
            key: WorkloadIdentity(f"{name}-{key}", WorkloadIdentityArgs(
                app=key, namespace=args.namespace, service_account=p.service_account,
                grants=[BucketGrant(z, refs[z], a) for z, a in p.buckets.items()],
                cloud=site.cloud, identity_name=site.naming.name(key, kind=kind),
                k8s_provider=args.k8s_provider, labels=args.labels,
                oidc_provider_arn=args.oidc_provider_arn, oidc_issuer=args.oidc_issuer,
                kms_key_arn=args.kms_key_arn, project=site.gcp_project,
                workload_pool=args.workload_pool),
                opts=pulumi.ResourceOptions(parent=self))
            for key, p in wanted.items()
        }
        keys = list(self.identities)
        self.service_accounts = pulumi.Output.all(*(
            pulumi.Output.all(i.service_account_name, i.annotations)
            for i in self.identities.values())).apply(
            lambda vs: {k: {"name": v[0], "annotations": v[1]}
                        for k, v in zip(keys, vs, strict=True)})
        self.register_outputs({"service_accounts": self.service_accounts})
