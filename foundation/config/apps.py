"""`apps:`: the built-in apps, the extra charts and the repositories they may use."""

from __future__ import annotations

from pydantic import Field

from foundation.config.airflow import AirflowConfig
from foundation.config.app import AppConfig, ClusterAppConfig
from foundation.config.base import Model
from foundation.config.datahub import DataHubConfig
from foundation.config.dbt import DbtConfig
from foundation.config.extra import ExtraApp, RepoUrl


class Apps(Model):
    """The built-in apps. Any other key is an unknown app."""

    argocd: ClusterAppConfig = Field(default_factory=ClusterAppConfig)
    airbyte: AppConfig = Field(default_factory=AppConfig)
    airflow: AirflowConfig = Field(default_factory=AirflowConfig)
    dbt: DbtConfig = Field(default_factory=DbtConfig)
    metabase: AppConfig = Field(default_factory=AppConfig)
    datahub: DataHubConfig = Field(default_factory=DataHubConfig)
    extra: list[ExtraApp] = Field(
        default_factory=list, description="Other charts deployed as domain apps.")
    allowed_repos: list[RepoUrl] = Field(
        default_factory=list,
        description="Chart repositories extra apps may use besides charts.lock.yaml's; "
                    "the domain's AppProject lists them.")

    @classmethod
    def built_in(cls) -> list[str]:
        """Keys of the built-in apps (the sections that are not lists)."""
        return [n for n, f in cls.model_fields.items()
                if isinstance(f.annotation, type) and issubclass(f.annotation, AppConfig)]
