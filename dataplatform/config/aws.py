"""AWS-specific cluster settings (`cluster.aws` in a stack file)."""

from __future__ import annotations

from dataplatform.config.model import Model


class AwsClusterSettings(Model):
    """EKS settings. Every field has a default, so `cluster.aws` can be omitted."""
