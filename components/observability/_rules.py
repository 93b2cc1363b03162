"""The alert rules of one domain, rendered from the templates in monitoring/rules/.

A template file is one family (`family`, optional `requires`, `rules`); a rule has `alert`,
`expr`, `for`, `severity`, `summary`, `description` and an optional `requires`. `%{name}`
placeholders are filled from the domain's scope and thresholds; `{{ ... }}` is left to
Prometheus. Every rendered rule carries the labels `domain`, `severity` and `notify` and the
annotations `summary`, `description` and `runbook_url`. Pure functions: no Pulumi here.
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from components.apps.dbt import metrics as dbt_metrics
from components.observability._content import rule_files
from foundation import yamlfile
from foundation.config.monitoring import AlertThresholds

FEATURES = frozenset({"airbyte", "airflow", "dbt", "datahub", "metabase", "argocd",
                      "postgres", "certmanager", "gateway", "platform"})
"""What a rule may require: an app of the domain, Argo CD delivery, the in-cluster Postgres,
cert-manager running in the cluster (`alerting.certManager`), the front door (`gateway`),
the cluster owner's own scope (`platform`: cluster-wide rules, components/observability/
audit.py)."""
SEVERITIES = ("critical", "warning")


class _Template(string.Template):
    delimiter = "%"  # PromQL and Prometheus' {{ $labels }} templating both use `$`


@dataclass(frozen=True)
class RuleScope:
    """What the rules of one domain are about."""

    domain: str
    """Domain name: the `domain` label of its series and alerts."""
    namespaces: tuple[str, ...]
    """The domain's namespaces (main first)."""
    features: frozenset[str]
    """Subset of FEATURES present in the domain."""
    project: str | None
    """The domain's Argo CD AppProject (feature `argocd`)."""
    thresholds: AlertThresholds
    """`alerting.thresholds` of the stack file."""
    notify: str
    """`domain` when the domain has receivers of its own (Alertmanager routes by it), else
    `platform`."""
    runbook_url: str
    """Runbook document; each alert links to its anchor there."""

    def placeholders(self) -> dict[str, str]:
        t = self.thresholds
        return {
            "domain": self.domain,
            # DNS labels: nothing to escape in a PromQL regex.
            "namespaces": "|".join(_dns_label(n) for n in self.namespaces),
            "project": self.project or "",
            "airbyte_success_window_hours": str(t.airbyte_success_window_hours),
            "airbyte_success_window_seconds": str(t.airbyte_success_window_hours * 3600),
            "cpu_ratio": _ratio(t.cpu_limit_percent),
            "memory_ratio": _ratio(t.memory_limit_percent),
            "volume_ratio": _ratio(t.volume_used_percent),
            "quota_ratio": _ratio(t.quota_used_percent),
            "dag_run_max_minutes": str(t.dag_run_max_minutes),
            "dag_run_max_seconds": str(t.dag_run_max_minutes * 60),
            "heartbeat_window": f"{t.scheduler_heartbeat_minutes}m",
            "queued_tasks": str(t.queued_tasks),
            "queued_for": f"{t.queued_for_minutes}m",
            "not_ready_for": f"{t.not_ready_minutes}m",
            "argocd_out_of_sync_for": f"{t.argocd_out_of_sync_minutes}m",
            "certificate_expiry_seconds": str(t.certificate_expiry_days * 86400),
            "kafka_consumer_lag": str(t.kafka_consumer_lag),
            "http_error_ratio": _ratio(t.http_error_percent),
            "http_error_percent": str(t.http_error_percent),
            **dbt_metrics.placeholders(self.domain, t.data_quality),
        }


def _dns_label(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name):
        raise ValueError(f"'{name}' is not a namespace name")
    return name


def _ratio(percent: int) -> str:
    return f"{percent / 100:g}"


@cache
def rule_templates() -> tuple[dict[str, Any], ...]:
    """Every template file, by file name."""
    return tuple({"file": p.name, **yamlfile.read(p)}
                 for p in rule_files())


def _fill(text: str, values: Mapping[str, str]) -> str:
    return _Template(str(text)).substitute(values).strip()


def anchor(alert: str) -> str:
    """Anchor of an alert's section in the runbook (a Markdown heading `## <Alert>`)."""
    return alert.lower()


def render_rule(rule: Mapping[str, Any], scope: RuleScope, values: Mapping[str, str]
                ) -> dict[str, Any]:
    out: dict[str, Any] = {"alert": rule["alert"], "expr": _fill(rule["expr"], values)}
    duration = _fill(rule.get("for", "0m"), values)
    if duration not in ("0", "0m", "0s"):
        out["for"] = duration
    out["labels"] = {"domain": scope.domain, "severity": rule["severity"],
                     "notify": scope.notify}
    out["annotations"] = {
        "summary": _fill(rule["summary"], values),
        "description": _fill(rule["description"], values),
        "runbook_url": f"{scope.runbook_url}#{anchor(rule['alert'])}",
    }
    return out


def render_groups(scope: RuleScope, only: Collection[str] | None = None
                  ) -> list[dict[str, Any]]:
    """The `spec.groups` of the domain's PrometheusRule: one group per family (`only`:
    these families)."""
    unknown = scope.features - FEATURES
    if unknown:
        raise ValueError(f"unknown rule features: {sorted(unknown)}")
    values = scope.placeholders()
    groups = []
    for family in rule_templates():
        if not set(family.get("requires", ())) <= scope.features:
            continue
        if only is not None and family["family"] not in only:
            continue
        rules = [render_rule(r, scope, values) for r in family["rules"]
                 if set(r.get("requires", ())) <= scope.features]
        if rules:
            groups.append({"name": f"{scope.domain}-{family['family']}", "rules": rules})
    return groups
