"""S3Lake and GcsLake under the Pulumi mock engine: the buckets, their guardrails, the rules.

A recording monitor sees what the engine sees, resource options included (protect,
retain_on_delete, dependencies, provider), not just the inputs the mocks receive.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockMonitor
from pydantic import ValidationError
from receivers import with_receivers

from components.cloud_provider import cloud_provider
from components.storage.gcs import KMS_ROTATION, GcsLake, GcsLakeArgs
from components.storage.minio import MinioStorageArgs
from components.storage.s3 import S3Lake, S3LakeArgs
from dataplatform.plan import _mocks_lake
from dataplatform.plan.mocks import ACCOUNT_ID, PlatformMocks
from dataplatform.resolve import site
from dataplatform.resolve.domain import lake
from foundation.config.stack import StackConfig
from foundation.config.storage import StorageConfig
from foundation.naming import LAKE_ZONES

pytestmark = pytest.mark.unit

PROJECT = "acme-data-dev"
S3 = "aws:s3/bucket:Bucket"
GCS = "gcp:storage/bucket:Bucket"
AWS_KEY, AWS_ALIAS = "aws:kms/key:Key", "aws:kms/alias:Alias"
RING, CRYPTO_KEY = "gcp:kms/keyRing:KeyRing", "gcp:kms/cryptoKey:CryptoKey"
KEY_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
S3_SETTINGS = {
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
}
KEY_ARN = re.compile(rf"^arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/[0-9a-f]{{8}}(-[0-9a-f]{{4}}){{3}}"
                     r"-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Registration:
    type: str
    name: str
    inputs: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    dependencies: tuple[str, ...]
    provider: str
    parent: str


class RecordingMonitor(MockMonitor):
    """The mock monitor, recording each registration with its resource options."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.registered: list[Registration] = []

    def RegisterResource(self, request):
        # super() first: it sets up the event loop that deserialising resource refs needs.
        response = super().RegisterResource(request)
        self.registered.append(Registration(
            request.type, request.name, rpc.deserialize_properties(request.object),
            request.protect, request.retainOnDelete, tuple(request.dependencies),
            request.provider, request.parent))
        return response

    def of(self, typ: str) -> list[Registration]:
        return [r for r in self.registered if r.type == typ]

    def one(self, typ: str) -> Registration:
        found = self.of(typ)
        assert len(found) == 1, f"expected one {typ}, got {len(found)}"
        return found[0]

    def named(self, name: str) -> Registration:
        return next(r for r in self.registered if r.name == name)

    def urn(self, name: str) -> str:
        reg = self.named(name)
        return next(u for u in self.resources if u.endswith(f"{reg.type}::{name}"))


@pytest.fixture
def engine():
    mocks = PlatformMocks()
    original_call = mocks.call

    def call(args: pulumi.runtime.MockCallArgs):
        result, failures = original_call(args)
        # MockMonitor iterates the failures: PlatformMocks.call's None breaks it.
        return result, failures or []

    mocks.call = call
    monitor = RecordingMonitor(mocks)
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="dataplatform", stack="t", preview=True,
                             monitor=monitor)
    yield monitor
    settings.ROOT.set(None)


def config(cloud: str, profile: str, **storage: Any) -> StackConfig:
    return StackConfig.model_validate(with_receivers({
        "customer": "acme", "kind": "domain", "domain": "marketing",
        "environment": profile, "profile": profile, "cloud": cloud,
        "region": "eu-west-1" if cloud == "aws" else "europe-west1",
        **({"gcpProject": PROJECT} if cloud == "gcp" else {}),
        "cluster": {"mode": "dedicated"}, "owner": "data-team", "costCenter": "cc-1234",
        "storage": storage,
    }))


def deploy(cfg: StackConfig) -> dict[str, Any]:
    """Build the provider and the lake of `cfg`; return the lake's resolved outputs."""
    out: dict[str, Any] = {}
    attrs = (("buckets", "bucket_arns", "kms_key_arn") if cfg.cloud == "aws"
             else ("buckets", "bucket_urls", "kms_key_id"))

    @pulumi.runtime.test
    def run():
        provider = cloud_provider("stack", site(cfg), pulumi.ResourceOptions())
        opts = pulumi.ResourceOptions(providers=[provider])
        args = lake(cfg, site(cfg))
        component = (S3Lake("lake", args, opts) if isinstance(args, S3LakeArgs)
                     else GcsLake("lake", args, opts))

        async def collect():
            for attr in attrs:
                out[attr] = await getattr(component, attr).future()

        return pulumi.Output.from_input(collect())

    run()
    return out


def names(profile: str) -> dict[str, str]:
    return {z: f"acme-marketing-{profile}-{z}" for z in LAKE_ZONES}


def by_bucket(monitor: RecordingMonitor, typ: str) -> dict[str, dict[str, Any]]:
    """Inputs of the per-bucket settings of type `typ`, keyed by bucket name."""
    found = {r.inputs["bucket"]: r.inputs for r in monitor.of(typ)}
    assert len(found) == len(monitor.of(typ)), f"two {typ} for one bucket"
    return found


def lake_children(monitor: RecordingMonitor) -> list[Registration]:
    return [r for r in monitor.registered if r.parent.endswith("::lake")]


# AWS ----------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_s3_buckets_and_their_guardrails(engine, profile):
    out = deploy(config("aws", profile))
    expected = names(profile)
    buckets = engine.of(S3)
    assert sorted(b.inputs["bucket"] for b in buckets) == sorted(expected.values())
    assert {b.name for b in buckets} == {f"lake-{z}" for z in LAKE_ZONES}
    assert out["buckets"] == expected
    assert out["bucket_arns"] == {z: f"arn:aws:s3:::{n}" for z, n in expected.items()}
    assert all(b.inputs["forceDestroy"] is False for b in buckets)
    # Tags come from the provider, never from the resources.
    assert all("tags" not in r.inputs for r in lake_children(engine))
    assert all("stack-aws" in r.provider for r in lake_children(engine))

    for typ in S3_SETTINGS:  # one of each per bucket, on that bucket
        assert set(by_bucket(engine, typ)) == set(expected.values()), typ
    for inputs in by_bucket(engine, "aws:s3/bucketVersioning:BucketVersioning").values():
        assert inputs["versioningConfiguration"]["status"] == "Enabled"
    for inputs in by_bucket(engine, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
                            ).values():
        assert all(inputs[f] is True for f in ("blockPublicAcls", "blockPublicPolicy",
                                               "ignorePublicAcls", "restrictPublicBuckets"))
    for inputs in by_bucket(engine, "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
                            ).values():
        assert inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_s3_policy_denies_requests_without_tls(engine, profile):
    deploy(config("aws", profile))
    for bucket, inputs in by_bucket(engine, "aws:s3/bucketPolicy:BucketPolicy").items():
        (statement,) = json.loads(inputs["policy"])["Statement"]
        arn = f"arn:aws:s3:::{bucket}"
        assert statement["Effect"] == "Deny"
        assert statement["Principal"] == "*"
        assert statement["Action"] == "s3:*"
        assert sorted(statement["Resource"]) == [arn, f"{arn}/*"]
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_s3_lifecycle_expires_logs_and_noncurrent_versions(engine, profile):
    deploy(config("aws", profile, logsRetentionDays=14, noncurrentVersionRetentionDays=60))
    rules = by_bucket(engine,
                      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    for zone, bucket in names(profile).items():
        enabled = [r for r in rules[bucket]["rules"] if r["status"] == "Enabled"]
        noncurrent = [r for r in enabled if "noncurrentVersionExpiration" in r]
        assert [r["noncurrentVersionExpiration"]["noncurrentDays"] for r in noncurrent] == [60]
        assert noncurrent[0]["filter"] == {}, "the noncurrent rule covers every object"
        expiring = [r for r in enabled if "expiration" in r]
        if zone == "logs":
            assert [r["expiration"]["days"] for r in expiring] == [14]
            assert expiring[0]["filter"] == {}
        else:
            assert expiring == [], f"current objects of {zone} must never expire"


def test_s3_dev_uses_sse_s3_and_is_not_protected(engine):
    out = deploy(config("aws", "dev"))
    assert engine.of(AWS_KEY) == [] and out["kms_key_arn"] is None
    for inputs in by_bucket(engine, "aws:s3/bucketServerSideEncryptionConfiguration:"
                            "BucketServerSideEncryptionConfiguration").values():
        (rule,) = inputs["rules"]
        assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    children = lake_children(engine)
    assert children and all(not r.protect and not r.retain_on_delete for r in children)


def test_s3_prod_encrypts_with_a_rotating_kms_key_and_protects_everything(engine):
    out = deploy(config("aws", "prod"))
    key = engine.one(AWS_KEY)
    assert key.inputs["enableKeyRotation"] is True
    assert KEY_ARN.match(out["kms_key_arn"]), out["kms_key_arn"]
    alias = engine.one(AWS_ALIAS)
    assert alias.inputs["name"] == "alias/acme-marketing-prod-lake"
    for inputs in by_bucket(engine, "aws:s3/bucketServerSideEncryptionConfiguration:"
                            "BucketServerSideEncryptionConfiguration").values():
        (rule,) = inputs["rules"]
        assert rule["applyServerSideEncryptionByDefault"] == {
            "sseAlgorithm": "aws:kms", "kmsMasterKeyId": out["kms_key_arn"]}
        assert rule["bucketKeyEnabled"] is True
    for reg in [*engine.of(S3), key]:
        assert reg.protect and reg.retain_on_delete, reg.name
    # Settings are retained too, so a retained bucket keeps its guardrails.
    assert all(r.retain_on_delete for r in lake_children(engine))
    assert all(b.inputs["forceDestroy"] is False for b in engine.of(S3))


def test_s3_prod_with_a_key_of_your_own(engine):
    arn = f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    out = deploy(config("aws", "prod", kmsKeyArn=arn))
    assert engine.of(AWS_KEY) == [] and engine.of(AWS_ALIAS) == []
    assert out["kms_key_arn"] == arn
    for inputs in by_bucket(engine, "aws:s3/bucketServerSideEncryptionConfiguration:"
                            "BucketServerSideEncryptionConfiguration").values():
        assert inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == arn


def test_s3_policy_waits_for_the_public_access_block(engine):
    deploy(config("aws", "dev"))
    policy = engine.named("lake-raw-tls-only")
    assert engine.urn("lake-raw-public-access-block") in policy.dependencies


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_allow_teardown_force_destroys_only_in_dev(engine, cloud):
    deploy(config(cloud, "dev", allowTeardown=True))
    buckets = engine.of(S3 if cloud == "aws" else GCS)
    assert len(buckets) == len(LAKE_ZONES)
    assert all(b.inputs["forceDestroy"] is True for b in buckets)


# GCP ----------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_gcs_buckets_and_their_guardrails(engine, profile):
    out = deploy(config("gcp", profile, logsRetentionDays=14, noncurrentVersionRetentionDays=60))
    expected = names(profile)
    buckets = {b.inputs["name"]: b for b in engine.of(GCS)}
    assert sorted(buckets) == sorted(expected.values())
    assert out["buckets"] == expected
    assert out["bucket_urls"] == {z: f"gs://{n}" for z, n in expected.items()}
    for zone, name in expected.items():
        inputs = buckets[name].inputs
        assert inputs["uniformBucketLevelAccess"] is True
        assert inputs["publicAccessPrevention"] == "enforced"
        assert inputs["versioning"] == {"enabled": True}
        assert inputs["location"] == "europe-west1" and inputs["project"] == PROJECT
        assert inputs["forceDestroy"] is False
        assert "labels" not in inputs  # the provider's default labels carry them
        deletes = [r["condition"] for r in inputs["lifecycleRules"]
                   if r["action"] == {"type": "Delete"}]
        noncurrent = [c for c in deletes if c.get("withState") == "ARCHIVED"]
        assert [c["daysSinceNoncurrentTime"] for c in noncurrent] == [60]
        live = [c for c in deletes if c.get("withState") != "ARCHIVED"]
        if zone == "logs":
            assert live == [{"age": 14, "withState": "LIVE"}]
        else:
            assert live == [], f"live objects of {zone} must never be deleted"
    assert all("stack-gcp" in r.provider for r in lake_children(engine))


def test_gcs_dev_uses_google_managed_keys_and_is_not_protected(engine):
    out = deploy(config("gcp", "dev"))
    assert out["kms_key_id"] is None
    assert not {RING, CRYPTO_KEY, KEY_MEMBER} & {r.type for r in engine.registered}
    assert all("encryption" not in b.inputs for b in engine.of(GCS))
    children = lake_children(engine)
    assert children and all(not r.protect and not r.retain_on_delete for r in children)


def test_gcs_prod_uses_cmek_the_storage_agent_can_use(engine):
    out = deploy(config("gcp", "prod"))
    ring, key, member = engine.one(RING), engine.one(CRYPTO_KEY), engine.one(KEY_MEMBER)
    assert ring.inputs["location"] == "europe-west1" and ring.inputs["project"] == PROJECT
    assert key.inputs["rotationPeriod"] == KMS_ROTATION
    key_id = out["kms_key_id"]
    assert key_id == (f"projects/{PROJECT}/locations/europe-west1/keyRings/"
                      f"acme-marketing-prod-lake/cryptoKeys/lake")
    assert member.inputs["cryptoKeyId"] == key_id
    assert member.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    agent = _mocks_lake.CALLS["gcp:storage/getProjectServiceAccount:getProjectServiceAccount"](
        {"project": PROJECT})["emailAddress"]
    assert re.fullmatch(r"service-\d{12}@gs-project-accounts\.iam\.gserviceaccount\.com", agent)
    assert member.inputs["member"] == f"serviceAccount:{agent}"
    grant = engine.urn(member.name)
    for bucket in engine.of(GCS):
        assert bucket.inputs["encryption"] == {"defaultKmsKeyName": key_id}
        assert grant in bucket.dependencies, "the bucket must wait for the key grant"
        assert bucket.inputs["forceDestroy"] is False
    for reg in [*engine.of(GCS), ring, key]:
        assert reg.protect and reg.retain_on_delete, reg.name
    assert member.retain_on_delete


def test_gcs_prod_with_a_key_of_your_own(engine):
    name = "projects/sec/locations/europe-west1/keyRings/lakes/cryptoKeys/marketing"
    out = deploy(config("gcp", "prod", kmsKeyName=name))
    assert not {RING, CRYPTO_KEY, KEY_MEMBER} & {r.type for r in engine.registered}
    assert out["kms_key_id"] == name
    assert all(b.inputs["encryption"] == {"defaultKmsKeyName": name} for b in engine.of(GCS))


# Rules --------------------------------------------------------------------------------


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_prod_refuses_allow_teardown(cloud):
    # Refused by the stack model when the file is read...
    with pytest.raises(ValidationError, match=r"storage\.allowTeardown"):
        config(cloud, "prod", allowTeardown=True)
    # ...and again by the lake's Args for a config that slipped past it.
    cfg = config(cloud, "dev", allowTeardown=True).model_copy(update={"profile": "prod"})
    with pytest.raises(ValueError, match=r"storage\.allowTeardown"):
        lake(cfg, site(cfg))


def test_storage_rules_for_the_stack_config():
    storage = StorageConfig.model_validate({"allowTeardown": True})
    (problem,) = storage.rule_violations("prod", "aws", "eu-west-1")
    assert problem[0] == "storage.allowTeardown" and "prod" in problem[1]
    assert storage.rule_violations("dev", "aws", "eu-west-1") == []


def test_args_refuse_teardown_in_prod_even_without_config():
    with pytest.raises(ValueError, match=r"storage\.allowTeardown"):
        S3LakeArgs(base="acme-marketing-prod", buckets=names("prod"), profile="prod",
                   allow_teardown=True)
    assert S3LakeArgs(base="b", buckets=names("dev"), profile="dev",
                      allow_teardown=True).force_destroy
    assert not S3LakeArgs(base="b", buckets=names("prod"), profile="prod").force_destroy


@pytest.mark.parametrize(("cloud", "storage", "key"), [
    ("gcp", {"kmsKeyArn": f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/abc"}, "storage.kmsKeyArn"),
    ("aws", {"kmsKeyName": "projects/p/locations/eu-west-1/keyRings/r/cryptoKeys/k"},
     "storage.kmsKeyName"),
    ("gcp", {"kmsKeyName": "projects/p/locations/us-east1/keyRings/r/cryptoKeys/k"},
     "storage.kmsKeyName"),
])
def test_keys_of_your_own_must_fit_the_cloud(cloud, storage, key):
    # A stack-model rule: StackConfig.model_validate refuses it.
    with pytest.raises(ValidationError, match=re.escape(key)):
        config(cloud, "prod", **storage)


def test_storage_config_defaults_and_validation():
    s = config("aws", "dev").storage
    assert (s.allow_teardown, s.logs_retention_days, s.noncurrent_version_retention_days,
            s.kms_key_arn, s.kms_key_name) == (False, 30, 30, None, None)
    for bad in ({"logsRetentionDays": 0}, {"kmsKeyArn": "not-an-arn"},
                {"kmsKeyName": "lake-key"}, {"allow_teardown": True}):
        with pytest.raises(ValueError):
            config("aws", "dev", **bad)


def test_the_lake_follows_the_cloud():
    # The resolve step picks the lake by cloud: S3 on aws, GCS on gcp, MinIO on local.
    aws = config("aws", "dev")
    s3 = lake(aws, site(aws))
    assert type(s3) is S3LakeArgs
    assert s3.buckets == names("dev")
    gcp = config("gcp", "dev")
    gcs = lake(gcp, site(gcp))
    assert type(gcs) is GcsLakeArgs
    assert (gcs.project, gcs.location, gcs.buckets) == (PROJECT, "europe-west1", names("dev"))
    local = StackConfig.model_validate({
        "customer": "acme", "kind": "domain", "domain": "marketing", "environment": "dev",
        "profile": "dev", "cloud": "local", "cluster": {"mode": "dedicated",
                                                         "kubeContext": "kind-dev"},
        "owner": "data-team", "costCenter": "cc-1234"})
    assert type(lake(local, site(local))) is MinioStorageArgs


# Mocks --------------------------------------------------------------------------------


def test_mock_outputs_are_realistic_and_deterministic():
    tables = PlatformMocks().outputs
    bucket = tables[S3]({"bucket": "acme-marketing-dev-raw"}, "lake-raw")
    assert bucket["id"] == "acme-marketing-dev-raw"
    assert bucket["arn"] == "arn:aws:s3:::acme-marketing-dev-raw"
    assert bucket["bucketRegionalDomainName"] == (
        "acme-marketing-dev-raw.s3.eu-west-1.amazonaws.com")
    key = tables[AWS_KEY]({"enableKeyRotation": True}, "lake-kms-key")
    assert KEY_ARN.match(key["arn"]) and key["arn"].endswith(key["keyId"])
    assert key == tables[AWS_KEY]({"enableKeyRotation": True}, "lake-kms-key")
    gcs = tables[GCS]({"name": "acme-marketing-dev-raw", "project": PROJECT}, "lake-raw")
    assert gcs["url"] == "gs://acme-marketing-dev-raw"
    assert gcs["selfLink"].endswith("/b/acme-marketing-dev-raw")
    ring = tables[RING]({"name": "r", "location": "europe-west1", "project": PROJECT}, "x")
    assert ring["id"] == f"projects/{PROJECT}/locations/europe-west1/keyRings/r"
    crypto = tables[CRYPTO_KEY]({"name": "lake", "keyRing": ring["id"]}, "y")
    assert crypto["id"] == f"{ring['id']}/cryptoKeys/lake"
    call = PlatformMocks().calls[
        "gcp:storage/getProjectServiceAccount:getProjectServiceAccount"]
    assert call({"project": PROJECT}) == call({"project": PROJECT})
