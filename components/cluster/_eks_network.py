"""Shape of EksCluster: its network (a VPC, or the caller's) and node groups per profile."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field

from foundation.config.base import Model
from foundation.layout import PROFILES_DIR
from foundation.profiles import profile_section

# Smallest VPC the subnet plan fits: 8 blocks of /(p+3), private subnets in the first
# ones, public subnets in quarters of the last one.
MAX_VPC_PREFIX = 20
PROFILES_FILE = PROFILES_DIR / "eks.yaml"


class NodeTaint(Model):
    """A taint of every node of a group."""

    key: str = Field(description="Taint key.")
    value: str | None = Field(None, description="Taint value.")
    effect: Literal["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"] = Field(
        description="Taint effect.")


class NodeGroupSpec(Model):
    """One managed node group, as `profiles/eks.yaml` describes it."""

    name: str = Field(description="Node group name, unique in the cluster.")
    instance_types: list[str] = Field(min_length=1, description="EC2 instance types.")
    min_size: int = Field(ge=0, description="Minimum node count.")
    max_size: int = Field(ge=1, description="Maximum node count.")
    desired_size: int = Field(ge=0, description="Node count at creation.")
    disk_size: int = Field(50, ge=20, description="Root volume size, GiB.")
    capacity_type: Literal["ON_DEMAND", "SPOT"] = Field("ON_DEMAND", description="Pricing.")
    labels: dict[str, str] = Field(default_factory=dict, description="Node labels.")
    taints: list[NodeTaint] = Field(default_factory=list, description="Node taints.")


class EksProfile(Model):
    """The cluster shape of one profile in `profiles/eks.yaml`."""

    zones: int = Field(ge=2, le=4, description="Availability zones of the created VPC.")
    nat_gateway_per_zone: bool = Field(description="One NAT gateway per zone, or one.")
    log_retention_days: int = Field(ge=1, description="Control-plane log retention.")
    node_groups: list[NodeGroupSpec] = Field(min_length=1, description="Node groups.")


def load_profile(profile: str, path: Path = PROFILES_FILE) -> EksProfile:
    """The `profile` section of `profiles/eks.yaml`, validated."""
    return profile_section(path, profile, EksProfile)


@dataclass(frozen=True)
class Network:
    """Where the cluster lives."""

    vpc_id: pulumi.Output[str]
    """VPC id."""
    private_subnet_ids: list[pulumi.Output[str]]
    """Private subnets (control-plane ENIs, nodes, internal load balancers)."""


def subnet_plan(vpc_cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """(private, public) CIDRs, one of each per zone.

    A /16 gives /19 private subnets (8 190 addresses each: the VPC CNI gives pods VPC
    addresses) and /21 public subnets (NAT gateways and internet-facing load balancers).
    """
    vpc = ipaddress.ip_network(vpc_cidr)
    if vpc.prefixlen > MAX_VPC_PREFIX or not 1 <= zones <= 4:
        raise ValueError(f"cannot plan {zones} zones in {vpc_cidr}")
    blocks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = list(
        vpc.subnets(prefixlen_diff=3))
    public = list(blocks[-1].subnets(prefixlen_diff=2))
    return [str(b) for b in blocks[:zones]], [str(b) for b in public[:zones]]


def existing_network(vpc_id: str, subnet_ids: tuple[str, ...]) -> Network:
    """The caller's VPC: nothing is created."""
    return Network(pulumi.Output.from_input(vpc_id),
                   [pulumi.Output.from_input(s) for s in subnet_ids])


def _zone(names: list[str], index: int, zones: int) -> str:
    if len(names) < zones:
        raise ValueError(f"the region has {len(names)} availability zones, the profile "
                         f"needs {zones}")
    return names[index]


def create_network(name: str, *, cluster_name: str, vpc_cidr: str, zones: int,
                   nat_per_zone: bool, parent: pulumi.Resource) -> Network:
    """VPC, public subnets with an internet gateway and NAT gateway(s), private subnets.

    Zones come from the provider's region (opt-in Local Zones excluded). Dev profiles
    share one NAT gateway; prod gets one per zone so a zone outage keeps egress working.
    """
    opts = pulumi.ResourceOptions(parent=parent)
    private_cidrs, public_cidrs = subnet_plan(vpc_cidr, zones)
    azs = aws.get_availability_zones_output(
        state="available",
        filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
        opts=pulumi.InvokeOutputOptions(parent=parent),
    )
    vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=vpc_cidr, enable_dns_hostnames=True,
                      enable_dns_support=True, tags={"Name": cluster_name}, opts=opts)
    igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id,
                                  tags={"Name": cluster_name}, opts=opts)
    public_rt = aws.ec2.RouteTable(
        f"{name}-public-rt", vpc_id=vpc.id,
        routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
        tags={"Name": f"{cluster_name}-public"}, opts=opts)
    cluster_tag = f"kubernetes.io/cluster/{cluster_name}"
    nats: list[aws.ec2.NatGateway] = []
    private_ids: list[pulumi.Output[str]] = []
    for i in range(zones):
        az = azs.names.apply(functools.partial(_zone, index=i, zones=zones))
        public = aws.ec2.Subnet(
            f"{name}-public-{i}", vpc_id=vpc.id, cidr_block=public_cidrs[i],
            availability_zone=az, map_public_ip_on_launch=False,
            tags={"Name": f"{cluster_name}-public-{i}", "kubernetes.io/role/elb": "1",
                  cluster_tag: "shared"},
            opts=opts)
        aws.ec2.RouteTableAssociation(f"{name}-public-rta-{i}", subnet_id=public.id,
                                      route_table_id=public_rt.id, opts=opts)
        if i == 0 or nat_per_zone:
            eip = aws.ec2.Eip(f"{name}-nat-eip-{i}", domain="vpc",
                              tags={"Name": f"{cluster_name}-nat-{i}"}, opts=opts)
            nats.append(aws.ec2.NatGateway(
                f"{name}-nat-{i}", allocation_id=eip.allocation_id, subnet_id=public.id,
                tags={"Name": f"{cluster_name}-nat-{i}"},
                opts=pulumi.ResourceOptions(parent=parent, depends_on=[igw])))
        private = aws.ec2.Subnet(
            f"{name}-private-{i}", vpc_id=vpc.id, cidr_block=private_cidrs[i],
            availability_zone=az,
            tags={"Name": f"{cluster_name}-private-{i}", "kubernetes.io/role/internal-elb": "1",
                  cluster_tag: "shared"},
            opts=opts)
        rt = aws.ec2.RouteTable(
            f"{name}-private-rt-{i}", vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0",
                                                nat_gateway_id=nats[-1].id)],
            tags={"Name": f"{cluster_name}-private-{i}"}, opts=opts)
        aws.ec2.RouteTableAssociation(f"{name}-private-rta-{i}", subnet_id=private.id,
                                      route_table_id=rt.id, opts=opts)
        private_ids.append(private.id)
    return Network(vpc.id, private_ids)
