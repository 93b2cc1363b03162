"""The typed schema of `stacks/Pulumi.<stack>.yaml` (the `dataplatform:` namespace).

This model *is* the schema: the loader validates every stack file with it, onboarding
writes files through it, and the components read nothing else. Keys are camelCase in
YAML (Pulumi's convention, so `pulumi config set --path cluster.kubeContext` works) and
snake_case in Python. Defaults live here and nowhere else.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.alias_generators import to_camel

from dataplatform.config.regions import REGIONS
from dataplatform.naming import BASE_MAX, Naming, is_dns_label


class Model(BaseModel):
    """Strict base: unknown keys and wrong types are errors, YAML keys are camelCase."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
    )


class RuleViolations(ValueError):
    """Cross-field rule failures, each with the key (relative to the model) it concerns."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))


def _dns_label(max_len: int):
    def check(value: str) -> str:
        if not is_dns_label(value, max_len):
            raise ValueError(
                f"'{value}' is not a valid name: use at most {max_len} lowercase letters, "
                "digits and '-', starting and ending with a letter or digit (DNS-1123)"
            )
        return value

    return AfterValidator(check)


def _cidr(value: str) -> str:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a valid CIDR ({exc})") from None
    return str(net)


LABEL_VALUE = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
LABEL_KEY = re.compile(r"[a-z]([-a-z0-9_.]{0,61}[a-z0-9])?")
GCP_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
QUANTITY = re.compile(r"(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")


def _label_value(value: str) -> str:
    if not LABEL_VALUE.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a valid label value: 1-63 ASCII letters, digits, '-', '_' or "
            "'.', starting and ending with a letter or digit"
        )
    return value


def _label_key(value: str) -> str:
    if not LABEL_KEY.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a valid label key: 1-63 lowercase letters, digits, '-', '_' "
            "or '.', starting with a letter (Kubernetes and GCP labels)"
        )
    return value


def _gcp_project(value: str) -> str:
    if not GCP_PROJECT.fullmatch(value):
        raise ValueError(f"'{value}' is not a valid GCP project id: 6-30 lowercase letters, "
                         "digits and '-', starting with a letter")
    return value


def _ipv4(value: str) -> str:
    if ipaddress.ip_network(value).version != 4:
        raise ValueError(f"'{value}' is not an IPv4 range (cluster networks are IPv4)")
    return value


def _quantity(value: str) -> str:
    if not QUANTITY.fullmatch(value):
        raise ValueError(f"'{value}' is not a Kubernetes quantity (e.g. 500m, 4, 512Mi, 24Gi)")
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]
Ipv4Cidr = Annotated[Cidr, AfterValidator(_ipv4)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
LabelKey = Annotated[str, AfterValidator(_label_key)]
GcpProject = Annotated[str, AfterValidator(_gcp_project)]
Quantity = Annotated[str, AfterValidator(_quantity)]
CustomerName = Annotated[str, _dns_label(16)]
DomainName = Annotated[str, _dns_label(20)]
EnvironmentName = Annotated[str, _dns_label(10)]
StackName = Annotated[str, _dns_label(63)]


class PlatformRef(Model):
    """The platform stack whose shared cluster this domain runs on."""

    stack: StackName = Field(description="Name of the platform stack in this project.")
    organization: str = Field(
        "organization",
        description="Pulumi organization of the platform stack ('organization' on a "
        "self-managed backend).",
    )


class ClusterNetwork(Model):
    """Address ranges of the cluster network. They must not overlap."""

    vpc_cidr: Ipv4Cidr = Field("10.40.0.0/16", description="VPC / node network range.")
    pod_cidr: Ipv4Cidr = Field("10.44.0.0/14", description="Pod range (GKE secondary range).")
    service_cidr: Ipv4Cidr = Field("10.48.0.0/20", description="Service range.")

    @model_validator(mode="after")
    def _no_overlap(self) -> ClusterNetwork:
        ranges = {
            "vpcCidr": self.vpc_cidr,
            "podCidr": self.pod_cidr,
            "serviceCidr": self.service_cidr,
        }
        nets = {k: ipaddress.ip_network(v) for k, v in ranges.items()}
        keys = list(nets)
        problems = [
            (b, f"{ranges[b]} overlaps {a} {ranges[a]}")
            for i, a in enumerate(keys)
            for b in keys[i + 1 :]
            if nets[a].overlaps(nets[b])
        ]
        if problems:
            raise RuleViolations(problems)
        return self


from dataplatform.config.aws import AwsClusterSettings  # noqa: E402
from dataplatform.config.backup import BackupConfig, backup_rules  # noqa: E402
from dataplatform.config.database import DatabaseConfig, database_rules  # noqa: E402
from dataplatform.config.extra import ExtraApp, Patch, RepoUrl, extra_app_rules  # noqa: E402
from dataplatform.config.gcp import GcpClusterSettings  # noqa: E402
from dataplatform.config.observability import (  # noqa: E402
    AlertingConfig,
    MonitoringConfig,
    observability_rules,
)
from dataplatform.config.storage import StorageConfig  # noqa: E402
from dataplatform.config.warehouse import WarehouseConfig  # noqa: E402


class ClusterConfig(Model):
    """Where the stack's workloads run."""

    mode: Literal["shared", "dedicated"] | None = Field(
        None,
        description="'dedicated': this stack owns its cluster (always for platform "
        "stacks). 'shared': a domain on its platform stack's cluster. Derived when unset.",
    )
    kube_context: str | None = Field(
        None, description="cloud local: the kubeconfig context to deploy into."
    )
    version: str = Field("1.33", description="Kubernetes version (aws/gcp).")
    public_access_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="CIDRs allowed to reach the public API endpoint (aws/gcp).",
    )
    network: ClusterNetwork = Field(default_factory=ClusterNetwork)
    aws: AwsClusterSettings = Field(default_factory=AwsClusterSettings)
    gcp: GcpClusterSettings = Field(default_factory=GcpClusterSettings)


class QuotaConfig(Model):
    """The domain namespace's ResourceQuota."""

    requests_cpu: Quantity = Field("8", description="Total CPU requests.")
    requests_memory: Quantity = Field("24Gi", description="Total memory requests.")
    limits_cpu: Quantity = Field("16", description="Total CPU limits.")
    limits_memory: Quantity = Field("48Gi", description="Total memory limits.")
    pods: int = Field(100, ge=1, description="Pod count.")
    persistent_volume_claims: int = Field(30, ge=0, description="PVC count.")
    storage: Quantity = Field("500Gi", description="Total requested storage.")


class LimitRangeConfig(Model):
    """Defaults for containers that state no resources of their own."""

    default_request_cpu: Quantity = Field("100m", description="Default CPU request.")
    default_request_memory: Quantity = Field("128Mi", description="Default memory request.")
    default_limit_cpu: Quantity = Field("500m", description="Default CPU limit.")
    default_limit_memory: Quantity = Field("512Mi", description="Default memory limit.")


class IsolationConfig(Model):
    """How a domain is fenced off from the others."""

    pod_security: Literal["restricted", "baseline"] = Field(
        "baseline",
        description="Pod Security Standard enforced on the domain namespaces "
        "('restricted' is always warned about and audited).",
    )
    extra_namespaces: list[Annotated[str, _dns_label(15)]] = Field(
        default_factory=list,
        description="Extra namespaces for the domain, as suffixes of its main one.",
    )
    admin_groups: list[str] = Field(
        default_factory=list,
        description="Identity-provider groups made admin of the domain namespaces "
        "(default: '<customer>-<domain>-admins').",
    )
    quota: QuotaConfig = Field(default_factory=QuotaConfig)
    limit_range: LimitRangeConfig = Field(default_factory=LimitRangeConfig)
    monitoring_namespace: StackName = Field(
        "monitoring", description="Namespace allowed to scrape the domain's pods."
    )
    ingress_namespace: StackName = Field(
        "ingress-nginx", description="Namespace of the ingress controller."
    )
    egress_cidrs: list[Cidr] = Field(
        default_factory=lambda: ["0.0.0.0/0"],
        description="Destinations pods may reach outside the cluster (sources, object "
        "storage, Git). Cluster-internal traffic is governed by the other rules.",
    )

    @model_validator(mode="after")
    def _unique_namespaces(self) -> IsolationConfig:
        # Each namespace's resources are named after its suffix; the main one's are 'main'.
        p = [("extraNamespaces", f"'{n}' is listed more than once")
             for n in sorted({n for n in self.extra_namespaces
                              if self.extra_namespaces.count(n) > 1})]
        if "main" in self.extra_namespaces:
            p.append(("extraNamespaces", "'main' is reserved for the domain's main namespace"))
        if p:
            raise RuleViolations(p)
        return self


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


from dataplatform.config.airflow import AirflowConfig, airflow_rules  # noqa: E402
from dataplatform.config.datahub import DataHubConfig  # noqa: E402 (needs AppConfig)
from dataplatform.config.dbt import DbtConfig  # noqa: E402 (needs AppConfig)


class Apps(Model):
    """The built-in apps. Any other key is an unknown app."""

    argocd: ClusterAppConfig = Field(default_factory=ClusterAppConfig)
    airbyte: AppConfig = Field(default_factory=AppConfig)
    airflow: AirflowConfig = Field(default_factory=AirflowConfig)
    dbt: DbtConfig = Field(default_factory=DbtConfig)
    metabase: AppConfig = Field(default_factory=AppConfig)
    datahub: DataHubConfig = Field(default_factory=DataHubConfig)
    extra: list[ExtraApp] = Field(
        default_factory=list, description="Other charts deployed as domain apps.")
    allowed_repos: list[RepoUrl] = Field(
        default_factory=list,
        description="Chart repositories extra apps may use besides charts.lock.yaml's; "
                    "the domain's AppProject lists them.")

    @classmethod
    def built_in(cls) -> list[str]:
        """Keys of the built-in apps (the sections that are not lists)."""
        return [n for n, f in cls.model_fields.items()
                if isinstance(f.annotation, type) and issubclass(f.annotation, AppConfig)]


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
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="Extra labels/tags for every resource."
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

    @model_validator(mode="after")
    def _rules(self) -> StackConfig:
        p: list[tuple[str, str]] = []
        if self.profile == "prod" and self.cloud == "local":
            p.append(("profile", "profile 'prod' is not allowed on cloud 'local' "
                                 "(use aws or gcp for prod)"))
        if self.cloud != "local" and not self.region:
            p.append(("region", f"cloud '{self.cloud}' needs a region"))
        elif self.cloud != "local" and self.region not in REGIONS[self.cloud]:
            near = difflib.get_close_matches(self.region, REGIONS[self.cloud], n=1)
            p.append(("region", f"unknown {self.cloud} region '{self.region}'"
                                + (f" (did you mean '{near[0]}'?)" if near else "")))
        if self.profile == "prod" and any(
                ipaddress.ip_network(c).prefixlen == 0 for c in self.cluster.public_access_cidrs):
            p.append(("cluster.publicAccessCidrs", "a prod API endpoint may not be open to "
                                                   "the whole internet: list the CIDRs of "
                                                   "your CI runners and VPN"))
        if self.cloud == "gcp" and not self.gcp_project:
            p.append(("gcpProject", "cloud 'gcp' needs the GCP project id"))
        if self.cloud == "local" and self.owns_cluster and not self.cluster.kube_context:
            p.append(("cluster.kubeContext", "cloud 'local' needs the kubeconfig context "
                                             "to deploy into"))
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
            "customer": self.customer,
            "domain": self.domain,
            "environment": self.environment,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "managed-by": "pulumi",
            **self.labels,
        }
