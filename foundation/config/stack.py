"""The typed schema of `stacks/Pulumi.<stack>.yaml` (the `dataplatform:` namespace).

This model *is* the schema: the loader validates every stack file with it, onboarding
writes files through it, and the components read nothing else. Keys are camelCase in
YAML (Pulumi's convention, so `pulumi config set --path cluster.kubeContext` works) and
snake_case in Python. Defaults live here and nowhere else.
"""

from __future__ import annotations

import difflib
from typing import Literal

from pydantic import Field, field_validator, model_validator

from foundation.cidrs import PUBLIC_MESSAGE, covers_public, shown
from foundation.config.airflow import airflow_rules
from foundation.config.apps import Apps
from foundation.config.backup import BackupConfig, backup_rules
from foundation.config.base import (
    CustomerName,
    DomainName,
    EnvironmentName,
    GcpProject,
    LabelKey,
    LabelValue,
    Model,
    RuleViolations,
)
from foundation.config.cluster import ClusterConfig, PlatformRef
from foundation.config.database import DatabaseConfig, database_rules
from foundation.config.extra import extra_app_rules
from foundation.config.frontdoor import FrontDoorConfig, front_door_rules
from foundation.config.isolation import IsolationConfig
from foundation.config.monitoring import AlertingConfig, MonitoringConfig, observability_rules
from foundation.config.prod_promises import prod_promise_rules
from foundation.config.regions import REGIONS
from foundation.config.storage import StorageConfig
from foundation.config.values_keys import values_key_rules
from foundation.config.warehouse import WarehouseConfig
from foundation.credentials import compact
from foundation.naming import BASE_MAX, Naming

# Label keys (letters only, lower case) the platform sets on every resource.
RESERVED_LABELS = {"customer", "domain", "domainid", "environment", "env", "owner", "costcenter",
                   "costcentre", "managedby"}

class StackConfig(Model):
    """Everything one stack file may say."""

    customer: CustomerName = Field(description="Customer (tenant) short name.")
    domain: DomainName = Field(
        "platform", description="Data-mesh domain; 'platform' for platform stacks."
    )
    environment: EnvironmentName = Field(description="Environment, e.g. dev or prod.")
    profile: Literal["dev", "prod"] = Field(description="Sizing and protection profile.")
    cloud: Literal["aws", "gcp", "local"] = Field(description="Where the stack runs.")
    kind: Literal["platform", "domain"] = Field(description="Platform or domain stack.")
    region: str | None = Field(None, description="Cloud region (aws/gcp).")
    gcp_project: GcpProject | None = Field(None, description="GCP project id (cloud gcp).")
    owner: LabelValue = Field(description="Owning team, as a label/tag value.")
    cost_center: LabelValue = Field(description="Cost center, as a label/tag value.")
    example: bool = Field(
        False, description="A stack shipped as an example of the accelerator: CI previews "
        "it on every pull request, but the deploy workflow skips it (`dataplatform affected "
        "--deployable`). Remove it (or set false) to deploy the stack from CI.")
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="Extra labels/tags for every resource (not the "
        "reserved ones the platform sets: customer, domain, environment, owner, cost-center, "
        "managed-by, domain-id, in any spelling)."
    )
    platform: PlatformRef | None = Field(
        None, description="Domain stacks on a shared cluster: the platform stack."
    )
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    delivery: Literal["argocd", "helm"] = Field(
        "argocd",
        description="'argocd': apps are Argo CD Applications; 'helm': Helm releases "
        "applied by Pulumi, for clusters without Argo CD.",
    )
    isolation: IsolationConfig = Field(default_factory=IsolationConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    apps: Apps = Field(default_factory=Apps)
    warehouse: WarehouseConfig | None = Field(
        None, description="The domain's warehouse (dbt target, DataHub source); default: "
                          "the domain's metadata Postgres.")
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    alerting: AlertingConfig = Field(default_factory=AlertingConfig)
    backup: BackupConfig = Field(default_factory=BackupConfig)
    front_door: FrontDoorConfig = Field(default_factory=FrontDoorConfig)

    @field_validator("labels")
    @classmethod
    def _not_reserved(cls, labels: dict[str, str]) -> dict[str, str]:
        # Cost showback, NetworkPolicy peers and ownership rest on these: any spelling that
        # maps onto one (`Cost_Center`, `cost.center`, `managedBy`) would shadow it somewhere.
        taken = sorted(k for k in labels if compact(k) in RESERVED_LABELS)
        if taken:
            raise RuleViolations([(k, "reserved: the platform sets this label from the stack's "
                                      "own keys (customer, domain, environment, owner, "
                                      "costCenter)") for k in taken])
        return labels

    @model_validator(mode="after")
    def _rules(self) -> StackConfig:
        p: list[tuple[str, str]] = []
        if self.profile == "prod" and self.cloud == "local":
            p.append(("profile", "profile 'prod' is not allowed on cloud 'local' "
                                 "(use aws or gcp for prod)"))
        if self.cloud != "local" and not self.region:
            p.append(("region", f"cloud '{self.cloud}' needs a region"))
        elif self.cloud != "local" and self.region and self.region not in REGIONS[self.cloud]:
            near = difflib.get_close_matches(self.region, REGIONS[self.cloud], n=1)
            p.append(("region", f"unknown {self.cloud} region '{self.region}'"
                                + (f" (did you mean '{near[0]}'?)" if near else "")))
        if self.profile == "prod" and covers_public(self.cluster.public_access_cidrs):
            p.append(("cluster.publicAccessCidrs", "a prod API endpoint may not be open to "
                      "the internet: " + PUBLIC_MESSAGE.format(
                          cidrs=shown(self.cluster.public_access_cidrs))))
        if self.cloud == "gcp" and not self.gcp_project:
            p.append(("gcpProject", "cloud 'gcp' needs the GCP project id"))
        if self.kind == "platform":
            if self.domain != "platform":
                p.append(("domain", "platform stacks take no domain (it is 'platform')"))
            if self.platform or self.cluster.mode == "shared":
                p.append(("platform", "a platform stack owns its cluster: remove platform "
                                      "and cluster.mode 'shared'"))
        else:
            if self.domain == "platform":
                p.append(("domain", "a domain stack needs a domain other than 'platform'"))
            if self.platform and self.cluster.mode == "dedicated":
                p.append(("cluster.mode", "choose one: platform.stack (shared cluster) or "
                                          "cluster.mode 'dedicated'"))
            if not self.platform and self.cluster.mode != "dedicated":
                p.append(("platform.stack", "a domain stack needs platform.stack (a shared "
                                            "cluster) or cluster.mode: dedicated"))
        if not self.owns_cluster and "argocd" in self.apps.model_fields_set:
            p.append(("apps.argocd", "Argo CD runs in the stack that owns the cluster "
                                     "(the platform stack)"))
        p += self.storage.rule_violations(self.profile, self.cloud, self.region)
        p += database_rules(self)
        if self.warehouse and self.warehouse.type == "bigquery" and self.cloud != "gcp":
            p.append(("warehouse.type", "a bigquery warehouse is reached through GKE workload "
                                        "identity: it needs cloud 'gcp'"))
        p += extra_app_rules(self)
        p += observability_rules(self)
        p += airflow_rules(self)
        p += backup_rules(self)
        p += front_door_rules(self)
        p += prod_promise_rules(self)
        p += values_key_rules(self)
        if len(self.naming.base) > BASE_MAX:
            p.append(("environment", f"'{self.naming.base}' (customer-domain-environment) "
                                     f"is longer than {BASE_MAX} characters"))
        if p:
            raise RuleViolations(p)
        return self

    @property
    def naming(self) -> Naming:
        return Naming(self.customer, self.domain, self.environment)

    @property
    def owns_cluster(self) -> bool:
        """Platform stacks and dedicated domains create (or adopt) their own cluster."""
        return self.kind == "platform" or self.cluster.mode == "dedicated"

    @property
    def common_labels(self) -> dict[str, str]:
        """Labels/tags every resource carries (the basis of cost showback)."""
        return {
            **self.labels,  # first: the validator refuses reserved keys, this keeps them ours
            "customer": self.customer,
            "domain": self.domain,
            "environment": self.environment,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "managed-by": "pulumi",
        }
