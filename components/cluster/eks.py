"""EksCluster: an EKS cluster with its network, nodes, IRSA, EBS CSI and a Kubernetes provider.

Baseline: nodes in private subnets behind NAT, scaled between their profile bounds by
cluster-autoscaler (`components/cluster/autoscaler.py`), a private API endpoint (public only for
`cluster.publicAccessCidrs`, never 0.0.0.0/0 in prod), secrets encrypted with a rotating
KMS key, all control-plane logs with bounded retention, access entries (API auth mode),
IRSA, and an encrypted gp3 default StorageClass. Tags come from the provider's defaults.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.cluster import _eks_iam as iam
from components.cluster._eks_kubeconfig import kubeconfig, oidc_issuer
from components.cluster._eks_network import (
    MAX_VPC_PREFIX,
    Network,
    NodeGroupSpec,
    create_network,
    existing_network,
)
from components.cluster.autoscaler import (
    ClusterAutoscaler,
    ClusterAutoscalerArgs,
    image_mismatch,
)
from components.cluster.base import ClusterHandle
from foundation.cidrs import PUBLIC_MESSAGE, covers_public, shown
from foundation.config.base import RuleViolations

WORKLOAD_GROUP = "workload"
EBS_CSI_SERVICE_ACCOUNT = "system:serviceaccount:kube-system:ebs-csi-controller-sa"
SERVICE_RANGES = [ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12",
                                                     "192.168.0.0/16")]


@dataclass(frozen=True)
class EksClusterArgs:
    """Inputs of EksCluster (`dataplatform/resolve/cluster.py` derives them from a stack file)."""

    cluster_name: str
    """EKS cluster name (deterministic, from cfg.naming)."""
    region: str
    """AWS region of the provider; written into the kubeconfig's `aws eks get-token`."""
    profile: Literal["dev", "prod"]
    """Sizing and protection profile (prod: deletion protection, volumes retained)."""
    version: str
    """Pinned Kubernetes version, e.g. '1.33'."""
    vpc_cidr: str
    """Range of the VPC to create (ignored with `vpc_id`)."""
    service_cidr: str
    """Kubernetes service range (RFC 1918, /12 to /24)."""
    vpc_id: str | None
    """Bring-your-own VPC id, or None to create the network."""
    subnet_ids: tuple[str, ...]
    """Bring-your-own private subnets (with `vpc_id`)."""
    zones: int
    """Availability zones of the created VPC."""
    nat_gateway_per_zone: bool
    """One NAT gateway per zone (HA) instead of one for the VPC."""
    endpoint_private_access: bool
    """Enable the private API endpoint."""
    public_access_cidrs: tuple[str, ...]
    """CIDRs allowed on the public API endpoint; empty: no public endpoint."""
    log_types: tuple[str, ...]
    """Control-plane log types sent to CloudWatch."""
    log_retention_days: int
    """Retention of the control-plane log group."""
    node_groups: tuple[NodeGroupSpec, ...]
    """Managed node groups, profile values with the stack's overrides applied."""
    cluster_role_name: str
    """IAM role name of the control plane."""
    node_role_name: str
    """IAM role name of the nodes."""
    ebs_csi_role_name: str
    """IAM role name of the EBS CSI controller (IRSA)."""
    autoscaler_role_name: str | None = None
    """IAM role name of cluster-autoscaler (IRSA); None: no autoscaler, the node groups
    stay at their desired size (`cluster.autoscaling.enabled: false`)."""

    def __post_init__(self) -> None:
        # (key, message) pairs: `program.load` reports them as `dataplatform:<key>`.
        p: list[tuple[str, str]] = []
        if self.profile == "prod" and covers_public(self.public_access_cidrs):
            p.append(("cluster.publicAccessCidrs", "opens the prod API endpoint to the "
                      "internet: " + PUBLIC_MESSAGE.format(cidrs=shown(
                          list(self.public_access_cidrs))) + ", or none for a private "
                      "endpoint only"))
        if not self.endpoint_private_access and not self.public_access_cidrs:
            p.append(("cluster.aws.endpointPrivateAccess", "with no cluster.publicAccessCidrs "
                      "the API server would have no endpoint at all"))
        if bool(self.vpc_id) != bool(self.subnet_ids) or 0 < len(set(self.subnet_ids)) < 2:
            p.append(("cluster.aws.subnetIds", "a VPC of your own needs vpcId and at least 2 "
                      "subnets"))
        if not self.vpc_id and ipaddress.ip_network(self.vpc_cidr).prefixlen > MAX_VPC_PREFIX:
            p.append(("cluster.network.vpcCidr", f"{self.vpc_cidr} is too small for the "
                      f"cluster's subnets; use a /{MAX_VPC_PREFIX} or larger"))
        svc = ipaddress.ip_network(self.service_cidr)
        # The ranges are all IPv4: an IPv6 service range is inside none of them.
        if not (12 <= svc.prefixlen <= 24 and isinstance(svc, ipaddress.IPv4Network)
                and any(svc.subnet_of(r) for r in SERVICE_RANGES)):
            p.append(("cluster.network.serviceCidr", "EKS needs a /12 to /24 inside "
                      f"10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, not {self.service_cidr}"))
        for g in self.node_groups:
            if not g.min_size <= g.desired_size <= g.max_size:
                p.append(("cluster.aws", f"node group '{g.name}': needs minSize <= "
                          f"desiredSize <= maxSize, got {g.min_size} / {g.desired_size} / "
                          f"{g.max_size} (check cluster.aws.node*Size against profiles/eks.yaml)"))
        if len({g.name for g in self.node_groups}) != len(self.node_groups):
            p.append(("cluster.aws", "node groups: names must be unique"))
        mismatch = image_mismatch(self.version, self.profile) \
            if self.autoscaler_role_name else None
        if mismatch:
            p.append(("cluster.version", mismatch))
        if p:
            raise RuleViolations(p)


class EksCluster(pulumi.ComponentResource):
    """An EKS cluster built from pulumi-aws resources, ready for the platform's apps."""

    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    cluster_security_group_id: pulumi.Output[str]
    handle: ClusterHandle

    def __init__(self, name: str, args: EksClusterArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:cluster:EksCluster", name, None, opts)
        if args.vpc_id:
            net = existing_network(args.vpc_id, args.subnet_ids)
        else:
            net = create_network(name, cluster_name=args.cluster_name, vpc_cidr=args.vpc_cidr,
                                 zones=args.zones, nat_per_zone=args.nat_gateway_per_zone,
                                 parent=self)
        cluster, issuer, oidc = self._control_plane(name, args, net)
        node_groups = self._node_groups(name, args, net, cluster)
        ebs_csi = self._ebs_csi(name, args, cluster, oidc, issuer, node_groups)
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(cluster.name, cluster.endpoint,
                              cluster.certificate_authority.data).apply(
                lambda v: kubeconfig(v[0], v[1], v[2], args.region)))
        provider = k8s.Provider(f"{name}-provider", kubeconfig=self.kubeconfig,
                                enable_server_side_apply=True,
                                opts=pulumi.ResourceOptions(parent=self))
        self._default_storage_class(name, args, provider, ebs_csi)
        if args.autoscaler_role_name:
            ClusterAutoscaler(
                f"{name}-autoscaler",
                ClusterAutoscalerArgs(args.cluster_name, args.region, args.profile,
                                      args.autoscaler_role_name, oidc.arn, issuer, provider),
                opts=pulumi.ResourceOptions(parent=self), depends_on=node_groups)

        self.name = cluster.name
        self.endpoint = cluster.endpoint
        self.oidc_issuer = issuer
        self.oidc_provider_arn = oidc.arn
        self.vpc_id = net.vpc_id
        self.private_subnet_ids = pulumi.Output.all(*net.private_subnet_ids)
        self.cluster_security_group_id = cluster.vpc_config.cluster_security_group_id
        self.handle = ClusterHandle(self.name, provider, self.kubeconfig,
                                    pulumi.Output.from_input(None), self.endpoint,
                                    self.oidc_issuer, self.oidc_provider_arn,
                                    pulumi.Output.from_input({
                                        "vpcId": self.vpc_id,
                                        "privateSubnetIds": self.private_subnet_ids,
                                        "clusterSecurityGroupId":
                                            self.cluster_security_group_id}))
        self.register_outputs({
            "name": self.name, "endpoint": self.endpoint, "oidc_issuer": self.oidc_issuer,
            "oidc_provider_arn": self.oidc_provider_arn, "kubeconfig": self.kubeconfig,
            "vpc_id": self.vpc_id, "private_subnet_ids": self.private_subnet_ids,
            "cluster_security_group_id": self.cluster_security_group_id,
        })

    def _control_plane(self, name: str, args: EksClusterArgs, net: Network
                       ) -> tuple[aws.eks.Cluster, pulumi.Output[str],
                                  aws.iam.OpenIdConnectProvider]:
        """The cluster with its role, secrets key and log group, and its OIDC provider."""
        child = pulumi.ResourceOptions(parent=self)
        prod = args.profile == "prod"
        cluster_role, cluster_attach = iam.role(
            f"{name}-cluster", args.cluster_role_name,
            iam.service_trust("eks.amazonaws.com", tag_session=True),
            iam.CLUSTER_POLICIES, args.region, self)
        # Prod platform data is kept as domain data is: the key that decrypts every etcd
        # Secret and the audit trail survive a mistaken `destroy` or a rename.
        kept = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True) \
            if prod else child
        key = aws.kms.Key(f"{name}-secrets-key",
                          description=f"EKS secrets encryption, cluster {args.cluster_name}",
                          enable_key_rotation=True, deletion_window_in_days=30 if prod else 7,
                          opts=kept)
        # EKS would create this group itself, with no retention; owning it bounds the cost.
        logs = aws.cloudwatch.LogGroup(f"{name}-logs",
                                       name=f"/aws/eks/{args.cluster_name}/cluster",
                                       retention_in_days=args.log_retention_days, opts=kept)
        cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            version=args.version,
            role_arn=cluster_role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=net.private_subnet_ids,
                endpoint_private_access=args.endpoint_private_access,
                endpoint_public_access=bool(args.public_access_cidrs),
                public_access_cidrs=list(args.public_access_cidrs) or None,
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API", bootstrap_cluster_creator_admin_permissions=True),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn),
                resources=["secrets"]),
            kubernetes_network_config=aws.eks.ClusterKubernetesNetworkConfigArgs(
                ip_family="ipv4", service_ipv4_cidr=args.service_cidr),
            enabled_cluster_log_types=list(args.log_types),
            deletion_protection=prod,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*cluster_attach, logs]),
        )
        issuer = cluster.identities.apply(oidc_issuer)
        oidc = aws.iam.OpenIdConnectProvider(f"{name}-oidc", url=issuer,
                                             client_id_lists=["sts.amazonaws.com"], opts=child)
        return cluster, issuer, oidc

    def _node_groups(self, name: str, args: EksClusterArgs, net: Network,
                     cluster: aws.eks.Cluster) -> list[aws.eks.NodeGroup]:
        """The node role and one managed node group per profile group."""
        node_role, node_attach = iam.role(
            f"{name}-node", args.node_role_name, iam.service_trust("ec2.amazonaws.com"),
            iam.NODE_POLICIES, args.region, self)
        scaled = args.autoscaler_role_name is not None
        # The autoscaler owns the desired size once the group exists: an update must not
        # reset it to the profile's (scaling the cluster down under load).
        ignore = ["scalingConfig.desiredSize"] if scaled else None
        return [
            aws.eks.NodeGroup(
                f"{name}-ng-{g.name}",
                cluster_name=cluster.name,
                node_group_name=g.name,
                node_role_arn=node_role.arn,
                subnet_ids=net.private_subnet_ids,
                ami_type="AL2023_x86_64_STANDARD",
                capacity_type=g.capacity_type,
                instance_types=g.instance_types,
                disk_size=g.disk_size,
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                    min_size=g.min_size, max_size=g.max_size, desired_size=g.desired_size),
                update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
                labels=g.labels or None,
                taints=[aws.eks.NodeGroupTaintArgs(key=t.key, value=t.value, effect=t.effect)
                        for t in g.taints] or None,
                tags=iam.discovery_tags(args.cluster_name) if scaled else None,
                opts=pulumi.ResourceOptions(parent=self, depends_on=node_attach,
                                            ignore_changes=ignore),
            )
            for g in args.node_groups
        ]

    def _ebs_csi(self, name: str, args: EksClusterArgs, cluster: aws.eks.Cluster,
                 oidc: aws.iam.OpenIdConnectProvider, issuer: pulumi.Output[str],
                 node_groups: list[aws.eks.NodeGroup]) -> aws.eks.Addon:
        """The EBS CSI driver add-on, with its IRSA role."""
        ebs_role, ebs_attach = iam.role(
            f"{name}-ebs-csi", args.ebs_csi_role_name,
            iam.irsa_trust(oidc.arn, issuer, EBS_CSI_SERVICE_ACCOUNT),
            iam.EBS_CSI_POLICIES, args.region, self)
        ebs_csi = aws.eks.Addon(
            f"{name}-ebs-csi",
            cluster_name=cluster.name,
            addon_name="aws-ebs-csi-driver",
            service_account_role_arn=ebs_role.arn,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            # The controller needs nodes to run on before the add-on reports ACTIVE.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*node_groups, *ebs_attach]),
        )
        return ebs_csi

    def _default_storage_class(self, name: str, args: EksClusterArgs, provider: k8s.Provider,
                               ebs_csi: aws.eks.Addon) -> None:
        """gp3, encrypted, the cluster's default; prod keeps volumes of deleted claims."""
        k8s.storage.v1.StorageClass(
            f"{name}-gp3",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="gp3",
                annotations={"storageclass.kubernetes.io/is-default-class": "true"}),
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"},
            reclaim_policy="Retain" if args.profile == "prod" else "Delete",
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[ebs_csi]),
        )
