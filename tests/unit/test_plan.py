"""The offline plan: every shipped stack, StackReference resolution, the JSON contract."""

import json

import pytest
from stackdir import FIXTURE_STACKS, SHIPPED_STACKS, shipped_examples

from dataplatform import cli
from foundation.config.loader import available_stacks, load_stack_config

pytestmark = pytest.mark.unit

RESOURCE_KEYS = {"urn": str, "type": str, "name": str, "parent": (str, type(None)),
                 "custom": bool, "inputs": dict, "protect": bool, "retain_on_delete": bool,
                 "depends_on": list, "provider": (str, type(None))}


@pytest.mark.parametrize("stack", shipped_examples())
def test_every_shipped_stack_plans_cleanly(shipped_plan, stack):
    plan = shipped_plan(stack, SHIPPED_STACKS)
    assert plan.resources
    assert not [f for f in plan.policy if f["level"] == "mandatory"]


@pytest.mark.parametrize("stack", shipped_examples())
def test_every_shipped_acme_stack_is_marked_example(stack):
    """The deploy workflow leaves `example: true` stacks out. The examples are customer acme
    (docs/onboarding.md): an acme stack must say it is one; a consultant's own need not."""
    cfg = load_stack_config(stack, SHIPPED_STACKS)
    assert cfg.example or cfg.customer != "acme", \
        f"stacks/Pulumi.{stack}.yaml: customer acme without `dataplatform:example: true`"


@pytest.mark.parametrize("stack", ["aws-finance", "local"])
def test_urns_are_the_engines(shipped_plan, stack):
    """`urn:pulumi:<stack>::<project>::<qualified type>::<name>`, the qualified type being
    the parent's qualified type, `$`, the resource's own type, the root Stack's type left
    out (the engine's resource.NewURN): the URNs a runbook hands `pulumi up --replace`."""
    plan = shipped_plan(stack)
    by_urn = {r.urn: r for r in plan.resources}
    deep = 0
    for r in plan.resources:
        chain, parent = [r.type], by_urn.get(r.parent or "")
        while parent is not None:
            chain.insert(0, parent.type)
            parent = by_urn.get(parent.parent or "")
        assert r.urn == f"urn:pulumi:{stack}::dataplatform::{'$'.join(chain)}::{r.name}"
        deep += len(chain) > 2
    assert deep > 10, "no resource three levels deep: the chain would not be tested"
    assert all(r.parent is None or r.parent in by_urn or r.parent.endswith(
        f"::pulumi:pulumi:Stack::dataplatform-{stack}") for r in plan.resources)


def test_both_profiles_and_all_clouds_are_shipped(stacks):
    """The fixture stacks (what the suite plans) cover every profile and cloud."""
    shipped = [stacks.shipped(s) for s in available_stacks()]
    assert {s["profile"] for s in shipped} == {"dev", "prod"}
    assert {s["cloud"] for s in shipped} == {"local", "aws", "gcp"}


def test_json_shape(capsys):
    assert cli.main(["plan", "local", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"project", "stack", "resources", "outputs", "policy"}
    assert (doc["project"], doc["stack"]) == ("dataplatform", "local")
    assert isinstance(doc["outputs"], dict) and isinstance(doc["policy"], list)
    urns = {r["urn"] for r in doc["resources"]}
    for r in doc["resources"]:
        # `aliases` only where our code gives some (a former name kept for deployed stacks)
        assert set(r) - {"aliases"} == set(RESOURCE_KEYS), r["urn"]
        if "aliases" in r:  # printed only when there are some
            assert r["aliases"] and all(isinstance(a, str) for a in r["aliases"]), r["urn"]
        for key, typ in RESOURCE_KEYS.items():
            assert isinstance(r[key], typ), (r["urn"], key)
        assert all(d in urns for d in r["depends_on"]), r["urn"]
        assert r["urn"].startswith("urn:pulumi:local::dataplatform::")
    for f in doc["policy"]:
        assert set(f) == {"policy", "level", "urn", "message"}
        assert f["level"] in ("mandatory", "advisory")


def test_plan_is_deterministic(capsys):
    cli.main(["plan", "local", "--json"])
    first = capsys.readouterr().out
    cli.main(["plan", "local", "--json"])
    assert capsys.readouterr().out == first


def test_text_plan_is_a_tree_with_outputs(capsys):
    assert cli.main(["plan", "local"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Plan of stack 'local' (project dataplatform): ")
    assert "└─ acme-marketing-dev  (dataplatform:stack:DomainStack)" in out
    assert "   ├─ acme-marketing-dev-argocd  (dataplatform:gitops:ArgoCD)" in out
    assert 'Outputs:\n  apps: ["airbyte", "airflow", "datahub", "dbt", "metabase"]' in out
    assert "Policy findings: none" in out


def _local_platform(stacks):
    base = stacks.shipped("local")
    platform = {k: v for k, v in base.items() if k not in ("domain", "isolation")}
    platform.update(kind="platform", cluster={"kubeContext": "kind-shared"})
    stacks.write("acme-platform", platform)
    domain = {k: v for k, v in base.items() if k != "cluster"}
    domain.update(domain="finance", platform={"stack": "acme-platform"},
                  apps={"airflow": {"enabled": True}})
    stacks.write("acme-finance", domain)


def test_stack_reference_is_answered_by_the_platform_plan(stacks):
    _local_platform(stacks)
    plan = stacks.plan("acme-finance")
    ref = plan.get("pulumi:pulumi:StackReference", "acme-finance-dev-platform-ref")
    assert ref.inputs["name"] == "organization/dataplatform/acme-platform"
    provider = plan.get("pulumi:providers:kubernetes", "acme-finance-dev-platform-provider")
    assert provider.inputs["context"] == "kind-shared", "read from the platform's outputs"
    # No cluster and no Argo CD of its own: those belong to the platform.
    assert not plan.by_type("dataplatform:cluster:LocalCluster")
    assert not plan.by_type("dataplatform:gitops:ArgoCD")
    project = plan.get("kubernetes:argoproj.io/v1alpha1:AppProject",
                       "acme-finance-dev-isolation-appproject")
    assert project.inputs["metadata"]["namespace"] == "argocd"
    assert plan.outputs["clusterName"] == "acme-platform-dev"


def test_apps_are_argocd_applications_in_the_domain_project(stacks):
    _local_platform(stacks)
    plan = stacks.plan("acme-finance")
    app = plan.get("kubernetes:argoproj.io/v1alpha1:Application", "acme-finance-dev-airflow-helm-application")
    spec = app.inputs["spec"]
    assert app.inputs["metadata"]["namespace"] == "argocd"
    assert spec["project"] == "acme-finance-dev"
    assert spec["destination"]["namespace"] == "acme-finance-dev"
    assert spec["source"]["targetRevision"] == "1.18.0"
    helm_app = plan.get("dataplatform:apps:HelmApp", "acme-finance-dev-airflow-helm")
    deps = " ".join(helm_app.depends_on)
    assert "MinioStorage" in deps and "InClusterPostgres" in deps
    assert plan.outputs["apps"] == ["airflow"]
    db_secrets = {s.inputs["metadata"]["name"] for s in plan.by_type("kubernetes:core/v1:Secret")}
    assert "airflow-db-credentials" in db_secrets


def test_helm_delivery_and_disabling_an_app(stacks):
    cfg = stacks.shipped("local")
    cfg.update(delivery="helm", apps={"argocd": {"enabled": False}, "metabase": {"enabled": True}})
    stacks.write("helmy", cfg)
    plan = stacks.plan("helmy")
    assert plan.get("kubernetes:helm.sh/v3:Release", "acme-marketing-dev-metabase-helm-release")
    assert not plan.by_type("kubernetes:argoproj.io/v1alpha1:Application")
    assert not plan.by_type("kubernetes:argoproj.io/v1alpha1:AppProject")
    cfg["apps"]["metabase"]["enabled"] = False
    stacks.write("helmy", cfg)
    plan = stacks.plan("helmy")
    # (the cluster's Grafana keeps its Metabase dashboard, for every domain of the cluster)
    assert not [r for r in plan.resources if "metabase" in r.name
                and "-monitoring-dashboard-" not in r.name]


def test_argocd_delivery_needs_argocd(stacks, capsys):
    cfg = stacks.shipped("local")
    cfg.update(apps={"argocd": {"enabled": False}})
    stacks.write("noargo", cfg)
    assert cli.main(["plan", "noargo", "--stacks-dir", str(stacks.path)]) == 2
    assert "delivery 'argocd' but the cluster has no Argo CD" in capsys.readouterr().err


def test_pulumi_entry_point_exits_2_on_an_unknown_stack(mock_engine, capsys, monkeypatch):
    import pulumi

    from dataplatform import program

    monkeypatch.setattr(program, "PROJECT_STACKS_DIR", FIXTURE_STACKS)  # stacks/ may be gone
    pulumi.runtime.settings._set_stack("no-such-stack")
    with pytest.raises(SystemExit) as info:
        program.main()
    assert info.value.code == 2
    assert "unknown stack 'no-such-stack'" in capsys.readouterr().err
    assert mock_engine.recorded == []


def test_pulumi_entry_point_reads_the_folder_pulumi_reads(mock_engine, monkeypatch, capsys):
    """`pulumi up` holds the config and secrets of stackConfigDir (stacks/): the program
    builds that file, not one $DATAPLATFORM_STACKS_DIR names (here, the test fixtures)."""
    import pulumi

    from dataplatform import program
    from foundation import layout
    from foundation.config import ConfigError

    read = []

    def load(stack, stacks_dir=layout.STACKS_DIR):
        read.append((stack, stacks_dir))
        raise ConfigError("stub", [])

    monkeypatch.setattr(program, "load", load)
    pulumi.runtime.settings._set_stack("local")
    with pytest.raises(SystemExit):
        program.main()
    assert layout.STACKS_DIR == FIXTURE_STACKS != layout.PROJECT_STACKS_DIR
    assert read == [("local", layout.PROJECT_STACKS_DIR)]
