"""Prometheus' promtool, run on the alert rules as the project renders them.

The rule templates (monitoring/rules/<family>.yaml) are not rule files: `%{name}`
placeholders are filled per domain (components/observability/_rules.py). So the case files
(monitoring/rules/tests/<family>.test.yaml, promtool's unit-test format without
`rule_files`) are run against the family rendered for one fixed sample domain, `SCOPE`:
`render_family` writes it to a folder, `run_cases` writes the case file beside it with
`rule_files` naming it, and runs `promtool test rules`.

promtool is found through `$DATAPLATFORM_PROMTOOL`, then PATH, then the copy .ci/run
unpacks into .tools/. Where none runs, the tests that need it skip with `GET_HINT`, unless
`$DATAPLATFORM_REQUIRE_PROMTOOL=1` (CI): then they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.observability._content import RULES_DIR
from components.observability._rules import FEATURES, RuleScope, render_groups, rule_templates
from foundation.config.monitoring import AlertThresholds

REPO = Path(__file__).resolve().parents[1]
CASES_DIR = RULES_DIR / "tests"
PROMTOOL_ENV = "DATAPLATFORM_PROMTOOL"
REQUIRE_ENV = "DATAPLATFORM_REQUIRE_PROMTOOL"
CACHED = REPO / ".tools" / "prometheus" / "usr" / "bin" / "promtool"
GET_HINT = ("get it as .ci/run does: `apt-get download prometheus && dpkg -x prometheus_*.deb "
            ".tools/prometheus` (Debian/Ubuntu; or any promtool on PATH, or "
            f"${PROMTOOL_ENV}=/path/to/promtool)")

SCOPE = RuleScope(
    domain="marketing", namespaces=("acme-marketing-dev",), features=FEATURES,
    project="acme-marketing-dev", thresholds=AlertThresholds(), notify="domain",
    runbook_url="docs/runbooks/alerts.md")
"""The sample domain every case file is written for: default thresholds, every `requires`
component present, its own receivers (`notify: domain`)."""


def find_promtool() -> str | None:
    """The promtool to run: `$DATAPLATFORM_PROMTOOL` (which must exist), PATH, .tools/."""
    if configured := os.environ.get(PROMTOOL_ENV):
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("promtool") or (str(CACHED) if os.access(CACHED, os.X_OK) else None)


def promtool() -> str:
    """The promtool path; skips the calling test (fails it in CI) when there is none."""
    found = find_promtool()
    if found:
        return found
    configured = os.environ.get(PROMTOOL_ENV)
    what = (f"${PROMTOOL_ENV}={configured} is not an executable" if configured
            else "promtool is not installed")
    message = f"{what}: the alert rules' promtool unit tests did not run; {GET_HINT}"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"${REQUIRE_ENV}=1 and {message}", pytrace=False)
    pytest.skip(f"!!! {message}")


def skip_count(skipped: Any) -> int:
    """How many of the suite's skipped reports are promtool's (for its summary)."""
    from chart_data import skip_reason

    return sum("the alert rules' promtool unit tests did not run" in skip_reason(r)
               for r in skipped)


def families() -> dict[str, dict[str, Any]]:
    """Rule template files by stem (`ingestion` for monitoring/rules/ingestion.yaml)."""
    return {Path(t["file"]).stem: t for t in rule_templates()}


def rendered_group(stem: str) -> dict[str, Any]:
    """The family's rule group as `SCOPE`'s PrometheusRule carries it."""
    name = f"{SCOPE.domain}-{families()[stem]['family']}"
    (group,) = [g for g in render_groups(SCOPE) if g["name"] == name]
    return group


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the expressions) as literal blocks: a failing run's files read
    like the templates."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=200)


def render_family(stem: str, folder: Path) -> Path:
    """Write the family's rendered rule file (promtool's format) into `folder`."""
    path = folder / f"{stem}.rules.yaml"
    path.write_text(dump({"groups": [rendered_group(stem)]}))
    return path


def case_file(stem: str) -> Path:
    return CASES_DIR / f"{stem}.test.yaml"


def load_cases(stem: str) -> dict[str, Any]:
    data = yaml.safe_load(case_file(stem).read_text())
    assert isinstance(data, dict), f"{case_file(stem)}: not a mapping"
    return data


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], capture_output=True, text=True, timeout=120)


def run_cases(stem: str, cases: dict[str, Any], folder: Path
              ) -> subprocess.CompletedProcess[str]:
    """`promtool test rules` of `cases` (a case file's content) against the rendered family."""
    rules = render_family(stem, folder)
    test = folder / f"{stem}.test.yaml"
    test.write_text(dump({"rule_files": [rules.name], **cases}))
    return run("test", "rules", str(test))
