"""AuditSignalsArgs of a stack that owns its cluster and runs monitoring (security signals)."""

from __future__ import annotations

from components.argocd import ArgoCDArgs
from components.frontdoor.args import NAMESPACE as GATEWAY_NAMESPACE
from components.observability.audit import PLATFORM_NAMESPACES, AuditSignalsArgs
from components.site import Site
from foundation.config.base import RuleViolations
from foundation.config.stack import StackConfig

AUDIT_LOG = "audit"
"""The EKS control-plane log type the security signals read."""


def audit_args(cfg: StackConfig, site: Site, front_door: bool) -> AuditSignalsArgs:
    """The security signals of the cluster `cfg` owns (monitoring on: the caller checks);
    `front_door`: the cluster runs the Gateway."""
    naming = cfg.naming
    cluster_name, identity = "", ""
    if cfg.cloud == "aws":
        if AUDIT_LOG not in cfg.cluster.aws.log_types:
            raise RuleViolations([("cluster.aws.logTypes", (
                "the security signals (monitoring on) read the EKS 'audit' log: add 'audit' "
                "to cluster.aws.logTypes, or turn monitoring off"))])
        cluster_name = naming.name(kind="eks-cluster")
        identity = naming.name("audit-exporter", kind="iam-role")
    elif cfg.cloud == "gcp":
        cluster_name = naming.name(kind="gke-cluster")
        identity = naming.name("audit", kind="gcp-service-account")
    platform = [*PLATFORM_NAMESPACES, cfg.monitoring.namespace]
    if cfg.apps.argocd.enabled:
        platform.append(ArgoCDArgs(profile=cfg.profile).namespace)
    if front_door:
        platform.append(GATEWAY_NAMESPACE)
    return AuditSignalsArgs(
        cloud=cfg.cloud, base=naming.base, profile=cfg.profile, domain=cfg.domain,
        namespace=cfg.monitoring.namespace, platform_namespaces=tuple(platform),
        front_door=front_door, cluster_name=cluster_name, identity_name=identity,
        region=cfg.region, project=cfg.gcp_project, labels=site.k8s_labels)
