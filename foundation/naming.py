"""Deterministic resource names, built from customer, domain and environment.

Every name the platform creates comes from here, so a rename is a one-line change and
no module invents its own scheme. Names never carry random suffixes: when a cloud's
limit is shorter than the natural name, the name is cut and a short hash of the full
name is appended, which is stable across runs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

# Longest names each target accepts, for the kinds of names we build.
LIMITS = {
    "k8s-namespace": 63,
    "k8s-name": 63,
    "s3-bucket": 63,
    "gcs-bucket": 63,
    "eks-cluster": 100,
    "gke-cluster": 40,
    "rds-instance": 63,
    "cloudsql-instance": 84,
    "iam-role": 64,
    "gcp-service-account": 30,
}

# Lake zones: one bucket each per domain (dbt artifacts/Airbyte state in `artifacts`,
# Airflow remote logs in `logs`).
LAKE_ZONES = ("raw", "staging", "curated", "artifacts", "logs")

# The composite `<customer>-<domain>-<env>` must leave room for the longest suffix we add
# (`-artifacts` on a bucket) under the tightest common limit (63).
BASE_MAX = 40


# Web UIs the front door routes: a domain's apps, then a cluster owner's own (Argo CD,
# Grafana). Disjoint, so one rule below never gives two apps of one stack the same name.
UI_APPS = ("airflow", "airbyte", "metabase", "datahub")
PLATFORM_UI_APPS = ("argocd", "grafana")
FRONT_DOOR_APPS = (*UI_APPS, *PLATFORM_UI_APPS)


def hostname(app: str, naming: Naming, base_domain: str) -> str:
    """`<app>.<domain>.<environment>.<baseDomain>`, the one hostname rule of the front door
    (a platform stack's domain is `platform`). Domains and environments are DNS labels and
    `platform` is no domain's name, so two stacks of a customer never share a hostname."""
    return f"{app}.{naming.domain}.{naming.environment}.{base_domain}"


def wildcard_host(naming: Naming, base_domain: str) -> str:
    """`*.<domain>.<environment>.<baseDomain>`: every hostname of one stack, the name of its
    certificate and of its listener."""
    return f"*.{naming.domain}.{naming.environment}.{base_domain}"


def default_kube_context(customer: str) -> str:
    """The kubeconfig context of a local stack that names none: what
    `kind create cluster --name <customer>` makes (`dataplatform new` writes it too)."""
    return f"kind-{customer}"


def is_dns_label(value: str, max_len: int = 63) -> bool:
    """True when `value` is a DNS-1123 label no longer than `max_len`."""
    return len(value) <= max_len and bool(DNS1123_LABEL.fullmatch(value))


def fit(name: str, limit: int) -> str:
    """Return `name` unchanged when it fits, else a cut name plus a stable 6-char hash."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[: limit - 7].rstrip('-')}-{digest}"


@dataclass(frozen=True)
class Naming:
    """Names for one stack. `base` is `<customer>-<domain>-<environment>`."""

    customer: str
    domain: str
    environment: str

    @property
    def base(self) -> str:
        return f"{self.customer}-{self.domain}-{self.environment}"

    def name(self, *parts: str, kind: str = "k8s-name") -> str:
        """`<base>-<parts…>`, fitted to the limit of `kind`."""
        return fit("-".join((self.base, *parts)), LIMITS[kind])

    def namespace(self, suffix: str | None = None) -> str:
        """The domain's namespace, or one of its extra namespaces."""
        return self.name(suffix, kind="k8s-namespace") if suffix else self.base

    def bucket(self, zone: str, cloud: str) -> str:
        kind = {"aws": "s3-bucket", "gcp": "gcs-bucket"}.get(cloud, "k8s-name")
        return self.name(zone, kind=kind)
