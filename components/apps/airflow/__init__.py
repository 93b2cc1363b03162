"""Airflow: the domain's orchestrator, official chart `airflow` 1.18.0 (Airflow 3.0.2).

- Executor (`apps.airflow.executor`): KubernetesExecutor, a pod per task and nothing idle
  (always in dev); CeleryExecutor in prod on request, with 2 workers and Redis, whose
  password and broker URL are generated Secrets.
- DAGs: git-sync from `apps.airflow.dags` (repo, branch, subPath). A private repository
  uses an ssh URL and a deploy key, a config secret put into Secret `airflow-git-ssh`.
- Metadata DB: the domain's Postgres (`airflow-db-credentials`), the chart's own off. The
  URI Secret is built from the connection parts (sslmode=require on a managed database).
  prod puts pgbouncer in front, with its config and stats Secrets built the same way.
- Stable secrets: fernet key, API (Airflow 3) / webserver (Airflow 2) secret keys, JWT
  secret and the admin password come from pulumi-random, once, into Secrets the chart
  references by name (its own would be re-rolled by each Argo CD sync).
- Task logs: the domain's `logs` bucket under `airflow/`, through the `airflow` workload
  identity (S3 via IRSA, GCS via GKE Workload Identity); on local, MinIO with the keys of
  Secret `minio-credentials` passed by reference. Metrics: the statsd exporter.

Lineage to DataHub (issue 5), when the domain enables DataHub. Route: a documented image
requirement, not `_PIP_ADDITIONAL_REQUIREMENTS` (which Airflow documents as dev-only: a
pip install at every pod start, i.e. at every task with KubernetesExecutor). Build an image
with the plugin and point `apps.airflow.image` at it:

    FROM apache/airflow:3.0.2
    RUN pip install --no-cache-dir "apache-airflow==3.0.2" acryl-datahub-airflow-plugin

The platform then sets `[datahub] enabled/conn_id/cluster` in airflow.cfg and the
connection `datahub_rest_default` (AIRFLOW_CONN_DATAHUB_REST_DEFAULT) to the GMS Service,
its token read from Secret `datahub-lineage-token` (created by the DataHub app) by
reference. Without DataHub none of this is set; with the stock image Airflow runs the same,
only without lineage.

Ad hoc dbt runs (issue 4), when the domain enables dbt: its ConfigMap `dbt-pod-template`
(one `<project>.yaml` per project, main container `base`: the dbt image, profiles, the
project checked out by a git-sync init container) is mounted read-only at
`/opt/airflow/pod-templates/dbt/` in the pods that run tasks (`workers`: KubernetesExecutor
task pods and Celery workers), and `DBT_POD_TEMPLATES` names that folder in every Airflow
container, so DAG files parse anywhere. A DAG then runs dbt in the pod the CronJobs use:

    KubernetesPodOperator(
        task_id="dbt_orders",
        pod_template_file=f"{os.environ['DBT_POD_TEMPLATES']}/jaffle.yaml",
        cmds=["/bin/sh", "-c"], arguments=["dbt deps && dbt build --select orders"])

The chart lets Airflow's ServiceAccount launch pods (`allowPodLaunching`).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.apps.airflow import _secrets as secrets
from components.apps.airflow._values import computed_values
from components.apps.context import AppContext
from components.helm_app import HelmApp, helm_child_opts
from foundation.config.airflow import AirflowConfig

APP = "airflow"
PGBOUNCER_PORT = 6543
"""Chart default of `ports.pgbouncer`."""
REDIS_PORT = 6379
"""Chart default of `ports.redisDB`."""


def pgbouncer_target(release: str, namespace: str,
                     static: dict[str, Any]) -> secrets.Pgbouncer | None:
    """pgbouncer as the merged values configure it (prod.yaml turns it on), or None."""
    pgb = static.get("pgbouncer") or {}
    if not pgb.get("enabled"):
        return None
    return secrets.Pgbouncer(
        host=f"{release}-pgbouncer.{namespace}",
        port=int((static.get("ports") or {}).get("pgbouncer", PGBOUNCER_PORT)),
        database=f"{release}-metadata", pool_size=int(pgb.get("metadataPoolSize", 10)),
        max_client_conn=int(pgb.get("maxClientConn", 100)))


class Airflow(pulumi.ComponentResource):
    """Airflow on the domain's Postgres, bucket and identity, delivered as one chart."""

    api_url: pulumi.Output[str]
    executor: pulumi.Output[str]
    secret_names: pulumi.Output[list[str]]
    values: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, settings: AirflowConfig, ctx: AppContext,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:apps:Airflow", name, None, opts)
        args = ctx.helm_args(APP, settings)
        static = args.static_values
        f = secrets.SecretFactory(name, ctx.namespace, {**ctx.labels, "app.kubernetes.io/name":
                                                        APP}, self, ctx.profile == "prod")
        secrets.stable_keys(f)
        secrets.admin_credentials(f)
        secrets.metadata_connection(f, ctx.database(APP), ctx.managed_database,
                                    pgbouncer_target(APP, ctx.namespace, static))
        if settings.dags is not None and settings.dags.is_ssh:
            secrets.git_ssh_key(f)
        if settings.executor == "CeleryExecutor":
            secrets.celery_broker(f, f"{APP}-redis", REDIS_PORT)
        helm = HelmApp(f"{name}-helm", args.with_computed(computed_values(
            ctx, settings, static, f.out.names)),
            opts=helm_child_opts(self, name, [*ctx.depends_on, *f.out.resources]))
        triggerer = static.get("triggerer") or {}
        if triggerer.get("enabled", True) and int(triggerer.get("replicas", 1)) >= 2:
            # The chart has no PDB setting for the triggerer (it has for the API server,
            # scheduler and pgbouncer): keep one up through drains.
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-triggerer-pdb",
                metadata={"name": f"{APP}-triggerer", "namespace": ctx.namespace,
                          "labels": {**ctx.labels, "app.kubernetes.io/name": APP}},
                spec={"maxUnavailable": 1, "selector": {"matchLabels": {
                    "tier": "airflow", "component": "triggerer", "release": APP}}},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[helm]))
        self.api_url = pulumi.Output.from_input(
            f"http://{APP}-api-server.{ctx.namespace}.svc.cluster.local:8080")
        self.executor = pulumi.Output.from_input(settings.executor)
        self.secret_names = pulumi.Output.all(*f.out.names.values()).apply(
            lambda n: sorted(set(n)))
        self.values = helm.values
        self.register_outputs({"api_url": self.api_url, "executor": self.executor,
                               "secret_names": self.secret_names, "values": self.values})


def build(name: str, settings: AirflowConfig, ctx: AppContext) -> Airflow:
    return Airflow(name, settings, ctx, opts=ctx.opts)
