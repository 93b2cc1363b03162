"""GCP-specific cluster settings (`cluster.gcp` in a stack file).

Version rule: with a release channel (`RAPID`, `REGULAR` or `STABLE`; `REGULAR` by
default) GKE picks and upgrades the version, and `cluster.version` must not be set.
With `releaseChannel: UNSPECIFIED` (or null) the cluster is enrolled in no channel and
its control plane is pinned to `cluster.version`. The cross-section half of this rule
(is `cluster.version` set?) is checked by `GkeClusterArgs.from_config`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from foundation.config.base import Cidr, Model, RuleViolations

CHANNELS = ("RAPID", "REGULAR", "STABLE")
SECURITY_GROUP_LOCAL = "gke-security-groups"
# A Google Group address: what Google Groups for RBAC puts in a user's Kubernetes groups.
GROUP_EMAIL = re.compile(
    r"^[a-z0-9][a-z0-9._+-]*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")


def _security_group(value: str) -> str:
    if not GROUP_EMAIL.match(value) or value.partition("@")[0] != SECURITY_GROUP_LOCAL:
        raise ValueError(f"'{value}' is not the Google Groups for RBAC group: GKE takes only "
                         f"{SECURITY_GROUP_LOCAL}@<your Workspace domain>")
    return value


def _slash28(value: str) -> str:
    net = ipaddress.ip_network(value)
    if net.version != 4 or net.prefixlen != 28:
        raise ValueError(f"'{value}' must be an IPv4 /28 (the GKE control-plane range)")
    return value


MasterCidr = Annotated[Cidr, AfterValidator(_slash28)]


class GkePoolOverrides(Model):
    """Overrides of the workload node pool(s) of `profiles/gke.yaml`. None = from profile."""

    machine_type: str | None = Field(
        None, description="Machine type, e.g. e2-standard-8 (default: from the profile)."
    )
    min_nodes: int | None = Field(
        None, ge=0, description="Autoscaling minimum, per zone (default: from the profile)."
    )
    max_nodes: int | None = Field(
        None, ge=1, description="Autoscaling maximum, per zone (default: from the profile)."
    )

    @model_validator(mode="after")
    def _min_le_max(self) -> GkePoolOverrides:
        if (self.min_nodes is not None and self.max_nodes is not None
                and self.min_nodes > self.max_nodes):
            raise RuleViolations([("minNodes", f"minNodes {self.min_nodes} is greater than "
                                               f"maxNodes {self.max_nodes}")])
        return self


class GcpClusterSettings(Model):
    """GKE settings. Every field has a default, so `cluster.gcp` can be omitted."""

    release_channel: Literal["RAPID", "REGULAR", "STABLE", "UNSPECIFIED"] | None = Field(
        "REGULAR",
        description="GKE release channel. UNSPECIFIED or null: no channel, the control "
        "plane is pinned to cluster.version instead (which must not be set otherwise).",
    )
    master_ipv4_cidr: MasterCidr = Field(
        "172.16.0.0/28",
        description="Private /28 of the GKE control plane; must not overlap the VPC, pod "
        "or service ranges. Who may reach the public endpoint is cluster.publicAccessCidrs.",
    )
    workload_pool: GkePoolOverrides = Field(
        default_factory=GkePoolOverrides,
        description="Overrides of the workload node pool(s) of profiles/gke.yaml.",
    )
    existing_network: str | None = Field(
        None,
        description="Existing VPC (name, id or self link) to use instead of creating one, "
        "with Cloud NAT already in place. Set together with existingSubnetwork.",
    )
    existing_subnetwork: str | None = Field(
        None,
        description="Existing subnetwork (id or self link) in the cluster's region, holding "
        "the secondary ranges podRangeName and serviceRangeName.",
    )
    security_group: Annotated[str, AfterValidator(_security_group)] | None = Field(
        None,
        description="Google Groups for RBAC: the group gke-security-groups@<your domain> "
        "whose member groups GKE puts in a user's Kubernetes groups. Domains then name "
        "their isolation.adminGroups by those groups' emails. None: RoleBindings to groups "
        "reach no one on this cluster.",
    )
    pod_range_name: str = Field(
        "pods", description="Name of the subnetwork's secondary range for pods."
    )
    service_range_name: str = Field(
        "services", description="Name of the subnetwork's secondary range for services."
    )

    @model_validator(mode="after")
    def _rules(self) -> GcpClusterSettings:
        p: list[tuple[str, str]] = []
        if (self.existing_network is None) != (self.existing_subnetwork is None):
            missing = "existingSubnetwork" if self.existing_subnetwork is None else \
                "existingNetwork"
            p.append((missing, "set both existingNetwork and existingSubnetwork, or neither"))
        if self.pod_range_name == self.service_range_name:
            p.append(("serviceRangeName", "the pod and service ranges need different names"))
        if p:
            raise RuleViolations(p)
        return self

    @property
    def channel(self) -> str | None:
        """The release channel, or None when the version is pinned."""
        return self.release_channel if self.release_channel in CHANNELS else None
