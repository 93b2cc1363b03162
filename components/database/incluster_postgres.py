"""InClusterPostgres: the metadata database of dev and local stacks.

One Postgres StatefulSet, a generated superuser password, and per app a database, a
role and a generated password, delivered as a Kubernetes Secret in the app's namespace
(`<app>-db-credentials`: host, port, database, username, password). A provisioning
Job creates or updates the roles idempotently, so enabling an app later just works.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pydantic import Field

from components._k8s import Resources, container_security, pod_security, secret_env
from components._values import typed_settings
from components.database._provision import app_credentials, check_databases, provision_job
from components.database.connection import DatabaseConnection
from foundation.config.base import Model

APP = "postgres"
UID = 999  # the `postgres` user of the official image
PORT = 5432
SUPERUSER_SECRET = "postgres-superuser"
EXPORTER_PORT = 9187  # postgres_exporter sidecar, port `metrics` (the domain's PodMonitor)


class PostgresSettings(Model):
    """charts-values/postgres/: image and sizes."""

    image: str = Field(description="Postgres image, pinned by tag (Debian variant, uid 999).")
    storage_size: str = Field(description="Size of the data volume.")
    storage_class: str | None = Field(None, description="StorageClass; unset for the default.")
    resources: Resources = Field(description="Server container resources.")
    job_resources: Resources = Field(description="Provisioning Job resources.")
    exporter_image: str = Field(description="postgres_exporter sidecar image, pinned by tag.")
    exporter_resources: Resources = Field(description="postgres_exporter sidecar resources.")


@dataclass(frozen=True)
class InClusterPostgresArgs:
    """Inputs of InClusterPostgres."""

    namespace: pulumi.Input[str]
    """Namespace of the database and of the apps' credential Secrets."""
    databases: Sequence[str]
    """One database and role per entry (the enabled apps)."""
    profile: str
    """Profile whose settings file is layered in."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels for every object."""


class InClusterPostgres(pulumi.ComponentResource):
    """Postgres in the cluster, with one database and role per app."""

    host: pulumi.Output[str]
    port: pulumi.Output[int]
    superuser_secret: pulumi.Output[str]
    connections: dict[str, DatabaseConnection]

    def __init__(self, name: str, args: InClusterPostgresArgs,
                 opts: pulumi.ResourceOptions | None = None):
        check_databases(f"InClusterPostgres {name}", args.databases)
        settings = typed_settings(APP, args.profile, PostgresSettings)
        super().__init__("dataplatform:database:InClusterPostgres", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {**args.labels, "app.kubernetes.io/name": APP}
        meta = {"namespace": args.namespace, "labels": labels}
        host = pulumi.Output.concat(APP, ".", args.namespace, ".svc.cluster.local")
        superuser = random.RandomPassword(f"{name}-superuser-password", length=32,
                                          special=False, opts=child)
        secrets = [k8s.core.v1.Secret(f"{name}-superuser", metadata={
            "name": SUPERUSER_SECRET, **meta}, string_data={"password": superuser.result},
            opts=child)]
        self.connections = {}
        for db in args.databases:
            password = random.RandomPassword(f"{name}-{db}-password", length=32,
                                             special=False, opts=child)
            secret, self.connections[db] = app_credentials(
                name, db, host=host, port=PORT, password=password.result,
                namespace=args.namespace, labels=labels, opts=child)
            secrets.append(secret)
        service = k8s.core.v1.Service(
            f"{name}-service", metadata={"name": APP, **meta},
            spec={"selector": {"app.kubernetes.io/name": APP},
                  "ports": [{"name": "postgres", "port": PORT, "targetPort": PORT}]},
            opts=child)
        statefulset = self._statefulset(name, args, settings, labels, [*secrets, service])
        self._provision_job(name, args, settings, labels, statefulset)
        self.host = host
        self.port = pulumi.Output.from_input(PORT)
        self.superuser_secret = pulumi.Output.from_input(SUPERUSER_SECRET)
        self.register_outputs({
            "host": self.host, "port": self.port, "superuser_secret": self.superuser_secret,
            "connections": {db: c.as_dict() for db, c in self.connections.items()}})

    def _statefulset(self, name, args, settings: PostgresSettings, labels, deps):
        return k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata={"name": APP, "namespace": args.namespace, "labels": labels},
            spec={
                "serviceName": APP, "replicas": 1,
                "selector": {"matchLabels": {"app.kubernetes.io/name": APP}},
                "template": {"metadata": {"labels": labels}, "spec": {
                    "securityContext": pod_security(UID),
                    "containers": [{
                        "name": APP, "image": settings.image,
                        "env": [secret_env("POSTGRES_PASSWORD", SUPERUSER_SECRET, "password"),
                                {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}],
                        "ports": [{"name": "postgres", "containerPort": PORT}],
                        "readinessProbe": {"exec": {"command": ["pg_isready", "-U", "postgres"]}},
                        "livenessProbe": {"exec": {"command": ["pg_isready", "-U", "postgres"]},
                                          "initialDelaySeconds": 30},
                        "resources": settings.resources.model_dump(),
                        "securityContext": container_security(),
                        "volumeMounts": [
                            {"name": "data", "mountPath": "/var/lib/postgresql/data"},
                            {"name": "run", "mountPath": "/var/run/postgresql"},
                            {"name": "tmp", "mountPath": "/tmp"}],
                    }, _exporter(settings)],
                    "volumes": [{"name": "run", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
                }},
                "volumeClaimTemplates": [{
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"],
                             "storageClassName": settings.storage_class,
                             "resources": {"requests": {"storage": settings.storage_size}}}}],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps))

    def _provision_job(self, name, args, settings: PostgresSettings, labels, statefulset):
        return provision_job(
            f"{name}-provision", namespace=args.namespace, databases=args.databases,
            image=settings.image, resources=settings.job_resources.model_dump(), labels=labels,
            uid=UID, admin_env=[secret_env("PGPASSWORD", SUPERUSER_SECRET, "password"),
                                {"name": "PGHOST", "value": APP},
                                {"name": "PGUSER", "value": "postgres"}],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[statefulset]))


def _exporter(settings: PostgresSettings) -> dict:
    """postgres_exporter sidecar: server metrics over localhost, as the superuser."""
    return {"name": "exporter", "image": settings.exporter_image,
            "env": [{"name": "DATA_SOURCE_URI",
                     "value": f"localhost:{PORT}/postgres?sslmode=disable"},
                    {"name": "DATA_SOURCE_USER", "value": "postgres"},
                    secret_env("DATA_SOURCE_PASS", SUPERUSER_SECRET, "password")],
            "ports": [{"name": "metrics", "containerPort": EXPORTER_PORT}],
            "resources": settings.exporter_resources.model_dump(),
            "securityContext": container_security()}
