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

Lineage to DataHub (issue 19), when the domain enables DataHub: Airflow's OpenLineage
provider, which the stock `apache/airflow` image installs (`openlineage` is one of the
image's default extras, docs/docker-stack/build-arg-ref), posts run events over HTTP to
GMS' OpenLineage endpoint (`/openapi/openlineage/api/v1/lineage`), with the token of
Secret `datahub-lineage-token` (created by the DataHub app) read by `secretKeyRef`, and
the domain as OpenLineage namespace. No plugin and no custom image: a stack that sets
`apps.airflow.image` to another repository or a `slim` tag gets a plan warning, since such
an image may lack the provider. Without DataHub none of this is set.

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

from components._values import layer
from components.apps.airflow import _secrets as secrets
from components.apps.airflow._values import computed_values, lineage_image_warning
from components.apps.context import AppContext
from components.frontdoor.sso import airflow_values, oidc_secret
from components.helm_app import HelmApp, helm_child_opts
from foundation.config.airflow import AirflowConfig

APP = "airflow"
PGBOUNCER_PORT = 6543
"""Chart default of `ports.pgbouncer`."""
REDIS_PORT = 6379
"""Chart default of `ports.redisDB`."""
OIDC_SECRET = "airflow-oidc"
"""Secret (key client-secret) the API server's OAuth client reads."""


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
        warning = lineage_image_warning(ctx, settings)
        if warning:
            pulumi.log.warn(warning, resource=self)
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
        computed = computed_values(ctx, settings, static, f.out.names)
        before = [*ctx.depends_on, *f.out.resources]
        sign_on = ctx.sign_on.get(APP)
        if sign_on is not None:  # behind the front door: its URL, and OIDC with an issuer
            computed = layer(computed, airflow_values(sign_on, OIDC_SECRET, static))
            if sign_on.oidc is not None:
                before.append(oidc_secret(f"{name}-oidc-secret", ctx.namespace, OIDC_SECRET,
                                          sign_on.oidc, {**ctx.labels,
                                                         "app.kubernetes.io/name": APP},
                                          pulumi.ResourceOptions(parent=self)))
        helm = HelmApp(f"{name}-helm", args.with_computed(computed),
                       opts=helm_child_opts(self, name, before))
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
