"""The dbt runners: config rules, settings, the CronJob spec in detail, profiles.yml per
warehouse type, the artifacts upload (its shell run for real), and no secret in the plan."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from golden_files import assert_golden

from components._values import typed_settings
from components.apps.dbt import _pod as pod
from components.apps.dbt._profiles import (
    domain_postgres_output,
    render_profiles,
    warehouse_output,
)
from components.apps.dbt._settings import DbtSettings
from components.apps.dbt.names import ARTIFACT_FILES, artifact_prefix, latest_prefix
from dataplatform.plan.engine import SECRET, plan_stack
from foundation.config import ConfigError, parse_stack_config
from foundation.config.dbt import cron_problem
from foundation.config.loader import STACKS_DIR
from foundation.config.secrets import PLACEHOLDER
from foundation.config.warehouse import WarehouseConfig
from foundation.quantity import parse_quantity

pytestmark = pytest.mark.unit

CRONJOB = "kubernetes:batch/v1:CronJob"
SECRET_T, CONFIGMAP, SA = ("kubernetes:core/v1:Secret", "kubernetes:core/v1:ConfigMap",
                           "kubernetes:core/v1:ServiceAccount")
KEY = {"secure": "v1:c2VjcmV0:ZmFrZQ=="}
JOB = {"name": "daily", "schedule": "0 6 * * *", "command": "dbt build --select tag:daily"}
PROJECT = {"name": "jaffle", "gitUrl": "https://github.com/dbt-labs/jaffle-shop.git",
           "jobs": [JOB]}
PRIVATE = {"name": "finance", "gitUrl": "git@github.com:acme/finance-dbt.git",
           "gitSshKey": KEY, "revision": "v1.2.0", "subPath": "transform/dbt",
           "target": "prod", "jobs": [{**JOB, "name": "hourly", "schedule": "@hourly",
                                       "timeoutMinutes": 20}]}
WAREHOUSES = {
    "postgres": {"type": "postgres", "host": "wh.example.com", "database": "analytics",
                 "user": "dbt", "password": KEY},
    "redshift": {"type": "redshift", "host": "wh.example.com", "database": "analytics",
                 "user": "dbt", "password": KEY},
    "snowflake": {"type": "snowflake", "account": "acme-eu", "database": "ANALYTICS",
                  "user": "DBT", "password": KEY, "computeWarehouse": "TRANSFORM"},
    "bigquery": {"type": "bigquery", "project": "acme-data-dev"},
}
_PLANS: dict[str, object] = {}


def shipped(stack: str) -> dict:
    data = yaml.safe_load((STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k.split(":", 1)[1]: v for k, v in data.items() if k.startswith("dataplatform:")}


def with_dbt(base: str, projects: list, **extra) -> dict:
    return {**shipped(base), "apps": {"dbt": {"enabled": True, "projects": projects}}, **extra}


@pytest.fixture(scope="module")
def plan_of(tmp_path_factory):
    """Plan of a variant stack (cached): name -> (shipped base, config)."""
    folder = tmp_path_factory.mktemp("stacks")
    for f in STACKS_DIR.glob("Pulumi.*.yaml"):
        (folder / f.name).write_text(f.read_text())

    def get(name: str, config: dict):
        if name not in _PLANS:
            body = {"config": {f"dataplatform:{k}": v for k, v in config.items()}}
            (folder / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
            _PLANS[name] = plan_stack(name, folder)
        return _PLANS[name]

    return get


@pytest.fixture
def local(plan_of):
    return plan_of("local-dbt", with_dbt("local", [PROJECT, PRIVATE]))


def cronjob(plan, name: str) -> dict:
    (found,) = [r for r in plan.by_type(CRONJOB) if r.inputs["metadata"]["name"] == name]
    return found.inputs


def pod_of(cj: dict) -> dict:
    return cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def containers(spec: dict) -> dict[str, dict]:
    return {c["name"]: c for c in [*spec["initContainers"], *spec["containers"]]}


def env(container: dict) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


# --- config --------------------------------------------------------------------------------

def problems(projects: list | None, **dbt) -> list[tuple[str, str]]:
    cfg = {**shipped("local"), "apps": {"dbt": {"enabled": True, **dbt,
                                                **({"projects": projects} if projects else {})}}}
    with pytest.raises(ConfigError) as info:
        parse_stack_config({"config": {f"dataplatform:{k}": v for k, v in cfg.items()}}, "t")
    return [(p.key, p.message) for p in info.value.problems]


def job(**changes) -> list:
    return [{**PROJECT, "jobs": [{**JOB, **changes}]}]


@pytest.mark.parametrize(("projects", "key", "fragment"), [
    (job(schedule="0 6 * *"), "jobs.0.schedule", "it has 4 field(s), not 5"),
    (job(schedule="0 6 * * 7"), "jobs.0.schedule", "7 is outside 0-6"),
    (job(schedule="*/0 * * * *"), "jobs.0.schedule", "step in '*/0' is 0"),
    (job(schedule="CRON_TZ=UTC 0 6 * * *"), "jobs.0.schedule", "time zones are not allowed"),
    (job(command="dbt"), "jobs.0.command", "must be a dbt command"),
    (job(command="make models"), "jobs.0.command", "must be a dbt command"),
    (job(command="dbt run && rm -rf /"), "jobs.0.command", "without shell operators"),
    (job(command="dbt run $(cat x)"), "jobs.0.command", "without shell operators"),
    (job(command="dbt docs serve"), "jobs.0.command", "web server"),
    (job(timeoutMinutes=0), "jobs.0.timeoutMinutes", "greater than or equal to 1"),
    (job(name="Daily"), "jobs.0.name", "not a valid name"),
    ([{**PROJECT, "jobs": [JOB, JOB]}], "jobs.1.name", "listed twice"),
    ([PROJECT, PROJECT], "name", "listed twice"),
    ([{**PROJECT, "jobs": []}], "jobs", "has no jobs"),
    ([{**PROJECT, "name": "a" * 25, "jobs": [{**JOB, "name": "b" * 25}]}], "jobs.0.name",
     "longer than 52 characters"),
    ([{**PROJECT, "gitUrl": "git@github.com:acme/x.git"}], "gitSshKey", "needs gitSshKey"),
    ([{**PROJECT, "gitSshKey": KEY}], "gitSshKey", "for ssh URLs only"),
    ([{**PROJECT, "gitUrl": "https://user:tok@github.com/a/b.git"}], "gitUrl", "credentials"),
    ([{**PROJECT, "gitUrl": "ftp://x/y"}], "gitUrl", "not an https:// or ssh Git URL"),
    ([{**PROJECT, "image": "ghcr.io/dbt-labs/dbt-postgres"}], "image", "not a pinned image"),
    ([{**PROJECT, "subPath": "../other"}], "subPath", "relative folder"),
    ([{**PROJECT, "gitSshKey": "-----BEGIN KEY-----", "gitUrl": "git@h.com:a/b.git"}],
     "gitSshKey", "must be a Pulumi secret"),
])
def test_config_errors_name_the_key(projects, key, fragment):
    found = problems(projects)
    index = "1" if projects == [PROJECT, PROJECT] else "0"
    wanted = f"dataplatform:apps.dbt.projects.{index}.{key}"
    assert any(k == wanted and fragment in m for k, m in found), found


def test_enabled_without_projects_is_refused():
    assert problems(None) == [("dataplatform:apps.dbt.projects",
                               "dbt is enabled but lists no projects: add one with its gitUrl "
                               "and jobs, or disable apps.dbt")]


def test_patches_are_refused_not_ignored():
    patch = {"target": {"kind": "CronJob", "name": "dbt-jaffle-daily"}, "type": "strategic",
             "patch": {"spec": {"suspend": True}}}
    found = problems([PROJECT], patches=[patch])
    assert [k for k, _ in found] == ["dataplatform:apps.dbt.patches"], found


@pytest.mark.parametrize("schedule", ["0 6 * * *", "*/15 * * * *", "0 6 * * MON-FRI",
                                      "30 2 1,15 * ?", "0 0 1 JAN-MAR *", "@daily", "5 4 * * 0"])
def test_valid_schedules(schedule):
    assert cron_problem(schedule) is None


def test_project_defaults():
    cfg = parse_stack_config({"config": {f"dataplatform:{k}": v for k, v in with_dbt(
        "local", [PROJECT]).items()}}, "t")
    (p,) = cfg.apps.dbt.projects
    assert (p.revision, p.sub_path, p.image, p.target, p.git_ssh_key) == ("main", "", None,
                                                                           None, None)
    assert p.jobs[0].timeout_minutes is None


# --- settings (charts-values/dbt) -----------------------------------------------------------

@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_settings_are_pinned_and_sized(profile):
    s = typed_settings("dbt", profile, DbtSettings)
    assert re.fullmatch(r"registry\.k8s\.io/git-sync/git-sync:v4\.\d+\.\d+", s.git_sync.image)
    for r in s.resources.model_dump().values():
        assert {"cpu", "memory"} <= set(r["requests"]) and {"cpu", "memory"} <= set(r["limits"])
    if profile == "dev":  # the dbt container is the pod's effective request (see below)
        req = s.resources.dbt.requests
        assert parse_quantity(req["cpu"]) <= 0.1 and parse_quantity(req["memory"]) <= 256 * 2**20


@pytest.mark.parametrize(("override", "fragment"), [
    ({"gitSync": {"image": "registry.k8s.io/git-sync/git-sync:v3.6.9"}}, "not a git-sync v4"),
    ({"adapterImages": {"postgres": "ghcr.io/dbt-labs/dbt-postgres:latest"}}, "not a pinned"),
    ({"job": {"backoffLimit": -1}}, "greater than or equal to 0"),
])
def test_settings_overrides_are_validated(override, fragment):
    with pytest.raises(ValueError, match=fragment):
        typed_settings("dbt", "dev", DbtSettings, override)


# --- the CronJob --------------------------------------------------------------------------

def test_cronjob_spec_golden(local, plan_of):
    assert_golden("dbt/cronjob-local", cronjob(local, "dbt-jaffle-daily"))
    assert_golden("dbt/cronjob-local-private", cronjob(local, "dbt-finance-hourly"))
    aws = plan_of("aws-dbt", with_dbt("aws-finance", [PROJECT]))
    assert_golden("dbt/cronjob-aws-prod", cronjob(aws, "dbt-jaffle-daily"))
    gcp = plan_of("gcp-dbt", with_dbt("gcp-marketing", [PROJECT]))
    assert_golden("dbt/cronjob-gcp-dev", cronjob(gcp, "dbt-jaffle-daily"))


def test_cronjob_schedule_and_job_limits(local):
    cj = cronjob(local, "dbt-jaffle-daily")
    spec, job_spec = cj["spec"], cj["spec"]["jobTemplate"]["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"]) == (
        "0 6 * * *", "Etc/UTC", "Forbid")
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (1, 2)
    assert spec["startingDeadlineSeconds"] == 600
    assert (job_spec["backoffLimit"], job_spec["activeDeadlineSeconds"]) == (0, 3600)
    assert pod_of(cj)["restartPolicy"] == "Never"
    assert cronjob(local, "dbt-finance-hourly")["spec"]["jobTemplate"]["spec"][
        "activeDeadlineSeconds"] == 20 * 60  # timeoutMinutes
    assert cronjob(local, "dbt-finance-hourly")["spec"]["schedule"] == "@hourly"


def test_labels_on_cronjob_job_and_pod(local):
    cj = cronjob(local, "dbt-jaffle-daily")
    wanted = {"app.kubernetes.io/name": "dbt", "dataplatform/dbt-project": "jaffle",
              "dataplatform/dbt-job": "daily"}
    for labels in (cj["metadata"]["labels"], cj["spec"]["jobTemplate"]["metadata"]["labels"],
                   cj["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]):
        assert wanted.items() <= labels.items()


def test_containers_run_in_order_pinned_and_hardened(local):
    spec = pod_of(cronjob(local, "dbt-jaffle-daily"))
    assert [c["name"] for c in spec["initContainers"]] == ["git-sync", "dbt"]
    assert [c["name"] for c in spec["containers"]] == ["upload"]
    sync, dbt = spec["initContainers"]
    assert re.fullmatch(r"registry\.k8s\.io/git-sync/git-sync:v4\.\d+\.\d+", sync["image"])
    assert {"--one-time", "--repo=https://github.com/dbt-labs/jaffle-shop.git", "--ref=main",
            "--root=/work/git", "--link=repo"} <= set(sync["args"])
    assert dbt["image"] == "ghcr.io/dbt-labs/dbt-postgres:1.9.0"
    assert "{ dbt deps && dbt build --select tag:daily; }" in dbt["command"][2]
    assert dbt["workingDir"] == env(dbt)["DBT_PROJECT_DIR"] == "/work/git/repo"
    psc = spec["securityContext"]
    assert psc["runAsNonRoot"] is True and psc["runAsUser"] > 0 and psc["fsGroup"] > 0
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    for c in containers(spec).values():
        assert c["securityContext"] == {"allowPrivilegeEscalation": False,
                                        "readOnlyRootFilesystem": True,
                                        "capabilities": {"drop": ["ALL"]}}, c["name"]
        assert c["image"].split(":")[-1] not in ("", "latest")
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        assert {"/tmp", "/work"} <= mounts  # the writable places of a read-only root
    vols = {v["name"]: v for v in spec["volumes"]}
    assert vols["work"] == {"name": "work", "emptyDir": {}}


def test_every_container_sized_and_dev_pod_within_budget(local):
    spec = pod_of(cronjob(local, "dbt-jaffle-daily"))
    for c in containers(spec).values():
        r = c["resources"]
        assert {"cpu", "memory"} <= set(r["requests"]) and {"cpu", "memory"} <= set(r["limits"])

    def total(cs, res):
        return [sum(parse_quantity(c["resources"]["requests"][res]) for c in cs)]

    # Effective pod request: max(any init container, sum of the main containers).
    for res, budget in (("cpu", 0.1), ("memory", 256 * 2**20)):
        effective = max([parse_quantity(c["resources"]["requests"][res])
                         for c in spec["initContainers"]] + total(spec["containers"], res))
        assert effective <= budget, res


@pytest.mark.parametrize(("variant", "base", "uri", "image"), [
    ("local-dbt", "local", "lake/acme-marketing-dev-artifacts", "quay.io/minio/mc:"),
    ("aws-dbt", "aws-finance", "s3://acme-finance-prod-artifacts", "public.ecr.aws/aws-cli/"),
    ("gcp-dbt", "gcp-marketing", "gs://acme-marketing-dev-artifacts", "gcr.io/google.com/"),
])
def test_upload_path_and_identity_per_cloud(plan_of, variant, base, uri, image):
    plan = plan_of(variant, with_dbt(base, [PROJECT] if base != "local" else [PROJECT, PRIVATE]))
    upload = containers(pod_of(cronjob(plan, "dbt-jaffle-daily")))["upload"]
    assert env(upload)["ARTIFACTS_URI"] == f"{uri}/{artifact_prefix('jaffle', 'daily')}"
    assert upload["image"].startswith(image)
    assert '"$ARTIFACTS_URI/$(cat /work/status/started-at)"' in upload["command"][2]
    assert pod_of(cronjob(plan, "dbt-jaffle-daily"))["serviceAccountName"] == "dbt"
    own_sa = [r for r in plan.by_type(SA) if "dataplatform:apps:DbtRunners" in r.urn]
    assert len(own_sa) == (1 if base == "local" else 0)  # cloud: the workload-identity SA
    assert [r.inputs["metadata"]["name"] for r in plan.by_type(SA)].count("dbt") == 1
    if base == "local":
        assert env(upload)["MINIO_ROOT_PASSWORD"] == {
            "secretKeyRef": {"name": "minio-credentials", "key": "rootPassword"}}


def test_private_repository_gets_its_deploy_key_from_a_secret(local):
    spec = pod_of(cronjob(local, "dbt-finance-hourly"))
    sync = containers(spec)["git-sync"]
    assert {"--ref=v1.2.0", "--ssh-key-file=/etc/git-secret/ssh",
            "--ssh-known-hosts-file=/etc/git-secret/known_hosts"} <= set(sync["args"])
    vols = {v["name"]: v for v in spec["volumes"]}
    assert vols["git-secret"]["secret"] == {"secretName": "dbt-finance-git", "defaultMode": 0o400}
    (key,) = [r for r in local.by_type(SECRET_T) if r.name.endswith("-dbt-finance-git")]
    assert key.inputs["stringData"] == SECRET
    (cj,) = [r for r in local.by_type(CRONJOB) if r.name.endswith("-dbt-finance-hourly")]
    assert key.urn in cj.depends_on  # the key exists before the first run
    assert env(containers(spec)["dbt"])["DBT_TARGET"] == "prod"
    assert containers(spec)["dbt"]["workingDir"] == "/work/git/repo/transform/dbt"


def test_no_plaintext_secret(local):
    text = json.dumps([r.as_json() for r in local.resources])
    assert PLACEHOLDER not in text
    (profiles,) = [r for r in local.by_type(SECRET_T) if r.name.endswith("-dbt-profiles")]
    assert profiles.inputs["stringData"] == SECRET
    dbt = containers(pod_of(cronjob(local, "dbt-jaffle-daily")))["dbt"]
    assert env(dbt)["DBT_ENV_SECRET_PASSWORD"] == {
        "secretKeyRef": {"name": "dbt-db-credentials", "key": "password"}}


def test_pod_template_for_airflow_matches_the_cronjob(local):
    (cm,) = [r for r in local.by_type(CONFIGMAP) if r.name.endswith("-dbt-pod-template")]
    assert cm.inputs["metadata"]["name"] == "dbt-pod-template"
    assert set(cm.inputs["data"]) == {"jaffle.yaml", "finance.yaml"}
    template = yaml.safe_load(cm.inputs["data"]["jaffle.yaml"])
    run = pod_of(cronjob(local, "dbt-jaffle-daily"))
    (base,) = template["spec"]["containers"]
    dbt = containers(run)["dbt"]
    assert base["name"] == "base" and "command" not in base  # the operator sets cmds
    for key in ("image", "env", "volumeMounts", "resources", "workingDir", "securityContext"):
        assert base[key] == dbt[key], key
    for key in ("serviceAccountName", "securityContext", "volumes"):
        assert template["spec"][key] == run[key], key
    assert template["spec"]["initContainers"] == [containers(run)["git-sync"]]


# --- profiles.yml per warehouse type ------------------------------------------------------

@pytest.mark.parametrize("kind", [*WAREHOUSES, "domain-postgres"])
def test_profiles_yml_per_warehouse_type(kind):
    if kind == "domain-postgres":
        output = domain_postgres_output(2, managed=False)
    else:
        output = warehouse_output(WarehouseConfig.model_validate(WAREHOUSES[kind]), 2)
    text = render_profiles(output, ["prod"], "dev")
    assert_golden(f"dbt/profiles-{kind}", yaml.safe_load(text))
    assert "v1:" not in text and "secure" not in text
    profile = yaml.safe_load(text)["dataplatform"]
    assert profile["target"] == "dev" and set(profile["outputs"]) == {"dev", "prod"}
    if kind == "bigquery":
        assert profile["outputs"]["dev"]["method"] == "oauth" and "password" not in text
    else:
        assert profile["outputs"]["dev"]["password"] == "{{ env_var('DBT_ENV_SECRET_PASSWORD') }}"


@pytest.mark.parametrize("kind", list(WAREHOUSES))
def test_warehouse_plan(plan_of, kind):
    base = "gcp-marketing" if kind == "bigquery" else "local"
    plan = plan_of(f"wh-{kind}", with_dbt(base, [PROJECT], warehouse=WAREHOUSES[kind]))
    dbt = containers(pod_of(cronjob(plan, "dbt-jaffle-daily")))["dbt"]
    assert dbt["image"] == f"ghcr.io/dbt-labs/dbt-{kind}:1.9.0"
    assert not [r for r in plan.by_type(SECRET_T) if r.name.endswith("-dbt-credentials")]
    (profiles,) = [r for r in plan.by_type(SECRET_T) if r.name.endswith("-dbt-profiles")]
    assert profiles.inputs["stringData"] == SECRET
    password = env(dbt).get("DBT_ENV_SECRET_PASSWORD")
    assert password == (None if kind == "bigquery" else {
        "secretKeyRef": {"name": "dbt-profiles", "key": "warehouse-password"}})
    assert PLACEHOLDER not in json.dumps([r.as_json() for r in plan.resources])


def test_bigquery_needs_gcp(tmp_path):
    cfg = with_dbt("local", [PROJECT], warehouse=WAREHOUSES["bigquery"])
    (tmp_path / "Pulumi.bq.yaml").write_text(yaml.safe_dump(
        {"config": {f"dataplatform:{k}": v for k, v in cfg.items()}}))
    with pytest.raises(ConfigError, match=r"warehouse.type: .* needs cloud 'gcp'"):
        plan_stack("bq", tmp_path)


# --- lifecycle ----------------------------------------------------------------------------

def test_disabling_dbt_removes_all_its_resources(local, plan_of):
    off = plan_of("local-no-apps", {k: v for k, v in shipped("local").items() if k != "apps"})
    names_on = {(r.type, r.name) for r in local.resources}
    names_off = {(r.type, r.name) for r in off.resources}
    added = names_on - names_off
    assert added and all("dbt" in name for _, name in added), added
    assert not [n for _, n in names_off if "dbt" in n]
    assert not off.by_type("dataplatform:apps:DbtRunners") and not off.by_type(CRONJOB)


# --- the scripts, run by sh with stand-in dbt and mc ------------------------------------------

def run_pod(tmp_path: Path, command: str, fail: bool) -> tuple[int, str, list[str]]:
    bin_dir, root = tmp_path / "bin", tmp_path / "root"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    fake_dbt = (f'echo "dbt $*" >> {log}\n'
                f'out="${{DBT_TARGET_PATH}}"; case "$*" in *docs*) out={root}/work/docs;; esac\n'
                'case "$1" in deps) exit 0;; esac\n'
                'mkdir -p "$out" && echo {} > "$out/manifest.json" && echo {} > '
                '"$out/run_results.json"\n'
                'case "$*" in *docs*) echo {} > "$out/catalog.json";; esac\n'
                f'exit {7 if fail else 0}\n')
    for tool, body in (("dbt", fake_dbt), ("mc", f'echo "mc $*" >> {log}\n')):
        (bin_dir / tool).write_text("#!/bin/sh\n" + body)
        (bin_dir / tool).chmod(0o755)
    envs = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "DBT_TARGET_PATH": f"{root}/work/target", "ARTIFACTS_URI": "lake/b/dbt/p/j"}

    def sh(script: str) -> subprocess.CompletedProcess:
        return subprocess.run(["/bin/sh", "-c", script.replace("/work", f"{root}/work")],
                              env=envs, capture_output=True, text=True, timeout=30)

    sh(pod.dbt_script(command)).check_returncode()  # always 0: the upload must run
    up = sh(pod.upload_script(pod.Uploader("mc", [], "", "mc cp --quiet")))
    return up.returncode, up.stdout, log.read_text().splitlines()


def test_successful_run_uploads_all_artifacts(tmp_path):
    rc, _, calls = run_pod(tmp_path, "dbt build --select tag:daily", fail=False)
    assert rc == 0
    assert calls[:3] == ["dbt deps", "dbt build --select tag:daily",
                         f"dbt docs generate --target-path {tmp_path}/root/work/docs"]
    uploads = [c for c in calls if c.startswith("mc cp")]
    assert [c.split("/")[-1] for c in uploads] == [*ARTIFACT_FILES, *ARTIFACT_FILES]
    assert all(re.search(r" lake/b/dbt/p/j/\d{8}T\d{6}Z/", c) for c in uploads[:3]), uploads
    assert all(f" lake/b/{latest_prefix('p', 'j')}/" in c for c in uploads[3:]), uploads


def test_failed_run_uploads_what_exists_and_fails_the_job(tmp_path):
    rc, _, calls = run_pod(tmp_path, "dbt build", fail=True)
    assert rc == 7  # dbt's own exit code, so the Job is marked failed
    assert not [c for c in calls if "docs generate" in c]
    assert [c.split("/")[-1] for c in calls if c.startswith("mc cp")] == [
        "manifest.json", "run_results.json"] * 2  # latest/ keeps the previous catalog
