"""The provisioning Job shared by the Postgres components that have no SQL-level provider.

It creates or updates, idempotently, one role and one database per app with psql. The
admin connection comes from `admin_env` (PGHOST, PGUSER, PGPASSWORD…, from Secrets) and
each app's password from its `<app>-db-credentials` Secret: no password is ever written
into the Job spec, only Secret references.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components._k8s import container_security, pod_security, secret_env
from components.database.connection import DatabaseConnection

JOB_NAME = "postgres-provision"
WAIT = "until pg_isready; do sleep 2; done"
# Role and database names are spliced into SQL: only plain identifiers are accepted.
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Role attributes beyond LOGIN, per app. Airbyte's Temporal creates its own databases
# (temporal, temporal_visibility) at startup, so its role needs CREATEDB.
ROLE_ATTRIBUTES = {"airbyte": "CREATEDB"}


def check_databases(component: str, databases: Sequence[str]) -> None:
    """One database per app: a repeated name is a caller bug, refused before any child."""
    dupes = sorted({d for d in databases if list(databases).count(d) > 1})
    if dupes:
        raise ValueError(f"{component}: duplicate databases {dupes}")


def credentials_secret(db: str) -> str:
    """Name of the Secret holding the credentials of app database `db`."""
    return f"{db}-db-credentials"


def app_credentials(name: str, db: str, *, host: pulumi.Input[str], port: int,
                    password: pulumi.Input[str], namespace: pulumi.Input[str],
                    labels: Mapping[str, str], opts: pulumi.ResourceOptions,
                    ) -> tuple[k8s.core.v1.Secret, DatabaseConnection]:
    """The `<db>-db-credentials` Secret (host, port, database, username, password) of one
    app, whose role and database are both named `db`, and its typed connection."""
    secret = k8s.core.v1.Secret(
        f"{name}-{db}-credentials",
        metadata={"name": credentials_secret(db), "namespace": namespace, "labels": labels},
        string_data={"host": host, "port": str(port), "database": db, "username": db,
                     "password": pulumi.Output.secret(password)},
        opts=opts)
    conn = DatabaseConnection(host=pulumi.Output.from_input(host),
                              port=pulumi.Output.from_input(port),
                              database=pulumi.Output.from_input(db),
                              user=pulumi.Output.from_input(db),
                              secret_name=pulumi.Output.from_input(credentials_secret(db)),
                              password=pulumi.Output.secret(password))
    return secret, conn


def provision_env(databases: Sequence[str]) -> list[dict[str, Any]]:
    """`PW<i>`: the password of `databases[i]`, read from its credentials Secret."""
    return [secret_env(f"PW{i}", credentials_secret(db), "password")
            for i, db in enumerate(databases)]


def provision_script(databases: Sequence[str], *, grant_to_admin: bool = False,
                     wait: str = WAIT) -> str:
    """Bash script: wait for the server, then per app ensure role, password and database.

    `grant_to_admin`: make the admin a member of each role. Needed where the admin is not
    a superuser (RDS master user): from Postgres 16 on, `CREATE DATABASE … OWNER r`
    requires being able to SET ROLE r.
    """
    bad = [db for db in databases if not IDENTIFIER.match(db)]
    if bad:
        raise ValueError(f"not plain SQL identifiers: {bad}")
    statements = []
    for i, db in enumerate(databases):
        grant = f"GRANT \"{db}\" TO CURRENT_USER;\n" if grant_to_admin else ""
        # Passwords travel as psql variables from the Secret, never in the spec.
        statements.append(
            f"psql -v ON_ERROR_STOP=1 -v pw=\"$PW{i}\" <<'SQL'\n"
            f"SELECT 'CREATE ROLE \"{db}\" LOGIN' WHERE NOT EXISTS "
            f"(SELECT FROM pg_roles WHERE rolname = '{db}')\\gexec\n"
            f"ALTER ROLE \"{db}\" WITH {' '.join(filter(None, ('LOGIN', ROLE_ATTRIBUTES.get(db))))}"
            " PASSWORD :'pw';\n"
            f"{grant}"
            f"SELECT 'CREATE DATABASE \"{db}\" OWNER \"{db}\"' WHERE NOT EXISTS "
            f"(SELECT FROM pg_database WHERE datname = '{db}')\\gexec\n"
            "SQL")
    return f"set -e\n{wait}\n" + "\n".join(statements)


def provision_job(name: str, *, namespace: pulumi.Input[str], databases: Sequence[str],
                  image: str, resources: Mapping[str, Any], labels: Mapping[str, str],
                  admin_env: Sequence[Mapping[str, Any]], uid: int,
                  opts: pulumi.ResourceOptions,
                  grant_to_admin: bool = False) -> k8s.batch.v1.Job:
    """The Job `postgres-provision` in `namespace`, running `provision_script`.

    `admin_env` says how to reach the server as admin (literal values or Secret refs);
    `opts` carries the parent, the provider and the dependencies.
    """
    env = [*admin_env, *provision_env(databases)]
    script = provision_script(databases, grant_to_admin=grant_to_admin)
    return k8s.batch.v1.Job(
        name,
        metadata={"name": JOB_NAME, "namespace": namespace, "labels": labels},
        spec={"backoffLimit": 6, "template": {"metadata": {"labels": labels}, "spec": {
            "restartPolicy": "OnFailure",
            "securityContext": pod_security(uid),
            "containers": [{
                "name": "provision", "image": image,
                "command": ["/bin/bash", "-c", script], "env": env,
                "resources": dict(resources),
                "securityContext": container_security(),
            }],
        }}},
        # The pod template is immutable: a changed app list means a new Job.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
            replace_on_changes=["spec"], delete_before_replace=True)))
