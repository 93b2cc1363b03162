"""AWS-specific cluster settings (`cluster.aws` in a stack file)."""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import Field, model_validator

from foundation.config.base import Model, RuleViolations

LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
ALL_LOG_TYPES: list[LogType] = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


class AwsClusterSettings(Model):
    """EKS settings. Every field has a default, so `cluster.aws` can be omitted."""

    vpc_id: str | None = Field(
        None,
        pattern=r"^vpc-[0-9a-f]{8,17}$",
        description="Bring your own VPC: its id. Needs subnetIds; no VPC, subnets or NAT "
        "gateways are created then.",
    )
    subnet_ids: list[str] = Field(
        default_factory=list,
        description="Bring your own VPC: private subnets (at least 2, in different AZs) for "
        "the control plane ENIs and the nodes. Needs vpcId.",
    )
    endpoint_private_access: bool = Field(
        True, description="Reach the API server from inside the VPC (private endpoint)."
    )
    node_instance_types: list[str] | None = Field(
        None,
        min_length=1,
        description="Instance types of the 'workload' node group (None: from profiles/eks.yaml).",
    )
    node_min_size: int | None = Field(
        None, ge=0, description="Minimum size of the 'workload' node group (None: from profile)."
    )
    node_max_size: int | None = Field(
        None, ge=1, description="Maximum size of the 'workload' node group (None: from profile)."
    )
    node_desired_size: int | None = Field(
        None, ge=0, description="Desired size of the 'workload' node group (None: from profile)."
    )
    log_types: list[LogType] = Field(
        default_factory=lambda: list(ALL_LOG_TYPES),
        description="Control-plane log types sent to CloudWatch (default: all five).",
    )

    @model_validator(mode="after")
    def _rules(self) -> AwsClusterSettings:
        p: list[tuple[str, str]] = []
        if self.vpc_id and not self.subnet_ids:
            p.append(("subnetIds", "vpcId is set: list the subnets to use in it too "
                                   "(or remove vpcId to create a VPC)"))
        if self.subnet_ids and not self.vpc_id:
            p.append(("vpcId", "subnetIds is set: give the id of the VPC they belong to "
                               "(or remove subnetIds to create a VPC)"))
        if self.subnet_ids and len(set(self.subnet_ids)) < 2:
            p.append(("subnetIds", "EKS needs at least 2 distinct subnets, in different "
                                   "availability zones"))
        bad = [s for s in self.subnet_ids if not _is_id(s, "subnet-")]
        if bad:
            p.append(("subnetIds", f"not subnet ids: {', '.join(bad)} (expected subnet-…)"))
        if len(set(self.log_types)) != len(self.log_types):
            p.append(("logTypes", "log types are listed more than once"))
        sizes = [(k, v) for k, v in (("nodeMinSize", self.node_min_size),
                                     ("nodeDesiredSize", self.node_desired_size),
                                     ("nodeMaxSize", self.node_max_size)) if v is not None]
        for (ka, a), (kb, b) in pairwise(sizes):
            if a > b:
                p.append((kb, f"{kb} {b} is smaller than {ka} {a}"))
        if p:
            raise RuleViolations(p)
        return self


def _is_id(value: str, prefix: str) -> bool:
    rest = value.removeprefix(prefix)
    return rest != value and 8 <= len(rest) <= 17 and all(c in "0123456789abcdef" for c in rest)
