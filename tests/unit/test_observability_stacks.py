"""Monitoring in the stacks: who gets what, secrets by reference, scrape targets.

Plans of the shipped stacks for the cluster's Monitoring (platform stacks, dedicated
domains) and each domain's DomainMonitoring; a component plan of DomainMonitoring with every
app, receivers, Argo CD and the in-cluster Postgres for the scrape targets and rules.
Routing: test_observability_routing.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from observability_fixtures import AMC, NS, RECEIVERS, SECRET_T, TOP, walk

from components.observability import DomainMonitoring, DomainMonitoringArgs
from dataplatform.plan.engine import SECRET, run_program
from dataplatform.plan.mocks import PlatformMocks
from dataplatform.resolve import site
from foundation.charts import chart_pin
from foundation.config.loader import parse_stack_config
from foundation.config.secrets import offline_config

pytestmark = pytest.mark.unit

RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
MONITORING = "dataplatform:observability:Monitoring"
DOMAIN_MONITORING = "dataplatform:observability:DomainMonitoring"
SM = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
PM = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def values_of(plan, name: str) -> dict[str, Any]:
    return plan.get(RELEASE, f"{name}-monitoring-chart-release").inputs["values"]


# --- who gets what

def test_the_local_quickstart_gets_monitoring_by_default(shipped_plan):
    plan = shipped_plan("local")
    top = plan.get("dataplatform:stack:DomainStack", TOP)
    mon = plan.get(MONITORING, f"{TOP}-monitoring")
    dom = plan.get(DOMAIN_MONITORING, f"{TOP}-domain-monitoring")
    assert mon.parent == top.urn and dom.parent == top.urn
    rel = plan.get(RELEASE, f"{TOP}-monitoring-chart-release")
    pin = chart_pin("kube-prometheus-stack")
    assert (rel.inputs["chart"], rel.inputs["version"], rel.inputs["name"]) == (
        "kube-prometheus-stack", pin.version, "kube-prometheus-stack")
    assert rel.inputs["namespace"] == "monitoring" and not rel.protect
    # (dependencies on components are recorded as their resources)
    argocd = plan.get(RELEASE, f"{TOP}-argocd-chart-release")
    assert argocd.urn in mon.depends_on  # created after Argo CD
    assert rel.urn in dom.depends_on  # the domain's monitors and rules need the CRDs
    ns = plan.get("kubernetes:core/v1:Namespace", f"{TOP}-monitoring-namespace")
    labels = ns.inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"  # node-exporter
    assert labels["dataplatform.io/owner"] == "marketing-data"


def test_a_prod_platform_protects_its_monitoring_and_exports_the_namespace(shipped_plan):
    plan = shipped_plan("aws-platform")
    rel = plan.get(RELEASE, "acme-platform-prod-monitoring-chart-release")
    assert rel.protect
    spec = rel.inputs["values"]["prometheus"]["prometheusSpec"]
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"][
        "storage"] == "50Gi"
    assert spec["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Retain"
    assert plan.outputs["monitoringNamespace"] == "monitoring"
    assert not plan.by_type(DOMAIN_MONITORING)


def test_a_shared_domain_brings_only_its_part(shipped_plan):
    plan = shipped_plan("aws-finance")
    assert not plan.by_type(MONITORING) and not plan.by_type(RELEASE + "-monitoring")
    rule = plan.by_type(RULE)
    assert len(rule) == 1
    meta = rule[0].inputs["metadata"]
    assert meta["name"] == "domain-alerts" and meta["namespace"] == "acme-finance-prod"
    # a prod domain has receivers of its own: its alerts are routed to them
    for group in rule[0].inputs["spec"]["groups"]:
        for r in group["rules"]:
            assert r["labels"]["domain"] == "finance" and r["labels"]["notify"] == "domain"
    (routing,) = plan.by_type(AMC)
    assert routing.inputs["metadata"]["namespace"] == "acme-finance-prod"
    assert routing.inputs["spec"]["receivers"][0]["emailConfigs"][0]["to"] == (
        "finance-data-oncall@acme.example")
    # prod domains use managed Postgres: no exporter sidecar to scrape
    assert not plan.by_type(PM)


def test_monitoring_can_be_switched_off(stacks):
    stacks.write("obs-off", {**stacks.shipped("local"), "monitoring": {"enabled": False}})
    plan = stacks.plan("obs-off")
    assert not plan.by_type(MONITORING) and not plan.by_type(DOMAIN_MONITORING)
    assert not [r for r in plan.resources if r.type.startswith("kubernetes:monitoring")]


# --- Grafana

def test_grafana_admin_password_is_generated_and_only_referenced(shipped_plan):
    plan = shipped_plan("local")
    pw = plan.get("random:index/randomPassword:RandomPassword",
                  f"{TOP}-monitoring-grafana-admin-password")
    assert pw.inputs["length"] >= 32
    secret = plan.get(SECRET_T, f"{TOP}-monitoring-grafana-admin")
    assert secret.inputs["metadata"]["name"] == "grafana-admin"
    assert secret.inputs["stringData"] == SECRET  # a map holding a secret is masked whole
    values = values_of(plan, TOP)
    assert values["grafana"]["admin"]["existingSecret"] == "grafana-admin"
    assert SECRET not in walk(values)


def test_dashboards_and_datasources_are_configmaps_for_the_sidecars(shipped_plan):
    plan = shipped_plan("local")
    maps = {r.inputs["metadata"]["name"]: r.inputs for r in plan.by_type(CONFIGMAP)
            if r.name.startswith(f"{TOP}-monitoring-")}
    assert set(maps) == {"dashboard-argocd-app-health", "dashboard-data-journey",
                         "dashboard-datahub", "dashboard-gateway", "dashboard-metabase",
                         "dashboard-platform-golden-signals", "dashboard-security",
                         "grafana-datasources"}
    for name, cm in maps.items():
        assert cm["metadata"]["namespace"] == "monitoring"
        label = "grafana_datasource" if name == "grafana-datasources" else "grafana_dashboard"
        assert cm["metadata"]["labels"][label] == "1"
    assert '"uid": "dp-data-journey"' in maps["dashboard-data-journey"]["data"][
        "data-journey.json"]


# --- scraping

def test_argocd_is_scraped_with_the_cluster_owner_s_domain(shipped_plan):
    for stack, name, domain in (("local", TOP, "marketing"),
                                ("aws-platform", "acme-platform-prod", "platform")):
        sm = shipped_plan(stack).get(SM, f"{name}-monitoring-argocd-monitor").inputs
        assert sm["metadata"]["namespace"] == "monitoring"
        assert sm["spec"]["namespaceSelector"] == {"matchNames": ["argocd"]}
        endpoint = sm["spec"]["endpoints"][0]
        assert endpoint["port"] == "http-metrics"
        assert endpoint["relabelings"] == [
            {"action": "replace", "targetLabel": "domain", "replacement": domain}]


def test_the_in_cluster_postgres_has_an_exporter_sidecar(shipped_plan):
    plan = shipped_plan("local")
    sts = plan.get("kubernetes:apps/v1:StatefulSet", f"{TOP}-postgres-statefulset")
    exporter = {c["name"]: c for c in sts.inputs["spec"]["template"]["spec"]["containers"]}[
        "exporter"]
    assert exporter["ports"] == [{"name": "metrics", "containerPort": 9187}]
    env = {e["name"]: e for e in exporter["env"]}
    assert env["DATA_SOURCE_PASS"]["valueFrom"]["secretKeyRef"] == {
        "name": "postgres-superuser", "key": "password"}
    assert exporter["resources"]["limits"]["memory"]
    pm = plan.get(PM, f"{TOP}-domain-monitoring-postgres-monitor").inputs
    assert pm["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"


@pytest.fixture(scope="module")
def every_app():
    """DomainMonitoring of the local domain with every app, receivers, Argo CD, Postgres."""
    data = {"config": {f"dataplatform:{k}": v for k, v in {
        "customer": "acme", "domain": "marketing", "environment": "dev", "profile": "dev",
        "cloud": "local", "kind": "domain", "owner": "marketing-data", "costCenter": "cc-1",
        "cluster": {"mode": "dedicated", "kubeContext": "kind"}, **RECEIVERS}.items()}}
    cfg = parse_stack_config(data, "test.yaml")
    args = DomainMonitoringArgs(
        domain="marketing", namespaces=(NS, f"{NS}-batch"),
        apps=frozenset({"airflow", "airbyte", "dbt", "datahub", "metabase"}),
        alerting=cfg.alerting, profile="dev", labels=site(cfg).k8s_labels,
        argocd_project=NS, in_cluster_postgres=True,
        airbyte_db_secret="airbyte-db-credentials")
    return run_program("test", lambda: DomainMonitoring("dm", args) and {}, PlatformMocks(),
                       config=offline_config(cfg))


def test_every_scrapeable_app_has_a_monitor_in_the_main_namespace(every_app):
    monitors = {r.name: r.inputs for r in every_app.by_type(SM) + every_app.by_type(PM)}
    assert set(monitors) == {"dm-airflow-monitor", "dm-datahub-monitor", "dm-metabase-monitor",
                             "dm-airbyte-monitor", "dm-postgres-monitor",
                             "dm-kafka-monitor"}  # DataHub's prerequisites' Kafka exporter
    for name, m in monitors.items():
        assert m["metadata"]["namespace"] == NS, name
        assert m["metadata"]["labels"]["dataplatform.io/domain"] == "marketing", name
        endpoints = m["spec"].get("endpoints") or m["spec"]["podMetricsEndpoints"]
        assert endpoints[0]["relabelings"] == [
            {"action": "replace", "targetLabel": "domain", "replacement": "marketing"}], name
    airflow = monitors["dm-airflow-monitor"]["spec"]
    assert airflow["selector"]["matchLabels"] == {"tier": "airflow", "component": "statsd",
                                                  "release": "airflow"}
    assert airflow["endpoints"][0]["port"] == "statsd-scrape"
    datahub = monitors["dm-datahub-monitor"]["spec"]
    assert datahub["selector"]["matchLabels"]["app.kubernetes.io/name"] == "datahub-gms"
    assert datahub["endpoints"][0]["port"] == "jmx"
    # Metabase's chart Service: labels app/release, port `metrics` (the pinned chart's
    # templates/service.yaml, with monitoring.enabled in charts-values/metabase/values.yaml)
    metabase = monitors["dm-metabase-monitor"]["spec"]
    assert metabase["selector"]["matchLabels"] == {"app": "metabase", "release": "metabase"}
    assert metabase["endpoints"][0]["port"] == "metrics"


def test_the_airbyte_exporter_reads_its_password_from_the_secret(every_app):
    dep = every_app.get("kubernetes:apps/v1:Deployment", "dm-airbyte-exporter-deployment")
    pod = dep.inputs["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "airbyte-db-credentials", "key": "password"}
    assert env["SQLEXPORTER_TARGET_DSN"]["value"] == (
        "postgres://$(DB_USER):$(DB_PASSWORD)@$(DB_HOST):$(DB_PORT)/$(DB_NAME)?sslmode=disable")
    assert pod["securityContext"]["runAsNonRoot"] and container["resources"]["requests"]["cpu"]
    cm = every_app.get(CONFIGMAP, "dm-airbyte-exporter-config").inputs["data"]
    assert "airbyte_connection_last_sync_failed" in cm["airbyte.collector.yml"]


def test_every_rule_family_is_in_the_domain_s_prometheus_rule(every_app):
    rule = every_app.get(RULE, "dm-rules").inputs
    assert rule["metadata"]["name"] == "domain-alerts"
    assert {g["name"] for g in rule["spec"]["groups"]} == {f"marketing-{f}" for f in (
        "failed-ingestion", "data-quality", "resource-utilisation", "pipeline-latency",
        "platform-health", "security", "streaming-ingestion", "error-rates")}
    alerts = [r for g in rule["spec"]["groups"] for r in g["rules"]]
    assert all(r["labels"]["notify"] == "domain" for r in alerts)
    assert f'namespace=~"{NS}|{NS}-batch"' in next(
        r["expr"] for r in alerts if r["alert"] == "PodCrashLooping")


def _plan_messages(stacks, name: str) -> list[str]:
    from dataplatform.plan.planner import Options, Planner

    with Planner(Options(stacks_dir=stacks.path, policy=False)) as planner:
        outcome = planner.plan(name)
    assert outcome.code == 0, outcome.err
    return outcome.err.splitlines()


def test_a_dev_stack_without_receivers_is_told_so_as_information_not_a_warning(stacks):
    from components.observability.domain_monitoring import NO_RECEIVERS
    from components.observability.monitoring import NO_PLATFORM_RECEIVER

    silent = _plan_messages(stacks, "local")
    assert f"info: {NO_PLATFORM_RECEIVER}" in silent and f"info: {NO_RECEIVERS}" in silent
    # nothing else about receivers: no warning for what the user did not configure
    assert not [m for m in silent if "eceiver" in m and not m.startswith("info: ")]
    stacks.write("obs-heard", {**stacks.shipped("local"), **RECEIVERS})
    assert not [m for m in _plan_messages(stacks, "obs-heard") if "eceiver" in m]
