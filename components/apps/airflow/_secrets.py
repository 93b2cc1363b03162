"""The Secrets of the Airflow app: every credential the chart would otherwise generate.

The chart creates its fernet, API, JWT and Redis secrets as Helm hooks with random values:
Argo CD re-renders them on every sync, which rotates the keys and restarts everything (and
a new fernet key leaves stored connections unreadable). Here each one is generated once
with pulumi-random, kept in Pulumi state, and handed to the chart by Secret *name* only.

Connection strings that embed a password (the metadata DB URI, pgbouncer's users.txt, the
Redis broker URL) are built from secret Outputs straight into `string_data`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.database.connection import DatabaseConnection
from foundation.config.secrets import config_secret

KEYS_SECRET = "airflow-keys"
"""fernet-key, api-secret-key, jwt-secret, webserver-secret-key (the chart's key names)."""
METADATA_SECRET = "airflow-metadata-connection"
"""Key `connection`: the metadata DB URI (via pgbouncer when it is on)."""
ADMIN_SECRET = "airflow-admin-credentials"
"""Keys username, password: the first admin user (createUserJob)."""
GIT_SSH_SECRET = "airflow-git-ssh"
"""Key `gitSshKey`: the DAG repository's deploy key."""
PGBOUNCER_SECRET = "airflow-pgbouncer-ini"
"""Keys pgbouncer.ini, users.txt (the chart builds them from plain-text values otherwise)."""
PGBOUNCER_STATS_SECRET = "airflow-pgbouncer-stats-connection"
"""Key `connection`: pgbouncer's admin console, for the metrics exporter."""
REDIS_SECRET = "airflow-redis-auth"
"""Key `password` (CeleryExecutor)."""
BROKER_SECRET = "airflow-broker-connection"
"""Key `connection`: the Celery broker URL (CeleryExecutor)."""
ADMIN_USER = "admin"


@dataclass(frozen=True)
class Pgbouncer:
    """Where pgbouncer listens and how it pools (chart values `ports`, `pgbouncer`)."""

    host: str
    """In-cluster Service of pgbouncer: `<release>-pgbouncer.<namespace>`."""
    port: int
    database: str
    """The pool Airflow connects to: `<release>-metadata`."""
    pool_size: int
    max_client_conn: int


@dataclass
class AirflowSecrets:
    """The Secrets created, by the chart value that names them."""

    names: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    resources: list[pulumi.Resource] = field(default_factory=list)


class SecretFactory:
    """Creates the app's Secrets as children of `parent`, in `namespace`."""

    def __init__(self, name: str, namespace: str, labels: Mapping[str, str],
                 parent: pulumi.Resource, protect: bool):
        self.name, self.namespace, self.labels = name, namespace, dict(labels)
        self.child = pulumi.ResourceOptions(parent=parent)
        # prod: a replaced fernet key makes every stored connection unreadable.
        self.keep = pulumi.ResourceOptions(parent=parent, protect=protect)
        self.out = AirflowSecrets()

    def password(self, role: str, length: int = 32, keep: bool = False) -> pulumi.Output[str]:
        return random.RandomPassword(f"{self.name}-{role}", length=length, special=False,
                                     opts=self.keep if keep else self.child).result

    def fernet_key(self) -> pulumi.Output[str]:
        raw = random.RandomBytes(f"{self.name}-fernet-key", length=32, opts=self.keep)
        return fernet_key(raw.base64)

    def secret(self, role: str, secret_name: str, data: Mapping[str, pulumi.Input[str]],
               *value_keys: str) -> None:
        """A Secret holding `data` (every value marked secret), named by `value_keys`."""
        res = k8s.core.v1.Secret(
            f"{self.name}-{role}",
            metadata={"name": secret_name, "namespace": self.namespace, "labels": self.labels},
            string_data={k: pulumi.Output.secret(v) for k, v in data.items()},
            opts=self.child)
        self.out.resources.append(res)
        for key in value_keys:
            self.out.names[key] = res.metadata["name"]


def fernet_key(raw_base64: pulumi.Output[str]) -> pulumi.Output[str]:
    """Fernet wants 32 bytes in url-safe base64; RandomBytes gives standard base64."""
    return raw_base64.apply(lambda b: b.replace("+", "-").replace("/", "_"))


def stable_keys(f: SecretFactory) -> None:
    """The fernet key and the API (Airflow 3), JWT and webserver (Airflow 2) secret keys."""
    f.secret("keys", KEYS_SECRET, {
        "fernet-key": f.fernet_key(),
        "api-secret-key": f.password("api-secret-key", 48, keep=True),
        "jwt-secret": f.password("jwt-secret", 64, keep=True),
        "webserver-secret-key": f.password("webserver-secret-key", 48, keep=True),
    }, "fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName",
        "webserverSecretKeySecretName")


def admin_credentials(f: SecretFactory) -> None:
    f.secret("admin", ADMIN_SECRET, {"username": ADMIN_USER,
                                     "password": f.password("admin-password", 24)},
             "adminSecretName")


def git_ssh_key(f: SecretFactory) -> None:
    f.secret("git-ssh", GIT_SSH_SECRET,
             {"gitSshKey": config_secret("apps.airflow.dags.sshKey")}, "sshKeySecret")


def db_password(conn: DatabaseConnection) -> pulumi.Output[str]:
    """The app's database password, as a secret Output (only ever put into a Secret)."""
    password = getattr(conn, "password", None)
    if password is None:
        raise ValueError("airflow: the database connection carries no password, so the "
                         "metadata URI Secret cannot be built (DatabaseConnection.password)")
    return pulumi.Output.secret(password)


def _uri(scheme: str, user: pulumi.Input[str], password: pulumi.Input[str],
         host: pulumi.Input[str], port: pulumi.Input[int], path: pulumi.Input[str],
         query: str = "") -> pulumi.Output[str]:
    return pulumi.Output.all(user, password, host, port, path).apply(
        lambda a: f"{scheme}://{quote(str(a[0]), safe='')}:{quote(str(a[1]), safe='')}"
                  f"@{a[2]}:{a[3]}/{a[4]}{query}")


def metadata_connection(f: SecretFactory, conn: DatabaseConnection, managed: bool,
                        pgbouncer: Pgbouncer | None) -> None:
    """The metadata URI; with pgbouncer also its config and its stats connection.

    Airflow -> pgbouncer stays inside the cluster (plain); pgbouncer -> a managed
    database and Airflow -> a managed database use TLS (sslmode=require).
    """
    password = db_password(conn)
    if pgbouncer is None:
        mode = "require" if managed else "disable"
        uri = _uri("postgresql", conn.user, password, conn.host, conn.port, conn.database,
                   f"?sslmode={mode}")
        f.secret("metadata", METADATA_SECRET, {"connection": uri}, "metadataSecretName")
        return
    uri = _uri("postgresql", conn.user, password, pgbouncer.host, pgbouncer.port,
               pgbouncer.database, "?sslmode=disable")
    f.secret("metadata", METADATA_SECRET, {"connection": uri}, "metadataSecretName")
    ini = pulumi.Output.all(conn.host, conn.port, conn.database, conn.user).apply(
        lambda a: pgbouncer_ini(pgbouncer, host=a[0], port=a[1], database=a[2], user=a[3],
                                tls="require" if managed else "prefer"))
    users = pulumi.Output.all(conn.user, password).apply(lambda a: f'"{a[0]}" "{a[1]}"\n')
    f.secret("pgbouncer", PGBOUNCER_SECRET, {"pgbouncer.ini": ini, "users.txt": users},
             "configSecretName")
    stats = _uri("postgresql", conn.user, password, "127.0.0.1", pgbouncer.port, "pgbouncer",
                 "?sslmode=disable")
    f.secret("pgbouncer-stats", PGBOUNCER_STATS_SECRET, {"connection": stats},
             "statsSecretName")


def pgbouncer_ini(pgb: Pgbouncer, *, host: str, port: int, database: str, user: str,
                  tls: str) -> str:
    """pgbouncer.ini as the chart would render it, for one pool: the metadata DB."""
    return "\n".join([
        "[databases]",
        f"{pgb.database} = host={host} dbname={database} port={port} "
        f"pool_size={pgb.pool_size}",
        "",
        "[pgbouncer]",
        "pool_mode = transaction",
        f"listen_port = {pgb.port}",
        "listen_addr = *",
        "auth_type = scram-sha-256",
        "auth_file = /etc/pgbouncer/users.txt",
        f"stats_users = {user}",
        "ignore_startup_parameters = extra_float_digits",
        f"max_client_conn = {pgb.max_client_conn}",
        "verbose = 0",
        "log_disconnections = 0",
        "log_connections = 0",
        f"server_tls_sslmode = {tls}",
        "server_tls_ciphers = normal",
        "",
    ])


def celery_broker(f: SecretFactory, redis_host: str, redis_port: int) -> None:
    """Redis' password and the broker URL that embeds it (CeleryExecutor)."""
    password = f.password("redis-password", 32)
    f.secret("redis", REDIS_SECRET, {"password": password}, "passwordSecretName")
    url = password.apply(lambda p: f"redis://:{p}@{redis_host}:{redis_port}/0")
    f.secret("broker", BROKER_SECRET, {"connection": url}, "brokerUrlSecretName")
