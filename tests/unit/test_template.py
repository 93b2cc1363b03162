"""`Pulumi.yaml`'s `template:` (what `pulumi new` asks) agrees with the config model."""

import json
from pathlib import Path

import pytest
import yaml
from pydantic_core import PydanticUndefined

from dataplatform._onboarding_template import template_config, template_section
from foundation.config.stack import StackConfig

pytestmark = pytest.mark.unit

PULUMI_YAML = Path(__file__).resolve().parents[2] / "Pulumi.yaml"
REGENERATE = "regenerate it: python -m dataplatform._onboarding_template --write"


def fields_by_key():
    return {f"dataplatform:{f.alias or n}": f for n, f in StackConfig.model_fields.items()}


def shipped_template() -> dict:
    return yaml.safe_load(PULUMI_YAML.read_text())["template"]


def test_pulumi_yaml_template_is_generated_from_the_model():
    assert shipped_template()["config"] == template_config(), REGENERATE
    assert yaml.safe_load(template_section())["template"] == shipped_template(), REGENERATE


def test_each_template_key_is_a_model_field_with_its_description_and_default():
    fields = fields_by_key()
    for key, entry in shipped_template()["config"].items():
        assert key in fields, f"{key} is not a key of the config model"
        field = fields[key]
        assert entry["description"].startswith(field.description), key
        if field.default not in (PydanticUndefined, None):
            assert entry["default"] == field.default, key
        else:  # the quickstart's answer, a stand-in the plan flags, or the empty region
            assert "default" in entry, f"{key}: `pulumi new --yes` would have no answer"


def test_every_required_key_is_asked():
    required = {k for k, f in fields_by_key().items() if f.is_required()}
    assert required <= set(shipped_template()["config"])


def test_length_hints_match_the_model():
    config = shipped_template()["config"]
    assert "(at most 16 characters)" in config["dataplatform:customer"]["description"]
    for n, ok in ((16, True), (17, False)):
        data = {"customer": "c" * n, "environment": "dev", "profile": "dev", "cloud": "local",
                "kind": "platform", "owner": "o", "costCenter": "c",
                "cluster": {"kubeContext": "kind-x"}}
        try:
            StackConfig.model_validate(data)
            assert ok, n
        except ValueError:
            assert not ok, n


def test_the_templates_defaults_make_a_stack_that_plans(tmp_path, capsys):
    """What `pulumi new --yes` writes: every key at its default. It validates and plans on
    the default context, and the plan flags the stand-in owner and cost center."""
    from dataplatform.cli import main

    config = {key: entry["default"] for key, entry in shipped_template()["config"].items()}
    (tmp_path / "Pulumi.fresh.yaml").write_text(yaml.safe_dump({"config": config}))
    code = main(["plan", "fresh", "--stacks-dir", str(tmp_path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    plan = json.loads(out)
    (provider,) = [r for r in plan["resources"] if r["type"] == "pulumi:providers:kubernetes"]
    assert provider["inputs"]["context"] == "kind-demo"
    assert "cluster.kubeContext unset" in err and "kind create cluster --name demo" in err
    assert "owner 'changeme' is a placeholder" in err
    assert "costCenter 'cc-unassigned' is a placeholder" in err
