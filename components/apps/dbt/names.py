"""Names shared with the apps that read dbt's output (DataHub) or watch its Jobs.

Each run uploads to `<artifacts bucket>/dbt/<project>/<job>/<UTC timestamp>/` (the history)
and then overwrites the same files in `.../<job>/latest/`, the fixed path DataHub's dbt
source reads. Keep this module dependency-free: it is the contract between the apps.
"""

from __future__ import annotations

ARTIFACTS_PREFIX = "dbt"
"""Top-level folder of the artifacts bucket that holds every dbt run."""

ARTIFACT_FILES = ("manifest.json", "run_results.json", "catalog.json")
"""Files of dbt's target/ directory uploaded after each run (catalog: `dbt docs generate`)."""

TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
"""`date -u` format of a run's folder name (its start, UTC), so folder names sort by time."""

LATEST = "latest"
"""Folder, next to the timestamped ones, holding the newest run's files."""

PROJECT_LABEL = "dataplatform/dbt-project"
"""Label naming the dbt project, on the CronJob, its Jobs and their pods."""

JOB_LABEL = "dataplatform/dbt-job"
"""Label naming the dbt job (with PROJECT_LABEL: whose Job outcome kube-state-metrics saw)."""


def artifact_prefix(project: str, job: str) -> str:
    """Folder (no bucket, no trailing slash) holding every run of `project`'s `job`."""
    return f"{ARTIFACTS_PREFIX}/{project}/{job}"


def latest_prefix(project: str, job: str) -> str:
    """Folder holding the newest artifacts of `project`'s `job` (overwritten by each run)."""
    return f"{artifact_prefix(project, job)}/{LATEST}"

POD_TEMPLATE = "dbt-pod-template"
"""ConfigMap of dbt's pod templates, mounted into Airflow's task pods (KubernetesPodOperator)."""
