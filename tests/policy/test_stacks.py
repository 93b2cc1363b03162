"""The shipped stacks pass the pack; broken copies of the prod example fail `plan`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from receivers import with_receivers
from stackdir import SHIPPED_STACKS, shipped_examples

from dataplatform import cli
from dataplatform.plan import engine
from dataplatform.plan.policy import check_plan
from foundation.layout import REPO_ROOT

pytestmark = pytest.mark.policy

REPO = REPO_ROOT


@pytest.mark.parametrize("stack", shipped_examples())
def test_every_shipped_stack_passes_its_mandatory_policies(shipped_plan, pack, stack):
    findings = check_plan(shipped_plan(stack, SHIPPED_STACKS), SHIPPED_STACKS, pack=pack)
    assert not [f for f in findings if f["level"] == "mandatory"], findings


def _old_dedicated_cluster(stacks, stack: str, profile: str) -> None:
    """aws-finance on a cluster of its own, with an old Kubernetes and only the audit log:
    the stack model allows it, the guardrails do not."""
    cfg = stacks.on_own_cluster(stacks.shipped("aws-finance"), version="1.29",
                                publicAccessCidrs=["203.0.113.0/24"], aws={"logTypes": ["audit"]},
                                autoscaling={"enabled": False})  # its image follows 1.33
    cfg.update(profile=profile)
    stacks.write(stack, with_receivers(cfg))


def test_a_broken_prod_stack_makes_plan_exit_1_naming_the_policies(stacks):
    _old_dedicated_cluster(stacks, "aws-finance", "prod")
    proc = subprocess.run([sys.executable, "-m", "dataplatform.cli", "plan", "aws-finance",
                           "--stacks-dir", str(stacks.path)], capture_output=True, text=True,
                          cwd=REPO)
    assert proc.returncode == 1, proc.stderr
    assert "[mandatory] cluster-kubernetes-version: " in proc.stdout
    assert "[mandatory] cluster-logging: " in proc.stdout
    assert "older than the supported minimum 1.31" in proc.stdout


def test_the_same_violation_in_dev_is_advisory_and_exits_0(stacks, capsys):
    _old_dedicated_cluster(stacks, "finance-dev", "dev")
    assert cli.main(["plan", "finance-dev", "--stacks-dir", str(stacks.path), "--json"]) == 0
    findings = json.loads(capsys.readouterr().out)["policy"]
    assert {f["policy"] for f in findings} == {"cluster-kubernetes-version", "cluster-logging"}
    assert {f["level"] for f in findings} == {"advisory"}


def _public_bucket_and_deletable_db(monkeypatch):
    """What the stack model cannot express, done to the resources as they register (the
    pack analyses each one then, as the engine does)."""
    real = engine.RecordingMonitor.record

    def broken(self, r):
        if r.type.endswith(":BucketPublicAccessBlock") and r.name.endswith("raw-public-access-block"):
            r.inputs.update(blockPublicPolicy=False, restrictPublicBuckets=False)
        if r.type == "aws:rds/instance:Instance":
            r.inputs["deletionProtection"] = False
        real(self, r)

    monkeypatch.setattr(engine.RecordingMonitor, "record", broken)


def test_a_public_bucket_or_a_deletable_database_fails_a_prod_plan(stacks, monkeypatch, capsys):
    _public_bucket_and_deletable_db(monkeypatch)
    assert cli.main(["plan", "aws-finance", "--stacks-dir", str(stacks.path), "--json"]) == 1
    findings = json.loads(capsys.readouterr().out)["policy"]
    assert {(f["policy"], f["level"]) for f in findings} == {
        ("bucket-public-access-blocked", "mandatory"), ("db-deletion-protection", "mandatory"),
        ("bucket-no-public-grants", "mandatory")}
    (grant,) = [f for f in findings if f["policy"] == "bucket-no-public-grants"]
    assert grant["urn"].endswith("raw-public-access-block")  # the block itself, too
    assert "leaves blockPublicPolicy, restrictPublicBuckets off" in grant["message"]
    (public,) = [f for f in findings if f["policy"] == "bucket-public-access-blocked"]
    assert public["urn"].endswith("aws:s3/bucket:Bucket::acme-finance-prod-lake-raw")
    assert "blockPublicPolicy, restrictPublicBuckets not true" in public["message"]


def test_the_same_mutation_on_a_dev_stack_is_advisory(stacks, monkeypatch, capsys):
    cfg = stacks.shipped("aws-finance")
    cfg.update(profile="dev")
    stacks.write("aws-finance", cfg)
    _public_bucket_and_deletable_db(monkeypatch)
    assert cli.main(["plan", "aws-finance", "--stacks-dir", str(stacks.path)]) == 0
    out = capsys.readouterr().out
    assert "[advisory] bucket-public-access-blocked: " in out
    assert "[mandatory]" not in out


def test_a_policy_config_file_can_waive_or_raise_levels(stacks, tmp_path, capsys):
    _old_dedicated_cluster(stacks, "aws-finance", "prod")
    waiver = tmp_path / "waiver.json"
    waiver.write_text(json.dumps({"cluster-kubernetes-version": {"minimumVersion": "1.29"},
                                  "cluster-logging": "advisory"}))
    args = ["plan", "aws-finance", "--stacks-dir", str(stacks.path)]
    assert cli.main([*args, "--policy-config", str(waiver)]) == 0
    assert "[advisory] cluster-logging" in capsys.readouterr().out
    _old_dedicated_cluster(stacks, "finance-dev", "dev")
    strict = tmp_path / "strict.json"
    strict.write_text('{"all": "mandatory"}')
    assert cli.main(["plan", "finance-dev", "--stacks-dir", str(stacks.path),
                     "--policy-config", str(strict)]) == 1


def test_an_invalid_policy_config_file_exits_2(stacks, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"bucket-versioning": "loud"}')
    assert cli.main(["plan", "local", "--policy-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.json" in err and "'loud' is not an enforcement level" in err


def test_no_policy_skips_the_pack(stacks, capsys):
    _old_dedicated_cluster(stacks, "aws-finance", "prod")
    assert cli.main(["plan", "aws-finance", "--stacks-dir", str(stacks.path),
                     "--no-policy"]) == 0
    assert "Policy findings: none" in capsys.readouterr().out


def test_a_pack_that_fails_fails_the_plan(monkeypatch, tmp_path, capsys):
    from dataplatform.plan import policy

    (tmp_path / "__main__.py").write_text("raise SystemExit('broken pack')\n")
    monkeypatch.setattr(policy, "PACK_DIR", tmp_path)
    assert cli.main(["plan", "local"]) == 1
    assert "policy pack failed, the plan is not checked: " in capsys.readouterr().err
