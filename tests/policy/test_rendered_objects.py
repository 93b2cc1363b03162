"""The pack judges chart-made objects: `plan --rendered` hands them over in the same
analysis, parented to the Release or Application that renders them."""

from __future__ import annotations

import pytest

from dataplatform.plan.policy import check_plan
from dataplatform.rendered import as_planned, helm, render_stack

pytestmark = pytest.mark.policy

if not helm.SHARED_CHARTS.is_dir():
    pytest.skip("../shared/charts/src is absent: no charts to render", allow_module_level=True)


@pytest.fixture(scope="module")
def local_render():
    from dataplatform.plan.engine import plan_stack

    plan = plan_stack("local")
    return plan, render_stack("local", plan=plan)


def test_rendered_objects_are_typed_and_parented(local_render):
    plan, result = local_render
    extra = as_planned(result)
    apps = {r.urn for r in plan.resources if r.type.endswith(":Application")}
    scheduler = next(r for r in extra if r.name == "acme-marketing-dev/airflow-scheduler"
                     and r.inputs["kind"] == "Deployment")
    assert scheduler.type == "kubernetes:apps/v1:Deployment" and scheduler.parent in apps
    assert not any(r.type.endswith(":CustomResourceDefinition") for r in extra)


def test_chart_made_workloads_are_policed(local_render):
    plan, result = local_render
    without = check_plan(plan)
    found = check_plan(plan, extra=as_planned(result))
    scheduler = [f for f in found if f["policy"] == "k8s-resources-set"
                 and "airflow-scheduler" in f["urn"]]
    assert scheduler and "wait-for-airflow-migrations" in scheduler[0]["message"]
    assert not any("airflow-scheduler" in f["urn"] for f in without)
