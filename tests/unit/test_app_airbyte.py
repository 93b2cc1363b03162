"""Airbyte: merged values per cloud and profile, identity, storage, sizing, removal.

Stacks: the shipped `local` (dev, MinIO, in-cluster Postgres), `gcp-marketing` (dev, GCS,
in-cluster Postgres) and `aws-finance` (prod, S3, RDS), each with `apps.airbyte` enabled.
The merged values are what Argo CD receives (`valuesObject` of the Application).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from app_plans import STACKS, AppPlans, removed, requested
from golden_files import assert_golden
from test_secrets import leaks

from components._values import deep_merge, static_values
from dataplatform.chartcheck import (
    containers_without_resources,
    iter_components,
    load_chart,
    unknown_keys,
)
from dataplatform.plan.engine import SECRET, Plan

pytestmark = pytest.mark.unit

SA_TYPE = "kubernetes:core/v1:ServiceAccount"
SERVER_LABELS = {"app.kubernetes.io/name": "server", "app.kubernetes.io/instance": "airbyte"}
AIRBYTE = AppPlans("airbyte", tag="ab")
plan_with, values_of, chart_dir = AIRBYTE.plan, AIRBYTE.values, AIRBYTE.chart_dir


def service_account(plan: Plan, name: str) -> dict[str, Any] | None:
    found = [r.inputs["metadata"] for r in plan.by_type(SA_TYPE)
             if r.inputs["metadata"]["name"] == name]
    return {"name": found[0]["name"], "annotations": found[0].get("annotations", {})} \
        if found else None


@pytest.mark.parametrize("stack", list(STACKS))
def test_merged_values_golden(stacks, stack):
    plan = plan_with(stacks, stack)
    assert_golden(f"values/airbyte-{stack}", {
        "values": values_of(plan, stack),
        "serviceAccount": service_account(plan, "airbyte")})


@pytest.mark.parametrize("stack", list(STACKS))
def test_computed_keys_are_known_to_the_chart(stacks, stack):
    assert unknown_keys(values_of(plan_with(stacks, stack), stack), chart_dir()) == []


def test_template_only_keys_are_accepted_not_their_neighbours():
    ours = {"global": {"storage": {"s3": {"region": "x"}, "s4": {}},
                       "database": {"userSecretKey": "u", "userSecretKee": "u"}}}
    assert unknown_keys(ours, chart_dir()) == ["global.database.userSecretKee",
                                               "global.storage.s4"]


@pytest.mark.parametrize("stack", list(STACKS))
def test_external_database_from_the_domain_secret(stacks, stack):
    plan = plan_with(stacks, stack)
    values = values_of(plan, stack)
    db = values["global"]["database"]
    assert values["postgresql"]["enabled"] is False
    assert db["secretName"] == "airbyte-db-credentials"
    assert (db["userSecretKey"], db["passwordSecretKey"]) == ("username", "password")
    assert db["replica"] == {"userSecretKey": "username", "passwordSecretKey": "password"}
    assert "password" not in db and "user" not in db
    assert db["port"] == 5432
    secret = next(r for r in plan.by_type("kubernetes:core/v1:Secret")
                  if r.inputs["metadata"]["name"] == "airbyte-db-credentials")
    assert secret.inputs["stringData"] == SECRET
    if stack == "aws-finance":  # managed: RDS, TLS required (JDBC and Temporal)
        assert db["host"].endswith(".rds.amazonaws.com")
        assert (db["type"], db["name"]) == ("external", "airbyte?sslmode=require")
    else:
        assert db["host"] == f"postgres.{STACKS[stack]}.svc.cluster.local"
        assert (db["type"], db["name"]) == ("internal", "airbyte")


@pytest.mark.parametrize("stack", list(STACKS))
def test_storage_is_the_domain_artifacts_bucket(stacks, stack):
    plan = plan_with(stacks, stack)
    values = values_of(plan, stack)
    storage = values["global"]["storage"]
    artifacts = plan.outputs["buckets"]["artifacts"]
    assert artifacts == f"{STACKS[stack]}-artifacts"
    assert set(storage["bucket"]) == {"log", "state", "workloadOutput", "activityPayload",
                                      "auditLogging"}
    assert set(storage["bucket"].values()) == {artifacts}
    assert values["minio"]["enabled"] is False
    expected = {
        "local": {"type": "minio", "secretName": "minio-credentials", "minio": {
            "endpoint": f"http://minio.{STACKS[stack]}.svc.cluster.local:9000",
            "accessKeyIdSecretKey": "rootUser", "secretAccessKeySecretKey": "rootPassword"}},
        "aws-finance": {"type": "s3", "s3": {"region": "eu-west-1",
                                             "authenticationType": "instanceProfile"}},
        "gcp-marketing": {"type": "gcs", "secretName": "airbyte-gcs-credentials",
                          "gcs": {"projectId": "acme-data-dev"}},
    }[stack]
    assert {k: v for k, v in storage.items() if k != "bucket"} == expected
    assert values["global"]["workloads"]["namespace"] == STACKS[stack]


def test_gcs_key_secret_name_can_be_overridden(stacks):
    plan = plan_with(stacks, "gcp-marketing", {"enabled": True, "values": {
        "global": {"storage": {"secretName": "gcs-key-from-vault"}}}})
    assert values_of(plan, "gcp-marketing")["global"]["storage"]["secretName"] == \
        "gcs-key-from-vault"


@pytest.mark.parametrize(("stack", "annotation"), [
    ("aws-finance", "eks.amazonaws.com/role-arn"),
    ("gcp-marketing", "iam.gke.io/gcp-service-account")])
def test_cloud_pods_run_as_the_workload_identity_account(stacks, stack, annotation):
    plan = plan_with(stacks, stack)
    values = values_of(plan, stack)
    assert values["serviceAccount"] == {"create": False, "name": "airbyte"}
    assert values["global"]["serviceAccountName"] == "airbyte"  # job pods too
    sa = service_account(plan, "airbyte")
    assert sa and sa["annotations"].get(annotation)
    role = plan.get("kubernetes:rbac.authorization.k8s.io/v1:Role",
                    f"{STACKS[stack]}-airbyte-workloads-role")
    assert {"pods", "pods/log", "secrets"} <= set(role.inputs["rules"][0]["resources"])
    binding = plan.get("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
                       f"{STACKS[stack]}-airbyte-workloads-binding")
    assert binding.inputs["subjects"] == [
        {"kind": "ServiceAccount", "name": "airbyte", "namespace": STACKS[stack]}]
    assert binding.inputs["roleRef"]["name"] == role.inputs["metadata"]["name"]


def test_local_uses_the_charts_own_account_and_minio_keys(stacks):
    plan = plan_with(stacks, "local")
    values = values_of(plan, "local")
    assert "serviceAccount" not in values and "serviceAccountName" not in values["global"]
    assert service_account(plan, "airbyte") is None
    assert not [r for r in plan.by_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
                if "airbyte" in r.name]


@pytest.mark.parametrize("stack", list(STACKS))
def test_webapp_is_internal_only(stacks, stack):
    values = values_of(plan_with(stacks, stack), stack)
    assert values["server"]["service"]["type"] == "ClusterIP"
    assert values["ingress"]["enabled"] is False and values["webapp"]["enabled"] is False
    assert values["global"]["airbyteUrl"] == \
        f"http://airbyte-airbyte-server-svc.{STACKS[stack]}.svc.cluster.local:8001"


def test_prod_server_is_highly_available(stacks):
    plan = plan_with(stacks, "aws-finance")
    server = values_of(plan, "aws-finance")["server"]
    assert server["replicaCount"] >= 2 and server["deploymentStrategyType"] == "RollingUpdate"
    terms = server["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    zone = [t["podAffinityTerm"] for t in terms
            if t["podAffinityTerm"]["topologyKey"] == "topology.kubernetes.io/zone"]
    assert zone and zone[0]["labelSelector"]["matchLabels"] == SERVER_LABELS
    pdb = plan.get("kubernetes:policy/v1:PodDisruptionBudget",
                   "acme-finance-prod-airbyte-server-pdb")
    assert pdb.inputs["spec"] == {"minAvailable": 1,
                                  "selector": {"matchLabels": SERVER_LABELS}}
    assert pdb.inputs["metadata"]["namespace"] == "acme-finance-prod"
    # Every served component running 2+ replicas gets one; Temporal stays a singleton.
    values = values_of(plan, "aws-finance")
    for key, pod in (("workloadApiServer", "workload-api-server"),
                     ("manifestServer", "manifest-server")):
        assert values[key]["replicaCount"] == 2
        pdb = plan.get("kubernetes:policy/v1:PodDisruptionBudget",
                       f"acme-finance-prod-airbyte-{pod}-pdb")
        assert pdb.inputs["spec"]["selector"]["matchLabels"] == {
            **SERVER_LABELS, "app.kubernetes.io/name": pod}
    assert values["temporal"]["replicaCount"] == 1
    assert len([p for p in plan.by_type("kubernetes:policy/v1:PodDisruptionBudget")
                if "-airbyte-" in p.name]) == 3


def test_dev_has_no_pdb(stacks):
    plan = plan_with(stacks, "local")
    assert values_of(plan, "local")["server"]["replicaCount"] == 1
    assert not plan.by_type("kubernetes:policy/v1:PodDisruptionBudget")


def merged(profile: str) -> dict[str, Any]:
    return deep_merge(load_chart(chart_dir()).defaults, static_values("airbyte", profile))


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_every_component_of_the_chart_defaults_has_resources(profile):
    values, path = merged(profile), chart_dir()
    assert containers_without_resources(values, path) == []
    paths = {c.path for c in iter_components(values, path)}
    assert {"server.resources", "worker.resources", "workloadLauncher.resources",
            "workloadApiServer.resources", "temporal.resources", "cron.resources",
            "manifestServer.resources", "airbyteBootloader.resources"} <= paths
    assert "minio.resources" not in paths  # the built-in MinIO is off
    jobs = values["global"]["workloads"]["resources"]["mainContainer"]
    assert jobs["cpu"]["request"] and jobs["memory"]["limit"]  # sync pods are bounded too


def resource_paths(node: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every `resources` map of the chart defaults, enabled or not."""
    if not isinstance(node, dict):
        return []
    return [p for k, v in node.items() for p in (
        [(*path, k)] if k == "resources" else resource_paths(v, (*path, k)))]


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_components_off_by_default_are_sized_too(profile):
    values = merged(profile)
    unsized = []
    for path in resource_paths(load_chart(chart_dir()).defaults):
        res = values
        for key in path:
            res = res[key]
        if path[0] not in ("global", "minio") and not (
                res.get("requests", {}).get("memory") and res.get("limits", {}).get("memory")):
            unsized.append(".".join(path))
    assert unsized == []


def test_dev_fits_its_share_of_the_domain_budget():
    cpu, mem = requested(merged("dev"), chart_dir())
    assert cpu <= 0.6 and mem <= 1.75 * 2**30, f"{cpu} vCPU, {mem / 2**20} MiB"


@pytest.mark.parametrize("stack", ["local", "aws-finance"])
def test_no_generated_secret_in_plaintext(stacks, stack, monkeypatch):
    plan, mocks = AIRBYTE.planted(stacks, stack, monkeypatch)
    assert any("airbyte" in c for c in mocks.carriers), "no planted value reached airbyte"
    assert leaks(plan, mocks) == []
    text = json.dumps(values_of(plan, stack))
    assert "PLANTED" not in text and SECRET not in text  # values only name Secrets


def test_disabling_airbyte_removes_all_its_resources(stacks):
    on = plan_with(stacks, "local")
    off = plan_with(stacks, "local", {"enabled": False})
    gone = removed(on, off)
    # ...and the Gateway's way in, when airbyte was the only app the domain routed
    assert gone and all("airbyte" in name or name.endswith("-allow-front-door")
                        for _, name in gone), sorted(gone)
    assert not [r.name for r in off.resources if "airbyte" in r.name]
    assert not [r for r in off.by_type("kubernetes:core/v1:Secret")
                if "airbyte" in r.inputs["metadata"]["name"]]
    assert "airbyte" not in off.outputs["apps"]
