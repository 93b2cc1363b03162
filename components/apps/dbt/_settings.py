"""charts-values/dbt/: the dbt runners' images, sizes and Job limits, validated."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from components._k8s import Resources
from foundation.config.base import Model
from foundation.config.dbt import pinned_image

Image = Annotated[str, AfterValidator(pinned_image)]
PUSHGATEWAY_URL = re.compile(r"https?://[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?/?")


def _git_sync_v4(value: str) -> str:
    # The containers use git-sync v4's flags (--ref, --one-time): v3 does not know them.
    if not value.rsplit(":", 1)[-1].startswith("v4."):
        raise ValueError(f"'{value}' is not a git-sync v4 image (tag v4.x.y)")
    return value


class AdapterImages(Model):
    """dbt image per warehouse type."""

    postgres: Image = Field(description="dbt-postgres (also the domain's own Postgres).")
    redshift: Image = Field(description="dbt-redshift.")
    snowflake: Image = Field(description="dbt-snowflake.")
    bigquery: Image = Field(description="dbt-bigquery.")


class UploaderImages(Model):
    """Image of the artifacts uploader, per cloud."""

    aws: Image = Field(description="AWS CLI (`aws s3 cp`, IRSA credentials).")
    gcp: Image = Field(description="Google Cloud CLI (`gcloud storage cp`, workload identity).")
    local: Image = Field(description="MinIO client (`mc cp`, keys from minio-credentials).")


class GitSyncSettings(Model):
    """The init container fetching a project's repository."""

    image: Annotated[Image, AfterValidator(_git_sync_v4)] = Field(
        description="git-sync v4 image, pinned.")
    depth: int = Field(1, ge=0, description="Commits of history to fetch (0: all).")
    known_hosts: str = Field(description="known_hosts lines trusted for ssh URLs.")


def _pushgateway_url(value: str) -> str:
    # Goes into the pod's env and a request line: a plain scheme://host[:port], no path,
    # no credentials (the Pushgateway is in-cluster and unauthenticated).
    if not PUSHGATEWAY_URL.fullmatch(value):
        raise ValueError(f"'{value}' is not a Pushgateway URL: http(s)://host[:port], "
                         "e.g. http://prometheus-pushgateway.monitoring.svc:9091")
    return value


class MetricsSettings(Model):
    """The push of each run's test results to the platform's Pushgateway."""

    enabled: bool = Field(True, description="Push test results after each run.")
    pushgateway_url: Annotated[str, AfterValidator(_pushgateway_url)] | None = Field(
        None, description="Where runs push (default: the Pushgateway the cluster's "
                          "monitoring runs in isolation.monitoringNamespace).")
    timeout_seconds: int = Field(10, ge=1, le=120, description="HTTP timeout of a push "
                                                               "(3 attempts).")


class JobSettings(Model):
    """CronJob and Job limits of every dbt job."""

    time_zone: str = Field("Etc/UTC", description="Time zone of the cron schedules.")
    backoff_limit: int = Field(ge=0, le=10, description="Retries of a failed run.")
    active_deadline_seconds: int = Field(
        ge=60, description="Run time after which a run is killed (per job: timeoutMinutes).")
    starting_deadline_seconds: int = Field(
        ge=10, description="A run that could not start this long after its time is skipped.")
    successful_jobs_history_limit: int = Field(ge=0, description="Finished Jobs kept.")
    failed_jobs_history_limit: int = Field(ge=0, description="Failed Jobs kept.")


class ContainerResources(Model):
    """Resources of each container of a run."""

    dbt: Resources = Field(description="The dbt container (the pod's effective request).")
    git_sync: Resources = Field(description="The git-sync init container.")
    uploader: Resources = Field(description="The artifacts uploader.")


class DbtSettings(Model):
    """charts-values/dbt/: images and sizes of the dbt runners."""

    adapter_images: AdapterImages = Field(description="dbt image per warehouse type.")
    uploader_images: UploaderImages = Field(description="Artifacts uploader per cloud.")
    git_sync: GitSyncSettings = Field(description="The repository checkout.")
    threads: int = Field(ge=1, le=64, description="dbt threads (concurrent models).")
    uid: int = Field(ge=1, description="User (and group) every container runs as.")
    job: JobSettings = Field(description="CronJob and Job limits.")
    resources: ContainerResources = Field(description="Per-container requests and limits.")
    metrics: MetricsSettings = Field(description="Test results pushed as metrics.")
