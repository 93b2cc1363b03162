"""Node autoscaling: cluster-autoscaler on EKS (pinned chart, scoped IRSA role, node group
tags and bounds from the profile), GKE pool autoscaling per profile, the bounds' rules, and
the fit of the largest customer `dataplatform new` writes into its node pools' maximum."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings
from receivers import with_receivers

from components._values import static_values
from components.cloud_provider import cloud_provider
from components.cluster.eks import EksCluster
from components.cluster.gke import GkeCluster
from dataplatform import chart_keys
from dataplatform.chartcheck import shared_lock_charts
from dataplatform.onboarding import APP_CHOICES, customer_stacks
from dataplatform.plan.mocks import PlatformMocks
from dataplatform.rendered import Release, _renderable
from dataplatform.rendered import helm as helm_mod
from dataplatform.resolve import site
from dataplatform.resolve.cluster import eks_args, gke_args
from foundation.chartkeys import key_index
from foundation.charts import chart_pin
from foundation.config import ConfigError
from foundation.config.base import RuleViolations
from foundation.config.cluster import workload_capacity
from foundation.config.loader import parse_stack_config
from foundation.config.quota_fit import MAX_DOMAINS_PER_CLUSTER, cluster_fit

pytestmark = pytest.mark.unit

APP = "cluster-autoscaler"
SA = "system:serviceaccount:kube-system:cluster-autoscaler"


def config(cloud: str = "aws", profile: str = "prod", **cluster: Any):
    extra = ({"region": "eu-west-1"} if cloud == "aws" else
             {"region": "europe-west1", "gcpProject": "acme-data-prod",
              "cluster": {"publicAccessCidrs": ["203.0.113.0/24"]}})
    if cluster:
        extra["cluster"] = {**extra.get("cluster", {}), **cluster}
    data = with_receivers({"customer": "acme", "environment": profile, "profile": profile,
                           "cloud": cloud, "kind": "platform", "owner": "data",
                           "costCenter": "cc-1", **extra})
    return parse_stack_config({"config": {f"dataplatform:{k}": v for k, v in data.items()}},
                              "Pulumi.t.yaml")


def problems(**cluster: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        config(**cluster)
    return {p.key: p.message for p in info.value.problems}


def resolve_problems(cloud: str = "aws", **cluster: Any) -> dict[str, str]:
    cfg = config(cloud, **cluster)
    with pytest.raises(RuleViolations) as info:
        eks_args(cfg) if cloud == "aws" else gke_args(cfg)
    return dict(info.value.problems)


class Recorder:
    """The mock engine, recording every registration and the options of node groups."""

    def __init__(self) -> None:
        self.resources: list[tuple[str, str, dict[str, Any]]] = []
        self.ignored: dict[str, list[str]] = {}
        mocks = PlatformMocks()
        new = mocks.new_resource

        def recording(args: pulumi.runtime.MockResourceArgs):
            self.resources.append((args.typ, args.name, args.inputs))
            return new(args)

        mocks.new_resource = recording
        settings.ROOT.set(None)
        pulumi.runtime.set_mocks(mocks, project="dataplatform", stack="t", preview=True)

    def transformation(self, args: pulumi.ResourceTransformationArgs) -> None:
        if args.type_ == "aws:eks/nodeGroup:NodeGroup":
            self.ignored[args.name] = list(args.opts.ignore_changes or [])

    def of(self, typ: str) -> dict[str, dict[str, Any]]:
        return {name: inputs for t, name, inputs in self.resources if t == typ}


def build(cfg) -> Recorder:
    rec = Recorder()

    @pulumi.runtime.test
    def program():
        provider = cloud_provider("t", site(cfg), pulumi.ResourceOptions())
        opts = pulumi.ResourceOptions(provider=provider, transformations=[rec.transformation])
        if cfg.cloud == "aws":
            EksCluster("eks", eks_args(cfg), opts)
        else:
            GkeCluster("gke", gke_args(cfg), opts)

    program()
    return rec


@pytest.fixture(scope="module")
def eks_prod() -> Recorder:
    return build(config())


# --- EKS: the autoscaler release, its role, the node groups


def test_eks_installs_the_pinned_autoscaler_with_computed_values(eks_prod):
    (release,) = eks_prod.of("kubernetes:helm.sh/v3:Release").values()
    pin = chart_pin(APP)
    assert (release["chart"], release["version"], release["namespace"], release["name"]) == (
        APP, pin.version, "kube-system", APP)
    assert release["repositoryOpts"]["repo"] == "https://kubernetes.github.io/autoscaler"
    values = release["values"]
    assert values["autoDiscovery"]["clusterName"] == "acme-platform-prod"
    assert values["awsRegion"] == "eu-west-1"
    role_arn = values["rbac"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert role_arn.endswith(":role/acme-platform-prod-cluster-autoscaler")
    # prod: two replicas on the tainted system group, sized
    assert values["replicaCount"] == 2
    assert values["nodeSelector"] == {"dataplatform.io/node-group": "system"}
    assert values["resources"]["requests"] and values["resources"]["limits"]
    assert len(eks_prod.of("dataplatform:cluster:ClusterAutoscaler")) == 1


def test_the_irsa_role_trusts_only_the_autoscaler_and_scales_only_tagged_groups(eks_prod):
    role = eks_prod.of("aws:iam/role:Role")["eks-autoscaler-role"]
    assert role["name"] == "acme-platform-prod-cluster-autoscaler"
    trust = json.loads(role["assumeRolePolicy"])
    (cond,) = [s["Condition"]["StringEquals"] for s in trust["Statement"]]
    assert SA in cond.values() and "sts.amazonaws.com" in cond.values()
    policy = json.loads(eks_prod.of("aws:iam/rolePolicy:RolePolicy")["eks-autoscaler-policy"]
                        ["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    scale = by_sid["ScaleOwnGroups"]
    assert sorted(scale["Action"]) == ["autoscaling:SetDesiredCapacity",
                                       "autoscaling:TerminateInstanceInAutoScalingGroup"]
    assert scale["Resource"] == ("arn:aws:autoscaling:eu-west-1:*:autoScalingGroup:*:"
                                 "autoScalingGroupName/eks-*")
    assert scale["Condition"] == {"StringEquals": {
        "aws:ResourceTag/k8s.io/cluster-autoscaler/acme-platform-prod": "owned",
        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true"}}
    describe = by_sid["Describe"]
    assert describe["Resource"] == "*"
    assert all(":Describe" in a or ":Get" in a for a in describe["Action"])
    assert by_sid["DescribeOwnNodegroups"]["Resource"] == (
        "arn:aws:eks:eu-west-1:*:nodegroup/acme-platform-prod/*")
    # No statement grants a mutating action without the tag condition.
    assert [s["Sid"] for s in policy["Statement"] if "Condition" not in s
            and any(a in AUTOSCALER_MUTATING for a in _actions(s))] == []


AUTOSCALER_MUTATING = {"autoscaling:SetDesiredCapacity",
                       "autoscaling:TerminateInstanceInAutoScalingGroup"}


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_node_groups_carry_discovery_tags_and_the_profile_bounds(eks_prod):
    groups = eks_prod.of("aws:eks/nodeGroup:NodeGroup")
    sizes = {n: (g["scalingConfig"]["minSize"], g["scalingConfig"]["desiredSize"],
                 g["scalingConfig"]["maxSize"]) for n, g in groups.items()}
    # profiles/eks.yaml prod: the workload group grows past its 3 initial nodes
    assert sizes == {"eks-ng-system": (3, 3, 4), "eks-ng-workload": (3, 3, 15)}
    for g in groups.values():
        assert g["tags"] == {"k8s.io/cluster-autoscaler/enabled": "true",
                             "k8s.io/cluster-autoscaler/acme-platform-prod": "owned"}
    # the autoscaler owns the desired size: an update must not reset it
    assert eks_prod.ignored == {n: ["scalingConfig.desiredSize"] for n in groups}


def test_stack_overrides_move_the_workload_bounds_only():
    args = eks_args(config(autoscaling={"minNodes": 2, "desiredNodes": 4, "maxNodes": 20}))
    sizes = {g.name: (g.min_size, g.desired_size, g.max_size) for g in args.node_groups}
    assert sizes == {"system": (3, 3, 4), "workload": (2, 4, 20)}


def test_autoscaling_off_leaves_no_autoscaler_tags_or_ignored_size():
    rec = build(config(profile="dev", autoscaling={"enabled": False}))
    assert rec.of("dataplatform:cluster:ClusterAutoscaler") == {}
    assert rec.of("kubernetes:helm.sh/v3:Release") == {}
    (group,) = rec.of("aws:eks/nodeGroup:NodeGroup").values()
    assert group.get("tags") is None
    assert rec.ignored == {"eks-ng-workload": []}


# --- GKE: node-pool autoscaling per profile


@pytest.mark.parametrize(("profile", "expected"), [
    ("dev", {"gke-pool-default": (1, 2)}),
    ("prod", {"gke-pool-system": (1, 2), "gke-pool-workload": (1, 5)}),
])
def test_gke_pools_autoscale_within_the_profile_bounds(profile, expected):
    rec = build(config("gcp", profile))
    pools = rec.of("gcp:container/nodePool:NodePool")
    assert {n: (p["autoscaling"]["minNodeCount"], p["autoscaling"]["maxNodeCount"])
            for n, p in pools.items()} == expected


def test_gke_overrides_apply_to_workload_pools():
    args = gke_args(config("gcp", autoscaling={"minNodes": 2, "maxNodes": 8}))
    assert {p.name: (p.min_nodes, p.max_nodes) for p in args.node_pools} == {
        "system": (1, 2), "workload": (2, 8)}


# --- the rules, each naming its key


@pytest.mark.parametrize(("cluster", "key", "message"), [
    ({"autoscaling": {"minNodes": 4, "maxNodes": 3}}, "maxNodes",
     "maxNodes 3 is smaller than minNodes 4"),
    ({"autoscaling": {"desiredNodes": 5, "maxNodes": 4}}, "maxNodes",
     "maxNodes 4 is smaller than desiredNodes 5"),
    ({"autoscaling": {"minNodes": 3, "desiredNodes": 2}}, "desiredNodes",
     "desiredNodes 2 is smaller than minNodes 3"),
    ({"autoscaling": {"maxNodes": 0}}, "maxNodes", "greater than or equal to 1"),
    ({"autoscaling": {"minNodes": -1}}, "minNodes", "greater than or equal to 0"),
    ({"autoscaling": {"maxNodes": 10}, "aws": {"nodeMaxSize": 12}}, "maxNodes",
     "aws.nodeMaxSize sets the same bound: keep one of the two"),
    ({"autoscaling": {"minNodes": 1}, "gcp": {"workloadPool": {"minNodes": 1}}}, "minNodes",
     "gcp.workloadPool.minNodes sets the same bound"),
])
def test_bad_bounds_in_the_file_are_refused_naming_the_key(cluster, key, message):
    found = problems(**cluster)
    assert message in found.get(f"dataplatform:cluster.autoscaling.{key}", ""), found


def test_bounds_against_the_profile_are_refused_naming_the_stack_key():
    # prod's workload group starts at 3 nodes: a maximum of 2 cannot hold them
    assert resolve_problems(autoscaling={"maxNodes": 2}) == {
        "cluster.autoscaling.maxNodes": "node group 'workload': needs minSize <= desiredSize "
        "<= maxSize, got 3 / 3 / 2 (profiles/eks.yaml, profile prod)"}
    # every spelling of the same bound is held to the same rule
    assert resolve_problems(aws={"nodeMaxSize": 2}) == {
        "cluster.aws.nodeMaxSize": "node group 'workload': needs minSize <= desiredSize "
        "<= maxSize, got 3 / 3 / 2 (profiles/eks.yaml, profile prod)"}
    assert resolve_problems("gcp", autoscaling={"minNodes": 6}) == {
        "cluster.autoscaling.minNodes": "node pool 'workload': minNodes 6 is greater than "
        "maxNodes 5 (profiles/gke.yaml, profile prod)"}


def test_gke_refuses_what_only_eks_does():
    assert resolve_problems("gcp", autoscaling={"enabled": False}) == {
        "cluster.autoscaling.enabled": "GKE node pools always autoscale; pin a pool with "
        "minNodes = maxNodes instead"}
    assert "cluster.autoscaling.desiredNodes" in resolve_problems(
        "gcp", autoscaling={"desiredNodes": 3})


def test_an_autoscaler_for_another_kubernetes_minor_is_refused():
    found = resolve_problems(version="1.34")
    assert found["cluster.version"].startswith(
        "cluster-autoscaler v1.33.6 (image.tag, charts-values/cluster-autoscaler/) is for "
        "Kubernetes 1.33, not 1.34")
    # off, the image does not matter
    assert eks_args(config(version="1.34", autoscaling={"enabled": False}))


# --- quotas and cluster size agree


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_the_largest_new_customer_fits_its_prod_node_pools_at_their_maximum(cloud, tmp_path):
    """`new customer` takes any number of domains; the documented bound is
    MAX_DOMAINS_PER_CLUSTER, each with every app `new` can turn on (dbt needs projects
    it cannot write; its footprint is batch pods only), profile prod."""
    domains = [f"d{i}" for i in range(MAX_DOMAINS_PER_CLUSTER)]
    apps = [a for a in APP_CHOICES if a != "dbt"]
    extra = {"region": "eu-west-1"} if cloud == "aws" else {
        "region": "europe-west1", "gcp_project": "hooli-data-{env}"}
    stacks = customer_stacks("hooli", cloud=cloud, domains=domains, environments=["prod"],
                             stacks_dir=tmp_path, apps=apps, **extra)
    quotas = [s.cfg.isolation.quota.model_dump(by_alias=True)
              for s in stacks if s.cfg.kind == "domain"]
    assert len(quotas) == MAX_DOMAINS_PER_CLUSTER
    nodes, allocatable = workload_capacity(cloud, "prod")
    assert cluster_fit(quotas, nodes, allocatable) == []
    # the minimum size alone would not: autoscaling is what makes them fit
    assert cluster_fit(quotas, 3, allocatable)


def test_cluster_fit_names_the_figure_short():
    quota = {"requestsCpu": "15", "requestsMemory": "46Gi"}
    assert cluster_fit([quota] * 2, 3, {"cpu": "7910m", "memory": "29Gi"}) == [
        "requestsCpu: 2 domain quotas request 30 CPU but 3 nodes offer 23.8 CPU",
        "requestsMemory: 2 domain quotas request 92Gi but 3 nodes offer 87Gi"]
    assert cluster_fit([quota] * 2, 4, {"cpu": "7910m", "memory": "29Gi"}) == []


# --- chart data this chart has no ../shared copy of


def test_values_keys_exist_in_the_committed_index_and_every_container_is_sized():
    index = key_index(APP, chart_pin(APP).version)
    assert index is not None
    for profile in ("dev", "prod"):
        values = static_values(APP, profile, {})
        assert index.unknown(values) == []
        assert set(values["resources"]) == {"requests", "limits"}
        assert all(values["resources"][k].keys() == {"cpu", "memory"}
                   for k in ("requests", "limits"))


def test_chart_keys_skip_a_chart_shared_does_not_pin_and_name_it(capsys):
    if chart_keys.default_charts() is None:
        pytest.skip("no ../shared chart defaults")
    chart_keys.write(check=True)
    err = capsys.readouterr().err
    assert f"no defaults for chart '{APP}'" in err and "skipped" in err
    assert f"{APP}-{chart_pin(APP).version}.json is for no pinned" not in err


def test_render_skips_and_names_a_release_whose_chart_only_our_lock_pins(tmp_path,
                                                                         monkeypatch):
    if not shared_lock_charts():
        pytest.skip("no ../shared chart lock: every pinned chart is expected in --charts")
    monkeypatch.setattr(helm_mod, "SHARED_CHARTS", tmp_path / "none")
    monkeypatch.setenv("HELM_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("DATAPLATFORM_CHARTS", raising=False)
    rel = Release("urn:x", "helm", chart_pin(APP), APP, "kube-system", {})
    kept, skipped = _renderable([rel], Path(tmp_path))
    assert kept == [] and len(skipped) == 1
    assert skipped[0].startswith(f"kube-system/{APP}: chart {APP} {chart_pin(APP).version} "
                                 "is in no chart folder")


def test_the_policy_pack_admits_the_describes_on_star_and_nothing_wider(eks_prod):
    """iam-no-wildcards lets exactly-named, resource-less describes use `*`: the autoscaler's
    policy passes, a wildcard spelling of the same actions or a write on `*` does not."""
    from policy.policy_helpers import guardrails

    iam = guardrails("iam")
    policy = eks_prod.of("aws:iam/rolePolicy:RolePolicy")["eks-autoscaler-policy"]["policy"]
    assert list(iam.wildcards(policy)) == []
    for action in ("autoscaling:Describe*", "autoscaling:SetDesiredCapacity"):
        doc = {"Statement": [{"Effect": "Allow", "Action": ["ec2:DescribeImages", action],
                              "Resource": "*"}]}
        assert list(iam.wildcards(doc)), action
