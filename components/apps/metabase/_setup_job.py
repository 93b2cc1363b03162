"""Metabase's first-run setup, done by the platform: no open wizard, no hand-made user.

Pulumi generates the admin's password (Secret `metabase-admin-credentials`) and, when the
domain runs DataHub, the password of DataHub's read-only Metabase user (Secret
`metabase-datahub-credentials`, read by DataHub's Metabase recipe). The `metabase-setup`
Job runs `_setup.py` (mounted from a ConfigMap) against the in-cluster Service: it
completes the setup API with that admin, then ensures the reader (see `_setup.py`).

The Job is not awaited by Pulumi (`pulumi.com/skipAwait`): under Argo CD, Metabase itself
arrives after the sync, and the script waits for it. A change to the script or to its
settings replaces the Job (a new pod template), which re-runs it; every run is idempotent.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pydantic import Field

from components._k8s import Resources, container_security, pod_security, secret_env
from components._values import typed_settings
from components.apps.context import AppContext
from components.lineage.names import METABASE_READER_SECRET
from foundation.config.base import Model

SETTINGS = "metabase/setup"
"""charts-values/ folder of the Job's settings (not a chart)."""
NAME = "metabase-setup"
ADMIN_SECRET = "metabase-admin-credentials"
"""Keys `username` (the admin's e-mail) and `password`."""
SCRIPT = Path(__file__).with_name("_setup.py")
MOUNT = "/scripts"
UID = 65534  # nobody: the script needs no user of the image


class SetupSettings(Model):
    """charts-values/metabase/setup/: the setup Job."""

    image: str = Field(description="Image with python3 (standard library only), by tag.")
    resources: Resources = Field(description="The Job container's requests and limits.")
    wait_seconds: int = Field(ge=60, description="How long a run waits for Metabase.")
    backoff_limit: int = Field(ge=0, le=20, description="Retries of a failed run.")


def emails(ctx: AppContext) -> tuple[str, str]:
    """(admin, reader) e-mails: deterministic, per domain (Metabase logs in by e-mail)."""
    base = ctx.site.naming.base
    return f"admin@{base}.local", f"datahub-reader@{base}.local"


def _password(name: str, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
    # Metabase's default complexity rule ("normal") wants a digit.
    return random.RandomPassword(name, length=32, special=False, min_numeric=2,
                                 opts=opts).result


def build_setup(name: str, ctx: AppContext, parent: pulumi.Resource, service_url: str,
                depends_on: list[pulumi.Resource]) -> list[pulumi.Resource]:
    """The credentials Secrets, the script ConfigMap and the Job; returns them."""
    settings = typed_settings(SETTINGS, ctx.profile, SetupSettings)
    opts = pulumi.ResourceOptions(parent=parent)
    # prod: a new admin password would lock the next run out of the Metabase it set up.
    kept = pulumi.ResourceOptions(parent=parent, protect=ctx.profile == "prod")
    # Its own name (like datahub-lineage-token): the chart's pods select on `metabase`.
    labels = {**ctx.labels, "app.kubernetes.io/name": NAME,
              "app.kubernetes.io/part-of": "metabase"}
    meta = {"namespace": ctx.namespace, "labels": labels}
    admin_email, reader_email = emails(ctx)

    def secret(role: str, secret_name: str, email: str,
               password: pulumi.Input[str]) -> k8s.core.v1.Secret:
        return k8s.core.v1.Secret(
            f"{name}-{role}", metadata={"name": secret_name, **meta}, type="Opaque",
            string_data={"username": email, "password": pulumi.Output.secret(password)},
            opts=opts)

    secrets = [secret("admin-credentials", ADMIN_SECRET, admin_email,
                      _password(f"{name}-admin-password", kept))]
    env: list[dict[str, Any]] = [
        {"name": "MB_URL", "value": service_url},
        {"name": "MB_SITE_NAME", "value": ctx.site.naming.base},
        {"name": "MB_WAIT_SECONDS", "value": str(settings.wait_seconds)},
        {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
        secret_env("MB_ADMIN_EMAIL", ADMIN_SECRET, "username"),
        secret_env("MB_ADMIN_PASSWORD", ADMIN_SECRET, "password"),
    ]
    if "datahub" in ctx.enabled:  # DataHub's Metabase recipe reads dashboards as this user
        secrets.append(secret("datahub-credentials", METABASE_READER_SECRET, reader_email,
                              _password(f"{name}-datahub-password", opts)))
        env += [secret_env("MB_READER_EMAIL", METABASE_READER_SECRET, "username"),
                secret_env("MB_READER_PASSWORD", METABASE_READER_SECRET, "password")]

    code = SCRIPT.read_text()
    script = k8s.core.v1.ConfigMap(f"{name}-setup-script",
                                   metadata={"name": f"{NAME}-script", **meta},
                                   data={"setup.py": code}, opts=opts)
    container = {
        "name": "setup", "image": settings.image,
        "command": ["python3", f"{MOUNT}/setup.py"], "env": env,
        "volumeMounts": [{"name": "script", "mountPath": MOUNT, "readOnly": True}],
        "resources": settings.resources.model_dump(),
        "securityContext": {**container_security(read_only_root=True), "runAsNonRoot": True,
                            "runAsUser": UID, "runAsGroup": UID,
                            "seccompProfile": {"type": "RuntimeDefault"}},
    }
    job = k8s.batch.v1.Job(
        f"{name}-setup-job",
        metadata={"name": NAME, **meta, "annotations": {"pulumi.com/skipAwait": "true"}},
        spec={"backoffLimit": settings.backoff_limit, "template": {
            "metadata": {"labels": labels, "annotations": {
                # A new script is a new pod template: Pulumi replaces the Job, which re-runs.
                "dataplatform.io/script-sha256": hashlib.sha256(code.encode()).hexdigest()}},
            "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False,
                     "securityContext": pod_security(UID), "containers": [container],
                     "volumes": [{"name": "script", "configMap": {
                         "name": f"{NAME}-script", "defaultMode": 0o444}}]}}},
        opts=pulumi.ResourceOptions(parent=parent, delete_before_replace=True,
                                    depends_on=[*secrets, script, *depends_on]))
    return [*secrets, script, job]
