"""EksCluster under the Pulumi mock engine: what it creates, and what it refuses."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc, settings
from receivers import with_receivers

from components.cloud_provider import cloud_provider
from components.cluster import make_cluster
from components.cluster.eks import EBS_CSI_SERVICE_ACCOUNT, EksCluster, EksClusterArgs
from components.cluster.local import LocalClusterArgs
from dataplatform.plan.mocks import ACCOUNT_ID, PlatformMocks
from dataplatform.resolve import site
from dataplatform.resolve.cluster import cluster_args, eks_args
from foundation.config import ConfigError, StackConfig, parse_stack_config

pytestmark = pytest.mark.unit

REGION = "eu-west-1"
LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
VPC_ID = "vpc-0123456789abcdef0"
SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]

# Child types of a cluster whose network is created.
NETWORK_TYPES = {
    "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/eip:Eip", "aws:ec2/natGateway:NatGateway", "aws:ec2/routeTable:RouteTable",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
}
CORE_TYPES = {
    "aws:iam/role:Role", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:kms/key:Key", "aws:cloudwatch/logGroup:LogGroup", "aws:eks/cluster:Cluster",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "aws:eks/nodeGroup:NodeGroup",
    "aws:eks/addon:Addon", "pulumi:providers:kubernetes",
    "kubernetes:storage.k8s.io/v1:StorageClass",
    # cluster-autoscaler (tests/unit/test_autoscaling.py): its component, IRSA policy, release
    "dataplatform:cluster:ClusterAutoscaler", "aws:iam/rolePolicy:RolePolicy",
    "dataplatform:apps:HelmApp", "kubernetes:helm.sh/v3:Release",
}


def stack(environment: str = "dev", **extra: Any) -> StackConfig:
    """An aws platform stack, camelCase as in a stack file."""
    return StackConfig.model_validate(with_receivers({
        "customer": "acme", "environment": environment, "profile": environment,
        "cloud": "aws", "kind": "platform", "region": REGION, "owner": "data-team",
        "costCenter": "cc-1234", **extra,
    }))


@dataclass
class Registered:
    typ: str
    name: str
    inputs: dict[str, Any]
    id: str
    outputs: dict[str, Any]
    provider: str | None


@dataclass
class Run:
    resources: list[Registered]
    values: dict[str, Any] = field(default_factory=dict)

    def of(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name: str) -> Registered:
        found = [r for r in self.of(typ) if r.name == name]
        assert len(found) == 1, f"{len(found)} {typ} named {name}"
        return found[0]

    @property
    def children(self) -> list[Registered]:
        return [r for r in self.resources
                if r.typ not in ("pulumi:providers:aws", "dataplatform:cluster:EksCluster")]


def install_mocks() -> list[Registered]:
    """Set PlatformMocks as the engine; return the list every registration lands in."""
    mocks = PlatformMocks()
    recorded: list[Registered] = []
    new_resource = mocks.new_resource

    def recording(args: pulumi.runtime.MockResourceArgs):
        rid, state = new_resource(args)
        recorded.append(Registered(args.typ, args.name, args.inputs, rid, state, args.provider))
        return rid, state

    mocks.new_resource = recording
    settings.ROOT.set(None)  # no Stack resource left over from another test's program
    pulumi.runtime.set_mocks(mocks, project="dataplatform", stack="t", preview=True)
    return recorded


def run(cfg: StackConfig, args: EksClusterArgs | None = None) -> Run:
    """Build the provider and an EksCluster for `cfg`; resolve the component's outputs."""
    result = Run(install_mocks())

    @pulumi.runtime.test
    async def program():
        provider = cloud_provider("t", site(cfg), pulumi.ResourceOptions())
        eks = EksCluster("eks", args or eks_args(cfg),
                         pulumi.ResourceOptions(provider=provider))
        v = result.values
        for attr in ("name", "endpoint", "oidc_issuer", "oidc_provider_arn", "kubeconfig",
                     "vpc_id", "private_subnet_ids"):
            v[attr] = await getattr(eks, attr).future()
        v["kubeconfig_secret"] = await eks.kubeconfig.is_secret()
        v["handle_kubeconfig"] = await eks.handle.kubeconfig.future()
        v["handle_kubeconfig_secret"] = await eks.handle.kubeconfig.is_secret()
        v["handle_kube_context"] = await eks.handle.kube_context.future()
        v["handle_endpoint"] = await eks.handle.endpoint.future()
        v["handle_oidc_issuer"] = await eks.handle.oidc_issuer.future()
        v["handle_provider_urn"] = await eks.handle.provider.urn.future()

    program()
    return result


@pytest.fixture(scope="module")
def dev() -> Run:
    return run(stack("dev"))


@pytest.fixture(scope="module")
def prod() -> Run:
    return run(stack("prod"))


def refused(cfg: StackConfig) -> tuple[str, list[Registered]]:
    """The ValueError message for `cfg`, and what the engine saw meanwhile."""
    recorded = install_mocks()
    message: dict[str, str] = {}

    @pulumi.runtime.test
    def program():
        provider = cloud_provider("t", site(cfg), pulumi.ResourceOptions())
        with pytest.raises(ValueError) as exc:
            EksCluster("eks", eks_args(cfg),
                       pulumi.ResourceOptions(provider=provider))
        message["text"] = str(exc.value)

    program()
    return message["text"], recorded


# --- what gets created -----------------------------------------------------------------


def test_dev_child_types_and_names(dev: Run):
    assert {r.typ for r in dev.children} == NETWORK_TYPES | CORE_TYPES
    assert len(dev.of("dataplatform:cluster:EksCluster")) == 1
    assert all(r.name.startswith("eks-") for r in dev.children)
    assert dev.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["name"] == "acme-platform-dev"
    assert dev.values["name"] == "acme-platform-dev"


def test_child_types_with_own_vpc_create_no_network():
    cfg = stack("dev", cluster={"aws": {"vpcId": VPC_ID, "subnetIds": SUBNETS}})
    r = run(cfg)
    assert {c.typ for c in r.children} == CORE_TYPES
    assert r.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["vpcConfig"]["subnetIds"] \
        == SUBNETS
    assert r.one("aws:eks/nodeGroup:NodeGroup", "eks-ng-workload").inputs["subnetIds"] == SUBNETS
    assert r.values["vpc_id"] == VPC_ID


def test_secrets_encrypted_with_a_rotating_kms_key(dev: Run, prod: Run):
    for r, window in ((dev, 7), (prod, 30)):
        key = r.one("aws:kms/key:Key", "eks-secrets-key")
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["deletionWindowInDays"] == window
        enc = r.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["encryptionConfig"]
        assert enc["resources"] == ["secrets"]
        assert enc["provider"]["keyArn"] == key.outputs["arn"]
        assert key.outputs["arn"].startswith(f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/")


def test_cluster_pins_version_and_uses_access_entries(dev: Run, prod: Run):
    c = dev.one("aws:eks/cluster:Cluster", "eks-cluster").inputs
    assert c["version"] == "1.33"
    assert c["accessConfig"]["authenticationMode"] == "API"
    assert c["kubernetesNetworkConfig"]["serviceIpv4Cidr"] == "10.48.0.0/20"
    assert c["deletionProtection"] is False
    assert prod.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["deletionProtection"] is True


def test_all_control_plane_logs_by_default_with_bounded_retention(dev: Run, prod: Run):
    c = dev.one("aws:eks/cluster:Cluster", "eks-cluster").inputs
    assert c["enabledClusterLogTypes"] == LOG_TYPES
    logs = dev.one("aws:cloudwatch/logGroup:LogGroup", "eks-logs").inputs
    assert logs["name"] == "/aws/eks/acme-platform-dev/cluster"
    assert logs["retentionInDays"] == 7
    assert prod.one("aws:cloudwatch/logGroup:LogGroup", "eks-logs").inputs[
        "retentionInDays"] == 90


def test_log_types_follow_the_config():
    r = run(stack("dev", cluster={"aws": {"logTypes": ["api", "audit"]}}))
    assert r.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["enabledClusterLogTypes"] \
        == ["api", "audit"]


def test_endpoint_is_private_only_without_public_cidrs(dev: Run, prod: Run):
    for r in (dev, prod):
        vpc = r.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["vpcConfig"]
        assert vpc["endpointPrivateAccess"] is True
        assert vpc["endpointPublicAccess"] is False
        assert not vpc.get("publicAccessCidrs")


def test_public_endpoint_only_for_the_listed_cidrs():
    cidrs = ["203.0.113.0/24", "198.51.100.7/32"]
    r = run(stack("prod", cluster={"publicAccessCidrs": cidrs}))
    vpc = r.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["publicAccessCidrs"] == cidrs


def _route_targets(r: Run) -> list[str]:
    return [r.one("aws:ec2/routeTable:RouteTable", f"eks-private-rt-{i}").inputs["routes"][0][
        "natGatewayId"] for i in range(len(r.of("aws:ec2/subnet:Subnet")) // 2)]


def test_dev_network_two_zones_one_nat(dev: Run):
    private = [dev.one("aws:ec2/subnet:Subnet", f"eks-private-{i}") for i in range(2)]
    public = [dev.one("aws:ec2/subnet:Subnet", f"eks-public-{i}") for i in range(2)]
    assert len(dev.of("aws:ec2/subnet:Subnet")) == 4
    assert [s.inputs["availabilityZone"] for s in private] == [f"{REGION}a", f"{REGION}b"]
    assert all(s.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1" for s in private)
    assert all(s.inputs["tags"]["kubernetes.io/role/elb"] == "1" for s in public)
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in public)
    assert dev.one("aws:ec2/vpc:Vpc", "eks-vpc").inputs["cidrBlock"] == "10.40.0.0/16"
    nats = dev.of("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 1
    assert set(_route_targets(dev)) == {nats[0].id}
    assert dev.values["private_subnet_ids"] == [s.id for s in private]
    c = dev.one("aws:eks/cluster:Cluster", "eks-cluster").inputs
    assert c["vpcConfig"]["subnetIds"] == dev.values["private_subnet_ids"]


def test_prod_network_three_zones_nat_per_zone(prod: Run):
    private = [prod.one("aws:ec2/subnet:Subnet", f"eks-private-{i}") for i in range(3)]
    assert [s.inputs["availabilityZone"] for s in private] == [f"{REGION}{z}" for z in "abc"]
    assert len({s.inputs["cidrBlock"] for s in prod.of("aws:ec2/subnet:Subnet")}) == 6
    nats = prod.of("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 3
    assert sorted(_route_targets(prod)) == sorted(n.id for n in nats)


def test_dev_has_one_small_node_group(dev: Run):
    groups = dev.of("aws:eks/nodeGroup:NodeGroup")
    assert [g.inputs["nodeGroupName"] for g in groups] == ["workload"]
    g = groups[0].inputs
    assert g["instanceTypes"] == ["t3.xlarge"]
    assert g["scalingConfig"] == {"minSize": 1, "maxSize": 2, "desiredSize": 1}
    assert g["clusterName"] == "acme-platform-dev"
    assert g["subnetIds"] == dev.values["private_subnet_ids"]


def test_prod_has_system_and_workload_groups_over_three_zones(prod: Run):
    groups = {g.inputs["nodeGroupName"]: g.inputs for g in prod.of("aws:eks/nodeGroup:NodeGroup")}
    assert set(groups) == {"system", "workload"}
    assert groups["system"]["taints"] == [
        {"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}]
    assert groups["workload"]["instanceTypes"] == ["m6i.2xlarge"]
    for g in groups.values():
        assert len(g["subnetIds"]) == 3
        assert g["subnetIds"] == prod.values["private_subnet_ids"]
        assert g["scalingConfig"]["minSize"] >= 3


def test_workload_group_overrides_from_config():
    r = run(stack("prod", cluster={"aws": {
        "nodeInstanceTypes": ["r6i.2xlarge"], "nodeMaxSize": 12, "nodeDesiredSize": 4}}))
    groups = {g.inputs["nodeGroupName"]: g.inputs for g in r.of("aws:eks/nodeGroup:NodeGroup")}
    assert groups["workload"]["instanceTypes"] == ["r6i.2xlarge"]
    assert groups["workload"]["scalingConfig"] == {"minSize": 3, "maxSize": 12,
                                                   "desiredSize": 4}
    assert groups["system"]["instanceTypes"] == ["m6i.large"]  # untouched


def _attached(r: Run, role_name: str) -> set[str]:
    return {a.inputs["policyArn"].rsplit("/", 1)[-1]
            for a in r.of("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if a.inputs["role"] == role_name}


def test_cluster_and_node_roles(dev: Run):
    cluster_role = dev.one("aws:iam/role:Role", "eks-cluster-role")
    assert cluster_role.inputs["name"] == "acme-platform-dev-eks-cluster"
    trust = json.loads(cluster_role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "eks.amazonaws.com"}
    assert _attached(dev, "acme-platform-dev-eks-cluster") == {"AmazonEKSClusterPolicy"}
    c = dev.one("aws:eks/cluster:Cluster", "eks-cluster").inputs
    assert c["roleArn"] == cluster_role.outputs["arn"]

    node_role = dev.one("aws:iam/role:Role", "eks-node-role")
    trust = json.loads(node_role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert _attached(dev, node_role.inputs["name"]) == {
        "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"}
    for g in dev.of("aws:eks/nodeGroup:NodeGroup"):
        assert g.inputs["nodeRoleArn"] == node_role.outputs["arn"]


def test_oidc_provider_from_the_cluster_issuer(dev: Run):
    issuer = dev.values["oidc_issuer"]
    assert re.fullmatch(rf"https://oidc\.eks\.{REGION}\.amazonaws\.com/id/[0-9A-F]{{32}}", issuer)
    oidc = dev.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "eks-oidc")
    assert oidc.inputs["url"] == issuer
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert dev.values["oidc_provider_arn"] == oidc.outputs["arn"]
    assert oidc.outputs["arn"] == (f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/"
                                   f"{issuer.removeprefix('https://')}")


def test_ebs_csi_addon_with_its_own_irsa_role(dev: Run):
    addon = dev.one("aws:eks/addon:Addon", "eks-ebs-csi").inputs
    role = dev.one("aws:iam/role:Role", "eks-ebs-csi-role")
    assert addon["addonName"] == "aws-ebs-csi-driver"
    assert addon["clusterName"] == "acme-platform-dev"
    assert addon["serviceAccountRoleArn"] == role.outputs["arn"]
    assert _attached(dev, role.inputs["name"]) == {"AmazonEBSCSIDriverPolicy"}

    host = dev.values["oidc_issuer"].removeprefix("https://")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Federated": dev.values["oidc_provider_arn"]}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {"StringEquals": {
        f"{host}:sub": "system:serviceaccount:kube-system:ebs-csi-controller-sa",
        f"{host}:aud": "sts.amazonaws.com",
    }}
    assert EBS_CSI_SERVICE_ACCOUNT == "system:serviceaccount:kube-system:ebs-csi-controller-sa"


def test_default_gp3_storage_class_on_the_new_provider(dev: Run, prod: Run):
    sc = dev.one("kubernetes:storage.k8s.io/v1:StorageClass", "eks-gp3")
    assert sc.inputs["metadata"]["name"] == "gp3"
    assert sc.inputs["metadata"]["annotations"] == {
        "storageclass.kubernetes.io/is-default-class": "true"}
    assert sc.inputs["provisioner"] == "ebs.csi.aws.com"
    assert sc.inputs["parameters"]["type"] == "gp3"
    assert sc.inputs["parameters"]["encrypted"] == "true"
    assert sc.inputs["volumeBindingMode"] == "WaitForFirstConsumer"
    assert sc.inputs["reclaimPolicy"] == "Delete"
    # provider reference is `<urn>::<id>`: the component's own Kubernetes provider
    assert sc.provider.split("::")[-2] == "eks-provider"
    assert "pulumi:providers:kubernetes" in sc.provider
    assert prod.one("kubernetes:storage.k8s.io/v1:StorageClass", "eks-gp3").inputs[
        "reclaimPolicy"] == "Retain"


def test_kubeconfig_is_secret_and_uses_aws_eks_get_token(dev: Run):
    v = dev.values
    assert v["kubeconfig_secret"] is True
    assert v["handle_kubeconfig_secret"] is True
    kc = json.loads(v["kubeconfig"])
    cluster = dev.one("aws:eks/cluster:Cluster", "eks-cluster").outputs
    assert kc["clusters"][0]["cluster"] == {
        "server": v["endpoint"],
        "certificate-authority-data": cluster["certificateAuthority"]["data"]}
    exec_ = kc["users"][0]["user"]["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"] == ["eks", "get-token", "--cluster-name", "acme-platform-dev",
                             "--region", REGION, "--output", "json"]
    assert kc["current-context"] == "acme-platform-dev"
    provider = dev.one("pulumi:providers:kubernetes", "eks-provider").inputs
    assert provider["enableServerSideApply"] == "true"
    # the provider receives the kubeconfig still marked secret
    assert provider["kubeconfig"][rpc._special_sig_key] == rpc._special_secret_sig
    assert json.loads(provider["kubeconfig"]["value"]) == kc


def test_handle_exposes_the_cluster(dev: Run):
    v = dev.values
    assert re.fullmatch(rf"https://[0-9A-F]{{32}}\.gr7\.{REGION}\.eks\.amazonaws\.com",
                        v["endpoint"])
    assert v["handle_endpoint"] == v["endpoint"]
    assert v["handle_oidc_issuer"] == v["oidc_issuer"]
    assert v["handle_kubeconfig"] == v["kubeconfig"]
    assert v["handle_kube_context"] is None
    assert v["handle_provider_urn"].endswith("pulumi:providers:kubernetes::eks-provider")


def test_node_groups_and_zones_come_from_the_profiles_file(tmp_path):
    profiles = tmp_path / "eks.yaml"
    profiles.write_text(
        "dev:\n  zones: 3\n  natGatewayPerZone: false\n  logRetentionDays: 14\n"
        "  nodeGroups:\n    - name: workload\n      instanceTypes: [m7i.large]\n"
        "      minSize: 2\n      maxSize: 5\n      desiredSize: 2\n")
    args = eks_args(stack("dev", cluster={"aws": {"nodeMaxSize": 6}}), profiles)
    assert (args.zones, args.log_retention_days) == (3, 14)
    (group,) = args.node_groups
    assert (group.name, group.instance_types) == ("workload", ["m7i.large"])
    assert (group.min_size, group.desired_size, group.max_size) == (2, 2, 6)


def test_make_cluster_builds_an_eks_cluster_for_aws():
    install_mocks()
    built: dict[str, Any] = {}

    @pulumi.runtime.test
    def program():
        cfg = stack("dev")
        provider = cloud_provider("t", site(cfg), pulumi.ResourceOptions())
        built["cluster"] = make_cluster("eks", cluster_args(cfg),
                                        pulumi.ResourceOptions(provider=provider))
        return built["cluster"].handle.name.apply(lambda n: built.update(name=n))

    program()
    assert isinstance(built["cluster"], EksCluster)
    assert built["name"] == "acme-platform-dev"


def test_plan_is_deterministic(dev: Run):
    again = run(stack("dev"))

    def key(r: Run) -> list[str]:
        return sorted(json.dumps([c.typ, c.name, c.inputs, c.id, c.outputs], sort_keys=True,
                                 default=str) for c in r.resources)

    assert key(again) == key(dev)
    assert again.values["kubeconfig"] == dev.values["kubeconfig"]


# --- what gets refused -----------------------------------------------------------------


def test_prod_refuses_an_internet_wide_public_endpoint_before_any_child():
    # The stack model refuses it first; the component refuses it again for direct callers.
    with pytest.raises(ValueError, match=r"a prod API endpoint may not be open"):
        stack("prod", cluster={"publicAccessCidrs": ["0.0.0.0/0"]})
    cfg = stack("dev", cluster={"publicAccessCidrs": ["0.0.0.0/0"]}).model_copy(
        update={"profile": "prod"})
    message, recorded = refused(cfg)
    assert "cluster.publicAccessCidrs: opens the prod API endpoint to the internet: 0.0.0.0/0" \
        in message
    assert [r.typ for r in recorded] == ["pulumi:providers:aws"]


def test_dev_may_open_its_public_endpoint():
    r = run(stack("dev", cluster={"publicAccessCidrs": ["0.0.0.0/0"]}))
    vpc = r.one("aws:eks/cluster:Cluster", "eks-cluster").inputs["vpcConfig"]
    assert vpc["publicAccessCidrs"] == ["0.0.0.0/0"]


def test_args_are_revalidated_when_replaced():
    args = eks_args(stack("prod"))
    with pytest.raises(ValueError, match=r"opens the prod API endpoint to the internet"):
        dataclasses.replace(args, public_access_cidrs=("10.0.0.0/8", "0.0.0.0/0"))
    with pytest.raises(ValueError, match="vpcId and at least 2 subnets"):
        dataclasses.replace(args, vpc_id=VPC_ID, subnet_ids=(SUBNETS[0],))


def test_refuses_a_cluster_with_no_endpoint():
    message, recorded = refused(stack("dev", cluster={"aws": {"endpointPrivateAccess": False}}))
    assert "endpointPrivateAccess: with no cluster.publicAccessCidrs" in message
    assert [r.typ for r in recorded] == ["pulumi:providers:aws"]


def test_refuses_overrides_that_contradict_the_profile():
    message, _ = refused(stack("prod", cluster={"aws": {"nodeMaxSize": 2}}))
    assert "node group 'workload': needs minSize <= desiredSize <= maxSize, got 3 / 3 / 2" \
        in message


def test_refuses_a_vpc_too_small_for_the_subnets():
    message, _ = refused(stack("dev", cluster={"network": {"vpcCidr": "10.40.0.0/22"}}))
    assert "cluster.network.vpcCidr: 10.40.0.0/22 is too small" in message


def test_refuses_a_service_range_eks_cannot_use():
    message, _ = refused(stack("dev", cluster={"network": {"serviceCidr": "100.64.0.0/16"}}))
    assert "cluster.network.serviceCidr: EKS needs a /12 to /24" in message


def test_refuses_stacks_that_are_not_aws():
    cfg = StackConfig.model_validate({
        "customer": "acme", "environment": "dev", "profile": "dev", "cloud": "local",
        "kind": "platform", "owner": "data-team", "costCenter": "cc-1234",
        "cluster": {"kubeContext": "kind-dev"}})
    with pytest.raises(ValueError, match="EksCluster is for aws stacks"):
        eks_args(cfg)
    # The resolve step picks the cluster by cloud: a local stack never gets EKS Args.
    assert isinstance(cluster_args(cfg), LocalClusterArgs)
    assert isinstance(cluster_args(stack("dev")), EksClusterArgs)


def _problems(aws: dict[str, Any]) -> dict[str, str]:
    base = {"customer": "acme", "environment": "dev", "profile": "dev", "cloud": "aws",
            "kind": "platform", "region": REGION, "owner": "data-team", "costCenter": "cc-1"}
    data = {f"dataplatform:{k}": v for k, v in base.items()}
    data["dataplatform:cluster"] = {"aws": aws}
    with pytest.raises(ConfigError) as exc:
        parse_stack_config({"config": data}, "Pulumi.t.yaml")
    return {p.key: p.message for p in exc.value.problems}


@pytest.mark.parametrize(("aws", "key", "message"), [
    ({"vpcId": VPC_ID}, "subnetIds", "vpcId is set: list the subnets"),
    ({"subnetIds": SUBNETS}, "vpcId", "subnetIds is set: give the id of the VPC"),
    ({"vpcId": VPC_ID, "subnetIds": SUBNETS[:1]}, "subnetIds", "at least 2 distinct subnets"),
    ({"vpcId": VPC_ID, "subnetIds": [SUBNETS[0], SUBNETS[0]]}, "subnetIds",
     "at least 2 distinct subnets"),
    ({"vpcId": VPC_ID, "subnetIds": ["subnet-1", SUBNETS[0]]}, "subnetIds",
     "not subnet ids: subnet-1"),
    ({"vpcId": "my-vpc", "subnetIds": SUBNETS}, "vpcId", "should match pattern"),
    ({"nodeMinSize": 3, "nodeMaxSize": 2}, "nodeMaxSize", "nodeMaxSize 2 is smaller than "
                                                          "nodeMinSize 3"),
    ({"nodeDesiredSize": 5, "nodeMaxSize": 4}, "nodeMaxSize", "smaller than nodeDesiredSize 5"),
    ({"logTypes": ["api", "api"]}, "logTypes", "listed more than once"),
    ({"logTypes": ["api", "kubelet"]}, "logTypes.1", "Input should be 'api'"),
    ({"nodeInstanceTypes": []}, "nodeInstanceTypes", "at least 1 item"),
])
def test_aws_settings_rules(aws: dict[str, Any], key: str, message: str):
    problems = _problems(aws)
    assert f"dataplatform:cluster.aws.{key}" in problems, problems
    assert message in problems[f"dataplatform:cluster.aws.{key}"]


def test_aws_settings_defaults():
    settings = stack("dev").cluster.aws
    assert settings.vpc_id is None and settings.subnet_ids == []
    assert settings.endpoint_private_access is True
    assert settings.log_types == LOG_TYPES
    assert (settings.node_instance_types, settings.node_min_size, settings.node_max_size,
            settings.node_desired_size) == (None, None, None, None)
