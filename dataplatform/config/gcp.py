"""GCP-specific cluster settings (`cluster.gcp` in a stack file)."""

from __future__ import annotations

from dataplatform.config.model import Model


class GcpClusterSettings(Model):
    """GKE settings. Every field has a default, so `cluster.gcp` can be omitted."""
