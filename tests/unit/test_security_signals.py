"""Security signals: Kubernetes audit events counted into metrics on every cloud, the same
rules on them, each alert routed to the platform team and the owning domain
(components/observability/audit.py, monitoring/rules/security.yaml, docs/security.md)."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
import yaml

from components._values import static_values
from components.observability._alerting import alertmanager_config_spec
from components.observability._audit_aws import ACTIONS, exporter_config
from components.observability._audit_signals import (
    CLOUDWATCH_NAMESPACE,
    SIGNALS,
    metric_relabelings,
)
from components.observability._rules import FEATURES, RuleScope, render_groups
from components.observability.audit import LOCAL_NOTE, AuditSignalsArgs, platform_scope
from dataplatform.resolve.audit import audit_args
from foundation.config import load_stack_config
from foundation.config.base import RuleViolations
from foundation.config.monitoring import AlertThresholds
from foundation.layout import VALUES_DIR

pytestmark = pytest.mark.unit

FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
LOG_METRIC = "gcp:logging/metric:Metric"
RELEASE = "kubernetes:helm.sh/v3:Release"
MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
BY_NAME = {s.name: s for s in SIGNALS}


def release(plan, name: str) -> Any:
    (found,) = [r for r in plan.by_type(RELEASE) if r.inputs["name"] == name]
    return found


def security_monitor(plan) -> dict[str, Any]:
    (found,) = [r for r in plan.by_type(MONITOR) if r.name.endswith("-security-monitor")]
    return found.inputs


# --- EKS: the audit log, one metric filter per signal, YACE with a read-only role

def test_eks_sends_the_audit_log_to_its_kept_log_group(shipped_plan):
    plan = shipped_plan("aws-platform")
    (cluster,) = plan.by_type("aws:eks/cluster:Cluster")
    assert "audit" in cluster.inputs["enabledClusterLogTypes"]
    (group,) = plan.by_type("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["name"] == f"/aws/eks/{cluster.inputs['name']}/cluster"
    assert group.inputs["retentionInDays"] > 0
    assert (group.protect, group.retain_on_delete) == (True, True)  # prod


def test_eks_metric_filters_count_each_signal_with_its_dimensions(shipped_plan):
    plan = shipped_plan("aws-platform")
    (cluster,) = plan.by_type("aws:eks/cluster:Cluster")
    filters = {f.inputs["metricTransformation"]["name"]: f.inputs for f in plan.by_type(FILTER)}
    assert sorted(filters) == sorted(BY_NAME)
    for name, f in filters.items():
        t = f["metricTransformation"]
        assert f["logGroupName"] == f"/aws/eks/{cluster.inputs['name']}/cluster"
        assert (t["namespace"], t["value"]) == (CLOUDWATCH_NAMESPACE, "1")
        assert 0 < len(t["dimensions"]) <= 3  # CloudWatch's limit per filter
        assert set(t["dimensions"]) == set(BY_NAME[name].labels)
        assert f["pattern"].startswith("{ ") and '$.stage = "ResponseComplete"' in f["pattern"]
    forbidden = filters["forbidden_requests"]
    assert "$.responseStatus.code = 403" in forbidden["pattern"]
    assert forbidden["metricTransformation"]["dimensions"] == {
        "namespace": "$.objectRef.namespace", "resource": "$.objectRef.resource",
        "verb": "$.verb"}
    exec_ = filters["pod_exec"]["pattern"]
    assert '$.objectRef.subresource = "exec"' in exec_ and '"attach"' in exec_
    for changes in ("rbac_changes", "cluster_rbac_changes", "networkpolicy_changes"):
        pattern = filters[changes]["pattern"]
        assert '$.user.username != "system:*"' in pattern  # controllers and Argo CD left out
        assert '$.verb = "get"' not in pattern and '$.verb = "delete"' in pattern
    assert '"rolebindings"' in filters["rbac_changes"]["pattern"]
    assert '"clusterrolebindings"' in filters["cluster_rbac_changes"]["pattern"]
    assert '"networkpolicies"' in filters["networkpolicy_changes"]["pattern"]


def test_yace_reads_the_filters_metrics_with_an_irsa_role_scoped_to_reading(shipped_plan):
    plan = shipped_plan("aws-platform")
    values = release(plan, "audit-cloudwatch-exporter").inputs["values"]
    config = yaml.safe_load(values["config"])
    (job,) = config["customNamespace"]
    assert job["namespace"] == CLOUDWATCH_NAMESPACE and job["regions"] == ["eu-west-1"]
    assert sorted(m["name"] for m in job["metrics"]) == sorted(BY_NAME)
    assert all(m["addCloudwatchTimestamp"] and m["period"] == 60 for m in job["metrics"])
    role = plan.get("aws:iam/role:Role", "acme-platform-prod-security-role")
    trust = json.dumps(json.loads(role.inputs["assumeRolePolicy"]))
    assert "system:serviceaccount:monitoring:audit-cloudwatch-exporter" in trust
    assert values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    (policy,) = [p for p in plan.by_type("aws:iam/rolePolicy:RolePolicy")
                 if p.name == "acme-platform-prod-security-policy"]
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert sorted(statement["Action"]) == sorted(ACTIONS) == [
        "cloudwatch:GetMetricData", "cloudwatch:ListMetrics"]
    assert [r for r in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if "security" in r.name] == []  # no managed policy on top


def test_a_stack_without_the_audit_log_type_is_refused(stacks):
    cfg = stacks.shipped("aws-platform")
    cfg["cluster"] = {**cfg.get("cluster", {}), "aws": {
        **cfg.get("cluster", {}).get("aws", {}), "logTypes": ["api", "authenticator"]}}
    stacks.write("aws-no-audit", cfg)
    loaded = load_stack_config("aws-no-audit", stacks.path)
    with pytest.raises(RuleViolations) as info:
        audit_args(loaded, None, False)  # type: ignore[arg-type]  # fails before the site
    ((key, message),) = info.value.problems
    assert key == "cluster.aws.logTypes" and "'audit'" in message


# --- GKE: log-based metrics, stackdriver_exporter, a viewer GSA through Workload Identity

def test_gke_log_metrics_extract_the_signal_labels_on_this_cluster(shipped_plan):
    plan = shipped_plan("gcp-platform")
    (cluster,) = plan.by_type("gcp:container/cluster:Cluster")
    metrics = {m.inputs["name"]: m.inputs for m in plan.by_type(LOG_METRIC)}
    assert sorted(metrics) == sorted(f"dataplatform_audit_{s}" for s in BY_NAME)
    for name, m in metrics.items():
        signal = BY_NAME[name.removeprefix("dataplatform_audit_")]
        assert 'resource.type="k8s_cluster"' in m["filter"]
        assert f'resource.labels.cluster_name="{cluster.inputs["name"]}"' in m["filter"]
        assert m["metricDescriptor"]["metricKind"] == "DELTA"
        assert [lbl["key"] for lbl in m["metricDescriptor"]["labels"]] == list(signal.labels)
        assert set(m["labelExtractors"]) == set(signal.labels)
    assert "protoPayload.status.code=7" in metrics["dataplatform_audit_forbidden_requests"][
        "filter"]  # PERMISSION_DENIED
    assert "pods\\.(exec|attach)" in metrics["dataplatform_audit_pod_exec"]["filter"]


def test_stackdriver_exporter_runs_as_a_monitoring_viewer_gsa(shipped_plan):
    plan = shipped_plan("gcp-platform")
    values = release(plan, "audit-stackdriver-exporter").inputs["values"]
    assert values["stackdriver"]["projectId"] == plan.get(
        "gcp:container/cluster:Cluster", "acme-platform-dev-cluster-cluster").inputs["project"]
    assert values["stackdriver"]["metrics"]["typePrefixes"] == \
        "logging.googleapis.com/user/dataplatform_audit_"
    assert values["serviceAccount"]["annotations"]["iam.gke.io/gcp-service-account"]
    grants = [r for r in plan.resources if "security" in r.name and "IAMMember" in r.type]
    roles = sorted(g.inputs["role"] for g in grants)
    assert roles == ["roles/iam.workloadIdentityUser", "roles/monitoring.viewer"]
    (wi,) = [g for g in grants if g.inputs["role"] == "roles/iam.workloadIdentityUser"]
    assert wi.inputs["member"].endswith(".svc.id.goog[monitoring/audit-stackdriver-exporter]")


# --- one vocabulary: the exporters' names renamed at scrape

@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_each_exporter_series_is_renamed_to_the_shared_name(cloud):
    rules = metric_relabelings(cloud)
    rename = rules[0]
    for s in SIGNALS:
        raw = s.yace_metric if cloud == "aws" else s.stackdriver_metric
        match = re.fullmatch(rename["regex"].strip("^$"), raw)
        assert match, raw
        assert rename["replacement"].replace("$1", match[1]) == s.metric
    drops = [r for r in rules if r.get("targetLabel") == "namespace"]
    assert [r["regex"] for r in drops] == ["dataplatform_audit_cluster_rbac_changes"]


def test_exporters_are_sized_and_scraped_with_their_timestamps(shipped_plan):
    for stack, app in (("aws-platform", "prometheus-yet-another-cloudwatch-exporter"),
                       ("gcp-platform", "prometheus-stackdriver-exporter")):
        values = static_values(app, "prod" if stack == "aws-platform" else "dev")
        assert set(values["resources"]) == {"requests", "limits"}, app
        (endpoint,) = security_monitor(shipped_plan(stack))["spec"]["endpoints"]
        assert endpoint["honorTimestamps"] is True and endpoint["metricRelabelings"]
    assert (VALUES_DIR / "prometheus-yet-another-cloudwatch-exporter" / "values.yaml").is_file()
    config = yaml.safe_load(exporter_config("eu-west-1"))
    assert config["sts-region"] == "eu-west-1"


def test_local_collects_nothing_and_says_so_as_information(shipped_plan, stacks):
    from dataplatform.plan.planner import Options, Planner

    plan = shipped_plan("local")
    assert plan.by_type(FILTER) == [] and plan.by_type(LOG_METRIC) == []
    assert [m for m in plan.by_type(MONITOR) if m.name.endswith("-security-monitor")] == []
    with Planner(Options(stacks_dir=stacks.path, policy=False)) as planner:
        outcome = planner.plan("local")
    assert outcome.code == 0, outcome.err
    assert f"info: {LOCAL_NOTE}" in outcome.err.splitlines()
    assert "warning" not in outcome.err.lower()  # nothing the user did not configure


# --- the rules: the domain's namespaces, the platform's, routed to both

def test_the_platform_renders_cluster_wide_and_its_own_namespace_rules(shipped_plan):
    plan = shipped_plan("aws-platform")
    (rule,) = [r for r in plan.by_type(RULE) if r.name.endswith("-security-rules")]
    (group,) = rule.inputs["spec"]["groups"]
    names = {r["alert"] for r in group["rules"]}
    assert "SecurityClusterRbacChanged" in names
    assert {r["labels"]["notify"] for r in group["rules"]} == {"platform"}
    exec_rule = next(r for r in group["rules"] if r["alert"] == "SecurityPodExec")
    assert 'namespace=~"default|kube-system|' in exec_rule["expr"]
    assert "monitoring" in exec_rule["expr"]


def test_domain_rules_watch_only_its_namespaces_and_no_cluster_wide_rule(shipped_plan):
    plan = shipped_plan("aws-finance")
    (rule,) = [r for r in plan.by_type(RULE) if r.inputs["metadata"]["name"] == "domain-alerts"]
    groups = {g["name"]: g for g in rule.inputs["spec"]["groups"]}
    security = groups["finance-security"]["rules"]
    assert "SecurityClusterRbacChanged" not in {r["alert"] for r in security}
    for r in security:
        if "dataplatform_audit_" in r["expr"]:
            assert 'namespace=~"acme-finance-' in r["expr"], r["alert"]


def test_front_door_rule_ships_only_with_the_gateway():
    args = AuditSignalsArgs(cloud="local", base="acme-marketing-dev", profile="dev",
                            domain="marketing", namespace="monitoring",
                            platform_namespaces=("kube-system",))
    alerts = {r["alert"] for g in render_groups(platform_scope(args), only=("security",))
              for r in g["rules"]}
    assert "SecurityFrontDoorLoginFailures" not in alerts
    gated = dataclasses.replace(args, front_door=True)
    assert "SecurityFrontDoorLoginFailures" in {
        r["alert"] for g in render_groups(platform_scope(gated), only=("security",))
        for r in g["rules"]}


def test_every_security_alert_reaches_the_platform_team_and_the_domain():
    """The domain's AlertmanagerConfig route (matchers domain, notify=domain; continue)
    takes it first; the platform tree then sends Security* to platform-team before it drops
    what a domain took. Every security alert, and only those, has that name."""
    values = yaml.safe_load((VALUES_DIR / "kube-prometheus-stack" / "values.yaml").read_text())
    routes = values["alertmanager"]["config"]["route"]["routes"]
    to_platform = routes.index({"receiver": "platform-team",
                                "matchers": ['alertname =~ "Security.+"']})
    dropped = routes.index({"receiver": "null", "matchers": ['notify = "domain"']})
    assert to_platform < dropped
    pattern = re.compile("Security.+")
    scope = RuleScope(domain="marketing", namespaces=("acme-marketing-dev",),
                      features=FEATURES, project="acme-marketing-dev",
                      thresholds=AlertThresholds(), notify="domain",
                      runbook_url="docs/runbooks/alerts.md")
    domain_route = alertmanager_config_spec("marketing", [], "alerting-receivers")["route"]
    for group in render_groups(scope):
        for rule in group["rules"]:
            security = group["name"] == "marketing-security"
            assert bool(pattern.fullmatch(rule["alert"])) == security, rule["alert"]
            if security:  # the domain's route takes it too
                assert all(rule["labels"].get(m["name"]) == m["value"]
                           for m in domain_route["matchers"]), rule["alert"]
