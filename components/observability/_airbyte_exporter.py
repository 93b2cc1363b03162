"""The domain's airbyte-sync exporter: sql_exporter over Airbyte's own database.

The Airbyte v2 chart has no Prometheus endpoint (its metrics are OTLP push, Enterprise only,
or legacy DogStatsD), so sync outcomes are read from Airbyte's `jobs` table by
monitoring/collectors/airbyte.collector.yml, as Airbyte's own
database user. The DSN is assembled from the credentials Secret in the pod's environment
(`$(VAR)` expansion), so the password is in no ConfigMap and no manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pydantic import Field

from components._k8s import Resources, container_security, pod_security, secret_env
from components._values import typed_settings
from components.observability._content import collector
from foundation.config.base import Model

NAME = "airbyte-sync-exporter"
COLLECTOR = collector("airbyte")
PORT = 9399
UID = 65534
SELECTOR = {"app.kubernetes.io/name": NAME}
# Overridden by SQLEXPORTER_TARGET_DSN; sql_exporter refuses a target without one.
EXPORTER_CONFIG = {
    "global": {"scrape_timeout_offset": "500ms", "min_interval": "60s",
               "max_connections": 2, "max_idle_connections": 1,
               "max_connection_lifetime": "10m"},
    "target": {"data_source_name": "postgres://set-from-the-environment",
               "collectors": ["airbyte_sync"]},
    "collector_files": ["*.collector.yml"],
}


class ExporterSettings(Model):
    """charts-values/airbyte-sync-exporter/: image and sizes."""

    image: str = Field(description="sql_exporter image, pinned by tag.")
    resources: Resources = Field(description="Container resources.")


def settings(profile: str) -> ExporterSettings:
    return typed_settings(NAME, profile, ExporterSettings)


def airbyte_exporter(name: str, *, namespace: str, profile: str, db_secret: pulumi.Input[str],
                     sslmode: str, labels: Mapping[str, str],
                     opts: pulumi.ResourceOptions) -> list[pulumi.Resource]:
    """ConfigMap, Deployment and Service of the exporter (Service port `metrics`)."""
    s = settings(profile)
    obj_labels = {**labels, **SELECTOR, "app.kubernetes.io/component": "metrics"}
    meta = {"name": NAME, "namespace": namespace, "labels": obj_labels}
    config = k8s.core.v1.ConfigMap(f"{name}-config", metadata=meta, data={
        "sql_exporter.yml": yaml.safe_dump(EXPORTER_CONFIG, sort_keys=False),
        COLLECTOR.name: COLLECTOR.read_text()}, opts=opts)
    env = [secret_env(var, db_secret, key) for var, key in (
        ("DB_HOST", "host"), ("DB_PORT", "port"), ("DB_NAME", "database"),
        ("DB_USER", "username"), ("DB_PASSWORD", "password"))]
    env.append({"name": "SQLEXPORTER_TARGET_DSN", "value": (
        "postgres://$(DB_USER):$(DB_PASSWORD)@$(DB_HOST):$(DB_PORT)/$(DB_NAME)"
        f"?sslmode={sslmode}")})
    probe: dict[str, Any] = {"tcpSocket": {"port": "metrics"}, "periodSeconds": 30}
    deployment = k8s.apps.v1.Deployment(f"{name}-deployment", metadata=meta, spec={
        "replicas": 1,
        "selector": {"matchLabels": SELECTOR},
        "template": {"metadata": {"labels": obj_labels}, "spec": {
            "securityContext": pod_security(UID),
            "automountServiceAccountToken": False,
            "containers": [{
                "name": "sql-exporter", "image": s.image,
                "args": ["--config.file=/etc/sql_exporter/sql_exporter.yml"],
                "env": env,
                "ports": [{"name": "metrics", "containerPort": PORT}],
                "readinessProbe": probe, "livenessProbe": probe,
                "resources": s.resources.model_dump(),
                "securityContext": container_security(),
                "volumeMounts": [{"name": "config", "mountPath": "/etc/sql_exporter",
                                  "readOnly": True}],
            }],
            "volumes": [{"name": "config", "configMap": {"name": NAME}}],
        }},
    }, opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[config])))
    service = k8s.core.v1.Service(f"{name}-service", metadata=meta, spec={
        "selector": SELECTOR,
        "ports": [{"name": "metrics", "port": PORT, "targetPort": "metrics"}]}, opts=opts)
    return [config, deployment, service]
