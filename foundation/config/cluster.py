"""Where a stack runs: its cluster, its network ranges, its platform stack."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, model_validator

from foundation.config.aws import AwsClusterSettings
from foundation.config.base import Cidr, Ipv4Cidr, Model, RuleViolations, StackName
from foundation.config.gcp import GcpClusterSettings


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
