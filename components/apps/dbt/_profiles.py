"""profiles.yml of the dbt runners, per warehouse type, with no password inside.

Every password reaches dbt as the env var `DBT_ENV_SECRET_PASSWORD`, read from a Secret
(dbt scrubs `DBT_ENV_SECRET_*` values from its logs), and profiles.yml refers to it with
`env_var()`. Without a warehouse, even the connection details come from the domain
Postgres' `dbt-db-credentials` Secret, so profiles.yml is the same text for every domain
and nothing is copied from one Secret into another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pulumi
import yaml

from components._k8s import secret_env
from foundation.config.warehouse import WarehouseConfig

PROFILE = "dataplatform"
"""Profile name in profiles.yml; dbt picks it through DBT_PROFILE, whatever the project says."""
PASSWORD_ENV = "DBT_ENV_SECRET_PASSWORD"
PASSWORD_KEY = "warehouse-password"
"""Key of the profiles Secret holding the warehouse password (config secret)."""
DEFAULT_SCHEMA = "analytics"
# Domain Postgres: env var -> key of the `<app>-db-credentials` Secret.
DB_ENV = {"DBT_DB_HOST": "host", "DBT_DB_PORT": "port", "DBT_DB_NAME": "database",
          "DBT_DB_USER": "username", PASSWORD_ENV: "password"}


def _env(var: str) -> str:
    return "{{ env_var('" + var + "') }}"


def warehouse_output(wh: WarehouseConfig, threads: int) -> dict[str, Any]:
    """The profiles.yml output for a configured warehouse."""
    if wh.type in ("postgres", "redshift"):
        out = {"type": wh.type, "host": wh.host, "port": wh.effective_port, "user": wh.user,
               "password": _env(PASSWORD_ENV), "dbname": wh.database,
               "schema": wh.schema_name, "sslmode": wh.ssl_mode}
        if wh.type == "redshift":
            out["method"] = "database"
    elif wh.type == "snowflake":
        out = {"type": "snowflake", "account": wh.account, "user": wh.user,
               "password": _env(PASSWORD_ENV), "database": wh.database,
               "warehouse": wh.compute_warehouse, "schema": wh.schema_name}
        if wh.role:
            out["role"] = wh.role
    else:  # bigquery: the pod's workload identity (application default credentials)
        out = {"type": "bigquery", "method": "oauth", "project": wh.project,
               "dataset": wh.schema_name, "location": wh.location}
    return {**out, "threads": threads}


def domain_postgres_output(threads: int, managed: bool) -> dict[str, Any]:
    """The profiles.yml output for the domain's metadata Postgres (database `dbt`)."""
    return {"type": "postgres", "host": _env("DBT_DB_HOST"),
            "port": "{{ env_var('DBT_DB_PORT') | as_number }}", "user": _env("DBT_DB_USER"),
            "password": _env(PASSWORD_ENV), "dbname": _env("DBT_DB_NAME"),
            "schema": DEFAULT_SCHEMA, "sslmode": "require" if managed else "prefer",
            "threads": threads}


def render_profiles(output: Mapping[str, Any], targets: Iterable[str], default: str) -> str:
    """profiles.yml: one profile, the same connection under each target name used."""
    names = sorted({default, *targets})
    doc = {PROFILE: {"target": default, "outputs": {t: dict(output) for t in names}}}
    return yaml.safe_dump(doc, sort_keys=True, default_flow_style=False)


def needs_password(wh: WarehouseConfig | None) -> bool:
    return wh is not None and wh.type != "bigquery"


def credential_env(wh: WarehouseConfig | None, profiles_secret: str,
                   db_secret: pulumi.Input[str] | None) -> list[dict[str, Any]]:
    """Env vars the dbt container needs for profiles.yml: Secret references only."""
    if wh is None:
        # Without a warehouse dbt runs on the domain's database: the caller passes its Secret.
        if db_secret is None:
            raise ValueError("dbt without a warehouse needs the database's Secret")
        return [secret_env(var, db_secret, key) for var, key in DB_ENV.items()]
    if needs_password(wh):
        return [secret_env(PASSWORD_ENV, profiles_secret, PASSWORD_KEY)]
    return []
