"""ESC `environment:` imports: named by the offline plan, never silently ignored."""

from __future__ import annotations

import pytest

from dataplatform import cli
from foundation.config import ConfigError, load_stack_config

pytestmark = pytest.mark.unit


def _with_environment(stacks, name: str, environment) -> None:
    stacks.write(name, stacks.shipped("local"))
    path = stacks.path / f"Pulumi.{name}.yaml"
    path.write_text(path.read_text() + f"environment: {environment}\n")


@pytest.mark.parametrize("environment", ["[acme/common, acme/dev]",
                                         "{imports: [acme/common, acme/dev]}"])
def test_the_plan_says_it_did_not_open_the_imported_environments(stacks, capsys, environment):
    _with_environment(stacks, "esc", environment)
    code = cli.main(["plan", "esc", "--no-policy", "--stacks-dir", str(stacks.path)])
    err = capsys.readouterr().err
    assert code == 0, err
    [line] = [x for x in err.splitlines() if "Pulumi ESC" in x]
    assert "acme/common, acme/dev" in line and "cannot open them" in line
    assert line.startswith(str(stacks.path / "Pulumi.esc.yaml")) or "Pulumi.esc.yaml" in line


def test_no_notice_without_imports(stacks, capsys):
    stacks.write("plain", stacks.shipped("local"))
    assert cli.main(["plan", "plain", "--no-policy", "--stacks-dir", str(stacks.path)]) == 0
    assert "Pulumi ESC" not in capsys.readouterr().err


@pytest.mark.parametrize("environment", ["acme/dev", "[1, 2]", "{env: [a]}"])
def test_a_malformed_environment_key_is_a_config_error(stacks, environment):
    _with_environment(stacks, "esc-bad", environment)
    with pytest.raises(ConfigError) as info:
        load_stack_config("esc-bad", stacks.path)
    assert [p.key for p in info.value.problems] == ["environment"]
