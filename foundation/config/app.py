"""The settings every built-in app has: enabled, values, patches."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from foundation.config.base import Model
from foundation.config.extra import Patch


class AppConfig(Model):
    """One built-in app."""

    enabled: bool = Field(False, description="Deploy the app.")
    values: dict[str, Any] = Field(
        default_factory=dict,
        description="Helm values deep-merged over charts-values/<app>/ (lists replace).",
    )
    patches: list[Patch] = Field(
        default_factory=list,
        description="Changes to rendered objects that values cannot express (delivery: helm).",
    )


class ClusterAppConfig(AppConfig):
    """An app that belongs to a cluster owner (platform or dedicated domain)."""

    enabled: bool = Field(True, description="Deploy the app.")
