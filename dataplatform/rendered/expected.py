"""What a working install of each pinned chart renders, and whether the chart folder is
the chart the lock pins.

A chart can render without an error and still be incomplete: a template gated on a
version or a flag that evaluates the wrong way drops a whole component, and Helm says
nothing. Each entry below names the workloads (by kind and name, from the release name)
that the platform relies on, with the values flag that turns each off where the chart
has one. A release that lacks one is a render error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dataplatform.rendered.helm import chart_meta
from foundation.charts import ChartPin
from foundation.layout import REPO_ROOT

# chart -> (kind, name with {r} for the release name, values path that disables it or "")
EXPECTED: dict[str, tuple[tuple[str, str, str], ...]] = {
    "airflow": (
        ("Deployment", "{r}-api-server", ""),  # Airflow 3: UI and APIs, execution API
        ("Deployment", "{r}-scheduler", ""),
        ("Deployment", "{r}-dag-processor", "dagProcessor.enabled"),
        ("Deployment", "{r}-triggerer", "triggerer.enabled"),
        ("Job", "{r}-run-airflow-migrations", "migrateDatabaseJob.enabled"),
    ),
    "airbyte": (
        ("Deployment", "{r}-server", "server.enabled"),
        ("Deployment", "{r}-worker", "worker.enabled"),
        ("Deployment", "{r}-workload-launcher", "workloadLauncher.enabled"),
        ("Deployment", "{r}-temporal", "temporal.enabled"),
    ),
    "metabase": (("Deployment", "{r}", ""),),
    "datahub": (
        ("Deployment", "{r}-datahub-gms", "datahub-gms.enabled"),
        ("Deployment", "{r}-datahub-frontend", "datahub-frontend.enabled"),
    ),
    "datahub-prerequisites": (
        ("StatefulSet", "{r}-kafka-controller", "kafka.enabled"),
        ("StatefulSet", "opensearch-cluster-master", "opensearch.enabled"),
    ),
    "argo-cd": (
        ("Deployment", "{r}-server", ""),
        ("Deployment", "{r}-repo-server", ""),
        ("StatefulSet", "{r}-application-controller", ""),
    ),
    "kube-prometheus-stack": (
        ("Deployment", "{r}-operator", "prometheusOperator.enabled"),
        ("Prometheus", "{r}-prometheus", "prometheus.enabled"),
        ("Alertmanager", "{r}-alertmanager", "alertmanager.enabled"),
    ),
}

SEMVER_PRERELEASE = re.compile(r"^v?\d+\.\d+\.\d+-")


def _disabled(values: Mapping[str, Any], path: str) -> bool:
    node: Any = values
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return False  # unset: the chart's default, on for every entry above
        node = node[key]
    return node is False


def missing(chart: str, release: str, values: Mapping[str, Any],
            objects: Sequence[Mapping[str, Any]]) -> list[str]:
    """The expected workloads of `chart` that the render of `release` lacks."""
    have = {(o.get("kind"), (o.get("metadata") or {}).get("name")) for o in objects}
    out = []
    for kind, name, flag in EXPECTED.get(chart, ()):
        wanted = name.format(r=release)
        if (kind, wanted) not in have and not (flag and _disabled(values, flag)):
            out.append(f"{kind} {wanted}")
    return out


def identity_warning(pin: ChartPin, path: Path) -> str | None:
    """Why the chart at `path` is not the one the lock pins (same name and version but
    another appVersion: a repackaged chart), with what follows from it; else None."""
    declared = str(chart_meta(path).get("appVersion") or "")
    if not pin.app_version or not declared or declared == pin.app_version:
        return None
    where = os.path.relpath(path, REPO_ROOT)
    text = (f"chart {pin.name} {pin.version} at {where} declares appVersion {declared}, "
            f"but the chart {pin.repo} serves declares {pin.app_version}: it is a "
            "repackaged chart, and what it renders may differ from what the cluster gets")
    if SEMVER_PRERELEASE.match(declared) and not SEMVER_PRERELEASE.match(pin.app_version):
        text += (f"; {declared} is a semver pre-release, so Helm skips every template "
                 "gated on `semverCompare \">=x.y.z\" .Chart.AppVersion`")
    return text
