"""The built-in apps, in build order: what each is called, how it is built, what it needs.

This is the list a reader follows from a stack file's `apps:` to an app's component: the
resolve step types each enabled app's settings, and DomainStack calls `build` in this
order. Adding an app: docs/adding-an-app.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pulumi

from components.apps import airbyte, airflow, datahub, dbt, metabase
from components.apps.context import AppContext


@dataclass(frozen=True)
class BuiltInApp:
    """One built-in app."""

    key: str
    """Its key under `apps:` in the stack file, and its folder under charts-values/."""
    build: Callable[[str, Any, AppContext], pulumi.ComponentResource]
    """`build(name, settings, ctx)`: the app's component, with the domain's context."""
    database: Literal["always", "without-warehouse", "never"] = "always"
    """When the app gets a database (and `<app>-db-credentials`) in the domain Postgres."""


# dbt first: DataHub reads its projects for lineage.
BUILT_IN: tuple[BuiltInApp, ...] = (
    # dbt builds into the domain's Postgres only when no warehouse is set (dev, demos).
    BuiltInApp("dbt", dbt.build, database="without-warehouse"),
    BuiltInApp("airbyte", airbyte.build),
    BuiltInApp("airflow", airflow.build),
    BuiltInApp("metabase", metabase.build),
    BuiltInApp("datahub", datahub.build),
)
APPS: dict[str, BuiltInApp] = {a.key: a for a in BUILT_IN}
