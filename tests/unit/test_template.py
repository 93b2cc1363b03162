"""`Pulumi.yaml`'s `template:` (what `pulumi new` asks) agrees with the config model."""

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
        if field.default in (PydanticUndefined, None):
            assert "default" not in entry, f"{key}: the model has no default"
        else:
            assert entry["default"] == field.default, key


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
