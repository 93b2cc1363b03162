"""Extra apps (`apps.extra`) and patches, through the config model and the offline plan.

- the config: exact versions, allow-listed repositories, unique names that no built-in
  app or chart takes, dependsOn naming enabled apps without cycles, namespaces of the
  domain, typed patches (and where patches are refused: delivery argocd, dbt, Argo CD);
- the plan, both deliveries: the pinned chart and the merged values (charts-values/<name>/
  files, then the stack's values), the domain's AppProject listing the allowed repos, the
  namespace and the ordering; patches as a helm.v4.Chart whose transform patches children;
- the example stack `local-extra` and its values folders (key-checked only when
  ../shared has the chart's defaults: these charts are not in charts.lock.yaml).
"""

from __future__ import annotations

import copy

import pytest

from components._patches import PatchError
from dataplatform.chartcheck import shared_charts_dir, unknown_keys
from dataplatform.plan.engine import run_program
from dataplatform.plan.mocks import PlatformMocks
from foundation.charts import allowed_repos
from foundation.config.loader import ConfigError, load_stack_config
from foundation.layout import VALUES_DIR

pytestmark = pytest.mark.unit

APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
CHART = "kubernetes:helm.sh/v4:Chart"
RELEASE = "kubernetes:helm.sh/v3:Release"
SUPERSET_REPO = "https://apache.github.io/superset"
DAGSTER_REPO = "https://dagster-io.github.io/helm"


def superset(**kw) -> dict:
    return {"name": "superset", "repo": SUPERSET_REPO, "chart": "superset",
            "version": "0.15.5", **kw}


def dagster(**kw) -> dict:
    return {"name": "dagster", "repo": DAGSTER_REPO, "chart": "dagster",
            "version": "1.13.6", **kw}


def with_apps(stacks, apps: dict, base: str = "local", **extra) -> dict:
    cfg = copy.deepcopy(stacks.shipped(base))
    cfg["apps"] = {"allowedRepos": [SUPERSET_REPO, DAGSTER_REPO], **apps}
    cfg.update(extra)
    return cfg


def problems(stacks, cfg: dict) -> dict[str, str]:
    stacks.write("case", cfg)
    with pytest.raises(ConfigError) as err:
        load_stack_config("case", stacks.path)
    return {p.key.removeprefix("dataplatform:"): p.message for p in err.value.problems}


# --- config ------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["^1.2.0", "~1.2", ">=1.0.0", "1.x", "*", "latest", "1.2",
                                     "1.2.3 || 1.3.0", ""])
def test_a_version_range_is_refused_naming_the_key(stacks, version):
    found = problems(stacks, with_apps(stacks, {"extra": [superset(version=version)]}))
    assert "apps.extra.0.version" in found
    assert "not an exact chart version" in found["apps.extra.0.version"]


@pytest.mark.parametrize(("entry", "others", "key", "fragment"), [
    (superset(repo="https://charts.example.com"), [], "apps.extra.0.repo", "not an allow-listed"),
    (superset(repo="http://apache.github.io/superset"), [], "apps.extra.0.repo", "https://"),
    (superset(name="airflow"), [], "apps.extra.0.name", "taken by a built-in"),
    (superset(name="argo-cd"), [], "apps.extra.0.name", "taken by a built-in"),
    (superset(name="minio"), [], "apps.extra.0.name", "taken by a built-in"),
    (superset(), [superset()], "apps.extra.1.name", "listed more than once"),
    (superset(dependsOn=["airflowz"]), [], "apps.extra.0.dependsOn.0", "unknown app 'airflowz'"),
    (superset(dependsOn=["airflow"]), [], "apps.extra.0.dependsOn.0", "is not enabled"),
    (superset(dependsOn=["superset"]), [], "apps.extra.0.dependsOn.0", "itself"),
    (superset(dependsOn=["dagster"]), [dagster(dependsOn=["superset"])],
     "apps.extra.0.dependsOn", "cycle: superset -> dagster -> superset"),
    (superset(namespace="bi"), [], "apps.extra.0.namespace", "not a namespace of this domain"),
    (superset(Version="1.0.0"), [], "apps.extra.0.Version", "unknown key"),
])
def test_bad_entries_are_refused_with_the_key_named(stacks, entry, others, key, fragment):
    found = problems(stacks, with_apps(stacks, {"extra": [entry, *others]}))
    assert key in found, found
    assert fragment in found[key]


def test_patches_are_typed_and_validated(stacks):
    bad = [
        {"target": {"kind": "Deployment", "name": "superset"}, "type": "json6902",
         "patch": [{"op": "add", "path": "/metadata/labels/x"}]},
        {"target": {"kind": "deployment", "name": "superset"}, "type": "strategic",
         "patch": {"metadata": {"labels": {"a": "b"}}}},
        {"target": {"kind": "Secret", "name": "superset-env"}, "type": "strategic",
         "patch": {"data": {}}},
        {"target": {"kind": "Deployment", "name": "superset"}, "type": "strategic",
         "patch": {"kind": "Deployment", "metadata": {"name": "other"}}},
        {"target": {"kind": "Deployment", "name": "superset"}, "type": "merge", "patch": {}},
    ]
    found = problems(stacks, with_apps(stacks, {"extra": [superset(patches=bad)]},
                                       delivery="helm"))
    at = "apps.extra.0.patches"
    assert "needs a value" in found[f"{at}.0.patch.0"]
    assert "not a Kubernetes kind" in found[f"{at}.1.target.kind"]
    assert "Secrets cannot be patched" in found[f"{at}.2.target.kind"]
    assert "remove kind, metadata.name" in found[f"{at}.3.patch"]
    assert "json6902" in found[f"{at}.4.type"]


def test_patches_are_refused_where_they_cannot_apply(stacks):
    label = [{"target": {"kind": "Deployment", "name": "x"}, "type": "strategic",
              "patch": {"metadata": {"labels": {"a": "b"}}}}]
    found = problems(stacks, with_apps(stacks, {
        "extra": [superset(patches=label)], "metabase": {"enabled": True, "patches": label},
        "argocd": {"patches": label}}))
    assert "delivery 'argocd' cannot patch" in found["apps.extra.0.patches"]
    assert "delivery 'argocd' cannot patch" in found["apps.metabase.patches"]
    assert "Argo CD's own release takes no patches" in found["apps.argocd.patches"]


def test_unknown_app_key_points_at_apps_extra(stacks):
    found = problems(stacks, with_apps(stacks, {"superset": {"enabled": True}}))
    assert "unknown app 'superset'" in found["apps.superset"]
    assert "apps.extra" in found["apps.superset"]


def test_allowed_repos_extend_the_lock():
    assert allowed_repos() == sorted(set(allowed_repos()))
    assert SUPERSET_REPO in allowed_repos([SUPERSET_REPO])
    assert set(allowed_repos()) < set(allowed_repos([SUPERSET_REPO]))


# --- plan, delivery argocd ----------------------------------------------------------------

@pytest.fixture(scope="module")
def argocd_plan(tmp_path_factory):
    from stackdir import StackDir

    stacks = StackDir(tmp_path_factory.mktemp("stacks"))
    cfg = with_apps(stacks, {"extra": [
        superset(values={"supersetNode": {"replicas": {"replicaCount": 2}}}, syncWave=3),
        dagster(namespace="orchestration", dependsOn=["superset"]),
        {"name": "no-values", "repo": SUPERSET_REPO, "chart": "superset",
         "version": "v0.15.5", "values": {"a": 1}},
    ]}, isolation={**stacks.shipped("local")["isolation"], "extraNamespaces": ["orchestration"]})
    stacks.write("local-extra-argocd", cfg)
    return stacks.plan("local-extra-argocd")


def test_an_extra_app_is_an_application_with_its_pin_and_merged_values(argocd_plan):
    app = argocd_plan.get(APPLICATION, "acme-marketing-dev-superset-helm-application")
    spec = app.inputs["spec"]
    assert spec["source"]["repoURL"] == SUPERSET_REPO
    assert (spec["source"]["chart"], spec["source"]["targetRevision"]) == ("superset", "0.15.5")
    values = spec["source"]["helm"]["valuesObject"]
    assert values["supersetCeleryBeat"] == {"enabled": False}  # values.yaml
    assert values["supersetNode"]["resources"]["requests"]["cpu"] == "100m"  # dev.yaml
    assert values["supersetNode"]["replicas"] == {"replicaCount": 2}  # stack values
    assert spec["destination"]["namespace"] == "acme-marketing-dev"
    assert spec["project"] == "acme-marketing-dev"
    assert app.inputs["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": "3"}


def test_an_app_without_a_values_folder_gets_its_stack_values_only(argocd_plan):
    assert not (VALUES_DIR / "no-values").exists()
    app = argocd_plan.get(APPLICATION, "acme-marketing-dev-no-values-helm-application")
    assert app.inputs["spec"]["source"]["helm"]["valuesObject"] == {"a": 1}
    assert app.inputs["spec"]["source"]["targetRevision"] == "v0.15.5"


def test_namespace_ordering_and_app_project(argocd_plan):
    dag = argocd_plan.get(APPLICATION, "acme-marketing-dev-dagster-helm-application")
    assert dag.inputs["spec"]["destination"]["namespace"] == "acme-marketing-dev-orchestration"
    helm = argocd_plan.get("dataplatform:apps:HelmApp", "acme-marketing-dev-dagster-helm")
    first = argocd_plan.get(APPLICATION, "acme-marketing-dev-superset-helm-application")
    assert first.urn in helm.depends_on
    project = argocd_plan.get("kubernetes:argoproj.io/v1alpha1:AppProject",
                              "acme-marketing-dev-isolation-appproject")
    repos = project.inputs["spec"]["sourceRepos"]
    assert {SUPERSET_REPO, DAGSTER_REPO} <= set(repos)
    assert set(allowed_repos()) <= set(repos)
    assert {d["namespace"] for d in project.inputs["spec"]["destinations"]} == {
        "acme-marketing-dev", "acme-marketing-dev-orchestration"}
    assert sorted(argocd_plan.outputs["apps"]) == ["dagster", "no-values", "superset"]


# --- plan, delivery helm: the example stack -----------------------------------------------

def test_example_stack_patched_apps_are_v4_charts_with_their_patches(shipped_plan):
    plan = shipped_plan("local-extra")
    chart = plan.get(CHART, "acme-insights-dev-superset-helm-chart")
    assert (chart.inputs["chart"], chart.inputs["version"]) == ("superset", "0.15.5")
    assert chart.inputs["repositoryOpts"] == {"repo": SUPERSET_REPO}
    assert chart.inputs["name"] == "superset"
    assert chart.inputs["values"]["supersetWorker"]["resources"]["limits"]["memory"] == "768Mi"
    dag = plan.get(CHART, "acme-insights-dev-dagster-helm-chart")
    assert dag.inputs["namespace"] == "acme-insights-dev-orchestration"
    assert dag.inputs["values"]["dagster-user-deployments"] == {"enabled": False}
    helm = plan.get("dataplatform:apps:HelmApp", "acme-insights-dev-dagster-helm")
    assert helm.inputs["patches"] == [{
        "target": {"kind": "Deployment", "name": "dagster-dagster-webserver"},
        "type": "json6902", "patch": [{"op": "add", "path": "/metadata/labels/dataplatform.io~1tier",
                                       "value": "orchestration"}]}]
    # delivered as Charts: no Release or Application of theirs (the front door's cluster
    # add-ons are Releases of the stack that owns the cluster)
    assert not [r for r in plan.by_type(RELEASE) + plan.by_type(APPLICATION)
                if "superset" in r.name or "dagster" in r.name]
    assert not [f for f in plan.policy if f["policy"] == "chart-repository-allowed"]


def test_an_unpatched_extra_app_under_helm_is_a_release(stacks):
    cfg = stacks.shipped("local-extra")
    cfg["apps"]["extra"] = [superset()]
    stacks.write("plain", cfg)
    plan = stacks.plan("plain")
    rel = plan.get(RELEASE, "acme-insights-dev-superset-helm-release")
    assert (rel.inputs["chart"], rel.inputs["version"]) == ("superset", "0.15.5")
    assert not plan.by_type(CHART)


class TransformMocks(PlatformMocks):
    """Records the transforms each helm.v4.Chart is registered with."""

    def __init__(self):
        super().__init__()
        self.transforms: dict[str, list] = {}

    def new_resource(self, args):
        if args.typ == CHART:
            self.transforms[args.name] = list(args.transforms)
        return super().new_resource(args)


def test_the_chart_transform_patches_rendered_objects_as_declared():
    """What Pulumi does with each object the chart renders, replayed on sample objects."""
    import pulumi

    from dataplatform.program import build, load

    mocks = TransformMocks()
    run_program("local-extra", lambda: build(load("local-extra")), mocks)
    (superset_t,) = mocks.transforms["acme-insights-dev-superset-helm-chart"]
    (dagster_t,) = mocks.transforms["acme-insights-dev-dagster-helm-chart"]

    def child(kind: str, name: str, ns: str) -> pulumi.ResourceTransformArgs:
        obj = {"apiVersion": "apps/v1", "kind": kind,
               "metadata": {"name": name, "namespace": ns, "labels": {"app": name}}}
        return pulumi.ResourceTransformArgs(custom=True, type_=f"kubernetes:apps/v1:{kind}",
                                            name=f"x:{ns}/{name}", props=obj,
                                            opts=pulumi.ResourceOptions())

    out = superset_t(child("Deployment", "superset", "acme-insights-dev"))
    assert out.props["metadata"]["labels"] == {"app": "superset", "dataplatform.io/tier": "bi"}
    assert superset_t(child("Deployment", "superset-worker", "acme-insights-dev")) is None
    superset_t.check()
    out = dagster_t(child("Deployment", "dagster-dagster-webserver",
                          "acme-insights-dev-orchestration"))
    assert out.props["metadata"]["labels"]["dataplatform.io/tier"] == "orchestration"
    # a chart that renders no such object fails the deployment once rendering is done
    fresh = type(dagster_t)("dagster", dagster_t.patches, dagster_t.namespace)
    with pytest.raises(PatchError, match="match no rendered object"):
        fresh.check()


# --- the example's values folders ---------------------------------------------------------

EXAMPLE_APPS = [(e.name, e.chart) for e in load_stack_config("local-extra").apps.extra]


@pytest.mark.parametrize(("app", "chart"), EXAMPLE_APPS)
def test_example_values_keys_exist_in_the_chart_when_defaults_are_available(app, chart):
    """Not in charts.lock.yaml, so test_values_keys.py skips them: say so, or check them."""
    assert (VALUES_DIR / app / "values.yaml").is_file()
    shared = shared_charts_dir()
    path = shared / "defaults" / chart if shared else None
    if path is None or not path.is_dir():
        pytest.skip(f"no defaults for extra chart {chart!r} in ../shared/charts/defaults: "
                    f"keys of charts-values/{app}/ are not checked offline")
    from components._values import static_values

    for profile in ("dev", "prod"):
        assert unknown_keys(static_values(app, profile), path) == [], (app, profile)


def test_the_docs_example_is_valid_config(stacks):
    """The first stack example of docs/extending.md, on top of the local stack."""
    import re

    import yaml

    text = (VALUES_DIR.parent / "docs" / "extending.md").read_text()
    example = yaml.safe_load(re.findall(r"```yaml\n(.*?)```", text, re.S)[0])["config"]
    cfg = stacks.shipped("local")
    cfg.update({k.removeprefix("dataplatform:"): v for k, v in example.items()})
    stacks.write("docs-example", cfg)
    loaded = load_stack_config("docs-example", stacks.path)
    assert [e.name for e in loaded.apps.extra] == ["superset", "dagster"]
