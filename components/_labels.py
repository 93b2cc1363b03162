"""Kubernetes labels derived from the stack config (cloud tags come from the provider)."""

from __future__ import annotations

from dataplatform.config.model import StackConfig

PREFIX = "dataplatform.io"


def k8s_labels(cfg: StackConfig) -> dict[str, str]:
    """The common labels, namespaced for Kubernetes objects."""
    labels = {f"{PREFIX}/{k}": v for k, v in cfg.common_labels.items() if k != "managed-by"}
    labels["app.kubernetes.io/managed-by"] = "pulumi"
    return labels
