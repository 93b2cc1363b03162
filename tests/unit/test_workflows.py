"""The GitHub workflows and the Renovate config: lint, structure, and the contract with
`dataplatform affected` (flags, matrix fields)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dataplatform import cli
from dataplatform.affected import StackInfo
from foundation.layout import LOCK_FILE

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
LONG_LIVED = ("aws-access-key-id", "aws-secret-access-key", "AWS_ACCESS_KEY_ID",
              "AWS_SECRET_ACCESS_KEY", "credentials_json", "GOOGLE_CREDENTIALS",
              "service_account_key", "GOOGLE_APPLICATION_CREDENTIALS")


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def on(doc: dict) -> dict:
    return doc.get("on", doc.get(True))  # YAML 1.1 reads the bare key `on` as true


def steps(job: dict, uses: str) -> list[dict]:
    return [s for s in job["steps"] if s.get("uses", "").startswith(uses + "@")]


def test_both_workflows_exist():
    assert [f.name for f in FILES] == ["deploy.yml", "preview.yml"]


def actionlint() -> str | None:
    return shutil.which("actionlint") or next(
        (str(p) for p in [Path(sys.executable).parent / "actionlint"] if p.exists()), None)


def test_actionlint_passes():
    binary = actionlint()
    if binary is None:
        pytest.skip("actionlint is not installed (pip install -e '.[dev]' on Linux x86_64, or '.[actionlint]'; its build "
                    "downloads the binary from GitHub, so CI's preview job runs it)")
    proc = subprocess.run([binary, "-no-color", *map(str, FILES)], capture_output=True,
                          text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_actions_are_pinned_and_keys_are_short_lived(path):
    text = path.read_text()
    for ref in re.findall(r"uses:\s*(\S+)", text):
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+|[0-9a-f]{40})", ref), \
            f"{path.name}: {ref} is not pinned to a major version or a commit SHA"
    assert not [k for k in LONG_LIVED if k in text], "cloud credentials must come from OIDC"
    doc = yaml.safe_load(text)
    assert doc["permissions"] == {"contents": "read"}, "least privilege by default"
    for name, job in doc["jobs"].items():
        perms = job.get("permissions", {})
        uses_cloud = bool(steps(job, "aws-actions/configure-aws-credentials")
                          or steps(job, "google-github-actions/auth"))
        assert (perms.get("id-token") == "write") == uses_cloud, name
        for step in steps(job, "aws-actions/configure-aws-credentials"):
            assert step["with"]["role-to-assume"].startswith("${{ vars."), name
            assert step["if"] == "matrix.cloud == 'aws'"
        for step in steps(job, "google-github-actions/auth"):
            assert set(step["with"]) == {"workload_identity_provider", "service_account"}
            assert step["if"] == "matrix.cloud == 'gcp'"
        for step in steps(job, "pulumi/actions"):
            w = step["with"]
            assert (w["stack-name"], w["policyPacks"]) == ("${{ matrix.stack }}", "policies")
            # a stack added by the PR does not exist in the backend yet: create it first
            assert w["upsert"] is True, f"{name}: a brand-new stack would fail"
            assert "PULUMI_BACKEND_URL" in w["cloud-url"]
            assert "PULUMI_BACKEND_URL" in job["env"]["PULUMI_BACKEND_URL"]
            assert "stack" in job["concurrency"]["group"], f"{name}: concurrency per stack"


def test_preview_on_pull_requests():
    doc = load("preview.yml")
    assert "pull_request" in on(doc) and "pull_request_target" not in on(doc)
    jobs = doc["jobs"]
    checks = jobs["checks"]
    text = yaml.safe_dump(checks)
    # job 1 needs nothing a fork lacks
    assert "secrets." not in text and "vars." not in text and "permissions" not in checks
    runs = " ".join(s.get("run", "") for s in checks["steps"])
    for cmd in ("ruff check", "pytest", "dataplatform plan --affected"):
        assert cmd in runs, cmd
    # the offline plan is one batch, not a process per stack
    assert "for stack in" not in runs
    preview = jobs["preview"]
    assert set(preview["needs"]) == {"checks", "affected"}
    assert "head.repo.full_name == github.repository" in preview["if"]
    assert preview["permissions"] == {"contents": "read", "id-token": "write",
                                      "pull-requests": "write"}
    assert preview["strategy"]["matrix"] == "${{ fromJSON(needs.affected.outputs.matrix) }}"
    (pulumi,) = steps(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert "matrix.stack" in preview["concurrency"]["group"]


def test_deploy_on_push_to_main_platform_before_domains_prod_behind_an_environment():
    doc = load("deploy.yml")
    assert on(doc)["push"]["branches"] == ["main"]
    jobs = doc["jobs"]
    assert jobs["platform"]["needs"] == "affected"
    assert set(jobs["domain"]["needs"]) == {"affected", "platform"}
    assert "needs.platform.result == 'success'" in jobs["domain"]["if"]
    for kind in ("platform", "domain"):
        job = jobs[kind]
        assert job["strategy"]["matrix"] == \
            f"${{{{ fromJSON(needs.affected.outputs.{kind}-matrix) }}}}"
        assert job["environment"] == "${{ matrix.profile }}", "prod: required reviewers"
        assert job["concurrency"] == {"group": "deploy-${{ matrix.stack }}",
                                      "cancel-in-progress": False}
        (pulumi,) = steps(job, "pulumi/actions")
        assert pulumi["with"]["command"] == "up"


def cli_calls() -> list[list[str]]:
    """Every `dataplatform …` call of the workflows, variables replaced by placeholders."""
    calls = []
    for path in FILES:
        text = re.sub(r"\\\n\s*", " ", path.read_text())
        for m in re.finditer(r"\.venv/bin/dataplatform ([^|\n)]+)", text):
            line = m.group(1).replace('"${range[@]}"', "--all")
            line = re.sub(r'"\$\{?\w+\}?"', "X", line).split(">>")[0]
            calls.append(shlex.split(line))
    return calls


def test_workflow_cli_calls_parse():
    calls = cli_calls()
    assert len(calls) >= 4
    for args in calls:
        cli.parser().parse_args(args)


def test_matrix_fields_used_exist_in_the_affected_matrix():
    entry = StackInfo("x", None, {"dataplatform:kind": "domain"}).matrix_entry()
    for path in FILES:
        used = set(re.findall(r"matrix\.(\w+)", path.read_text()))
        assert used <= set(entry), f"{path.name}: {used - set(entry)}"


# --- Renovate

def renovate() -> dict:
    return json.loads((REPO / "renovate.json").read_text())


def test_renovate_bumps_the_chart_lock_and_python_dependencies():
    conf = renovate()
    assert {"custom.regex", "pep621"} <= set(conf["enabledManagers"])
    helm, oci = conf["customManagers"]
    assert (helm["datasourceTemplate"], oci["datasourceTemplate"]) == ("helm", "docker")
    found: dict[str, tuple[str, str]] = {}
    for manager in (helm, oci):
        pattern = manager["managerFilePatterns"][0].strip("/")
        assert re.fullmatch(pattern, LOCK_FILE.name)
        # Renovate's regexes are ECMAScript: named groups are (?<name>…), Python's (?P<name>…)
        (match_string,) = manager["matchStrings"]
        regex = re.compile(match_string.replace("(?<", "(?P<"))
        for m in regex.finditer(LOCK_FILE.read_text()):
            assert m["depName"] not in found, f"{m['depName']}: matched by both managers"
            repo = m["registryUrl"] if manager is helm else f"oci://{m['registry']}"
            found[m["depName"]] = (repo, m["currentValue"])
    # every pin, each once: a comment after `<chart>:` would hide it from Renovate
    lock = yaml.safe_load(LOCK_FILE.read_text())["charts"]
    assert found == {name: (c["repo"], str(c["version"])) for name, c in lock.items()}
