"""The pack judges chart-made objects: `plan --rendered` hands them over in the same
analysis, parented to the Release or Application that renders them."""

from __future__ import annotations

import copy

import pytest

from dataplatform.plan.policy import check_plan
from dataplatform.rendered import as_planned, helm, render_stack

pytestmark = pytest.mark.policy

if not helm.SHARED_CHARTS.is_dir():
    pytest.skip("../shared/charts/src is absent: no charts to render", allow_module_level=True)


@pytest.fixture
def local_render(shipped_plan):
    plan = shipped_plan("local")
    return plan, render_stack("local", plan=plan)  # helm's output is memoized per process


def test_rendered_objects_are_typed_and_parented(local_render):
    plan, result = local_render
    extra = as_planned(result)
    apps = {r.urn for r in plan.resources if r.type.endswith(":Application")}
    scheduler = next(r for r in extra if r.name == "acme-marketing-dev/airflow-scheduler"
                     and r.inputs["kind"] == "Deployment")
    assert scheduler.type == "kubernetes:apps/v1:Deployment" and scheduler.parent in apps
    assert not any(r.type.endswith(":CustomResourceDefinition") for r in extra)


def test_rendered_objects_carry_the_engines_urn_and_the_release_namespace(local_render):
    """A child URN is the parent's type chain, `$`, the child's type, then its name; an
    object the chart leaves without a namespace lands in the release's (as Helm and Argo
    CD place it), so namespace-scoped rules match it with its Services and PDBs."""
    _, result = local_render
    extra = as_planned(result)
    gms = next(r for r in extra if r.inputs["kind"] == "Deployment"
               and r.inputs["metadata"]["name"] == "datahub-datahub-gms")
    assert gms.inputs["metadata"]["namespace"] == "acme-marketing-dev"
    assert gms.urn == ("urn:pulumi:local::dataplatform::dataplatform:stack:DomainStack$"
                       "dataplatform:apps:DataHub$dataplatform:apps:HelmApp$"
                       "kubernetes:argoproj.io/v1alpha1:Application$"
                       "kubernetes:apps/v1:Deployment::acme-marketing-dev/datahub-datahub-gms")
    assert gms.urn.count("::") == 3


def test_chart_made_workloads_are_policed(local_render):
    plan, result = local_render
    clean = [f for f in check_plan(plan, extra=as_planned(result))
             if "$kubernetes:apps/v1" in f["urn"]]
    assert clean == [], clean  # the shipped render is clean under the pack
    broken = copy.deepcopy(result)
    airbyte = next(r for r in broken.releases if r.chart.name == "airbyte")
    server = next(o for o in airbyte.objects if o["kind"] == "Deployment"
                  and o["metadata"]["name"] == "airbyte-server")
    del server["spec"]["template"]["spec"]["containers"][0]["resources"]
    found = [f for f in check_plan(plan, extra=as_planned(broken))
             if f["policy"] == "k8s-resources-set"]
    assert [f["urn"].rsplit("::", 1)[1] for f in found] == ["acme-marketing-dev/airbyte-server"]
    assert not any("airbyte-server" in f["urn"] for f in check_plan(plan))
