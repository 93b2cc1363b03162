"""`database` section of a stack file: the domain's metadata Postgres.

`mode` picks the implementation: `managed` (RDS on aws, Cloud SQL on gcp) or `in-cluster`
(a Postgres StatefulSet, components/database/incluster_postgres.py). `auto` means managed
for profile prod on aws/gcp and in-cluster otherwise. Instance sizes come from
`profiles/database.yaml` (per profile and cloud); `instanceClass` / `tier` override them.

Rules that need other sections (the profile, the cloud) are in `database_rules`, which
the stack model's validator calls, so every problem is reported with the file's others.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from foundation.config.base import Model
from foundation.layout import PROFILES_DIR
from foundation.profiles import profile_section

if TYPE_CHECKING:
    from foundation.config.stack import StackConfig

PROFILES_FILE = PROFILES_DIR / "database.yaml"
PROD_MIN_BACKUP_DAYS = 7
MANAGED_CLOUDS = ("aws", "gcp")


class DatabaseConfig(Model):
    """Every field has a default, so `database` can be omitted."""

    mode: Literal["auto", "managed", "in-cluster"] = Field(
        "auto",
        description="'managed': RDS (aws) or Cloud SQL (gcp). 'in-cluster': a Postgres "
        "StatefulSet in the domain namespace. 'auto': managed for profile prod on aws/gcp, "
        "in-cluster otherwise.",
    )
    instance_class: str | None = Field(
        None,
        pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$",
        description="cloud aws: RDS instance class, e.g. db.m7g.large (None: from "
        "profiles/database.yaml).",
    )
    tier: str | None = Field(
        None,
        pattern=r"^db-[a-z0-9-]+$",
        description="cloud gcp: Cloud SQL machine tier, e.g. db-custom-2-7680 (None: from "
        "profiles/database.yaml).",
    )
    backup_retention_days: int = Field(
        7,
        ge=1,
        le=35,
        description="Days (RDS) / daily backups (Cloud SQL) kept; at least 7 in profile prod.",
    )
    postgres_version: str = Field(
        "16",
        pattern=r"^[1-9][0-9]$",
        description="Postgres major version, pinned (minor versions upgrade automatically).",
    )
    in_cluster_reason: str | None = Field(
        None, min_length=10, max_length=300,
        description="Profile prod with mode 'in-cluster': why this prod stack keeps its "
        "metadata in a Postgres StatefulSet instead of RDS / Cloud SQL (no standby, no "
        "point-in-time recovery, backups only through Velero). Required there, refused "
        "elsewhere: it documents an accepted risk in the stack file.",
    )
    storage_gb: int = Field(
        50, ge=20, le=65536, description="Initial storage in GiB (grows automatically)."
    )


class CloudSizes(Model):
    """The sizes of one cloud in one profile of `profiles/database.yaml`."""

    instance_class: str | None = Field(None, description="RDS instance class (aws).")
    tier: str | None = Field(None, description="Cloud SQL tier (gcp).")


class DatabaseProfile(Model):
    """One profile of `profiles/database.yaml`."""

    high_availability: bool = Field(
        description="Standby in a second zone: RDS multi-AZ / Cloud SQL REGIONAL."
    )
    max_storage_gb: int = Field(
        ge=20, description="Ceiling of automatic storage growth (at least 2x storageGb)."
    )
    aws: CloudSizes = Field(description="RDS sizes.")
    gcp: CloudSizes = Field(description="Cloud SQL sizes.")


@cache
def load_profile(profile: str, path: Path = PROFILES_FILE) -> DatabaseProfile:
    """The `profile` section of the database profiles file, validated."""
    return profile_section(path, profile, DatabaseProfile)


def database_mode(cfg: StackConfig) -> Literal["managed", "in-cluster"]:
    """The database implementation `cfg` gets, with `auto` resolved."""
    mode = cfg.database.mode
    if mode == "auto":
        managed = cfg.profile == "prod" and cfg.cloud in MANAGED_CLOUDS
        return "managed" if managed else "in-cluster"
    return mode


def database_rules(cfg: StackConfig) -> list[tuple[str, str]]:
    """Cross-section problems of `cfg.database`, as (key, message) like RuleViolations."""
    db, p = cfg.database, []
    if db.mode == "managed" and cfg.cloud not in MANAGED_CLOUDS:
        p.append(("database.mode", f"database.mode 'managed' needs cloud aws or gcp, not "
                                   f"'{cfg.cloud}': use 'in-cluster' or 'auto'"))
    if cfg.profile == "prod" and db.backup_retention_days < PROD_MIN_BACKUP_DAYS:
        p.append(("database.backupRetentionDays",
                  f"{db.backup_retention_days} days is below the {PROD_MIN_BACKUP_DAYS} days "
                  "profile 'prod' requires"))
    managed = database_mode(cfg) == "managed"
    if cfg.profile == "prod" and not managed and not db.in_cluster_reason:
        p.append(("database.mode", "profile 'prod' keeps its metadata in a managed database "
                  "(standby, point-in-time recovery): use mode 'managed' or 'auto', or state "
                  "the accepted risk in database.inClusterReason"))
    if db.in_cluster_reason and (cfg.profile != "prod" or managed):
        p.append(("database.inClusterReason", "only for a prod stack whose database.mode is "
                  "'in-cluster'"))
    for key, value, cloud in (("instanceClass", db.instance_class, "aws"),
                              ("tier", db.tier, "gcp")):
        if value is not None and not (managed and cfg.cloud == cloud):
            p.append((f"database.{key}", f"database.{key} sizes a managed database on cloud "
                                         f"'{cloud}'; this stack's database is "
                                         f"{database_mode(cfg)} on '{cfg.cloud}'"))
    return p


def instance_size(cfg: StackConfig) -> str:
    """RDS instance class (aws) or Cloud SQL tier (gcp): the override or the profile's."""
    sizes = getattr(load_profile(cfg.profile), cfg.cloud)
    value = cfg.database.instance_class if cfg.cloud == "aws" else cfg.database.tier
    value = value or (sizes.instance_class if cfg.cloud == "aws" else sizes.tier)
    if not value:
        raise ValueError(f"{PROFILES_FILE}: profile '{cfg.profile}' has no {cfg.cloud} size")
    return value


def max_storage_gb(cfg: StackConfig) -> int:
    """Ceiling of automatic storage growth: the profile's, and at least 2x storageGb."""
    return max(load_profile(cfg.profile).max_storage_gb, 2 * cfg.database.storage_gb)
