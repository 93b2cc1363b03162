"""Rendered truth: every release of every shipped stack rendered with its real pinned
chart (`../shared/charts/src`) by a real Helm, then validated object by object.

Each negative test breaks one thing the render or a check names, so the suite fails when
a check stops checking.
"""

from __future__ import annotations

import copy
import json
import re
import shutil

import pytest

from dataplatform.cli import main
from dataplatform.rendered import helm as helm_mod
from dataplatform.rendered import releases_of, render_stack
from dataplatform.rendered.helm import Capabilities, RenderError, find_chart, template
from dataplatform.rendered.schemas import Validator
from foundation.charts import chart_pin
from foundation.config.loader import available_stacks

pytestmark = pytest.mark.unit

if not helm_mod.SHARED_CHARTS.is_dir():
    pytest.skip("../shared/charts/src is absent from this checkout: no charts to render "
                "(pass --charts DIR to `dataplatform render` elsewhere)", allow_module_level=True)

STACKS = [s for s in available_stacks() if s != "local-extra"]
_RENDERS: dict = {}


def rendered(stack, shipped_plan):
    if stack not in _RENDERS:
        _RENDERS[stack] = render_stack(stack, plan=shipped_plan(stack))
    return _RENDERS[stack]


# The shared airflow 1.18.0 is a repackage declaring appVersion 3.1.2-python3.12, where
# the chart airflow.apache.org serves declares 3.0.2; a semver pre-release fails every
# `semverCompare ">=3.0.0" .Chart.AppVersion` gate, so these components are not rendered.
# The render says so (a chart warning, then this error); nothing else may be excused.
REPACKAGE_GAP = re.compile(
    r"^[a-z0-9-]+/airflow \(airflow 1\.18\.0\): renders no Deployment airflow-api-server, "
    r"Deployment airflow-dag-processor, Deployment airflow-triggerer: the install would lack "
    r"a component the platform relies on \(see the chart warning above\)$")


def chart_gaps(result) -> list[str]:
    """The errors that follow from a repackaged chart folder only, when a warning names it."""
    repackaged = any(w.startswith("chart airflow 1.18.0 ") for w in result.warnings)
    return [e for e in result.errors if repackaged and REPACKAGE_GAP.match(e)]


@pytest.mark.parametrize("stack", STACKS)
def test_every_shipped_stack_renders_and_validates_cleanly(stack, shipped_plan):
    result = rendered(stack, shipped_plan)
    assert [e for e in result.errors if e not in chart_gaps(result)] == []
    # Every release of the plan was rendered, and each made objects.
    # (or, its chart pinned only in our lock and in no chart folder, skipped and named)
    planned = [f"{r.namespace}/{r.name}" for r in releases_of(shipped_plan(stack))]
    done = {f"{r.namespace}/{r.name}" for r in result.releases}
    assert planned and [n for n in planned if n not in done and not any(
        s.startswith(f"{n}: ") for s in result.skipped)] == []
    assert all(r.objects for r in result.releases), [r.name for r in result.releases]


def test_extra_charts_outside_the_chart_folder_are_named(shipped_plan):
    """local-extra's Superset and Dagster charts are not in ../shared: one clear error."""
    with pytest.raises(RenderError, match=r"chart (dagster|superset) .* is missing.*helm pull"):
        render_stack("local-extra", plan=shipped_plan("local-extra"))


def test_local_renders_each_app_in_its_delivery_mode(shipped_plan):
    result = rendered("local", shipped_plan)
    modes = {r.chart.name: r.delivery for r in result.releases}
    assert modes == {"airbyte": "argocd", "airflow": "argocd", "datahub": "argocd",
                     "datahub-prerequisites": "argocd", "metabase": "argocd",
                     "argo-cd": "helm", "kube-prometheus-stack": "helm"}
    airflow = next(r for r in result.releases if r.chart.name == "airflow")
    assert airflow.namespace == "acme-marketing-dev"
    # The layered values reached Helm: the pod-template env our code computes.
    scheduler = [o for o in airflow.objects if o["kind"] == "Deployment"
                 and o["metadata"]["name"].endswith("scheduler")]
    env = {e["name"]: e.get("value") for c in
           scheduler[0]["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])}
    assert env.get("DBT_POD_TEMPLATES") == "/opt/airflow/pod-templates/dbt"
    config = next(o for o in airflow.objects if o["kind"] == "ConfigMap"
                  and "airflow.cfg" in o.get("data", {}))
    assert "executor = KubernetesExecutor" in config["data"]["airflow.cfg"]


def test_prod_datahub_runs_standalone_consumers(shipped_plan):
    """The render found the chart refusing 2 GMS replicas with managed ingestion."""
    result = rendered("aws-finance", shipped_plan)
    datahub = next(r for r in result.releases if r.chart.name == "datahub")
    names = {o["metadata"]["name"] for o in datahub.objects if o["kind"] == "Deployment"}
    assert any(n.endswith("mce-consumer") for n in names), names
    values = copy.deepcopy(datahub.values)
    values["global"]["datahub_standalone_consumers_enabled"] = False
    with pytest.raises(RenderError, match="Managed ingestion can not be used"):
        template(find_chart(datahub.chart), datahub.name, datahub.namespace, values,
                 Capabilities(result.kube_version))


@pytest.fixture(scope="module")
def validator():
    from dataplatform.rendered import platform_crds

    return Validator("1.33.0", platform_crds())


DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "web", "namespace": "d"},
              "spec": {"selector": {"matchLabels": {"a": "b"}},
                       "template": {"metadata": {"labels": {"a": "b"}}, "spec": {
                           "containers": [{"name": "c", "image": "nginx:1.27",
                                           "resources": {"limits": {"cpu": "1"}}}]}}}}


def test_schema_refuses_a_misspelt_nested_field_and_a_wrong_type(validator):
    assert validator.errors(DEPLOYMENT) == []
    typo = copy.deepcopy(DEPLOYMENT)
    typo["spec"]["template"]["spec"]["containers"][0]["resources"]["limts"] = {}
    assert any("limts" in e for e in validator.errors(typo))
    wrong = copy.deepcopy(DEPLOYMENT)
    wrong["spec"]["replicas"] = "two"
    assert any(e.startswith("spec.replicas") for e in validator.errors(wrong))
    gone = {**DEPLOYMENT, "apiVersion": "extensions/v1beta1"}
    assert any("does not exist in Kubernetes 1.33.0" in e for e in validator.errors(gone))


def test_crd_objects_are_checked_against_the_platforms_crds(validator):
    monitor = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
               "metadata": {"name": "m", "namespace": "d"},
               "spec": {"selector": {}, "endpoints": [{"port": "http"}]}}
    assert validator.errors(monitor) == []
    bad = copy.deepcopy(monitor)
    bad["spec"]["endpoints"][0]["intervall"] = "30s"
    assert any("intervall" in e for e in validator.errors(bad))
    unknown = {**monitor, "apiVersion": "velero.io/v1", "kind": "Schedule"}
    assert any("no CRD" in e for e in validator.errors(unknown))
    # What the offline plan cannot know is not judged.
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
              "stringData": "[secret]"}
    assert validator.errors(secret) == []


def _with_extra_object(stack, shipped_plan, obj, monkeypatch):
    """Render `stack` with `obj` added to its first Argo CD release's output."""
    import dataplatform.rendered as rendered_mod

    real = rendered_mod.template
    first = next(r for r in releases_of(shipped_plan(stack)) if r.delivery == "argocd")

    def template_plus(chart, release, namespace, values, caps):
        text = real(chart, release, namespace, values, caps)
        return text + ("\n---\n" + json.dumps(obj) if release == first.name else "")

    monkeypatch.setattr(rendered_mod, "template", template_plus)
    return render_stack(stack, plan=shipped_plan(stack)).errors


def test_duplicates_and_objects_outside_the_domain_fence_are_errors(shipped_plan, monkeypatch):
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "sneaky"}, "rules": []}
    errors = _with_extra_object("local", shipped_plan, role, monkeypatch)
    assert any("ClusterRole sneaky: cluster-scoped" in e for e in errors), errors
    elsewhere = {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "x", "namespace": "kube-system"}}
    errors = _with_extra_object("local", shipped_plan, elsewhere, monkeypatch)
    assert any("namespace kube-system is not a destination" in e for e in errors), errors
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"}}
    errors = _with_extra_object("local", shipped_plan, quota, monkeypatch)
    assert any("namespaceResourceBlacklist" in e for e in errors), errors
    # The program's own quota object has this name in the domain namespace.
    plan = shipped_plan("local")
    own = next(r for r in plan.resources if r.type == "kubernetes:core/v1:ResourceQuota")
    dup = {"apiVersion": "v1", "kind": "ResourceQuota",
           "metadata": {"name": own.inputs["metadata"]["name"]}}
    errors = _with_extra_object("local", shipped_plan, dup, monkeypatch)
    assert any("duplicate of the one from program" in e for e in errors), errors


def test_a_missing_chart_is_one_clear_error_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(helm_mod, "SHARED_CHARTS", tmp_path / "none")
    monkeypatch.setenv("HELM_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("DATAPLATFORM_CHARTS", raising=False)
    with pytest.raises(RenderError, match=r"chart argo-cd 10\.1\.1 .* is missing"):
        find_chart(chart_pin("argo-cd"), tmp_path)
    # A chart folder at another version is named as such.
    (tmp_path / "metabase").mkdir()
    (tmp_path / "metabase" / "Chart.yaml").write_text("name: metabase\nversion: 9.9.9\n")
    with pytest.raises(RenderError, match=r"is 9\.9\.9"):
        find_chart(chart_pin("metabase"), tmp_path)
    helm_mod_platform = __import__("dataplatform.rendered", fromlist=["platform_crds"])
    helm_mod_platform.platform_crds.cache_clear()
    try:
        assert main(["render", "local", "--charts", str(tmp_path)]) == 2
    finally:
        helm_mod_platform.platform_crds.cache_clear()
    err = capsys.readouterr().err
    assert "render: chart argo-cd 10.1.1" in err and "Traceback" not in err


def test_cli_render_writes_one_manifest_per_release(tmp_path, capsys, shipped_plan):
    gaps = chart_gaps(rendered("local", shipped_plan))
    assert main(["render", "local", "--out", str(tmp_path)]) == (1 if gaps else 0)
    out = capsys.readouterr().out
    assert out.startswith("Render of stack 'local' (Kubernetes 1.33.0): 7 releases")
    assert f"Errors ({len(gaps)}):" in out if gaps else "Errors: none" in out
    files = sorted(p.name for p in tmp_path.iterdir())
    assert "acme-marketing-dev--airflow.yaml" in files and len(files) == 7
    assert main(["render", "local", "--json"]) == (1 if gaps else 0)
    summary = json.loads(capsys.readouterr().out)
    assert summary["errors"] == gaps and "argocd/argocd" in summary["releases"]
    assert bool(summary["warnings"]) == bool(gaps)


@pytest.fixture(scope="module")
def upstream_airflow(tmp_path_factory):
    """The shared airflow chart with the appVersion the upstream chart declares (3.0.2):
    its version gates then pass as the upstream chart's (on airflowVersion 3.0.2) do."""
    folder = tmp_path_factory.mktemp("charts")
    shutil.copytree(find_chart(chart_pin("airflow")), folder / "airflow")
    meta = folder / "airflow" / "Chart.yaml"
    meta.chmod(0o644)
    text = re.sub(r"(?m)^appVersion: .*$", f"appVersion: {chart_pin('airflow').app_version}",
                  meta.read_text())
    meta.write_text(text)
    return folder


@pytest.mark.parametrize("stack", ["local", "aws-finance"])
def test_airflow_renders_every_component_sized_with_the_pinned_app_version(
        stack, shipped_plan, upstream_airflow):
    result = render_stack(stack, plan=shipped_plan(stack), charts=upstream_airflow)
    assert result.errors == [] and result.warnings == []
    airflow = next(r for r in result.releases if r.chart.name == "airflow")
    pods = {o["metadata"]["name"]: o["spec"]["template"]["spec"] for o in airflow.objects
            if o["kind"] in ("Deployment", "Job")}
    assert {"airflow-api-server", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer"} <= set(pods)
    for name in ("airflow-api-server", "airflow-scheduler", "airflow-triggerer"):
        (wait,) = [c for c in pods[name]["initContainers"]
                   if c["name"] == "wait-for-airflow-migrations"]
        assert wait["resources"]["limits"] and wait["image"] == "apache/airflow:3.0.2"
        assert "{{" not in json.dumps(wait), wait
        assert wait["args"][:3] == ["airflow", "db", "check-migrations"]
        ref = wait["env"][0]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "airflow-metadata-connection", name
    migrate = pods["airflow-run-airflow-migrations"]["containers"][0]["args"]
    assert migrate == ["bash", "-c", "exec airflow db migrate"]
    assert_sized_and_within_quota(result)  # every Airflow component counted
    from dataplatform.plan.policy import check_plan
    from dataplatform.rendered import as_planned

    findings = check_plan(shipped_plan(stack), extra=as_planned(result))
    assert [f for f in findings if "airflow" in f["urn"]] == []  # HA in prod included


def test_a_repackaged_chart_is_named_and_its_missing_components_are_errors(shipped_plan):
    """What the shared airflow chart does: a warning naming both appVersions, and an error
    naming each component the install would lack."""
    result = rendered("local", shipped_plan)
    if not chart_gaps(result):
        pytest.skip("the airflow chart folder is the pinned chart: nothing is missing")
    (warning,) = result.warnings
    assert "declares appVersion 3.1.2-python3.12, but the chart https://airflow.apache.org " \
           "serves declares 3.0.2" in warning and "semver pre-release" in warning


def assert_sized_and_within_quota(result):
    from dataplatform.rendered.footprint import cpu, memory, stack_workloads, totals

    work = stack_workloads(result)
    unsized = {(w.release, w.name, gap) for w in work for gap in w.unsized}
    assert unsized == set(), unsized
    for quota in (o for o in result.direct if o["kind"] == "ResourceQuota"):
        ns, hard = quota["metadata"]["namespace"], quota["spec"]["hard"]
        mine = [w for w in work if w.release.startswith(f"{ns}/")
                or (w.release == "program" and any(
                    o["metadata"].get("namespace") == ns and o["metadata"].get("name") == w.name
                    for o in result.direct))]
        used = totals(mine)
        used.add(totals(mine, batch=True))
        assert used.req_cpu <= cpu(hard["requests.cpu"]), (ns, used)
        assert used.req_mem <= memory(hard["requests.memory"]), (ns, used)
        assert used.lim_cpu <= cpu(hard["limits.cpu"]), (ns, used)
        assert used.lim_mem <= memory(hard["limits.memory"]), (ns, used)


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_pods_are_sized_and_fit_the_domain_quota(stack, shipped_plan):
    assert_sized_and_within_quota(rendered(stack, shipped_plan))


def test_footprint_counts_replicas_and_init_containers_by_the_max_rule():
    from dataplatform.rendered.footprint import workloads

    pod = {"containers": [{"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "1Gi"},
                                                      "limits": {"cpu": "1", "memory": "2Gi"}}},
                          {"name": "b", "resources": {"requests": {"cpu": "100m", "memory": "1Gi"},
                                                      "limits": {"cpu": "1", "memory": "2Gi"}}}],
           "initContainers": [{"name": "i", "resources": {
               "requests": {"cpu": "500m", "memory": "512Mi"},
               "limits": {"cpu": "500m", "memory": "512Mi"}}}]}
    dep = {"kind": "Deployment", "metadata": {"name": "d"},
           "spec": {"replicas": 3, "template": {"spec": pod}}}
    (w,) = workloads("r", [dep])
    assert w.replicas == 3
    assert (w.pod.req_cpu, w.pod.req_mem) == (0.5, 2 * 2**30)  # init wins CPU, containers memory
    bare = {"kind": "Job", "metadata": {"name": "j", "namespace": "n"},
            "spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}}
    (j,) = workloads("r", [bare], {"n": {"defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                                         "default": {"cpu": "500m", "memory": "512Mi"}}})
    assert j.pod.req_cpu == 0.1 and len(j.unsized) == 4


def test_pod_security_of_the_namespace_is_enforced_on_rendered_pods(shipped_plan, monkeypatch):
    """aws-finance enforces `restricted`: a chart pod that would be refused is an error."""
    from dataplatform.rendered.podsecurity import violations

    bare = copy.deepcopy(DEPLOYMENT)
    bare["metadata"]["namespace"] = "acme-finance-prod"
    errors = _with_extra_object("aws-finance", shipped_plan, bare, monkeypatch)
    assert any("Pod Security 'restricted' of acme-finance-prod refuses it: container c does "
               "not drop ALL capabilities" in e for e in errors), errors
    spec = bare["spec"]["template"]["spec"]
    assert list(violations(spec, "privileged")) == []
    assert list(violations(spec, "baseline")) == []
    spec["hostNetwork"] = True
    assert list(violations(spec, "baseline")) == ["hostNetwork is set"]


def test_opensearch_runs_without_the_charts_config_file_init_container(shipped_plan):
    """The chart's `configfile` init container has no securityContext (restricted refuses it);
    a `null` in our values removes the chart's default config file, so it is not rendered."""
    result = rendered("aws-finance", shipped_plan)
    prereq = next(r for r in result.releases if r.chart.name == "datahub-prerequisites")
    (sts,) = [o for o in prereq.objects if o["kind"] == "StatefulSet"
              and "opensearch" in o["metadata"]["name"]]
    spec = sts["spec"]["template"]["spec"]
    assert "configfile" not in {c["name"] for c in spec.get("initContainers") or []}
    env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
    assert env["DISABLE_SECURITY_PLUGIN"] == "true" and env["node.store.allow_mmap"] == "false"


def test_a_component_a_chart_drops_is_an_error_unless_its_flag_turns_it_off():
    from dataplatform.rendered.expected import missing

    objects = [{"kind": "Deployment", "metadata": {"name": n}}
               for n in ("af-api-server", "af-scheduler", "af-dag-processor")]
    objects.append({"kind": "Job", "metadata": {"name": "af-run-airflow-migrations"}})
    assert missing("airflow", "af", {}, objects) == ["Deployment af-triggerer"]
    assert missing("airflow", "af", {"triggerer": {"enabled": False}}, objects) == []
    # A flag only excuses what it turns off; the API server has none.
    assert missing("airflow", "af", {"triggerer": {"enabled": False}}, objects[1:]) == [
        "Deployment af-api-server"]
    assert missing("a-chart-without-expectations", "x", {}, []) == []


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_a_freshly_onboarded_customer_renders_and_is_clean_under_the_pack(tmp_path, cloud):
    """`dataplatform new customer` stacks with every chart-backed app: the render finds
    nothing but the shared chart's gap, and the pack nothing on the rendered objects."""
    from dataplatform.plan.engine import plan_stack
    from dataplatform.plan.policy import check_plan
    from dataplatform.rendered import as_planned

    where = (["--region", "europe-west1", "--gcp-project", "zeta-{env}"] if cloud == "gcp"
             else ["--region", "eu-west-1"])
    assert main(["new", "customer", "zeta", "--cloud", cloud, *where, "--domains", "sales",
                 "--environments", "prod", "--apps", "airbyte,airflow,metabase,datahub",
                 "--stacks-dir", str(tmp_path)]) == 0
    for stack in ("zeta-platform-prod", "zeta-sales-prod"):
        plan = plan_stack(stack, tmp_path)
        result = render_stack(stack, tmp_path, plan=plan)
        assert [e for e in result.errors if e not in chart_gaps(result)] == [], stack
        findings = check_plan(plan, tmp_path, extra=as_planned(result))
        assert [f for f in findings if f["level"] == "mandatory"] == [], stack


@pytest.mark.policy
@pytest.mark.parametrize("stack", STACKS)
def test_every_shipped_stack_is_clean_under_the_pack_with_its_rendered_objects(
        stack, shipped_plan):
    """What `plan --rendered` runs: the program's resources and every chart-made object in
    one analysis. No finding may land on a chart-made object, advisory ones included."""
    from dataplatform.plan.policy import check_plan
    from dataplatform.rendered import as_planned

    plan = shipped_plan(stack)
    extra = as_planned(rendered(stack, shipped_plan))
    assert len(extra) > 50
    chart_made = {r.urn for r in extra}
    findings = check_plan(plan, extra=extra)
    assert [f for f in findings if f["urn"] in chart_made] == []
    assert [f for f in findings if f["level"] == "mandatory"] == []


def test_identity_warning_reads_folders_and_tarballs(tmp_path):
    import io
    import tarfile

    from dataplatform.rendered.expected import identity_warning
    from foundation.charts import ChartPin

    pin = ChartPin("demo", "https://charts.example.com", "1.0.0", "3.0.2")
    (tmp_path / "demo").mkdir()
    meta = tmp_path / "demo" / "Chart.yaml"
    meta.write_text("name: demo\nversion: 1.0.0\nappVersion: 3.0.2\n")
    assert identity_warning(pin, tmp_path / "demo") is None
    meta.write_text("name: demo\nversion: 1.0.0\nappVersion: 3.1.2-python3.12\n")
    warning = identity_warning(pin, tmp_path / "demo")
    assert "declares appVersion 3.1.2-python3.12" in warning and "pre-release" in warning
    tgz = tmp_path / "demo-1.0.0.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        data = b"name: demo\nversion: 1.0.0\nappVersion: 3.0.3\n"
        info = tarfile.TarInfo("demo/Chart.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    warning = identity_warning(pin, tgz)
    assert "declares appVersion 3.0.3" in warning and "pre-release" not in warning
