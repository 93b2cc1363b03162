"""The shipped AWS and GCP stacks: data protection, tags, identities and config rules."""

import json

import pytest
from receivers import with_receivers

from dataplatform import cli
from dataplatform.program import load
from foundation.config import ConfigError

pytestmark = pytest.mark.unit

DATA_TYPES = {"aws:s3/bucket:Bucket", "aws:rds/instance:Instance", "aws:kms/key:Key",
              "gcp:storage/bucket:Bucket", "gcp:sql/databaseInstance:DatabaseInstance"}


def test_prod_data_resources_are_protected_and_retained(shipped_plan):
    plan = shipped_plan("aws-finance")
    data = [r for r in plan.resources if r.type in DATA_TYPES]
    assert {r.type for r in data} == {"aws:s3/bucket:Bucket", "aws:rds/instance:Instance",
                                      "aws:kms/key:Key"}
    assert len([r for r in data if r.type == "aws:s3/bucket:Bucket"]) == 5
    unprotected = [r.name for r in data if not (r.protect and r.retain_on_delete)]
    assert unprotected == []
    assert all(r.inputs.get("forceDestroy") in (None, False) for r in data)


def test_prod_platform_keys_and_audit_logs_are_protected_and_retained(shipped_plan):
    """The platform's data gets the domain's protection: the key that decrypts every etcd
    Secret and the control plane's audit log group."""
    plan = shipped_plan("aws-platform")
    kept = plan.by_type("aws:kms/key:Key") + plan.by_type("aws:cloudwatch/logGroup:LogGroup")
    assert {r.type for r in kept} == {"aws:kms/key:Key", "aws:cloudwatch/logGroup:LogGroup"}
    assert [r.name for r in kept if not (r.protect and r.retain_on_delete)] == []


def test_prod_gke_secrets_key_is_protected(stacks):
    cfg = {**stacks.shipped("gcp-platform"), "profile": "prod", "environment": "prod"}
    cfg["cluster"] = {**cfg.get("cluster", {}), "publicAccessCidrs": ["203.0.113.0/24"]}
    stacks.write("gcp-prod", with_receivers(cfg))
    keys = stacks.plan("gcp-prod").by_type("gcp:kms/cryptoKey:CryptoKey")
    assert keys and all(r.protect for r in keys)


def test_dev_data_resources_can_be_torn_down(shipped_plan):
    plan = shipped_plan("gcp-marketing")
    buckets = plan.by_type("gcp:storage/bucket:Bucket")
    assert len(buckets) == 5
    assert not any(b.protect or b.retain_on_delete for b in buckets)
    assert plan.by_type("dataplatform:database:InClusterPostgres"), "dev keeps Postgres in-cluster"
    assert not plan.by_type("gcp:sql/databaseInstance:DatabaseInstance")


def test_prod_domain_uses_managed_postgres_in_the_platform_network(shipped_plan):
    platform, domain = shipped_plan("aws-platform"), shipped_plan("aws-finance")
    net = platform.outputs["network"]
    rds = domain.get("aws:rds/subnetGroup:SubnetGroup", "acme-finance-prod-rds-subnets")
    assert rds.inputs["subnetIds"] == net["privateSubnetIds"]
    sg = domain.get("aws:ec2/securityGroup:SecurityGroup", "acme-finance-prod-rds-sg")
    assert sg.inputs["vpcId"] == net["vpcId"]
    inst = domain.get("aws:rds/instance:Instance", "acme-finance-prod-rds-instance")
    assert inst.inputs["deletionProtection"] is True and inst.inputs["multiAz"] is True


def test_pods_may_reach_a_managed_database_in_the_vpc(shipped_plan):
    """External egress leaves out private ranges; a managed Postgres lives in one."""
    policies = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in shipped_plan(
        "aws-finance").by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    rule = policies["allow-private-services"]["egress"][0]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5432}]
    assert {b["ipBlock"]["cidr"] for b in rule["to"]} == {
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}
    local = {r.inputs["metadata"]["name"] for r in shipped_plan("local").by_type(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    assert "allow-private-services" not in local  # in-cluster Postgres: same-domain traffic


@pytest.mark.parametrize("stack,cloud", [("aws-finance", "aws"), ("gcp-marketing", "gcp")])
def test_common_tags_are_provider_defaults(shipped_plan, stack, cloud):
    plan = shipped_plan(stack)
    (provider,) = plan.by_type(f"pulumi:providers:{cloud}")
    raw = provider.inputs["defaultTags" if cloud == "aws" else "defaultLabels"]
    tags = json.loads(raw) if isinstance(raw, str) else raw
    tags = tags.get("tags", tags)
    assert set(tags) == {"customer", "domain", "environment", "owner", "cost-center",
                         "managed-by"}
    assert tags["managed-by"] == "pulumi"
    cloud_resources = [r for r in plan.resources if r.type.startswith(f"{cloud}:")]
    assert cloud_resources and all(r.provider == provider.urn for r in cloud_resources)


def test_app_identity_trusts_the_platform_oidc_provider(stacks):
    cfg = stacks.shipped("aws-finance")
    cfg["apps"] = {"airflow": {"enabled": True}}
    stacks.write("aws-finance", cfg)
    plan = stacks.plan("aws-finance")
    oidc_arn = stacks.plan("aws-platform").outputs["oidcProviderArn"]
    role = plan.get("aws:iam/role:Role", "acme-finance-prod-identities-airflow-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Federated": oidc_arn}
    (sub,) = [v for k, v in trust["Statement"][0]["Condition"]["StringEquals"].items()
              if k.endswith(":sub")]
    assert sub == "system:serviceaccount:acme-finance-prod:airflow"
    sa = plan.get("kubernetes:core/v1:ServiceAccount", "acme-finance-prod-identities-airflow-service-account")
    assert "eks.amazonaws.com/role-arn" in sa.inputs["metadata"]["annotations"]
    assert plan.outputs["serviceAccounts"]["airflow"]["name"] == "airflow"


@pytest.mark.parametrize("stack,change,key,fragment", [
    ("aws-platform", {"region": "eu-west-9"}, "dataplatform:region",
     "unknown aws region 'eu-west-9' (did you mean"),
    ("aws-platform", {"cluster": {"publicAccessCidrs": ["0.0.0.0/0"]}},
     "dataplatform:cluster.publicAccessCidrs", "may not be open to the internet"),
    ("gcp-platform", {"cluster": {"network": {"vpcCidr": "10.44.0.0/16"}}},
     "dataplatform:cluster.network.podCidr", "overlaps vpcCidr"),
    ("aws-finance", {"database": {"backupRetentionDays": 3}},
     "dataplatform:database.backupRetentionDays", "below the 7 days"),
    ("aws-finance", {"storage": {"allowTeardown": True}}, "dataplatform:storage.allowTeardown",
     "prod"),
])
def test_cloud_config_errors(stacks, stack, change, key, fragment):
    cfg = stacks.shipped(stack)
    cfg.update(change)
    stacks.write(stack, cfg)
    with pytest.raises(ConfigError) as info:
        load(stack, stacks.path)
    problem = next(p for p in info.value.problems if p.key == key)
    assert fragment in problem.message


def test_component_rules_run_before_any_resource(stacks, capsys):
    # A pinned version with a release channel is a GKE rule, checked by the component's
    # args in preflight: still exit 2 with the key named, and no resource registered.
    cfg = stacks.shipped("gcp-platform")
    cfg["cluster"] = {**cfg["cluster"], "version": "1.33", "gcp": {"releaseChannel": "REGULAR"}}
    stacks.write("gcp-platform", cfg)
    assert cli.main(["plan", "gcp-platform", "--stacks-dir", str(stacks.path)]) == 2
    err = capsys.readouterr().err
    assert "Pulumi.gcp-platform.yaml" in err and "dataplatform:cluster.version" in err
