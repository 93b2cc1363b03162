"""The explicit cloud provider of a stack, carrying the common tags/labels once."""

from __future__ import annotations

import pulumi

from dataplatform.config.model import StackConfig


def cloud_provider(name: str, cfg: StackConfig,
                   opts: pulumi.ResourceOptions) -> pulumi.ProviderResource | None:
    """AWS or GCP provider for `cfg`, with default tags/labels; None on cloud local.

    Tags are set here, as provider defaults, so no resource sets them by hand.
    """
    if cfg.cloud == "aws":
        import pulumi_aws as aws

        return aws.Provider(f"{name}-aws", region=cfg.region,
                            default_tags=aws.ProviderDefaultTagsArgs(tags=cfg.common_labels),
                            opts=opts)
    if cfg.cloud == "gcp":
        import pulumi_gcp as gcp

        return gcp.Provider(f"{name}-gcp", project=cfg.gcp_project, region=cfg.region,
                            default_labels=gcp_labels(cfg), opts=opts)
    return None


def gcp_labels(cfg: StackConfig) -> dict[str, str]:
    """The common labels in GCP's alphabet: lowercase, digits, '-' and '_' only."""
    return {k.replace(".", "_"): v.lower().replace(".", "_")
            for k, v in cfg.common_labels.items()}
