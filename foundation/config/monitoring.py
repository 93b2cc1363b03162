"""`monitoring:` (stacks that own a cluster) and `alerting:` (domain stacks) sections.

`monitoring` configures the cluster's kube-prometheus-stack: retention and storage (each
defaults to the profile's `charts-values/kube-prometheus-stack/<profile>.yaml`), and the
platform team's receiver, which gets every alert no domain route takes. `alerting`
configures one domain: its receivers (Slack, email, PagerDuty or a webhook; webhook URLs,
routing keys and passwords are config secrets) and the thresholds of its alert rules. Rules
that need other sections are in `observability_rules`, which the stack model's validator
calls: among them, a prod stack needs a receiver for its platform and for each domain.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from foundation.chartkeys import closest
from foundation.config.base import Model, Quantity, RuleViolations, StackName
from foundation.config.secrets import SecretValue

if TYPE_CHECKING:
    from foundation.config.stack import StackConfig

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
HOST_PORT = r"^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?:[0-9]{1,5}$"
PROM_DURATION = r"^[0-9]+(ms|s|m|h|d|w|y)$"
PROM_BYTES = r"^[0-9]+(B|KB|MB|GB|TB|PB)$"


def _slack_channel(value: str) -> str:
    if not value.startswith(("#", "@")) or len(value) < 2 or any(c.isspace() for c in value):
        raise ValueError(f"'{value}' is not a Slack channel: '#channel' or '@user'")
    return value


class SlackReceiver(Model):
    """A Slack incoming webhook."""

    webhook_url: SecretValue = Field(
        description="Incoming-webhook URL, a config secret: `pulumi config set --secret "
                    "--path dataplatform:<section>.slack.webhookUrl https://hooks.slack...`.")
    channel: Annotated[str, AfterValidator(_slack_channel)] | None = Field(
        None, description="Channel override ('#data-alerts'); default: the webhook's channel.")


class EmailReceiver(Model):
    """An SMTP relay and the addresses to notify."""

    to: list[Annotated[str, Field(pattern=EMAIL)]] = Field(
        min_length=1, description="Recipients.")
    from_address: str = Field(alias="from", pattern=EMAIL, description="Sender address.")
    smarthost: str = Field(pattern=HOST_PORT, description="SMTP relay, 'host:port'.")
    username: str | None = Field(None, description="SMTP user, if the relay wants a login.")
    password: SecretValue | None = Field(
        None, description="SMTP password, a config secret (`pulumi config set --secret`).")
    require_tls: bool = Field(True, description="STARTTLS required (keep on outside a lab).")

    @model_validator(mode="after")
    def _login(self) -> EmailReceiver:
        if (self.username is None) != (self.password is None):
            raise RuleViolations([("password" if self.username else "username",
                                   "username and password go together")])
        return self


class PagerDutyReceiver(Model):
    """A PagerDuty service, through its Events API v2 integration."""

    routing_key: SecretValue = Field(
        description="Integration (routing) key of the PagerDuty service, a config secret: "
                    "`pulumi config set --secret --path "
                    "dataplatform:<section>.pagerduty.routingKey <key>`.")


class WebhookReceiver(Model):
    """An HTTP endpoint that takes Alertmanager's webhook payload (Opsgenie, Teams bridges,
    incident tools...)."""

    url: SecretValue = Field(
        description="Endpoint URL, a config secret (such URLs often embed a token): "
                    "`pulumi config set --secret --path dataplatform:<section>.webhook.url "
                    "https://...`.")


KINDS = ("slack", "email", "pagerduty", "webhook")
"""The receiver kinds, in the order messages name them."""


class Receiver(Model):
    """Where notifications go: exactly one of `slack`, `email`, `pagerduty` or `webhook`."""

    slack: SlackReceiver | None = Field(None, description="Slack incoming webhook.")
    email: EmailReceiver | None = Field(None, description="Email through an SMTP relay.")
    pagerduty: PagerDutyReceiver | None = Field(
        None, description="PagerDuty service (Events API v2).")
    webhook: WebhookReceiver | None = Field(
        None, description="Generic webhook (Alertmanager's JSON payload).")

    @model_validator(mode="after")
    def _one_kind(self) -> Receiver:
        if sum(getattr(self, k) is not None for k in KINDS) != 1:
            raise RuleViolations([("slack", "give exactly one of slack, email, pagerduty "
                                            "or webhook")])
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)


OTLP_ENDPOINT = re.compile(
    r"(?P<scheme>https?)://(?P<host>[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?)"
    r"(:(?P<port>[0-9]{1,5}))?(?P<path>(/[A-Za-z0-9._~-]+)*/?)")
"""An OTLP endpoint: scheme, host, optional port and path; no credentials, query or
fragment (credentials go in `headers`, which are config secrets)."""
HEADER_NAME = r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$"
Signal = Literal["metrics", "traces", "logs"]
DEFAULT_SIGNALS: tuple[Signal, ...] = ("metrics", "traces")


def _otlp_endpoint(value: str) -> str:
    m = OTLP_ENDPOINT.fullmatch(value)
    if not m or not 0 < int(m["port"] or 1) < 65536:
        raise ValueError(f"'{value}' is not an OTLP endpoint: http(s)://host[:port][/path], "
                         "no user:password@, query or fragment (credentials go in headers)")
    return value


class OtlpBackend(Model):
    """An OTLP backend (Grafana Cloud, Honeycomb, Tempo, a vendor's collector...) the
    platform's OpenTelemetry Collector forwards to, beside the platform's Prometheus."""

    endpoint: Annotated[str, AfterValidator(_otlp_endpoint)] = Field(
        description="Base URL, e.g. https://otlp.example.com:4317 (grpc) or "
                    "https://otlp.example.com/otlp (http: the collector appends "
                    "/v1/metrics, /v1/traces, /v1/logs).")
    protocol: Literal["grpc", "http"] = Field(
        "grpc", description="OTLP transport: grpc or http (http/protobuf).")
    headers: dict[Annotated[str, Field(pattern=HEADER_NAME)], SecretValue] = Field(
        default_factory=dict,
        description="Request headers (API keys, `authorization`), each a config secret: "
                    "`pulumi config set --secret --path "
                    "'dataplatform:monitoring.otlp.headers.authorization' 'Bearer ...'`.")
    signals: list[Signal] = Field(
        default_factory=lambda: list(DEFAULT_SIGNALS), min_length=1,
        description="What is forwarded; metrics also stay in the platform's Prometheus.")

    @model_validator(mode="after")
    def _safe(self) -> OtlpBackend:
        p: list[tuple[str, str]] = []
        seen: dict[str, str] = {}
        for name in self.headers:  # HTTP header names (and gRPC metadata) ignore case
            if name.lower() in seen:
                p.append((f"headers.{name}", f"the same header as '{seen[name.lower()]}' "
                                             "(header names ignore case)"))
            seen.setdefault(name.lower(), name)
        if self.headers and self.endpoint.lower().startswith("http://"):
            p.append(("endpoint", "headers carry credentials: use an https:// endpoint"))
        if len(self.signals) != len(set(self.signals)):
            p.append(("signals", "lists a signal twice"))
        if p:
            raise RuleViolations(p)
        return self

    @property
    def port(self) -> int:
        """The TCP port the collector connects to (the scheme's default when unset)."""
        m = OTLP_ENDPOINT.fullmatch(self.endpoint)
        assert m is not None  # validated
        return int(m["port"]) if m["port"] else (443 if m["scheme"] == "https" else 80)


class MonitoringConfig(Model):
    """The cluster's monitoring stack (platform stacks and dedicated domains)."""

    enabled: bool = Field(True, description="Deploy kube-prometheus-stack in this cluster.")
    namespace: StackName = Field("monitoring", description="Namespace of the stack.")
    retention: str | None = Field(
        None, pattern=PROM_DURATION,
        description="How long Prometheus keeps samples, e.g. 15d (None: profile default).")
    retention_size: str | None = Field(
        None, pattern=PROM_BYTES,
        description="Size cap of the TSDB, e.g. 45GB; keep it below storageSize "
                    "(None: profile default).")
    storage_size: Quantity | None = Field(
        None, description="Prometheus volume size (None: profile default; dev has no "
                          "volume, prod 50Gi).")
    storage_class: str | None = Field(
        None, description="StorageClass of the Prometheus volume (None: cluster default).")
    platform_receiver: Receiver | None = Field(
        None, description="The platform team's receiver: alerts no domain takes (None: they "
                          "are only visible in Alertmanager and Grafana; required in prod).")
    otlp: OtlpBackend | None = Field(
        None, description="An OTLP backend the cluster's OpenTelemetry Collector also "
                          "exports to (None: metrics go to the platform's Prometheus only, "
                          "traces are dropped).")
    values: dict[str, Any] = Field(
        default_factory=dict,
        description="Helm values deep-merged over charts-values/kube-prometheus-stack/.")


DBT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,28}[a-z0-9])?")
"""A dbt project or job name (apps.dbt: a DNS label of at most 30 characters)."""
DBT_MODEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,126}")
"""A model, seed or snapshot name, or `source.table` (what the push script labels
`model`): quotes and backslashes never reach a rule's PromQL."""


def _dbt_name(value: str) -> str:
    if not DBT_NAME.fullmatch(value):
        raise ValueError(f"'{value}' is not a dbt project or job name of apps.dbt "
                         "(lowercase letters, digits and '-', at most 30)")
    return value


def _dbt_model(value: str) -> str:
    if not DBT_MODEL.fullmatch(value):
        raise ValueError(f"'{value}' is not a dbt model name (letters, digits, '_', '-', "
                         "'.' for source.table)")
    return value


DbtName = Annotated[str, AfterValidator(_dbt_name)]
DbtModelName = Annotated[str, AfterValidator(_dbt_model)]


class DbtModelThresholds(Model):
    """Data-quality thresholds of one model (its tests, whichever job runs them)."""

    max_warnings: int | None = Field(
        None, ge=0, le=10000, description="Warned tests of the model in a run above which "
                                          "DbtTestWarnings fires; default: the project's.")


class DbtJobThresholds(Model):
    """Data-quality thresholds of one dbt job."""

    results_max_age_hours: int | None = Field(
        None, ge=1, le=2160, description="Age of the job's latest test results above which "
                                         "DbtResultsStale fires; default: the project's.")


class DbtProjectThresholds(Model):
    """Data-quality thresholds of one dbt project (a project of apps.dbt.projects)."""

    max_warnings: int | None = Field(
        None, ge=0, le=10000, description="Warned tests per model; default: "
                                          "dataQuality.maxWarnings.")
    results_max_age_hours: int | None = Field(
        None, ge=1, le=2160, description="Age of a job's latest results; default: "
                                         "dataQuality.resultsMaxAgeHours.")
    models: dict[DbtModelName, DbtModelThresholds] = Field(
        default_factory=dict, description="Per model (name, or `source.table`).")
    jobs: dict[DbtName, DbtJobThresholds] = Field(
        default_factory=dict, description="Per job of the project.")


class DataQualityThresholds(Model):
    """Thresholds of the data-quality rules (dbt test results, docs/data-quality.md);
    the defaults hold for every project, model and job a level below does not set."""

    max_warnings: int = Field(
        0, ge=0, le=10000, description="Warned tests of a model in the latest run above "
                                       "which DbtTestWarnings fires (0: any warning).")
    results_max_age_hours: int = Field(
        26, ge=1, le=2160, description="A job's latest test results older than this fire "
                                       "DbtResultsStale (26: a daily job, with slack).")
    projects: dict[DbtName, DbtProjectThresholds] = Field(
        default_factory=dict, description="Per dbt project of apps.dbt.projects.")


class AlertThresholds(Model):
    """Alert thresholds of one domain; the defaults suit most teams."""

    airbyte_success_window_hours: int = Field(
        24, ge=1, le=720, description="A connection must sync successfully this often.")
    cpu_limit_percent: int = Field(
        90, ge=50, le=100, description="Container CPU use vs its limit, sustained 30 minutes.")
    memory_limit_percent: int = Field(
        90, ge=50, le=100, description="Container memory working set vs its limit, 15 minutes.")
    volume_used_percent: int = Field(85, ge=50, le=99, description="PVC space used.")
    quota_used_percent: int = Field(
        90, ge=50, le=100, description="Namespace ResourceQuota used, any resource.")
    dag_run_max_minutes: int = Field(
        60, ge=1, le=10080, description="Longest acceptable Airflow DAG run (p99).")
    scheduler_heartbeat_minutes: int = Field(
        5, ge=2, le=60, description="Airflow scheduler silent for this long: alert.")
    queued_tasks: int = Field(
        20, ge=1, le=10000, description="Airflow tasks queued for `queuedForMinutes`.")
    queued_for_minutes: int = Field(15, ge=1, le=1440, description="See queuedTasks.")
    not_ready_minutes: int = Field(
        15, ge=1, le=1440, description="Pod pending or not ready (Jobs excluded).")
    argocd_out_of_sync_minutes: int = Field(
        30, ge=5, le=1440, description="Argo CD app out of sync with its source this long.")
    certificate_expiry_days: int = Field(
        14, ge=1, le=90, description="cert-manager Certificate expiring within this many days "
                                     "(with alerting.certManager).")
    kafka_consumer_lag: int = Field(
        5000, ge=1, le=100_000_000,
        description="Messages a consumer group of DataHub's Kafka may lag behind a topic "
                    "for 15 minutes (KafkaConsumerLagHigh).")
    http_error_percent: int = Field(
        5, ge=1, le=100, description="Share of an app's HTTP responses that are 5xx, over "
                                     "10 minutes (MetabaseHttpErrors).")
    data_quality: DataQualityThresholds = Field(
        default_factory=DataQualityThresholds,
        description="dbt test results (DbtTestWarnings, DbtResultsStale), per project, "
                    "model and job.")


class AlertingConfig(Model):
    """The domain's scrape targets, alert rules and notifications."""

    enabled: bool | None = Field(
        None, description="Create the domain's ServiceMonitors, PrometheusRule and routing "
                          "(None: on when the cluster has monitoring).")
    receivers: list[Receiver] = Field(
        default_factory=list,
        description="The domain's receivers; none: its alerts go to the platform team's "
                    "receiver (at least one required in prod).")
    thresholds: AlertThresholds = Field(default_factory=AlertThresholds)
    cert_manager: bool = Field(
        False, description="cert-manager runs in the cluster and its metrics are scraped: "
                           "ship the CertificateExpiringSoon rule for the domain's "
                           "Certificates. The platform installs no cert-manager, so it is off "
                           "unless you run one.")
    runbook_url: str = Field(
        "docs/runbooks/alerts.md", min_length=1,
        description="Where the alert runbooks are, e.g. the URL of docs/runbooks/alerts.md in "
                    "your repository; each alert links to its anchor there.")


def monitoring_enabled(cfg: StackConfig) -> bool:
    """This stack deploys kube-prometheus-stack in its own cluster."""
    return cfg.owns_cluster and cfg.monitoring.enabled


def alerting_enabled(cfg: StackConfig) -> bool:
    """This domain creates its scrape targets, rules and routing."""
    if cfg.kind != "domain":
        return False
    if cfg.alerting.enabled is not None:
        return cfg.alerting.enabled
    return cfg.monitoring.enabled if cfg.owns_cluster else True


def observability_rules(cfg: StackConfig) -> list[tuple[str, str]]:
    """Cross-section rules; keys relative to the stack model."""
    p: list[tuple[str, str]] = []
    if not cfg.owns_cluster and "monitoring" in cfg.model_fields_set:
        p.append(("monitoring", "monitoring runs in the stack that owns the cluster (the "
                                "platform stack); a domain configures `alerting`"))
    if cfg.kind == "platform" and "alerting" in cfg.model_fields_set:
        p.append(("alerting", "alerting is per domain; the platform team's receiver is "
                              "monitoring.platformReceiver"))
    if cfg.owns_cluster and not cfg.monitoring.enabled and cfg.alerting.enabled:
        p.append(("alerting.enabled", "needs the cluster's monitoring stack: set "
                                      "monitoring.enabled or drop alerting.enabled"))
    p += receiver_rules(cfg)
    p += data_quality_rules(cfg)
    m = cfg.monitoring
    if m.otlp is not None and cfg.owns_cluster and not m.enabled:
        p.append(("monitoring.otlp", "the OpenTelemetry Collector runs with the monitoring "
                                     "stack: set monitoring.enabled or drop monitoring.otlp"))
    if m.storage_size is None and m.storage_class is not None and cfg.profile == "dev":
        p.append(("monitoring.storageClass", "needs monitoring.storageSize (the dev profile "
                                             "keeps Prometheus on an emptyDir)"))
    if monitoring_enabled(cfg) and m.namespace != cfg.isolation.monitoring_namespace \
            and cfg.kind == "domain":
        p.append(("isolation.monitoringNamespace",
                  f"must be '{m.namespace}' (monitoring.namespace): NetworkPolicies let that "
                  "namespace scrape the domain"))
    return p


RECEIVER_HELP = (
    "slack (webhookUrl), email (to, from, smarthost), pagerduty (routingKey) or webhook "
    "(url); secrets are config secrets: `pulumi config set --secret --path "
    "'dataplatform:{path}.pagerduty.routingKey' KEY`")


def receiver_rules(cfg: StackConfig) -> list[tuple[str, str]]:
    """Prod alerts must reach someone: a platform receiver where the stack runs the
    monitoring stack, at least one receiver in a domain that has alerting. Dev may stay
    silent (the plan says so: components/observability)."""
    if cfg.profile != "prod":
        return []
    p: list[tuple[str, str]] = []
    if monitoring_enabled(cfg) and cfg.monitoring.platform_receiver is None:
        p.append(("monitoring.platformReceiver",
                  "a prod cluster's alerts must reach the platform team: add one: "
                  + RECEIVER_HELP.format(path="monitoring.platformReceiver")))
    if alerting_enabled(cfg) and not cfg.alerting.receivers:
        p.append(("alerting.receivers",
                  "a prod domain's alerts must reach its team: add one or more: "
                  + RECEIVER_HELP.format(path="alerting.receivers[0]")))
    return p


def data_quality_rules(cfg: StackConfig) -> list[tuple[str, str]]:
    """Data-quality thresholds name projects and jobs of apps.dbt (models live in the
    projects' repositories: only their spelling is checked)."""
    dq = cfg.alerting.thresholds.data_quality
    base = "alerting.thresholds.dataQuality.projects"
    if not dq.projects:
        return []
    dbt = cfg.apps.dbt
    if not dbt.enabled:
        return [(base, "names dbt projects, but apps.dbt is not enabled in this stack")]
    jobs = {pr.name: [j.name for j in pr.jobs] for pr in dbt.projects}
    p: list[tuple[str, str]] = []
    for name, project in dq.projects.items():
        if name not in jobs:
            near = closest(name, jobs)
            p.append((f"{base}.{name}", f"no dbt project '{name}' in apps.dbt.projects"
                      + (f" (did you mean '{near}'?)" if near else "")
                      + f"; projects: {', '.join(sorted(jobs))}"))
            continue
        if project == DbtProjectThresholds():
            p.append((f"{base}.{name}", "sets no threshold: give maxWarnings, "
                                        "resultsMaxAgeHours, models or jobs, or drop it"))
        for job, limits in project.jobs.items():
            if job not in jobs[name]:
                near = closest(job, jobs[name])
                p.append((f"{base}.{name}.jobs.{job}",
                          f"no job '{job}' in dbt project '{name}'"
                          + (f" (did you mean '{near}'?)" if near else "")))
            elif limits.results_max_age_hours is None:
                p.append((f"{base}.{name}.jobs.{job}", "sets no threshold: give "
                                                       "resultsMaxAgeHours, or drop it"))
        p += [(f"{base}.{name}.models.{model}", "sets no threshold: give maxWarnings, or "
                                                "drop it")
              for model, limits in project.models.items() if limits.max_warnings is None]
    return p
