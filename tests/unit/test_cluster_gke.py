"""GkeCluster under the Pulumi mock engine: what it creates, and what it refuses."""

from __future__ import annotations

import base64
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime import rpc, settings
from receivers import with_receivers

from components.cloud_provider import cloud_provider
from components.cluster import make_cluster
from components.cluster.gke import GkeCluster, GkeClusterArgs
from dataplatform.plan._mocks_gcp import CALLS
from dataplatform.plan.mocks import PlatformMocks
from dataplatform.resolve import site
from dataplatform.resolve.cluster import cluster_args, gke_args
from foundation.config.stack import StackConfig

pytestmark = pytest.mark.unit

PROJECT = "acme-data-dev"
CLUSTER = "gcp:container/cluster:Cluster"
POOL = "gcp:container/nodePool:NodePool"
KMS_TYPES = {"gcp:kms/keyRing:KeyRing", "gcp:kms/cryptoKey:CryptoKey",
             "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"}
NETWORK_TYPES = {"gcp:compute/network:Network", "gcp:compute/subnetwork:Subnetwork",
                 "gcp:compute/router:Router", "gcp:compute/routerNat:RouterNat"}


class Recorder:
    """What the mock engine was asked to create."""

    def __init__(self):
        self.resources: list[tuple[str, str, dict[str, Any]]] = []
        self.providers: dict[str, str | None] = {}
        self.calls: list[tuple[str, dict[str, Any], str | None]] = []

    def of(self, typ: str) -> list[dict[str, Any]]:
        return [inputs for t, _, inputs in self.resources if t == typ]

    def one(self, typ: str) -> dict[str, Any]:
        found = self.of(typ)
        assert len(found) == 1, f"expected one {typ}, got {len(found)}"
        return found[0]

    @property
    def types(self) -> set[str]:
        return {t for t, _, _ in self.resources}


@pytest.fixture
def rec():
    mocks, recorder = PlatformMocks(), Recorder()
    original, original_call = mocks.new_resource, mocks.call

    def new_resource(args: pulumi.runtime.MockResourceArgs):
        recorder.resources.append((args.typ, args.name, args.inputs))
        recorder.providers[args.name] = args.provider
        return original(args)

    def call(args: pulumi.runtime.MockCallArgs):
        recorder.calls.append((args.token, dict(args.args), args.provider))
        result, failures = original_call(args)
        # Pulumi's MockMonitor iterates the failures: None (PlatformMocks.call) breaks it.
        return result, failures or []

    mocks.new_resource, mocks.call = new_resource, call
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="dataplatform", stack="t", preview=True)
    yield recorder
    settings.ROOT.set(None)


def config(profile: str = "dev", **cluster: Any) -> StackConfig:
    return StackConfig.model_validate(with_receivers({
        "customer": "acme", "kind": "platform", "environment": profile, "profile": profile,
        "cloud": "gcp", "region": "europe-west1", "gcpProject": PROJECT,
        "owner": "data-team", "costCenter": "cc-1234", "cluster": cluster,
    }))


def deploy(cfg: StackConfig) -> dict[str, Any]:
    """Build the provider and a GkeCluster for `cfg`; return its resolved outputs."""
    out: dict[str, Any] = {}

    @pulumi.runtime.test
    def run():
        provider = cloud_provider("stack", site(cfg), pulumi.ResourceOptions())
        gke = GkeCluster("gke", gke_args(cfg),
                         pulumi.ResourceOptions(provider=provider))
        out["gke"] = gke

        async def collect():
            out["kubeconfig_secret"] = await gke.kubeconfig.is_secret()
            for attr in ("name", "endpoint", "workload_pool", "kubeconfig", "oidc_issuer",
                         "node_service_account"):
                out[attr] = await getattr(gke, attr).future()
            h = gke.handle
            out["handle"] = {
                "name": await h.name.future(), "endpoint": await h.endpoint.future(),
                "kube_context": await h.kube_context.future(),
                "oidc_issuer": await h.oidc_issuer.future(),
                "kubeconfig_secret": await h.kubeconfig.is_secret(),
            }

        return collect()

    run()
    return out


# --- what gets created -------------------------------------------------------------------

def test_dev_creates_network_cluster_one_pool_and_no_kms(rec: Recorder):
    deploy(config("dev"))
    assert NETWORK_TYPES | {CLUSTER, POOL, "gcp:serviceaccount/account:Account",
                            "gcp:projects/iAMMember:IAMMember",
                            "pulumi:providers:kubernetes"} <= rec.types
    assert not rec.types & KMS_TYPES
    assert len(rec.of(POOL)) == 1
    # Every child is named after the component and uses the stack's GCP provider.
    children = [(t, n) for t, n, _ in rec.resources if t.startswith("gcp:")]
    assert all(n.startswith("gke-") for _, n in children)
    assert all("::stack-gcp::" in (rec.providers[n] or "") for _, n in children)
    cluster = rec.one(CLUSTER)
    assert cluster["location"] == "europe-west1-b"
    assert cluster["deletionProtection"] is False
    assert "databaseEncryption" not in cluster
    # Labels come from the provider's default_labels, never by hand.
    assert "resourceLabels" not in cluster


def test_vpc_native_network_with_secondary_ranges_and_nat(rec: Recorder):
    deploy(config("dev"))
    assert rec.one("gcp:compute/network:Network")["autoCreateSubnetworks"] is False
    subnet = rec.one("gcp:compute/subnetwork:Subnetwork")
    assert subnet["ipCidrRange"] == "10.40.0.0/16"
    assert subnet["privateIpGoogleAccess"] is True
    assert {r["rangeName"]: r["ipCidrRange"] for r in subnet["secondaryIpRanges"]} == {
        "pods": "10.44.0.0/14", "services": "10.48.0.0/20"}
    nat = rec.one("gcp:compute/routerNat:RouterNat")
    assert nat["subnetworks"][0]["name"] == \
        "projects/acme-data-dev/regions/europe-west1/subnetworks/acme-platform-dev-gke"
    cluster = rec.one(CLUSTER)
    assert cluster["networkingMode"] == "VPC_NATIVE"
    assert cluster["subnetwork"].endswith("/subnetworks/acme-platform-dev-gke")
    assert cluster["ipAllocationPolicy"] == {"clusterSecondaryRangeName": "pods",
                                             "servicesSecondaryRangeName": "services"}


def test_cluster_is_private_hardened_and_follows_a_channel(rec: Recorder):
    deploy(config("dev", publicAccessCidrs=["203.0.113.0/24", "198.51.100.7/32"]))
    c = rec.one(CLUSTER)
    assert c["name"] == "acme-platform-dev"
    assert c["removeDefaultNodePool"] is True and c["initialNodeCount"] == 1
    assert c["privateClusterConfig"]["enablePrivateNodes"] is True
    assert c["privateClusterConfig"]["masterIpv4CidrBlock"] == "172.16.0.0/28"
    assert [b["cidrBlock"] for b in c["masterAuthorizedNetworksConfig"]["cidrBlocks"]] == [
        "203.0.113.0/24", "198.51.100.7/32"]
    assert c["workloadIdentityConfig"] == {"workloadPool": "acme-data-dev.svc.id.goog"}
    assert c["enableShieldedNodes"] is True
    assert c["releaseChannel"] == {"channel": "REGULAR"}
    assert "minMasterVersion" not in c
    assert set(c["loggingConfig"]["enableComponents"]) == {"SYSTEM_COMPONENTS", "WORKLOADS"}
    assert "SYSTEM_COMPONENTS" in c["monitoringConfig"]["enableComponents"]


def test_no_public_access_cidrs_means_no_authorized_network(rec: Recorder):
    deploy(config("dev"))
    assert rec.one(CLUSTER)["masterAuthorizedNetworksConfig"].get("cidrBlocks", []) == []


def test_prod_encrypts_secrets_with_kms_and_protects_the_cluster(rec: Recorder):
    deploy(config("prod", publicAccessCidrs=["203.0.113.0/24"]))
    assert rec.types >= KMS_TYPES
    ring = rec.one("gcp:kms/keyRing:KeyRing")
    assert ring["location"] == "europe-west1"
    key = rec.one("gcp:kms/cryptoKey:CryptoKey")
    assert key["rotationPeriod"] == "7776000s"
    key_id = f"projects/{PROJECT}/locations/europe-west1/keyRings/{ring['name']}/cryptoKeys/" \
             f"{key['name']}"
    grant = rec.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    number = CALLS["gcp:organizations/getProject:getProject"]({"projectId": PROJECT})["number"]
    [(token, call_args, via)] = rec.calls
    assert (token, call_args["projectId"]) == ("gcp:organizations/getProject:getProject", PROJECT)
    assert "::stack-gcp::" in via  # the invoke goes through the stack's provider too
    assert grant["cryptoKeyId"] == key_id
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant["member"] == \
        f"serviceAccount:service-{number}@container-engine-robot.iam.gserviceaccount.com"
    c = rec.one(CLUSTER)
    assert c["databaseEncryption"] == {"state": "ENCRYPTED", "keyName": key_id}
    assert c["deletionProtection"] is True
    assert c["location"] == "europe-west1"  # regional


def test_node_pools_autoscale_autorepair_and_run_hardened(rec: Recorder):
    out = deploy(config("prod"))
    pools = {p["name"]: p for p in rec.of(POOL)}
    assert set(pools) == {"system", "workload"}
    sa = rec.one("gcp:serviceaccount/account:Account")
    assert len(sa["accountId"]) <= 30
    email = f"{sa['accountId']}@{PROJECT}.iam.gserviceaccount.com"
    assert out["node_service_account"] == email
    for pool in pools.values():
        assert pool["autoscaling"]["minNodeCount"] == 1  # per zone
        assert pool["autoscaling"]["maxNodeCount"] >= 2
        assert pool["management"] == {"autoRepair": True, "autoUpgrade": True}
        nc = pool["nodeConfig"]
        assert nc["shieldedInstanceConfig"]["enableSecureBoot"] is True
        assert nc["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
        assert nc["oauthScopes"] == ["https://www.googleapis.com/auth/cloud-platform"]
        assert nc["serviceAccount"] == email
    assert pools["system"]["nodeConfig"]["taints"][0]["effect"] == "NO_SCHEDULE"
    grants = {g["role"]: g["member"] for g in rec.of("gcp:projects/iAMMember:IAMMember")}
    assert {"roles/logging.logWriter", "roles/monitoring.metricWriter"} <= set(grants)
    assert not any("admin" in r.lower() or r.endswith((".editor", ".owner")) for r in grants)
    assert set(grants.values()) == {f"serviceAccount:{email}"}


def test_dev_pool_is_small_and_overrides_apply_to_workload_pools(rec: Recorder):
    deploy(config("dev"))
    pool = rec.one(POOL)
    assert pool["nodeConfig"]["machineType"] == "e2-standard-4"
    assert pool["autoscaling"]["minNodeCount"] == 1
    assert pool["autoscaling"]["maxNodeCount"] == 2

    args = gke_args(config("prod", gcp={"workloadPool": {
        "machineType": "n2-standard-16", "maxNodes": 9}}))
    pools = {p.name: p for p in args.node_pools}
    assert (pools["workload"].machine_type, pools["workload"].min_nodes,
            pools["workload"].max_nodes) == ("n2-standard-16", 1, 9)
    assert pools["system"].machine_type == "e2-standard-4"


def test_outputs_kubeconfig_is_secret_and_handle_is_complete(rec: Recorder):
    out = deploy(config("dev"))
    assert out["kubeconfig_secret"] is True
    assert out["handle"]["kubeconfig_secret"] is True
    assert out["name"] == "acme-platform-dev"
    assert out["endpoint"].startswith("https://34.78.")
    assert out["workload_pool"] == "acme-data-dev.svc.id.goog"
    issuer = ("https://container.googleapis.com/v1/projects/acme-data-dev/locations/"
              "europe-west1-b/clusters/acme-platform-dev")
    assert out["oidc_issuer"] == issuer
    assert out["handle"] == {"name": "acme-platform-dev", "endpoint": out["endpoint"],
                             "kube_context": None, "oidc_issuer": issuer,
                             "kubeconfig_secret": True}
    kc = yaml.safe_load(out["kubeconfig"])
    assert kc["clusters"][0]["cluster"]["server"] == out["endpoint"]
    assert base64.b64decode(kc["clusters"][0]["cluster"]["certificate-authority-data"]) \
        .startswith(b"-----BEGIN CERTIFICATE-----")
    assert kc["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    provider = rec.one("pulumi:providers:kubernetes")
    assert provider["enableServerSideApply"] == "true"
    secret = provider["kubeconfig"]  # reaches the engine as a secret
    assert secret[rpc._special_sig_key] == rpc._special_secret_sig
    assert yaml.safe_load(secret["value"]) == kc


def test_pinned_version_without_channel(rec: Recorder):
    deploy(config("dev", version="1.32", gcp={"releaseChannel": "UNSPECIFIED"}))
    c = rec.one(CLUSTER)
    assert c["releaseChannel"] == {"channel": "UNSPECIFIED"}
    assert c["minMasterVersion"] == "1.32"


def test_existing_network_is_adopted_not_created(rec: Recorder):
    net = f"projects/{PROJECT}/global/networks/shared"
    sub = f"projects/{PROJECT}/regions/europe-west1/subnetworks/gke"
    deploy(config("dev", gcp={"existingNetwork": net, "existingSubnetwork": sub,
                              "podRangeName": "gke-pods"}))
    assert not rec.types & NETWORK_TYPES
    c = rec.one(CLUSTER)
    assert (c["network"], c["subnetwork"]) == (net, sub)
    assert c["ipAllocationPolicy"]["clusterSecondaryRangeName"] == "gke-pods"


def test_factory_builds_gke_for_cloud_gcp(rec: Recorder):
    cfg = config("dev")

    @pulumi.runtime.test
    def run():
        provider = cloud_provider("stack", site(cfg), pulumi.ResourceOptions())
        assert isinstance(make_cluster("cluster", cluster_args(cfg), pulumi.ResourceOptions(
            provider=provider)), GkeCluster)

    run()
    assert ("dataplatform:cluster:GkeCluster", "cluster") in {(t, n) for t, n, _ in
                                                              rec.resources}


# --- what gets refused -------------------------------------------------------------------

def test_prod_refuses_an_open_control_plane(rec: Recorder):
    # The stack model refuses it first; the resolve step (gke_args) refuses it again.
    with pytest.raises(ValueError, match=r"a prod API endpoint may not be open"):
        config("prod", publicAccessCidrs=["10.0.0.0/8", "0.0.0.0/0"])
    cfg = config("dev", publicAccessCidrs=["10.0.0.0/8", "0.0.0.0/0"]).model_copy(
        update={"profile": "prod"})

    @pulumi.runtime.test
    def run():
        with pytest.raises(ValueError, match=r"cluster\.publicAccessCidrs: 0\.0\.0\.0/0 opens "
                                             r"the GKE control plane .* profile 'prod'"):
            make_cluster("gke", cluster_args(cfg), pulumi.ResourceOptions())

    run()
    assert rec.resources == []  # refused before any resource exists


def test_dev_may_open_the_control_plane():
    args = gke_args(config("dev", publicAccessCidrs=["0.0.0.0/0"]))
    assert args.authorized_cidrs == ("0.0.0.0/0",)


def test_pinned_version_and_channel_are_exclusive():
    with pytest.raises(ValueError, match=r"cluster\.version: cluster\.version '1\.32' pins the "
                                         r"GKE version but cluster\.gcp\.releaseChannel is "
                                         r"'STABLE'"):
        gke_args(config("dev", version="1.32", gcp={"releaseChannel": "STABLE"}))
    with pytest.raises(ValueError, match="pinned version and a release channel"):
        GkeClusterArgs(**{**gke_args(config()).__dict__, "version": "1.32"})


def test_default_channel_without_version_is_fine():
    args = gke_args(config("dev"))
    assert (args.release_channel, args.version) == ("REGULAR", None)


@pytest.mark.parametrize(("master", "clash"), [
    ("10.40.3.0/28", "vpcCidr 10.40.0.0/16"),
    ("10.45.0.16/28", "podCidr 10.44.0.0/14"),
    ("10.48.1.0/28", "serviceCidr 10.48.0.0/20"),
])
def test_master_cidr_must_not_overlap_cluster_ranges(master: str, clash: str):
    with pytest.raises(ValueError, match=rf"cluster\.gcp\.masterIpv4Cidr: {master} overlaps "
                                         rf"cluster\.network\.{clash}"):
        gke_args(config("dev", gcp={"masterIpv4Cidr": master}))


def test_master_cidr_must_be_a_slash_28():
    with pytest.raises(ValueError, match=r"'172\.16\.0\.0/24' must be an IPv4 /28"):
        config("dev", gcp={"masterIpv4Cidr": "172.16.0.0/24"})


def test_existing_network_needs_its_subnetwork():
    with pytest.raises(ValueError, match="existingSubnetwork: set both existingNetwork and "
                                         "existingSubnetwork, or neither"):
        config("dev", gcp={"existingNetwork": "shared"})


def test_release_channel_values_are_checked():
    with pytest.raises(ValueError, match="releaseChannel"):
        config("dev", gcp={"releaseChannel": "EXTENDED"})


def test_pool_overrides_min_must_not_exceed_max():
    with pytest.raises(ValueError, match="minNodes 3 is greater than maxNodes 2"):
        config("dev", gcp={"workloadPool": {"minNodes": 3, "maxNodes": 2}})
    # Against the profile's maximum (dev: 2) the rule is cross-section.
    with pytest.raises(ValueError, match=r"cluster\.gcp\.workloadPool: node pool 'default': "
                                         "minNodes 3 is greater than maxNodes 2"):
        gke_args(config("dev", gcp={"workloadPool": {"minNodes": 3}}))


def test_gcp_names_must_start_with_a_letter():
    cfg = config("dev").model_copy(update={"customer": "1acme"})
    with pytest.raises(ValueError, match="customer: GCP resource names must start with a "
                                         "letter: '1acme-platform-dev'"):
        gke_args(cfg)
