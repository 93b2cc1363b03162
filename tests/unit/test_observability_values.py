"""charts-values/kube-prometheus-stack against the pinned chart (88.5.3) and its subcharts.

Unknown keys are caught for every charts-values folder by test_values_keys.py; here: the
values that computed in code add, resources of every component (Grafana's subchart and the
others included), the dev budget, prod storage and the selectors the domains rely on.
Skips when ../shared is absent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components._values import deep_merge, static_values
from components.observability._common import APP
from components.observability.monitoring import MonitoringArgs, computed_values
from dataplatform.chartcheck import (
    containers_without_resources,
    iter_components,
    load_chart,
    shared_charts_dir,
    unknown_keys,
)
from foundation.config.monitoring import MonitoringConfig, Receiver
from foundation.quantity import parse_quantity

pytestmark = pytest.mark.unit

SHARED = shared_charts_dir()
DEV_BUDGET = (0.4, 1.25 * 2**30)  # kube-prometheus-stack's share of a dev domain
# Containers a component's `resources` stand for, in running pods: the config reloader runs
# in the Prometheus and in the Alertmanager pod; Grafana runs a dashboards and a datasources
# sidecar. Hook Jobs and init containers do not run alongside (0).
RUNNING = {"prometheusOperator.prometheusConfigReloader.resources": 2,
           "grafana.sidecar.resources": 2,
           "prometheusOperator.admissionWebhooks.patch.resources": 0,
           "grafana.downloadDashboards.resources": 0}


def chart_dir() -> Path:
    if SHARED is None:
        pytest.skip("../shared/charts is absent from this checkout: no chart defaults")
    path = SHARED / "defaults" / APP
    if not path.is_dir():
        pytest.skip(f"no defaults for chart {APP} under {path}")
    return path


def args(**settings: Any) -> MonitoringArgs:
    return MonitoringArgs(settings=MonitoringConfig.model_validate(settings), profile="dev",
                          domain="platform", domain_namespaces="acme-.+")


def merged(profile: str, computed: dict[str, Any] | None = None) -> dict[str, Any]:
    ours = deep_merge(static_values(APP, profile), computed or {})
    return deep_merge(load_chart(chart_dir()).defaults, ours)


def totals(values: dict[str, Any], weights: dict[str, int] | None = None) -> tuple[float, float]:
    cpu = mem = 0.0
    for c in iter_components(values, chart_dir()):
        n = c.replicas * (weights or {}).get(c.path, 1)
        cpu += parse_quantity(c.resources["requests"]["cpu"]) * n
        mem += parse_quantity(c.resources["requests"]["memory"]) * n
    return cpu, mem


SLACK = Receiver.model_validate({"slack": {"webhookUrl": {"secure": "v1:x"},
                                           "channel": "#ops"}})


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_computed_values_are_chart_keys_too(profile: str):
    computed = computed_values(args(retention="30d", retentionSize="90GB", storageSize="100Gi",
                                    storageClass="gp3", platformReceiver=SLACK.model_dump(
                                        by_alias=True)), "alertmanager-platform-receiver")
    ours = deep_merge(static_values(APP, profile), computed)
    assert unknown_keys(ours, chart_dir()) == []


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_every_component_has_requests_and_a_memory_limit(profile: str):
    values = merged(profile)
    assert containers_without_resources(values, chart_dir()) == []
    paths = {c.path for c in iter_components(values, chart_dir())}
    # Grafana (a subchart) and its sidecars, kube-state-metrics, node-exporter: all counted.
    assert {"grafana.resources", "grafana.sidecar.resources", "kube-state-metrics.resources",
            "prometheus-node-exporter.resources", "prometheus.prometheusSpec.resources",
            "alertmanager.alertmanagerSpec.resources", "prometheusOperator.resources"} <= paths
    assert "grafana.initChownData.resources" not in paths  # off: no volume to chown


def test_dev_fits_its_share_of_the_domain_budget():
    values = merged("dev")
    cpu, mem = totals(values)  # every component once, hooks and init containers included
    assert cpu <= DEV_BUDGET[0] and mem <= DEV_BUDGET[1], (cpu, mem / 2**20)
    cpu, mem = totals(values, RUNNING)  # the containers that actually run side by side
    assert cpu <= DEV_BUDGET[0] and mem <= DEV_BUDGET[1], (cpu, mem / 2**20)


def test_dev_has_no_volume_and_prod_keeps_its_volumes():
    dev = merged("dev")["prometheus"]["prometheusSpec"]
    assert dev["storageSpec"] == {} and dev["retention"] == "3d"
    prod = merged("prod")
    spec = prod["prometheus"]["prometheusSpec"]
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["resources"]["requests"]["storage"] == "50Gi"
    assert parse_quantity("45Gi") < parse_quantity(claim["resources"]["requests"]["storage"])
    assert spec["retention"] == "15d" and spec["retentionSize"] == "45GB"
    retain = {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert spec["persistentVolumeClaimRetentionPolicy"] == retain
    am = prod["alertmanager"]["alertmanagerSpec"]
    assert am["storage"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"]
    assert am["persistentVolumeClaimRetentionPolicy"] == retain
    assert am["replicas"] == 2 and prod["alertmanager"]["podDisruptionBudget"]["enabled"]


def test_stack_settings_override_the_profile_storage():
    computed = computed_values(args(retention="30d", storageSize="100Gi", storageClass="gp3"),
                               None)
    spec = merged("prod", computed)["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "30d" and spec["retentionSize"] == "45GB"
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "gp3"
    assert claim["resources"]["requests"]["storage"] == "100Gi"
    # dev gets a volume when asked for one, with the same retention policy
    spec = merged("dev", computed_values(args(storageSize="10Gi"), None))[
        "prometheus"]["prometheusSpec"]
    assert spec["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Retain"


def test_prometheus_selects_every_namespace_s_monitors_and_rules():
    spec = merged("dev")["prometheus"]["prometheusSpec"]
    for kind in ("serviceMonitor", "podMonitor", "rule", "probe", "scrapeConfig"):
        assert spec[f"{kind}SelectorNilUsesHelmValues"] is False, kind
        assert spec[f"{kind}Selector"] == {} and spec[f"{kind}NamespaceSelector"] == {}, kind


def test_alertmanager_selects_the_domains_configs_without_namespace_matchers():
    am = merged("dev")["alertmanager"]["alertmanagerSpec"]
    assert am["alertmanagerConfigSelector"] == {
        "matchLabels": {"dataplatform.io/alerting": "domain"}}
    assert am["alertmanagerConfigNamespaceSelector"]["matchExpressions"] == [
        {"key": "dataplatform.io/domain-id", "operator": "Exists"}]
    assert am["alertmanagerConfigMatcherStrategy"] == {"type": "None"}


def test_kube_state_metrics_exposes_the_labels_rules_and_dashboards_use():
    allow = merged("dev")["kube-state-metrics"]["metricLabelsAllowlist"]
    assert "namespaces=[dataplatform.io/domain,dataplatform.io/domain-id]" in allow
    assert "jobs=[app.kubernetes.io/name,dataplatform/dbt-project,dataplatform/dbt-job]" in allow


def test_grafana_uses_an_existing_admin_secret_and_our_datasources():
    grafana = merged("dev", computed_values(args(), None))["grafana"]
    assert grafana["admin"] == {"existingSecret": "grafana-admin", "userKey": "admin-user",
                                "passwordKey": "admin-password"}
    assert "adminPassword" not in grafana
    sidecar = grafana["sidecar"]
    assert sidecar["dashboards"]["enabled"] and sidecar["dashboards"]["label"] == (
        "grafana_dashboard")
    assert sidecar["datasources"]["enabled"]
    assert sidecar["datasources"]["defaultDatasourceEnabled"] is False
    assert sidecar["datasources"]["alertmanager"]["enabled"] is False


def test_default_rules_leave_domain_namespaces_to_the_domains():
    rules = merged("dev", computed_values(args(), None))["defaultRules"]
    assert (rules["appNamespacesOperator"], rules["appNamespacesTarget"]) == ("!~", "acme-.+")
    assert MonitoringArgs.domain_pattern("acme") == "acme-.+"
