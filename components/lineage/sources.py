"""The domain's ingestion recipes, derived from the stack config alone.

- dbt: one recipe per project of `apps.dbt` (when dbt is enabled), reading the artifacts
  the runners upload. A run writes `dbt/<project>/<job>/<timestamp>/`; DataHub reads fixed
  paths, so the uploader must also write the same files to `dbt/<project>/<job>/latest/`
  (`latest_prefix`). The manifest and catalog come from the project's first job, the run
  results from every job. aws: s3:// through the ServiceAccount's IRSA role; local: s3://
  on MinIO with its root keys; gcp: the dbt source reads gs:// only with HMAC keys, so an
  init container copies the files with the pod's workload identity and the recipe reads
  local paths.
- metabase: when Metabase is enabled, as the read-only user its setup Job creates (Secret
  `metabase-datahub-credentials`); `ingestion.metabase.username/password` (deprecated)
  name a hand-made user instead. With a warehouse, its database name is given to the
  source (`database_alias_map`): Metabase hides a database's details from non-admins.
- airbyte: when Airbyte is enabled: DataHub's `airbyte` source on Airbyte's public API,
  with the instance admin's application credentials that Airbyte's bootloader generates
  into Secret `airbyte-auth-secrets` (read by reference; the CronJob's pods wait for it).
- warehouse: when the stack has a `warehouse` section.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from components.apps.context import MINIO_SECRET
from components.apps.dbt.names import artifact_prefix
from components.lineage.names import (
    AIRBYTE_AUTH_SECRET,
    AIRBYTE_CLIENT_ID_KEY,
    AIRBYTE_CLIENT_SECRET_KEY,
    LINEAGE_TOKEN_KEY,
    LINEAGE_TOKEN_SECRET,
    METABASE_READER_SECRET,
    fabric_env,
)
from components.lineage.recipes import (
    GMS_URL_ENV,
    TOKEN_ENV,
    AirbyteSource,
    AirbyteSourceConfig,
    AwsConnection,
    BigQuerySource,
    BigQuerySourceConfig,
    DbtSource,
    DbtSourceConfig,
    MetabaseSource,
    MetabaseSourceConfig,
    PostgresSource,
    PostgresSourceConfig,
    Recipe,
    RedshiftSource,
    RedshiftSourceConfig,
    SnowflakeSource,
    SnowflakeSourceConfig,
    env,
)
from components.lineage.schedule import schedule_after
from components.site import Site
from foundation.config.datahub import IngestionSettings
from foundation.config.dbt import DbtProject
from foundation.config.warehouse import WarehouseConfig

LATEST = "latest"
METABASE_SECRET = "datahub-metabase-credentials"
"""Deprecated hand-made Metabase user's password (`ingestion.metabase.password`)."""
WAREHOUSE_SECRET = "datahub-warehouse-credentials"
METABASE_URL = "http://metabase.{namespace}.svc.cluster.local:80"
"""Service of chart `metabase` for release `metabase` (fullname `metabase`, port 80)."""
AIRBYTE_URL = "http://airbyte-airbyte-server-svc.{namespace}.svc.cluster.local:8001"
"""Service of airbyte-server (API and UI since Airbyte 1.7) for release `airbyte`."""
BUCKET_ENV, ENDPOINT_ENV = "DBT_ARTIFACTS_BUCKET", "S3_ENDPOINT_URL"
LOCAL_ARTIFACTS = "/artifacts"
"""gcp: where the init container copies each job's `latest/` files (`<dir>/<job>/`)."""
CRON_KEY_MAX = 21
"""The chart names CronJobs `datahub-datahub-ingestion-cron-<key>`: 52 - 31 characters."""


@dataclass(frozen=True)
class SecretRef:
    secret: str
    key: str


@dataclass(frozen=True)
class ScheduledRecipe:
    """One recipe and what its CronJob needs around it."""

    key: str
    """Cron key in the chart's `crons` (also the recipe ConfigMap's suffix)."""
    schedule: str
    recipe: Recipe
    env: tuple[str, ...]
    """Plain variables the component must set (GMS URL, bucket, endpoint)."""
    secret_env: Mapping[str, SecretRef]
    """Variables read from Secrets (token, passwords, MinIO keys)."""
    gcs_copies: Mapping[str, str] = field(default_factory=dict)
    """gcp: `gs://` prefix (below the bucket) -> local folder to copy it to first."""

    @property
    def file_name(self) -> str:
        return f"{self.key}.yml"


@dataclass(frozen=True)
class LineageSources:
    """What a domain's DataHub recipes are made from."""

    site: Site
    """Names, cloud and region of the domain."""
    ingestion: IngestionSettings
    """`apps.datahub.ingestion` of the stack file."""
    dbt_projects: Sequence[DbtProject] = ()
    """The dbt projects whose artifacts become lineage (`apps.dbt.projects`)."""
    warehouse: WarehouseConfig | None = None
    """The domain's warehouse, a recipe source of its own."""


def cron_key(kind: str, name: str = "") -> str:
    """`<kind>-<name>`, shortened with a stable hash when too long for a CronJob name."""
    key = f"{kind}-{name}" if name else kind
    if len(key) <= CRON_KEY_MAX:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:5]
    return f"{key[:CRON_KEY_MAX - 6].rstrip('-')}-{digest}"


def latest_prefix(project: str, job: str) -> str:
    """Folder the dbt uploader must (also) write each run's artifacts to."""
    return f"{artifact_prefix(project, job)}/{LATEST}"


def _common_secret_env() -> dict[str, SecretRef]:
    return {TOKEN_ENV: SecretRef(LINEAGE_TOKEN_SECRET, LINEAGE_TOKEN_KEY)}


def _local_artifact(job: str, file: str) -> str:
    """gcp: a file the init container copied from the job's `latest/` folder."""
    return f"{LOCAL_ARTIFACTS}/{job}/{file}"


def _s3_artifact(project: str, job: str, file: str) -> str:
    """aws / local: a file of the job's `latest/` folder, in the bucket (S3 or MinIO)."""
    return f"s3://{env(BUCKET_ENV)}/{latest_prefix(project, job)}/{file}"


def dbt_recipes(src: LineageSources) -> list[ScheduledRecipe]:
    settings = src.ingestion.dbt
    platform = src.warehouse.type if src.warehouse else "postgres"
    out = []
    for project in src.dbt_projects:
        jobs = [j.name for j in project.jobs]
        secret_env, env_vars = _common_secret_env(), [GMS_URL_ENV]
        copies: dict[str, str] = {}
        path: Callable[[str, str], str]  # (job, file) -> where the recipe reads the file
        if src.site.cloud == "gcp":
            path = _local_artifact
            copies = {latest_prefix(project.name, j): f"{LOCAL_ARTIFACTS}/{j}" for j in jobs}
            aws = None
        else:
            path = functools.partial(_s3_artifact, project.name)
            env_vars.append(BUCKET_ENV)
            aws = AwsConnection(aws_region=src.site.region or "us-east-1")
            if src.site.cloud == "local":
                env_vars.append(ENDPOINT_ENV)
                secret_env |= {"MINIO_ACCESS_KEY": SecretRef(MINIO_SECRET, "rootUser"),
                               "MINIO_SECRET_KEY": SecretRef(MINIO_SECRET, "rootPassword")}
                aws = AwsConnection(
                    aws_region="us-east-1", aws_endpoint_url=env(ENDPOINT_ENV),
                    aws_access_key_id=env("MINIO_ACCESS_KEY"),
                    aws_secret_access_key=env("MINIO_SECRET_KEY"),
                    aws_advanced_config={"s3": {"addressing_style": "path"}})
        config = DbtSourceConfig(
            manifest_path=path(jobs[0], "manifest.json"),
            catalog_path=path(jobs[0], "catalog.json") if settings.include_catalog else None,
            run_results_paths=[path(j, "run_results.json") for j in jobs],
            target_platform=platform, aws_connection=aws)
        key = cron_key("dbt", project.name)
        schedule = settings.schedule or schedule_after([j.schedule for j in project.jobs],
                                                       settings.delay_minutes)
        out.append(ScheduledRecipe(
            key=key, schedule=schedule,
            recipe=Recipe(pipeline_name=f"{src.site.naming.base}-dbt-{project.name}",
                          source=DbtSource(config=config)),
            env=tuple(env_vars), secret_env=secret_env, gcs_copies=copies))
    return out


def metabase_recipe(src: LineageSources, namespace: str) -> ScheduledRecipe:
    """As the generated reader (Metabase's setup Job), or the deprecated hand-made user."""
    settings, wh = src.ingestion.metabase, src.warehouse
    if settings.password is None:
        secret_env = {"METABASE_USERNAME": SecretRef(METABASE_READER_SECRET, "username"),
                      "METABASE_PASSWORD": SecretRef(METABASE_READER_SECRET, "password")}
        username = env("METABASE_USERNAME")
    else:
        secret_env = {"METABASE_PASSWORD": SecretRef(METABASE_SECRET, "password")}
        username = settings.username or ""
    aliases = {str(wh.type): wh.database} if wh is not None and wh.database else None
    return ScheduledRecipe(
        key=cron_key("metabase"), schedule=settings.schedule,
        recipe=Recipe(pipeline_name=f"{src.site.naming.base}-metabase", source=MetabaseSource(
            config=MetabaseSourceConfig(connect_uri=METABASE_URL.format(namespace=namespace),
                                        username=username, password=env("METABASE_PASSWORD"),
                                        database_alias_map=aliases))),
        env=(GMS_URL_ENV,), secret_env={**_common_secret_env(), **secret_env})


def airbyte_recipe(src: LineageSources, namespace: str) -> ScheduledRecipe:
    return ScheduledRecipe(
        key=cron_key("airbyte"), schedule=src.ingestion.airbyte.schedule,
        recipe=Recipe(pipeline_name=f"{src.site.naming.base}-airbyte", source=AirbyteSource(
            config=AirbyteSourceConfig(
                host_port=AIRBYTE_URL.format(namespace=namespace),
                oauth2_client_id=env("AIRBYTE_CLIENT_ID"),
                oauth2_client_secret=env("AIRBYTE_CLIENT_SECRET"),
                env="PROD" if fabric_env(src.site.profile) == "PROD" else "DEV"))),
        env=(GMS_URL_ENV,), secret_env={
            **_common_secret_env(),
            "AIRBYTE_CLIENT_ID": SecretRef(AIRBYTE_AUTH_SECRET, AIRBYTE_CLIENT_ID_KEY),
            "AIRBYTE_CLIENT_SECRET": SecretRef(AIRBYTE_AUTH_SECRET, AIRBYTE_CLIENT_SECRET_KEY)})


def warehouse_recipe(src: LineageSources) -> ScheduledRecipe:
    wh = src.warehouse
    assert wh is not None
    password = env("WAREHOUSE_PASSWORD")
    source: PostgresSource | RedshiftSource | SnowflakeSource | BigQuerySource
    if wh.type == "postgres":
        source = PostgresSource(config=PostgresSourceConfig(
            host_port=f"{wh.host}:{wh.effective_port}", database=wh.database or "",
            username=wh.user or "", password=password,
            options={"connect_args": {"sslmode": wh.ssl_mode}}))
    elif wh.type == "redshift":
        source = RedshiftSource(config=RedshiftSourceConfig(
            host_port=f"{wh.host}:{wh.effective_port}", database=wh.database or "",
            username=wh.user or "", password=password))
    elif wh.type == "snowflake":
        source = SnowflakeSource(config=SnowflakeSourceConfig(
            account_id=wh.account or "", warehouse=wh.compute_warehouse or "",
            username=wh.user or "", password=password, role=wh.role,
            database_pattern={"allow": [f"^{wh.database}$"]}))
    else:
        source = BigQuerySource(config=BigQuerySourceConfig(project_ids=[wh.project or ""]))
    secret_env = _common_secret_env()
    if wh.type != "bigquery":
        secret_env["WAREHOUSE_PASSWORD"] = SecretRef(WAREHOUSE_SECRET, "password")
    return ScheduledRecipe(
        key=cron_key("warehouse"), schedule=src.ingestion.warehouse.schedule,
        recipe=Recipe(pipeline_name=f"{src.site.naming.base}-warehouse-{wh.type}", source=source),
        env=(GMS_URL_ENV,), secret_env=secret_env)


def domain_recipes(src: LineageSources, enabled: frozenset[str] | set[str],
                   namespace: str) -> tuple[list[ScheduledRecipe], list[str]]:
    """Every recipe of the domain, and warnings about recipes left out."""
    if "datahub" not in enabled:
        return [], []
    ingestion, warnings = src.ingestion, []
    recipes = dbt_recipes(src) if "dbt" in enabled and ingestion.dbt.enabled else []
    if "metabase" in enabled and ingestion.metabase.enabled:
        if ingestion.metabase.password is not None:
            warnings.append("apps.datahub.ingestion.metabase.username/password are deprecated:"
                            " Metabase's setup Job creates DataHub's read-only user; remove "
                            "them to use it")
        recipes.append(metabase_recipe(src, namespace))
    if "airbyte" in enabled and ingestion.airbyte.enabled:
        recipes.append(airbyte_recipe(src, namespace))
    if src.warehouse is not None and ingestion.warehouse.enabled:
        recipes.append(warehouse_recipe(src))
    keys = [r.key for r in recipes]
    if len(set(keys)) != len(keys):
        raise ValueError(f"recipe names collide: {sorted(keys)}")
    return recipes, warnings
