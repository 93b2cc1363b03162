"""`database` section of a stack file."""

from __future__ import annotations

from dataplatform.config.model import Model


class DatabaseConfig(Model):
    """Every field has a default, so `database` can be omitted."""
