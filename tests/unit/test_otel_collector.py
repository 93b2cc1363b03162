"""The cluster's OpenTelemetry Collector and what feeds it (docs/monitoring.md).

- the cluster owner installs the pinned collector after kube-prometheus-stack: OTLP in only,
  the sender's domain set from the API and never taken from the sender, metrics to
  Prometheus' OTLP receiver (on in kube-prometheus-stack's values), traces and logs to
  `nop` unless `monitoring.otlp` names a backend, whose headers stay config secrets;
- `monitoring.otlp` is validated (endpoint, headers, signals) with the key named;
- Airflow sends its traces there, DataHub's Kafka exporter is on and scraped, and the
  domains' pods may reach the collector's OTLP ports and nothing else of it;
- the new rules' thresholds come from `alerting.thresholds`.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from observability_fixtures import ENC, NS

from components._values import static_values
from components.observability import otel
from components.observability._rules import FEATURES, RuleScope, render_groups
from foundation.chartkeys import key_index
from foundation.charts import chart_pins
from foundation.config import ConfigError, parse_stack_config
from foundation.config.monitoring import AlertThresholds, OtlpBackend
from foundation.layout import REPO_ROOT

pytestmark = pytest.mark.unit

RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PROCESSORS = ["memory_limiter", "resource/untrusted", "k8s_attributes", "resource/labels",
              "batch"]
BACKEND = {"endpoint": "https://otlp.example.com:4317",
           "headers": {"authorization": ENC, "x-scope-orgid": ENC}}


def release(plan, name: str):
    (found,) = [r for r in plan.by_type(RELEASE) if r.inputs["name"] == name]
    return found


def local_config(**extra: Any) -> dict[str, Any]:
    data = yaml.safe_load((REPO_ROOT / "tests/fixtures/stacks/Pulumi.local.yaml").read_text())
    return {**data["config"], **{f"dataplatform:{k}": v for k, v in extra.items()}}


def problems(**extra: Any) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as exc:
        parse_stack_config({"config": local_config(**extra)}, "Pulumi.local.yaml")
    return [(p.key.removeprefix("dataplatform:"), p.message) for p in exc.value.problems]


# --- the collector release -----------------------------------------------------------------

@pytest.mark.parametrize(("stack", "prod"), [("local", False), ("aws-platform", True)])
def test_the_cluster_owner_runs_the_collector_after_prometheus(shipped_plan, stack, prod):
    plan = shipped_plan(stack)
    collector = release(plan, otel.COLLECTOR)
    pin = chart_pins()[otel.COLLECTOR]
    assert (collector.inputs["chart"], collector.inputs["version"],
            collector.inputs["namespace"]) == (otel.COLLECTOR, pin.version, "monitoring")
    assert release(plan, "kube-prometheus-stack").urn in collector.depends_on
    v = collector.inputs["values"]
    assert (v["mode"], v["fullnameOverride"]) == ("deployment", otel.COLLECTOR)
    assert v["image"] == {"repository": "otel/opentelemetry-collector-contrib",
                          "tag": pin.app_version}
    assert set(v["resources"]) == {"requests", "limits"}
    assert (v.get("replicaCount"), v.get("podDisruptionBudget", {}).get("enabled")) == (
        (2, True) if prod else (None, None))
    config = v["config"]
    # OTLP only: the chart's Jaeger, Zipkin and self-scrape receivers are removed
    assert {k for k, r in config["receivers"].items() if r is not None} == {"otlp"}
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    pipelines = config["service"]["pipelines"]
    for signal in otel.SIGNALS:
        assert pipelines[signal]["receivers"] == ["otlp"]
        assert pipelines[signal]["processors"] == PROCESSORS
    assert {s: pipelines[s]["exporters"] for s in otel.SIGNALS} == {
        "metrics": [otel.PROMETHEUS_EXPORTER], "traces": ["nop"], "logs": ["nop"]}
    assert config["exporters"][otel.PROMETHEUS_EXPORTER]["metrics_endpoint"] == (
        "http://kube-prometheus-stack-prometheus.monitoring.svc:9090/api/v1/otlp/v1/metrics")
    assert not [r for r in plan.by_type(SECRET)
                if r.inputs["metadata"]["name"] == otel.HEADERS_SECRET]


def test_a_pod_cannot_claim_another_domain(shipped_plan):
    """What the sender says about itself is deleted, then set from the API by the
    connection's source pod (not by an attribute the sender could forge)."""
    config = release(shipped_plan("local"), otel.COLLECTOR).inputs["values"]["config"]
    untrusted = {a["key"] for a in config["processors"]["resource/untrusted"]["attributes"]
                 if a["action"] == "delete"}
    assert {"domain", "namespace", "k8s.namespace.name", "k8s.pod.name", "k8s.pod.ip",
            "k8s.pod.uid"} <= untrusted
    k8s = config["processors"]["k8s_attributes"]
    assert k8s["pod_association"] == [{"sources": [{"from": "connection"}]}]
    assert k8s["passthrough"] is False
    assert {"tag_name": "domain", "key": "dataplatform.io/domain",
            "from": "namespace"} in k8s["extract"]["labels"]
    assert {"key": "namespace", "from_attribute": "k8s.namespace.name",
            "action": "upsert"} in config["processors"]["resource/labels"]["attributes"]


def test_prometheus_takes_otlp_with_the_domain_labels(shipped_plan):
    spec = release(shipped_plan("local"), "kube-prometheus-stack").inputs["values"][
        "prometheus"]["prometheusSpec"]
    assert spec["enableOTLPReceiver"] is True
    assert spec["otlp"]["promoteResourceAttributes"] == ["domain", "namespace"]


def test_a_domain_on_a_shared_cluster_runs_no_collector(shipped_plan):
    plan = shipped_plan("aws-finance")
    assert not [r for r in plan.by_type(RELEASE) if r.inputs["name"] == otel.COLLECTOR]


@pytest.mark.parametrize("profile", ["dev", "prod"])
@pytest.mark.parametrize("backend", [None, OtlpBackend.model_validate(BACKEND)])
def test_collector_values_are_known_to_the_chart_and_sized(profile, backend):
    pin = chart_pins()[otel.COLLECTOR]
    index = key_index(otel.COLLECTOR, pin.version)
    assert index is not None, "chart-keys/ has no index of the pinned collector chart"
    values = static_values(otel.COLLECTOR, profile, {})
    assert index.unknown(values) == []
    assert index.unknown(otel.computed_values("monitoring", backend)) == []
    assert {"cpu", "memory"} <= set(values["resources"]["requests"]) & set(
        values["resources"]["limits"])
    assert values["securityContext"]["readOnlyRootFilesystem"] is True
    assert values["clusterRole"]["rules"] == [{"apiGroups": [""],
                                               "resources": ["pods", "namespaces"],
                                               "verbs": ["get", "list", "watch"]}]


def test_the_collector_s_own_network_policy(shipped_plan):
    policy = release(shipped_plan("local"), otel.COLLECTOR).inputs["values"]["networkPolicy"]
    assert policy["enabled"] is True
    assert policy["allowIngressFrom"] == [
        {"namespaceSelector": {"matchExpressions": [
            {"key": "dataplatform.io/domain-id", "operator": "Exists"}]}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    ports = [sorted(p["port"] for p in r["ports"]) for r in policy["egressRules"]]
    assert ports == [[53, 53], [443, 6443], [9090]]  # DNS, API server, Prometheus


# --- a customer's OTLP backend -------------------------------------------------------------

def test_a_backend_gets_every_signal_it_asks_for_with_secret_headers(stacks):
    stacks.write("local-otlp", {**stacks.shipped("local"), "monitoring": {
        **stacks.shipped("local").get("monitoring", {}), "otlp": {
            **BACKEND, "signals": ["metrics", "traces", "logs"]}}})
    plan = stacks.plan("local-otlp")
    collector = release(plan, otel.COLLECTOR)
    v = collector.inputs["values"]
    exporter = v["config"]["exporters"]["otlp/backend"]
    assert exporter == {"endpoint": "https://otlp.example.com:4317", "headers": {
        "authorization": "${env:OTLP_HEADER_0}", "x-scope-orgid": "${env:OTLP_HEADER_1}"}}
    pipelines = v["config"]["service"]["pipelines"]
    assert pipelines["metrics"]["exporters"] == [otel.PROMETHEUS_EXPORTER, "otlp/backend"]
    assert pipelines["traces"]["exporters"] == pipelines["logs"]["exporters"] == [
        "otlp/backend"]
    assert v["extraEnvs"] == [
        {"name": f"OTLP_HEADER_{i}", "valueFrom": {"secretKeyRef": {
            "name": otel.HEADERS_SECRET, "key": h}}}
        for i, h in enumerate(["authorization", "x-scope-orgid"])]
    (secret,) = [r for r in plan.by_type(SECRET)
                 if r.inputs["metadata"]["name"] == otel.HEADERS_SECRET]
    # decrypted config secrets: the plan masks the whole map (keys: extraEnvs above)
    assert secret.inputs["stringData"] == "[secret]"
    assert ENC["secure"] not in str(secret.inputs) and ENC["secure"] not in str(v)
    assert secret.urn in collector.depends_on
    assert [r["ports"] for r in v["networkPolicy"]["egressRules"]][-1] == [
        {"protocol": "TCP", "port": 4317}]


@pytest.mark.parametrize(("backend", "exporter", "settings", "port"), [
    ({"endpoint": "https://api.honeycomb.io", "protocol": "http"}, "otlphttp/backend",
     {"endpoint": "https://api.honeycomb.io"}, 443),
    ({"endpoint": "http://tempo.tracing.svc:4317", "signals": ["traces"]}, "otlp/backend",
     {"endpoint": "http://tempo.tracing.svc:4317", "tls": {"insecure": True}}, 4317),
])
def test_backend_protocols_and_ports(backend, exporter, settings, port):
    b = OtlpBackend.model_validate(backend)
    values = otel.computed_values("observability", b)
    assert values["config"]["exporters"][exporter] == settings
    routes = {s: p["exporters"] for s, p in values["config"]["service"]["pipelines"].items()}
    assert exporter in routes["traces"]
    assert (exporter in routes["metrics"]) is ("metrics" in b.signals)
    assert values["config"]["exporters"][otel.PROMETHEUS_EXPORTER]["metrics_endpoint"] == (
        otel.prometheus_otlp_url("observability"))
    assert values["networkPolicy"]["egressRules"][-1]["ports"] == [
        {"protocol": "TCP", "port": port}]
    assert "extraEnvs" not in values


@pytest.mark.parametrize("endpoint", [
    "https://user:pw@otlp.example.com", "https://otlp.example.com?api_key=x",
    "https://otlp.example.com/#frag", "ftp://otlp.example.com", "otlp.example.com:4317",
    "https://otlp.example.com:0", "https://otlp.example.com:99999",
    "https://otlp.example.com\n", "https://otlp.example.com/a b", "HTTPS://otlp.example.com",
    "https://-bad.example.com", ""])
def test_bad_backend_endpoints_name_the_key(endpoint):
    (problem,) = problems(monitoring={"otlp": {"endpoint": endpoint}})
    assert problem[0] == "monitoring.otlp.endpoint"


@pytest.mark.parametrize(("otlp", "key", "fragment"), [
    ({"endpoint": "https://o.example.com", "headers": {"authorization": "Bearer abc"}},
     "monitoring.otlp.headers.authorization", "must be a Pulumi secret"),
    ({"endpoint": "http://o.example.com", "headers": {"authorization": ENC}},
     "monitoring.otlp.endpoint", "use an https:// endpoint"),
    ({"endpoint": "https://o.example.com", "headers": {"Authorization": ENC,
                                                        "authorization": ENC}},
     "monitoring.otlp.headers.authorization", "header names ignore case"),
    ({"endpoint": "https://o.example.com", "headers": {"x:y": ENC}},
     "monitoring.otlp.headers", ""),
    ({"endpoint": "https://o.example.com", "signals": ["traces", "traces"]},
     "monitoring.otlp.signals", "twice"),
    ({"endpoint": "https://o.example.com", "signals": []}, "monitoring.otlp.signals", ""),
    ({"endpoint": "https://o.example.com", "protocol": "thrift"},
     "monitoring.otlp.protocol", ""),
])
def test_bad_backend_settings_name_the_key(otlp, key, fragment):
    found = problems(monitoring={"otlp": otlp})
    assert any(k.startswith(key) and fragment in m for k, m in found), found


def test_a_backend_needs_the_monitoring_stack():
    assert ("monitoring.otlp", "the OpenTelemetry Collector runs with the monitoring stack: "
            "set monitoring.enabled or drop monitoring.otlp") in problems(
        monitoring={"enabled": False, "otlp": {"endpoint": "https://o.example.com"}},
        alerting={"enabled": False})


def test_no_backend_by_default():
    cfg = parse_stack_config({"config": local_config()}, "Pulumi.local.yaml")
    assert cfg.monitoring.otlp is None


# --- what feeds it, and who may reach it ----------------------------------------------------

@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_airflow_sends_traces_to_the_collector_and_keeps_statsd(profile):
    values = static_values("airflow", profile, {})
    assert values["config"]["traces"] == {
        "otel_on": "True", "otel_host": otel.collector_host("monitoring"),
        "otel_port": str(otel.OTLP_HTTP_PORT), "otel_ssl_active": "False",
        "otel_service": "airflow"}
    # Airflow takes statsd before [metrics] otel_on: the statsd exporter keeps the metrics
    assert values["statsd"]["enabled"] is not False
    assert "otel_on" not in (values["config"].get("metrics") or {})


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_datahub_s_kafka_exporter_is_on_and_sized(profile):
    kafka = static_values("datahub-prerequisites", profile, {})["kafka"]["metrics"]["kafka"]
    assert kafka["enabled"] is True
    assert kafka["image"]["repository"] == "bitnamilegacy/kafka-exporter"
    assert {"cpu", "memory"} <= set(kafka["resources"]["requests"]) & set(
        kafka["resources"]["limits"])


def test_the_kafka_exporter_is_scraped_with_the_domain_label(shipped_plan):
    (monitor,) = [r for r in shipped_plan("local").by_type(MONITOR)
                  if r.inputs["metadata"]["name"] == "kafka-exporter"]
    spec = monitor.inputs["spec"]
    assert monitor.inputs["metadata"]["namespace"] == NS
    assert spec["selector"]["matchLabels"] == {
        "app.kubernetes.io/instance": "datahub-prerequisites",
        "app.kubernetes.io/name": "kafka", "app.kubernetes.io/component": "cluster-metrics"}
    assert spec["endpoints"] == [{"port": "http-metrics", "interval": "30s", "relabelings": [
        {"action": "replace", "targetLabel": "domain", "replacement": "marketing"}]}]


@pytest.mark.parametrize("stack", ["aws-finance", "local"])
def test_domain_pods_may_reach_the_collector_s_otlp_ports_only(shipped_plan, stack):
    policies = [r for r in shipped_plan(stack).by_type(NETPOL)
                if r.inputs["metadata"]["name"] == "allow-otlp-push"]
    assert policies, "every domain namespace gets allow-otlp-push"
    for policy in policies:
        assert policy.inputs["spec"] == {
            "podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                "to": [{"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": "monitoring"}},
                    "podSelector": {"matchLabels": {
                        "app.kubernetes.io/name": otel.COLLECTOR}}}],
                "ports": [{"protocol": "TCP", "port": 4317},
                          {"protocol": "TCP", "port": 4318}]}]}


# --- thresholds of the new rules -------------------------------------------------------------

def rules(**thresholds: Any) -> dict[str, dict[str, Any]]:
    scope = RuleScope(domain="marketing", namespaces=(NS,), features=FEATURES, project=NS,
                      thresholds=AlertThresholds.model_validate(thresholds),
                      notify="domain", runbook_url="docs/runbooks/alerts.md")
    return {r["alert"]: r for g in render_groups(scope) for r in g["rules"]}


def test_streaming_and_error_thresholds_come_from_the_config():
    default, custom = rules(), rules(kafkaConsumerLag=20000, httpErrorPercent=2)
    assert ") > 5000" in default["KafkaConsumerLagHigh"]["expr"]
    assert ") > 20000" in custom["KafkaConsumerLagHigh"]["expr"]
    assert ") > 0.05\n" in default["MetabaseHttpErrors"]["expr"]
    assert ") > 0.02\n" in custom["MetabaseHttpErrors"]["expr"]
    assert "More than 2% of" in custom["MetabaseHttpErrors"]["annotations"]["description"]


def test_streaming_and_error_rules_follow_the_domain_s_apps():
    def names(*features: str) -> set[str]:
        scope = RuleScope(domain="marketing", namespaces=(NS,), features=frozenset(features),
                          project=None, thresholds=AlertThresholds(), notify="platform",
                          runbook_url="docs/runbooks/alerts.md")
        return {r["alert"] for g in render_groups(scope) for r in g["rules"]}

    new = {"KafkaConsumerLagHigh", "KafkaBrokerDown", "MetabaseHttpErrors"}
    assert names() & new == set()
    assert names("datahub") & new == {"KafkaConsumerLagHigh", "KafkaBrokerDown"}
    assert names("metabase") & new == {"MetabaseHttpErrors"}


@pytest.mark.parametrize(("key", "value"), [("kafkaConsumerLag", 0),
                                            ("httpErrorPercent", 0),
                                            ("httpErrorPercent", 101)])
def test_bad_thresholds_name_the_key(key, value):
    found = problems(alerting={"thresholds": {key: value}})
    assert [k for k, _ in found] == [f"alerting.thresholds.{key}"]
