"""No default login survives a deploy (issue 19): every shipped stack's plan.

1. No known default credential anywhere in a planned resource's inputs, the merged values
   of every chart included: not as a password value, not inside any string.
2. Each UI's admin credential is a reference to a Secret the same plan creates (generated
   with pulumi-random): Airflow, Grafana, MinIO, DataHub's root user, Metabase's admin.
   Argo CD and Airbyte generate theirs at first start (`argocd-initial-admin-secret`,
   `airbyte-auth-secrets` by the bootloader); for them the plan must not set one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from dataplatform.plan.engine import SECRET, Plan
from foundation.config.loader import available_stacks

pytestmark = pytest.mark.unit

SHIPPED = available_stacks()
SECRET_T = "kubernetes:core/v1:Secret"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
RELEASE = "kubernetes:helm.sh/v3:Release"

# Passwords the tools ship with (or their docs' quickstarts use).
DEFAULT_PASSWORDS = {"admin", "airflow", "datahub", "prom-operator", "minioadmin",
                     "airbyte123", "password", "changeme", "metabase"}
# Strings that are a default credential wherever they appear.
DEFAULT_TEXT = re.compile(r"prom-operator|minioadmin|airbyte123|datahub:datahub|admin:admin"
                          r"|airflow:airflow", re.IGNORECASE)
PASSWORD_KEY = re.compile(r"pass(word|wd)?$|password", re.IGNORECASE)
REFERENCE_KEY = re.compile(r"secret|key$|ref$", re.IGNORECASE)
"""`passwordSecretKey`, `existingSecretPasswordKey`...: names of a key, not a password."""


def walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) of every map entry below `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", str(key), value
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from walk(item, f"{path}[{i}]")


def default_credentials(inputs: Any) -> list[str]:
    found = []
    for path, key, value in walk(inputs):
        if not isinstance(value, str):
            continue
        if (PASSWORD_KEY.search(key) and not REFERENCE_KEY.search(key)
                and value.strip().lower() in DEFAULT_PASSWORDS):
            found.append(f"{path} = {value!r}")
        elif DEFAULT_TEXT.search(value):
            found.append(f"{path} holds {DEFAULT_TEXT.search(value).group(0)!r}")  # type: ignore[union-attr]
    return found


def chart_values(plan: Plan) -> dict[str, dict[str, Any]]:
    """Chart -> the merged values the plan delivers (Application or Release)."""
    out: dict[str, dict[str, Any]] = {}
    for r in plan.by_type(APPLICATION):
        source = r.inputs["spec"]["source"]
        out[source["chart"]] = source["helm"]["valuesObject"]
    for r in plan.by_type(RELEASE):
        out[r.inputs["chart"]] = r.inputs["values"]
    return out


def created_secrets(plan: Plan) -> dict[str, dict[str, Any]]:
    """Secret name -> inputs of the Secrets the plan creates."""
    return {r.inputs["metadata"]["name"]: r.inputs for r in plan.by_type(SECRET_T)}


def secret_refs(inputs: Any, env_name: str) -> list[str]:
    """The Secrets the env entries called `env_name` below `inputs` read from."""
    return [value["valueFrom"]["secretKeyRef"]["name"] for _, _, value in walk(inputs)
            if isinstance(value, list) for value in value
            if isinstance(value, dict) and value.get("name") == env_name
            and "secretKeyRef" in (value.get("valueFrom") or {})]


@pytest.mark.parametrize("stack", SHIPPED)
def test_no_default_credential_in_any_planned_input(shipped_plan, stack):
    plan = shipped_plan(stack)
    found = {r.name: hits for r in plan.resources
             if (hits := default_credentials(r.inputs))}
    assert found == {}


def test_the_detector_finds_each_default_form():
    assert default_credentials({"adminPassword": "prom-operator"})
    assert default_credentials({"a": {"password": "Admin "}})
    assert default_credentials({"user.props": "datahub:datahub\n"})
    assert default_credentials({"env": [{"name": "X", "value": "minioadmin"}]})
    assert not default_credentials({"password": SECRET, "existingSecret": "grafana-admin",
                                    "passwordSecretKey": "password"})


def _generated(plan: Plan, name: str) -> None:
    secrets = created_secrets(plan)
    assert name in secrets, f"Secret {name} is not created by the plan"
    assert secrets[name].get("stringData") == SECRET, f"Secret {name} is not generated"


@pytest.mark.parametrize("stack", SHIPPED)
def test_each_ui_admin_is_a_generated_secret_the_plan_creates(shipped_plan, stack):
    plan = shipped_plan(stack)
    values = chart_values(plan)
    checked = []
    if "airflow" in values:
        airflow = values["airflow"]["createUserJob"]
        [volume] = [v for v in airflow["extraVolumes"] if v["name"] == "admin-credentials"]
        _generated(plan, volume["secret"]["secretName"])
        assert "defaultUser" not in json.dumps(airflow["args"])  # the chart's admin/admin
        assert "admin-credentials/password" in " ".join(airflow["args"])
        checked.append("airflow")
    if "kube-prometheus-stack" in values:
        grafana = values["kube-prometheus-stack"]["grafana"]
        _generated(plan, grafana["admin"]["existingSecret"])
        assert "adminPassword" not in grafana
        checked.append("grafana")
    if "datahub" in values:
        frontend = values["datahub"]["datahub-frontend"]
        [mount] = [m for m in frontend["extraVolumeMounts"]
                   if m["mountPath"] == "/datahub-frontend/conf/user.props"]
        [volume] = [v for v in frontend["extraVolumes"] if v["name"] == mount["name"]]
        _generated(plan, volume["secret"]["secretName"])
        checked.append("datahub")
    if "metabase" in values:
        job = plan.get("kubernetes:batch/v1:Job",
                       next(r.name for r in plan.by_type("kubernetes:batch/v1:Job")
                            if r.name.endswith("metabase-setup-job")))
        [admin] = set(secret_refs(job.inputs, "MB_ADMIN_PASSWORD"))
        _generated(plan, admin)
        checked.append("metabase")
    minio = {ref for r in plan.resources for ref in secret_refs(r.inputs, "MINIO_ROOT_PASSWORD")}
    for name in minio:
        _generated(plan, name)
    if "argo-cd" in values:  # argocd-server writes argocd-initial-admin-secret (random)
        secret = values["argo-cd"].get("configs", {}).get("secret", {})
        assert "argocdServerAdminPassword" not in secret
        checked.append("argocd")
    if "airbyte" in values:  # the bootloader writes airbyte-auth-secrets (random)
        auth = values["airbyte"].get("global", {}).get("auth", {})
        assert auth.get("enabled", True) is not False
        assert "password" not in auth.get("instanceAdmin", {})
        assert not values["airbyte"].get("keycloak", {}).get("enabled")  # airbyte123
        checked.append("airbyte")
    assert checked or minio, f"{stack}: no UI found to check"
