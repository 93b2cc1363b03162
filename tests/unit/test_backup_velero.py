"""Backups that exist: Velero installed by the stack that owns the cluster, with its bucket
and identity per cloud, on by default in prod, and a Schedule per in-cluster store."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from components._values import static_values
from components.backup import STORES, VeleroArgs
from components.backup._aws import velero_policy
from components.backup._values import computed_values
from foundation.chartkeys import key_index
from foundation.charts import chart_pin
from foundation.config import ConfigError, load_stack_config
from foundation.config.backup import VeleroConfig

pytestmark = pytest.mark.unit

RELEASE = "kubernetes:helm.sh/v3:Release"
SCHEDULE = "kubernetes:velero.io/v1:Schedule"
S3_BUCKET = "aws:s3/bucket:Bucket"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
NAME = "app.kubernetes.io/name"


def velero_release(plan) -> Any:
    (release,) = [r for r in plan.by_type(RELEASE) if r.inputs["name"] == "velero"]
    return release


def schedules(plan) -> dict[str, dict]:
    return {r.inputs["metadata"]["name"]: r.inputs for r in plan.by_type(SCHEDULE)}


def containers_resources(values: dict) -> dict[str, Any]:
    """Every container the chart runs with these values, and its resources."""
    out = {"velero": values.get("resources"), "upgrade-crds": values.get("upgradeJobResources")}
    if values.get("deployNodeAgent"):
        out["node-agent"] = values["nodeAgent"].get("resources")
    out.update({c["name"]: c.get("resources") for c in values.get("initContainers") or []})
    return out


def with_backup(stacks, stack: str, name: str, **velero: Any):
    stacks.write(name, {**stacks.shipped(stack), "backup": {"velero": velero}})
    return stacks.plan(name)


# --- on by default in prod, off in dev

def test_prod_platform_installs_velero_with_schedules_naming_the_stores(shipped_plan):
    plan = shipped_plan("aws-platform")
    release = velero_release(plan)
    pin = chart_pin("velero")
    assert (release.inputs["chart"], release.inputs["version"]) == ("velero", pin.version)
    assert release.inputs["repositoryOpts"]["repo"] == "https://vmware-tanzu.github.io/helm-charts"
    assert release.inputs["namespace"] == "velero"
    found = schedules(plan)
    assert sorted(found) == [f"acme-platform-prod-{s}" for s in
                             ("kafka", "opensearch", "postgres", "prometheus")]
    for store, spec in ((n.rsplit("-", 1)[1], s["spec"]) for n, s in found.items()):
        template = spec["template"]
        assert template["labelSelector"] == {"matchLabels": {NAME: store}}
        assert template["storageLocation"] == "default"
        assert template["defaultVolumesToFsBackup"] is True
        assert spec["useOwnerReferencesInBackup"] is False  # deleting the stack keeps backups
        assert "velero" in template["excludedNamespaces"]
    assert found["acme-platform-prod-prometheus"]["spec"]["template"][
        "includedNamespaces"] == ["monitoring"]
    assert found["acme-platform-prod-postgres"]["spec"]["template"]["includedNamespaces"] == ["*"]


@pytest.mark.parametrize("stack", ["gcp-platform", "local", "aws-finance"])
def test_no_velero_in_dev_or_on_a_shared_cluster_unless_set(shipped_plan, stack):
    plan = shipped_plan(stack)
    assert plan.by_type(SCHEDULE) == []
    assert [r for r in plan.by_type(RELEASE) if r.inputs["name"] == "velero"] == []


def test_a_dedicated_dev_domain_backs_up_exactly_its_stores(stacks):
    plan = with_backup(stacks, "local", "local-backed-up", enabled=True)
    # In-cluster Postgres, the MinIO lake, DataHub's Kafka and OpenSearch; dev Prometheus
    # has no volume.
    assert sorted(schedules(plan)) == [f"acme-marketing-dev-{s}" for s in
                                       ("kafka", "minio", "opensearch", "postgres")]
    (sched,) = [s for n, s in schedules(plan).items() if n.endswith("-minio")]
    assert sched["metadata"]["labels"]["dataplatform.io/domain"] == "marketing"


# --- per cloud: release, bucket, identity

def test_aws_bucket_is_the_lakes_kind_and_protected_in_prod(shipped_plan):
    plan = shipped_plan("aws-platform")
    (bucket,) = [b for b in plan.by_type(S3_BUCKET) if "backup" in b.name]
    assert bucket.inputs["bucket"] == "acme-platform-prod-velero"
    assert (bucket.protect, bucket.retain_on_delete) == (True, True)
    assert not bucket.inputs.get("forceDestroy")
    kinds = {r.type.rsplit(":", 1)[1] for r in plan.resources if r.name.startswith(
        "acme-platform-prod-backup-bucket-backups-")}
    assert {"BucketVersioning", "BucketServerSideEncryptionConfiguration",
            "BucketPublicAccessBlock", "BucketPolicy"} <= kinds
    values = velero_release(plan).inputs["values"]
    (location,) = values["configuration"]["backupStorageLocation"]
    assert location == {"name": "default", "provider": "aws", "default": True,
                        "bucket": "acme-platform-prod-velero",
                        "config": {"region": "eu-west-1"}}


def test_aws_identity_is_irsa_scoped_to_the_bucket(shipped_plan):
    plan = shipped_plan("aws-platform")
    role = plan.get("aws:iam/role:Role", "acme-platform-prod-backup-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]
    assert "system:serviceaccount:velero:velero" in json.dumps(trust)
    policy = json.loads(plan.get("aws:iam/policy:Policy",
                                 "acme-platform-prod-backup-policy").inputs["policy"])
    resources = {r for s in policy["Statement"] for r in s["Resource"]}
    bucket = "arn:aws:s3:::acme-platform-prod-velero"
    assert resources - {bucket, f"{bucket}/*"} == {
        r for r in resources if r.startswith("arn:aws:kms:")}  # the bucket's key only
    assert not any(a.startswith("ec2:") for s in policy["Statement"] for a in s["Action"])
    values = velero_release(plan).inputs["values"]
    annotations = values["serviceAccount"]["server"]["annotations"]
    assert annotations["eks.amazonaws.com/role-arn"].endswith(
        ":role/acme-platform-prod-velero")
    assert values["credentials"] == {"useSecret": False}


def test_aws_snapshot_mode_grants_ebs_snapshots_of_the_region_only():
    policy = json.loads(velero_policy("arn:aws:s3:::b", None, "eu-west-1", snapshots=True))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["SnapshotAndRestoreVolumes"]["Resource"] == [
        "arn:aws:ec2:eu-west-1:*:volume/*", "arn:aws:ec2:eu-west-1::snapshot/*"]
    delete = by_sid["DeleteItsSnapshots"]
    assert delete["Condition"] == {"Null": {"aws:ResourceTag/velero.io/backup": "false"}}
    # Describe* takes no resource ARN in IAM: held to the region instead.
    assert by_sid["DescribeVolumes"]["Condition"] == {
        "StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    assert "ec2:" not in json.dumps(json.loads(velero_policy("arn:aws:s3:::b", None,
                                                             "eu-west-1", snapshots=False)))
    # what the prod guardrail `iam-no-wildcards` judges: nothing to flag
    from policy.policy_helpers import guardrails

    iam = guardrails("iam")
    assert list(iam.wildcards(policy)) == []


def test_aws_snapshot_mode_configures_a_snapshot_location_and_no_node_agent(stacks):
    plan = with_backup(stacks, "aws-platform", "aws-snap", volumeBackup="snapshot")
    values = velero_release(plan).inputs["values"]
    assert values["snapshotsEnabled"] is True and values["deployNodeAgent"] is False
    assert values["configuration"]["volumeSnapshotLocation"] == [
        {"name": "default", "provider": "aws", "config": {"region": "eu-west-1"}}]
    ns = plan.get("kubernetes:core/v1:Namespace", "acme-platform-prod-backup-namespace")
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert all(s["spec"]["template"]["snapshotVolumes"] for s in schedules(plan).values())


def test_gcp_bucket_and_workload_identity(stacks):
    plan = with_backup(stacks, "gcp-platform", "gcp-backed-up", enabled=True,
                       volumeBackup="snapshot")
    (bucket,) = [b for b in plan.by_type(GCS_BUCKET) if "backup" in b.name]
    assert bucket.inputs["name"] == "acme-platform-dev-velero"
    assert (bucket.protect, bucket.retain_on_delete) == (False, False)  # dev
    (grant,) = plan.by_type("gcp:storage/bucketIAMMember:BucketIAMMember")
    assert (grant.inputs["bucket"], grant.inputs["role"]) == (
        "acme-platform-dev-velero", "roles/storage.objectUser")
    gsa = plan.get("gcp:serviceaccount/account:Account", "acme-platform-dev-backup-gsa")
    assert gsa.inputs["accountId"] == "acme-platform-dev-velero"
    members = {(r.inputs["role"], r.inputs["member"])
               for r in plan.by_type("gcp:serviceaccount/iAMMember:IAMMember")
               if r.name.startswith("acme-platform-dev-backup")}
    assert ("roles/iam.workloadIdentityUser",
            "serviceAccount:acme-data-dev.svc.id.goog[velero/velero]") in members
    role = plan.get("gcp:projects/iAMCustomRole:IAMCustomRole",
                    "acme-platform-dev-backup-snapshot-role")
    assert "compute.disks.createSnapshot" in role.inputs["permissions"]
    assert not any(p.startswith("storage.") for p in role.inputs["permissions"])
    values = velero_release(plan).inputs["values"]
    (location,) = values["configuration"]["backupStorageLocation"]
    assert (location["provider"], location["bucket"]) == ("gcp", "acme-platform-dev-velero")
    assert location["config"]["serviceAccount"].startswith("acme-platform-dev-velero@")
    assert values["serviceAccount"]["server"]["annotations"][
        "iam.gke.io/gcp-service-account"] == location["config"]["serviceAccount"]
    assert values["initContainers"][0]["image"].startswith(
        "docker.io/velero/velero-plugin-for-gcp:v")


def test_local_minio_credentials_are_a_secret_referenced_by_name(stacks):
    plan = with_backup(stacks, "local", "local-minio", enabled=True)
    secrets = [r for r in plan.by_type("kubernetes:core/v1:Secret")
               if r.inputs["metadata"]["namespace"] == "velero"]
    (secret,) = secrets
    assert secret.inputs["metadata"]["name"] == "minio-credentials"
    values = velero_release(plan).inputs["values"]
    env = {e["name"]: e["valueFrom"]["secretKeyRef"]
           for e in values["configuration"]["extraEnvVars"]}
    assert env == {"AWS_ACCESS_KEY_ID": {"name": "minio-credentials", "key": "rootUser"},
                   "AWS_SECRET_ACCESS_KEY": {"name": "minio-credentials",
                                             "key": "rootPassword"}}
    assert values["credentials"] == {"useSecret": False}
    (location,) = values["configuration"]["backupStorageLocation"]
    assert location["bucket"] == "acme-marketing-dev-velero"
    assert location["config"]["s3Url"] == "http://minio.velero.svc.cluster.local:9000"
    assert values["initContainers"][0]["name"] == "velero-plugin-for-aws"
    assert secret.inputs["stringData"] == "[secret]"  # generated, a secret output


# --- values: every key known to the pinned chart, every container sized

@pytest.mark.parametrize("cloud", ["aws", "gcp", "local"])
@pytest.mark.parametrize("profile", ["dev", "prod"])
@pytest.mark.parametrize("mode", ["fs", "snapshot"])
def test_values_keys_exist_and_every_container_is_sized(cloud, profile, mode):
    index = key_index("velero", chart_pin("velero").version)
    assert index is not None, "chart-keys/velero-<version>.json is missing"
    computed = computed_values(cloud, profile, "eu-west-1", "p", mode, "bucket",
                               {"a": "b"}, "gsa@p.iam.gserviceaccount.com",
                               ("http://minio:9000", "minio-credentials"))
    values = {**static_values("velero", profile), **computed}
    assert index.unknown(static_values("velero", profile)) == []
    assert index.unknown(computed) == []
    sized = containers_resources(values)
    assert set(sized) >= {"velero", "upgrade-crds", f"velero-plugin-for-"
                          f"{'gcp' if cloud == 'gcp' else 'aws'}"}
    assert ("node-agent" in sized) is (mode == "fs")
    for name, res in sized.items():
        assert res and all(res.get(k, {}).get(q) for k in ("requests", "limits")
                           for q in ("cpu", "memory")), name
    assert all(":" in c["image"] and not c["image"].endswith(":latest")
               for c in values["initContainers"])


# --- validation

def problems(stacks, stack: str, velero: dict[str, Any]) -> dict[str, str]:
    stacks.write("bad", {**stacks.shipped(stack), "backup": {"velero": velero}})
    with pytest.raises(ConfigError) as exc:
        load_stack_config("bad", stacks.path)
    return {p.key: p.message for p in exc.value.problems}


def test_prod_turns_backups_off_only_with_a_reason(stacks):
    found = problems(stacks, "aws-platform", {"enabled": False})
    assert list(found) == ["dataplatform:backup.velero.enabled"]
    assert "disabledReason" in found["dataplatform:backup.velero.enabled"]
    plan = with_backup(stacks, "aws-platform", "no-backups", enabled=False,
                       disabledReason="restored from the lake; no in-cluster state kept")
    assert plan.by_type(SCHEDULE) == [] and not [
        r for r in plan.by_type(S3_BUCKET) if "velero" in r.inputs["bucket"]]


@pytest.mark.parametrize(("stack", "velero"), [
    ("gcp-platform", {"disabledReason": "a dev cluster with nothing to keep"}),
    ("gcp-platform", {"enabled": False, "disabledReason": "dev is off by default anyway"}),
    ("aws-platform", {"enabled": True, "disabledReason": "contradicts enabled true"}),
    ("aws-finance", {"enabled": False, "disabledReason": "the platform stack backs up"}),
])
def test_a_reason_where_nothing_is_turned_off_is_refused(stacks, stack, velero):
    assert list(problems(stacks, stack, velero)) == ["dataplatform:backup.velero.disabledReason"]


@pytest.mark.parametrize(("velero", "key"), [
    ({"enabled": False, "disabledReason": "short"}, "disabledReason"),
    ({"enabled": "sometimes"}, "enabled"),
    ({"volumeBackup": "restic"}, "volumeBackup"),
])
def test_bad_values_name_the_key(stacks, velero, key):
    assert list(problems(stacks, "aws-platform", velero)) == [
        f"dataplatform:backup.velero.{key}"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"cloud": "gcp", "project": None}, "needs the project"),
    ({"cloud": "aws", "identity_name": ""}, "needs region and identity_name"),
    ({"cloud": "local", "profile": "prod"}, "no in-cluster MinIO"),
    ({"stores": ()}, "no stores"),
])
def test_velero_args_refuse_what_cannot_be_built(changes, message):
    args = {"base": "acme-platform-dev", "settings": VeleroConfig(), "profile": "dev",
            "cloud": "gcp", "bucket": "b", "stores": (STORES["postgres"],),
            "identity_name": "acme-platform-dev-velero", "region": "europe-west1",
            "project": "p", **changes}
    with pytest.raises(ValueError, match=message):
        VeleroArgs(**args)


# --- the restore runbook (docs/backup-restore.md): its commands match what is deployed

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "backup-restore.md"
GLOBAL_FLAGS = {"-n", "--namespace", "-o", "--output"}
VELERO_CLI: dict[tuple[str, ...], set[str]] = {  # velero 1.18's subcommands and flags used
    ("schedule", "get"): {"-l", "--selector"},
    ("backup", "get"): {"-l", "--selector"},
    ("backup-location", "get"): set(),
    ("backup", "create"): {"--from-schedule", "--wait", "--include-namespaces", "-l",
                           "--selector"},
    ("backup", "describe"): {"--details"},
    ("backup", "logs"): set(),
    ("restore", "create"): {"--from-backup", "--include-namespaces", "--namespace-mappings",
                            "-l", "--selector", "--existing-resource-policy", "--wait"},
    ("restore", "describe"): {"--details"},
}
SELECTOR_FLAGS = {"-l", "--selector"}


def runbook_commands(tool: str) -> list[list[str]]:
    text = RUNBOOK.read_text()
    lines = [line for lang, body in re.findall(r"^```(\w+)\n(.*?)^```", text, re.S | re.M)
             if lang == "bash" for line in body.splitlines()]
    return [shlex.split(line) for line in lines if line.startswith(f"{tool} ")]


def selector_store(selector: str) -> str | None:
    key, _, value = selector.partition("=")
    if key == NAME:
        return next(s.name for s in STORES.values() if s.selector[NAME] == value)
    if key in ("velero.io/schedule-name", "dataplatform.io/store"):
        return value.rsplit("-", 1)[-1]
    return None


def test_runbook_velero_commands_use_real_flags_and_the_deployed_names():
    commands = runbook_commands("velero")
    assert len(commands) >= 8
    namespace = VeleroConfig().namespace
    for cmd in commands:
        sub = tuple(cmd[1:3])
        assert sub in VELERO_CLI, f"velero {' '.join(sub)}: not a command the runbook knows"
        flags = dict(zip(cmd[3:], [*cmd[4:], ""], strict=True))
        for flag, value in flags.items():
            if not flag.startswith("-"):
                continue
            assert flag in VELERO_CLI[sub] | GLOBAL_FLAGS, f"velero {' '.join(sub)} {flag}"
            if flag in ("-n", "--namespace"):
                assert value == namespace
            if flag == "--from-schedule" or flag in SELECTOR_FLAGS:
                store = (value.rsplit("-", 1)[-1] if flag == "--from-schedule"
                         else selector_store(value))
                assert store in STORES, f"{' '.join(cmd)}: no Schedule for {store}"
        assert "-n" in flags, f"{' '.join(cmd)}: Velero's namespace is not the CLI default"


def test_runbook_kubectl_selectors_find_the_stores():
    selectors = [cmd[cmd.index("-l") + 1] for cmd in runbook_commands("kubectl") if "-l" in cmd]
    assert selectors and all(selector_store(s) in STORES for s in selectors)


def test_runbook_settings_are_keys_of_the_model():
    block = re.search(r"```yaml\n(.*?)```", RUNBOOK.read_text(), re.S)
    assert block is not None
    velero = yaml.safe_load(block.group(1))["config"]["dataplatform:backup"]["velero"]
    VeleroConfig.model_validate(velero)  # strict model: a misspelt key fails
