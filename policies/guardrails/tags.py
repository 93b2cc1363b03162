"""Cost and ownership tags (AWS) and labels (GCP) on every taggable cloud resource.

The program sets the common tags once, as provider defaults (`defaultTags` of the AWS
provider, `defaultLabels` of the GCP provider), so resource inputs rarely carry them. The
engine sends each resource's provider with its inputs in the analyzer request
(`AnalyzeRequest.provider`), so this check merges the provider's defaults under the
resource's own tags, as the providers do when they apply them. A resource on a default
provider (no explicit `provider=`) gets no default tags, and is reported.

Cloud SQL is the exception: `settings.userLabels` does not receive the provider's
default labels, so only its own labels count.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pulumi_policy import Severity

from guardrails._base import as_map, get, label, resource_policy, string_list

REQUIRED = ["customer", "domain", "environment", "owner", "cost-center", "managed-by"]
AWS_TAGGABLE = {
    f"aws:{t}" for t in (
        "s3/bucket:Bucket", "s3/bucketV2:BucketV2", "rds/instance:Instance",
        "rds/cluster:Cluster", "rds/parameterGroup:ParameterGroup",
        "rds/subnetGroup:SubnetGroup", "kms/key:Key", "eks/cluster:Cluster",
        "eks/nodeGroup:NodeGroup", "eks/addon:Addon", "iam/role:Role", "iam/policy:Policy",
        "iam/openIdConnectProvider:OpenIdConnectProvider", "ec2/vpc:Vpc", "ec2/subnet:Subnet",
        "ec2/securityGroup:SecurityGroup", "ec2/internetGateway:InternetGateway",
        "ec2/natGateway:NatGateway", "ec2/eip:Eip", "ec2/routeTable:RouteTable",
        "ec2/launchTemplate:LaunchTemplate", "ec2/instance:Instance",
        "cloudwatch/logGroup:LogGroup", "secretsmanager/secret:Secret",
        "ecr/repository:Repository", "sqs/queue:Queue", "sns/topic:Topic")
}
# Where a GCP type keeps its labels, and whether the provider's default labels apply.
GCP_LABELLED = {
    "gcp:storage/bucket:Bucket": ("labels", True),
    "gcp:container/cluster:Cluster": ("resourceLabels", True),
    "gcp:kms/cryptoKey:CryptoKey": ("labels", True),
    "gcp:compute/instance:Instance": ("labels", True),
    "gcp:compute/disk:Disk": ("labels", True),
    "gcp:sql/databaseInstance:DatabaseInstance": ("settings.userLabels", False),
}


def taggable(type_: str) -> bool:
    return type_ in AWS_TAGGABLE or type_ in GCP_LABELLED


def on_cloud_provider(args) -> bool:
    """Whether the resource names an explicit provider of its cloud (not a default one)."""
    cloud = args.resource_type.split(":", 1)[0]
    return args.provider is not None and args.provider.resource_type == f"pulumi:providers:{cloud}"


def tags_of(args) -> tuple[str, dict[str, str]]:
    """('tags' | 'labels', the effective tags: provider defaults, then the resource's)."""
    provider_props: Mapping = args.provider.props if on_cloud_provider(args) else {}
    if args.resource_type.startswith("aws:"):
        defaults = as_map(get(as_map(get(provider_props, "defaultTags")), "tags"))
        own = as_map(get(args.props, "tags"))
        return "tags", {**defaults, **own}
    path, inherits = GCP_LABELLED.get(args.resource_type, ("labels", True))
    defaults = as_map(get(provider_props, "defaultLabels"))
    own = as_map(get(args.props, path))
    return "labels", {**(defaults if inherits else {}), **own}


def check_tags(args, cfg) -> Iterator[str]:
    t = args.resource_type
    own = "tags" if t.startswith("aws:") else "labels"
    if not (taggable(t) or t in cfg["extraTaggableTypes"] or get(args.props, own) is not None):
        return  # not taggable (as far as we know): other types count once they carry tags
    kind, tags = tags_of(args)
    missing = [k for k in cfg["requiredTags"] if not str(tags.get(k) or "").strip()]
    if not missing:
        return
    path, inherits = GCP_LABELLED.get(t, (kind, True))
    if not inherits:
        yield (f"{label(args)} lacks the labels {', '.join(missing)}: set them in {path} "
               "(the provider's default labels do not reach it)")
    elif on_cloud_provider(args):
        yield (f"{label(args)} lacks the {kind} {', '.join(missing)}: add them to its "
               f"provider's default_{kind} (cloud_provider()) or to its own {kind}")
    else:
        yield (f"{label(args)} lacks the {kind} {', '.join(missing)}: it uses the default "
               f"provider, which sets no default_{kind}; pass the stack's provider "
               f"(opts provider=) or set them in its {kind}")


POLICIES = [
    resource_policy(
        "cloud-resource-tags",
        "Taggable AWS and GCP resources carry the cost and ownership tags.",
        (), check_tags, severity=Severity.LOW,
        type_filter=lambda t: t.startswith(("aws:", "gcp:")),
        config={
            "requiredTags": string_list(
                REQUIRED, "Tag (AWS) / label (GCP) keys every taggable resource carries."),
            "extraTaggableTypes": string_list(
                [], "More resource types to check (beyond the built-in list and the "
                    "resources that set tags/labels).")},
        fix="Create cloud resources with the stack's provider (default tags/labels) or set "
            "the missing tags."),
]
