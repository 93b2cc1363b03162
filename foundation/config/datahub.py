"""`apps.datahub`: DataHub, where its Kafka and search engine run, and its lineage ingestion.

DataHub needs Kafka, a search engine (OpenSearch) and a SQL store. The SQL store is always
the domain's metadata Postgres (database `datahub`). Kafka and search run in the cluster by
default (the `datahub-prerequisites` chart, sized per profile) or are managed services
(Amazon MSK / OpenSearch Service, or any Kafka / OpenSearch endpoint on GCP such as Managed
Service for Apache Kafka or Elastic Cloud) named here. Passwords are config secrets.

`ingestion` drives the recipes `components/lineage/` renders: one per dbt project, one for
Metabase, one for Airbyte, one for the warehouse. Images and sizes are not here but in
charts-values/.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from foundation.config._checks import matching
from foundation.config.app import AppConfig
from foundation.config.base import Model, RuleViolations
from foundation.config.dbt import cron_problem
from foundation.config.secrets import SecretValue

Mode = Literal["in-cluster", "managed"]
HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
HOST_PORT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*:\d{1,5}")
USERNAME = re.compile(r"[^\s:]{1,128}")


def _cron(value: str) -> str:
    problem = cron_problem(value)
    if problem:
        raise ValueError(f"'{value}' is not a cron schedule: {problem} (5 fields, e.g. "
                         "'0 4 * * *', in UTC)")
    return value


def _bootstrap(value: str) -> str:
    servers = value.split(",")
    bad = [s for s in servers if not HOST_PORT.fullmatch(s) or int(s.rsplit(":", 1)[1]) > 65535]
    if bad:
        raise ValueError(f"'{value}' is not a list of host:port separated by commas "
                         "(e.g. 'b-1.msk.example:9094,b-2.msk.example:9094')")
    return value


Cron = Annotated[str, AfterValidator(_cron)]
Host = Annotated[str, matching(HOST, "a host name (no scheme, path or port: give the port in "
                                     "`port`)")]
Username = Annotated[str, matching(USERNAME, "a user name (1-128 characters, no spaces or "
                                             "':')")]


def _only_when(model: Model, mode: str, keys: tuple[str, ...]) -> list[tuple[str, str]]:
    """Keys of `model` given a non-default value although they only apply to 'managed'.

    Compared with the default rather than "was it set", so a dumped config reloads.
    """
    changed = {f.alias for name, f in type(model).model_fields.items()
               if getattr(model, name) != f.default}
    return [(k, f"mode '{mode}' takes no {k} (it is for mode 'managed')")
            for k in keys if k in changed]


class KafkaSettings(Model):
    """Where DataHub's Kafka runs."""

    mode: Mode = Field("in-cluster", description="'in-cluster': the datahub-prerequisites "
                       "chart (one broker in dev); 'managed': bootstrapServers below.")
    bootstrap_servers: Annotated[str, AfterValidator(_bootstrap)] | None = Field(
        None, description="managed: host:port list of the brokers (e.g. MSK's TLS "
                          "bootstrap string).")
    tls: bool = Field(True, description="managed: connect with TLS (MSK port 9094); the "
                                        "brokers must accept TLS without client auth.")

    @model_validator(mode="after")
    def _per_mode(self) -> KafkaSettings:
        p = _only_when(self, self.mode, ("bootstrapServers", "tls")) \
            if self.mode == "in-cluster" else []
        if self.mode == "managed" and not self.bootstrap_servers:
            p.append(("bootstrapServers", "kafka mode 'managed' needs bootstrapServers"))
        if p:
            raise RuleViolations(p)
        return self


class SearchSettings(Model):
    """Where DataHub's search and graph index runs (OpenSearch or Elasticsearch)."""

    mode: Mode = Field("in-cluster", description="'in-cluster': OpenSearch from the "
                       "datahub-prerequisites chart; 'managed': host below.")
    host: Host | None = Field(
        None, description="managed: endpoint host name (e.g. an OpenSearch Service VPC "
                          "endpoint), without scheme or port.")
    port: int = Field(443, ge=1, le=65535, description="managed: endpoint port.")
    use_ssl: bool = Field(True, description="managed: connect over HTTPS.")
    username: Username | None = Field(
        None, description="managed: basic-auth user (e.g. the OpenSearch Service "
                          "fine-grained access control user).")
    password: SecretValue | None = Field(
        None, description="managed: basic-auth password, a config secret: `pulumi config "
                          "set --secret --path dataplatform:apps.datahub.search.password`.")

    @model_validator(mode="after")
    def _per_mode(self) -> SearchSettings:
        p: list[tuple[str, str]] = []
        if self.mode == "in-cluster":
            p += _only_when(self, self.mode, ("host", "port", "useSsl", "username",
                                              "password"))
        elif not self.host:
            p.append(("host", "search mode 'managed' needs host"))
        if (self.username is None) != (self.password is None):
            p.append(("password" if self.password is None else "username",
                      "give both username and password, or neither"))
        if p:
            raise RuleViolations(p)
        return self


class PrerequisitesSettings(Model):
    """The `datahub-prerequisites` chart (in-cluster Kafka and OpenSearch)."""

    values: dict[str, Any] = Field(
        default_factory=dict,
        description="Helm values deep-merged over charts-values/datahub-prerequisites/.")


class DbtIngestion(Model):
    """One recipe per dbt project of `apps.dbt`, reading its artifacts from the lake."""

    enabled: bool = Field(True, description="Ingest dbt lineage when apps.dbt is enabled.")
    delay_minutes: int = Field(
        30, ge=5, le=720, description="Run this long after the project's latest daily job "
                                      "(see components/lineage/schedule.py).")
    schedule: Cron | None = Field(
        None, description="Schedule for every dbt recipe instead of the derived one.")
    include_catalog: bool = Field(
        True, description="Read catalog.json (column types); needs `dbt docs generate` in "
                          "the job's artifacts.")


class MetabaseIngestion(Model):
    """The Metabase recipe, as the read-only user Metabase's setup Job creates."""

    enabled: bool = Field(True, description="Ingest Metabase when apps.metabase is enabled.")
    schedule: Cron = Field("0 4 * * *", description="Cron schedule, UTC.")
    username: Username | None = Field(
        None, description="Deprecated: the platform creates DataHub's Metabase user. A "
                          "hand-made Metabase user (e-mail) to read dashboards as instead.")
    password: SecretValue | None = Field(
        None, description="Deprecated, with username: its password, a config secret "
                          "(`pulumi config set --secret --path "
                          "dataplatform:apps.datahub.ingestion.metabase.password`).")

    @model_validator(mode="after")
    def _pair(self) -> MetabaseIngestion:
        if (self.username is None) != (self.password is None):
            raise RuleViolations([("password" if self.password is None else "username",
                                   "give both username and password, or neither")])
        return self


class WarehouseIngestion(Model):
    """The recipe for the domain's `warehouse` (credentials: `warehouse.password`)."""

    enabled: bool = Field(True, description="Ingest the warehouse when `warehouse` is set.")
    schedule: Cron = Field("0 3 * * *", description="Cron schedule, UTC.")


class AirbyteIngestion(Model):
    """The Airbyte recipe (DataHub's `airbyte` source, Airbyte's generated API client)."""

    enabled: bool = Field(True, description="Ingest Airbyte when apps.airbyte is enabled.")
    schedule: Cron = Field("30 4 * * *", description="Cron schedule, UTC.")


class IngestionSettings(Model):
    """Scheduled ingestion recipes (the chart's datahub-ingestion-cron)."""

    dbt: DbtIngestion = Field(default_factory=DbtIngestion)
    metabase: MetabaseIngestion = Field(default_factory=MetabaseIngestion)
    airbyte: AirbyteIngestion = Field(default_factory=AirbyteIngestion)
    warehouse: WarehouseIngestion = Field(default_factory=WarehouseIngestion)


class DataHubConfig(AppConfig):
    """DataHub, its prerequisites and its lineage recipes.

    `values` overrides charts-values/datahub/ like any chart's values.
    """

    prerequisites: PrerequisitesSettings = Field(default_factory=PrerequisitesSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    ingestion: IngestionSettings = Field(default_factory=IngestionSettings)

    @property
    def needs_prerequisites(self) -> bool:
        """True when Kafka or search runs in the cluster (the prerequisites chart)."""
        return "in-cluster" in (self.kafka.mode, self.search.mode)
