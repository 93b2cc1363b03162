"""Names and small builders shared by the cluster's and the domains' monitoring objects."""

from __future__ import annotations

from typing import Any

APP = "kube-prometheus-stack"
"""Chart (lock entry, charts-values/ folder) and Helm release name."""

DOMAIN_LABEL = "domain"
"""Label every scraped series and every alert of a domain carries."""

ALERTING_SELECTOR = {"dataplatform.io/alerting": "domain"}
"""Label the Alertmanager selects domain AlertmanagerConfigs by (charts-values)."""

MONITORING_API = "monitoring.coreos.com/v1"
ALERTING_API = "monitoring.coreos.com/v1alpha1"


def domain_relabeling(domain: str) -> list[dict[str, Any]]:
    """Target relabeling that stamps `domain=<domain>` on every series of a scrape target."""
    return [{"action": "replace", "targetLabel": DOMAIN_LABEL, "replacement": domain}]

