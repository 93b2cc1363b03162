"""Config secrets: accepted only in encrypted form, read back as secret Outputs.

Under `pulumi up` the CLI decrypts `{secure: ...}` values; the offline plan never can, so
it hands the program a placeholder per secret key, marked secret like the real engine does.
"""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from foundation.config.loader import STACKS_DIR, parse_stack_config
from foundation.config.secrets import PLACEHOLDER, config_secret, offline_config

pytestmark = pytest.mark.unit

CIPHER = "v1:Zm9vYmFy:c2VjcmV0"


def local_with(**extra) -> dict:
    data = yaml.safe_load((STACKS_DIR / "Pulumi.local.yaml").read_text())
    data["config"].update({f"dataplatform:{k}": v for k, v in extra.items()})
    return data


WAREHOUSE = {"type": "postgres", "host": "wh.internal", "database": "analytics",
             "user": "dbt", "password": {"secure": CIPHER}}


def test_secret_value_keeps_only_the_ciphertext() -> None:
    cfg = parse_stack_config(local_with(warehouse=WAREHOUSE), "x.yaml")
    assert cfg.warehouse.password.secure == CIPHER
    assert cfg.warehouse.effective_port == 5432


def test_offline_config_replaces_each_secret_with_a_placeholder() -> None:
    cfg = parse_stack_config(local_with(warehouse=WAREHOUSE), "x.yaml")
    config, secret_keys = offline_config(cfg)
    assert secret_keys == ["dataplatform:warehouse"]
    warehouse = json.loads(config["dataplatform:warehouse"])
    assert warehouse["password"] == f"{PLACEHOLDER}:warehouse.password"
    assert CIPHER not in json.dumps(config)
    assert config["dataplatform:customer"] == "acme"


def test_a_stack_without_secrets_has_no_secret_keys() -> None:
    cfg = parse_stack_config(local_with(), "x.yaml")
    assert offline_config(cfg)[1] == []


def test_config_secret_is_a_secret_output(mock_engine) -> None:
    cfg = parse_stack_config(local_with(warehouse=WAREHOUSE), "x.yaml")
    pulumi.runtime.set_all_config(*offline_config(cfg))
    out = config_secret("warehouse.password")
    from pulumi.runtime.sync_await import _sync_await

    assert _sync_await(out.is_secret()) is True
    assert _sync_await(out.future()) == f"{PLACEHOLDER}:warehouse.password"


@pytest.mark.parametrize(("value", "fragment"), [
    ("hunter2", "must be a Pulumi secret, not plain text"),
    ({"secure": ""}, "the encrypted value is empty"),
    ({"secure": CIPHER, "extra": 1}, "must be a Pulumi secret"),
])
def test_a_secret_key_refuses_anything_but_ciphertext(value, fragment) -> None:
    from foundation.config import ConfigError

    with pytest.raises(ConfigError) as err:
        parse_stack_config(local_with(warehouse={**WAREHOUSE, "password": value}), "x.yaml")
    assert "dataplatform:warehouse.password" in str(err.value)
    assert fragment in str(err.value)
