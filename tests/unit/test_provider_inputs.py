"""Planned inputs against the provider SDKs' own input types (dataplatform/provider_inputs.py).

Each negative case mutates a copy of a real planned resource and checks that the error names
the resource, the dotted path and (for an unknown key) the closest valid one; each positive
case about placeholders pairs with a wrong value at the same spot, so a checker that stopped
looking there would fail it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from dataplatform.plan.engine import Plan, PlannedResource
from dataplatform.provider_inputs import args_class, check_plan_inputs
from foundation.config.loader import available_stacks

pytestmark = pytest.mark.unit

CLOUD_PREFIX = {"aws": "aws:", "gcp": "gcp:"}
ALLOWED_SKIPS = {"component resource (its children are checked)",
                 "no SDK class (a CustomResource, e.g. of a CRD)", "engine built-in"}
CONTAINER = "inputs.spec.template.spec.containers[0]"


def _resource(plan: Plan, type_: str) -> PlannedResource:
    return copy.deepcopy(next(r for r in plan.resources if r.type == type_))


def _errors(plan: Plan, resource: PlannedResource, mutate: Callable[[dict[str, Any]], Any]
            ) -> list[str]:
    """Errors of `resource` alone once `mutate` has changed its inputs (a copy)."""
    mutate(resource.inputs)
    return check_plan_inputs(Plan(plan.project, plan.stack, [resource])).errors


def _one(errors: list[str], resource: PlannedResource, path: str) -> str:
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{resource.urn}: {path}: "), errors[0]
    return errors[0]


@pytest.mark.parametrize("stack", available_stacks())
def test_shipped_stacks_match_the_sdk_input_types(shipped_plan, stack, stacks):
    plan = shipped_plan(stack)
    errors, checked, skipped = check_plan_inputs(plan)
    assert errors == []
    custom = [r for r in plan.resources if r.custom]
    assert checked == len([r for r in custom if r.type not in skipped]) > 0
    assert set(skipped.values()) <= ALLOWED_SKIPS, skipped
    covered = {r.type for r in custom if r.type not in skipped}
    assert any(t.startswith("kubernetes:") for t in covered)
    assert "pulumi:providers:kubernetes" in covered
    cloud = stacks.shipped(stack)["cloud"]
    if cloud in CLOUD_PREFIX:
        assert any(t.startswith(CLOUD_PREFIX[cloud]) for t in covered), covered
        assert f"pulumi:providers:{cloud}" in covered


def test_every_cloud_is_covered(shipped_plan):
    covered = {r.type.split(":")[0] for s in available_stacks()
               for r in shipped_plan(s).resources
               if r.custom and not isinstance(args_class(r.type), str)}
    assert {"aws", "gcp", "kubernetes", "random", "pulumi"} <= covered


def test_crds_components_and_reads_are_skipped(shipped_plan):
    errors, _, skipped = check_plan_inputs(shipped_plan("aws-finance"))
    assert skipped["kubernetes:argoproj.io/v1alpha1:Application"].startswith("no SDK class")
    assert skipped["dataplatform:stack:DomainStack"].startswith("component resource")
    assert skipped["pulumi:pulumi:StackReference"] == "engine built-in"
    assert "kubernetes:apps/v1:Deployment" not in skipped and errors == []


def test_misspelt_top_level_field(shipped_plan):
    plan = shipped_plan("aws-finance")
    bucket = _resource(plan, "aws:s3/bucket:Bucket")
    errors = _errors(plan, bucket, lambda i: i.update(forceDestory=i.pop("forceDestroy")))
    assert "did you mean 'forceDestroy'?" in _one(errors, bucket, "inputs.forceDestory")


def test_misspelt_container_resources_field(shipped_plan):
    plan = shipped_plan("local")
    deployment = _resource(plan, "kubernetes:apps/v1:Deployment")

    def misspell(inputs: dict[str, Any]) -> None:
        resources = inputs["spec"]["template"]["spec"]["containers"][0]["resources"]
        resources["limts"] = resources.pop("limits")

    error = _one(_errors(plan, deployment, misspell), deployment,
                 f"{CONTAINER}.resources.limts")
    assert "ResourceRequirementsArgs" in error and "did you mean 'limits'?" in error


def test_misspelt_nested_s3_field(shipped_plan):
    plan = shipped_plan("aws-finance")
    sse = _resource(plan, "aws:s3/bucketServerSideEncryptionConfiguration:"
                          "BucketServerSideEncryptionConfiguration")

    def misspell(inputs: dict[str, Any]) -> None:
        default = inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        default["sseAlgoritm"] = default.pop("sseAlgorithm")

    errors = _errors(plan, sse, misspell)
    path = "inputs.rules[0].applyServerSideEncryptionByDefault"
    assert len(errors) == 2, errors  # the misspelling, and the required field it replaced
    assert errors[0] == (f"{sse.urn}: {path}.sseAlgoritm: unknown field of Bucket"
                         "ServerSideEncryptionConfigurationRuleApplyServerSideEncryptionBy"
                         "DefaultArgs; did you mean 'sseAlgorithm'?")
    assert errors[1].startswith(f"{sse.urn}: {path}.sseAlgorithm: required field")


def test_misspelt_nested_gcp_field(shipped_plan):
    plan = shipped_plan("gcp-platform")
    cluster = _resource(plan, "gcp:container/cluster:Cluster")
    errors = _errors(plan, cluster, lambda i: i["privateClusterConfig"].update(
        enablePrivateNode=i["privateClusterConfig"].pop("enablePrivateNodes")))
    assert "did you mean 'enablePrivateNodes'?" in _one(
        errors, cluster, "inputs.privateClusterConfig.enablePrivateNode")


def test_string_where_a_list_is_expected(shipped_plan):
    plan = shipped_plan("gcp-platform")
    cluster = _resource(plan, "gcp:container/cluster:Cluster")
    errors = _errors(plan, cluster, lambda i: i["monitoringConfig"].update(
        enableComponents="SYSTEM_COMPONENTS"))
    assert "expected list, got string" in _one(
        errors, cluster, "inputs.monitoringConfig.enableComponents")


def test_number_where_a_bool_is_expected_and_back(shipped_plan):
    plan = shipped_plan("aws-finance")
    bucket = _resource(plan, "aws:s3/bucket:Bucket")
    errors = _errors(plan, bucket, lambda i: i.update(forceDestroy=0))
    assert "expected boolean, got integer 0" in _one(errors, bucket, "inputs.forceDestroy")
    password = _resource(plan, "random:index/randomPassword:RandomPassword")
    errors = _errors(plan, password, lambda i: i.update(length=True))
    assert "expected integer, got boolean" in _one(errors, password, "inputs.length")


def test_wrong_kind_literal_and_map_value(shipped_plan):
    plan = shipped_plan("local")
    deployment = _resource(plan, "kubernetes:apps/v1:Deployment")
    errors = _errors(plan, deployment, lambda i: i.update(kind="Deploymnet"))
    assert "expected 'Deployment'" in _one(errors, deployment, "inputs.kind")
    deployment = _resource(plan, "kubernetes:apps/v1:Deployment")
    errors = _errors(plan, deployment, lambda i: i["metadata"]["labels"].update(tier=3))
    assert "expected string, got integer 3" in _one(
        errors, deployment, "inputs.metadata.labels.tier")


def test_missing_required_nested_field(shipped_plan):
    plan = shipped_plan("local")
    deployment = _resource(plan, "kubernetes:apps/v1:Deployment")
    errors = _errors(plan, deployment,
                     lambda i: i["spec"]["template"]["spec"]["containers"][0].pop("name"))
    assert "required field of ContainerArgs" in _one(errors, deployment, f"{CONTAINER}.name")


def test_provider_inputs_are_json_decoded(shipped_plan):
    plan = shipped_plan("aws-platform")
    provider = _resource(plan, "pulumi:providers:aws")
    assert provider.inputs["skipRegionValidation"] == "true"  # how the wire carries a bool
    assert _errors(plan, copy.deepcopy(provider), lambda i: None) == []
    errors = _errors(plan, copy.deepcopy(provider),
                     lambda i: i.update(skipRegionValidation='"yes"'))
    assert "expected boolean" in _one(errors, provider, "inputs.skipRegionValidation")
    errors = _errors(plan, provider, lambda i: i.update(
        defaultTags='{"tag": {"owner": "x"}}'))
    assert "did you mean 'tags'?" in _one(errors, provider, "inputs.defaultTags.tag")


@pytest.mark.parametrize("placeholder", ["[secret]", "[unknown]"])
def test_placeholders_match_any_type(shipped_plan, placeholder):
    plan = shipped_plan("local")
    original = _resource(plan, "kubernetes:apps/v1:Deployment")
    spots: list[tuple[str, Callable[[dict[str, Any], Any], None]]] = [
        ("inputs.spec.replicas", lambda i, v: i["spec"].update(replicas=v)),
        (f"{CONTAINER}.resources", lambda i, v: i["spec"]["template"]["spec"]["containers"][0]
         .update(resources=v)),
        ("inputs.spec.template.spec.containers[0]",
         lambda i, v: i["spec"]["template"]["spec"]["containers"].__setitem__(0, v)),
        ("inputs.metadata", lambda i, v: i.update(metadata=v)),
        ("inputs.kind", lambda i, v: i.update(kind=v)),
    ]
    for path, put in spots:
        assert _errors(plan, copy.deepcopy(original), lambda i, p=put: p(i, placeholder)) == []
        wrong = _errors(plan, copy.deepcopy(original), lambda i, p=put: p(i, True))
        _one(wrong, original, path)  # the same spot with a wrong value does fail


def test_null_means_unset_unless_required(shipped_plan):
    plan = shipped_plan("local")
    deployment = _resource(plan, "kubernetes:apps/v1:Deployment")
    assert _errors(plan, copy.deepcopy(deployment), lambda i: i["spec"].update(
        replicas=None)) == []
    errors = _errors(plan, deployment, lambda i: i["spec"]["template"]["spec"]["containers"][0]
                     .update(name=None))
    _one(errors, deployment, f"{CONTAINER}.name")
