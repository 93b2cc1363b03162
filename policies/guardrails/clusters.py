"""Kubernetes clusters (EKS, GKE): secrets encryption, a fenced API endpoint, control-plane
logs, and a supported Kubernetes version."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pulumi_policy import Severity

from guardrails._base import flag, get, items, label, resource_policy, string_list
from guardrails._cidrs import coverage, shown

EKS = "aws:eks/cluster:Cluster"
EKS_NODES = "aws:eks/nodeGroup:NodeGroup"
GKE = "gcp:container/cluster:Cluster"
GKE_NODES = "gcp:container/nodePool:NodePool"
CHANNELS = ("RAPID", "REGULAR", "STABLE", "EXTENDED")
VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:[.-].*)?$")


def check_secrets_encryption(args, cfg) -> Iterator[str]:
    if args.resource_type == EKS:
        configs = get(args.props, "encryptionConfig")
        configs = items(configs) or ([configs] if configs else [])  # list in old providers
        if not any("secrets" in items(get(c, "resources")) and get(c, "provider.keyArn")
                   for c in configs):
            yield (f"{label(args)} stores Kubernetes Secrets unencrypted in etcd: set "
                   "encryption_config with resources=['secrets'] and provider.key_arn of a "
                   "rotating KMS key")
    elif (get(args.props, "databaseEncryption.state") != "ENCRYPTED"
          or not get(args.props, "databaseEncryption.keyName")):
        yield (f"{label(args)} stores Kubernetes Secrets with Google-managed keys only: set "
               "database_encryption state='ENCRYPTED' with key_name of a Cloud KMS key")


def check_endpoint(args, cfg) -> Iterator[str]:
    if args.resource_type == EKS:
        vpc = get(args.props, "vpcConfig") or {}
        public = get(vpc, "endpointPublicAccess")
        if public is not None and not flag(public):  # AWS's default is public
            return
        cidrs = [str(c) for c in items(get(vpc, "publicAccessCidrs"))]
        covered = coverage(cidrs or ["0.0.0.0/0"])
        if covered.public:
            listed = shown(cidrs) or "unset, i.e. 0.0.0.0/0"
            yield (f"{label(args)} has a public API endpoint open to the internet "
                   f"(publicAccessCidrs {listed}: together {covered.describe()}): list only "
                   "your CI runners' and VPN's CIDRs in cluster.publicAccessCidrs, or set "
                   "endpoint_public_access=False")
        return
    private = get(args.props, "privateClusterConfig") or {}
    if not flag(get(private, "enablePrivateNodes")):
        yield (f"{label(args)} gives its nodes public IPs: set private_cluster_config "
               "enable_private_nodes=True (with Cloud NAT for egress)")
    if flag(get(private, "enablePrivateEndpoint")):
        return
    networks = get(args.props, "masterAuthorizedNetworksConfig") or {}
    cidrs = [str(get(b, "cidrBlock")) for b in items(get(networks, "cidrBlocks"))]
    covered = coverage(cidrs)
    if not networks or not cidrs:
        yield (f"{label(args)} has a public control-plane endpoint without an allow-list: set "
               "master_authorized_networks_config cidr_blocks to your CI runners' and VPN's "
               "CIDRs (cluster.publicAccessCidrs), or enable_private_endpoint=True")
    elif covered.public:
        yield (f"{label(args)} authorizes the internet to reach its control plane "
               f"(master authorized networks {shown(cidrs)}: together "
               f"{covered.describe()}): list only your CI runners' and VPN's CIDRs "
               "(cluster.publicAccessCidrs), or enable_private_endpoint=True")
    if flag(get(networks, "gcpPublicCidrsAccessEnabled")):
        yield (f"{label(args)} lets every Google Cloud public IP reach its endpoint: set "
               "gcp_public_cidrs_access_enabled=False")


def check_logging(args, cfg) -> Iterator[str]:
    if args.resource_type == EKS:
        enabled = set(items(get(args.props, "enabledClusterLogTypes")))
        missing = [t for t in cfg["requiredLogTypes"] if t not in enabled]
        if missing:
            yield (f"{label(args)} does not send {', '.join(missing)} control-plane logs to "
                   "CloudWatch: add them to enabled_cluster_log_types (cluster.aws.logTypes)")
        return
    if get(args.props, "loggingService") == "none":
        yield (f"{label(args)} has logging_service 'none': remove it (or use "
               "'logging.googleapis.com/kubernetes')")
    components = get(args.props, "loggingConfig.enableComponents")
    if components is not None and "SYSTEM_COMPONENTS" not in items(components):
        yield (f"{label(args)} does not log its system components: add 'SYSTEM_COMPONENTS' to "
               "logging_config.enable_components")


def _older(version: str, minimum: str) -> bool | None:
    """True if `version` is older than `minimum`; None if it is not a version at all."""
    got, want = VERSION.match(version), VERSION.match(minimum)
    if not got or not want:
        return None
    return tuple(map(int, got.groups())) < tuple(map(int, want.groups()))


def check_version(args, cfg) -> Iterator[str]:
    minimum = str(cfg["minimumVersion"])
    key = {EKS: "version", EKS_NODES: "version", GKE: "minMasterVersion",
           GKE_NODES: "version"}[args.resource_type]
    version = get(args.props, key)
    if version is None:
        if args.resource_type == EKS:
            yield (f"{label(args)} does not pin its Kubernetes version: set version "
                   f"(cluster.version) to {minimum} or newer")
        elif (args.resource_type == GKE
              and get(args.props, "releaseChannel.channel") not in CHANNELS):
            yield (f"{label(args)} has neither a release channel nor a pinned version: set "
                   "release_channel (REGULAR or STABLE), or min_master_version "
                   f"{minimum} or newer")
        return  # node groups and pools follow their cluster
    if str(version) == "latest" and args.resource_type in (GKE, GKE_NODES):
        return
    older = _older(str(version), minimum)
    if older is None:
        yield f"{label(args)} has version '{version}', which is not a Kubernetes version"
    elif older:
        yield (f"{label(args)} runs Kubernetes {version}, older than the supported "
               f"minimum {minimum}: upgrade (cluster.version) one minor version at a time")


POLICIES = [
    resource_policy(
        "cluster-secrets-encryption",
        "Prod clusters encrypt Kubernetes Secrets with a customer-managed KMS key.",
        (EKS, GKE), check_secrets_encryption, prod_only=True, severity=Severity.HIGH,
        fix="EKS: encryption_config (resources ['secrets'], provider.key_arn). GKE: "
            "database_encryption (state ENCRYPTED, key_name)."),
    resource_policy(
        "cluster-endpoint-restricted",
        "The cluster API endpoint is private or allow-listed; an allow list that covers the "
        "internet (or nearly all of it, together) counts as open.",
        (EKS, GKE), check_endpoint, severity=Severity.CRITICAL,
        fix="List the CIDRs allowed to reach the API in cluster.publicAccessCidrs (EKS "
            "public_access_cidrs, GKE master authorized networks), with private GKE nodes."),
    resource_policy(
        "cluster-logging",
        "Clusters send their control-plane logs to the cloud's logging.",
        (EKS, GKE), check_logging, severity=Severity.MEDIUM,
        config={"requiredLogTypes": string_list(
            ["api", "audit", "authenticator"],
            "EKS control-plane log types that must be enabled.")},
        fix="EKS: enabled_cluster_log_types (cluster.aws.logTypes). GKE: keep "
            "SYSTEM_COMPONENTS in logging_config."),
    resource_policy(
        "cluster-kubernetes-version",
        "Clusters and node pools run a supported Kubernetes version.",
        (EKS, EKS_NODES, GKE, GKE_NODES), check_version, severity=Severity.MEDIUM,
        config={"minimumVersion": {
            "type": "string", "pattern": r"^\d+\.\d+$", "default": "1.31",
            "description": "Oldest Kubernetes minor version allowed, e.g. 1.31."}},
        fix="Set cluster.version to the minimum or newer (GKE: a release channel)."),
]
