"""Small builders for the raw Kubernetes manifests our own components write."""

from __future__ import annotations

from typing import Any

import pulumi
from pydantic import Field

from foundation.config.base import Model


class Resources(Model):
    """Container requests and limits, as Kubernetes quantities."""

    requests: dict[str, str] = Field(description="cpu and memory requests.")
    limits: dict[str, str] = Field(description="cpu and memory limits.")


def pod_security(uid: int) -> dict[str, Any]:
    """Pod-level context that passes the `restricted` Pod Security Standard."""
    return {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
            "seccompProfile": {"type": "RuntimeDefault"}}


def container_security(read_only_root: bool = True) -> dict[str, Any]:
    """Container-level context that passes the `restricted` Pod Security Standard."""
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": read_only_root,
            "capabilities": {"drop": ["ALL"]}}


def secret_env(var: str, secret: pulumi.Input[str], key: str) -> dict[str, Any]:
    return {"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
