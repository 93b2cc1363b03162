"""The repository's observability content: rule templates, dashboards, known metrics.

- every rendered rule expression parses (promql-parser, the Rust PromQL parser of
  Prometheus' grammar), and uses only metric names some scrape target exports
  (tests/data/known_metrics.yaml, plus the airbyte-sync exporter's collector file);
- every rule has the labels `domain`, `severity`, `notify` and the annotations `summary`,
  `runbook_url` (an anchor that exists in docs/runbooks/alerts.md), and each selector is
  scoped to the domain;
- dashboards are valid JSON with unique uids, use the provisioned datasource, and every
  query (panels and variables) references known metrics only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic.alias_generators import to_camel

from components.observability._airbyte_exporter import COLLECTOR
from components.observability._content import DASHBOARDS_DIR, DATASOURCES_FILE, dashboards
from components.observability._rules import (
    FEATURES,
    SEVERITIES,
    RuleScope,
    anchor,
    render_groups,
    rule_templates,
)
from foundation.config.monitoring import AlertThresholds
from foundation.layout import REPO_ROOT

promql = pytest.importorskip("promql_parser", reason="promql-parser is a dev dependency")

pytestmark = pytest.mark.unit

DASHBOARDS = dashboards()
KNOWN_METRICS = Path(__file__).parents[1] / "data" / "known_metrics.yaml"
RUNBOOK = REPO_ROOT / "docs" / "runbooks" / "alerts.md"
NAMESPACES = ("acme-marketing-dev", "acme-marketing-dev-batch")
# Grafana's own variables and ours, replaced by a value of the right shape before parsing.
GRAFANA_VARS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h",
                "$domain": "marketing", "$namespace": "acme-marketing-dev",
                "$project": "acme-marketing-dev"}


def scope(features=FEATURES, notify="domain", **thresholds: int) -> RuleScope:
    return RuleScope(domain="marketing", namespaces=NAMESPACES, features=frozenset(features),
                     project="acme-marketing-dev", thresholds=AlertThresholds.model_validate(
                         {to_camel(k): v for k, v in thresholds.items()}),
                     notify=notify, runbook_url="docs/runbooks/alerts.md")


def all_rules(s: RuleScope | None = None) -> list[dict[str, Any]]:
    return [r for g in render_groups(s or scope()) for r in g["rules"]]


def known_metrics() -> dict[str, set[str]]:
    data = yaml.safe_load(KNOWN_METRICS.read_text())["targets"]
    known = {target: set(entry["metrics"]) for target, entry in data.items()}
    collector = yaml.safe_load(COLLECTOR.read_text())
    known["airbyte-sync-exporter"] = {m["metric_name"] for m in collector["metrics"]}
    return known


KNOWN = set().union(*known_metrics().values())


def selectors(expr: str) -> list[Any]:
    found: list[Any] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql.VectorSelector):
            found.append(node)

    promql.walk(promql.parse(expr), visit)
    return found


def metric_names(expr: str) -> set[str]:
    names = {s.name for s in selectors(expr)}
    assert None not in names, f"selector without a metric name in {expr}"
    return names


# --- alert rules

def test_every_rule_expression_parses():
    rules = all_rules()
    assert len(rules) == sum(len(f["rules"]) for f in rule_templates())  # all features on
    for rule in rules:
        try:
            promql.parse(rule["expr"])
        except Exception as exc:  # the parser raises its own exception types
            pytest.fail(f"{rule['alert']}: {exc}\n{rule['expr']}")


def test_every_rule_has_the_required_labels_and_annotations():
    names = [r["alert"] for r in all_rules()]
    assert len(names) == len(set(names)), "alert names must be unique"
    headings = set(re.findall(r"^## (\w+)$", RUNBOOK.read_text(), re.MULTILINE))
    for rule in all_rules():
        assert rule["labels"] == {"domain": "marketing", "severity": rule["labels"]["severity"],
                                  "notify": "domain"}
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        ann = rule["annotations"]
        assert set(ann) == {"summary", "description", "runbook_url"}, rule["alert"]
        assert ann["summary"] and "%{" not in ann["summary"] + ann["description"]
        assert ann["runbook_url"] == f"docs/runbooks/alerts.md#{anchor(rule['alert'])}"
        assert rule["alert"] in headings, f"docs/runbooks/alerts.md has no '## {rule['alert']}'"


def test_rules_use_only_metrics_some_target_exports():
    for rule in all_rules():
        unknown = metric_names(rule["expr"]) - KNOWN
        assert not unknown, f"{rule['alert']}: {sorted(unknown)} not in known_metrics.yaml"


CLUSTER_WIDE = {"SecurityClusterRbacChanged"}
"""Rendered only for the platform's own scope (`requires: [platform]`): cluster-scoped
objects belong to no domain."""


def test_every_selector_is_scoped_to_the_domain():
    """A domain's rule must not fire for another domain's series."""
    bare = {r["alert"] for r in all_rules(scope(features=()))}
    assert {r["alert"] for r in all_rules(scope(features=("platform",)))} - bare == CLUSTER_WIDE
    for rule in all_rules():
        if rule["alert"] in CLUSTER_WIDE:
            continue
        for sel in selectors(rule["expr"]):
            text = str(sel)
            assert ('domain="marketing"' in text
                    or 'namespace=~"acme-marketing-dev|acme-marketing-dev-batch"' in text
                    # Envoy names a route's cluster httproute/<namespace>/<route>/...
                    or 'envoy_cluster_name=~"httproute/(acme-marketing-dev|'
                       'acme-marketing-dev-batch)/' in text
                    or 'project="acme-marketing-dev"' in text), f"{rule['alert']}: {text}"


def test_thresholds_come_from_the_config():
    default = {r["alert"]: r for r in all_rules()}
    custom = {r["alert"]: r for r in all_rules(scope(
        cpu_limit_percent=75, airbyte_success_window_hours=6, queued_for_minutes=45,
        dag_run_max_minutes=120, certificate_expiry_days=30))}
    assert "> 0.9" in default["ContainerCpuNearLimit"]["expr"]
    assert "> 0.75" in custom["ContainerCpuNearLimit"]["expr"]
    assert "> 21600" in custom["AirbyteNoRecentSuccess"]["expr"]
    assert "6h" in custom["AirbyteNoRecentSuccess"]["annotations"]["summary"]
    assert (default["AirflowTasksQueuedTooLong"]["for"],
            custom["AirflowTasksQueuedTooLong"]["for"]) == ("15m", "45m")
    assert "> 7200" in custom["AirflowDagRunTooLong"]["expr"]
    assert "< 2592000" in custom["CertificateExpiringSoon"]["expr"]


def test_rules_follow_the_domain_s_components():
    bare = {r["alert"] for r in all_rules(scope(features=()))}
    assert bare == {"ContainerCpuNearLimit", "ContainerMemoryNearLimit",
                    "PersistentVolumeFillingUp", "NamespaceQuotaNearlyExhausted",
                    "PodCrashLooping", "PodNotReady", "ScrapeTargetDown",
                    "SecuritySecretAccessDenied", "SecurityRequestsDenied", "SecurityPodExec",
                    "SecurityRbacChanged", "SecurityNetworkPolicyChanged"}
    with_dbt = {r["alert"] for r in all_rules(scope(features=("dbt", "argocd")))} - bare
    assert with_dbt == {"DbtJobFailed", "DbtTestsFailing", "DbtTestWarnings", "DbtResultsStale",
                        "ArgoCDAppOutOfSync", "ArgoCDAppDegraded"}
    # cert-manager's rule only where the stack says it runs (alerting.certManager)
    with_cm = {r["alert"] for r in all_rules(scope(features=("certmanager",)))} - bare
    assert with_cm == {"CertificateExpiringSoon"}
    with_datahub = {r["alert"] for r in all_rules(scope(features=("datahub",)))} - bare
    assert with_datahub == {"KafkaConsumerLagHigh", "KafkaBrokerDown"}  # its prerequisites
    with_gateway = {r["alert"] for r in all_rules(scope(features=("gateway",)))} - bare
    assert with_gateway == {"SecurityFrontDoorLoginFailures"}
    families = {g["name"] for g in render_groups(scope())}
    assert families == {f"marketing-{f}" for f in (
        "failed-ingestion", "data-quality", "resource-utilisation", "pipeline-latency",
        "platform-health", "security", "streaming-ingestion", "error-rates")}
    with pytest.raises(ValueError, match="unknown rule features"):
        render_groups(scope(features=("kafka",)))


def test_without_receivers_a_domain_s_alerts_go_to_the_platform_team():
    assert {r["labels"]["notify"] for r in all_rules(scope(notify="platform"))} == {"platform"}


def test_the_lean_set_pages_only_for_outages():
    critical = {r["alert"] for r in all_rules() if r["labels"]["severity"] == "critical"}
    assert critical == {"AirbyteNoRecentSuccess", "DbtJobFailed",
                        "AirflowSchedulerHeartbeatMissing", "ArgoCDAppDegraded", "PostgresDown",
                        "KafkaBrokerDown"}
    # Every rule earns its place in docs/monitoring.md's table (signal, source, routing).
    assert len(all_rules()) <= 32


# --- dashboards

def dashboard(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def queries(board: dict[str, Any]) -> list[str]:
    out = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    return out + [v["query"]["query"] for v in board["templating"]["list"]
                  if v["type"] == "query"]


def grafana_query(expr: str) -> str:
    """A panel query or a label_values() variable query, as plain PromQL."""
    if m := re.fullmatch(r"label_values\((.+),\s*\w+\)", expr):
        expr = m[1]
    for var, value in GRAFANA_VARS.items():
        expr = expr.replace(var, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr}"
    return expr


def test_one_dashboard_per_concern():
    assert [p.stem for p in DASHBOARDS] == ["argocd-app-health", "data-journey", "datahub",
                                            "gateway", "metabase", "platform-golden-signals",
                                            "security"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboards_are_valid_and_use_the_provisioned_datasource(path: Path):
    board = dashboard(path)
    assert board["uid"].startswith("dp-") and board["title"].startswith("Data platform / ")
    datasources = yaml.safe_load(DATASOURCES_FILE.read_text())
    uids = {d["uid"] for d in datasources["datasources"]}
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] in uids, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] in uids and target["refId"]
    for var in board["templating"]["list"]:
        assert var["datasource"]["uid"] in uids


def test_dashboard_uids_are_unique():
    uids = [dashboard(p)["uid"] for p in DASHBOARDS]
    assert len(uids) == len(set(uids))


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_queries_reference_only_exported_metrics(path: Path):
    for expr in queries(dashboard(path)):
        plain = grafana_query(expr)
        try:
            names = metric_names(plain)
        except Exception as exc:
            pytest.fail(f"{path.name}: {exc}\n{expr}")
        assert names <= KNOWN, f"{path.name}: {sorted(names - KNOWN)} unknown in {expr}"


def test_golden_signals_cover_traffic_errors_latency_saturation():
    rows = [p["title"] for p in dashboard(DASHBOARDS_DIR / "platform-golden-signals.json")
            ["panels"] if p["type"] == "row"]
    assert rows == ["Traffic", "Errors", "Latency", "Saturation"]


def test_data_journey_covers_airbyte_airflow_and_dbt():
    exprs = " ".join(queries(dashboard(DASHBOARDS_DIR / "data-journey.json")))
    for metric in ("airbyte_sync_jobs_finished_24h", "airflow_dagrun_duration_sum",
                   "airflow_dagrun_failed_count", "kube_job_failed", "kube_job_complete",
                   "kube_job_status_completion_time"):
        assert metric in exprs


def test_app_dashboards_read_the_app_s_own_metrics():
    """DataHub's and Metabase's boards read what their targets export (known_metrics.yaml
    names the source), each scoped to the domain's series of that app."""
    known = known_metrics()
    for stem, target, service in (("metabase", "metabase", "metabase"),
                                  ("datahub", "datahub-gms", "datahub-gms")):
        exprs = [grafana_query(e) for e in queries(dashboard(DASHBOARDS_DIR / f"{stem}.json"))]
        own = [e for e in exprs if metric_names(e) & known[target]]
        assert own, f"{stem}: no query reads {target}'s metrics"
        for expr in own:
            assert 'domain="marketing"' in expr and service in expr, expr
    metabase = " ".join(queries(dashboard(DASHBOARDS_DIR / "metabase.json")))
    for metric in ("jetty_requests_total", "jetty_responses_total", "c3p0_num_busy_connections",
                   "jvm_memory_bytes_used"):
        assert metric in metabase


# --- the known-metrics list itself

def test_known_metrics_name_their_source():
    data = yaml.safe_load(KNOWN_METRICS.read_text())["targets"]
    for target, entry in data.items():
        assert entry["source"] and entry["metrics"], target
        assert len(entry["metrics"]) == len(set(entry["metrics"])), target


def test_the_airbyte_collector_is_what_the_rules_read():
    collector = yaml.safe_load(COLLECTOR.read_text())
    assert collector["collector_name"] == "airbyte_sync"
    for metric in collector["metrics"]:
        assert metric["type"] == "gauge" and metric["query"].strip().upper().startswith(
            "SELECT"), metric["metric_name"]
        # read-only: no statement that changes Airbyte's database
        assert not re.search(r"\b(INSERT|UPDATE|DELETE|DROP|ALTER|CREATE)\b",
                             metric["query"], re.IGNORECASE), metric["metric_name"]


def test_the_certificate_rule_follows_alerting_cert_manager():
    from components.observability import DomainMonitoringArgs
    from foundation.config.monitoring import AlertingConfig

    def features(**alerting: Any) -> frozenset[str]:
        return DomainMonitoringArgs(
            domain="marketing", namespaces=NAMESPACES, apps=("dbt",), profile="dev",
            alerting=AlertingConfig.model_validate(alerting)).features

    assert "certmanager" not in features()  # nothing installs cert-manager by default
    assert "certmanager" in features(certManager=True)
