"""The patch engine on sample manifests: JSON 6902, strategic merge, target selection, and
the Pulumi transform that applies patches to the objects a helm.v4.Chart renders."""

from __future__ import annotations

import copy

import pulumi
import pytest

from components._patches import (
    PatchError,
    PatchTransform,
    apply_patches,
    strategic_merge,
)
from foundation.config.extra import Patch

pytestmark = pytest.mark.unit

NS = "acme-insights-dev"

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "superset", "labels": {"app": "superset"}},
    "spec": {"replicas": 1, "template": {"metadata": {"labels": {"app": "superset"}}, "spec": {
        "containers": [
            {"name": "superset", "image": "apache/superset:4.1",
             "ports": [{"name": "http", "containerPort": 8088}],
             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
             "readinessProbe": {"httpGet": {"path": "/health", "port": "http"},
                                "periodSeconds": 15}},
            {"name": "proxy", "image": "nginx:1.27"}],
        "volumes": [{"name": "config", "secret": {"secretName": "superset-config"}}],
        "tolerations": [{"key": "a", "operator": "Exists"}]}}},
}
SERVICE = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "superset", "namespace": NS},
           "spec": {"ports": [{"name": "http", "port": 8088, "targetPort": "http"}]}}


def patch(kind="Deployment", name="superset", namespace=None, type_="json6902", body=None):
    target = {"kind": kind, "name": name} | ({"namespace": namespace} if namespace else {})
    return Patch.model_validate({"target": target, "type": type_, "patch": body})


def run(*patches: Patch, objects=(DEPLOYMENT, SERVICE)) -> list[dict]:
    return apply_patches("superset", copy.deepcopy(list(objects)), patches, NS)


# --- JSON 6902

def test_json6902_add_replace_remove():
    out, svc = run(patch(body=[
        {"op": "add", "path": "/metadata/labels/dataplatform.io~1tier", "value": "bi"},
        {"op": "replace", "path": "/spec/replicas", "value": 2},
        {"op": "remove", "path": "/spec/template/spec/tolerations"},
        {"op": "add", "path": "/spec/template/spec/containers/0/env/-",
         "value": {"name": "C", "value": "3"}},
        {"op": "add", "path": "/spec/template/spec/containers/0/env/0",
         "value": {"name": "Z", "value": "0"}},
    ]))
    assert out["metadata"]["labels"] == {"app": "superset", "dataplatform.io/tier": "bi"}
    assert out["spec"]["replicas"] == 2
    assert "tolerations" not in out["spec"]["template"]["spec"]
    env = out["spec"]["template"]["spec"]["containers"][0]["env"]
    assert [e["name"] for e in env] == ["Z", "A", "B", "C"]
    assert svc == SERVICE  # untouched
    assert DEPLOYMENT["spec"]["replicas"] == 1  # inputs are not modified


def test_json6902_move_copy_and_test():
    (out, _) = run(patch(body=[
        {"op": "test", "path": "/spec/replicas", "value": 1},
        {"op": "copy", "from": "/metadata/labels", "path": "/metadata/annotations"},
        {"op": "move", "from": "/spec/template/spec/containers/1",
         "path": "/spec/template/spec/initContainers"},
    ]))
    assert out["metadata"]["annotations"] == {"app": "superset"}
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["superset"]
    assert out["spec"]["template"]["spec"]["initContainers"]["name"] == "proxy"


@pytest.mark.parametrize(("ops", "message"), [
    ([{"op": "replace", "path": "/spec/paused", "value": True}], "'paused' does not exist"),
    ([{"op": "remove", "path": "/spec/template/spec/containers/5"}], "index 5 is out of range"),
    ([{"op": "add", "path": "/spec/nope/deeper", "value": 1}], "'nope' does not exist"),
    ([{"op": "test", "path": "/spec/replicas", "value": 3}], "test failed"),
    ([{"op": "add", "path": "/spec/template/spec/containers/x", "value": {}}],
     "'x' is not an array index"),
])
def test_json6902_errors_name_the_operation_and_object(ops, message):
    with pytest.raises(PatchError, match=message) as err:
        run(patch(body=ops))
    assert "json6902 patch of Deployment 'superset'" in str(err.value)
    assert "operation 0" in str(err.value)


# --- strategic merge

def test_strategic_merges_containers_by_name_and_env_by_name():
    (out, _) = run(patch(type_="strategic", body={"spec": {"template": {"spec": {
        "containers": [
            {"name": "superset",
             "env": [{"name": "B", "value": "two"}, {"name": "D", "value": "4"}],
             "readinessProbe": {"periodSeconds": 5}},
            {"name": "sidecar", "image": "busybox:1.36", "args": ["sleep", "inf"]}],
    }}}}))
    containers = out["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["superset", "proxy", "sidecar"]
    main = containers[0]
    assert main["image"] == "apache/superset:4.1"  # kept
    assert main["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "two"},
                           {"name": "D", "value": "4"}]
    assert main["readinessProbe"] == {"httpGet": {"path": "/health", "port": "http"},
                                      "periodSeconds": 5}
    assert main["ports"] == [{"name": "http", "containerPort": 8088}]


def test_strategic_delete_directive_null_and_unkeyed_lists():
    (out, _) = run(patch(type_="strategic", body={
        "metadata": {"labels": {"app": None, "team": "bi"}},
        "spec": {"template": {"spec": {
            "containers": [{"name": "proxy", "$patch": "delete"}],
            "tolerations": [{"key": "b", "operator": "Exists"}]}}}}))
    assert out["metadata"]["labels"] == {"team": "bi"}
    spec = out["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["superset"]
    assert spec["tolerations"] == [{"key": "b", "operator": "Exists"}]  # replaced whole


def test_strategic_service_ports_merge_by_port_and_replace_directive():
    base = copy.deepcopy(SERVICE)
    out = strategic_merge(base, {"spec": {"ports": [{"port": 8088, "nodePort": 30088},
                                                    {"port": 9090, "name": "metrics"}]}})
    assert out["spec"]["ports"] == [
        {"name": "http", "port": 8088, "targetPort": "http", "nodePort": 30088},
        {"port": 9090, "name": "metrics"}]
    out = strategic_merge(base, {"metadata": {"$patch": "replace", "name": "superset"}})
    assert out["metadata"] == {"name": "superset"}


def test_strategic_keyed_item_without_key_is_an_error():
    with pytest.raises(PatchError, match="merge key 'name'"):
        run(patch(type_="strategic", body={"spec": {"template": {"spec": {
            "containers": [{"image": "x"}]}}}}))


# --- selection

def test_a_patch_that_matches_nothing_is_an_error():
    with pytest.raises(PatchError, match=r"1 patch\(es\) match no rendered object: "
                                         r"Deployment 'superset-worker'"):
        run(patch(name="superset-worker", body=[{"op": "remove", "path": "/spec/replicas"}]))
    with pytest.raises(PatchError, match="match no rendered object"):
        run(patch(kind="StatefulSet", body=[{"op": "remove", "path": "/spec/replicas"}]))


def test_namespace_selects_and_defaults_to_the_release_namespace():
    add = [{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}]
    out, svc = run(patch(namespace=NS, body=add), patch(kind="Service", namespace=NS, body=add))
    assert out["metadata"]["annotations"] == svc["metadata"]["annotations"] == {"a": "b"}
    with pytest.raises(PatchError, match="in namespace other"):
        run(patch(namespace="other", body=add))


def test_patches_apply_in_declaration_order():
    (out, _) = run(patch(body=[{"op": "replace", "path": "/spec/replicas", "value": 2}]),
                   patch(body=[{"op": "test", "path": "/spec/replicas", "value": 2},
                               {"op": "replace", "path": "/spec/replicas", "value": 3}]))
    assert out["spec"]["replicas"] == 3


# --- the transform of helm.v4.Chart children

def transform_args(obj: dict, type_: str = "kubernetes:apps/v1:Deployment"):
    return pulumi.ResourceTransformArgs(custom=True, type_=type_, name=f"chart:{NS}/x",
                                        props=copy.deepcopy(obj), opts=pulumi.ResourceOptions())


def test_transform_patches_matching_children_and_checks_at_the_end():
    label = patch(type_="strategic", body={"metadata": {"labels": {"tier": "bi"}}})
    missing = patch(name="gone", body=[{"op": "remove", "path": "/spec"}])
    transform = PatchTransform("superset", [label, missing], NS)
    result = transform(transform_args(DEPLOYMENT))
    assert result.props["metadata"]["labels"] == {"app": "superset", "tier": "bi"}
    assert transform(transform_args(SERVICE, "kubernetes:core/v1:Service")) is None
    # the Chart resource itself (no kind) passes through
    assert transform(transform_args({"chart": "superset"}, "kubernetes:helm.sh/v4:Chart")) \
        is None
    with pytest.raises(PatchError, match="Deployment 'gone'"):
        transform.check()
    ok = PatchTransform("superset", [label], NS)
    ok(transform_args(DEPLOYMENT))
    ok.check()
