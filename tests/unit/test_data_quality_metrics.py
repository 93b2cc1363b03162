"""Data quality as a metric (docs/data-quality.md): dbt test results -> push script ->
Pushgateway -> Prometheus -> rules -> the domain's receiver.

- `alerting.thresholds.dataQuality`: defaults once, per project, model and job, and every
  bad spelling refused with the key;
- the push script (run for real, in a subprocess) converts tests/data/dbt_run_results.json
  to the expected exposition text, PUTs it under the grouping key, POSTs the outcome alone
  without results, and converts a Great Expectations validation result;
- the dbt CronJob calls it after dbt with the Pushgateway URL; the platform plans the
  Pushgateway release, its ServiceMonitor (honorLabels) and the domains' egress to it;
- the rules render per-project, per-model and per-job thresholds that promtool evaluates
  as configured (the default scope's cases are monitoring/rules/tests/data_quality.test.yaml).
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from observability_fixtures import NS

from components._values import static_values, typed_settings
from components.apps.dbt import _pod as pod
from components.apps.dbt import metrics
from components.apps.dbt._settings import DbtSettings
from components.observability import monitoring
from components.observability._rules import FEATURES, RuleScope, render_rule, rule_templates
from foundation.chartkeys import key_index
from foundation.charts import chart_pins
from foundation.config import ConfigError, parse_stack_config
from foundation.config.monitoring import AlertThresholds
from foundation.layout import REPO_ROOT

pytestmark = pytest.mark.unit

DATA = Path(__file__).parents[1] / "data"
SCRIPT = metrics.PUSH_SCRIPT
CRONJOB = "kubernetes:batch/v1:CronJob"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
RELEASE = "kubernetes:helm.sh/v3:Release"
MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DAILY = "dbt-jaffle-shop-daily"  # the local fixture's dbt job
GROUP = "/metrics/job/daily/domain/marketing/project/jaffle-shop"
ARGS = ["--domain", "marketing", "--project", "jaffle-shop", "--job", "daily",
        "--namespace", NS, "--cronjob", DAILY]
COMMON = f'namespace="{NS}",cronjob="{DAILY}"'


# --- alerting.thresholds.dataQuality ------------------------------------------------------

def local_with(thresholds: dict[str, Any], **extra: Any):
    data = yaml.safe_load((REPO_ROOT / "tests/fixtures/stacks/Pulumi.local.yaml").read_text())
    config = dict(data["config"])
    config["dataplatform:alerting"] = {"thresholds": {"dataQuality": thresholds}}
    config.update({f"dataplatform:{k}": v for k, v in extra.items()})
    return parse_stack_config({"config": config}, "Pulumi.local.yaml")


def problems(thresholds: dict[str, Any], **extra: Any) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as exc:
        local_with(thresholds, **extra)
    return [(p.key.removeprefix("dataplatform:alerting.thresholds.dataQuality"), p.message)
            for p in exc.value.problems]


def test_defaults_once_and_nested_overrides():
    dq = AlertThresholds().data_quality
    assert (dq.max_warnings, dq.results_max_age_hours, dq.projects) == (0, 26, {})
    cfg = local_with({"maxWarnings": 2, "projects": {"jaffle-shop": {
        "resultsMaxAgeHours": 4, "models": {"orders": {"maxWarnings": 10},
                                           "ecom.raw_orders": {"maxWarnings": 1}},
        "jobs": {"daily": {"resultsMaxAgeHours": 30}}}}})
    project = cfg.alerting.thresholds.data_quality.projects["jaffle-shop"]
    assert project.max_warnings is None  # inherits maxWarnings: 2
    assert project.models["orders"].max_warnings == 10
    assert project.jobs["daily"].results_max_age_hours == 30


@pytest.mark.parametrize(("thresholds", "key", "fragment"), [
    ({"projects": {"jaffle-shp": {"maxWarnings": 1}}}, ".projects.jaffle-shp",
     "no dbt project 'jaffle-shp' in apps.dbt.projects (did you mean 'jaffle-shop'?)"),
    ({"projects": {"Jaffle-Shop": {"maxWarnings": 1}}}, ".projects.Jaffle-Shop",
     "is not a dbt project or job name"),
    ({"projects": {"jaffle-shop ": {"maxWarnings": 1}}}, ".projects.jaffle-shop ",
     "is not a dbt project or job name"),
    ({"projects": {"jaffle-shop": {"jobs": {"dialy": {"resultsMaxAgeHours": 2}}}}},
     ".projects.jaffle-shop.jobs.dialy", "no job 'dialy' in dbt project 'jaffle-shop' "
                                         "(did you mean 'daily'?)"),
    ({"projects": {"jaffle-shop": {"jobs": {"daily": {}}}}}, ".projects.jaffle-shop.jobs.daily",
     "sets no threshold"),
    ({"projects": {"jaffle-shop": {}}}, ".projects.jaffle-shop", "sets no threshold"),
    ({"projects": {"jaffle-shop": {"models": {"orders": {}}}}},
     ".projects.jaffle-shop.models.orders", "sets no threshold"),
    ({"projects": {"jaffle-shop": {"models": {'orders"} or vector(1) #': {
        "maxWarnings": 1}}}}}, '.projects.jaffle-shop.models.orders"} or vector(1) #',
     "is not a dbt model name"),
    ({"projects": {"jaffle-shop": {"models": {"orders\\": {"maxWarnings": 1}}}}},
     ".projects.jaffle-shop.models.orders\\", "is not a dbt model name"),
    ({"projects": {"jaffle-shop": {"models": {"orders\n": {"maxWarnings": 1}}}}},
     ".projects.jaffle-shop.models.orders\n", "is not a dbt model name"),
    ({"projects": {"jaffle-shop": {"models": {"": {"maxWarnings": 1}}}}},
     ".projects.jaffle-shop.models.", "is not a dbt model name"),
    ({"maxWarnings": -1}, ".maxWarnings", "greater than or equal to 0"),
    ({"resultsMaxAgeHours": 0}, ".resultsMaxAgeHours", "greater than or equal to 1"),
    ({"projects": {"jaffle-shop": {"maxWarning": 1}}}, ".projects.jaffle-shop.maxWarning",
     "unknown key"),
    ({"maxWarnings": "3"}, ".maxWarnings", "valid integer"),
])
def test_bad_thresholds_name_the_key(thresholds, key, fragment):
    found = problems(thresholds)
    assert any(k == key and fragment in m for k, m in found), found


def test_thresholds_for_projects_need_dbt():
    assert problems({"projects": {"jaffle-shop": {"maxWarnings": 1}}},
                    apps={"airflow": {"enabled": True}}) == [
        (".projects", "names dbt projects, but apps.dbt is not enabled in this stack")]


# --- the push script, run for real ---------------------------------------------------------

EXPECTED = f"""PUT {GROUP}

# HELP dbt_run_success 1 when the latest dbt run exited 0.
# TYPE dbt_run_success gauge
dbt_run_success{{{COMMON}}} 0
# HELP dbt_test_results Tests of the latest run per attached model and status.
# TYPE dbt_test_results gauge
""" + "".join(
    f'dbt_test_results{{{COMMON},model="{m}",status="{s}"}} {n}\n'
    for m, counts in (("(none)", (0, 0, 1, 0, 0)), ("customers", (0, 0, 0, 0, 1)),
                      ("ecom.raw_orders", (1, 0, 0, 0, 0)), ("orders", (3, 1, 1, 1, 0)))
    for s, n in zip(("pass", "warn", "fail", "error", "skipped"), counts, strict=True)) + """\
# HELP dbt_model_status 1 on the status of each model built by the latest run, else 0.
# TYPE dbt_model_status gauge
""" + "".join(
    f'dbt_model_status{{{COMMON},model="{m}",status="{s}"}} {int(s == status)}\n'
    for m, status in (("customers", "error"), ("orders", "success"),
                      ("raw_payments", "success"), ("stg_orders", "success"))
    for s in ("success", "error", "skipped")) + f"""\
# HELP dbt_run_last_timestamp_seconds When the latest results were generated (Unix time).
# TYPE dbt_run_last_timestamp_seconds gauge
dbt_run_last_timestamp_seconds{{{COMMON}}} 1746076350.5
# HELP dbt_run_duration_seconds Elapsed time of the latest dbt run.
# TYPE dbt_run_duration_seconds gauge
dbt_run_duration_seconds{{{COMMON}}} 42.5
"""


@pytest.fixture
def target(tmp_path: Path) -> Path:
    folder = tmp_path / "target"
    folder.mkdir()
    shutil.copy(DATA / "dbt_run_results.json", folder / "run_results.json")
    shutil.copy(DATA / "dbt_run_results_manifest.json", folder / "manifest.json")
    return folder


def run_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


def test_push_script_converts_the_sample_run_results(target):
    out = run_script("--target-path", str(target), "--exit-code", "1", *ARGS, "--print")
    assert out.returncode == 0, out.stderr
    assert out.stdout == EXPECTED


def test_push_script_output_is_valid_exposition_text(target):
    promtool = promtool_path()
    body = run_script("--target-path", str(target), *ARGS, "--print").stdout.split("\n\n", 1)[1]
    check = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr


class _Gateway(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, str, str, str]] = []

    def _take(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.received.append((self.command, self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.end_headers()

    do_PUT = do_POST = _take

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway():
    _Gateway.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", _Gateway.received
    server.shutdown()


def test_push_script_puts_the_run_under_its_grouping_key(target, gateway):
    url, received = gateway
    env = {"DBT_METRICS_URL": url, "DBT_METRICS_DOMAIN": "marketing",
           "DBT_METRICS_PROJECT": "jaffle-shop", "DBT_METRICS_NAMESPACE": NS,
           "DBT_TARGET_PATH": str(target)}  # what the CronJob's dbt container sets
    out = run_script("--exit-code", "1", "--job", "daily", "--cronjob", DAILY, env=env)
    assert out.returncode == 0, out.stderr
    ((method, path, ctype, body),) = received
    assert (method, path) == ("PUT", GROUP)  # PUT: replaces the job's previous results
    assert ctype == "text/plain; version=0.0.4; charset=utf-8"
    assert body == EXPECTED.split("\n\n", 1)[1]


def test_a_run_without_results_posts_its_outcome_only(tmp_path, gateway):
    url, received = gateway
    out = run_script("--target-path", str(tmp_path), "--exit-code", "2", *ARGS, "--url", url)
    assert out.returncode == 0 and "no " in out.stderr
    ((method, path, _, body),) = received
    assert (method, path) == ("POST", GROUP)  # POST keeps the last results: they go stale
    assert [line for line in body.splitlines() if not line.startswith("#")] == [
        f"dbt_run_success{{{COMMON}}} 0"]


def test_an_unreachable_pushgateway_fails_the_script_not_the_run(target, tmp_path):
    out = run_script("--target-path", str(target), *ARGS, "--url", "http://127.0.0.1:9",
                     "--attempts", "1", "--timeout", "2")
    assert out.returncode == 1 and "push to http://127.0.0.1:9 failed" in out.stderr
    # In the pod: the dbt container's script still exits 0, so the upload runs.
    script = pod.dbt_script("dbt build", pod.push_command("daily", DAILY, 2)).replace(
        f"{pod.METRICS_DIR}/{pod.METRICS_SCRIPT}", f"{SCRIPT} --attempts 1").replace(
        "python3", sys.executable).replace("/work", str(tmp_path / "work"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dbt").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "dbt").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "DBT_TARGET_PATH":
           str(target), "DBT_METRICS_URL": "http://127.0.0.1:9", "DBT_METRICS_DOMAIN":
           "marketing", "DBT_METRICS_PROJECT": "jaffle-shop"}
    run = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0 and "test results not pushed" in run.stderr, run.stderr


def test_great_expectations_results_get_the_same_names_and_a_suite(tmp_path):
    validation = {"success": False, "results": [
        {"success": True, "expectation_config": {"expectation_type": "expect_column_values_"
                                                                     "to_not_be_null"}},
        {"success": False, "expectation_config": {"expectation_type": "expect_column_values_"
                                                                      "to_be_unique"}},
        {"success": False, "exception_info": {"raised_exception": True}}],
        "meta": {"expectation_suite_name": "orders_suite",
                 "active_batch_definition": {"data_asset_name": 'orders"x'},
                 "run_id": {"run_time": "2025-05-01T05:00:00+00:00"}}}
    (tmp_path / "v.json").write_text(json.dumps(validation))
    out = run_script("--ge-validation", str(tmp_path / "v.json"), "--domain", "marketing",
                     "--project", "expectations", "--job", "nightly", "--print")
    assert out.returncode == 0, out.stderr
    lines = [x for x in out.stdout.splitlines() if x and not x.startswith("#")]
    assert lines[0] == "PUT /metrics/job/nightly/domain/marketing/project/expectations"
    assert lines[1:] == [
        *(f'dbt_test_results{{model="orders\\"x",suite="orders_suite",status="{s}"}} {n}'
          for s, n in (("pass", 1), ("warn", 0), ("fail", 1), ("error", 1), ("skipped", 0))),
        "dbt_run_last_timestamp_seconds 1746075600"]
    bad = run_script("--ge-validation", str(DATA / "dbt_run_results.json"), *ARGS, "--print")
    assert bad.returncode == 2 and "needs its suite and data asset" in bad.stderr


# --- the dbt runner -------------------------------------------------------------------------

def cronjob(plan, name: str = DAILY) -> dict:
    (found,) = [r for r in plan.by_type(CRONJOB) if r.inputs["metadata"]["name"] == name]
    return found


def pod_spec(cj) -> dict:
    return cj.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def test_the_cronjob_pushes_after_dbt_with_the_pushgateway_url(shipped_plan):
    plan = shipped_plan("local")
    cj = cronjob(plan)
    spec = pod_spec(cj)
    dbt = {c["name"]: c for c in spec["initContainers"]}["dbt"]
    script = dbt["command"][2].splitlines()
    assert script[-2:] == [
        'echo "$rc" > /work/status/exit-code',
        'python3 /etc/dbt-metrics/push_results.py --exit-code "$rc" --job daily --cronjob '
        f"{DAILY} --timeout 10 || echo 'push_results: test results not pushed' >&2"]
    env = {e["name"]: e.get("value") for e in dbt["env"]}
    assert {k: env[k] for k in env if k.startswith("DBT_METRICS_")} == {
        "DBT_METRICS_URL": "http://prometheus-pushgateway.monitoring.svc:9091",
        "DBT_METRICS_DOMAIN": "marketing", "DBT_METRICS_PROJECT": "jaffle-shop",
        "DBT_METRICS_NAMESPACE": NS}
    assert env["DBT_TARGET_PATH"] == "/work/target"  # where dbt writes run_results.json
    assert {"name": "metrics", "mountPath": "/etc/dbt-metrics", "readOnly": True} in dbt[
        "volumeMounts"]
    assert {"name": "metrics", "configMap": {"name": "dbt-metrics-script",
                                             "defaultMode": 0o444}} in spec["volumes"]
    (cm,) = [r for r in plan.by_type(CONFIGMAP) if r.name.endswith("-dbt-metrics-script")]
    assert cm.inputs["data"] == {"push_results.py": SCRIPT.read_text()}
    assert cm.urn in cj.depends_on
    # The runner's image is the dbt image: Python, no curl needed.
    assert dbt["image"].startswith("ghcr.io/dbt-labs/dbt-")


def test_metrics_off_or_elsewhere(stacks):
    base = stacks.shipped("local")
    dbt = base["apps"]["dbt"]
    off = {**base, "apps": {**base["apps"], "dbt": {**dbt, "values": {"metrics": {
        "enabled": False}}}}}
    stacks.write("local-no-metrics", off)
    plan = stacks.plan("local-no-metrics")
    dbt_c = pod_spec(cronjob(plan))["initContainers"][1]
    assert "push_results" not in dbt_c["command"][2]
    assert not [e for e in dbt_c["env"] if e["name"].startswith("DBT_METRICS_")]
    assert not [r for r in plan.by_type(CONFIGMAP) if r.name.endswith("-metrics-script")]
    moved = typed_settings("dbt", "dev", DbtSettings, {"metrics": {
        "pushgatewayUrl": "http://prometheus-pushgateway.observability.svc:9091"}})
    assert moved.metrics.pushgateway_url.endswith("observability.svc:9091")


@pytest.mark.parametrize("url", [
    "http://user:pw@pushgateway:9091", "http://pushgateway:9091/metrics",
    "http://pushgateway:9091; rm -rf /", "ftp://pushgateway", "pushgateway:9091",
    "http://PushGateway:9091", "http://pushgateway:9091\n"])
def test_pushgateway_url_is_a_plain_endpoint(url):
    with pytest.raises(ValueError, match="is not a Pushgateway URL"):
        typed_settings("dbt", "dev", DbtSettings, {"metrics": {"pushgatewayUrl": url}})


# --- the platform side --------------------------------------------------------------------

@pytest.mark.parametrize(("stack", "persistent"), [("aws-platform", True), ("local", False)])
def test_the_cluster_owner_runs_the_pushgateway_with_its_service_monitor(
        shipped_plan, stack, persistent):
    plan = shipped_plan(stack)
    (release,) = [r for r in plan.by_type(RELEASE) if r.inputs["name"] == monitoring.PUSHGATEWAY]
    (stack_release,) = [r for r in plan.by_type(RELEASE)
                        if r.inputs["name"] == "kube-prometheus-stack"]
    pin = chart_pins()[monitoring.PUSHGATEWAY]
    assert (release.inputs["chart"], release.inputs["version"], release.inputs["namespace"]) \
        == ("prometheus-pushgateway", pin.version, "monitoring")
    assert stack_release.urn in release.depends_on
    values = release.inputs["values"]
    assert values["fullnameOverride"] == monitoring.PUSHGATEWAY
    assert set(values["resources"]) == {"requests", "limits"}
    assert values["serviceMonitor"]["enabled"] is False  # ours, below
    assert values["networkPolicy"]["customSelectors"] == [
        {"namespaceSelector": {"matchExpressions": [
            {"key": "dataplatform.io/domain-id", "operator": "Exists"}]}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    assert values.get("persistentVolume", {}).get("enabled", False) is persistent
    (monitor,) = [r for r in plan.by_type(MONITOR)
                  if r.inputs["metadata"]["name"] == monitoring.PUSHGATEWAY]
    assert monitor.inputs["spec"]["endpoints"] == [
        {"port": "http", "interval": "30s", "honorLabels": True}]
    assert monitor.inputs["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": monitoring.PUSHGATEWAY,
        "app.kubernetes.io/instance": monitoring.PUSHGATEWAY}
    assert stack_release.urn in monitor.depends_on


def test_a_domain_on_a_shared_cluster_gets_no_pushgateway(shipped_plan):
    plan = shipped_plan("aws-finance")
    assert not [r for r in plan.by_type(RELEASE) if r.inputs["name"] == monitoring.PUSHGATEWAY]


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_pushgateway_values_are_known_to_the_chart_and_sized(profile):
    pin = chart_pins()[monitoring.PUSHGATEWAY]
    index = key_index(monitoring.PUSHGATEWAY, pin.version)
    assert index is not None, "chart-keys/ has no index of the pinned Pushgateway chart"
    values = static_values(monitoring.PUSHGATEWAY, profile, {})
    assert index.unknown(values) == []
    assert {"cpu", "memory"} <= set(values["resources"]["requests"]) & set(
        values["resources"]["limits"])
    assert values["containerSecurityContext"]["readOnlyRootFilesystem"] is True
    if profile == "prod":
        assert "--persistence.file=/data/pushgateway.data" in values["extraArgs"]


def test_domain_pods_may_push_to_the_pushgateway_and_nothing_else_there(shipped_plan):
    plan = shipped_plan("aws-finance")
    (policy,) = [r for r in plan.by_type(NETPOL)
                 if r.inputs["metadata"]["name"] == "allow-metrics-push"]
    assert policy.inputs["spec"] == {
        "podSelector": {}, "policyTypes": ["Egress"], "egress": [{
            "to": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "monitoring"}},
                "podSelector": {"matchLabels": {
                    "app.kubernetes.io/name": monitoring.PUSHGATEWAY}}}],
            "ports": [{"protocol": "TCP", "port": monitoring.PUSHGATEWAY_PORT}]}]}
    # the URL is computed from the same namespace as the policy, not kept in values
    assert typed_settings("dbt", "prod", DbtSettings, {}).metrics.pushgateway_url is None
    assert monitoring.pushgateway_url("monitoring") == (
        f"http://{monitoring.PUSHGATEWAY}.monitoring.svc:{monitoring.PUSHGATEWAY_PORT}")


# --- rules: thresholds per project, model and job, evaluated by promtool -------------------

def promtool_path() -> str:
    found = (os.environ.get("DATAPLATFORM_PROMTOOL") or shutil.which("promtool")
             or str(REPO_ROOT / ".tools/prometheus/usr/bin/promtool"))
    if not Path(found).is_file():
        if os.environ.get("DATAPLATFORM_REQUIRE_PROMTOOL"):
            pytest.fail(f"promtool not found ({found})")
        pytest.skip("promtool is not installed (DATAPLATFORM_PROMTOOL)")
    return found


def dq_rules(thresholds: dict[str, Any]) -> list[dict[str, Any]]:
    scope = RuleScope(domain="marketing", namespaces=(NS,), features=FEATURES,
                      project=NS, thresholds=AlertThresholds.model_validate(
                          {"dataQuality": thresholds}),
                      notify="domain", runbook_url="docs/runbooks/alerts.md")
    # This family only: the other families' templates are no concern of these tests.
    (family,) = [f for f in rule_templates() if f["family"] == "data-quality"]
    values = scope.placeholders()
    return [{"name": "marketing-data-quality",
             "rules": [render_rule(r, scope, values) for r in family["rules"]]}]


def labels(project: str, job: str, **extra: str) -> str:
    pairs = {"domain": "marketing", "project": project, "job": job, "namespace": NS,
             "cronjob": f"dbt-{project}-{job}", **extra}
    return ",".join(f'{k}="{v}"' for k, v in pairs.items())


OVERRIDES = {"maxWarnings": 1, "resultsMaxAgeHours": 26, "projects": {
    "sales": {"maxWarnings": 5, "resultsMaxAgeHours": 2,
              "models": {"orders": {"maxWarnings": 10}},
              "jobs": {"weekly": {"resultsMaxAgeHours": 200}}}}}


def test_default_thresholds_render_as_numbers():
    rules = {r["alert"]: r["expr"] for r in dq_rules({})[0]["rules"]}
    assert set(rules) == {"DbtJobFailed", "DbtTestsFailing", "DbtTestWarnings",
                          "DbtResultsStale"}
    assert ") > 0\n)" in rules["DbtTestsFailing"]
    assert "\n  > 0\n)" in rules["DbtTestWarnings"]
    assert "\n  > 93600\n)" in rules["DbtResultsStale"]


def test_overrides_fire_per_project_model_and_job(tmp_path):
    promtool = promtool_path()
    warn = {("sales", "orders"): 10, ("sales", "returns"): 6, ("sales", "items"): 5,
            ("crm", "leads"): 2, ("crm", "accounts"): 1}
    series = [{"series": f"dbt_test_results{{{labels(p, 'daily', model=m, status='warn')}}}",
               "values": f"{n}x4"} for (p, m), n in warn.items()]
    # Last results at t=0, evaluated at 3h: sales/daily (the project's 2h) is stale;
    # sales/weekly (its own 200h) and crm/daily (the default 26h) are not.
    for project, job in (("sales", "daily"), ("sales", "weekly"), ("crm", "daily")):
        series += [
            {"series": f"dbt_run_last_timestamp_seconds{{{labels(project, job)}}}",
             "values": "0x4"},
            {"series": f'kube_cronjob_info{{namespace="{NS}",cronjob="dbt-{project}-{job}"}}',
             "values": "1x4"}]

    def alert(project: str, job: str, **extra: str) -> dict[str, Any]:
        return {"exp_labels": {"domain": "marketing", "severity": "warning", "notify": "domain",
                               "namespace": NS, "cronjob": f"dbt-{project}-{job}",
                               "project": project, "job": job, **extra}}

    # Which series fire is the point here: annotations are checked by the default-scope
    # cases (monitoring/rules/tests/data_quality.test.yaml), so they are left out.
    groups = [{**g, "rules": [{k: v for k, v in r.items() if k != "annotations"}
                              for r in g["rules"]]} for g in dq_rules(OVERRIDES)]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    (tmp_path / "test.yaml").write_text(yaml.safe_dump({
        "rule_files": ["rules.yaml"], "evaluation_interval": "1h", "tests": [{
            "interval": "1h", "input_series": series, "alert_rule_test": [
                # sales/orders: 10, its own 10; sales/items: 5, the project's 5; crm/accounts:
                # 1, the default 1: silent. sales/returns 6 > 5 and crm/leads 2 > 1 fire.
                {"eval_time": "3h", "alertname": "DbtTestWarnings", "exp_alerts": [
                    alert("sales", "daily", model="returns"),
                    alert("crm", "daily", model="leads")]},
                {"eval_time": "3h", "alertname": "DbtResultsStale", "exp_alerts": [
                    alert("sales", "daily")]},
                {"eval_time": "1h", "alertname": "DbtResultsStale", "exp_alerts": []}]}]}))
    run = subprocess.run([promtool, "test", "rules", "test.yaml"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_override_vectors_keep_the_most_specific_level_first():
    expr = metrics.max_warnings("marketing", AlertThresholds.model_validate(
        {"dataQuality": OVERRIDES}).data_quality)
    parts = [line.strip() for line in expr.splitlines() if line.strip().startswith("(0 *")]
    assert parts == [
        '(0 * sum by (namespace, cronjob, project, job, model) (dbt_test_results{domain='
        '"marketing", status="warn", project="sales", model="orders"}) + 10)',
        '(0 * sum by (namespace, cronjob, project, job, model) (dbt_test_results{domain='
        '"marketing", status="warn", project="sales"}) + 5)',
        '(0 * sum by (namespace, cronjob, project, job, model) (dbt_test_results{domain='
        '"marketing", status="warn"}) + 1)']


def test_the_push_follows_the_monitoring_namespace(stacks):
    """A cluster whose monitoring runs elsewhere: the runs push there, and the domain's
    egress policy opens that namespace, from the one setting."""
    cfg = stacks.shipped("local")
    cfg["isolation"] = {**cfg.get("isolation", {}), "monitoringNamespace": "observability"}
    cfg["monitoring"] = {**cfg.get("monitoring", {}), "namespace": "observability"}
    stacks.write("local-observability", cfg)
    plan = stacks.plan("local-observability")
    env = {e["name"]: e.get("value") for e in pod_spec(cronjob(plan))["initContainers"][1]["env"]}
    urls = [v for k, v in env.items() if k.startswith("DBT_METRICS_") and v and "://" in str(v)]
    assert urls == [monitoring.pushgateway_url("observability")]
    (policy,) = [r for r in plan.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                 if r.inputs["metadata"]["name"] == "allow-metrics-push"
                 and r.inputs["metadata"]["namespace"] == "acme-marketing-dev"]
    (to,) = policy.inputs["spec"]["egress"][0]["to"]
    assert to["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "observability"}
