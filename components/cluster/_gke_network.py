"""Private helpers of GkeCluster: the VPC-native network, node-pool profiles, kubeconfig."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import pulumi
import pulumi_gcp as gcp
import yaml
from pydantic import Field

from foundation.config.base import Model
from foundation.layout import PROFILES_DIR
from foundation.naming import Naming
from foundation.profiles import profile_section

PROFILES_FILE = PROFILES_DIR / "gke.yaml"


class NodeTaint(Model):
    """A Kubernetes taint on every node of a pool."""

    key: str
    value: str
    effect: Literal["NO_SCHEDULE", "PREFER_NO_SCHEDULE", "NO_EXECUTE"]


class NodePoolSpec(Model):
    """One node pool of `profiles/gke.yaml`."""

    name: str = Field(description="Node pool name, unique in the cluster.")
    role: Literal["system", "workload"] = Field(
        description="'workload' pools take the cluster.gcp.workloadPool overrides.")
    machine_type: str = Field(description="Compute Engine machine type.")
    min_nodes: int = Field(ge=0, description="Autoscaling minimum, per zone.")
    max_nodes: int = Field(ge=1, description="Autoscaling maximum, per zone.")
    disk_size_gb: int = Field(100, ge=10, description="Boot disk size.")
    disk_type: str = Field("pd-balanced", description="Boot disk type.")
    labels: dict[str, str] = Field(default_factory=dict, description="Kubernetes labels.")
    taints: list[NodeTaint] = Field(default_factory=list, description="Kubernetes taints.")


class GkeProfile(Model):
    """One profile of `profiles/gke.yaml`."""

    regional: bool = Field(description="Regional (prod) or zonal (dev) cluster.")
    node_pools: list[NodePoolSpec] = Field(min_length=1)


@cache
def load_profile(profile: str, path: Path = PROFILES_FILE) -> GkeProfile:
    """The `profile` section of the GKE profiles file, validated."""
    return profile_section(path, profile, GkeProfile)


@dataclass(frozen=True)
class GkeNetwork:
    """Where the cluster's nodes live."""

    network: pulumi.Input[str]
    subnetwork: pulumi.Input[str]
    ready: list[pulumi.Resource]
    """Resources nodes need before they boot (Cloud NAT for egress); empty when adopted."""


def create_network(name: str, naming: Naming, project: str, region: str, *,
                   vpc_cidr: str, pod_cidr: str, service_cidr: str, pod_range: str,
                   service_range: str, parent: pulumi.Resource) -> GkeNetwork:
    """VPC, subnetwork with the pod/service secondary ranges, Cloud Router and Cloud NAT."""
    child = pulumi.ResourceOptions(parent=parent)
    vpc = gcp.compute.Network(
        f"{name}-vpc", name=naming.name("vpc"), project=project,
        auto_create_subnetworks=False, routing_mode="REGIONAL", opts=child)
    subnet = gcp.compute.Subnetwork(
        f"{name}-subnet", name=naming.name("gke"), project=project, region=region,
        network=vpc.id, ip_cidr_range=vpc_cidr, private_ip_google_access=True,
        secondary_ip_ranges=[
            gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=pod_range,
                                                       ip_cidr_range=pod_cidr),
            gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=service_range,
                                                       ip_cidr_range=service_cidr),
        ],
        opts=child)
    router = gcp.compute.Router(
        f"{name}-router", name=naming.name("router"), project=project, region=region,
        network=vpc.id, opts=child)
    # Private nodes have no external IP: Cloud NAT is their way to registries and sources.
    nat = gcp.compute.RouterNat(
        f"{name}-nat", name=naming.name("nat"), project=project, region=region,
        router=router.name, nat_ip_allocate_option="AUTO_ONLY",
        source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
        subnetworks=[gcp.compute.RouterNatSubnetworkArgs(
            name=subnet.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"])],
        log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
        opts=child)
    return GkeNetwork(vpc.id, subnet.id, [nat])


def kubeconfig(context: str, endpoint: str, ca_data: str) -> str:
    """A kubeconfig that authenticates with the caller's gcloud credentials."""
    return yaml.safe_dump({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {
            "server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
        "users": [{"name": context, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "gke-gcloud-auth-plugin",
            "installHint": "Install gke-gcloud-auth-plugin: "
                           "gcloud components install gke-gcloud-auth-plugin",
            "provideClusterInfo": True,
            "interactiveMode": "Never",
        }}}],
    }, sort_keys=False)
