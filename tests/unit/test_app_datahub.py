"""DataHub: releases and their order in both delivery modes, merged values (golden),
Secrets by name only, the lineage token, the recipe ConfigMaps, managed endpoints, config
errors, sizing, and removal.

Stacks: the shipped `local` (dev, argocd), `gcp-marketing` (dev, GKE workload identity)
and `aws-finance` (prod, RDS, IRSA), each with DataHub, dbt and Metabase enabled.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from app_plans import (
    APPLICATION,
    RELEASE,
    chart_dir,
    delivered_values,
    plan_of,
    removed,
    requested,
)
from app_plans import STACKS as NS
from golden_files import assert_golden
from test_secrets import OutputsMonitor, PlantingMocks, leaks

from components._values import deep_merge, static_values
from components.apps.datahub._settings import SECURITY_KEYS
from dataplatform.chartcheck import (
    TEMPLATE_ONLY_KEYS,
    containers_without_resources,
    load_chart,
    unknown_keys,
)
from dataplatform.plan import engine
from dataplatform.plan.engine import SECRET, Plan
from dataplatform.program import build, load
from foundation.config.loader import ConfigError, parse_stack_config
from foundation.config.secrets import PLACEHOLDER, offline_config
from foundation.layout import LOCK_FILE
from foundation.quantity import parse_quantity

pytestmark = pytest.mark.unit

CONFIGMAP, SECRET_TYPE = "kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Secret"
CRONJOB = "kubernetes:batch/v1:CronJob"
ENC = {"secure": "v1:AAAA"}
PROJECT = {"name": "jaffle", "gitUrl": "https://github.com/dbt-labs/jaffle-shop.git",
           "jobs": [{"name": "daily", "schedule": "0 6 * * *", "command": "dbt build"}]}
METABASE_USER = {"username": "datahub@acme.example", "password": ENC}
WAREHOUSE = {"aws-finance": {"type": "redshift", "host": "wh.eu-west-1.redshift.amazonaws.com",
                             "database": "dev", "user": "datahub", "password": ENC},
             "gcp-marketing": {"type": "bigquery", "project": "acme-analytics"}}
MANAGED = {"kafka": {"mode": "managed", "bootstrapServers": "b-1.msk.example:9094,"
                                                            "b-2.msk.example:9094"},
           "search": {"mode": "managed", "host": "vpc-dh.eu-west-1.es.amazonaws.com",
                      "username": "datahub", "password": ENC}}


def datahub_config(stack: str, datahub: dict[str, Any] | None = None,
                   others: bool = True) -> dict[str, Any]:
    """The keys set on shipped `stack`: DataHub, and dbt, Metabase, the warehouse (others)."""
    apps: dict[str, Any] = {"datahub": {"enabled": True, "ingestion": {
        "metabase": METABASE_USER}} if datahub is None else datahub}
    if others:
        apps |= {"dbt": {"enabled": True, "projects": [PROJECT]},
                 "metabase": {"enabled": True}}
    top = {"warehouse": WAREHOUSE[stack]} if stack in WAREHOUSE and others else {}
    return {"apps": apps, **top}


def plan_with(stacks, stack: str, datahub: dict[str, Any] | None = None,
              others: bool = True, **extra) -> Plan:
    """Plan of shipped `stack` with DataHub (and dbt, Metabase) set; cached."""
    return plan_of(stacks, stack, "dh", **{**datahub_config(stack, datahub, others), **extra})


def values_of(plan: Plan, stack: str, app: str = "datahub") -> dict[str, Any]:
    return delivered_values(plan, stack, app)


def strip(values: Any, prefix: str = "") -> Any:
    """`values` without the keys the chart check accepts on trust (see _datahub_settings)."""
    if not isinstance(values, dict):
        return values
    return {k: strip(v, f"{prefix}{k}.") for k, v in values.items()
            if f"{prefix}{k}" not in TEMPLATE_ONLY_KEYS["datahub"] and k not in SECURITY_KEYS}


# --- releases and ordering

def test_argocd_two_applications_in_waves_with_pinned_charts(stacks):
    plan = plan_with(stacks, "local")
    ns = NS["local"]
    pre = plan.get(APPLICATION, f"{ns}-datahub-prerequisites-application")
    app = plan.get(APPLICATION, f"{ns}-datahub-helm-application")
    lock = yaml.safe_load(LOCK_FILE.read_text())["charts"]
    for res, chart, release, wave in ((pre, "datahub-prerequisites", "datahub-prerequisites",
                                       "0"), (app, "datahub", "datahub", "1")):
        source = res.inputs["spec"]["source"]
        assert (source["chart"], source["targetRevision"]) == (chart, lock[chart]["version"])
        assert source["helm"]["releaseName"] == release
        assert res.inputs["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": wave}
    component = plan.get("dataplatform:apps:HelmApp", f"{ns}-datahub-helm")
    assert pre.urn in component.depends_on  # Pulumi creates the prerequisites first
    assert not [r for r in plan.by_type(RELEASE) if "datahub" in r.name]


def test_helm_delivery_datahub_release_waits_for_the_prerequisites_release(stacks):
    plan = plan_with(stacks, "local", delivery="helm")
    ns = NS["local"]
    pre = plan.get(RELEASE, f"{ns}-datahub-prerequisites-release")
    assert pre.inputs["name"] == "datahub-prerequisites"
    assert pre.inputs["chart"] == "datahub-prerequisites" and pre.inputs["version"] == "0.3.0"
    assert plan.get(RELEASE, f"{ns}-datahub-helm-release").inputs["chart"] == "datahub"
    component = plan.get("dataplatform:apps:HelmApp", f"{ns}-datahub-helm")
    assert pre.urn in component.depends_on
    secrets = {r.urn for r in plan.by_type(SECRET_TYPE) if r.name.startswith(f"{ns}-datahub-")
               and "lineage-token" not in r.name}
    assert secrets <= set(component.depends_on)  # every referenced Secret exists first
    assert not [r for r in plan.by_type(APPLICATION) if "datahub" in r.name]


def test_setup_job_waits_for_kafka_and_search(stacks):
    init = values_of(plan_with(stacks, "local"), "local")["datahubSystemUpdate"][
        "extraInitContainers"]
    assert [c["name"] for c in init] == ["wait-for-prerequisites"]
    script = init[0]["command"][2]
    assert "datahub-prerequisites-kafka:9092 opensearch-cluster-master:9200" in script
    assert init[0]["resources"]["limits"]["memory"]


# --- merged values

@pytest.mark.parametrize("stack", list(NS))
def test_merged_values_golden(stacks, stack):
    plan = plan_with(stacks, stack)
    assert_golden(f"datahub/values-{stack}", values_of(plan, stack))
    assert_golden(f"datahub/prerequisites-{stack}",
                  values_of(plan, stack, "datahub-prerequisites"))


def test_managed_kafka_and_search_values_golden(stacks):
    plan = plan_with(stacks, "aws-finance", {"enabled": True, **MANAGED})
    values = values_of(plan, "aws-finance")
    assert_golden("datahub/values-aws-finance-managed", values)
    assert values["global"]["kafka"]["bootstrap"]["server"] == MANAGED["kafka"][
        "bootstrapServers"]
    assert values["global"]["springKafkaConfigurationOverrides"]["security.protocol"] == "SSL"
    search = values["global"]["elasticsearch"]
    assert (search["host"], search["port"], search["useSSL"]) == (
        MANAGED["search"]["host"], "443", "true")
    assert search["auth"] == {"username": "datahub", "password": {
        "secretRef": "datahub-search-credentials", "secretKey": "password"}}
    assert not [r for r in plan.resources if "prerequisites" in r.name]  # nothing in-cluster
    secret = plan.get(SECRET_TYPE, f"{NS['aws-finance']}-datahub-search-secret")
    assert secret.inputs["stringData"] == SECRET


def test_only_kafka_managed_keeps_opensearch_in_cluster(stacks):
    plan = plan_with(stacks, "local", {"enabled": True, "kafka": MANAGED["kafka"]},
                     others=False)
    pre = values_of(plan, "local", "datahub-prerequisites")
    assert pre["kafka"]["enabled"] is False and pre["opensearch"]["enabled"] is True
    assert pre["mysql"]["enabled"] is False
    assert not [r for r in plan.resources if "kraft" in r.name]


@pytest.mark.parametrize("stack", list(NS))
def test_postgres_endpoint_and_secret_references(stacks, stack):
    values = values_of(plan_with(stacks, stack), stack)
    ds = values["global"]["sql"]["datasource"]
    assert ds["driver"] == "org.postgresql.Driver"
    assert ds["url"].startswith(f"jdbc:postgresql://{ds['host']}/datahub")
    assert ds["url"].endswith("?sslmode=require") is (stack == "aws-finance")  # RDS: TLS
    assert ds["password"] == {"secretRef": "datahub-db-credentials", "secretKey": "password"}
    auth = values["global"]["datahub"]["metadata_service_authentication"]
    assert auth["enabled"] is True
    assert auth["provisionSecrets"]["enabled"] is False
    refs = [auth["systemClientSecret"], auth["tokenService"]["signingKey"],
            auth["tokenService"]["salt"]]
    assert {r["secretRef"] for r in refs} == {"datahub-auth-secrets"}
    assert values["global"]["datahub"]["encryptionKey"]["secretRef"] == \
        "datahub-encryption-secrets"
    assert values["datahub-frontend"]["existingGmsSecret"]["name"] == "datahub-frontend-secret"
    assert values["datahub-gms"]["service"]["type"] == "ClusterIP"


@pytest.mark.parametrize("stack", list(NS))
def test_computed_keys_are_known_to_the_charts(stacks, stack):
    plan = plan_with(stacks, stack)
    assert unknown_keys(strip(values_of(plan, stack)), chart_dir("datahub")) == []
    pre = strip(values_of(plan, stack, "datahub-prerequisites"))
    pre["opensearch"].pop("resources", None)  # limits: rendered verbatim, absent from defaults
    assert unknown_keys(pre, chart_dir("datahub-prerequisites")) == []


def planted_plan(stack: str, stacks_dir: Path, monkeypatch) -> tuple[Plan, PlantingMocks]:
    """test_secrets.planted_plan, with the config secrets' offline placeholders set (and
    planted: they must not show either)."""
    loaded = load(stack, stacks_dir)
    cfg = loaded.cfg
    references = {}
    if cfg.platform is not None:
        ref = engine.plan_stack(cfg.platform.stack, stacks_dir)
        references[engine.fq_stack(cfg.platform.organization, cfg.platform.stack)] = (
            ref.raw_outputs, ref.secret_outputs)
    mocks = PlantingMocks(references)
    monkeypatch.setattr(engine, "RecordingMonitor", OutputsMonitor)
    config = offline_config(cfg)
    plan = engine.run_program(stack, lambda: build(loaded), mocks, config=config)
    mocks.planted |= {m for v in config[0].values()
                      for m in re.findall(f"{PLACEHOLDER}:[\\w.]+", v)}
    return plan, mocks


@pytest.mark.parametrize("stack", ["local", "aws-finance"])
def test_no_plaintext_secret(stacks, stack, monkeypatch):
    stacks.write(f"{stack}-dh-planted", {**stacks.shipped(stack),
                                                   **datahub_config(stack)})
    plan, mocks = planted_plan(f"{stack}-dh-planted", stacks.path, monkeypatch)
    assert f"{SECRET_TYPE} {NS[stack]}-datahub-auth-secret" in mocks.carriers
    assert f"{PLACEHOLDER}:apps.datahub.ingestion.metabase.password" in mocks.planted
    assert leaks(plan, mocks) == []
    text = json.dumps([values_of(plan, stack), values_of(plan, stack, "datahub-prerequisites")]
                      + [r.inputs for r in plan.by_type(CONFIGMAP)])
    assert "PLANTED" not in text and SECRET not in text and "offline-placeholder" not in text
    for secret in plan.by_type(SECRET_TYPE):
        if "datahub" in secret.name and "lineage-token" not in secret.name:
            assert secret.inputs["stringData"] == SECRET, secret.name


# --- lineage: recipes, the token

def test_recipes_are_configmaps_run_by_the_ingestion_crons(stacks):
    plan = plan_with(stacks, "local")
    cron = values_of(plan, "local")["datahub-ingestion-cron"]
    assert cron["enabled"] is True and set(cron["crons"]) == {"dbt-jaffle", "metabase"}
    for key, spec in cron["crons"].items():
        cm = plan.get(CONFIGMAP, f"{NS['local']}-datahub-recipe-{key}")
        assert cm.inputs["metadata"]["name"] == spec["recipe"]["configmapName"]
        recipe = yaml.safe_load(cm.inputs["data"][spec["recipe"]["fileName"]])
        assert recipe["sink"]["config"]["token"] == "${DATAHUB_GMS_TOKEN}"
        assert spec["envFromSecrets"]["DATAHUB_GMS_TOKEN"] == {
            "secret": "datahub-lineage-token", "key": "token"}
        assert spec["env"]["DATAHUB_GMS_URL"] == \
            "http://datahub-datahub-gms.acme-marketing-dev.svc.cluster.local:8080"
        assert spec["resources"]["requests"] and spec["resources"]["limits"]["memory"]
        assert spec["concurrencyPolicy"] == "Forbid"
    assert cron["crons"]["dbt-jaffle"]["schedule"] == "30 6 * * *"  # after the daily job
    assert "serviceAccountName" not in cron["crons"]["dbt-jaffle"]  # local: MinIO keys


@pytest.mark.parametrize(("stack", "bucket"), [
    ("aws-finance", "acme-finance-prod-artifacts"), ("gcp-marketing", "acme-marketing-dev-artifacts")])
def test_dbt_recipe_reads_artifacts_through_workload_identity(stacks, stack, bucket):
    cron = values_of(plan_with(stacks, stack), stack)["datahub-ingestion-cron"]["crons"]
    dbt = cron["dbt-jaffle"]
    assert dbt["serviceAccountName"] == "datahub-ingestion"
    assert not {"MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"} & set(dbt["envFromSecrets"])
    if stack == "gcp-marketing":
        init = dbt["extraInitContainers"][0]
        assert {"name": "DBT_ARTIFACTS_BUCKET", "value": bucket} in init["env"]
        assert "gcloud storage cp 'gs://$(DBT_ARTIFACTS_BUCKET)/dbt/jaffle/daily/latest/*'" \
            in init["command"][2]
    else:
        assert dbt["env"]["DBT_ARTIFACTS_BUCKET"] == bucket
    assert set(cron) == {"dbt-jaffle", "metabase", "warehouse"}


def test_lineage_token_secret_and_its_minter(stacks):
    plan = plan_with(stacks, "local")
    ns = NS["local"]
    token = plan.get(SECRET_TYPE, f"{ns}-datahub-lineage-token")
    assert token.inputs["metadata"]["name"] == "datahub-lineage-token"
    assert "stringData" not in token.inputs and "data" not in token.inputs  # the CronJob's
    role = plan.get("kubernetes:rbac.authorization.k8s.io/v1:Role", f"{ns}-datahub-token-role")
    assert role.inputs["rules"] == [{"apiGroups": [""], "resources": ["secrets"],
                                     "resourceNames": ["datahub-lineage-token"],
                                     "verbs": ["get", "patch"]}]
    cron = plan.get(CRONJOB, f"{ns}-datahub-token-cronjob")
    assert_golden("datahub/token-cronjob-local", cron.inputs["spec"])
    spec = cron.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = spec["containers"][0]
    assert spec["serviceAccountName"] == "datahub-lineage-token"
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert env["DATAHUB_SYSTEM_CLIENT_SECRET"] == {"secretKeyRef": {
        "name": "datahub-auth-secrets", "key": "system_client_secret"}}
    assert container["image"] == "acryldata/datahub-ingestion:v1.7.0"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["limits"]["memory"]
    script = plan.get(CONFIGMAP, f"{ns}-datahub-token-script").inputs["data"]["mint_token.py"]
    assert "createAccessToken" in script
    app = plan.get(APPLICATION, f"{ns}-datahub-helm-application")
    assert app.urn in cron.depends_on  # created after DataHub itself


def test_no_recipe_no_ingestion_cron(stacks):
    plan = plan_with(stacks, "local", others=False)
    assert values_of(plan, "local")["datahub-ingestion-cron"] == {
        **values_of(plan, "local")["datahub-ingestion-cron"], "enabled": False, "crons": {}}
    assert not [r for r in plan.by_type(CONFIGMAP) if "recipe" in r.name]


def test_disabling_datahub_removes_recipes_token_and_everything_else(stacks):
    on = plan_with(stacks, "local")
    off = plan_with(stacks, "local", {"enabled": False, "ingestion": {
        "metabase": METABASE_USER}})
    gone = removed(on, off)
    assert {(CONFIGMAP, f"{NS['local']}-datahub-recipe-dbt-jaffle"),
            (SECRET_TYPE, f"{NS['local']}-datahub-lineage-token"),
            (CRONJOB, f"{NS['local']}-datahub-token-cronjob")} <= gone
    # ...and the monitor of its prerequisites' Kafka exporter
    assert all("datahub" in name or name.endswith("-kafka-monitor") for _, name in gone), \
        sorted(gone)
    # the cluster's Grafana keeps its DataHub dashboard: it serves every domain of the cluster
    assert not [r.name for r in off.resources if "datahub" in r.name
                and "-monitoring-dashboard-" not in r.name]
    assert "datahub" not in off.outputs["apps"]


# --- prod

def test_prod_protection_and_availability(stacks):
    plan = plan_with(stacks, "aws-finance")
    ns = NS["aws-finance"]
    pre = plan.get("dataplatform:apps:HelmApp", f"{ns}-datahub-prerequisites")
    assert pre.protect
    assert plan.get(APPLICATION, f"{ns}-datahub-prerequisites-application").protect
    assert plan.get("random:index/randomPassword:RandomPassword",
                    f"{ns}-datahub-encryption-key").protect
    assert plan.get("random:index/randomId:RandomId", f"{ns}-datahub-kraft-cluster-id").protect
    values = values_of(plan, "aws-finance")
    for component in ("datahub-gms", "datahub-frontend"):
        assert values[component]["replicaCount"] >= 2
        pdb = plan.get("kubernetes:policy/v1:PodDisruptionBudget",
                       f"{ns}-datahub-{component.removeprefix('datahub-')}-pdb")
        assert pdb.inputs["spec"]["selector"]["matchLabels"] == {
            "app.kubernetes.io/name": component, "app.kubernetes.io/instance": "datahub"}
        zone = values[component]["affinity"]["podAntiAffinity"][
            "preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
        assert zone["topologyKey"] == "topology.kubernetes.io/zone"
    # The Kafka consumers in groups run 2 with a PDB; the MCE consumer is the chart's singleton.
    for component in ("acryl-datahub-actions", "datahub-mae-consumer"):
        assert values[component]["replicaCount"] == 2
        pdb = plan.get("kubernetes:policy/v1:PodDisruptionBudget",
                       f"{ns}-datahub-{component.removeprefix('datahub-')}-pdb")
        assert pdb.inputs["spec"] == {"minAvailable": 1, "selector": {"matchLabels": {
            "app.kubernetes.io/name": component, "app.kubernetes.io/instance": "datahub"}}}
    assert values["datahub-mce-consumer"]["replicaCount"] == 1
    assert values["global"]["kafka"]["replicationFactor"] == 3
    pre_values = values_of(plan, "aws-finance", "datahub-prerequisites")
    assert pre_values["kafka"]["controller"]["replicaCount"] == 3
    assert pre_values["opensearch"]["replicas"] == 3
    assert pre_values["opensearch"]["persistence"]["enabled"] is True
    assert "Prune=false" in pre_values["kafka"]["controller"]["persistence"]["annotations"][
        "argocd.argoproj.io/sync-options"]


def test_dev_is_not_protected(stacks):
    plan = plan_with(stacks, "local")
    assert not [r.name for r in plan.resources if "datahub" in r.name and r.protect]


# --- sizing

def merged(chart: str, profile: str) -> dict[str, Any]:
    return deep_merge(load_chart(chart_dir(chart)).defaults, static_values(chart, profile))


@pytest.mark.parametrize("profile", ["dev", "prod"])
@pytest.mark.parametrize("chart", ["datahub", "datahub-prerequisites"])
def test_every_component_has_resources(chart, profile):
    assert containers_without_resources(merged(chart, profile), chart_dir(chart)) == []


def requests(chart: str, profile: str) -> tuple[float, float]:
    return requested(merged(chart, profile), chart_dir(chart))


def test_dev_fits_its_share_of_the_domain_budget():
    """DataHub + prerequisites <= 1400m / 4.5 GiB, with one ingestion run and the token
    CronJob counted on top (they run for minutes, but do run inside the quota)."""
    settings = static_values("datahub-lineage", "dev")
    extra = [settings["cronResources"]["requests"], settings["tokenResources"]["requests"]]
    cpu = sum(requests(c, "dev")[0] for c in ("datahub", "datahub-prerequisites"))
    mem = sum(requests(c, "dev")[1] for c in ("datahub", "datahub-prerequisites"))
    cpu += sum(parse_quantity(r["cpu"]) for r in extra)
    mem += sum(parse_quantity(r["memory"]) for r in extra)
    assert cpu <= 1.4 and mem <= 4.5 * 2**30, f"{cpu} vCPU, {mem / 2**30:.2f} GiB"


def test_dev_prerequisites_are_one_small_node_each():
    values = merged("datahub-prerequisites", "dev")
    assert values["mysql"]["enabled"] is False
    assert values["opensearch"]["singleNode"] is True and values["opensearch"]["replicas"] == 1
    assert "-Xmx512m" in values["opensearch"]["opensearchJavaOpts"]
    assert values["kafka"]["controller"]["replicaCount"] == 1
    assert values["kafka"]["broker"]["replicaCount"] == 0


# --- config errors

BASE = {"customer": "acme", "domain": "marketing", "environment": "dev", "profile": "dev",
        "cloud": "local", "kind": "domain", "owner": "o", "costCenter": "c",
        "cluster": {"mode": "dedicated", "kubeContext": "kind"}}


@pytest.mark.parametrize(("datahub", "key", "fragment"), [
    ({"kafka": {"mode": "managed"}}, "apps.datahub.kafka.bootstrapServers", "needs"),
    ({"kafka": {"bootstrapServers": "b:9092"}}, "apps.datahub.kafka.bootstrapServers",
     "takes no"),
    ({"kafka": {"mode": "managed", "bootstrapServers": "https://b"}},
     "apps.datahub.kafka.bootstrapServers", "host:port"),
    ({"search": {"mode": "managed"}}, "apps.datahub.search.host", "needs host"),
    ({"search": {"mode": "managed", "host": "h", "username": "u"}},
     "apps.datahub.search.password", "both"),
    ({"search": {"mode": "managed", "host": "https://h"}}, "apps.datahub.search.host",
     "not a host name"),
    ({"search": {"mode": "managed", "host": "h", "username": "u", "password": "plain"}},
     "apps.datahub.search.password", "pulumi config set --secret"),
    ({"ingestion": {"metabase": {"username": "u"}}}, "apps.datahub.ingestion.metabase.password",
     "both"),
    ({"ingestion": {"dbt": {"schedule": "every day"}}}, "apps.datahub.ingestion.dbt.schedule",
     "not a cron schedule"),
    ({"kafka": {"mode": "kraft"}}, "apps.datahub.kafka.mode", "in-cluster"),
])
def test_config_errors_name_the_key(datahub, key, fragment):
    data = {**BASE, "apps": {"datahub": {"enabled": True, **datahub}}}
    with pytest.raises(ConfigError) as err:
        parse_stack_config({"config": {f"dataplatform:{k}": v for k, v in data.items()}}, "t")
    text = str(err.value)
    assert key in text and fragment in text, text


def test_defaults_round_trip():
    data = {**BASE, "apps": {"datahub": {"enabled": True}}}
    cfg = parse_stack_config({"config": {f"dataplatform:{k}": v for k, v in data.items()}}, "t")
    dh = cfg.apps.datahub
    assert (dh.kafka.mode, dh.search.mode, dh.needs_prerequisites) == (
        "in-cluster", "in-cluster", True)
    dumped = cfg.model_dump(by_alias=True, mode="json", exclude_none=True)
    again = parse_stack_config({"config": {f"dataplatform:{k}": v
                                           for k, v in dumped.items()}}, "t")
    assert again.apps.datahub == dh


# --- no default login, OpenLineage fabric (issue 19)

@pytest.mark.parametrize("stack", ["local", "aws-finance"])
def test_root_user_password_is_generated_and_replaces_the_default(stacks, stack):
    plan = plan_with(stacks, stack)
    secret = plan.get(SECRET_TYPE, f"{NS[stack]}-datahub-root-user").inputs
    assert secret["metadata"]["name"] == "datahub-root-user"
    assert secret["stringData"] == SECRET  # user.props, username, password: all secret
    password = plan.get("random:index/randomPassword:RandomPassword",
                        f"{NS[stack]}-datahub-root-password")
    assert password.inputs["length"] >= 24
    frontend = values_of(plan, stack)["datahub-frontend"]
    [volume] = [v for v in frontend["extraVolumes"] if v["name"] == "datahub-root-user"]
    assert volume["secret"]["secretName"] == "datahub-root-user"
    assert volume["secret"]["items"] == [{"key": "user.props", "path": "user.props"}]
    [mount] = [m for m in frontend["extraVolumeMounts"] if m["name"] == "datahub-root-user"]
    # Over the image's default `datahub:datahub` file (DataHub's documented Helm route).
    assert mount == {"name": "datahub-root-user", "readOnly": True, "subPath": "user.props",
                     "mountPath": "/datahub-frontend/conf/user.props"}
    assert "defaultUserCredentials" not in frontend  # its Secret is re-rolled or plain text
    app = plan.get(APPLICATION, f"{NS[stack]}-datahub-helm-application")
    assert plan.get(SECRET_TYPE, f"{NS[stack]}-datahub-root-user").urn in app.depends_on


@pytest.mark.parametrize(("stack", "fabric"), [("local", "DEV"), ("aws-finance", "PROD")])
def test_openlineage_events_get_the_domains_fabric(stacks, stack, fabric):
    env = values_of(plan_with(stacks, stack), stack)["datahub-gms"]["extraEnvs"]
    assert {"name": "DATAHUB_OPENLINEAGE_ENV", "value": fabric} in env


def test_stack_frontend_volumes_and_gms_env_are_extended_not_replaced(stacks):
    mine = {"name": "extra", "emptyDir": {}}
    plan = plan_with(stacks, "local", {"enabled": True, "values": {
        "datahub-frontend": {"extraVolumes": [mine]},
        "datahub-gms": {"extraEnvs": [{"name": "JAVA_TOOL_OPTIONS", "value": "-Xss1m"}]}}})
    values = values_of(plan, "local")
    assert [v["name"] for v in values["datahub-frontend"]["extraVolumes"]] == [
        "extra", "datahub-root-user"]
    assert [e["name"] for e in values["datahub-gms"]["extraEnvs"]] == [
        "JAVA_TOOL_OPTIONS", "DATAHUB_OPENLINEAGE_ENV"]


def test_airbyte_recipe_cron_reads_airbytes_own_secret(stacks):
    cfg = datahub_config("local")
    cfg["apps"]["airbyte"] = {"enabled": True}
    plan = plan_of(stacks, "local", "dh-ab", **cfg)
    crons = values_of(plan, "local")["datahub-ingestion-cron"]["crons"]
    assert crons["airbyte"]["envFromSecrets"]["AIRBYTE_CLIENT_SECRET"] == {
        "secret": "airbyte-auth-secrets", "key": "instance-admin-client-secret"}
    assert not [r for r in plan.by_type(SECRET_TYPE)  # Airbyte's bootloader makes it
                if r.inputs["metadata"]["name"] == "airbyte-auth-secrets"]
