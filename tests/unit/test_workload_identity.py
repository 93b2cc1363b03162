"""Workload identity per app: IRSA on aws, Workload Identity on gcp, least privilege.

The expected matrix is spelled out here, not read from access/identity.yaml, so a
change to the file that widens (or breaks) an app's access fails these tests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.identity import (
    BucketGrant,
    DomainIdentities,
    DomainIdentitiesArgs,
    WorkloadIdentityArgs,
)
from dataplatform.plan.mocks import ACCOUNT_ID, PlatformMocks
from dataplatform.resolve import site
from foundation.config.stack import StackConfig
from foundation.naming import LAKE_ZONES

pytestmark = pytest.mark.unit

NS = "acme-marketing-dev"
MATRIX = {
    "airflow": {"logs": "readwrite"},
    "airbyte": {"artifacts": "readwrite"},
    "dbt": {"raw": "read", "staging": "readwrite", "curated": "readwrite",
            "artifacts": "readwrite"},
    "datahub-ingestion": {"artifacts": "read"},
}
ALL_APPS = {"airflow", "airbyte", "dbt", "datahub", "metabase"}
ISSUER_HOST = "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{ISSUER_HOST}"
KMS_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/11111111-2222-3333-4444-555555555555"
PROJECT = "acme-data-dev"
GCS_ROLE = {"read": "roles/storage.objectViewer", "write": "roles/storage.objectCreator",
            "readwrite": "roles/storage.objectUser"}


@dataclass
class Reg:
    type: str
    name: str
    urn: str
    parent: str
    provider: str
    inputs: dict


class Recorder(MockMonitor):
    def __init__(self, mocks):
        super().__init__(mocks)
        self.regs: list[Reg] = []
        self.outputs: dict = {}

    def RegisterResource(self, request):
        inputs = rpc.deserialize_properties(request.object)
        response = super().RegisterResource(request)
        self.regs.append(Reg(request.type, request.name, response.urn, request.parent,
                             request.provider.rsplit("::", 1)[0], inputs))
        return response

    def RegisterResourceOutputs(self, request):
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            self.outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)

    def of(self, typ: str) -> list[Reg]:
        return [r for r in self.regs if r.type == typ]

    def one(self, typ: str, name: str) -> Reg:
        [found] = [r for r in self.regs if r.type == typ and r.name == name]
        return found


DBT = {"projects": [{"name": "shop", "gitUrl": "https://git.example.com/acme/shop.git",
                     "jobs": [{"name": "daily", "schedule": "0 5 * * *",
                               "command": "dbt build"}]}]}


def cfg_for(cloud: str, apps=ALL_APPS) -> StackConfig:
    extra = ({"region": "eu-west-1"} if cloud == "aws"
             else {"region": "europe-west1", "gcpProject": PROJECT})
    return StackConfig.model_validate({
        "customer": "acme", "domain": "marketing", "environment": "dev", "profile": "dev",
        "cloud": cloud, "kind": "domain", "cluster": {"mode": "dedicated"},
        "owner": "marketing-data", "costCenter": "cc-4711", **extra,
        "apps": {a: {"enabled": True, **(DBT if a == "dbt" else {})} for a in apps}})


def plan(cfg: StackConfig, kms: str | None = None) -> Recorder:
    """Run DomainIdentities for `cfg` under the mock engine; return the recording."""
    mon = Recorder(PlatformMocks())
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(PlatformMocks(), project="dataplatform", stack="t", preview=True,
                             monitor=mon)
    pulumi_settings.SETTINGS.rpc_manager.clear()
    pulumi_settings.SETTINGS.outputs.clear()
    enabled = {a for a in ALL_APPS if getattr(cfg.apps, a).enabled}

    def main():
        kube = k8s.Provider("kube", kubeconfig="{}")
        buckets = {z: cfg.naming.bucket(z, cfg.cloud) for z in LAKE_ZONES}
        if cfg.cloud == "aws":
            cloud = aws.Provider("cloud", region=cfg.region)
            extra = {"bucket_arns": {z: pulumi.Output.from_input(f"arn:aws:s3:::{b}")
                                     for z, b in buckets.items()},
                     "oidc_provider_arn": OIDC_ARN, "kms_key_arn": kms,
                     "oidc_issuer": pulumi.Output.from_input(f"https://{ISSUER_HOST}")}
        else:
            import pulumi_gcp as gcp

            cloud, extra = gcp.Provider("cloud", project=PROJECT), {}
        ids = DomainIdentities("ids", DomainIdentitiesArgs(
            site=site(cfg), namespace=NS, buckets=buckets, k8s_provider=kube, apps=enabled,
            labels={"dataplatform.io/domain": "marketing"}, **extra),
            opts=pulumi.ResourceOptions(providers=[cloud]))
        pulumi_settings.get_root_resource().register_outputs(
            {"service_accounts": ids.service_accounts})

    _sync_await(run_pulumi_func(main))
    pulumi_settings.ROOT.set(None)
    return mon


def grants(policy: dict) -> set[tuple[str, str]]:
    """(action, resource) pairs an IAM policy allows; anything unusual fails."""
    pairs = set()
    for st in policy["Statement"]:
        assert st["Effect"] == "Allow" and set(st) <= {"Sid", "Effect", "Action", "Resource"}
        actions = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
        resources = [st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]
        pairs |= {(a, r) for a in actions for r in resources}
    assert not any("*" in a for a, _ in pairs)
    return pairs


def expected_s3(cfg: StackConfig, access: dict[str, str], kms: str | None):
    pairs = set()
    for zone, level in access.items():
        arn = f"arn:aws:s3:::{cfg.naming.bucket(zone, 'aws')}"
        if "read" in level:
            pairs |= {("s3:ListBucket", arn), ("s3:GetBucketLocation", arn),
                      ("s3:GetObject", f"{arn}/*")}
        if "write" in level:
            pairs |= {(a, f"{arn}/*") for a in
                      ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")}
    if kms:
        pairs.add(("kms:Decrypt", kms))
        if any("write" in level for level in access.values()):
            pairs.add(("kms:GenerateDataKey", kms))
    return pairs


@pytest.mark.parametrize("kms", [None, KMS_ARN])
def test_aws_irsa_per_app(kms):
    cfg = cfg_for("aws")
    mon = plan(cfg, kms)
    kube = mon.one("pulumi:providers:kubernetes", "kube").urn
    cloud = mon.one("pulumi:providers:aws", "cloud").urn
    assert {r.name for r in mon.of("kubernetes:core/v1:ServiceAccount")} == {
        f"ids-{app}-service-account" for app in MATRIX}
    assert len(mon.of("aws:iam/role:Role")) == len(mon.of("aws:iam/policy:Policy")) == 4
    for app, access in MATRIX.items():
        comp = mon.one("dataplatform:identity:WorkloadIdentity", f"ids-{app}")
        assert comp.parent == mon.one("dataplatform:identity:DomainIdentities", "ids").urn
        role = mon.one("aws:iam/role:Role", f"ids-{app}-role")
        assert role.inputs["name"] == f"acme-marketing-dev-{app}"
        assert (role.parent, role.provider) == (comp.urn, cloud)
        assert "tags" not in role.inputs  # tags come from the provider's defaults
        trust = json.loads(role.inputs["assumeRolePolicy"])
        assert trust["Statement"] == [{
            "Effect": "Allow", "Principal": {"Federated": OIDC_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{ISSUER_HOST}:sub": f"system:serviceaccount:{NS}:{app}",
                f"{ISSUER_HOST}:aud": "sts.amazonaws.com"}}}]
        policy = mon.one("aws:iam/policy:Policy", f"ids-{app}-policy")
        assert grants(json.loads(policy.inputs["policy"])) == expected_s3(cfg, access, kms)
        attach = mon.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                         f"ids-{app}-policy-attachment")
        assert attach.inputs == {"role": role.inputs["name"], "policyArn":
                                 f"arn:aws:iam::{ACCOUNT_ID}:policy/{role.inputs['name']}"}
        sa = mon.one("kubernetes:core/v1:ServiceAccount", f"ids-{app}-service-account")
        assert (sa.provider, sa.parent) == (kube, comp.urn)
        assert sa.inputs["metadata"]["name"] == app
        assert sa.inputs["metadata"]["namespace"] == NS
        arn = f"arn:aws:iam::{ACCOUNT_ID}:role/acme-marketing-dev-{app}"
        assert sa.inputs["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": arn}
        assert mon.outputs["service_accounts"][app] == {
            "name": app, "annotations": {"eks.amazonaws.com/role-arn": arn}}


def test_aws_spot_checks_of_least_privilege():
    cfg = cfg_for("aws")
    pol = {app: grants(json.loads(plan(cfg, KMS_ARN).one(
        "aws:iam/policy:Policy", f"ids-{app}-policy").inputs["policy"])) for app in MATRIX}
    raw = f"arn:aws:s3:::{cfg.naming.bucket('raw', 'aws')}"
    artifacts = f"arn:aws:s3:::{cfg.naming.bucket('artifacts', 'aws')}"
    assert not any(r.startswith(raw) for _, r in pol["airflow"])
    assert ("s3:GetObject", f"{raw}/*") in pol["dbt"]
    assert not {("s3:PutObject", f"{raw}/*"), ("s3:DeleteObject", f"{raw}/*")} & pol["dbt"]
    assert {a for a, r in pol["datahub-ingestion"] if r.startswith("arn:aws:s3")} == {
        "s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"}
    assert {r.removesuffix("/*") for a, r in pol["datahub-ingestion"]
            if r.startswith("arn:aws:s3")} == {artifacts}
    assert ("kms:GenerateDataKey", KMS_ARN) not in pol["datahub-ingestion"]


def test_gcp_workload_identity_per_app():
    cfg = cfg_for("gcp")
    mon = plan(cfg)
    kube = mon.one("pulumi:providers:kubernetes", "kube").urn
    cloud = mon.one("pulumi:providers:gcp", "cloud").urn
    assert {r.type for r in mon.regs if r.type.startswith("gcp:")} == {
        "gcp:serviceaccount/account:Account", "gcp:storage/bucketIAMMember:BucketIAMMember",
        "gcp:serviceaccount/iAMMember:IAMMember"}
    expected_bindings, seen_ids = set(), set()
    for app, access in MATRIX.items():
        gsa = mon.one("gcp:serviceaccount/account:Account", f"ids-{app}-gsa")
        account_id = gsa.inputs["accountId"]
        assert re.fullmatch(r"[a-z][-a-z0-9]{4,28}[a-z0-9]", account_id)
        assert account_id == cfg.naming.name(app, kind="gcp-service-account")
        assert (gsa.provider, gsa.inputs["project"]) == (cloud, PROJECT)
        seen_ids.add(account_id)
        email = f"{account_id}@{PROJECT}.iam.gserviceaccount.com"
        expected_bindings |= {(cfg.naming.bucket(z, "gcp"), GCS_ROLE[level],
                               f"serviceAccount:{email}") for z, level in access.items()}
        wi = mon.one("gcp:serviceaccount/iAMMember:IAMMember", f"ids-{app}-workload-identity")
        assert wi.inputs == {
            "serviceAccountId": f"projects/{PROJECT}/serviceAccounts/{email}",
            "role": "roles/iam.workloadIdentityUser",
            "member": f"serviceAccount:{PROJECT}.svc.id.goog[{NS}/{app}]"}
        sa = mon.one("kubernetes:core/v1:ServiceAccount", f"ids-{app}-service-account")
        assert sa.provider == kube
        assert (sa.inputs["metadata"]["name"], sa.inputs["metadata"]["namespace"]) == (app, NS)
        assert sa.inputs["metadata"]["annotations"] == {"iam.gke.io/gcp-service-account": email}
        assert mon.outputs["service_accounts"][app]["annotations"] == {
            "iam.gke.io/gcp-service-account": email}
    assert len(seen_ids) == 4
    assert {(b.inputs["bucket"], b.inputs["role"], b.inputs["member"])
            for b in mon.of("gcp:storage/bucketIAMMember:BucketIAMMember")} == expected_bindings
    assert len(mon.of("gcp:storage/bucketIAMMember:BucketIAMMember")) == len(expected_bindings)


def test_gcp_ids_fitted_and_deterministic():
    first = {r.inputs["accountId"] for r in plan(cfg_for("gcp")).of(
        "gcp:serviceaccount/account:Account")}
    second = {r.inputs["accountId"] for r in plan(cfg_for("gcp")).of(
        "gcp:serviceaccount/account:Account")}
    assert first == second and all(len(i) <= 30 for i in first)
    # 36 characters in full: cut and suffixed with a stable hash of the full name.
    assert first == {"acme-marketing-dev-airflow", "acme-marketing-dev-airbyte",
                     "acme-marketing-dev-dbt", "acme-marketing-dev-data-4283a2"}


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_disabled_apps_get_nothing(cloud):
    mon = plan(cfg_for(cloud, apps={"airflow", "metabase"}))
    assert [r.name for r in mon.of("dataplatform:identity:WorkloadIdentity")] == ["ids-airflow"]
    assert {r.name.split("-")[1] for r in mon.regs
            if r.type.startswith(("aws:", "gcp:", "kubernetes:"))} == {"airflow"}
    assert set(mon.outputs["service_accounts"]) == {"airflow"}
    mon = plan(cfg_for(cloud, apps={"datahub"}))
    assert set(mon.outputs["service_accounts"]) == {"datahub-ingestion"}
    mon = plan(cfg_for(cloud, apps={"metabase"}))
    assert not mon.of("dataplatform:identity:WorkloadIdentity")
    assert mon.outputs["service_accounts"] == {}


def test_args_are_checked():
    kube = object()
    common = {"app": "dbt", "namespace": NS, "service_account": "dbt",
              "grants": [BucketGrant("raw", "b", "read")], "k8s_provider": kube}
    with pytest.raises(ValueError, match="oidc_provider_arn"):
        WorkloadIdentityArgs(**common, cloud="aws", identity_name="r")
    with pytest.raises(ValueError, match="service-account id"):
        WorkloadIdentityArgs(**common, cloud="gcp", identity_name="1-starts-with-digit",
                             project=PROJECT)
    with pytest.raises(ValueError, match="unknown access"):
        WorkloadIdentityArgs(**{**common, "grants": [BucketGrant("raw", "b", "admin")]},
                             cloud="gcp", identity_name="acme-dbt", project=PROJECT)
    with pytest.raises(ValueError, match="no bucket ARNs for zones"):
        DomainIdentities("ids", DomainIdentitiesArgs(
            site=site(cfg_for("aws")), namespace=NS, buckets={"raw": "b"}, k8s_provider=kube,
            apps={"dbt"}, bucket_arns={"raw": "arn:aws:s3:::b"}))
