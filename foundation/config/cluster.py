"""Where a stack runs: its cluster, its network ranges, its platform stack."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from foundation import yamlfile
from foundation.config.aws import AwsClusterSettings
from foundation.config.base import Cidr, Ipv4Cidr, Model, RuleViolations, StackName
from foundation.config.gcp import GcpClusterSettings
from foundation.layout import PROFILES_DIR
from foundation.quantity import parse_quantity


class PlatformRef(Model):
    """The platform stack whose shared cluster this domain runs on."""

    stack: StackName = Field(description="Name of the platform stack in this project.")
    organization: str = Field(
        "organization",
        description="Pulumi organization of the platform stack ('organization' on a "
        "self-managed backend).",
    )


class ClusterNetwork(Model):
    """Address ranges of the cluster network. They must not overlap."""

    vpc_cidr: Ipv4Cidr = Field("10.40.0.0/16", description="VPC / node network range.")
    pod_cidr: Ipv4Cidr = Field("10.44.0.0/14", description="Pod range (GKE secondary range).")
    service_cidr: Ipv4Cidr = Field("10.48.0.0/20", description="Service range.")

    @model_validator(mode="after")
    def _no_overlap(self) -> ClusterNetwork:
        ranges = {
            "vpcCidr": self.vpc_cidr,
            "podCidr": self.pod_cidr,
            "serviceCidr": self.service_cidr,
        }
        nets = {k: ipaddress.ip_network(v) for k, v in ranges.items()}
        keys = list(nets)
        problems = [
            (b, f"{ranges[b]} overlaps {a} {ranges[a]}")
            for i, a in enumerate(keys)
            for b in keys[i + 1 :]
            if nets[a].overlaps(nets[b])
        ]
        if problems:
            raise RuleViolations(problems)
        return self


class ClusterAutoscaling(Model):
    """Node autoscaling. The bounds live in profiles/eks.yaml and profiles/gke.yaml; these
    keys override them for the workload node group (aws) or pool(s) (gcp) of this stack."""

    enabled: bool = Field(
        True,
        description="aws: run cluster-autoscaler (a Helm release in kube-system with a "
        "scoped IRSA role), which moves each node group between its minimum and maximum; "
        "false: the groups stay at their desired size. gcp: node pools always autoscale "
        "(bound them with minNodes = maxNodes instead), so false is refused.",
    )
    min_nodes: int | None = Field(
        None, ge=0,
        description="Minimum node count of the workload node group (aws), per zone of the "
        "workload pool(s) (gcp). None: from the profile.",
    )
    desired_nodes: int | None = Field(
        None, ge=0,
        description="aws only: node count of the workload group at creation; the "
        "autoscaler owns it afterwards. None: from the profile.",
    )
    max_nodes: int | None = Field(
        None, ge=1,
        description="Maximum node count of the workload node group (aws), per zone of the "
        "workload pool(s) (gcp): what the domains' quotas can grow into. None: from the "
        "profile.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ClusterAutoscaling:
        sizes = [(k, v) for k, v in (("minNodes", self.min_nodes),
                                     ("desiredNodes", self.desired_nodes),
                                     ("maxNodes", self.max_nodes)) if v is not None]
        problems = [(kb, f"{kb} {b} is smaller than {ka} {a}")
                    for (ka, a), (kb, b) in pairwise(sizes) if a > b]
        if problems:
            raise RuleViolations(problems)
        return self


@dataclass(frozen=True)
class NodeBounds:
    """A node group's (pool's) size bounds, with the key or file each one comes from."""

    min: int
    desired: int | None
    max: int
    sources: tuple[str, str, str] = ("profile", "profile", "profile")


def _older(cluster: ClusterConfig, cloud: str) -> dict[str, tuple[str, str, int | None]]:
    """The older spellings of the same bounds, per field: (the key its errors name, its
    full key, its value). The gcp ones keep their section as the key, as they always did."""
    if cloud == "aws":
        aws = cluster.aws
        return {"minNodes": ("cluster.aws.nodeMinSize",) * 2 + (aws.node_min_size,),
                "desiredNodes": ("cluster.aws.nodeDesiredSize",) * 2 + (aws.node_desired_size,),
                "maxNodes": ("cluster.aws.nodeMaxSize",) * 2 + (aws.node_max_size,)}
    pool = cluster.gcp.workload_pool
    return {"minNodes": ("cluster.gcp.workloadPool", "cluster.gcp.workloadPool.minNodes",
                         pool.min_nodes),
            "desiredNodes": ("", "", None),
            "maxNodes": ("cluster.gcp.workloadPool", "cluster.gcp.workloadPool.maxNodes",
                         pool.max_nodes)}


def workload_bounds(cluster: ClusterConfig, cloud: Literal["aws", "gcp"], base: NodeBounds,
                    group: str, where: str) -> NodeBounds:
    """The bounds of workload group (pool) `group`: the profile's `base` with the stack's
    overrides, checked (min <= desired <= max, max >= 1). `where` names the profile file
    and section. RuleViolations, keyed from the file root, name the stack key that breaks a
    rule, or `cluster.autoscaling` when the profile alone does."""
    a = cluster.autoscaling
    p: list[tuple[str, str]] = []
    if cloud == "gcp" and not a.enabled:
        p.append(("cluster.autoscaling.enabled", "GKE node pools always autoscale; pin a "
                  "pool with minNodes = maxNodes instead"))
    if cloud == "gcp" and a.desired_nodes is not None:
        p.append(("cluster.autoscaling.desiredNodes", "is for aws: a GKE pool starts at "
                  "minNodes and its autoscaler sizes it"))
    values, sources = [base.min, base.desired, base.max], list(base.sources)
    older = _older(cluster, cloud)
    for i, (field, value) in enumerate((("minNodes", a.min_nodes),
                                        ("desiredNodes", a.desired_nodes),
                                        ("maxNodes", a.max_nodes))):
        old_key, _, old_value = older[field]
        if value is not None:
            values[i], sources[i] = value, f"cluster.autoscaling.{field}"
        elif old_value is not None:
            values[i], sources[i] = old_value, old_key
    lo, desired, hi = values
    assert lo is not None and hi is not None  # the profile gives both
    named = [s for s in sources if s != "profile"]
    key = named[-1] if named else "cluster.autoscaling"
    origin = f" ({where})" if len(named) < 3 else ""
    if hi < 1:
        p.append((key, f"node group '{group}': a maximum of {hi} nodes runs nothing; it "
                  f"must be at least 1{origin}"))
    if cloud == "aws" and not lo <= (lo if desired is None else desired) <= hi:
        p.append((key, f"node group '{group}': needs minSize <= desiredSize <= maxSize, "
                  f"got {lo} / {desired} / {hi}{origin}"))
    if cloud == "gcp" and lo > hi:
        p.append((key, f"node pool '{group}': minNodes {lo} is greater than maxNodes "
                  f"{hi}{origin}"))
    if p:
        raise RuleViolations(p)
    return NodeBounds(lo, desired, hi, (sources[0], sources[1], sources[2]))


def workload_capacity(cloud: Literal["aws", "gcp"], profile: str,
                      profiles: Path = PROFILES_DIR) -> tuple[int, dict[str, str]]:
    """(nodes, allocatable per node) of the profile's workload groups (pools) at their
    maximum: the untainted EKS groups, the `workload` GKE pools times the zones a regional
    pool spans. Per node, the smallest allocatable of the group's instance types."""
    data = yamlfile.read(profiles / ("eks.yaml" if cloud == "aws" else "gke.yaml")) or {}
    table, section = data["allocatable"], data[profile]
    if cloud == "aws":
        groups = [(g["maxSize"], g["instanceTypes"]) for g in section["nodeGroups"]
                  if not g.get("taints")]
    else:
        zones = data["regionalZones"] if section["regional"] else 1
        groups = [(g["maxNodes"] * zones, [g["machineType"]]) for g in section["nodePools"]
                  if g["role"] == "workload"]
    kinds = {t for _, types in groups for t in types}
    smallest = {k: min((table[t][k] for t in kinds), key=parse_quantity)
                for k in ("cpu", "memory")}
    return sum(n for n, _ in groups), smallest


class ClusterConfig(Model):
    """Where the stack's workloads run."""

    mode: Literal["shared", "dedicated"] | None = Field(
        None,
        description="'dedicated': this stack owns its cluster (always for platform "
        "stacks). 'shared': a domain on its platform stack's cluster. Derived when unset.",
    )
    kube_context: str | None = Field(
        None, description="cloud local: the kubeconfig context to deploy into (default: "
        "kind-<customer>, what `kind create cluster --name <customer>` makes)."
    )
    version: str = Field("1.33", description="Kubernetes version (aws/gcp).")
    public_access_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="CIDRs allowed to reach the public API endpoint (aws/gcp).",
    )
    network: ClusterNetwork = Field(default_factory=ClusterNetwork)
    aws: AwsClusterSettings = Field(default_factory=AwsClusterSettings)
    gcp: GcpClusterSettings = Field(default_factory=GcpClusterSettings)
    autoscaling: ClusterAutoscaling = Field(
        default_factory=ClusterAutoscaling,
        description="Node autoscaling and the stack's overrides of the profile's bounds.")

    @model_validator(mode="after")
    def _one_spelling(self) -> ClusterConfig:
        a = self.autoscaling
        set_here = {"minNodes": a.min_nodes, "desiredNodes": a.desired_nodes,
                    "maxNodes": a.max_nodes}
        problems = [(f"autoscaling.{field}", f"{full.removeprefix('cluster.')} sets the "
                     "same bound: keep one of the two")
                    for cloud in ("aws", "gcp")
                    for field, (_, full, value) in _older(self, cloud).items()
                    if value is not None and set_here[field] is not None]
        if problems:
            raise RuleViolations(problems)
        return self
