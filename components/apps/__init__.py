"""The domain's built-in apps: one component module per app, one wiring contract.

Each module `components/apps/<app>.py` exposes `build(name, ctx) -> ComponentResource`,
where `ctx` is the domain's AppContext. The domain stack knows nothing app-specific.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection

import pulumi

from components.apps.context import AppContext
from dataplatform.config.model import StackConfig

# Built-in apps, in build order (dbt first: DataHub reads its projects for lineage).
APPS = ("dbt", "airbyte", "airflow", "metabase", "datahub")


def enabled_apps(cfg: StackConfig) -> list[str]:
    return [a for a in APPS if getattr(cfg.apps, a).enabled]


def database_apps(cfg: StackConfig, enabled: Collection[str]) -> list[str]:
    """Apps that get a database (and `<app>-db-credentials`) in the domain's Postgres.

    dbt gets one only when no warehouse is configured: it then builds into the domain's
    Postgres, which suits dev and demos.
    """
    wanted = {"airbyte", "airflow", "metabase", "datahub"}
    if cfg.warehouse is None:
        wanted.add("dbt")
    return [a for a in APPS if a in enabled and a in wanted]


def build_app(app: str, name: str, ctx: AppContext) -> pulumi.ComponentResource:
    """Create `app`'s component, named `name`."""
    if app not in APPS:
        raise ValueError(f"unknown app '{app}' (built-in apps: {', '.join(APPS)})")
    module = importlib.import_module(f"components.apps.{app}")
    return module.build(name, ctx)
