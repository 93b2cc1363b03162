"""Lineage recipes: every recipe the config can produce, rendered (golden) and checked
against the recipe shape DataHub documents; the dbt schedule; the token minter script.

The documented shape (https://docs.datahub.com/docs/metadata-ingestion/#recipes, and each
source's "Config Details" page of DataHub v1.7): a `source` with a known `type` and only
that source's documented `config` keys (its required ones present), and a `datahub-rest`
sink whose `server` and `token` come from the environment. Every `${VAR}` a recipe uses
must be set by its CronJob, and no credential may be written into a recipe.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import json
import os
import re
from typing import Any

import pytest
import yaml
from golden_files import assert_golden
from pydantic import ValidationError

from components.apps.datahub import _mint_token as mint
from components.lineage.names import METABASE_READER_SECRET
from components.lineage.recipes import (
    DbtSource,
    DbtSourceConfig,
    Recipe,
)
from components.lineage.schedule import schedule_after
from components.lineage.sources import (
    CRON_KEY_MAX,
    LineageSources,
    ScheduledRecipe,
    cron_key,
    domain_recipes,
    latest_prefix,
)
from dataplatform.resolve import site
from foundation.config.loader import parse_stack_config
from foundation.config.stack import StackConfig

pytestmark = pytest.mark.unit

# Documented config keys per source type (a superset of what we render), and the keys each
# source requires. From the DataHub v1.7 source docs (Config Details tables).
DOCUMENTED: dict[str, set[str]] = {
    "dbt": {"manifest_path", "catalog_path", "sources_path", "run_results_paths",
            "target_platform", "target_platform_instance", "aws_connection",
            "gcs_connection", "git_info", "env", "platform_instance", "stateful_ingestion",
            "entities_enabled", "include_column_lineage", "only_include_if_in_catalog",
            "convert_column_urns_to_lowercase", "tag_prefix", "write_semantics"},
    "metabase": {"connect_uri", "display_uri", "username", "password", "api_key",
                 "database_alias_map", "database_id_to_instance_map", "engine_platform_map",
                 "platform_instance_map", "default_schema", "exclude_other_user_collections",
                 "env", "platform_instance", "stateful_ingestion"},
    "postgres": {"host_port", "database", "username", "password", "options", "sqlalchemy_uri",
                 "database_pattern", "schema_pattern", "table_pattern", "view_pattern",
                 "include_tables", "include_views", "profiling", "env", "platform_instance",
                 "stateful_ingestion", "initial_database"},
    "redshift": {"host_port", "database", "username", "password", "options",
                 "schema_pattern", "table_pattern", "view_pattern", "include_tables",
                 "include_views", "include_table_lineage", "include_usage_statistics",
                 "env", "platform_instance", "stateful_ingestion"},
    "snowflake": {"account_id", "warehouse", "username", "password", "role",
                  "authentication_type", "database_pattern", "schema_pattern",
                  "table_pattern", "view_pattern", "include_table_lineage",
                  "include_usage_stats", "env", "platform_instance", "stateful_ingestion"},
    "bigquery": {"project_ids", "project_id_pattern", "credential", "dataset_pattern",
                 "include_table_lineage", "include_usage_statistics", "env",
                 "platform_instance", "stateful_ingestion"},
    # acryl-datahub 1.7.0, datahub/ingestion/source/airbyte/config.py (AirbyteSourceConfig)
    "airbyte": {"deployment_type", "host_port", "username", "password", "api_key",
                "oauth2_client_id", "oauth2_client_secret", "verify_ssl", "ssl_ca_cert",
                "request_timeout", "page_size", "env", "platform_instance",
                "connection_pattern", "source_type_mapping", "include_statuses",
                "extract_column_level_lineage", "stateful_ingestion"},
}
REQUIRED = {"dbt": {"manifest_path", "target_platform"}, "metabase": {"connect_uri"},
            "airbyte": {"deployment_type", "host_port"},
            "postgres": {"host_port"}, "redshift": {"host_port"},
            "snowflake": {"account_id"}, "bigquery": set()}
AWS_CONNECTION = {"aws_region", "aws_endpoint_url", "aws_access_key_id",
                  "aws_secret_access_key", "aws_session_token", "aws_role",
                  "aws_profile", "aws_advanced_config", "aws_retry_num", "read_timeout"}
SINK = {"server", "token", "timeout_sec", "retry_max_times", "extra_headers", "mode"}
VAR = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")

BASE = {"customer": "acme", "domain": "marketing", "environment": "dev", "profile": "dev",
        "owner": "marketing-data", "costCenter": "cc-4711", "kind": "domain"}
CLOUD = {"local": {"cloud": "local", "cluster": {"mode": "dedicated", "kubeContext": "kind"}},
         "aws": {"cloud": "aws", "region": "eu-west-1", "cluster": {"mode": "dedicated"}},
         "gcp": {"cloud": "gcp", "region": "europe-west1", "gcpProject": "acme-data-dev",
                 "cluster": {"mode": "dedicated"}}}
PROJECT = {"name": "jaffle", "gitUrl": "https://github.com/dbt-labs/jaffle-shop.git",
           "jobs": [{"name": "daily", "schedule": "0 6 * * *", "command": "dbt build"},
                    {"name": "hourly", "schedule": "15 * * * *", "command": "dbt run"}]}
SECRET = {"secure": "v1:AAAA"}
WAREHOUSES = {
    "postgres": {"type": "postgres", "host": "wh.example.com", "database": "analytics",
                 "user": "datahub", "password": SECRET},
    "redshift": {"type": "redshift", "host": "wh.eu-west-1.redshift.amazonaws.com",
                 "database": "dev", "user": "datahub", "password": SECRET},
    "snowflake": {"type": "snowflake", "account": "xy12345", "database": "ANALYTICS",
                  "user": "DATAHUB", "password": SECRET, "computeWarehouse": "WH_XS",
                  "role": "DATAHUB_READER"},
    "bigquery": {"type": "bigquery", "project": "acme-analytics"},
}
NAMESPACE = "acme-marketing-dev"
ENABLED = {"datahub", "dbt", "metabase"}


def config(cloud: str = "local", warehouse: str | None = None, **datahub: Any) -> StackConfig:
    data = {**BASE, **CLOUD[cloud], "apps": {
        "datahub": {"enabled": True, **datahub},
        "dbt": {"enabled": True, "projects": [PROJECT]}, "metabase": {"enabled": True}}}
    if warehouse:
        data["warehouse"] = WAREHOUSES[warehouse]
    return parse_stack_config({"config": {f"dataplatform:{k}": v for k, v in data.items()}},
                              "test")


def sources(cfg: StackConfig) -> LineageSources:
    """What the domain's DataHub takes its recipes from, as the stack `cfg` states it."""
    return LineageSources(site=site(cfg), ingestion=cfg.apps.datahub.ingestion,
                          dbt_projects=tuple(cfg.apps.dbt.projects), warehouse=cfg.warehouse)


def recipes_of(cfg: StackConfig, enabled=frozenset(ENABLED)) -> dict[str, ScheduledRecipe]:
    recipes, _ = domain_recipes(sources(cfg), enabled, NAMESPACE)
    return {r.key: r for r in recipes}


def check_documented_shape(scheduled: ScheduledRecipe) -> None:
    """The recipe shape DataHub documents, and self-contained variables."""
    data = yaml.safe_load(scheduled.recipe.to_yaml())
    assert set(data) == {"pipeline_name", "source", "sink"}
    source, sink = data["source"], data["sink"]
    assert set(source) == {"type", "config"}
    kind, conf = source["type"], source["config"]
    assert kind in DOCUMENTED, kind
    assert set(conf) <= DOCUMENTED[kind], set(conf) - DOCUMENTED[kind]
    assert REQUIRED[kind] <= set(conf)
    assert set(conf.get("aws_connection") or {}) <= AWS_CONNECTION
    assert conf["stateful_ingestion"] == {"enabled": True, "remove_stale_metadata": True}
    assert sink == {"type": "datahub-rest", "config": {
        "server": "${DATAHUB_GMS_URL}", "token": "${DATAHUB_GMS_TOKEN}"}}
    assert set(sink["config"]) <= SINK
    provided = set(scheduled.env) | set(scheduled.secret_env)
    used = set(VAR.findall(json.dumps(data)))
    assert used <= provided, f"unset variables {used - provided}"
    for key, value in conf.items():
        if "password" in key or "secret" in key:
            assert VAR.fullmatch(value), f"{key} must come from the environment"


VARIANTS = [("local", None), ("local", "postgres"), ("aws", "redshift"), ("aws", "snowflake"),
            ("gcp", "bigquery")]


@pytest.mark.parametrize(("cloud", "warehouse"), VARIANTS)
def test_every_recipe_is_rendered_golden_and_documented(cloud, warehouse):
    recipes = recipes_of(config(cloud, warehouse))
    assert set(recipes) == {"dbt-jaffle", "metabase", *(["warehouse"] if warehouse else [])}
    for key, scheduled in recipes.items():
        check_documented_shape(scheduled)
        assert_golden(f"datahub/recipe-{cloud}-{warehouse or 'none'}-{key}", {
            "schedule": scheduled.schedule, "env": list(scheduled.env),
            "secretEnv": {k: f"{v.secret}/{v.key}" for k, v in scheduled.secret_env.items()},
            "gcsCopies": dict(scheduled.gcs_copies),
            "recipe": scheduled.recipe.as_dict()})


# CI installs the `recipes` extra and sets this: there a missing DataHub is a failure.
DATAHUB_REQUIRED = os.environ.get("DATAPLATFORM_REQUIRE_DATAHUB") == "1"


def datahub_module(name: str):
    if DATAHUB_REQUIRED:
        return importlib.import_module(name)
    return pytest.importorskip(name)


@pytest.mark.parametrize(("cloud", "warehouse"), VARIANTS)
def test_recipes_parse_with_datahubs_own_config_classes(cloud, warehouse):
    """Where the DataHub CLI is installed (`pip install 'acryl-datahub[dbt,metabase,
    postgres,redshift,snowflake,bigquery]==1.7.0'`, the chart's version): its own models,
    which refuse unknown keys, accept every recipe once `${VAR}`s are expanded."""
    registry, loader, pipeline, sinks = (datahub_module(m) for m in (
        "datahub.ingestion.source.source_registry", "datahub.configuration.config_loader",
        "datahub.ingestion.run.pipeline_config", "datahub.ingestion.sink.sink_registry"))
    enabled = frozenset({*ENABLED, "airbyte"})
    for scheduled in recipes_of(config(cloud, warehouse), enabled).values():
        env = {var: "x" for var in (*scheduled.env, *scheduled.secret_env)}
        data = loader.resolve_env_variables(scheduled.recipe.as_dict(), environ=env)
        pipeline.PipelineConfig.model_validate(data)
        try:
            source = registry.source_registry.get(data["source"]["type"])
        except Exception as exc:  # a plugin whose extra is not installed
            if DATAHUB_REQUIRED:
                raise
            pytest.skip(f"DataHub source {data['source']['type']}: {exc}")
        source.get_config_class().model_validate(data["source"]["config"])
        sinks.sink_registry.get("datahub-rest").get_config_class().model_validate(
            data["sink"]["config"])


@pytest.mark.parametrize("cloud", ["local", "aws", "gcp"])
def test_dbt_recipe_reads_the_latest_artifacts_per_cloud(cloud):
    dbt = recipes_of(config(cloud))["dbt-jaffle"]
    conf = dbt.recipe.source.config
    latest = latest_prefix("jaffle", "daily")
    assert latest == "dbt/jaffle/daily/latest"
    if cloud == "gcp":  # copied by the init container with workload identity
        assert conf.manifest_path == "/artifacts/daily/manifest.json"
        assert conf.aws_connection is None
        assert dict(dbt.gcs_copies) == {latest: "/artifacts/daily",
                                        "dbt/jaffle/hourly/latest": "/artifacts/hourly"}
    else:
        assert conf.manifest_path == f"s3://${{DBT_ARTIFACTS_BUCKET}}/{latest}/manifest.json"
        assert not dbt.gcs_copies
    assert [("daily" in p, "hourly" in p) for p in conf.run_results_paths] == [
        (True, False), (False, True)]
    assert conf.catalog_path.endswith("daily/latest/catalog.json") or cloud == "gcp"
    aws = conf.aws_connection
    if cloud == "aws":  # IRSA: no keys, no endpoint
        assert aws.model_dump(exclude_none=True) == {"aws_region": "eu-west-1"}
    if cloud == "local":
        assert aws.aws_endpoint_url == "${S3_ENDPOINT_URL}"
        assert dbt.secret_env["MINIO_SECRET_KEY"].secret == "minio-credentials"
    assert conf.target_platform == "postgres"  # no warehouse: the domain's Postgres


def test_dbt_recipe_target_platform_follows_the_warehouse():
    for kind in WAREHOUSES:
        dbt = recipes_of(config("gcp" if kind == "bigquery" else "aws", kind))["dbt-jaffle"]
        assert dbt.recipe.source.config.target_platform == kind


def test_one_dbt_recipe_per_project_and_stable_short_keys():
    cfg = config()
    long_name = "a-very-long-dbt-project-name"
    data = cfg.model_dump(by_alias=True, mode="json", exclude_none=True)
    data["apps"]["dbt"]["projects"].append({**PROJECT, "name": long_name})
    cfg = parse_stack_config({"config": {f"dataplatform:{k}": v for k, v in data.items()}}, "t")
    keys = [k for k in recipes_of(cfg) if k.startswith("dbt")]
    assert len(keys) == 2 and all(len(k) <= CRON_KEY_MAX for k in keys)
    assert cron_key("dbt", long_name) == cron_key("dbt", long_name) != cron_key("dbt", "x")
    assert len("datahub-datahub-ingestion-cron-") + CRON_KEY_MAX == 52  # CronJob name limit


def test_recipes_follow_the_apps_and_settings():
    cfg = config(warehouse="postgres")
    assert set(recipes_of(cfg, frozenset({"datahub"}))) == {"warehouse"}
    assert recipes_of(cfg, frozenset({"dbt", "metabase"})) == {}  # DataHub off: nothing
    off = config(warehouse="postgres", ingestion={
        "dbt": {"enabled": False}, "warehouse": {"enabled": False},
        "metabase": {"username": "u@acme.example", "password": SECRET}})
    assert set(recipes_of(off)) == {"metabase"}


def test_metabase_reads_as_the_generated_reader_without_a_warning():
    recipes, warnings = domain_recipes(sources(config(warehouse="postgres")),
                                       frozenset(ENABLED), NAMESPACE)
    assert warnings == []
    metabase = {r.key: r for r in recipes}["metabase"]
    conf = metabase.recipe.source.config
    assert (conf.username, conf.password) == ("${METABASE_USERNAME}", "${METABASE_PASSWORD}")
    assert {k: (v.secret, v.key) for k, v in metabase.secret_env.items()
            if k.startswith("METABASE")} == {
        "METABASE_USERNAME": (METABASE_READER_SECRET, "username"),
        "METABASE_PASSWORD": (METABASE_READER_SECRET, "password")}
    # Metabase shows database details to admins only: the warehouse's name is given.
    assert conf.database_alias_map == {"postgres": "analytics"}
    assert recipes_of(config())["metabase"].recipe.source.config.database_alias_map is None


def test_deprecated_metabase_user_still_works_and_is_warned_about():
    cfg = config(ingestion={"metabase": {"username": "u@acme.example", "password": SECRET}})
    recipes, warnings = domain_recipes(sources(cfg), frozenset(ENABLED), NAMESPACE)
    metabase = {r.key: r for r in recipes}["metabase"]
    assert metabase.recipe.source.config.username == "u@acme.example"
    assert metabase.secret_env["METABASE_PASSWORD"].secret == "datahub-metabase-credentials"
    assert len(warnings) == 1 and "deprecated" in warnings[0]
    assert "apps.datahub.ingestion.metabase" in warnings[0]


@pytest.mark.parametrize(("profile", "env"), [("dev", "DEV"), ("prod", "PROD")])
def test_airbyte_recipe_uses_airbytes_generated_application(profile, env):
    cfg = config()
    src = dataclasses.replace(sources(cfg), site=dataclasses.replace(site(cfg),
                                                                      profile=profile))
    recipes = {r.key: r for r in domain_recipes(src, frozenset({*ENABLED, "airbyte"}),
                                                NAMESPACE)[0]}
    airbyte = recipes["airbyte"]
    check_documented_shape(airbyte)
    conf = airbyte.recipe.source.config
    assert conf.host_port == (f"http://airbyte-airbyte-server-svc.{NAMESPACE}"
                              ".svc.cluster.local:8001")
    assert (conf.deployment_type, conf.env) == ("oss", env)
    assert {k: (v.secret, v.key) for k, v in airbyte.secret_env.items()} == {
        "DATAHUB_GMS_TOKEN": ("datahub-lineage-token", "token"),
        "AIRBYTE_CLIENT_ID": ("airbyte-auth-secrets", "instance-admin-client-id"),
        "AIRBYTE_CLIENT_SECRET": ("airbyte-auth-secrets", "instance-admin-client-secret")}
    assert airbyte.schedule == "30 4 * * *"
    assert "airbyte" not in recipes_of(cfg)  # Airbyte off: no recipe
    off = config(ingestion={"airbyte": {"enabled": False}})
    assert "airbyte" not in recipes_of(off, frozenset({*ENABLED, "airbyte"}))


def test_warehouse_credentials_come_from_the_environment():
    for kind in ("postgres", "redshift", "snowflake"):
        wh = recipes_of(config("aws", kind))["warehouse"]
        assert wh.recipe.source.config.password == "${WAREHOUSE_PASSWORD}"
        assert wh.secret_env["WAREHOUSE_PASSWORD"].secret == "datahub-warehouse-credentials"
    pg = recipes_of(config(warehouse="postgres"))["warehouse"].recipe.source.config
    assert pg.options == {"connect_args": {"sslmode": "require"}}
    bq = recipes_of(config("gcp", "bigquery"))["warehouse"]
    assert "WAREHOUSE_PASSWORD" not in bq.secret_env  # workload identity, no key


def test_recipe_models_refuse_undocumented_keys():
    with pytest.raises(ValidationError):
        DbtSourceConfig(manifest_path="m", target_platform="postgres", manifest_paths="x")
    with pytest.raises(ValidationError):
        DbtSourceConfig(manifest_path="m", target_platform="mysql")
    recipe = Recipe(pipeline_name="p", source=DbtSource(config=DbtSourceConfig(
        manifest_path="m", target_platform="postgres")))
    assert "catalog_path" not in recipe.as_dict()["source"]["config"]  # unset: left out


@pytest.mark.parametrize(("jobs", "delay", "expected"), [
    (["0 6 * * *"], 30, "30 6 * * *"),
    (["0 6 * * *", "45 5 * * *"], 30, "30 6 * * *"),
    (["30 23 * * *"], 45, "15 0 * * *"),             # wraps past midnight: daily
    (["0 6 * * 1-5"], 30, "30 6 * * 1-5"),           # the jobs' days
    (["0 6 * * 1", "0 7 * * 2"], 30, "30 7 * * *"),  # different days: daily
    (["@daily"], 30, "30 0 * * *"),
    (["10 */6 * * *"], 30, "40 */6 * * *"),
    (["50 */6 * * *"], 30, "30 * * * *"),            # past the hour: hourly
    (["15 * * * *", "0 6 * * *"], 30, "30 * * * *"),
    (["*/10 * * * *"], 20, "20 * * * *"),
])
def test_dbt_recipe_runs_after_the_jobs(jobs, delay, expected):
    assert schedule_after(jobs, delay) == expected


def test_schedule_override():
    cfg = config(ingestion={"dbt": {"schedule": "0 12 * * *"},
                            "metabase": {"username": "u@x.io", "password": SECRET}})
    assert recipes_of(cfg)["dbt-jaffle"].schedule == "0 12 * * *"


# --- the token minter script (run by the lineage-token CronJob)

class FakeApis:
    """Kubernetes and GMS as the script sees them."""

    def __init__(self, stored: str | None, valid: set[str], gms_up: bool = True):
        self.stored, self.valid, self.gms_up, self.calls = stored, valid, gms_up, []

    def __call__(self, method, url, headers, body):
        self.calls.append((method, url.split("/")[-1], headers.get("Authorization", "")))
        if url.endswith("/secrets/datahub-lineage-token"):
            if method == "GET":
                data = {"token": base64.b64encode(self.stored.encode()).decode()} \
                    if self.stored else None
                return 200, json.dumps({"data": data}).encode()
            self.stored = base64.b64decode(json.loads(body)["data"]["token"]).decode()
            return 200, b"{}"
        if not self.gms_up:
            raise OSError("connection refused")
        query = json.loads(body)
        auth = headers["Authorization"]
        if "createAccessToken" in query["query"]:
            assert auth == "Basic __datahub_system:s3cret"
            assert query["variables"]["input"]["duration"] == "NO_EXPIRY"
            self.valid.add("new-token")
            return 200, json.dumps({"data": {"createAccessToken": {
                "accessToken": "new-token"}}}).encode()
        if auth.removeprefix("Bearer ") in self.valid:
            return 200, json.dumps({"data": {"me": {"corpUser": {"urn": "u"}}}}).encode()
        return 401, b"Unauthorized"


ENV = {"DATAHUB_GMS_URL": "http://gms:8080", "TOKEN_SECRET": "datahub-lineage-token",
       "TOKEN_KEY": "token", "TOKEN_ACTOR": "urn:li:corpuser:datahub",
       "DATAHUB_SYSTEM_CLIENT_ID": "__datahub_system", "DATAHUB_SYSTEM_CLIENT_SECRET": "s3cret"}


@pytest.mark.parametrize(("stored", "valid", "result"), [
    (None, set(), "minted"),              # first run: the Secret is empty
    ("old", set(), "minted"),             # revoked or from another DataHub: replaced
    ("good", {"good"}, "kept"),           # a working token: nothing to do
])
def test_token_minter(stored, valid, result):
    apis = FakeApis(stored, set(valid))
    assert mint.run(ENV, apis, "sa-token", NAMESPACE) == result
    assert apis.stored == ("good" if result == "kept" else "new-token")
    patches = [c for c in apis.calls if c[0] == "PATCH"]
    assert len(patches) == (result == "minted")
    assert all(c[2] == "Bearer sa-token" for c in apis.calls if c[1] == "datahub-lineage-token")


def test_token_minter_fails_while_gms_is_down():
    apis = FakeApis(None, set(), gms_up=False)
    with pytest.raises(OSError):
        mint.run(ENV, apis, "sa-token", NAMESPACE)
    assert apis.stored is None
