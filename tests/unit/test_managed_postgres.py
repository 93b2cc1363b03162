"""The managed metadata Postgres (RDS, Cloud SQL) and the `database` config section.

Each component runs under the Pulumi SDK's mock engine with a monitor that records every
registration as the engine would receive it: type, name, parent, provider, protect,
retainOnDelete and the inputs with secrets still wrapped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await
from pydantic import ValidationError
from receivers import with_receivers

from components._k8s import secret_env
from components.cloud_provider import cloud_provider
from components.database._provision import provision_job
from components.database.cloudsql import CloudSqlPostgres, CloudSqlPostgresArgs
from components.database.incluster_postgres import InClusterPostgres, InClusterPostgresArgs
from components.database.rds import RdsPostgres, RdsPostgresArgs
from dataplatform.plan.mocks import PlatformMocks
from dataplatform.resolve import site
from dataplatform.resolve.domain import database
from foundation.config import ConfigError, parse_stack_config
from foundation.config.database import DatabaseConfig, database_mode, database_rules
from foundation.config.stack import StackConfig

pytestmark = pytest.mark.unit

APPS = ("airbyte", "airflow", "metabase")
NAMESPACE = "acme-finance-prod"
VPC_ID = "vpc-0a1b2c3d4e5f60718"
SUBNETS = ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722", "subnet-0a1b2c3d4e5f60733"]
CLUSTER_SG = "sg-0cafe0cafe0cafe01"
VPC_LINK = ("https://www.googleapis.com/compute/v1/projects/acme-data-prod/global/networks/"
            "acme-finance-prod")
PW_MARK = "Zq9MockPw"  # every mocked generated password starts with this
BASE = {"kind": "domain", "cluster": {"mode": "dedicated"}, "customer": "acme",
        "domain": "finance", "environment": "prod", "profile": "prod",
        "owner": "finance-data", "costCenter": "cc-4711"}
AWS = {**BASE, "cloud": "aws", "region": "eu-west-1"}
GCP = {**BASE, "cloud": "gcp", "region": "europe-west1", "gcpProject": "acme-data-prod"}
REASON = "Lab tenant, rebuilt nightly from the lake."  # prod in-cluster states why
LOCAL = {**BASE, "cloud": "local", "profile": "dev", "environment": "dev",
         "cluster": {"mode": "dedicated", "kubeContext": "kind-dataplatform"}}


def config(base: dict[str, Any], **database: Any) -> StackConfig:
    return StackConfig.model_validate(
        with_receivers({**base, "database": database} if database else base))


def unchecked(base: dict[str, Any], **database: Any) -> StackConfig:
    """A config whose database section skipped the stack model's cross-section rules, to
    test the rule function on its own."""
    return StackConfig.model_validate(with_receivers(base)).model_copy(
        update={"database": DatabaseConfig.model_validate(database)})


# --- the recording engine ------------------------------------------------------------------

@dataclass
class Reg:
    type: str
    name: str
    parent: str
    provider: str
    protect: bool
    retain_on_delete: bool
    replace_on_changes: list[str]
    inputs: dict[str, Any]


class Recorder(MockMonitor):
    """MockMonitor keeping each registration, secrets still wrapped."""

    def __init__(self, mocks):
        super().__init__(mocks)
        self.regs: list[Reg] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)  # also ensures an event loop
        self.regs.append(Reg(request.type, request.name, request.parent, request.provider,
                             request.protect, request.retainOnDelete,
                             list(request.replaceOnChanges),
                             rpc.deserialize_properties(request.object)))
        return response

    def of(self, type_: str) -> list[Reg]:
        return [r for r in self.regs if r.type == type_]

    def one(self, type_: str) -> Reg:
        found = self.of(type_)
        assert len(found) == 1, f"{len(found)} resources of type {type_}"
        return found[0]


def mock_password(name: str) -> str:
    return PW_MARK + hashlib.sha256(name.encode()).hexdigest()[:23]


class Mocks(PlatformMocks):
    """The platform's mocks, plus a known value for each generated password."""

    def new_resource(self, args):
        id_, state = super().new_resource(args)
        if args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = mock_password(args.name)
        return id_, state


def run(program) -> tuple[Recorder, dict[str, Any]]:
    """Run `program(captured)` under the mocks; `captured` collects resolved outputs."""
    mocks = Mocks()
    monitor = Recorder(mocks)
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="dataplatform", stack="t", preview=True,
                             monitor=monitor)
    captured: dict[str, Any] = {}

    def main():
        program(captured)

    _sync_await(run_pulumi_func(main))
    return monitor, captured


def capture(captured: dict[str, Any], key: str, output: pulumi.Input) -> None:
    pulumi.Output.from_input(output).apply(lambda v: captured.__setitem__(key, v))


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def unwrap(value: Any) -> Any:
    """The value with every secret wrapper removed."""
    if is_secret(value):
        return unwrap(value.get("value"))
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def strings(value: Any, *, in_secrets: bool) -> list[str]:
    """Strings outside (in_secrets=False) or inside (True) secret wrappers."""
    if is_secret(value):
        return strings(value.get("value"), in_secrets=False) if in_secrets else []
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (
            [k] if isinstance(k, str) and not in_secrets else []) +
            strings(v, in_secrets=in_secrets)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v, in_secrets=in_secrets)]
    return [value] if isinstance(value, str) and not in_secrets else []


def provider_of(reg: Reg) -> str:
    """`<provider type>::<name>` of a registration's provider reference (`<urn>::<id>`)."""
    urn = reg.provider.rsplit("::", 1)[0]
    return urn.rsplit("$", 1)[-1]


def mock_id(reg: Reg) -> str:
    """The id the platform mocks gave a resource."""
    return PlatformMocks().outputs[reg.type](reg.inputs, reg.name)["id"]


def mock_output(mon: Recorder, type_: str, key: str) -> Any:
    """What the platform mocks add as `key` to the one resource of `type_`."""
    reg = mon.one(type_)
    return PlatformMocks().outputs[type_](reg.inputs, reg.name)[key]


def outputs_of(component, captured: dict[str, Any]) -> None:
    for key in ("host", "port", "instance_id"):
        capture(captured, key, getattr(component, key))
    for db, conn in component.connections.items():
        capture(captured, f"conn:{db}", pulumi.Output.all(**conn.as_dict()))


# --- the plans -------------------------------------------------------------------------------

def resolved(cfg: StackConfig):
    """The database Args the resolve step makes for `cfg`, before the cluster wiring."""
    return database(cfg, site(cfg), list(APPS))


def rds_args(cfg: StackConfig, k8s_provider: pulumi.ProviderResource | None,
             **sources: Any) -> RdsPostgresArgs:
    args = resolved(cfg)
    assert isinstance(args, RdsPostgresArgs)
    return dataclasses.replace(args, k8s_provider=k8s_provider, vpc_id=VPC_ID,
                               subnet_ids=SUBNETS, **sources)


def rds_program(cfg: StackConfig, **sources):
    sources = sources or {"allowed_security_group_ids": [CLUSTER_SG]}

    def program(captured):
        provider = cloud_provider("t", site(cfg), pulumi.ResourceOptions())
        cluster = k8s.Provider("k8s", kubeconfig="{}")
        args = rds_args(cfg, cluster, **sources)
        outputs_of(RdsPostgres("db", args, pulumi.ResourceOptions(providers=[provider])),
                   captured)
    return program


def cloudsql_program(cfg: StackConfig):
    def program(captured):
        provider = cloud_provider("t", site(cfg), pulumi.ResourceOptions())
        cluster = k8s.Provider("k8s", kubeconfig="{}")
        args = resolved(cfg)
        assert isinstance(args, CloudSqlPostgresArgs)
        args = dataclasses.replace(args, k8s_provider=cluster, network=VPC_LINK)
        outputs_of(CloudSqlPostgres("db", args, pulumi.ResourceOptions(providers=[provider])),
                   captured)
    return program


@pytest.fixture(scope="module")
def aws_plan():
    return run(rds_program(config(AWS)))


@pytest.fixture(scope="module")
def gcp_plan():
    return run(cloudsql_program(config(GCP)))


# --- shared contract ------------------------------------------------------------------------

def check_credentials(mon: Recorder, host: str) -> None:
    """One `<app>-db-credentials` Secret per app, in the namespace, stringData secret."""
    secrets = {r.inputs["metadata"]["name"]: r for r in mon.of("kubernetes:core/v1:Secret")}
    for app in APPS:
        s = secrets[f"{app}-db-credentials"]
        assert s.inputs["metadata"]["namespace"] == NAMESPACE
        assert is_secret(s.inputs["stringData"])
        data = unwrap(s.inputs["stringData"])
        assert set(data) == {"host", "port", "database", "username", "password"}
        assert (data["host"], data["port"], data["database"], data["username"]) == \
            (host, "5432", app, app)
        assert data["password"].startswith(PW_MARK)
        assert provider_of(s) == "pulumi:providers:kubernetes::k8s"


def check_no_plaintext_password(mon: Recorder) -> None:
    plain = [s for r in mon.regs for s in strings(r.inputs, in_secrets=False)]
    assert not [s for s in plain if PW_MARK in s]
    # Not vacuous: every generated password is in the plan, inside a secret.
    hidden = {s for r in mon.regs for s in strings(r.inputs, in_secrets=True)}
    generated = mon.of("random:index/randomPassword:RandomPassword")
    assert len(generated) >= len(APPS)
    assert {mock_password(r.name) for r in generated} <= hidden


def check_outputs(captured: dict[str, Any], host: str, instance_id: str) -> None:
    assert (captured["host"], captured["port"], captured["instance_id"]) == \
        (host, 5432, instance_id)
    for app in APPS:
        assert captured[f"conn:{app}"] == {"host": host, "port": 5432, "database": app,
                                           "user": app, "secret_name": f"{app}-db-credentials"}


# --- RDS -------------------------------------------------------------------------------------

RDS_HOST_SUFFIX = ".eu-west-1.rds.amazonaws.com"


def test_rds_instance_is_encrypted_multi_az_backed_up_and_private(aws_plan):
    mon, _ = aws_plan
    db = mon.one("aws:rds/instance:Instance").inputs
    key = mon.one("aws:kms/key:Key").inputs
    assert db["engine"] == "postgres" and db["engineVersion"] == "16"
    assert db["storageEncrypted"] is True
    assert db["kmsKeyId"].startswith("arn:aws:kms:eu-west-1:123456789012:key/")
    assert db["performanceInsightsKmsKeyId"] == db["kmsKeyId"]
    assert key["enableKeyRotation"] is True
    assert db["multiAz"] is True
    assert db["backupRetentionPeriod"] >= 7
    assert db["deletionProtection"] is True
    assert db["publiclyAccessible"] is False
    assert db["skipFinalSnapshot"] is False
    assert db["finalSnapshotIdentifier"] == "acme-finance-prod-postgres-final"
    assert db["identifier"] == "acme-finance-prod-postgres"
    assert db["instanceClass"] == "db.m7g.large"  # profiles/database.yaml, prod/aws
    assert (db["allocatedStorage"], db["maxAllocatedStorage"]) == (50, 500)
    assert db["performanceInsightsEnabled"] is True
    assert db["copyTagsToSnapshot"] is True and db["autoMinorVersionUpgrade"] is True
    assert db["allowMajorVersionUpgrade"] is False
    assert is_secret(db["password"]) and unwrap(db["password"]).startswith(PW_MARK)
    sg = mon.one("aws:ec2/securityGroup:SecurityGroup")
    assert db["vpcSecurityGroupIds"] == [mock_id(sg)] and mock_id(sg) != CLUSTER_SG
    assert sg.inputs["vpcId"] == VPC_ID
    assert db["dbSubnetGroupName"] == mon.one("aws:rds/subnetGroup:SubnetGroup").inputs["name"]
    assert mon.one("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"] == SUBNETS


def test_rds_forces_tls_on_the_pinned_major_version(aws_plan):
    mon, _ = aws_plan
    params = mon.one("aws:rds/parameterGroup:ParameterGroup").inputs
    assert params["family"] == "postgres16"
    assert {p["name"]: p["value"] for p in params["parameters"]}["rds.force_ssl"] == "1"
    assert mon.one("aws:rds/instance:Instance").inputs["parameterGroupName"] == params["name"]


def test_rds_instance_and_key_are_protected_and_retained(aws_plan):
    mon, _ = aws_plan
    for type_ in ("aws:rds/instance:Instance", "aws:kms/key:Key"):
        reg = mon.one(type_)
        assert reg.protect and reg.retain_on_delete, type_


def test_rds_security_group_admits_only_5432_from_the_cluster(aws_plan):
    mon, _ = aws_plan
    sg = mon.one("aws:ec2/securityGroup:SecurityGroup").inputs
    assert sg["ingress"] == [{"protocol": "tcp", "fromPort": 5432, "toPort": 5432,
                              "securityGroups": [CLUSTER_SG],
                              "description": "Postgres from the cluster's security group"}]
    assert sg["egress"] == []


def test_rds_security_group_with_node_cidrs_only():
    mon, _ = run(rds_program(config(AWS), allowed_cidrs=["10.40.0.0/16"]))
    rules = mon.one("aws:ec2/securityGroup:SecurityGroup").inputs["ingress"]
    assert len(rules) == 1
    assert (rules[0]["fromPort"], rules[0]["toPort"], rules[0]["protocol"]) == (5432, 5432, "tcp")
    assert rules[0]["cidrBlocks"] == ["10.40.0.0/16"] and "securityGroups" not in rules[0]


def test_rds_refuses_an_open_or_missing_source():
    cfg = config(AWS)

    def program(captured):
        cluster = k8s.Provider("k8s", kubeconfig="{}")
        # No source at all: the component refuses before it registers anything.
        with pytest.raises(ValueError, match="needs a source allowed to connect") as exc:
            RdsPostgres("db", rds_args(cfg, cluster))
        captured["no source"] = str(exc.value)

    mon, captured = run(program)
    assert "no source" in captured  # the program ran to the check
    assert [r.type for r in mon.regs] == ["pulumi:pulumi:Stack", "pulumi:providers:kubernetes"]
    # An internet-wide CIDR: the Args refuse it, also when replaced onto resolved Args.
    with pytest.raises(ValueError, match="open the database to any address"):
        rds_args(cfg, None, allowed_cidrs=["0.0.0.0/0"])


def test_rds_children_use_the_given_providers_and_no_hand_set_tags(aws_plan):
    mon, _ = aws_plan
    top = [r for r in mon.regs if not r.parent.endswith("dataplatform:database:RdsPostgres::db")]
    assert sorted(r.type for r in top) == ["dataplatform:database:RdsPostgres",
                                           "pulumi:providers:aws", "pulumi:providers:kubernetes",
                                           "pulumi:pulumi:Stack"]
    for r in mon.regs:
        if r.type.startswith("aws:"):
            assert provider_of(r) == "pulumi:providers:aws::t-aws", r.type
            assert "tags" not in r.inputs, r.type
        if r.type.startswith("kubernetes:"):
            assert provider_of(r) == "pulumi:providers:kubernetes::k8s", r.type


def test_rds_writes_one_secret_per_app(aws_plan):
    mon, _ = aws_plan
    host = mock_output(mon, "aws:rds/instance:Instance", "address")
    assert host.startswith("acme-finance-prod-postgres.") and host.endswith(RDS_HOST_SUFFIX)
    check_credentials(mon, host)
    secrets = {r.inputs["metadata"]["name"]: r for r in mon.of("kubernetes:core/v1:Secret")}
    assert sorted(secrets) == sorted([*(f"{a}-db-credentials" for a in APPS),
                                      "postgres-superuser"])
    admin = secrets["postgres-superuser"].inputs
    assert admin["metadata"]["namespace"] == NAMESPACE and is_secret(admin["stringData"])
    assert unwrap(admin["stringData"]) == {
        "host": host, "port": "5432", "username": "dbadmin",
        "password": mock_password("db-master-password")}


def test_rds_never_records_a_password_in_plaintext(aws_plan):
    check_no_plaintext_password(aws_plan[0])


def test_rds_provisioning_job_reads_passwords_from_secrets(aws_plan):
    mon, _ = aws_plan
    job = mon.one("kubernetes:batch/v1:Job")
    assert job.inputs["metadata"]["namespace"] == NAMESPACE
    assert provider_of(job) == "pulumi:providers:kubernetes::k8s"
    assert job.replace_on_changes == ["spec"]
    container = job.inputs["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    for var, key in (("PGHOST", "host"), ("PGUSER", "username"), ("PGPASSWORD", "password")):
        assert env[var] == secret_env(var, "postgres-superuser", key)
    for i, app in enumerate(APPS):
        assert env[f"PW{i}"] == secret_env(f"PW{i}", f"{app}-db-credentials", "password")
    assert env["PGSSLMODE"]["value"] == "require"
    assert all("valueFrom" in e for n, e in env.items() if n.startswith(("PW", "PGPASS")))
    script = container["command"][-1]
    for app in APPS:
        assert f"CREATE ROLE \"{app}\" LOGIN' WHERE NOT EXISTS" in script
        assert f"GRANT \"{app}\" TO CURRENT_USER;" in script
        assert f"CREATE DATABASE \"{app}\" OWNER \"{app}\"' WHERE NOT EXISTS" in script
    assert script.count("ALTER ROLE") == len(APPS) and ":'pw'" in script
    assert PW_MARK not in str(job.inputs)


def test_rds_outputs(aws_plan):
    mon, captured = aws_plan
    host = mock_output(mon, "aws:rds/instance:Instance", "address")
    check_outputs(captured, host, "acme-finance-prod-postgres")


def test_rds_sizes_follow_the_overrides():
    cfg = config(AWS, instanceClass="db.r7g.xlarge", backupRetentionDays=14, storageGb=800,
                 postgresVersion="17")
    mon, _ = run(rds_program(cfg))
    db = mon.one("aws:rds/instance:Instance").inputs
    assert (db["instanceClass"], db["backupRetentionPeriod"]) == ("db.r7g.xlarge", 14)
    assert (db["allocatedStorage"], db["maxAllocatedStorage"]) == (800, 1600)
    assert db["engineVersion"] == "17"
    assert mon.one("aws:rds/parameterGroup:ParameterGroup").inputs["family"] == "postgres17"


# --- Cloud SQL --------------------------------------------------------------------------------

def test_cloudsql_is_private_regional_backed_up_and_protected(gcp_plan):
    mon, _ = gcp_plan
    reg = mon.one("gcp:sql/databaseInstance:DatabaseInstance")
    db, s = reg.inputs, reg.inputs["settings"]
    assert reg.protect and reg.retain_on_delete
    assert db["databaseVersion"] == "POSTGRES_16" and db["name"] == "acme-finance-prod-postgres"
    assert db["deletionProtection"] is True and s["deletionProtectionEnabled"] is True
    assert s["availabilityType"] == "REGIONAL"
    assert s["tier"] == "db-custom-2-7680" and s["edition"] == "ENTERPRISE"
    ip = s["ipConfiguration"]
    assert ip["ipv4Enabled"] is False and "authorizedNetworks" not in ip
    assert ip["privateNetwork"] == VPC_LINK and ip["sslMode"] == "ENCRYPTED_ONLY"
    backup = s["backupConfiguration"]
    assert backup["enabled"] is True and backup["pointInTimeRecoveryEnabled"] is True
    assert backup["transactionLogRetentionDays"] == 7  # PITR over the whole week
    # Cloud SQL rejects as many days of logs as backups: one more backup is kept.
    assert backup["backupRetentionSettings"] == {"retainedBackups": 8, "retentionUnit": "COUNT"}
    assert s["diskAutoresize"] is True and s["diskAutoresizeLimit"] == 500
    assert {"name": "log_connections", "value": "on"} in s["databaseFlags"]
    # Default labels do not reach Cloud SQL: the same labels are set explicitly.
    assert s["userLabels"]["cost-center"] == "cc-4711"


def test_cloudsql_backups_follow_the_retention():
    mon, _ = run(cloudsql_program(config(GCP, backupRetentionDays=30, tier="db-custom-4-15360")))
    s = mon.one("gcp:sql/databaseInstance:DatabaseInstance").inputs["settings"]
    assert s["tier"] == "db-custom-4-15360"
    backup = s["backupConfiguration"]
    assert backup["transactionLogRetentionDays"] == 7
    assert backup["backupRetentionSettings"]["retainedBackups"] == 30


def test_cloudsql_uses_private_services_access(gcp_plan):
    mon, _ = gcp_plan
    address = mon.one("gcp:compute/globalAddress:GlobalAddress").inputs
    peering = mon.one("gcp:servicenetworking/connection:Connection").inputs
    assert address["purpose"] == "VPC_PEERING" and address["addressType"] == "INTERNAL"
    assert address["network"] == VPC_LINK and peering["network"] == VPC_LINK
    assert peering["service"] == "servicenetworking.googleapis.com"
    assert peering["reservedPeeringRanges"] == [address["name"]]
    ip = mon.one("gcp:sql/databaseInstance:DatabaseInstance").inputs["settings"]
    assert ip["ipConfiguration"]["allocatedIpRange"] == address["name"]


def test_cloudsql_creates_users_natively_and_one_secret_per_app(gcp_plan):
    mon, _ = gcp_plan
    host = mock_output(mon, "gcp:sql/databaseInstance:DatabaseInstance", "privateIpAddress")
    assert host.startswith("10.")
    check_credentials(mon, host)
    assert sorted(r.inputs["name"] for r in mon.of("gcp:sql/database:Database")) == list(APPS)
    users = mon.of("gcp:sql/user:User")
    assert sorted(u.inputs["name"] for u in users) == list(APPS)
    assert all(is_secret(u.inputs["password"]) for u in users)
    assert not mon.of("kubernetes:batch/v1:Job")
    assert len(mon.of("kubernetes:core/v1:Secret")) == len(APPS)


def test_cloudsql_never_records_a_password_in_plaintext(gcp_plan):
    check_no_plaintext_password(gcp_plan[0])


def test_cloudsql_outputs_and_providers(gcp_plan):
    mon, captured = gcp_plan
    host = mock_output(mon, "gcp:sql/databaseInstance:DatabaseInstance", "privateIpAddress")
    check_outputs(captured, host, "acme-finance-prod-postgres")
    for r in mon.regs:
        if r.type.startswith("gcp:sql") or r.type.startswith("gcp:compute"):
            assert provider_of(r) == "pulumi:providers:gcp::t-gcp", r.type
            assert "labels" not in r.inputs, r.type


# --- the shared provisioning Job -------------------------------------------------------------

def test_provision_helper_reproduces_the_in_cluster_job():
    """The in-cluster Job, rebuilt by the helper with the one-line call, is identical."""
    from components._values import typed_settings
    from components.database.incluster_postgres import SUPERUSER_SECRET, UID, PostgresSettings

    def program(_):
        InClusterPostgres("ic", InClusterPostgresArgs(namespace="ns", databases=list(APPS),
                                                      profile="dev", labels={"a": "b"}))
        settings = typed_settings("postgres", "dev", PostgresSettings)
        provision_job(
            "helper-provision", namespace="ns", databases=list(APPS), image=settings.image,
            resources=settings.job_resources.model_dump(),
            labels={"a": "b", "app.kubernetes.io/name": "postgres"}, uid=UID,
            admin_env=[secret_env("PGPASSWORD", SUPERUSER_SECRET, "password"),
                       {"name": "PGHOST", "value": "postgres"},
                       {"name": "PGUSER", "value": "postgres"}],
            opts=pulumi.ResourceOptions())

    mon, _ = run(program)
    jobs = {r.name: r for r in mon.of("kubernetes:batch/v1:Job")}
    assert jobs["helper-provision"].inputs == jobs["ic-provision"].inputs
    assert jobs["helper-provision"].replace_on_changes == jobs["ic-provision"].replace_on_changes


def test_provision_helper_rejects_names_that_are_not_identifiers():
    from components.database._provision import provision_script

    with pytest.raises(ValueError, match="not plain SQL identifiers"):
        provision_script(["ok", "x'; DROP ROLE y; --"])


# --- the `database` config section -----------------------------------------------------------

@pytest.mark.parametrize(("base", "mode", "expected"), [
    (AWS, "auto", "managed"),
    (GCP, "auto", "managed"),
    ({**AWS, "profile": "dev", "environment": "dev"}, "auto", "in-cluster"),
    (LOCAL, "auto", "in-cluster"),
    (AWS, "in-cluster", "in-cluster"),
    ({**GCP, "profile": "dev", "environment": "dev"}, "managed", "managed"),
])
def test_database_mode(base, mode, expected):
    reason = {"inClusterReason": REASON} if (base["profile"], mode) == ("prod", "in-cluster") \
        else {}
    assert database_mode(config(base, mode=mode, **reason)) == expected


def test_defaults():
    db = config(AWS).database
    assert (db.mode, db.instance_class, db.tier, db.backup_retention_days,
            db.postgres_version, db.storage_gb) == ("auto", None, None, 7, "16", 50)
    assert database_rules(config(AWS)) == []


@pytest.mark.parametrize(("base", "database", "key", "message"), [
    (AWS, {"backupRetentionDays": 3}, "database.backupRetentionDays",
     "3 days is below the 7 days profile 'prod' requires"),
    (GCP, {"backupRetentionDays": 6}, "database.backupRetentionDays",
     "6 days is below the 7 days profile 'prod' requires"),
    (LOCAL, {"mode": "managed"}, "database.mode",
     "database.mode 'managed' needs cloud aws or gcp, not 'local'"),
    (AWS, {"tier": "db-custom-2-7680"}, "database.tier",
     "database.tier sizes a managed database on cloud 'gcp'"),
    (GCP, {"instanceClass": "db.m7g.large"}, "database.instanceClass",
     "database.instanceClass sizes a managed database on cloud 'aws'"),
    (AWS, {"mode": "in-cluster", "instanceClass": "db.m7g.large", "inClusterReason": REASON},
     "database.instanceClass",
     "this stack's database is in-cluster on 'aws'"),
])
def test_cross_section_rules(base, database, key, message):
    problems = database_rules(unchecked(base, **database))
    assert [k for k, _ in problems] == [key]
    assert message in problems[0][1]
    with pytest.raises(ValueError, match=re.escape(key) + r": .*" + re.escape(message)):
        config(base, **database)  # the stack model reports it with the file's others


@pytest.mark.parametrize(("base", "database", "message"), [
    (AWS, {"backupRetentionDays": 3}, "3 days is below the 7 days profile 'prod' requires"),
    (GCP, {"backupRetentionDays": 3}, "3 days is below the 7 days profile 'prod' requires"),
    (AWS, {"tier": "db-custom-2-7680"}, "database.tier sizes a managed database"),
])
def test_the_stack_model_raises_the_rules(base, database, message):
    # Model rules: StackConfig refuses them, and the stack file loader reports them under
    # their `database.` key.
    with pytest.raises(ValidationError, match=message):
        config(base, **database)
    data = {f"dataplatform:{k}": v for k, v in {**base, "database": database}.items()}
    with pytest.raises(ConfigError) as err:
        parse_stack_config({"config": data}, "Pulumi.t.yaml")
    found = [p.key for p in err.value.problems if message in p.message]
    assert len(found) == 1 and found[0].startswith("dataplatform:database."), \
        err.value.problems


def test_dev_may_keep_fewer_backups():
    assert database_rules(config({**AWS, "profile": "dev", "environment": "dev"},
                                 mode="managed", backupRetentionDays=3)) == []


def test_the_database_follows_the_cloud_and_mode():
    # The resolve step picks the implementation: RDS on aws, Cloud SQL on gcp, in-cluster
    # whenever the mode resolves to it.
    rds, sql = resolved(config(AWS)), resolved(config(GCP))
    assert type(rds) is RdsPostgresArgs and type(sql) is CloudSqlPostgresArgs
    for args, cfg in ((rds, config(AWS)), (sql, config(GCP))):
        assert (args.namespace, tuple(args.databases)) == (NAMESPACE, APPS)
        assert args.labels == site(cfg).k8s_labels
    assert sql.user_labels == site(config(GCP)).gcp_labels
    for cfg in (config(AWS, mode="in-cluster", inClusterReason=REASON),
                config(GCP, mode="in-cluster", inClusterReason=REASON),
                config({**AWS, "profile": "dev", "environment": "dev"}), config(LOCAL)):
        args = resolved(cfg)
        assert type(args) is InClusterPostgresArgs, cfg.cloud
        assert list(args.databases) == list(APPS)
        assert args.namespace == cfg.naming.namespace()


@pytest.mark.parametrize(("database", "loc", "fragment"), [
    ({"backupRetentionDays": 0}, "backupRetentionDays", "greater than or equal to 1"),
    ({"backupRetentionDays": 36}, "backupRetentionDays", "less than or equal to 35"),
    ({"postgresVersion": "16.4"}, "postgresVersion", "should match pattern"),
    ({"postgresVersion": 16}, "postgresVersion", "valid string"),
    ({"storageGb": 10}, "storageGb", "greater than or equal to 20"),
    ({"instanceClass": "m7g.large"}, "instanceClass", "should match pattern"),
    ({"mode": "cloud"}, "mode", "'auto', 'managed' or 'in-cluster'"),
    ({"maxConnections": 100}, "maxConnections", "Extra inputs are not permitted"),
])
def test_field_validation(database, loc, fragment):
    with pytest.raises(ValidationError) as err:
        config(AWS, **database)
    errors = err.value.errors()
    assert [e["loc"] for e in errors] == [("database", loc)]
    assert fragment in errors[0]["msg"]


def test_only_airbyte_may_create_databases() -> None:
    """Airbyte's Temporal creates its own databases at startup; other apps may not."""
    from components.database._provision import provision_script

    script = provision_script(["airbyte", "airflow"])
    assert 'ALTER ROLE "airbyte" WITH LOGIN CREATEDB PASSWORD' in script
    assert 'ALTER ROLE "airflow" WITH LOGIN PASSWORD' in script
