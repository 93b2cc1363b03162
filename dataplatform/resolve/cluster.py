"""The cluster side of a stack: its own cluster (EKS, GKE, local) with Argo CD, monitoring
and backups, or the platform stack's shared cluster."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING

from components.argocd import ArgoCDArgs
from components.cluster.local import LocalClusterArgs
from components.cluster.shared import SharedClusterArgs
from components.observability import MonitoringArgs
from components.site import Site
from components.stacks.args import OwnedClusterArgs
from dataplatform.resolve.audit import audit_args
from dataplatform.resolve.backup import velero_args
from dataplatform.resolve.frontdoor import front_door, stack_routes
from foundation.config.base import RuleViolations
from foundation.config.cluster import NodeBounds, workload_bounds
from foundation.config.loader import PROJECT
from foundation.config.monitoring import monitoring_enabled
from foundation.config.stack import StackConfig
from foundation.naming import default_kube_context

if TYPE_CHECKING:
    from components.cluster._eks_network import NodeGroupSpec
    from components.cluster.eks import EksClusterArgs
    from components.cluster.gke import GkeClusterArgs


def owned_cluster(cfg: StackConfig, site: Site) -> OwnedClusterArgs:
    """The cluster a platform stack or a dedicated domain creates, and what runs on it."""
    labels = site.k8s_labels
    routes = stack_routes(cfg, site)
    sign_on = routes.sign_on() if routes else {}  # the owner's Argo CD and Grafana
    return OwnedClusterArgs(
        cluster=cluster_args(cfg),
        argocd=ArgoCDArgs(profile=cfg.profile, overrides=cfg.apps.argocd.values,
                          labels=labels, sign_on=sign_on.get("argocd"))
        if cfg.apps.argocd.enabled else None,
        monitoring=MonitoringArgs(
            settings=cfg.monitoring, profile=cfg.profile, domain=cfg.domain,
            domain_namespaces=MonitoringArgs.domain_pattern(cfg.customer), labels=labels,
            audit=audit_args(cfg, site, front_door(cfg, site) is not None),
            sign_on=sign_on.get("grafana"),
        ) if monitoring_enabled(cfg) else None,
        backup=velero_args(cfg, site),
        front_door=front_door(cfg, site),
    )


def shared_cluster(cfg: StackConfig) -> SharedClusterArgs:
    """The platform stack's cluster, read through a StackReference."""
    ref = cfg.platform
    assert ref is not None  # the model requires platform.stack on a shared domain
    # The config namespace is the Pulumi project's name (Pulumi.yaml).
    fd = cfg.front_door
    return SharedClusterArgs(f"{ref.organization}/{PROJECT}/{ref.stack}",
                             front_door=fd.base_domain if fd.enabled else None)


def cluster_args(cfg: StackConfig) -> LocalClusterArgs | EksClusterArgs | GkeClusterArgs:
    """EKS, GKE or a kubeconfig context, by cloud."""
    if cfg.cloud == "aws":
        return eks_args(cfg)
    if cfg.cloud == "gcp":
        return gke_args(cfg)
    if cfg.cluster.kube_context:
        return LocalClusterArgs(cfg.cluster.kube_context, cfg.naming.base)
    return LocalClusterArgs(default_kube_context(cfg.customer), cfg.naming.base,
                            context_defaulted=True)


def eks_args(cfg: StackConfig, profiles: Path | None = None) -> EksClusterArgs:
    """EksClusterArgs for an aws stack that owns its cluster, sized from profiles/eks.yaml."""
    from components.cluster._eks_network import PROFILES_FILE, load_profile
    from components.cluster.eks import WORKLOAD_GROUP, EksClusterArgs

    if cfg.cloud != "aws" or not cfg.region or not cfg.owns_cluster:
        raise ValueError("EksCluster is for aws stacks that own their cluster "
                         f"(cloud is '{cfg.cloud}', kind '{cfg.kind}')")
    shape = load_profile(cfg.profile, profiles or PROFILES_FILE)
    aws_cfg = cfg.cluster.aws
    a = cfg.cluster.autoscaling
    overridden = any(v is not None for v in (
        aws_cfg.node_instance_types, aws_cfg.node_min_size, aws_cfg.node_max_size,
        aws_cfg.node_desired_size, a.min_nodes, a.desired_nodes, a.max_nodes))
    if overridden and WORKLOAD_GROUP not in {g.name for g in shape.node_groups}:
        raise RuleViolations([("cluster.aws", f"profile '{cfg.profile}' has no "
                               f"'{WORKLOAD_GROUP}' node group to apply cluster.aws.node* "
                               "overrides to (profiles/eks.yaml)")])
    groups = tuple(_eks_workload(cfg, g) if g.name == WORKLOAD_GROUP else g
                   for g in shape.node_groups)
    naming = cfg.naming
    return EksClusterArgs(
        cluster_name=naming.name(kind="eks-cluster"), region=cfg.region,
        profile=cfg.profile, version=cfg.cluster.version,
        vpc_cidr=cfg.cluster.network.vpc_cidr,
        service_cidr=cfg.cluster.network.service_cidr,
        vpc_id=aws_cfg.vpc_id, subnet_ids=tuple(aws_cfg.subnet_ids), zones=shape.zones,
        nat_gateway_per_zone=shape.nat_gateway_per_zone,
        endpoint_private_access=aws_cfg.endpoint_private_access,
        public_access_cidrs=tuple(cfg.cluster.public_access_cidrs),
        log_types=tuple(aws_cfg.log_types), log_retention_days=shape.log_retention_days,
        node_groups=groups,
        cluster_role_name=naming.name("eks-cluster", kind="iam-role"),
        node_role_name=naming.name("eks-node", kind="iam-role"),
        ebs_csi_role_name=naming.name("ebs-csi", kind="iam-role"),
        autoscaler_role_name=naming.name("cluster-autoscaler", kind="iam-role")
        if a.enabled else None,
    )


def _eks_workload(cfg: StackConfig, g: NodeGroupSpec) -> NodeGroupSpec:
    """The workload group with the stack's instance types and bounds."""
    b = workload_bounds(cfg.cluster, "aws", NodeBounds(g.min_size, g.desired_size, g.max_size),
                        g.name, f"profiles/eks.yaml, profile {cfg.profile}")
    update: dict[str, object] = {"min_size": b.min, "desired_size": b.desired, "max_size": b.max}
    if cfg.cluster.aws.node_instance_types:
        update["instance_types"] = cfg.cluster.aws.node_instance_types
    return g.model_copy(update=update)


def gke_args(cfg: StackConfig) -> GkeClusterArgs:
    """GkeClusterArgs for a gcp stack that owns its cluster; RuleViolations on the rules
    only GKE knows (control-plane range, pool overrides, name alphabet)."""
    from components.cluster._gke_network import load_profile
    from components.cluster.gke import GCP_NAME, GkeClusterArgs, override_pool

    if cfg.cloud != "gcp" or not cfg.region or not cfg.gcp_project:
        raise ValueError(f"GkeCluster needs cloud 'gcp', not '{cfg.cloud}'")
    c, g, prod = cfg.cluster, cfg.cluster.gcp, cfg.profile == "prod"
    p: list[tuple[str, str]] = []
    if not GCP_NAME.match(cfg.naming.base):
        p.append(("customer", f"GCP resource names must start with a letter: "
                              f"'{cfg.naming.base}'"))
    if prod and any(ipaddress.ip_network(x).prefixlen == 0 for x in c.public_access_cidrs):
        p.append(("cluster.publicAccessCidrs", "0.0.0.0/0 opens the GKE control plane to "
                  "the whole internet, which profile 'prod' does not allow"))
    if g.channel and "version" in c.model_fields_set:
        p.append(("cluster.version", f"cluster.version '{c.version}' pins the GKE version "
                  f"but cluster.gcp.releaseChannel is '{g.release_channel}': remove "
                  "cluster.version, or set releaseChannel to UNSPECIFIED to pin it"))
    master = ipaddress.ip_network(g.master_ipv4_cidr)
    for key, alias in (("vpc_cidr", "vpcCidr"), ("pod_cidr", "podCidr"),
                       ("service_cidr", "serviceCidr")):
        other = getattr(c.network, key)
        if master.overlaps(ipaddress.ip_network(other)):
            p.append(("cluster.gcp.masterIpv4Cidr", f"{g.master_ipv4_cidr} overlaps "
                      f"cluster.network.{alias} {other}"))
    profile = load_profile(cfg.profile)
    pools = []
    for pool in profile.node_pools:
        try:
            pools.append(override_pool(pool, c, f"profiles/gke.yaml, profile {cfg.profile}"))
        except RuleViolations as exc:
            p += exc.problems
    if p:
        raise RuleViolations(p)
    return GkeClusterArgs(
        naming=cfg.naming, project=cfg.gcp_project, region=cfg.region,
        location=cfg.region if profile.regional else f"{cfg.region}-b",
        vpc_cidr=c.network.vpc_cidr, pod_cidr=c.network.pod_cidr,
        service_cidr=c.network.service_cidr, pod_range_name=g.pod_range_name,
        service_range_name=g.service_range_name, existing_network=g.existing_network,
        existing_subnetwork=g.existing_subnetwork, master_ipv4_cidr=g.master_ipv4_cidr,
        authorized_cidrs=tuple(c.public_access_cidrs), release_channel=g.channel,
        version=None if g.channel else c.version, node_pools=tuple(pools),
        secrets_encryption=prod, deletion_protection=prod, prod=prod,
        security_group=g.security_group,
    )
