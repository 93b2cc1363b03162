"""`storage` section of a stack file."""

from __future__ import annotations

from dataplatform.config.model import Model


class StorageConfig(Model):
    """Every field has a default, so `storage` can be omitted."""
