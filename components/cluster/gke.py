"""GkeCluster: a private, VPC-native GKE Standard cluster with its network and node pools.

Security baseline: private nodes behind Cloud NAT, a control plane reachable only from
`cluster.publicAccessCidrs`, Workload Identity, Shielded Nodes with secure boot, a
least-privilege node service account, Dataplane V2 (NetworkPolicy enforcement) and, in
prod, Kubernetes secrets encrypted with a Cloud KMS key and deletion protection. With
`cluster.gcp.securityGroup`, Google Groups for RBAC: the domains' admin groups are Google Groups.
Labels come from the GCP provider's default labels; nothing here sets them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components.cluster._gke_network import (
    GkeNetwork,
    NodePoolSpec,
    create_network,
    kubeconfig,
)
from components.cluster.base import ClusterHandle
from foundation.cidrs import PUBLIC_MESSAGE, covers_public, shown
from foundation.config.cluster import ClusterConfig, NodeBounds, workload_bounds
from foundation.naming import Naming

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
NODE_ROLES = (  # what a node needs to report, and nothing more
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
)
KMS_ROTATION = "7776000s"  # 90 days
GCP_NAME = re.compile(r"^[a-z][-a-z0-9]*[a-z0-9]$")


@dataclass(frozen=True)
class GkeClusterArgs:
    """Inputs of GkeCluster. Build them with `from_config`, which checks the rules."""

    naming: Naming
    """Deterministic names of the stack (cluster, VPC, node service account, key ring)."""
    project: str
    """GCP project id."""
    region: str
    """Region of the network, the KMS key ring and (prod) the cluster."""
    location: str
    """Cluster location: the region (regional, prod) or a zone like `<region>-b` (dev)."""
    vpc_cidr: str
    """Primary range of the node subnetwork."""
    pod_cidr: str
    """Secondary range for pods."""
    service_cidr: str
    """Secondary range for services."""
    pod_range_name: str
    """Name of the pods secondary range."""
    service_range_name: str
    """Name of the services secondary range."""
    existing_network: str | None
    """Existing VPC to use instead of creating one (with existing_subnetwork), or None."""
    existing_subnetwork: str | None
    """Existing subnetwork to use instead of creating one, or None."""
    master_ipv4_cidr: str
    """Private /28 of the control plane."""
    authorized_cidrs: tuple[str, ...]
    """CIDRs allowed to reach the control plane's public endpoint (none: no one)."""
    release_channel: str | None
    """RAPID, REGULAR or STABLE; None when the version is pinned."""
    version: str | None
    """Pinned control-plane version (`min_master_version`), only without a channel."""
    node_pools: tuple[NodePoolSpec, ...]
    """Node pools: profiles/gke.yaml with the stack's workload-pool overrides."""
    secrets_encryption: bool
    """Encrypt Kubernetes secrets with a Cloud KMS key (application-layer encryption)."""
    deletion_protection: bool
    """Refuse to delete the cluster (prod)."""
    prod: bool = False
    """Profile prod: the control plane may not be reachable from the internet."""
    security_group: str | None = None
    """Google Groups for RBAC: `gke-security-groups@<domain>`, whose member groups (by
    email) GKE puts in a user's Kubernetes groups, so the domains' RoleBindings to
    `isolation.adminGroups` reach people. None: off."""

    def __post_init__(self):
        if self.release_channel and self.version:
            raise ValueError("a pinned version and a release channel are mutually exclusive")
        if self.prod and covers_public(self.authorized_cidrs):
            raise ValueError("cluster.publicAccessCidrs opens the prod API endpoint to the "
                             "internet: " + PUBLIC_MESSAGE.format(cidrs=shown(
                                 list(self.authorized_cidrs))))


def _slug(role: str) -> str:
    return role.removeprefix("roles/").replace(".", "-").lower()


def override_pool(pool: NodePoolSpec, cluster: ClusterConfig, where: str) -> NodePoolSpec:
    """A workload pool with the stack's machine type and bounds (`cluster.autoscaling`, or
    `cluster.gcp.workloadPool`), checked; RuleViolations keyed from the file root."""
    if pool.role != "workload":
        return pool
    b = workload_bounds(cluster, "gcp", NodeBounds(pool.min_nodes, None, pool.max_nodes),
                        pool.name, where)
    machine = cluster.gcp.workload_pool.machine_type
    return pool.model_copy(update={"min_nodes": b.min, "max_nodes": b.max,
                                   **({"machine_type": machine} if machine else {})})


class GkeCluster(pulumi.ComponentResource):
    """A private GKE Standard cluster, its network, node pools and Kubernetes provider."""

    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    location: pulumi.Output[str]
    workload_pool: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    node_service_account: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    handle: ClusterHandle

    def __init__(self, name: str, args: GkeClusterArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:cluster:GkeCluster", name, None, opts)
        project, naming = args.project, args.naming
        if args.existing_network:
            # The stack config (foundation/config/gcp.py) accepts both or neither.
            if args.existing_subnetwork is None:
                raise ValueError(f"GkeCluster {name}: existing_network needs "
                                 "existing_subnetwork")
            net = GkeNetwork(args.existing_network, args.existing_subnetwork, [])
        else:
            net = create_network(
                name, naming, project, args.region, vpc_cidr=args.vpc_cidr,
                pod_cidr=args.pod_cidr, service_cidr=args.service_cidr,
                pod_range=args.pod_range_name, service_range=args.service_range_name,
                parent=self)

        node_sa, grants = self._node_identity(name, args)
        workload_pool = f"{project}.svc.id.goog"
        cluster = self._cluster(name, args, net, workload_pool)
        pools = [self._node_pool(name, args, cluster, pool, node_sa, [*grants, *net.ready])
                 for pool in args.node_pools]

        self.name = cluster.name
        self.location = cluster.location
        self.endpoint = cluster.endpoint.apply(lambda ip: f"https://{ip}")
        # The cluster reports the pool it was given above; the SDK types it optional.
        self.workload_pool = cluster.workload_identity_config.apply(
            lambda w: w.workload_pool if w and w.workload_pool is not None else workload_pool)
        self.oidc_issuer = pulumi.Output.format(
            "https://container.googleapis.com/v1/projects/{0}/locations/{1}/clusters/{2}",
            project, cluster.location, cluster.name)
        self.node_service_account = node_sa.email
        ca = cluster.master_auth.apply(lambda m: m.cluster_ca_certificate)
        self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(
            cluster.location, cluster.name, self.endpoint, ca).apply(
            lambda v: kubeconfig(f"gke_{project}_{v[0]}_{v[1]}", v[2], v[3])))
        provider = k8s.Provider(
            f"{name}-provider", kubeconfig=self.kubeconfig,
            # Server-side apply lets Argo CD and Pulumi share field ownership cleanly.
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=pools))
        self.handle = ClusterHandle(self.name, provider, self.kubeconfig,
                                    pulumi.Output.from_input(None), self.endpoint,
                                    self.oidc_issuer, pulumi.Output.from_input(None),
                                    pulumi.Output.from_input({"network": net.network,
                                                              "subnetwork": net.subnetwork}))
        self.register_outputs({
            "name": self.name, "location": self.location, "endpoint": self.endpoint,
            "workload_pool": self.workload_pool, "oidc_issuer": self.oidc_issuer,
            "node_service_account": self.node_service_account, "kubeconfig": self.kubeconfig,
        })

    def _node_identity(self, name: str, args: GkeClusterArgs
                       ) -> tuple[gcp.serviceaccount.Account, list[gcp.projects.IAMMember]]:
        """The nodes' own service account, with the least roles nodes need."""
        child, project, naming = pulumi.ResourceOptions(parent=self), args.project, args.naming
        node_sa = gcp.serviceaccount.Account(
            f"{name}-nodes", account_id=naming.name("gke-nodes", kind="gcp-service-account"),
            display_name=f"GKE nodes of {naming.base}", project=project, opts=child)
        grants = [gcp.projects.IAMMember(f"{name}-nodes-{_slug(role)}", project=project,
                                         role=role, member=node_sa.member, opts=child)
                  for role in NODE_ROLES]
        return node_sa, grants

    def _cluster(self, name: str, args: GkeClusterArgs, net: GkeNetwork,
                 workload_pool: str) -> gcp.container.Cluster:
        """The private control plane: VPC-native, Dataplane V2, workload identity, secrets
        encrypted with a key of our own in prod."""
        project, naming = args.project, args.naming
        encryption, cluster_deps = None, []
        if args.secrets_encryption:
            key_id, grant = self._secrets_key(name, args)
            encryption = gcp.container.ClusterDatabaseEncryptionArgs(state="ENCRYPTED",
                                                                     key_name=key_id)
            cluster_deps.append(grant)
        return gcp.container.Cluster(
            f"{name}-cluster",
            name=naming.name(kind="gke-cluster"), project=project, location=args.location,
            network=net.network, subnetwork=net.subnetwork, networking_mode="VPC_NATIVE",
            # Node pools are managed below; GKE insists on creating (then drops) a default one.
            remove_default_node_pool=True, initial_node_count=1,
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=args.pod_range_name,
                services_secondary_range_name=args.service_range_name),
            private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True, enable_private_endpoint=False,
                master_ipv4_cidr_block=args.master_ipv4_cidr),
            master_authorized_networks_config=gcp.container
            .ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                    cidr_block=cidr, display_name=f"public-access-{i}")
                    for i, cidr in enumerate(args.authorized_cidrs)],
                gcp_public_cidrs_access_enabled=False),
            release_channel=gcp.container.ClusterReleaseChannelArgs(
                channel=args.release_channel or "UNSPECIFIED"),
            min_master_version=args.version,
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=workload_pool),
            enable_shielded_nodes=True,
            datapath_provider="ADVANCED_DATAPATH",  # Dataplane V2 enforces NetworkPolicies
            database_encryption=encryption,
            logging_config=gcp.container.ClusterLoggingConfigArgs(
                enable_components=["SYSTEM_COMPONENTS", "WORKLOADS"]),
            # Monitoring's WORKLOADS component is gone since GKE 1.24: workload metrics come
            # from Google Managed Prometheus.
            monitoring_config=gcp.container.ClusterMonitoringConfigArgs(
                enable_components=["SYSTEM_COMPONENTS"],
                managed_prometheus=gcp.container.ClusterMonitoringConfigManagedPrometheusArgs(
                    enabled=True)),
            cost_management_config=gcp.container.ClusterCostManagementConfigArgs(enabled=True),
            authenticator_groups_config=gcp.container.ClusterAuthenticatorGroupsConfigArgs(
                security_group=args.security_group) if args.security_group else None,
            deletion_protection=args.deletion_protection,
            opts=pulumi.ResourceOptions(parent=self, depends_on=cluster_deps))

    def _secrets_key(self, name: str, args: GkeClusterArgs):
        """KMS key for application-layer secrets encryption, usable by the GKE agent."""
        child = pulumi.ResourceOptions(parent=self)
        # Key rings and keys cannot be deleted in GCP: Pulumi only forgets them on destroy.
        ring = gcp.kms.KeyRing(f"{name}-keyring", name=args.naming.name("gke"),
                               project=args.project, location=args.region, opts=child)
        key = gcp.kms.CryptoKey(f"{name}-secrets-key", name="gke-secrets", key_ring=ring.id,
                                purpose="ENCRYPT_DECRYPT", rotation_period=KMS_ROTATION,
                                opts=pulumi.ResourceOptions(parent=self, protect=True))
        number = gcp.organizations.get_project_output(
            project_id=args.project, opts=pulumi.InvokeOutputOptions(parent=self)).number
        grant = gcp.kms.CryptoKeyIAMMember(
            f"{name}-secrets-key-gke", crypto_key_id=key.id,
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=number.apply(lambda n: "serviceAccount:service-"
                                f"{n}@container-engine-robot.iam.gserviceaccount.com"),
            opts=child)
        return key.id, grant

    def _node_pool(self, name: str, args: GkeClusterArgs, cluster: gcp.container.Cluster,
                   pool: NodePoolSpec, sa: gcp.serviceaccount.Account,
                   deps: list[pulumi.Resource]) -> gcp.container.NodePool:
        c = gcp.container
        return c.NodePool(
            f"{name}-pool-{pool.name}", name=pool.name, project=args.project,
            location=args.location, cluster=cluster.name,
            autoscaling=c.NodePoolAutoscalingArgs(  # counts are per zone
                min_node_count=pool.min_nodes, max_node_count=pool.max_nodes,
                location_policy="BALANCED"),
            management=c.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            upgrade_settings=c.NodePoolUpgradeSettingsArgs(max_surge=1, max_unavailable=0),
            node_config=c.NodePoolNodeConfigArgs(
                machine_type=pool.machine_type, disk_size_gb=pool.disk_size_gb,
                disk_type=pool.disk_type, image_type="COS_CONTAINERD",
                service_account=sa.email, oauth_scopes=[CLOUD_PLATFORM],
                shielded_instance_config=c.NodePoolNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True),
                workload_metadata_config=c.NodePoolNodeConfigWorkloadMetadataConfigArgs(
                    mode="GKE_METADATA"),
                metadata={"disable-legacy-endpoints": "true"},
                labels=pool.labels or None,
                taints=[c.NodePoolNodeConfigTaintArgs(key=t.key, value=t.value,
                                                      effect=t.effect)
                        for t in pool.taints] or None),
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps))
