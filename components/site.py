"""Site: the stack-wide facts every component may need, resolved once from the stack file.

Components never read the stack config; the resolve step (`dataplatform/resolve/`) turns
it into each component's Args, and the facts they share (names, cloud, profile, labels)
travel as one Site.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from foundation.naming import Naming

LABEL_PREFIX = "dataplatform.io"


@dataclass(frozen=True)
class Site:
    """Where and for whom a stack's resources are made."""

    naming: Naming
    """Deterministic names from customer, domain and environment."""
    cloud: Literal["aws", "gcp", "local"]
    """Where the stack runs."""
    profile: Literal["dev", "prod"]
    """Sizing and protection profile."""
    region: str | None = None
    """Cloud region (aws/gcp)."""
    gcp_project: str | None = None
    """GCP project id (cloud gcp)."""
    common_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels/tags every resource carries (cost showback), as the stack file states them."""

    @property
    def prod(self) -> bool:
        return self.profile == "prod"

    @property
    def k8s_labels(self) -> dict[str, str]:
        """The common labels, namespaced for Kubernetes objects."""
        labels = {f"{LABEL_PREFIX}/{k}": v for k, v in self.common_labels.items()
                  if k != "managed-by"}
        labels["app.kubernetes.io/managed-by"] = "pulumi"
        return labels

    @property
    def gcp_labels(self) -> dict[str, str]:
        """The common labels in GCP's alphabet: lowercase, digits, '-' and '_' only."""
        return {k.replace(".", "_"): v.lower().replace(".", "_")
                for k, v in self.common_labels.items()}
