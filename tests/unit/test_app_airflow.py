"""Airflow (chart airflow 1.18.0) under mocks: merged values, Secrets, wiring and sizing.

Goldens (tests/golden/values/airflow-*.yaml): local dev, gcp dev and aws prod (Celery,
private DAG repository), each with the Secrets created (values masked) and the annotations
of the `airflow` ServiceAccount. OpenLineage to DataHub and the delivery-dependent job hooks
are checked on a hand-made AppContext, so they do not depend on the DataHub app.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pulumi
import pytest
import yaml
from golden_files import assert_golden
from pulumi.runtime.sync_await import _sync_await

from components._values import deep_merge, static_values
from components.apps.airflow import Airflow
from components.apps.airflow import _secrets as sec
from components.apps.airflow._values import (
    AIRFLOW_COMPONENTS,
    DBT_TEMPLATES_DIR,
    DBT_TEMPLATES_ENV,
    DBT_TEMPLATES_VOLUME,
    git_sync,
    lineage_image_warning,
)
from components.apps.context import AppContext
from components.apps.dbt import POD_TEMPLATE as DBT_POD_TEMPLATE
from components.database.connection import DatabaseConnection
from components.helm_app import ArgoCDTarget
from components.lineage.names import LINEAGE_TOKEN_KEY, LINEAGE_TOKEN_SECRET, gms_url
from dataplatform.chartcheck import (
    containers_without_resources,
    iter_components,
    load_chart,
    shared_charts_dir,
    unknown_keys,
)
from dataplatform.plan.engine import SECRET, Plan, run_program
from dataplatform.plan.mocks import PlatformMocks
from dataplatform.resolve import site
from foundation.config.airflow import AirflowConfig, AirflowDags, airflow_rules
from foundation.config.base import RuleViolations
from foundation.config.database import database_mode
from foundation.config.loader import (
    STACKS_DIR,
    ConfigError,
    load_stack_config,
    parse_stack_config,
)
from foundation.config.secrets import offline_config
from foundation.quantity import parse_quantity

pytestmark = pytest.mark.unit

STUB_PASSWORD = "stub-db-password"
SECRET_T = "kubernetes:core/v1:Secret"
HTTPS_REPO = "https://github.com/acme/marketing-dags.git"
SSH_REPO = "git@github.com:acme/finance-dags.git"
KNOWN_HOSTS = "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9o"
# Chart values that would carry a credential inline; ours must never set them.
INLINE_SECRET_KEYS = [("fernetKey",), ("apiSecretKey",), ("jwtSecret",), ("webserverSecretKey",),
                      ("data", "metadataConnection"), ("data", "brokerUrl"),
                      ("redis", "password"), ("flower", "password"),
                      ("dags", "gitSync", "sshKey"), ("webserver", "defaultUser")]
STACKS = {  # test stack -> (shipped stack it copies, apps.airflow)
    "af-local": ("local", {"dags": {"repo": HTTPS_REPO}}),
    "af-gcp": ("gcp-marketing", {"dags": {"repo": HTTPS_REPO, "subPath": "orchestration"}}),
    "af-aws": ("aws-finance", {"executor": "CeleryExecutor", "dags": {
        "repo": SSH_REPO, "branch": "release", "sshKey": {"secure": "v1:ZGVwbG95LWtleQ=="},
        "knownHosts": KNOWN_HOSTS}}),
    "af-aws-k8s": ("aws-finance", {}),
}
_PLANS: dict[str, Plan] = {}
ORIGINAL_DB_PASSWORD = sec.db_password  # before the fixture below stands in for it


HAS_PASSWORD = any(f.name == "password" for f in fields(DatabaseConnection))


@pytest.fixture(autouse=True)
def _db_password(monkeypatch):
    """Until the data layer hands out the app's DB password, stand in for it."""
    if not HAS_PASSWORD:
        monkeypatch.setattr(sec, "db_password", lambda conn: pulumi.Output.secret(STUB_PASSWORD))


def shipped(stack: str) -> dict[str, Any]:
    data = yaml.safe_load((STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k.split(":", 1)[1]: v for k, v in data.items() if k.startswith("dataplatform:")}


@pytest.fixture
def plan(stacks):
    def get(name: str) -> Plan:
        if name not in _PLANS:
            base, airflow = STACKS[name]
            stacks.write(name, {**shipped(base), "apps": {"airflow": {"enabled": True,
                                                                      **airflow}}})
            _PLANS[name] = stacks.plan(name)
        return _PLANS[name]
    return get


def under_airflow(plan: Plan) -> list:
    """Resources whose parent chain reaches the Airflow component."""
    by_urn = {r.urn: r for r in plan.resources}

    def inside(r) -> bool:
        while r is not None:
            if r.type == "dataplatform:apps:Airflow":
                return True
            r = by_urn.get(r.parent)
        return False
    return [r for r in plan.resources if inside(r)]


def values_of(plan: Plan) -> dict[str, Any]:
    for r in under_airflow(plan):
        if r.type == "kubernetes:argoproj.io/v1alpha1:Application":
            return r.inputs["spec"]["source"]["helm"]["valuesObject"]
        if r.type == "kubernetes:helm.sh/v3:Release":
            return r.inputs["values"]
    raise AssertionError("no Airflow chart in the plan")


def secrets_of(plan: Plan) -> dict[str, dict[str, Any]]:
    return {r.inputs["metadata"]["name"]: r.inputs["stringData"]
            for r in under_airflow(plan) if r.type == SECRET_T}


def dig(values: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        values = values.get(key) if isinstance(values, dict) else None
    return values


# --- goldens

@pytest.mark.parametrize(("stack", "golden"), [
    ("af-local", "airflow-local-dev"), ("af-gcp", "airflow-gcp-dev"),
    ("af-aws", "airflow-aws-prod")])
def test_merged_values_golden(plan, stack, golden):
    p = plan(stack)
    sa = [r.inputs["metadata"] for r in p.by_type("kubernetes:core/v1:ServiceAccount")
          if r.inputs["metadata"]["name"] == "airflow"]
    assert_golden(f"values/{golden}", {
        "values": values_of(p), "secrets": secrets_of(p),
        "serviceAccount": {"name": sa[0]["name"], "annotations": sa[0].get("annotations")}
        if sa else None})


# --- secrets: generated once, only ever inside Secrets, referenced by name

@pytest.mark.parametrize("stack", ["af-local", "af-aws"])
def test_generated_credentials_only_go_into_secrets(plan, stack):
    p = plan(stack)
    mine = under_airflow(p)
    kinds = [r.type.split(":")[-1] for r in mine if r.type.startswith("random:")]
    assert kinds.count("RandomBytes") == 1  # the fernet key
    assert kinds.count("RandomPassword") >= 4  # API, JWT, webserver keys, admin password
    for name, data in secrets_of(p).items():
        assert data == SECRET, name  # the provider marks all of stringData secret
    for r in mine:
        if r.type != SECRET_T and not r.type.startswith("random:"):
            assert SECRET not in json.dumps(r.inputs), r.name
    dump = json.dumps(p.as_json())
    assert STUB_PASSWORD not in dump and "offline-placeholder" not in dump
    values = values_of(p)
    assert [k for k in INLINE_SECRET_KEYS if dig(values, k) is not None] == []


def test_stable_keys_are_one_secret_and_protected_in_prod(plan, mock_engine):
    f = Recorder()
    sec.stable_keys(f)
    assert set(f.data[sec.KEYS_SECRET]) == {  # the key names the chart reads
        "fernet-key", "api-secret-key", "jwt-secret", "webserver-secret-key"}
    for stack, protected in (("af-local", False), ("af-aws", True)):
        p = plan(stack)
        values = values_of(p)
        for key in ("fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName",
                    "webserverSecretKeySecretName"):
            assert values[key] == sec.KEYS_SECRET
        assert sec.KEYS_SECRET in secrets_of(p)
        keys = [r for r in under_airflow(p) if r.type.startswith("random:")
                and r.name.endswith(("fernet-key", "api-secret-key", "jwt-secret"))]
        assert len(keys) == 3 and all(r.protect is protected for r in keys), stack


def test_every_referenced_secret_exists(plan):
    external = {"minio-credentials", LINEAGE_TOKEN_SECRET}
    for stack in STACKS:
        p = plan(stack)
        text = json.dumps(values_of(p))
        refs = {v for k, v in _walk(values_of(p)) if k.endswith(("SecretName", "secretName",
                                                                  "sshKeySecret"))}
        assert refs, stack
        assert refs <= set(secrets_of(p)) | external, (stack, refs - set(secrets_of(p)))
        assert "$$(cat /opt/airflow/admin-credentials/password)" in text


def _walk(node: Any, key: str = ""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)
    else:
        yield key, node


# --- metadata database

def test_metadata_db_is_the_domains_postgres(plan):
    for stack, pgbouncer in (("af-local", False), ("af-gcp", False), ("af-aws", True)):
        values = values_of(plan(stack))
        assert values["postgresql"] == {"enabled": False}
        assert values["data"]["metadataSecretName"] == sec.METADATA_SECRET
        assert secrets_of(plan(stack))[sec.METADATA_SECRET] == SECRET
        if pgbouncer:
            assert values["pgbouncer"]["enabled"] is True
            assert values["pgbouncer"]["configSecretName"] == sec.PGBOUNCER_SECRET
            assert (values["pgbouncer"]["metricsExporterSidecar"]["statsSecretName"]
                    == sec.PGBOUNCER_STATS_SECRET)
        else:
            assert "configSecretName" not in values.get("pgbouncer", {})


class Recorder(sec.SecretFactory):
    """Records each Secret's data instead of creating it."""

    def __init__(self):
        self.name, self.data, self.out = "t", {}, sec.AirflowSecrets()

    def password(self, role, length=32, keep=False):
        return pulumi.Output.secret(f"pw-{role}")

    def fernet_key(self):
        return pulumi.Output.secret("fernet")

    def secret(self, role, secret_name, data, *value_keys):
        self.data[secret_name] = data
        self.out.names.update({k: secret_name for k in value_keys})


def resolved(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _sync_await(pulumi.Output.from_input(v).future()) for k, v in data.items()}


def conn() -> DatabaseConnection:
    parts = dict(host="db.internal", port=5432, database="airflow", user="airflow",
                 secret_name="airflow-db-credentials")
    if HAS_PASSWORD:
        parts["password"] = STUB_PASSWORD
    return DatabaseConnection(**{k: pulumi.Output.from_input(v) for k, v in parts.items()})


@pytest.mark.usefixtures("mock_engine")
def test_metadata_uri_direct_in_dev_tls_when_managed():
    for managed, mode in ((False, "disable"), (True, "require")):
        f = Recorder()
        sec.metadata_connection(f, conn(), managed, None)
        assert resolved(f.data[sec.METADATA_SECRET]) == {"connection": (
            f"postgresql://airflow:{STUB_PASSWORD}@db.internal:5432/airflow?sslmode={mode}")}
        assert set(f.out.names) == {"metadataSecretName"}


@pytest.mark.usefixtures("mock_engine")
def test_metadata_uri_through_pgbouncer_which_uses_tls_to_the_managed_db():
    pgb = sec.Pgbouncer("airflow-pgbouncer.ns", 6543, "airflow-metadata", 10, 100)
    f = Recorder()
    sec.metadata_connection(f, conn(), True, pgb)
    assert resolved(f.data[sec.METADATA_SECRET])["connection"] == (
        f"postgresql://airflow:{STUB_PASSWORD}@airflow-pgbouncer.ns:6543/airflow-metadata"
        "?sslmode=disable")
    cfg = resolved(f.data[sec.PGBOUNCER_SECRET])
    assert ("airflow-metadata = host=db.internal dbname=airflow port=5432 pool_size=10"
            in cfg["pgbouncer.ini"])
    assert "server_tls_sslmode = require" in cfg["pgbouncer.ini"]
    assert "stats_users = airflow" in cfg["pgbouncer.ini"]
    assert STUB_PASSWORD not in cfg["pgbouncer.ini"]
    assert cfg["users.txt"] == f'"airflow" "{STUB_PASSWORD}"\n'
    assert resolved(f.data[sec.PGBOUNCER_STATS_SECRET])["connection"].startswith(
        f"postgresql://airflow:{STUB_PASSWORD}@127.0.0.1:6543/pgbouncer")
    with_password = [f.data[sec.METADATA_SECRET]["connection"],
                     f.data[sec.PGBOUNCER_SECRET]["users.txt"],
                     f.data[sec.PGBOUNCER_STATS_SECRET]["connection"]]
    assert all(_sync_await(v.is_secret()) for v in with_password)


@pytest.mark.usefixtures("mock_engine")
def test_fernet_key_is_url_safe_base64():
    out = sec.fernet_key(pulumi.Output.from_input("ab+/cd=="))
    assert _sync_await(out.future()) == "ab-_cd=="


def test_db_password_must_come_from_the_connection(mock_engine):
    with pytest.raises(ValueError, match="carries no password"):
        ORIGINAL_DB_PASSWORD(SimpleNamespace())
    out = ORIGINAL_DB_PASSWORD(SimpleNamespace(password=pulumi.Output.from_input("pw")))
    assert _sync_await(out.is_secret()) is True


# --- executor, DAGs, logs, identity

def test_executor_and_redis(plan):
    local, celery, k8s = (values_of(plan(s)) for s in ("af-local", "af-aws", "af-aws-k8s"))
    assert (local["executor"], local["redis"]["enabled"]) == ("KubernetesExecutor", False)
    assert (k8s["executor"], k8s["redis"]["enabled"]) == ("KubernetesExecutor", False)
    assert (celery["executor"], celery["redis"]["enabled"]) == ("CeleryExecutor", True)
    assert celery["redis"]["passwordSecretName"] == sec.REDIS_SECRET
    assert celery["data"]["brokerUrlSecretName"] == sec.BROKER_SECRET
    assert {sec.REDIS_SECRET, sec.BROKER_SECRET} <= set(secrets_of(plan("af-aws")))
    assert not {sec.REDIS_SECRET, sec.BROKER_SECRET} & set(secrets_of(plan("af-aws-k8s")))


def test_git_sync_public_and_private(plan):
    public = values_of(plan("af-local"))["dags"]["gitSync"]
    assert {k: public[k] for k in ("enabled", "repo", "branch", "ref", "subPath")} == {
        "enabled": True, "repo": HTTPS_REPO, "branch": "main", "ref": "main",
        "subPath": "dags"}
    assert "sshKeySecret" not in public and sec.GIT_SSH_SECRET not in secrets_of(
        plan("af-local"))
    private = values_of(plan("af-aws"))["dags"]["gitSync"]
    assert private["sshKeySecret"] == sec.GIT_SSH_SECRET
    assert private["knownHosts"] == KNOWN_HOSTS and private["ref"] == "release"
    assert secrets_of(plan("af-aws"))[sec.GIT_SSH_SECRET] == SECRET
    assert git_sync(AirflowConfig(enabled=True), {}) == {"enabled": False}


def test_remote_logs_go_to_the_logs_bucket(plan):
    local, gcp, aws = (values_of(plan(s)) for s in ("af-local", "af-gcp", "af-aws"))
    assert local["config"]["logging"]["remote_base_log_folder"] == (
        "s3://acme-marketing-dev-logs/airflow")
    conn = json.loads(local["env"][0]["value"])
    assert conn["extra"]["endpoint_url"].startswith("http://minio.")
    assert {s["envName"]: (s["secretName"], s["secretKey"]) for s in local["secret"]} == {
        "AWS_ACCESS_KEY_ID": ("minio-credentials", "rootUser"),
        "AWS_SECRET_ACCESS_KEY": ("minio-credentials", "rootPassword")}
    assert gcp["config"]["logging"] == {"remote_logging": "True",
                                        "remote_base_log_folder": "gs://acme-marketing-dev-logs/airflow"}
    assert aws["config"]["logging"]["remote_base_log_folder"].startswith("s3://acme-finance-prod")
    assert json.loads(aws["env"][0]["value"]) == {"conn_type": "aws",
                                                  "extra": {"region_name": "eu-west-1"}}
    assert "secret" not in aws and "secret" not in gcp  # workload identity, no keys


def test_airflow_pods_use_the_workload_identity(plan):
    for stack, sa in (("af-local", None), ("af-gcp", "airflow"), ("af-aws", "airflow")):
        values = values_of(plan(stack))
        got = {c: dig(values, (c, "serviceAccount")) for c in AIRFLOW_COMPONENTS}
        want = {c: {"create": False, "name": sa} if sa else None for c in AIRFLOW_COMPONENTS}
        assert got == want, stack


def test_prod_api_server_is_highly_available(plan):
    values = values_of(plan("af-aws"))
    for component in ("apiServer", "scheduler", "pgbouncer"):
        assert values[component]["replicas"] >= 2, component
        assert values[component]["podDisruptionBudget"]["enabled"] is True, component
        spread = values[component]["topologySpreadConstraints"][0]
        assert spread["topologyKey"] == "topology.kubernetes.io/zone", component
    assert values["apiServer"]["service"]["type"] == "ClusterIP"
    assert values["statsd"]["enabled"] is True
    # The chart has no PDB setting for the triggerer: the component makes one (prod only).
    assert values["triggerer"]["replicas"] == 2
    (pdb,) = [r for r in plan("af-aws").by_type("kubernetes:policy/v1:PodDisruptionBudget")
              if r.name.endswith("-airflow-triggerer-pdb")]
    assert pdb.inputs["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {
        "tier": "airflow", "component": "triggerer", "release": "airflow"}}}
    assert not [r for r in plan("af-local").by_type("kubernetes:policy/v1:PodDisruptionBudget")
                if "triggerer" in r.name]


def test_disabled_airflow_has_no_resources(stacks):
    cfg = stacks.shipped("local")
    cfg["apps"]["airflow"] = {"enabled": False}
    stacks.write("no-airflow", cfg)
    p = stacks.plan("no-airflow")
    assert p.by_type("dataplatform:apps:DataHub")  # the other apps stay
    assert not p.by_type("dataplatform:apps:Airflow")
    assert [r.name for r in p.resources if "airflow" in r.name] == []


# --- DataHub lineage and delivery, on a hand-made context

def ctx_plan(enabled: frozenset[str], **config: Any) -> Plan:
    cfg = parse_stack_config({"config": {f"dataplatform:{k}": v for k, v in {
        **shipped("local"), "apps": {"airflow": {"enabled": True}}, **config}.items()}}, "t")
    ns = cfg.naming.namespace()

    def program():
        ctx = AppContext(
            name="t", site=site(cfg), delivery=cfg.delivery, namespace=ns, labels={},
            enabled=enabled, buckets=pulumi.Output.from_input({"logs": "t-logs"}),
            storage_endpoint=pulumi.Output.from_input("http://minio:9000"),
            databases={"airflow": conn()}, service_accounts={},
            argocd=ArgoCDTarget("argocd") if cfg.delivery == "argocd" else None,
            opts=pulumi.ResourceOptions(), pushgateway_url=None,
            managed_database=database_mode(cfg) != "in-cluster", warehouse=cfg.warehouse)
        Airflow("t-airflow", cfg.apps.airflow, ctx, opts=ctx.opts)
        return {}
    return run_program("t", program, PlatformMocks(), config=offline_config(cfg))


def test_openlineage_to_datahub_is_wired_when_datahub_is_on():
    values = values_of(ctx_plan(frozenset({"airflow", "datahub"})))
    env = {e["name"]: e for e in yaml.safe_load(values["extraEnv"])}
    assert env["OPENLINEAGE_URL"]["value"] == (
        gms_url("acme-marketing-dev") + "/openapi/openlineage/")
    assert env["OPENLINEAGE_ENDPOINT"]["value"] == "api/v1/lineage"
    token = env["OPENLINEAGE_API_KEY"]["valueFrom"]["secretKeyRef"]
    assert token == {"name": LINEAGE_TOKEN_SECRET, "key": LINEAGE_TOKEN_KEY, "optional": True}
    assert set(env["OPENLINEAGE_API_KEY"]) == {"name", "valueFrom"}  # no value, ever
    assert env["AIRFLOW__OPENLINEAGE__NAMESPACE"]["value"] == "marketing"
    # No plugin, no custom image, no transport JSON that could hold the token.
    text = json.dumps(values)
    assert "datahub_rest" not in text and '"datahub"' not in json.dumps(values["config"])
    assert "AIRFLOW__OPENLINEAGE__TRANSPORT" not in text
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in text


@pytest.mark.parametrize(("image", "warned"), [
    ({}, False), ({"tag": "3.0.2-python3.12"}, False),
    ({"tag": "slim-3.0.2"}, True), ({"repository": "ghcr.io/acme/airflow"}, True)])
def test_an_image_override_warns_that_lineage_needs_the_provider(image, warned):
    cfg = parse_stack_config({"config": {f"dataplatform:{k}": v for k, v in {
        **shipped("local"), "apps": {"airflow": {"enabled": True, "image": image}}}.items()}},
        "t")
    ctx = SimpleNamespace(enabled=frozenset({"airflow", "datahub"}))
    warning = lineage_image_warning(ctx, cfg.apps.airflow)  # type: ignore[arg-type]
    assert (warning is not None) is warned
    if warning:
        assert "apps.airflow.image" in warning and "apache-airflow-providers-openlineage" in (
            warning) and "FROM apache/airflow:3.0.2" in warning
    ctx = SimpleNamespace(enabled=frozenset({"airflow"}))  # no DataHub: no lineage
    assert lineage_image_warning(ctx, cfg.apps.airflow) is None  # type: ignore[arg-type]


def test_disabling_datahub_removes_all_lineage_config():
    values = values_of(ctx_plan(frozenset({"airflow"})))
    assert "datahub" not in json.dumps(values).lower()
    assert "openlineage" not in json.dumps(values).lower()
    assert "extraEnv" not in values


def test_jobs_are_no_helm_hooks_and_argocd_hooks_under_argocd():
    argocd = values_of(ctx_plan(frozenset({"airflow"})))
    helm = values_of(ctx_plan(frozenset({"airflow"}), delivery="helm"))
    for values in (argocd, helm):
        assert values["migrateDatabaseJob"]["useHelmHooks"] is False
        assert values["createUserJob"]["useHelmHooks"] is False
    assert argocd["migrateDatabaseJob"]["jobAnnotations"]["argocd.argoproj.io/hook"] == "Sync"
    assert argocd["createUserJob"]["jobAnnotations"]["argocd.argoproj.io/hook"] == "PostSync"
    assert "jobAnnotations" not in helm["migrateDatabaseJob"]
    assert "jobAnnotations" not in helm["createUserJob"]


def test_stack_lists_are_extended_not_replaced():
    values = values_of(ctx_plan(frozenset({"airflow", "datahub"}), apps={"airflow": {
        "enabled": True, "values": {"env": [{"name": "TZ", "value": "UTC"}],
                                    "extraEnv": "- name: A\n  value: b"}}}))
    assert [e["name"] for e in values["env"]] == ["TZ", "AIRFLOW_CONN_AWS_DEFAULT"]
    assert [e["name"] for e in yaml.safe_load(values["extraEnv"])] == [
        "A", "OPENLINEAGE_URL", "OPENLINEAGE_ENDPOINT", "OPENLINEAGE_API_KEY",
        "AIRFLOW__OPENLINEAGE__NAMESPACE"]


# --- dbt's pod templates for KubernetesPodOperator (issue 4)

def test_dbt_pod_templates_are_mounted_where_tasks_run():
    values = values_of(ctx_plan(frozenset({"airflow", "dbt"})))
    workers = values["workers"]
    assert workers["extraVolumes"] == [{"name": DBT_TEMPLATES_VOLUME, "configMap": {
        "name": DBT_POD_TEMPLATE, "optional": True}}]
    assert workers["extraVolumeMounts"] == [{"name": DBT_TEMPLATES_VOLUME,
                                             "mountPath": DBT_TEMPLATES_DIR, "readOnly": True}]
    env = {e["name"]: e.get("value") for e in values["env"]}
    assert env[DBT_TEMPLATES_ENV] == DBT_TEMPLATES_DIR  # chart-wide: parsers see it too
    others = {k: v for k, v in values.items() if k != "workers"}
    assert DBT_TEMPLATES_VOLUME not in json.dumps(others)  # no other component mounts it


def test_dbt_pod_templates_point_at_the_dbt_configmap(stacks):
    """In the shipped local domain (dbt on), the ConfigMap the mount names is the one dbt
    creates, in Airflow's namespace, with one template per project; the keys are the
    chart's."""
    cfg = stacks.shipped("local")
    stacks.write("af-dbt", cfg)
    p = stacks.plan("af-dbt")
    values = values_of(p)
    assert set(unknown_keys(values, chart_dir())) <= set(DOCUMENTED)
    maps = [r.inputs for r in p.by_type("kubernetes:core/v1:ConfigMap")
            if r.inputs["metadata"]["name"] == DBT_POD_TEMPLATE]
    assert len(maps) == 1
    namespace = {m["metadata"]["namespace"] for m in
                 (r.inputs for r in under_airflow(p) if r.type == SECRET_T)}
    assert namespace == {maps[0]["metadata"]["namespace"]}
    projects = [proj["name"] for proj in cfg["apps"]["dbt"]["projects"]]
    assert set(maps[0]["data"]) == {f"{proj}.yaml" for proj in projects}
    [volume] = [v for v in values["workers"]["extraVolumes"]
                if v["name"] == DBT_TEMPLATES_VOLUME]
    assert volume["configMap"]["name"] == DBT_POD_TEMPLATE


def test_without_dbt_there_is_no_pod_template_mount():
    values = values_of(ctx_plan(frozenset({"airflow", "datahub"})))
    text = json.dumps(values)
    assert DBT_POD_TEMPLATE not in text and DBT_TEMPLATES_ENV not in text
    assert "extraVolumes" not in values.get("workers", {})


def test_stack_worker_volumes_are_extended_not_replaced():
    mine = {"name": "scratch", "emptyDir": {}}
    mount = {"name": "scratch", "mountPath": "/scratch"}
    values = values_of(ctx_plan(frozenset({"airflow", "dbt"}), apps={"airflow": {
        "enabled": True, "values": {"workers": {"extraVolumes": [mine],
                                                "extraVolumeMounts": [mount]}}}}))
    assert [v["name"] for v in values["workers"]["extraVolumes"]] == [
        "scratch", DBT_TEMPLATES_VOLUME]
    assert [v["name"] for v in values["workers"]["extraVolumeMounts"]] == [
        "scratch", DBT_TEMPLATES_VOLUME]


# --- values files against the chart: keys, schema, resources, budget

def chart_dir() -> Path:
    shared = shared_charts_dir()
    if shared is None or not (shared / "defaults" / "airflow").is_dir():
        pytest.skip("../shared/charts/defaults/airflow is absent: no chart defaults")
    return shared / "defaults" / "airflow"


# Keys the chart documents (commented examples in its values.yaml, declared by its real
# values.schema.json) but leaves out of the defaults.
DOCUMENTED = {"dags.gitSync.sshKeySecret": "# sshKeySecret:",
              "dags.gitSync.knownHosts": "# knownHosts:"}


@pytest.mark.parametrize("stack", list(STACKS))
def test_computed_keys_exist_in_the_chart(plan, stack):
    path = chart_dir()
    text = (path / "values.yaml").read_text()
    assert all(comment in text for comment in DOCUMENTED.values())
    assert set(unknown_keys(values_of(plan(stack)), path)) <= set(DOCUMENTED)


@pytest.mark.parametrize("stack", list(STACKS))
def test_merged_values_validate_against_the_chart_schema(plan, stack):
    """Note: ../shared ships the chart's *meta*-schema (it checks values.schema.json
    itself), so this passes for any values today; the key check above is the strict one."""
    jsonschema = pytest.importorskip("jsonschema")
    path = chart_dir()
    schema = json.loads((path / "values.schema.json").read_text())
    merged = deep_merge(load_chart(path).defaults, values_of(plan(stack)))
    jsonschema.validate(merged, schema)


def sized(profile: str, executor: str) -> dict[str, Any]:
    path = chart_dir()
    computed = {"executor": executor, "redis": {"enabled": executor == "CeleryExecutor"},
                "dags": {"gitSync": {"enabled": True}}}
    return deep_merge(load_chart(path).defaults,
                      deep_merge(static_values("airflow", profile), computed))


@pytest.mark.parametrize("profile", ["dev", "prod"])
@pytest.mark.parametrize("executor", ["KubernetesExecutor", "CeleryExecutor"])
def test_every_component_has_requests_and_a_memory_limit(profile, executor):
    merged = sized(profile, executor)
    assert containers_without_resources(merged, chart_dir()) == []


def test_dev_fits_its_share_of_the_domain_budget():
    merged = sized("dev", "KubernetesExecutor")
    cpu = mem = 0.0
    for c in iter_components(merged, chart_dir()):
        # git-sync runs beside the DAG processor and the triggerer (the scheduler of
        # Airflow 3 parses no DAGs; task pods run it as an init container).
        n = c.replicas * (2 if c.path == "dags.gitSync.resources" else 1)
        cpu += parse_quantity(c.resources["requests"]["cpu"]) * n
        mem += parse_quantity(c.resources["requests"]["memory"]) * n
    assert cpu <= 0.45 and mem <= 1.5 * 2**30, f"dev requests {cpu} vCPU, {mem / 2**20} MiB"


# --- config rules

def stack_cfg(profile: str = "dev", **airflow: Any):
    base = shipped("local" if profile == "dev" else "aws-finance")
    return parse_stack_config({"config": {f"dataplatform:{k}": v for k, v in {
        **base, "apps": {"airflow": {"enabled": True, **airflow}}}.items()}}, "t")


def refusal(profile: str = "dev", **airflow: Any) -> list[tuple[str, str]]:
    """The problems the loader reports for the stack (StackConfig runs airflow_rules)."""
    try:
        stack_cfg(profile, **airflow)
    except ConfigError as exc:
        return [(p.key, p.message) for p in exc.problems]
    return []


def test_celery_is_for_prod_only():
    assert refusal("dev", executor="CeleryExecutor") == [(
        "dataplatform:apps.airflow.executor", "profile 'dev' runs KubernetesExecutor (no idle "
        "workers or Redis in the dev budget): CeleryExecutor is for profile prod")]
    assert airflow_rules(stack_cfg("prod", executor="CeleryExecutor")) == []


def test_prod_verifies_the_git_host():
    dags = {"repo": SSH_REPO, "sshKey": {"secure": "v1:eA=="}}
    assert [k for k, _ in refusal("prod", dags=dags)] == ["dataplatform:apps.airflow.dags.knownHosts"]
    assert airflow_rules(stack_cfg("prod", dags={**dags, "knownHosts": KNOWN_HOSTS})) == []
    assert airflow_rules(stack_cfg("dev", dags=dags)) == []


@pytest.mark.parametrize("repo", [
    "git@github.com:acme/dags.git", "ssh://git@git.acme.io:2222/data/dags.git",
    "git@gitlab.com:group/sub/dags"])
def test_ssh_urls_take_a_key(repo):
    assert AirflowDags.model_validate({"repo": repo, "sshKey": {"secure": "v1:eA=="}}).is_ssh


@pytest.mark.parametrize(("dags", "key", "fragment"), [
    ({"repo": "git@github.com:acme/dags.git"}, "sshKey", "needs a deploy key"),
    ({"repo": HTTPS_REPO, "sshKey": {"secure": "v1:eA=="}}, "sshKey", "takes no sshKey"),
    ({"repo": "https://user:pw@github.com/acme/dags.git"}, "repo", "credentials in the URL"),
    ({"repo": "http://github.com/acme/dags.git"}, "repo", "plain http"),
    ({"repo": "file:///srv/dags"}, "repo", "not a Git clone URL"),
    ({"repo": HTTPS_REPO, "knownHosts": KNOWN_HOSTS}, "knownHosts", "for ssh"),
    ({"repo": HTTPS_REPO, "branch": "a b"}, "branch", "not a branch name"),
    ({"repo": HTTPS_REPO, "subPath": "/abs"}, "subPath", "relative"),
])
def test_dag_repository_rules(dags, key, fragment):
    with pytest.raises(ValueError) as err:
        AirflowDags.model_validate(dags)
    cause = err.value.errors()[0]["ctx"]["error"]
    assert isinstance(cause, RuleViolations)
    assert [k for k, m in cause.problems if fragment in m] == [key]


@pytest.mark.parametrize("values", [{"executor": "CeleryExecutor"},
                                    {"images": {"airflow": {"tag": "x"}}},
                                    {"dags": {"gitSync": {"repo": HTTPS_REPO}}}])
def test_values_may_not_shadow_typed_settings(values):
    with pytest.raises(ValueError, match="instead"):
        AirflowConfig.model_validate({"enabled": True, "values": values})


@pytest.mark.parametrize("values", [{"fernetKey": "x"}, {"redis": {"password": "x"}},
                                    {"webserver": {"defaultUser": {"password": "x"}}}])
def test_values_may_not_carry_credentials(values, stacks):
    stacks.write("cred", {**stacks.shipped("local"),
                          "apps": {"airflow": {"enabled": True, "values": values}}})
    with pytest.raises(ConfigError, match="a credential in plain text"):
        load_stack_config("cred", stacks.path)
