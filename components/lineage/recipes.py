"""DataHub ingestion recipes as typed models.

A recipe is `{pipeline_name, source: {type, config}, sink: {type: datahub-rest, config:
{server, token}}}` (https://docs.datahub.com/docs/metadata-ingestion/#recipes). Each source
type has its own config model holding only keys its DataHub source documents, so a typo or
a key DataHub dropped fails here rather than at 3 a.m. in a CronJob. Secrets never appear
in a recipe: they are `${VAR}` references that `datahub ingest` expands from the container's
environment, filled from Kubernetes Secrets.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

GMS_URL_ENV = "DATAHUB_GMS_URL"
"""Environment variable holding GMS's in-cluster URL."""
TOKEN_ENV = "DATAHUB_GMS_TOKEN"
"""Environment variable holding the access token (Secret `datahub-lineage-token`)."""


def env(var: str) -> str:
    """A `${VAR}` reference, expanded by `datahub ingest` at run time."""
    return "${" + var + "}"


class RecipeModel(BaseModel):
    """Strict and frozen; keys are DataHub's own (snake_case), unset ones are left out."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class StatefulIngestion(RecipeModel):
    """Soft-delete what disappeared from the source since the last run."""

    enabled: bool = True
    remove_stale_metadata: bool = True


class AwsConnection(RecipeModel):
    """`aws_connection` of the dbt source (reads s3:// artifacts)."""

    aws_region: str
    aws_endpoint_url: str | None = None
    """S3-compatible endpoint (MinIO); unset on AWS."""
    aws_access_key_id: str | None = None
    """Static keys, MinIO only: AWS uses the pod's workload identity (IRSA)."""
    aws_secret_access_key: str | None = None
    aws_advanced_config: dict[str, Any] | None = None
    """Passed to botocore's Config (path-style addressing for MinIO)."""


class DbtSourceConfig(RecipeModel):
    """Source `dbt` (dbt Core artifacts)."""

    manifest_path: str
    catalog_path: str | None = None
    run_results_paths: list[str] = Field(default_factory=list)
    target_platform: Literal["postgres", "redshift", "snowflake", "bigquery"]
    aws_connection: AwsConnection | None = None
    stateful_ingestion: StatefulIngestion = Field(default_factory=StatefulIngestion)


class MetabaseSourceConfig(RecipeModel):
    """Source `metabase` (dashboards, cards and their lineage to tables)."""

    connect_uri: str
    username: str
    password: str
    database_alias_map: dict[str, str] | None = None
    """Platform -> database name: Metabase shows a database's `details` (where the source
    reads the name) to admins only, and DataHub's user is no admin."""
    stateful_ingestion: StatefulIngestion = Field(default_factory=StatefulIngestion)


class AirbyteSourceConfig(RecipeModel):
    """Source `airbyte` (acryl-datahub 1.7.0): connections as pipelines, with lineage from
    their sources to their destinations, read from Airbyte's public API."""

    deployment_type: Literal["oss"] = "oss"
    host_port: str
    """Airbyte server; the source adds `/api/public/v1`."""
    oauth2_client_id: str
    oauth2_client_secret: str
    """An application's credentials (client_credentials grant, Airbyte 1.0+)."""
    env: Literal["DEV", "PROD"]
    stateful_ingestion: StatefulIngestion = Field(default_factory=StatefulIngestion)


class PostgresSourceConfig(RecipeModel):
    """Source `postgres`."""

    host_port: str
    database: str
    username: str
    password: str
    options: dict[str, Any] | None = None
    """SQLAlchemy `create_engine` kwargs (`connect_args.sslmode`)."""
    stateful_ingestion: StatefulIngestion = Field(default_factory=StatefulIngestion)


class RedshiftSourceConfig(RecipeModel):
    """Source `redshift`."""

    host_port: str
    database: str
    username: str
    password: str
    stateful_ingestion: StatefulIngestion = Field(default_factory=StatefulIngestion)


class SnowflakeSourceConfig(RecipeModel):
    """Source `snowflake` (user and password authentication)."""

    account_id: str
    warehouse: str
    username: str
    password: str
    role: str | None = None
    database_pattern: dict[str, list[str]] | None = None
    stateful_ingestion: StatefulIngestion = Field(default_factory=StatefulIngestion)


class BigQuerySourceConfig(RecipeModel):
    """Source `bigquery`; no credential: the pod's workload identity (ADC) is used."""

    project_ids: list[str]
    stateful_ingestion: StatefulIngestion = Field(default_factory=StatefulIngestion)


class DbtSource(RecipeModel):
    type: Literal["dbt"] = "dbt"
    config: DbtSourceConfig


class MetabaseSource(RecipeModel):
    type: Literal["metabase"] = "metabase"
    config: MetabaseSourceConfig


class AirbyteSource(RecipeModel):
    type: Literal["airbyte"] = "airbyte"
    config: AirbyteSourceConfig


class PostgresSource(RecipeModel):
    type: Literal["postgres"] = "postgres"
    config: PostgresSourceConfig


class RedshiftSource(RecipeModel):
    type: Literal["redshift"] = "redshift"
    config: RedshiftSourceConfig


class SnowflakeSource(RecipeModel):
    type: Literal["snowflake"] = "snowflake"
    config: SnowflakeSourceConfig


class BigQuerySource(RecipeModel):
    type: Literal["bigquery"] = "bigquery"
    config: BigQuerySourceConfig


Source = Annotated[DbtSource | MetabaseSource | AirbyteSource | PostgresSource
                   | RedshiftSource | SnowflakeSource | BigQuerySource,
                   Field(discriminator="type")]


class RestSinkConfig(RecipeModel):
    server: str = env(GMS_URL_ENV)
    token: str = env(TOKEN_ENV)


class RestSink(RecipeModel):
    """Sink `datahub-rest`: GMS, authenticated with the lineage token."""

    type: Literal["datahub-rest"] = "datahub-rest"
    config: RestSinkConfig = Field(default_factory=RestSinkConfig)


class Recipe(RecipeModel):
    """One `datahub ingest -c` recipe."""

    pipeline_name: str
    """Stable id of the pipeline: stateful ingestion keys its checkpoints on it."""
    source: Source
    sink: RestSink = Field(default_factory=RestSink)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.as_dict(), sort_keys=False, width=100)
