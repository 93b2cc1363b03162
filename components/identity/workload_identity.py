"""WorkloadIdentity: one app's Kubernetes ServiceAccount bound to a cloud identity.

aws (IRSA): an IAM role only the service account `system:serviceaccount:<ns>:<sa>` can
assume through the cluster's OIDC provider, with a policy granting exactly the S3 (and
lake KMS key) actions of its bucket grants. gcp (Workload Identity): a Google service
account with per-bucket IAM bindings, impersonable only by `<pool>[<ns>/<sa>]`.
Cloud resources take the aws/gcp provider of the parent (it carries the common
tags/labels as defaults); the ServiceAccount uses the cluster's Kubernetes provider.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from foundation.naming import LIMITS, is_dns_label

Access = Literal["read", "write", "readwrite"]
ACCESS_LEVELS: dict[str, frozenset[str]] = {
    "read": frozenset({"read"}),
    "write": frozenset({"write"}),
    "readwrite": frozenset({"read", "write"}),
}
AWS_ANNOTATION = "eks.amazonaws.com/role-arn"
GCP_ANNOTATION = "iam.gke.io/gcp-service-account"

# S3: bucket-level actions apply to the bucket ARN, object actions to `<arn>/*`.
S3_READ_BUCKET = ("s3:GetBucketLocation", "s3:ListBucket")
S3_READ_OBJECT = ("s3:GetObject",)
S3_WRITE_OBJECT = ("s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject")
# SSE-KMS: reading (and completing a multipart upload) decrypts; writing makes data keys.
KMS_READ = ("kms:Decrypt",)
KMS_WRITE = ("kms:GenerateDataKey",)
# objectUser, not objectAdmin, for readwrite: the same object create/read/update/delete
# and multipart permissions, without objects.getIamPolicy/setIamPolicy (ACL management
# no workload needs on uniform-access lake buckets).
GCS_ROLES = {
    frozenset({"read"}): "roles/storage.objectViewer",
    frozenset({"write"}): "roles/storage.objectCreator",
    frozenset({"read", "write"}): "roles/storage.objectUser",
}
WI_USER = "roles/iam.workloadIdentityUser"
GSA_ID = re.compile(r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")


@dataclass(frozen=True)
class BucketGrant:
    """Access of the identity to one bucket."""

    key: str
    """Stable short key (the lake zone): names the per-bucket child resources."""
    bucket: pulumi.Input[str]
    """Bucket ARN (aws) or bucket name (gcp)."""
    access: Access
    """'read', 'write' or 'readwrite'."""


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    """Inputs of WorkloadIdentity."""

    app: str
    """App (identity) name, e.g. 'airflow'; used in descriptions."""
    namespace: pulumi.Input[str]
    """Namespace of the ServiceAccount (the domain's)."""
    service_account: str
    """Name of the Kubernetes ServiceAccount the app's pods run as."""
    grants: Sequence[BucketGrant]
    """Bucket access list; nothing else is granted."""
    cloud: Literal["aws", "gcp"]
    """Which cloud identity to create."""
    identity_name: str
    """IAM role name (aws, <= 64) or GCP service-account id (gcp, <= 30): from cfg.naming."""
    k8s_provider: pulumi.ProviderResource
    """The cluster's Kubernetes provider, used for the ServiceAccount."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels of the ServiceAccount."""
    oidc_provider_arn: pulumi.Input[str] | None = None
    """aws: ARN of the cluster's IAM OIDC provider (the federated principal)."""
    oidc_issuer: pulumi.Input[str | None] | None = None
    """aws: the cluster's OIDC issuer URL (`https://oidc.eks.<region>.amazonaws.com/id/…`)."""
    kms_key_arn: pulumi.Input[str] | None = None
    """aws: the lake's KMS key, when its buckets use SSE-KMS."""
    project: str | None = None
    """gcp: project of the Google service account."""
    workload_pool: pulumi.Input[str] | None = None
    """gcp: the cluster's workload pool (default `<project>.svc.id.goog`)."""

    def __post_init__(self):
        problems = []
        if not is_dns_label(self.service_account):
            problems.append(f"service account '{self.service_account}' is not a DNS label")
        if not self.grants:
            problems.append("no bucket grants (an identity that may do nothing)")
        keys = [g.key for g in self.grants]
        if len(set(keys)) != len(keys):
            problems.append(f"duplicate grant keys in {keys}")
        problems += [f"grant '{g.key}': unknown access '{g.access}'"
                     for g in self.grants if g.access not in ACCESS_LEVELS]
        limit = LIMITS["iam-role" if self.cloud == "aws" else "gcp-service-account"]
        if len(self.identity_name) > limit:
            problems.append(f"identity name '{self.identity_name}' is longer than {limit}")
        if self.cloud == "aws" and (self.oidc_provider_arn is None or self.oidc_issuer is None):
            problems.append("aws needs oidc_provider_arn and oidc_issuer")
        if self.cloud == "gcp" and not self.project:
            problems.append("gcp needs the project")
        if self.cloud == "gcp" and not GSA_ID.match(self.identity_name):
            problems.append(f"'{self.identity_name}' is not a GCP service-account id "
                            "(6-30 lowercase letters, digits and '-', starting with a letter)")
        if problems:
            raise ValueError(f"WorkloadIdentity {self.app}: " + "; ".join(problems))


def irsa_trust_policy(provider_arn: str, issuer: str | None, subject: str) -> str:
    """Trust policy: only `subject`'s STS-audience token from the cluster's OIDC provider."""
    if not issuer:
        raise ValueError("the cluster has no OIDC issuer: IRSA needs one")
    host = issuer.removeprefix("https://").rstrip("/")
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{host}:sub": subject,
                                           f"{host}:aud": "sts.amazonaws.com"}},
        }],
    }, sort_keys=True)


def s3_policy(grants: Sequence[tuple[str, str]], kms_key_arn: str | None) -> str:
    """Policy for (bucket ARN, access) grants: exactly the actions each access needs."""
    readers = sorted({arn for arn, a in grants if "read" in ACCESS_LEVELS[a]})
    writers = sorted({arn for arn, a in grants if "write" in ACCESS_LEVELS[a]})
    statements = []

    def allow(sid: str, actions: Sequence[str], resources: list[str]):
        if resources:
            statements.append({"Sid": sid, "Effect": "Allow", "Action": sorted(actions),
                               "Resource": resources})

    allow("ListBuckets", S3_READ_BUCKET, readers)
    allow("ReadObjects", S3_READ_OBJECT, [f"{arn}/*" for arn in readers])
    allow("WriteObjects", S3_WRITE_OBJECT, [f"{arn}/*" for arn in writers])
    if kms_key_arn:
        allow("LakeKey", [*KMS_READ, *(KMS_WRITE if writers else ())], [kms_key_arn])
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


class WorkloadIdentity(pulumi.ComponentResource):
    """A ServiceAccount whose pods act as a least-privilege cloud identity."""

    service_account_name: pulumi.Output[str]
    annotations: pulumi.Output[dict[str, str]]
    role_arn: pulumi.Output[str | None]
    gsa_email: pulumi.Output[str | None]

    def __init__(self, name: str, args: WorkloadIdentityArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:identity:WorkloadIdentity", name, None, opts)
        self.role_arn = self.gsa_email = pulumi.Output.from_input(None)
        if args.cloud == "aws":
            key, (value, ready) = AWS_ANNOTATION, self._aws(name, args)
        else:
            key, (value, ready) = GCP_ANNOTATION, self._gcp(name, args)
        self.annotations = value.apply(lambda v: {key: v})
        # Created after its grants, so a pod using it never starts without access.
        sa = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata={"name": args.service_account, "namespace": args.namespace,
                      "labels": {**args.labels, "app.kubernetes.io/name": args.app},
                      "annotations": self.annotations},
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider,
                                        depends_on=ready))
        self.service_account_name = sa.metadata["name"]
        self.register_outputs({"service_account_name": self.service_account_name,
                               "annotations": self.annotations,
                               "role_arn": self.role_arn, "gsa_email": self.gsa_email})

    def _aws(self, name: str, args: WorkloadIdentityArgs):
        import pulumi_aws as aws

        child = pulumi.ResourceOptions(parent=self)
        subject = pulumi.Output.format("system:serviceaccount:{0}:{1}", args.namespace,
                                       args.service_account)
        trust = pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer, subject).apply(
            lambda v: irsa_trust_policy(*v))
        role = aws.iam.Role(f"{name}-role", name=args.identity_name,
                            description=f"IRSA role of {args.app}",
                            assume_role_policy=trust, opts=child)
        document = pulumi.Output.all(
            [g.bucket for g in args.grants], args.kms_key_arn).apply(
            lambda v: s3_policy(list(zip(v[0], [g.access for g in args.grants],
                                         strict=True)), v[1]))
        policy = aws.iam.Policy(f"{name}-policy", name=args.identity_name,
                                description=f"Lake access of {args.app}",
                                policy=document, opts=child)
        attachment = aws.iam.RolePolicyAttachment(f"{name}-policy-attachment",
                                                  role=role.name, policy_arn=policy.arn,
                                                  opts=child)
        self.role_arn = role.arn
        return role.arn, [attachment]

    def _gcp(self, name: str, args: WorkloadIdentityArgs):
        import pulumi_gcp as gcp

        child = pulumi.ResourceOptions(parent=self)
        gsa = gcp.serviceaccount.Account(
            f"{name}-gsa", account_id=args.identity_name, project=args.project,
            display_name=f"{args.app} workload identity",
            description=pulumi.Output.format("Kubernetes {0}/{1}", args.namespace,
                                             args.service_account),
            opts=child)
        member = pulumi.Output.concat("serviceAccount:", gsa.email)
        bindings = [
            gcp.storage.BucketIAMMember(f"{name}-{g.key}", bucket=g.bucket,
                                        role=GCS_ROLES[ACCESS_LEVELS[g.access]],
                                        member=member, opts=child)
            for g in args.grants
        ]
        pool = args.workload_pool or f"{args.project}.svc.id.goog"
        wi = gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity", service_account_id=gsa.name, role=WI_USER,
            member=pulumi.Output.format("serviceAccount:{0}[{1}/{2}]", pool, args.namespace,
                                        args.service_account),
            opts=child)
        self.gsa_email = gsa.email
        return gsa.email, [*bindings, wi]
