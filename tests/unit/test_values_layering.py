"""Values layering: files, profile, stack overrides, computed values, in that order."""

import pulumi
import pytest
import yaml

from components._values import deep_merge, layered_values, static_values

pytestmark = pytest.mark.unit


def test_maps_merge_deeply_lists_replace_null_deletes():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1, "e": {"f": 1}}
    over = {"a": {"c": [3]}, "d": None, "e": {"g": 2}}
    assert deep_merge(base, over) == {"a": {"b": 1, "c": [3]}, "e": {"f": 1, "g": 2}}
    assert base["a"]["c"] == [1, 2], "inputs are not mutated"


def test_a_scalar_can_replace_a_map_and_back():
    assert deep_merge({"a": {"b": 1}}, {"a": 2}) == {"a": 2}
    assert deep_merge({"a": 2}, {"a": {"b": 1}}) == {"a": {"b": 1}}


@pytest.fixture
def values_dir(tmp_path):
    app = tmp_path / "demo"
    app.mkdir()
    (app / "values.yaml").write_text(yaml.safe_dump(
        {"layer": "file", "file": 1, "image": {"tag": "1.0", "pullPolicy": "IfNotPresent"},
         "list": ["file"], "profileOnly": None}))
    (app / "dev.yaml").write_text(yaml.safe_dump(
        {"layer": "profile", "profile": 1, "image": {"tag": "1.1"}, "list": ["profile"]}))
    (app / "prod.yaml").write_text(yaml.safe_dump({"layer": "prod"}))
    return tmp_path


def test_layer_order_is_file_profile_stack(values_dir):
    merged = static_values("demo", "dev", {"layer": "stack", "stack": 1}, values_dir)
    assert merged == {"layer": "stack", "file": 1, "profile": 1, "stack": 1,
                      "image": {"tag": "1.1", "pullPolicy": "IfNotPresent"},
                      "list": ["profile"],
                      # kept, so Helm removes the chart's own default of that key
                      "profileOnly": None}
    assert static_values("demo", "prod", {}, values_dir)["layer"] == "prod"


def test_missing_files_are_empty_layers(tmp_path):
    assert static_values("absent", "dev", {"a": 1}, tmp_path) == {"a": 1}


def test_a_values_file_must_hold_a_mapping(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "values.yaml").write_text("- a list\n")
    with pytest.raises(ValueError, match="must hold a mapping"):
        static_values("bad", "dev", {}, tmp_path)


@pytest.mark.usefixtures("mock_engine")
@pulumi.runtime.test
def test_computed_values_come_last_and_may_be_outputs(values_dir):
    computed = {"layer": "computed", "image": {"tag": pulumi.Output.from_input("2.0")}}
    out = layered_values("demo", "dev", {"layer": "stack"}, computed, values_dir)

    def check(v):
        assert v["layer"] == "computed"
        assert v["image"] == {"tag": "2.0", "pullPolicy": "IfNotPresent"}
        assert v["profile"] == 1

    return out.apply(check)


def test_a_null_is_kept_so_helm_removes_the_chart_default():
    from components._values import layer

    merged = layer({"config": {"a.yml": "x", "keep": 1}}, {"config": {"a.yml": None}})
    assert merged == {"config": {"a.yml": None, "keep": 1}}
    assert layer({}, {"config": {"b.yml": None}}) == {"config": {"b.yml": None}}
