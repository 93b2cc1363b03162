"""DbtRunners: the domain's dbt projects, run on schedule as Kubernetes CronJobs.

Our own manifests, not a chart: images, sizes and Job limits come from charts-values/dbt/
(validated by DbtSettings), the projects and jobs from `apps.dbt`. Per domain:

- the `dbt` ServiceAccount (on aws/gcp the one created with workload identity; on
  local a plain one, the uploads using the MinIO keys);
- the Secret `dbt-profiles` holding profiles.yml (and the warehouse password, a config
  secret), see `_dbt_profiles.py`;
- per project with an ssh URL, a Secret with its deploy key and known_hosts;
- one CronJob per job, whose pod is described in `_dbt_pod.py`;
- the ConfigMap `dbt-pod-template`: one pod template per project (key `<project>.yaml`,
  main container `base`) for Airflow's KubernetesPodOperator (`pod_template_file`), so
  ad hoc runs use the same image, ServiceAccount, profiles and checkout;
- with `metrics.enabled` (charts-values/dbt), the ConfigMap `dbt-metrics-script` holding
  `push_results.py`, which each run calls last to push its test results to the platform's
  Pushgateway (docs/data-quality.md); ad hoc runs find it mounted too.

Without a `warehouse`, dbt builds into the domain Postgres (database `dbt`, created by
`database_apps`), reading its credentials from `dbt-db-credentials`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components._k8s import container_security
from components._values import typed_settings
from components.apps.context import AppContext
from components.apps.dbt import _pod as pod
from components.apps.dbt._profiles import (
    PASSWORD_KEY,
    credential_env,
    domain_postgres_output,
    needs_password,
    render_profiles,
    warehouse_output,
)
from components.apps.dbt._settings import DbtSettings
from components.apps.dbt.metrics import PUSH_SCRIPT
from components.apps.dbt.names import (
    ARTIFACTS_PREFIX,
    JOB_LABEL,
    POD_TEMPLATE,
    PROJECT_LABEL,
    artifact_prefix,
)
from foundation.config.dbt import DbtConfig, DbtProject, cronjob_name
from foundation.config.secrets import config_secret

APP = "dbt"
PROFILES_SECRET = "dbt-profiles"
METRICS_CONFIG_MAP = "dbt-metrics-script"


def git_secret_name(project: str) -> str:
    return f"dbt-{project}-git"


class DbtRunners(pulumi.ComponentResource):
    """Scheduled dbt runs of every project of `apps.dbt`, uploading their artifacts."""

    service_account: pulumi.Output[str]
    profiles_secret: pulumi.Output[str]
    cron_jobs: pulumi.Output[list[str]]
    pod_template: pulumi.Output[str]
    artifacts_uri: pulumi.Output[str]

    def __init__(self, name: str, dbt: DbtConfig, ctx: AppContext,
                 opts: pulumi.ResourceOptions | None = None):
        if not dbt.projects:
            raise ValueError(f"DbtRunners {name}: apps.dbt lists no projects")
        wh = ctx.warehouse
        if wh is not None and wh.type == "bigquery" and ctx.cloud != "gcp":
            raise ValueError(f"DbtRunners {name}: a BigQuery warehouse is reached through "
                             "GKE workload identity, so it needs cloud 'gcp'")
        settings = typed_settings(APP, ctx.profile, DbtSettings, dbt.values)
        super().__init__("dataplatform:apps:DbtRunners", name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self, depends_on=list(ctx.depends_on))
        self._ctx, self._settings, self._dbt = ctx, settings, dbt
        self._git_secrets: dict[str, list[pulumi.Resource]] = {}
        labels = {**ctx.labels, "app.kubernetes.io/name": APP}
        self._labels = labels

        sa = self._service_account(name)
        profiles = self._profiles_secret(name)
        db = ctx.database(APP) if wh is None else None
        creds = credential_env(wh, PROFILES_SECRET, db.secret_name if db else None)
        specs = {p.name: self._run_spec(name, i, p) for i, p in enumerate(dbt.projects)}
        metrics, metrics_deps = self._metrics(name)

        up = pod.uploader(ctx.cloud, settings, ctx.site.region, ctx.storage_endpoint)
        base = pulumi.Output.concat(pod.artifacts_scheme(ctx.cloud), ctx.bucket("artifacts"))
        jobs = []
        for project in dbt.projects:
            spec = specs[project.name]
            for job in project.jobs:
                uri = pulumi.Output.concat(base, "/", artifact_prefix(project.name, job.name))
                push = pod.push_command(job.name, cronjob_name(project.name, job.name),
                                        settings.metrics.timeout_seconds)
                init = [pod.git_sync(settings, spec), pod.dbt_container(
                    settings, spec, job.command, creds, metrics, push)]
                pod_spec = pod.pod_spec(settings, sa, init, [pod.upload_container(
                    settings, up, uri)], pod.volumes(PROFILES_SECRET, spec, metrics))
                deadline = (job.timeout_minutes * 60 if job.timeout_minutes
                            else settings.job.active_deadline_seconds)
                jobs.append(self._cron_job(name, project, job.name, job.schedule, deadline,
                                           pod_spec, [profiles, *metrics_deps,
                                                      *self._git_secrets[project.name]]))
        template = self._pod_template(name, sa, specs, creds, metrics)

        self.service_account = pulumi.Output.from_input(sa)
        self.profiles_secret = profiles.metadata["name"]
        self.cron_jobs = pulumi.Output.all(*[j.metadata["name"] for j in jobs])
        self.pod_template = template.metadata["name"]
        self.artifacts_uri = pulumi.Output.concat(base, "/", ARTIFACTS_PREFIX)
        self.register_outputs({
            "service_account": self.service_account, "profiles_secret": self.profiles_secret,
            "cron_jobs": self.cron_jobs, "pod_template": self.pod_template,
            "artifacts_uri": self.artifacts_uri})

    def _meta(self, name: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
        return {"name": name, "namespace": self._ctx.namespace,
                "labels": {**self._labels, **(labels or {})}}

    def _service_account(self, name: str) -> pulumi.Input[str]:
        existing = self._ctx.service_account(APP)
        if existing:  # created with workload identity by the domain's identities
            return existing
        sa = k8s.core.v1.ServiceAccount(f"{name}-service-account", metadata=self._meta(APP),
                                        automount_service_account_token=False,
                                        opts=self._child)
        return sa.metadata["name"]

    def _profiles_secret(self, name: str) -> k8s.core.v1.Secret:
        ctx, settings, dbt = self._ctx, self._settings, self._dbt
        wh = ctx.warehouse
        output = (warehouse_output(wh, settings.threads) if wh is not None
                  else domain_postgres_output(settings.threads, ctx.managed_database))
        text = render_profiles(output, [self._target(p) for p in dbt.projects], ctx.profile)
        data: dict[str, pulumi.Input[str]] = {"profiles.yml": text}
        if needs_password(wh):
            data[PASSWORD_KEY] = config_secret("warehouse.password")
        return k8s.core.v1.Secret(
            f"{name}-profiles", metadata=self._meta(PROFILES_SECRET),
            string_data=pulumi.Output.secret(data), opts=self._child)

    def _metrics(self, name: str) -> tuple[pod.MetricsTarget | None, list[pulumi.Resource]]:
        """The push script's ConfigMap and where the runs push (None: metrics off)."""
        ctx, m = self._ctx, self._settings.metrics
        url = m.pushgateway_url or ctx.pushgateway_url
        if not m.enabled or url is None:
            return None, []
        script = k8s.core.v1.ConfigMap(
            f"{name}-metrics-script", metadata=self._meta(METRICS_CONFIG_MAP),
            data={pod.METRICS_SCRIPT: PUSH_SCRIPT.read_text(encoding="utf-8")},
            opts=self._child)
        return pod.MetricsTarget(url=url, domain=ctx.site.naming.domain,
                                 namespace=ctx.namespace,
                                 config_map=METRICS_CONFIG_MAP), [script]

    def _target(self, project: DbtProject) -> str:
        return project.target or self._ctx.profile

    def _run_spec(self, name: str, index: int, project: DbtProject) -> pod.RunSpec:
        ctx, settings = self._ctx, self._settings
        secret, self._git_secrets[project.name] = None, []
        if project.git_ssh_key is not None:
            secret = git_secret_name(project.name)
            self._git_secrets[project.name].append(k8s.core.v1.Secret(
                f"{name}-{project.name}-git",
                metadata=self._meta(secret, {PROJECT_LABEL: project.name}),
                string_data=pulumi.Output.secret({
                    "ssh": config_secret(f"apps.dbt.projects.{index}.gitSshKey"),
                    "known_hosts": project.git_known_hosts or settings.git_sync.known_hosts}),
                opts=self._child))
        wh_type = ctx.warehouse.type if ctx.warehouse else "postgres"
        return pod.RunSpec(
            project=project.name, git_url=project.git_url, revision=project.revision,
            sub_path=project.sub_path, target=self._target(project), git_secret=secret,
            image=project.image or getattr(settings.adapter_images, wh_type))

    def _cron_job(self, name: str, project: DbtProject, job: str, schedule: str,
                  deadline: int, spec: dict[str, Any], deps: list[pulumi.Resource]):
        s = self._settings.job
        labels = {**self._labels, PROJECT_LABEL: project.name, JOB_LABEL: job}
        return k8s.batch.v1.CronJob(
            f"{name}-{project.name}-{job}",
            metadata=self._meta(cronjob_name(project.name, job), labels),
            spec={
                "schedule": schedule, "timeZone": s.time_zone,
                "concurrencyPolicy": "Forbid",
                "startingDeadlineSeconds": s.starting_deadline_seconds,
                "successfulJobsHistoryLimit": s.successful_jobs_history_limit,
                "failedJobsHistoryLimit": s.failed_jobs_history_limit,
                "jobTemplate": {"metadata": {"labels": labels}, "spec": {
                    "backoffLimit": s.backoff_limit, "activeDeadlineSeconds": deadline,
                    "template": {"metadata": {"labels": labels}, "spec": spec}}},
            },
            opts=pulumi.ResourceOptions.merge(self._child,
                                              pulumi.ResourceOptions(depends_on=deps)))

    def _pod_template(self, name: str, sa: pulumi.Input[str], specs: dict[str, pod.RunSpec],
                      creds: list[dict[str, Any]], metrics: pod.MetricsTarget | None
                      ) -> k8s.core.v1.ConfigMap:
        settings = self._settings

        def render(resolved: list[Any]) -> dict[str, str]:
            account, env = resolved[0], resolved[1]
            out = {}
            for project, spec in specs.items():
                base = {"name": "base", "image": spec.image,
                        "workingDir": pod.project_dir(spec),
                        "env": pod.dbt_env(spec, env, metrics),
                        "resources": settings.resources.dbt.model_dump(),
                        "securityContext": container_security(),
                        "volumeMounts": pod.dbt_mounts(metrics is not None)}
                manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {
                    "labels": {**self._labels, PROJECT_LABEL: project}},
                    "spec": pod.pod_spec(settings, account, [pod.git_sync(settings, spec)],
                                         [base], pod.volumes(PROFILES_SECRET, spec, metrics))}
                out[f"{project}.yaml"] = yaml.safe_dump(manifest, sort_keys=False)
            return out

        data = pulumi.Output.all(sa, creds).apply(render)
        return k8s.core.v1.ConfigMap(f"{name}-pod-template", metadata=self._meta(POD_TEMPLATE),
                                     data=data, opts=self._child)


def build(name: str, settings: DbtConfig, ctx: AppContext) -> DbtRunners:
    return DbtRunners(name, settings, ctx, opts=ctx.opts)
