"""HelmApp: the two delivery modes, with pinned charts and merged values."""

import pulumi
import pytest

from components.helm_app import ArgoCDTarget, HelmApp, HelmAppArgs, SyncSettings
from dataplatform.plan.engine import run_program
from dataplatform.plan.mocks import PlatformMocks
from foundation.charts import ChartPin, chart_pin

pytestmark = pytest.mark.unit

PIN = ChartPin("demo-chart", "https://charts.example.com", "1.2.3")


def plan_app(**kwargs):
    args = dict(app="demo", namespace="acme-marketing-dev", profile="dev", chart=PIN,
                overrides={"a": {"b": 1}, "keep": True},
                computed={"a": {"c": pulumi.Output.from_input("computed")}})
    args.update(kwargs)
    return run_program("test", lambda: HelmApp("acme-demo", HelmAppArgs(**args)) and {},
                       PlatformMocks())


def test_argocd_delivery_is_an_application_with_pinned_chart_and_merged_values():
    plan = plan_app(delivery="argocd", argocd=ArgoCDTarget(namespace="argocd",
                                                           project="acme-marketing-dev"),
                    sync=SyncSettings(sync_wave=5))
    app = plan.get("kubernetes:argoproj.io/v1alpha1:Application", "acme-demo-application")
    assert app.parent == plan.get("dataplatform:apps:HelmApp", "acme-demo").urn
    meta, spec = app.inputs["metadata"], app.inputs["spec"]
    assert meta["namespace"] == "argocd"
    assert meta["name"] == "acme-marketing-dev-demo"
    assert meta["annotations"] == {"argocd.argoproj.io/sync-wave": "5"}
    assert "resources-finalizer.argocd.argoproj.io" in meta["finalizers"]
    assert spec["project"] == "acme-marketing-dev"
    assert spec["source"] == {
        "repoURL": "https://charts.example.com", "chart": "demo-chart",
        "targetRevision": "1.2.3",
        "helm": {"releaseName": "demo",
                 "valuesObject": {"a": {"b": 1, "c": "computed"}, "keep": True}}}
    assert spec["destination"] == {"server": "https://kubernetes.default.svc",
                                   "namespace": "acme-marketing-dev"}
    policy = spec["syncPolicy"]
    assert policy["automated"] == {"prune": True, "selfHeal": True}
    assert policy["retry"]["limit"] == 5
    assert not plan.by_type("kubernetes:helm.sh/v3:Release")


def test_helm_delivery_is_a_release_with_the_same_values():
    plan = plan_app(delivery="helm")
    rel = plan.get("kubernetes:helm.sh/v3:Release", "acme-demo-release")
    assert rel.inputs["chart"] == "demo-chart"
    assert rel.inputs["version"] == "1.2.3"
    assert rel.inputs["repositoryOpts"] == {"repo": "https://charts.example.com"}
    assert rel.inputs["namespace"] == "acme-marketing-dev"
    assert rel.inputs["values"] == {"a": {"b": 1, "c": "computed"}, "keep": True}
    assert rel.inputs["atomic"] is True
    assert not plan.by_type("kubernetes:argoproj.io/v1alpha1:Application")


def test_default_chart_is_the_lock_entry_of_the_app():
    plan = plan_app(app="metabase", chart=None, delivery="helm")
    rel = plan.get("kubernetes:helm.sh/v3:Release", "acme-demo-release")
    assert (rel.inputs["chart"], rel.inputs["version"]) == ("metabase", "2.26.0")
    assert rel.inputs["repositoryOpts"]["repo"] == chart_pin("metabase").repo


def test_argocd_delivery_without_target_fails_before_any_child():
    with pytest.raises(ValueError, match="needs an ArgoCDTarget"):
        plan_app(delivery="argocd")


def test_a_release_waits_for_what_its_app_component_waits_for(stacks):
    """Pulumi does not pass a component's dependencies on to its children: HelmApp must."""
    cfg = stacks.shipped("local")
    stacks.write("helm", {**cfg, "delivery": "helm"})
    plan = stacks.plan("helm")
    release = plan.get("kubernetes:helm.sh/v3:Release", "acme-marketing-dev-metabase-helm-release")
    waits_for = {urn.split("::")[-1] for urn in release.depends_on}
    assert {"acme-marketing-dev-postgres-metabase-credentials",
            "acme-marketing-dev-postgres-provision",
            "acme-marketing-dev-isolation-main-quota"} <= waits_for
