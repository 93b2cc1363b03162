"""The one reader of `monitoring/`: what the monitoring stack ships besides the chart.

- `dashboards/*.json`: Grafana dashboards, one ConfigMap each (Grafana's sidecar loads them);
- `datasources/datasources.yaml`: Grafana datasources, with the uids the dashboards use;
- `rules/*.yaml`: alert rule templates, rendered per domain (`_rules.py`);
- `collectors/*.collector.yml`: sql_exporter collectors (the airbyte-sync exporter).
"""

from __future__ import annotations

from pathlib import Path

from foundation.layout import MONITORING_DIR

DASHBOARDS_DIR = MONITORING_DIR / "dashboards"
DATASOURCES_FILE = MONITORING_DIR / "datasources" / "datasources.yaml"
RULES_DIR = MONITORING_DIR / "rules"
COLLECTORS_DIR = MONITORING_DIR / "collectors"


def dashboards() -> list[Path]:
    """Every dashboard file, sorted by name."""
    return sorted(DASHBOARDS_DIR.glob("*.json"))


def rule_files() -> list[Path]:
    """Every alert rule template file, sorted by name."""
    return sorted(RULES_DIR.glob("*.yaml"))


def collector(name: str) -> Path:
    """The sql_exporter collector file `<name>.collector.yml`."""
    return COLLECTORS_DIR / f"{name}.collector.yml"
