"""The computed layer of Airflow's Helm values: wiring only, no sizes.

Everything here follows from the stack config and the domain's data layer: the executor,
image, git-sync, ServiceAccounts, Secret names, remote logging, OpenLineage to DataHub and
dbt's pod templates. Lists and the `extraEnv` string extend what the files and the stack
override set (a computed list would replace them otherwise).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import pulumi
import yaml

from components._k8s import secret_env
from components.apps.context import MINIO_SECRET, AppContext
from components.apps.dbt.names import POD_TEMPLATE as DBT_POD_TEMPLATE
from components.lineage.names import (
    LINEAGE_TOKEN_KEY,
    LINEAGE_TOKEN_SECRET,
    OPENLINEAGE_ENDPOINT,
    openlineage_url,
)
from foundation.config.airflow import AirflowConfig

IDENTITY = "airflow"
"""Identity of access/identity.yaml whose ServiceAccount the Airflow pods use."""
LOG_FOLDER = "airflow"
"""Prefix of the task logs in the domain's `logs` bucket."""
STOCK_IMAGE = "apache/airflow"
"""Its default extras include `openlineage` (the provider lineage needs)."""
TOKEN_ENV = "OPENLINEAGE_API_KEY"
"""The OpenLineage client's API key variable: sent as `Authorization: Bearer <token>`."""
DBT_TEMPLATES_DIR = "/opt/airflow/pod-templates/dbt"
"""Where task code finds dbt's ConfigMap: one pod template `<project>.yaml` per project."""
DBT_TEMPLATES_ENV = "DBT_POD_TEMPLATES"
"""Variable holding DBT_TEMPLATES_DIR, for a DAG's `pod_template_file`."""
DBT_TEMPLATES_VOLUME = "dbt-pod-templates"
MIGRATION_WAIT = "wait-for-airflow-migrations"
"""The init container (charts-values/airflow/values.yaml) that holds a component back
until `airflow db migrate` has run."""
AIRFLOW_HOME = "/opt/airflow"
# Components that run Airflow code: they share the app's cloud identity (task logs).
AIRFLOW_COMPONENTS = ("workers", "scheduler", "apiServer", "triggerer", "dagProcessor",
                      "migrateDatabaseJob", "createUserJob", "cleanup")
# The jobs are no Helm hooks (values.yaml): hooks run after Helm's wait, and Argo CD runs
# them as PostSync, both after the pods that wait for the migrations. Under Argo CD they
# are Argo CD hooks instead: migrations during the sync, the admin user after it.
ARGOCD_JOBS = {
    "migrateDatabaseJob": "Sync",
    "createUserJob": "PostSync",
}


def _list(static: Mapping[str, Any], key: str, extra: list[Any]) -> list[Any]:
    return [*(static.get(key) or []), *extra]


def _extra_env(static: Mapping[str, Any], extra: list[dict[str, Any]]) -> str | None:
    """`extraEnv` is a templated YAML string in this chart; ours goes after the stack's."""
    if not extra:
        return static.get("extraEnv")
    ours = yaml.safe_dump(extra, sort_keys=False, width=1000)
    return "\n".join(filter(None, [static.get("extraEnv"), ours.rstrip("\n")]))


def identity(ctx: AppContext) -> dict[str, Any]:
    """aws/gcp: every Airflow component runs as the workload-identity SA; local: none."""
    sa = ctx.service_account(IDENTITY)
    if sa is None:
        return {}
    return {c: {"serviceAccount": {"create": False, "name": sa}} for c in AIRFLOW_COMPONENTS}


def remote_logging(ctx: AppContext) -> tuple[dict[str, Any], list[Any], list[Any]]:
    """(config.logging, env, secret) for task logs in the `logs` bucket."""
    bucket = ctx.bucket("logs")
    if ctx.cloud == "gcp":  # the GCS handler uses Application Default Credentials (WI)
        return {"remote_base_log_folder": pulumi.Output.concat(
            "gs://", bucket, "/", LOG_FOLDER)}, [], []
    if ctx.cloud == "aws":  # IRSA credentials from the ServiceAccount
        extra: Any = {"region_name": ctx.site.region}
        secret: list[Any] = []
    else:  # MinIO: keys from its Secret, by reference (boto3 reads AWS_* variables)
        extra = ctx.storage_endpoint.apply(lambda e: {
            "endpoint_url": e, "region_name": "us-east-1",
            "config_kwargs": {"s3": {"addressing_style": "path"}}})
        secret = [{"envName": "AWS_ACCESS_KEY_ID", "secretName": MINIO_SECRET,
                   "secretKey": "rootUser"},
                  {"envName": "AWS_SECRET_ACCESS_KEY", "secretName": MINIO_SECRET,
                   "secretKey": "rootPassword"}]
    conn = pulumi.Output.from_input(extra).apply(
        lambda e: json.dumps({"conn_type": "aws", "extra": e}, sort_keys=True))
    logging = {"remote_base_log_folder": pulumi.Output.concat("s3://", bucket, "/", LOG_FOLDER),
               "remote_log_conn_id": "aws_default"}
    return logging, [{"name": "AIRFLOW_CONN_AWS_DEFAULT", "value": conn}], secret


def lineage(ctx: AppContext) -> list[dict[str, Any]]:
    """extraEnv of the OpenLineage provider (in the stock image) -> DataHub; [] without it.

    No `[openlineage] transport` is set: the provider then hands over to the OpenLineage
    client, which builds an HTTP transport from OPENLINEAGE_URL / _ENDPOINT / _API_KEY
    (provider `conf.is_disabled` and client `_resolve_transport`), so the token is a
    `secretKeyRef` and never part of a value. It is optional: Airflow must not wait for
    DataHub; task pods (KubernetesExecutor) start per task and pick it up once minted.
    """
    if "datahub" not in ctx.enabled:
        return []
    token = secret_env(TOKEN_ENV, LINEAGE_TOKEN_SECRET, LINEAGE_TOKEN_KEY)
    token["valueFrom"]["secretKeyRef"]["optional"] = True
    return [{"name": "OPENLINEAGE_URL", "value": openlineage_url(ctx.namespace)},
            {"name": "OPENLINEAGE_ENDPOINT", "value": OPENLINEAGE_ENDPOINT},
            token,
            {"name": "AIRFLOW__OPENLINEAGE__NAMESPACE", "value": ctx.site.naming.domain}]


def lineage_image_warning(ctx: AppContext, settings: AirflowConfig) -> str | None:
    """The plan's warning when lineage is on but the image may lack the OpenLineage provider:
    another repository than the stock one, or a `slim` tag (no providers)."""
    image = settings.image
    if "datahub" not in ctx.enabled or (
            image.repository == STOCK_IMAGE and "slim" not in image.tag):
        return None
    return (f"apps.airflow.image: {image.repository}:{image.tag} is not the stock "
            f"{STOCK_IMAGE} image; lineage to DataHub needs the OpenLineage provider in it: "
            "build it FROM apache/airflow:3.0.2 (which has it) or add "
            "apache-airflow-providers-openlineage to the image")


def dbt_templates(ctx: AppContext, static: Mapping[str, Any],
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """({workers' volumes and mounts}, env) for dbt's pod templates; nothing without dbt.

    KubernetesPodOperator reads `pod_template_file` when the task runs: in the task's pod
    (KubernetesExecutor, the chart's pod template built from `workers`) or in a Celery
    worker, which both take `workers.extraVolumes`. The scheduler runs no task code with
    either executor, so it gets no mount. The variable goes into the chart-wide `env`, so
    a DAG file that reads it parses wherever DAGs are parsed.
    """
    if "dbt" not in ctx.enabled:
        return {}, []
    workers = static.get("workers") or {}
    # optional: pods never wait for another app's ConfigMap (created in the same run).
    volume = {"name": DBT_TEMPLATES_VOLUME,
              "configMap": {"name": DBT_POD_TEMPLATE, "optional": True}}
    mount = {"name": DBT_TEMPLATES_VOLUME, "mountPath": DBT_TEMPLATES_DIR, "readOnly": True}
    return ({"extraVolumes": _list(workers, "extraVolumes", [volume]),
             "extraVolumeMounts": _list(workers, "extraVolumeMounts", [mount])},
            [{"name": DBT_TEMPLATES_ENV, "value": DBT_TEMPLATES_DIR}])


def git_sync(settings: AirflowConfig, names: Mapping[str, Any]) -> dict[str, Any]:
    dags = settings.dags
    if dags is None:
        return {"enabled": False}
    out: dict[str, Any] = {"enabled": True, "repo": dags.repo, "branch": dags.branch,
                           "ref": dags.branch, "rev": "HEAD", "subPath": dags.sub_path}
    if dags.is_ssh:
        out["sshKeySecret"] = names["sshKeySecret"]
    if dags.known_hosts:
        out["knownHosts"] = dags.known_hosts
    return out


def api_server_migration_wait(static: Mapping[str, Any], image: Mapping[str, str],
                              secret: pulumi.Output[str]) -> dict[str, Any]:
    """The scheduler's sized wait-for-migrations init container, for the API server.

    The chart passes the scheduler's `extraInitContainers` through `tpl` but not the API
    server's, so its template references are resolved here."""
    wait = copy.deepcopy(next(c for c in static["scheduler"]["extraInitContainers"]
                              if c["name"] == MIGRATION_WAIT))
    wait["image"] = f"{image['repository']}:{image['tag']}"
    wait["args"] = [*wait["args"][:-1], "--migration-wait-timeout="
                    f"{static['images']['migrationsWaitTimeout']}"]
    wait["env"] = [{"name": "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "valueFrom": {
        "secretKeyRef": {"name": secret, "key": "connection"}}}]
    wait["volumeMounts"] = [{**m, "mountPath": f"{AIRFLOW_HOME}/airflow.cfg"}
                            for m in wait["volumeMounts"]]
    wait.pop("imagePullPolicy", None)  # Kubernetes' default for a pinned tag: IfNotPresent
    left = [k for k, v in wait.items() if "{{" in json.dumps(v, default=lambda _: "")]
    if left:  # a new template reference in the values file, unresolved here
        raise ValueError(f"apiServer wait-for-migrations: unresolved template in {left}")
    return wait


def computed_values(ctx: AppContext, settings: AirflowConfig, static: Mapping[str, Any],
                    names: Mapping[str, pulumi.Output[str]]) -> dict[str, Any]:
    """The computed layer. `static` is the merged file + stack layers, `names` the
    Secret names by the chart value that takes them (see _airflow_secrets)."""
    celery = settings.executor == "CeleryExecutor"
    image = {"repository": settings.image.repository, "tag": settings.image.tag}
    logging, env, secret = remote_logging(ctx)
    extra_env = lineage(ctx)
    workers, dbt_env = dbt_templates(ctx, static)
    values: dict[str, Any] = {
        "executor": settings.executor,
        "images": {"airflow": image, "pod_template": image},
        "redis": {"enabled": celery},
        "data": {"metadataSecretName": names["metadataSecretName"]},
        **{k: names[k] for k in ("fernetKeySecretName", "apiSecretKeySecretName",
                                 "jwtSecretName", "webserverSecretKeySecretName")},
        "dags": {"gitSync": git_sync(settings, names)},
        "apiServer": {"extraInitContainers": _list(static.get("apiServer") or {},
                                                   "extraInitContainers", [
            api_server_migration_wait(static, image, names["metadataSecretName"])])},
        "config": {"logging": logging},
        "createUserJob": {"extraVolumes": _list(static.get("createUserJob") or {},
                                                "extraVolumes", [{
            "name": "admin-credentials",
            "secret": {"secretName": names["adminSecretName"], "defaultMode": 0o440}}])},
    }
    if celery:
        values["redis"]["passwordSecretName"] = names["passwordSecretName"]
        values["data"]["brokerUrlSecretName"] = names["brokerUrlSecretName"]
    if "configSecretName" in names:
        values["pgbouncer"] = {"configSecretName": names["configSecretName"],
                               "metricsExporterSidecar": {
                                   "statsSecretName": names["statsSecretName"]}}
    if workers:
        values["workers"] = workers
    for key, items in (("env", [*env, *dbt_env]), ("secret", secret)):
        if items:
            values[key] = _list(static, key, items)
    extra = _extra_env(static, extra_env)
    if extra is not None:
        values["extraEnv"] = extra
    if ctx.delivery == "argocd":
        for job, hook in ARGOCD_JOBS.items():
            values.setdefault(job, {}).update({"jobAnnotations": {
                "argocd.argoproj.io/hook": hook,
                "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation"}})
    for component, wiring in identity(ctx).items():
        values.setdefault(component, {}).update(wiring)
    return values
