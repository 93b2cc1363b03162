"""IAM of EksCluster: roles, their trust policies and managed-policy attachments."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components.identity.workload_identity import irsa_trust_policy

CLUSTER_POLICIES = {"policy": "AmazonEKSClusterPolicy"}
NODE_POLICIES = {
    "worker": "AmazonEKSWorkerNodePolicy",
    "cni": "AmazonEKS_CNI_Policy",
    "ecr": "AmazonEC2ContainerRegistryReadOnly",
}
EBS_CSI_POLICIES = {"policy": "service-role/AmazonEBSCSIDriverPolicy"}


def partition(region: str) -> str:
    """The AWS partition of `region` (for ARNs of AWS-managed policies)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def managed_policy_arn(region: str, policy: str) -> str:
    return f"arn:{partition(region)}:iam::aws:policy/{policy}"


def service_trust(service: str, *, tag_session: bool = False) -> str:
    """Trust policy letting an AWS service (e.g. `eks.amazonaws.com`) assume the role."""
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else "sts:AssumeRole"
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service},
                       "Action": actions}],
    }, sort_keys=True)


def irsa_trust(oidc_provider_arn: pulumi.Input[str], issuer: pulumi.Input[str],
               service_account: str) -> pulumi.Output[str]:
    """Trust policy for one Kubernetes service account (IRSA).

    `service_account` is `system:serviceaccount:<namespace>:<name>`; the token must also be
    minted for STS (`aud`), so no other service account or audience can assume the role.
    """

    return pulumi.Output.all(oidc_provider_arn, issuer).apply(
        lambda v: irsa_trust_policy(v[0], v[1], service_account))


def role(prefix: str, role_name: str, trust: pulumi.Input[str], policies: dict[str, str],
         region: str, parent: pulumi.Resource,
         ) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """Role `<prefix>-role` with AWS-managed `policies` attached as `<prefix>-<key>`."""
    opts = pulumi.ResourceOptions(parent=parent)
    r = aws.iam.Role(f"{prefix}-role", name=role_name, assume_role_policy=trust, opts=opts)
    attachments = [
        aws.iam.RolePolicyAttachment(f"{prefix}-{key}", role=r.name,
                                     policy_arn=managed_policy_arn(region, policy), opts=opts)
        for key, policy in policies.items()
    ]
    return r, attachments


AUTOSCALER_DESCRIBE = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
)
AUTOSCALER_SCALE = ("autoscaling:SetDesiredCapacity",
                    "autoscaling:TerminateInstanceInAutoScalingGroup")


def discovery_tags(cluster_name: str) -> dict[str, str]:
    """The tags cluster-autoscaler discovers a cluster's node groups by (EKS puts them on
    each managed node group's Auto Scaling group too); the scaling grant requires them."""
    return {"k8s.io/cluster-autoscaler/enabled": "true",
            f"k8s.io/cluster-autoscaler/{cluster_name}": "owned"}


def autoscaler_policy(cluster_name: str, region: str) -> str:
    """cluster-autoscaler's grant: read-only describes on `*` (IAM grants them on nothing
    else), the managed node groups of this cluster, and scaling only of EKS Auto Scaling
    groups in its region carrying this cluster's discovery tags, so no other cluster's
    group can be moved."""
    tags, arn = discovery_tags(cluster_name), f"arn:{partition(region)}"
    nodegroups = f"{arn}:eks:{region}:*:nodegroup/{cluster_name}/*"
    # EKS names a managed node group's Auto Scaling group eks-<node group>-<uuid>.
    groups = f"{arn}:autoscaling:{region}:*:autoScalingGroup:*:autoScalingGroupName/eks-*"
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Describe", "Effect": "Allow", "Action": list(AUTOSCALER_DESCRIBE),
             "Resource": "*"},
            {"Sid": "DescribeOwnNodegroups", "Effect": "Allow",
             "Action": "eks:DescribeNodegroup", "Resource": nodegroups},
            {"Sid": "ScaleOwnGroups", "Effect": "Allow", "Action": list(AUTOSCALER_SCALE),
             "Resource": groups, "Condition": {"StringEquals": {
                 f"aws:ResourceTag/{k}": v for k, v in tags.items()}}},
        ],
    }, sort_keys=True)
