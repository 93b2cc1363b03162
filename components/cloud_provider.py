"""The explicit cloud provider of a stack, carrying the common tags/labels once."""

from __future__ import annotations

import pulumi

from components.site import Site


def cloud_provider(name: str, site: Site,
                   opts: pulumi.ResourceOptions) -> pulumi.ProviderResource | None:
    """AWS or GCP provider for `site`, with default tags/labels; None on cloud local.

    Tags are set here, as provider defaults, so no resource sets them by hand.
    """
    if site.cloud == "aws":
        import pulumi_aws as aws

        return aws.Provider(f"{name}-aws", region=site.region,
                            default_tags=aws.ProviderDefaultTagsArgs(tags=dict(site.common_labels)),
                            opts=opts)
    if site.cloud == "gcp":
        import pulumi_gcp as gcp

        return gcp.Provider(f"{name}-gcp", project=site.gcp_project, region=site.region,
                            default_labels=site.gcp_labels, opts=opts)
    return None
