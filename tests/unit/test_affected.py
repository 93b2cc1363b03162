"""`dataplatform affected`: each rule, on throw-away git repositories with real commits."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dataplatform import cli
from dataplatform.affected import affected_stacks, stacks_at
from foundation.config.loader import STACKS_DIR

pytestmark = pytest.mark.unit

SHIPPED = ["aws-finance", "aws-platform", "gcp-marketing", "gcp-platform", "local"]


class Repo:
    """A git repository holding the shipped stacks plus a few test stacks."""

    def __init__(self, path: Path):
        self.path = path
        self.git("init", "-q", "-b", "main")
        (path / "stacks").mkdir()
        for stack in SHIPPED:  # a fixed set: other shipped stacks may come and go
            shutil.copy(STACKS_DIR / f"Pulumi.{stack}.yaml", path / "stacks")
        self.stack("local-metabase", {**self.config("local"), "domain": "sales",
                                      "apps": {"metabase": {"enabled": True}}})
        self.stack("gcp-bare", {**self.config("gcp-platform"), "environment": "qa",
                                "apps": {"argocd": {"enabled": False}},
                                "monitoring": {"enabled": False}})
        for f in ("charts-values/metabase/values.yaml", "charts-values/argo-cd/values.yaml",
                  "components/x.py", "docs/a.md", "README.md", "policies/guardrails/x.py",
                  ".github/workflows/ci.yml", "tests/unit/test_x.py", "pyproject.toml"):
            self.write(f, "a: 1\n")
        self.commit("base")
        self.git("checkout", "-q", "-b", "change")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.path), "-c", "user.name=t", "-c",
                               "user.email=t@example.com", "-c", "commit.gpgsign=false",
                               *args], check=True, capture_output=True, text=True).stdout

    def write(self, rel: str, text: str) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def config(self, stack: str) -> dict:
        data = yaml.safe_load((self.path / "stacks" / f"Pulumi.{stack}.yaml").read_text())
        return {k.split(":", 1)[1]: v for k, v in data["config"].items()}

    def stack(self, name: str, config: dict) -> None:
        body = {"config": {f"dataplatform:{k}": v for k, v in config.items()}}
        self.write(f"stacks/Pulumi.{name}.yaml", yaml.safe_dump(body, sort_keys=False))

    def commit(self, message: str = "change") -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)

    def into_base(self) -> None:
        """Commit the work tree and make it part of `main` (no longer part of the change)."""
        self.commit()
        self.git("checkout", "-q", "main")
        self.git("merge", "-q", "--ff-only", "change")
        self.git("checkout", "-q", "change")

    def touch(self, *paths: str) -> list[str]:
        for p in paths:
            self.write(p, ((self.path / p).read_text() if (self.path / p).exists() else "")
                       + "# changed\n")
        self.commit()
        return affected_stacks(self.path, "main").names()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template")
    Repo(path)
    return path


@pytest.fixture
def repo(template, tmp_path) -> Repo:
    """A fresh copy of the template repository, on branch `change`."""
    shutil.copytree(template, tmp_path / "repo")
    r = Repo.__new__(Repo)
    r.path = tmp_path / "repo"
    return r


ALL = ["aws-platform", "gcp-bare", "gcp-platform", "aws-finance", "gcp-marketing", "local",
       "local-metabase"]


def test_docs_workflows_and_tests_affect_nothing(repo):
    assert repo.touch("docs/a.md", "README.md", "docs/new-runbook.md",
                      ".github/workflows/ci.yml", "tests/unit/test_x.py") == []


def test_a_platform_stack_affects_itself_then_its_domains(repo):
    assert repo.touch("stacks/Pulumi.aws-platform.yaml") == ["aws-platform", "aws-finance"]


def test_a_domain_stack_affects_only_itself(repo):
    assert repo.touch("stacks/Pulumi.gcp-marketing.yaml") == ["gcp-marketing"]


def test_app_values_affect_the_stacks_enabling_the_app(repo):
    assert repo.touch("charts-values/metabase/values.yaml") == [
        "aws-finance", "gcp-marketing", "local", "local-metabase"]
    # Argo CD runs in the cluster owners; a changed platform re-previews its domains.
    assert repo.touch("charts-values/argo-cd/values.yaml") == [
        "aws-platform", "gcp-platform", "aws-finance", "gcp-marketing", "local",
        "local-metabase"]


def test_argocd_values_affect_cluster_owners_with_argocd(repo):
    # gcp-bare disables Argo CD; local is a dedicated domain, so it runs its own.
    assert repo.touch("charts-values/argo-cd/dev.yaml") == [
        "aws-platform", "gcp-platform", "local", "local-metabase"]


def test_monitoring_values_affect_cluster_owners_with_monitoring(repo):
    assert repo.touch("charts-values/kube-prometheus-stack/values.yaml") == [
        "aws-platform", "gcp-platform", "local", "local-metabase"]


def test_minio_values_affect_local_domains(repo):
    assert repo.touch("charts-values/minio/values.yaml") == ["local", "local-metabase"]


def test_postgres_values_affect_domains_with_an_in_cluster_database(repo):
    # aws-finance (prod) uses RDS, the dev domains in-cluster Postgres
    assert repo.touch("charts-values/postgres/dev.yaml") == [
        "gcp-marketing", "local", "local-metabase"]


def test_an_extra_apps_values_affect_the_stacks_listing_it(repo):
    repo.stack("local-bi", {**repo.config("local"), "domain": "bi", "apps": {
        "allowedRepos": ["https://apache.github.io/superset"],
        "extra": [{"name": "superset", "repo": "https://apache.github.io/superset",
                   "chart": "superset", "version": "0.15.5"}]}})
    repo.into_base()
    assert repo.touch("charts-values/superset/values.yaml") == ["local-bi"]


def test_an_unknown_values_folder_affects_every_stack(repo):
    assert repo.touch("charts-values/something-new/values.yaml") == ALL


@pytest.mark.parametrize("path", ["components/x.py", "policies/guardrails/x.py",
                                  "pyproject.toml", "Pulumi.yaml", "charts.lock.yaml",
                                  "__main__.py", "foundation/naming.py",
                                  "profiles/eks.yaml", "some/unknown/file.txt"])
def test_code_and_shared_files_affect_every_stack(repo, path):
    assert repo.touch(path) == ALL


def test_a_stacks_policy_config_affects_that_stack(repo):
    assert repo.touch("policies/config/no-such-stack.json") == []
    # base...head: the earlier commit of the branch still counts
    assert repo.touch("policies/config/aws-finance.json") == ["aws-finance"]


def test_a_deleted_stack_is_removed_not_planned(repo):
    (repo.path / "stacks" / "Pulumi.gcp-platform.yaml").unlink()
    repo.commit()
    result = affected_stacks(repo.path, "main")
    assert result.removed == ["gcp-platform"]
    # its domain now fails to load: it is planned, and its plan will say why
    assert result.names() == ["gcp-marketing"]


def test_a_renamed_stack_is_one_removed_and_one_new(repo):
    repo.git("mv", "stacks/Pulumi.local.yaml", "stacks/Pulumi.local2.yaml")
    repo.commit()
    result = affected_stacks(repo.path, "main")
    assert (result.names(), result.removed) == (["local2"], ["local"])


def test_an_invalid_stack_is_kept_wherever_it_might_belong(repo):
    repo.stack("broken", {**repo.config("local"), "kind": "platfrom"})
    repo.into_base()
    assert repo.touch("charts-values/metabase/values.yaml") == [
        "aws-finance", "broken", "gcp-marketing", "local", "local-metabase"]
    (entry,) = [e for e in affected_stacks(repo.path, "main").as_json()["matrix"]["include"]
                if e["stack"] == "broken"]
    assert entry == {"stack": "broken", "kind": "platfrom", "cloud": "local",
                     "profile": "dev", "region": ""}


def test_only_commits_since_the_merge_base_count(repo):
    repo.touch("docs/a.md")
    repo.git("checkout", "-q", "main")
    repo.touch("components/x.py")  # a later commit on main, not part of the change
    repo.git("checkout", "-q", "change")
    assert affected_stacks(repo.path, "main").names() == []


def test_cli_text_json_matrix_and_filters(repo, capsys, monkeypatch):
    repo.touch("stacks/Pulumi.aws-platform.yaml", "stacks/Pulumi.local.yaml")
    monkeypatch.chdir(repo.path)
    assert cli.main(["affected", "--base", "main"]) == 0
    assert capsys.readouterr().out.split() == ["aws-platform", "aws-finance", "local"]
    assert cli.main(["affected", "--base", "main", "--head", "change", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["stacks"] == ["aws-platform", "aws-finance", "local"]
    assert doc["matrix"]["include"][0] == {"stack": "aws-platform", "kind": "platform",
                                           "cloud": "aws", "profile": "prod",
                                           "region": "eu-west-1"}
    assert doc["reasons"]["aws-finance"] == ["stacks/Pulumi.aws-platform.yaml"]
    assert cli.main(["affected", "--base", "main", "--json", "--kind", "domain",
                     "--cloud", "aws,gcp"]) == 0
    assert json.loads(capsys.readouterr().out)["stacks"] == ["aws-finance"]
    assert cli.main(["affected", "--all", "--cloud", "local"]) == 0
    assert capsys.readouterr().out.split() == ["local", "local-metabase"]


def test_cli_reports_removed_stacks_on_stderr(repo, capsys, monkeypatch):
    (repo.path / "stacks" / "Pulumi.local.yaml").unlink()
    repo.commit()
    monkeypatch.chdir(repo.path)
    assert cli.main(["affected", "--base", "main"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "removed (not planned): local" in err


def test_cli_bad_ref_or_arguments_exit_2(repo, capsys):
    assert cli.main(["affected", "--base", "no-such-ref", "--repo", str(repo.path)]) == 2
    assert "no-such-ref" in capsys.readouterr().err
    assert cli.main(["affected", "--repo", str(repo.path)]) == 2
    assert cli.main(["affected", "--all", "--base", "main", "--repo", str(repo.path)]) == 2


@pytest.mark.parametrize(("flag", "value", "listed"), [
    ("--kind", "platfrom", "did you mean 'platform'? (valid: platform, domain)"),
    ("--kind", "platform,bogus", "unknown value 'bogus' (valid: platform, domain)"),
    ("--cloud", "azure", "unknown value 'azure' (valid: aws, gcp, local)"),
    ("--cloud", "aws,gpc", "did you mean 'gcp'? (valid: aws, gcp, local)"),
    ("--cloud", "", "give at least one value (valid: aws, gcp, local)"),
])
def test_cli_an_unknown_filter_value_exits_2_listing_the_valid_ones(repo, capsys, flag,
                                                                    value, listed):
    """A filter no stack can match would print nothing and pass: CI would deploy nothing."""
    code = cli.main(["affected", "--all", flag, value, "--repo", str(repo.path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"affected {flag}: ") and err.rstrip().endswith(listed)


def test_the_project_itself_is_a_valid_input():
    """The real checkout: every stack committed in stacks/ at HEAD (the shipped examples, or
    what a consultant left of them), platform stacks first."""
    repo = Path(__file__).resolve().parents[2]
    if not (repo / ".git").exists():
        pytest.skip("not a git checkout")
    names = affected_stacks(repo, None).names()
    committed = subprocess.run(["git", "ls-tree", "--name-only", "HEAD", "stacks/"], cwd=repo,
                               capture_output=True, text=True, check=True).stdout.split()
    assert set(names) == {Path(p).name[len("Pulumi."):-len(".yaml")] for p in committed
                          if Path(p).name.startswith("Pulumi.") and p.endswith(".yaml")}
    at_head = stacks_at(repo, "HEAD")
    kinds = [at_head[n].kind for n in names]
    assert kinds == sorted(kinds, key=lambda k: k != "platform")


def test_example_stacks_are_previewed_but_not_deployed(repo, capsys, monkeypatch):
    """`example: true` keeps a stack out of `--deployable` (the deploy workflow's call),
    not out of the preview; a stack opts in by dropping the flag."""
    repo.stack("demo", {**repo.config("local"), "domain": "demo", "example": True})
    repo.stack("real", {**repo.config("local"), "domain": "real", "example": False})
    repo.commit()
    monkeypatch.chdir(repo.path)
    assert cli.main(["affected", "--base", "main"]) == 0
    assert {"demo", "real"} <= set(capsys.readouterr().out.split())
    assert cli.main(["affected", "--base", "main", "--deployable"]) == 0
    deployable = capsys.readouterr().out.split()
    assert "real" in deployable and "demo" not in deployable


def test_the_deploy_workflow_deploys_only_deployable_stacks():
    text = (Path(__file__).resolve().parents[2] / ".github" / "workflows" / "deploy.yml"
            ).read_text()
    calls = [line for line in text.splitlines() if "dataplatform affected" in line
             and "--kind" in line]
    assert calls, "the deploy workflow no longer selects stacks with dataplatform affected"
    block = text[text.index(calls[0]):text.index(calls[0]) + 200]
    assert "--deployable" in block
