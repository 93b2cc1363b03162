"""`warehouse:` the domain's analytical warehouse.

dbt builds its models there (the `profiles.yml` target), and DataHub ingests its schemas.
Without this section, a domain with dbt uses its own metadata Postgres (database `dbt`),
which suits dev and demos. Passwords are config secrets (`SecretValue`); BigQuery uses the
workload identity of the dbt ServiceAccount, so it takes no key at all.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from foundation.config.base import Model, RuleViolations
from foundation.config.secrets import SecretValue

DEFAULT_PORTS = {"postgres": 5432, "redshift": 5439}
# Keys each warehouse type needs, and the keys it does not take.
NEEDS = {
    "postgres": ("host", "database", "user", "password"),
    "redshift": ("host", "database", "user", "password"),
    "snowflake": ("account", "database", "user", "password", "computeWarehouse"),
    "bigquery": ("project",),
}
TAKES = {
    "postgres": {"host", "port", "database", "user", "password", "sslMode"},
    "redshift": {"host", "port", "database", "user", "password", "sslMode"},
    "snowflake": {"account", "database", "user", "password", "computeWarehouse", "role"},
    "bigquery": {"project", "location"},
}


class WarehouseConfig(Model):
    """Connection to the domain's warehouse (no secret in plain text)."""

    type: Literal["postgres", "redshift", "snowflake", "bigquery"] = Field(
        description="Warehouse engine; selects the dbt adapter and the DataHub source.")
    host: str | None = Field(None, description="Host name (postgres, redshift).")
    port: int | None = Field(None, ge=1, le=65535,
                             description="Port; default 5432 (postgres) or 5439 (redshift).")
    database: str | None = Field(None, description="Database (postgres, redshift, snowflake).")
    schema_name: str = Field("analytics", min_length=1,
                             description="Default schema (BigQuery: dataset) dbt builds into.")
    user: str | None = Field(None, description="User dbt and DataHub log in as.")
    password: SecretValue | None = Field(
        None, description="Password, a config secret: `pulumi config set --secret --path "
                          "dataplatform:warehouse.password ...`.")
    ssl_mode: Literal["require", "verify-full", "disable"] = Field(
        "require", description="libpq sslmode (postgres, redshift).")
    account: str | None = Field(None, description="Snowflake account identifier.")
    compute_warehouse: str | None = Field(None, description="Snowflake virtual warehouse.")
    role: str | None = Field(None, description="Snowflake role.")
    project: str | None = Field(None, description="BigQuery project id.")
    location: str = Field("EU", description="BigQuery dataset location.")

    @model_validator(mode="after")
    def _per_type(self) -> WarehouseConfig:
        fields = type(self).model_fields
        set_keys = {fields[f].alias or f for f in self.model_fields_set} - {"type", "schemaName"}
        p = [(k, f"warehouse type '{self.type}' needs {k}")
             for k in NEEDS[self.type] if getattr(self, _field(k)) is None]
        p += [(k, f"warehouse type '{self.type}' does not take {k}")
              for k in sorted(set_keys - TAKES[self.type])]
        if p:
            raise RuleViolations(p)
        return self

    @property
    def effective_port(self) -> int | None:
        return self.port or DEFAULT_PORTS.get(self.type)


def _field(alias: str) -> str:
    return next(n for n, f in WarehouseConfig.model_fields.items() if f.alias == alias)
