"""The domain-dependent half of Airbyte's Helm values; the static half is charts-values/airbyte/.

Everything here is a name, an endpoint or a switch: credentials stay in Secrets that the
chart references by name (`airbyte-db-credentials`, `minio-credentials`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from components.apps.context import MINIO_SECRET, AppContext

APP = "airbyte"
RELEASE = APP
"""Helm release name = app key; the chart names its objects `<release>-…`."""
SERVER_SERVICE = f"{RELEASE}-airbyte-server-svc"
SERVER_PORT = 8001
SERVER_LABELS = {"app.kubernetes.io/name": "server", "app.kubernetes.io/instance": RELEASE}
"""Selector labels of the server pods (the chart derives them from the template folder)."""
GCS_CREDENTIALS_SECRET = "airbyte-gcs-credentials"
"""gcp: the Secret the chart mounts as the GCS key file (see `storage_values`)."""
BUCKETS = ("log", "state", "workloadOutput", "activityPayload", "auditLogging")
"""Every `global.storage.bucket.*` the chart knows: all go to the domain's `artifacts`."""


def server_url(namespace: str) -> str:
    """In-cluster URL of the API and web UI (served by airbyte-server since Airbyte 1.7)."""
    return f"http://{SERVER_SERVICE}.{namespace}.svc.cluster.local:{SERVER_PORT}"


def database_values(ctx: AppContext) -> dict[str, Any]:
    """`global.database`: the domain's Postgres; user and password from its Secret.

    `type: external` also turns on TLS for Temporal (the chart ties the two), so it is set
    for the managed database only. The chart builds the JDBC URL from host, port and name
    alone, so `sslmode=require` rides on the name (airbytehq/airbyte#46909).
    """
    db = ctx.database(APP)
    managed = ctx.managed_database
    return {"type": "external" if managed else "internal", "secretName": db.secret_name,
            "host": db.host, "port": db.port,
            "name": pulumi.Output.concat(db.database, "?sslmode=require") if managed
            else db.database}


def storage_values(ctx: AppContext, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`global.storage`: state, logs and workload output in the `artifacts` bucket.

    local: MinIO with its root keys from `minio-credentials` (the only static keys).
    aws: S3 with `instanceProfile`, i.e. the SDK's default chain, which picks up IRSA.
    gcp: Airbyte's GCS client only accepts a service-account key file (it calls
    `ServiceAccountCredentials.fromStream`), so workload identity cannot be used; the
    chart mounts key `GOOGLE_APPLICATION_CREDENTIALS_JSON` of `global.storage.secretName`,
    a Secret the operator provides (default `airbyte-gcs-credentials`). No key is created
    here: the platform creates no static cloud keys.
    """
    bucket = ctx.bucket("artifacts")
    block: dict[str, Any] = {"bucket": dict.fromkeys(BUCKETS, bucket)}
    if ctx.cloud == "local":
        block.update(type="minio", secretName=MINIO_SECRET, minio={
            "endpoint": ctx.storage_endpoint, "accessKeyIdSecretKey": "rootUser",
            "secretAccessKeySecretKey": "rootPassword"})
    elif ctx.cloud == "aws":
        block.update(type="s3", s3={"region": ctx.site.region,
                                    "authenticationType": "instanceProfile"})
    else:
        chosen = ((overrides.get("global") or {}).get("storage") or {}).get("secretName")
        block.update(type="gcs", secretName=chosen or GCS_CREDENTIALS_SECRET,
                     gcs={"projectId": ctx.site.gcp_project})
    return block


def identity_values(ctx: AppContext) -> dict[str, Any]:
    """aws/gcp: every pod (and every job pod) runs as the workload-identity ServiceAccount.

    The chart must not create its own then; it creates no Role either, see `workload_rbac`.
    local: the chart's own `airbyte-admin` ServiceAccount and Role.
    """
    sa = ctx.service_account(APP)
    if sa is None:
        return {}
    return {"global": {"serviceAccountName": sa}, "serviceAccount": {"create": False, "name": sa}}


def computed_values(ctx: AppContext, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """All values computed in code (applied over files and stack overrides)."""
    identity = identity_values(ctx)
    return {**identity, "global": {
        **identity.get("global", {}),
        "airbyteUrl": server_url(ctx.namespace),
        "database": database_values(ctx),
        "storage": storage_values(ctx, overrides),
        # Sync/check pods go to the domain namespace (the chart's default is `jobs`).
        "workloads": {"namespace": ctx.namespace},
    }}
