"""The analyzer client: the process, the protocol, enforcement levels and policy config."""

from __future__ import annotations

import json
import os

import pytest
from google.protobuf import json_format
from policy_helpers import AWS, STACK, res
from pulumi.runtime import proto

from dataplatform.plan import policy
from dataplatform.plan.policy import (
    PolicyConfigError,
    PolicyPackClient,
    PolicyPackError,
    effective_config,
    read_overrides,
)

pytestmark = pytest.mark.policy

UNPROTECTED_DB = res("aws:rds/instance:Instance", "db", {
    "deletionProtection": False, "storageEncrypted": True, "backupRetentionPeriod": 7,
    "forceDestroy": True}, provider=AWS)
FORCED_BUCKET = res("aws:s3/bucket:Bucket", "b", {"forceDestroy": True}, provider=AWS)


def test_the_pack_process_starts_answers_and_stops():
    with PolicyPackClient() as pack:
        pid = pack.proc.pid
        assert pack.info.name == "dataplatform-guardrails"
        assert pack.info.supportsConfig
        assert pack.startup_seconds < 30
    assert pack.proc is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_pack_that_cannot_start_is_an_error_with_its_message(tmp_path):
    (tmp_path / "__main__.py").write_text("raise SystemExit('no policies here')\n")
    with pytest.raises(PolicyPackError, match="no policies here"), \
            PolicyPackClient(tmp_path, timeout=10):
        pass
    (tmp_path / "__main__.py").write_text("print('hello')\nimport time; time.sleep(30)\n")
    with pytest.raises(PolicyPackError, match="not a port"), \
            PolicyPackClient(tmp_path, timeout=10):
        pass


def test_profile_decides_levels_and_the_file_overrides_them(pack):
    prod = effective_config(pack.info, "prod")
    dev = effective_config(pack.info, "dev")
    assert {c["enforcementLevel"] for c in prod.values()} == {"mandatory"}
    assert {c["enforcementLevel"] for c in dev.values()} == {"advisory"}
    assert dev["bucket-no-force-destroy"]["profile"] == "dev"
    assert prod["cluster-kubernetes-version"]["minimumVersion"] == "1.31"
    assert "https://airflow.apache.org" in prod["chart-repository-allowed"]["allowedRepos"]
    custom = effective_config(pack.info, "dev", {
        "all": "mandatory", "cloud-resource-tags": "advisory",
        "db-backup-retention": {"enforcementLevel": "disabled", "minimumDays": 14}})
    assert custom["bucket-versioning"]["enforcementLevel"] == "mandatory"
    assert custom["cloud-resource-tags"]["enforcementLevel"] == "advisory"
    assert custom["db-backup-retention"] == {"enforcementLevel": "disabled", "minimumDays": 14,
                                             "profile": "dev"}


@pytest.mark.parametrize("overrides, error", [
    ({"no-such-policy": "mandatory"}, "unknown policy 'no-such-policy'"),
    ({"all": "strict"}, "'strict' is not an enforcement level"),
    ({"db-not-public": {"enforcementLevel": "loud"}}, "'loud' is not an enforcement level"),
    ({"db-not-public": 3}, "expected a level or an object"),
])
def test_invalid_policy_config_is_refused(pack, overrides, error):
    with pytest.raises(PolicyConfigError, match=error):
        effective_config(pack.info, "prod", overrides)


def test_configured_levels_reach_the_pack(pack):
    pack.configure(STACK, "prod", {"db-deletion-protection": "disabled",
                                   "bucket-no-force-destroy": "advisory"})
    findings = pack.analyze([AWS, UNPROTECTED_DB, FORCED_BUCKET], STACK)
    assert not [f for f in findings if f["policy"] == "db-deletion-protection"]
    forced = [f for f in findings if f["policy"] == "bucket-no-force-destroy"]
    assert [f["level"] for f in forced] == ["advisory"]


def test_secrets_travel_marked_and_masked():
    wire = policy._wire({"password": "[secret]", "nested": [{"token": "[secret]"}]})
    sig = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    assert wire["password"] == {**sig, "value": "[secret]"}
    assert wire["nested"][0]["token"] == {**sig, "value": "[secret]"}


def test_secret_inputs_analyze_without_error(pack):
    pack.configure(STACK, "prod")
    db = res("aws:rds/instance:Instance", "db", {"password": "[secret]", "deletionProtection":
                                                 True, "storageEncrypted": True,
                                                 "backupRetentionPeriod": 7}, provider=AWS,
             protect=True, retain=True)
    assert pack.analyze([AWS, db], STACK) == []


def test_unknown_values_cannot_be_judged_during_preview(pack):
    pack.configure(STACK, "prod")
    db = res("aws:rds/instance:Instance", "db", {"deletionProtection": "[unknown]",
                                                 "storageEncrypted": True,
                                                 "backupRetentionPeriod": 7}, provider=AWS)
    (finding,) = [f for f in pack.analyze([AWS, db], STACK)
                  if f["policy"] == "db-deletion-protection"]
    assert finding["level"] == "advisory"
    assert "can't be known during preview" in finding["message"]
    assert finding["urn"] == db.urn


def test_retain_on_delete_travels_beside_protect(pack):
    request = pack._resource(res("aws:s3/bucket:Bucket", "b", {}, protect=True), {})
    assert request.options.protect is True
    assert json_format.MessageToDict(request.properties) == {"__retainOnDelete": False}


def _raw_configure(pack, level):
    """Configure levels only, as `pulumi preview` does without a config file."""
    request = proto.ConfigureAnalyzerRequest()
    for name in pack.policies:
        request.policyConfig[name].CopyFrom(proto.PolicyConfig(enforcementLevel=level))
    pack.stub.Configure(request)


def test_under_pulumi_the_pack_reads_the_profile_from_the_stack_config():
    # The Pulumi CLI passes the stack's config to the pack in PULUMI_CONFIG.
    dev = {"PULUMI_CONFIG": json.dumps({"dataplatform:profile": "dev"})}
    with PolicyPackClient(env=dev) as pack:
        assert {p.enforcementLevel for p in pack.info.policies} == {proto.ADVISORY}
        _raw_configure(pack, proto.ADVISORY)
        findings = pack.analyze([AWS, FORCED_BUCKET], STACK)
        assert not [f for f in findings if f["policy"] == "bucket-no-force-destroy"]
    with PolicyPackClient() as pack:  # no stack config: prod, the strictest
        assert {p.enforcementLevel for p in pack.info.policies} == {proto.MANDATORY}
        _raw_configure(pack, proto.MANDATORY)
        findings = pack.analyze([AWS, FORCED_BUCKET], STACK)
        assert [f["level"] for f in findings if f["policy"] == "bucket-no-force-destroy"] == [
            "mandatory"]


def test_overrides_file_lookup(tmp_path, monkeypatch):
    monkeypatch.setattr(policy, "CONFIG_DIR", tmp_path)
    assert read_overrides("aws-finance") == {}
    (tmp_path / "aws-finance.json").write_text('{"all": "advisory"}')
    assert read_overrides("aws-finance") == {"all": "advisory"}
    other = tmp_path / "other.json"
    other.write_text("[1, 2]")
    with pytest.raises(PolicyConfigError, match="expected a JSON object"):
        read_overrides("aws-finance", other)
    other.write_text("{not json")
    with pytest.raises(PolicyConfigError, match="cannot read policy config"):
        read_overrides("aws-finance", other)
