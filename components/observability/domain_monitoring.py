"""DomainMonitoring: what one domain adds to its cluster's monitoring stack.

In the domain's main namespace: a ServiceMonitor or PodMonitor per scrapeable app (each
target's series get `domain=<domain>` by relabeling), the airbyte-sync exporter when Airbyte
is on, one PrometheusRule with the domain's alert rules (monitoring/rules/), and, when the
domain has receivers, an AlertmanagerConfig routing its alerts to them plus the Secret with
their webhook URL / SMTP password. The cluster's Prometheus and Alertmanager select these
objects in every domain namespace (charts-values/kube-prometheus-stack/values.yaml), so each
domain stack owns its own scraping and routing, on a shared or a dedicated cluster alike.
dbt runs need no target: kube-state-metrics reports their Jobs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.apps.context import AppContext
from components.observability._airbyte_exporter import SELECTOR as AIRBYTE_EXPORTER
from components.observability._airbyte_exporter import airbyte_exporter
from components.observability._alerting import alertmanager_config_spec, secret_data
from components.observability._common import (
    ALERTING_API,
    ALERTING_SELECTOR,
    MONITORING_API,
    domain_relabeling,
)
from components.observability._rules import FEATURES, RuleScope, render_groups
from foundation.config.monitoring import AlertingConfig

RULES_NAME = "domain-alerts"
RECEIVERS_SECRET = "alerting-receivers"
NO_RECEIVERS = (
    "alerting.receivers: none, so the domain's alerts go to the platform team's receiver "
    "(monitoring.platformReceiver of the cluster's stack; with none, Alertmanager and "
    "Grafana only); fine in dev, a prod domain needs one")
"""The plan's note (INFO, not a warning) for a dev domain without receivers."""
# Scrape targets of the charts' Services, by release name = app key (see each app module).
SERVICE_TARGETS: dict[str, tuple[dict[str, str], str]] = {
    # Airflow chart: the statsd exporter's Service `airflow-statsd`.
    "airflow": ({"tier": "airflow", "component": "statsd", "release": "airflow"},
                "statsd-scrape"),
    # DataHub chart: GMS's Service port `jmx` (global.datahub.monitoring.portName), JMX exporter.
    "datahub": ({"app.kubernetes.io/name": "datahub-gms", "app.kubernetes.io/instance": "datahub"},
                "jmx"),
    # Metabase chart: Service port `metrics` (monitoring.enabled, charts-values/metabase/).
    "metabase": ({"app": "metabase", "release": "metabase"}, "metrics"),
}
# DataHub's prerequisites: the kafka subchart's kafka_exporter Service (metrics.kafka,
# charts-values/datahub-prerequisites/); it selects nothing when DataHub's Kafka is managed.
KAFKA_EXPORTER = ({"app.kubernetes.io/instance": "datahub-prerequisites",
                   "app.kubernetes.io/name": "kafka",
                   "app.kubernetes.io/component": "cluster-metrics"}, "http-metrics")


@dataclass(frozen=True)
class DomainMonitoringArgs:
    """Inputs of DomainMonitoring."""

    domain: str
    """Domain name: the `domain` label of its series and alerts."""
    namespaces: Sequence[str]
    """The domain's namespaces, the main one first (objects go there)."""
    apps: Collection[str]
    """The domain's enabled built-in apps."""
    alerting: AlertingConfig
    """`alerting:` of the stack file (receivers, thresholds)."""
    profile: str
    """Profile (sizes of the airbyte-sync exporter)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels for every object."""
    argocd_project: str | None = None
    """The domain's Argo CD AppProject, when its apps are Argo CD Applications."""
    in_cluster_postgres: bool = False
    """The metadata Postgres runs in the namespace (its exporter sidecar is scraped)."""
    airbyte_db_secret: pulumi.Input[str] | None = None
    """Airbyte's database credentials Secret (the airbyte-sync exporter reads the jobs)."""
    airbyte_db_sslmode: str = "disable"
    """libpq sslmode towards Airbyte's database (require for managed databases)."""
    front_door: bool = False
    """The domain's apps are routed through the Gateway (rule feature `gateway`)."""

    @classmethod
    def from_context(cls, ctx: AppContext, namespaces: Sequence[str],
                     alerting: AlertingConfig, front_door: bool = False
                     ) -> DomainMonitoringArgs:
        """The domain's monitoring, from the context its apps were built with."""
        airbyte = ctx.databases.get("airbyte")
        return cls(
            domain=ctx.site.naming.domain, namespaces=tuple(namespaces), apps=ctx.enabled,
            alerting=alerting, profile=ctx.profile, labels=dict(ctx.labels),
            # The domain's AppProject is named after the domain id (components/isolation.py).
            argocd_project=ctx.site.naming.base if ctx.argocd is not None else None,
            in_cluster_postgres=not ctx.managed_database,
            airbyte_db_secret=airbyte.secret_name if airbyte else None,
            airbyte_db_sslmode="require" if ctx.managed_database else "disable",
            front_door=front_door)

    @property
    def features(self) -> frozenset[str]:
        found = set(self.apps) & FEATURES
        if self.argocd_project:
            found.add("argocd")
        if self.in_cluster_postgres:
            found.add("postgres")
        if self.alerting.cert_manager:
            found.add("certmanager")
        if self.front_door:  # its cert-manager issues the domain's wildcard, scraped
            found |= {"gateway", "certmanager"}
        return frozenset(found)


class DomainMonitoring(pulumi.ComponentResource):
    """Scrape targets, alert rules and alert routing of one domain."""

    namespace: pulumi.Output[str]
    alert_names: pulumi.Output[list[str]]
    receivers: pulumi.Output[int]

    def __init__(self, name: str, args: DomainMonitoringArgs,
                 opts: pulumi.ResourceOptions | None = None):
        if not args.namespaces:
            raise ValueError(f"DomainMonitoring {name}: the domain has no namespace")
        super().__init__("dataplatform:observability:DomainMonitoring", name, None, opts)
        ns, a = args.namespaces[0], args.alerting
        child = pulumi.ResourceOptions(parent=self)
        self._labels = dict(args.labels)
        for app, (selector, port) in SERVICE_TARGETS.items():
            if app in args.apps:
                self._service_monitor(f"{name}-{app}-monitor", app, ns, selector, port,
                                      args.domain, child)
        if "datahub" in args.apps:
            self._service_monitor(f"{name}-kafka-monitor", "kafka-exporter", ns,
                                  *KAFKA_EXPORTER, args.domain, child)
        if "airbyte" in args.apps and args.airbyte_db_secret is not None:
            exporter = airbyte_exporter(
                f"{name}-airbyte-exporter", namespace=ns, profile=args.profile,
                db_secret=args.airbyte_db_secret, sslmode=args.airbyte_db_sslmode,
                labels=args.labels, opts=child)
            self._service_monitor(f"{name}-airbyte-monitor", "airbyte-sync", ns,
                                  AIRBYTE_EXPORTER, "metrics", args.domain,
                                  pulumi.ResourceOptions(parent=self, depends_on=exporter),
                                  interval="60s")
        if args.in_cluster_postgres:
            self._custom(f"{name}-postgres-monitor", "PodMonitor", "postgres", ns, {
                "selector": {"matchLabels": {"app.kubernetes.io/name": "postgres"}},
                "podMetricsEndpoints": [{"port": "metrics", "interval": "30s",
                                         "relabelings": domain_relabeling(args.domain)}]},
                child)
        scope = RuleScope(
            domain=args.domain, namespaces=tuple(args.namespaces), features=args.features,
            project=args.argocd_project, thresholds=a.thresholds,
            notify="domain" if a.receivers else "platform", runbook_url=a.runbook_url)
        groups = render_groups(scope)
        self._custom(f"{name}-rules", "PrometheusRule", RULES_NAME, ns, {"groups": groups},
                     child)
        if a.receivers:
            self._routing(name, args, ns)
        else:  # a prod domain cannot get here (foundation/config/monitoring.py)
            pulumi.log.info(NO_RECEIVERS, resource=self)
        self.namespace = pulumi.Output.from_input(ns)
        self.alert_names = pulumi.Output.from_input(
            [r["alert"] for g in groups for r in g["rules"]])
        self.receivers = pulumi.Output.from_input(len(a.receivers))
        self.register_outputs({"namespace": self.namespace, "alert_names": self.alert_names,
                               "receivers": self.receivers})

    def _custom(self, name: str, kind: str, obj_name: str, ns: str, spec: dict[str, Any],
                opts: pulumi.ResourceOptions, api: str = MONITORING_API,
                labels: Mapping[str, str] | None = None) -> k8s.apiextensions.CustomResource:
        return k8s.apiextensions.CustomResource(
            name, api_version=api, kind=kind,
            metadata={"name": obj_name, "namespace": ns, "labels": {**self._labels,
                                                                    **(labels or {})}},
            spec=spec, opts=opts)

    def _service_monitor(self, name: str, job: str, ns: str, selector: Mapping[str, str],
                         port: str, domain: str, opts: pulumi.ResourceOptions,
                         interval: str = "30s") -> None:
        self._custom(name, "ServiceMonitor", job, ns, {
            "selector": {"matchLabels": dict(selector)},
            "endpoints": [{"port": port, "interval": interval,
                           "relabelings": domain_relabeling(domain)}]}, opts)

    def _routing(self, name: str, args: DomainMonitoringArgs, ns: str) -> None:
        receivers = args.alerting.receivers
        data = secret_data([(r, f"alerting.receivers.{i}", i) for i, r in enumerate(receivers)])
        deps: list[pulumi.Resource] = []
        if data:
            deps.append(k8s.core.v1.Secret(
                f"{name}-receivers",
                metadata={"name": RECEIVERS_SECRET, "namespace": ns, "labels": self._labels},
                string_data=data, opts=pulumi.ResourceOptions(parent=self)))
        self._custom(f"{name}-routing", "AlertmanagerConfig", RULES_NAME, ns,
                     alertmanager_config_spec(args.domain, receivers, RECEIVERS_SECRET),
                     pulumi.ResourceOptions(parent=self, depends_on=deps), api=ALERTING_API,
                     labels=ALERTING_SELECTOR)
