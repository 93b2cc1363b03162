"""A stale README fails the tests: its commands and its stack example must hold."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from stackdir import SHIPPED_STACKS

from dataplatform import cli
from foundation.config import parse_stack_config

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
CI = (REPO / ".ci" / "run").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def test_readme_opens_with_setup_plus_plan_then_the_test_command():
    setup, tests = blocks("bash")[:2]
    assert setup.strip().endswith(".venv/bin/dataplatform plan local")
    assert "pip install -e '.[dev]'" in setup
    assert tests.strip() == ".venv/bin/pytest"
    assert tests.strip() in CI.splitlines(), ".ci/run must call the README's test command"


def test_readme_plan_command_runs():
    """The quickstart as a reader runs it: the shipped `local`, not the tests' fixture."""
    if not (SHIPPED_STACKS / "Pulumi.local.yaml").is_file():
        pytest.skip("stacks/Pulumi.local.yaml was deleted: no quickstart stack to plan")
    env = {k: v for k, v in os.environ.items() if k != "DATAPLATFORM_STACKS_DIR"}
    proc = subprocess.run([sys.executable, "-m", "dataplatform.cli", "plan", "local"],
                          capture_output=True, text=True, cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Plan of stack 'local'" in proc.stdout


def test_readme_stack_example_is_valid_config():
    (example,) = [b for b in blocks("yaml") if "dataplatform:customer" in b]
    parse_stack_config(yaml.safe_load(example), "README.md")


def test_readme_mentions_a_mermaid_diagram():
    assert blocks("mermaid")


def test_readme_installs_the_helm_that_render_uses():
    from dataplatform.rendered.helm import LAYER_PIP

    assert f"--no-deps '{LAYER_PIP}'" in blocks("bash")[0]
    assert f"--no-deps '{LAYER_PIP}'" in CI


def test_readme_render_summary_is_current(capsys):
    from dataplatform.rendered.helm import SHARED_CHARTS

    if not SHARED_CHARTS.is_dir():
        pytest.skip("../shared/charts/src is absent: no charts to render the README's summary")
    (shown,) = [b for b in blocks("text") if b.startswith("Render of stack 'local'")]
    code = cli.main(["render", "local"])
    out, err = capsys.readouterr()
    # 1 while the shared airflow chart is the repackage (README says so), else 0.
    assert code == (1 if "Errors (" in out else 0), err
    assert out.strip() == shown.strip()
