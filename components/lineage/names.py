"""Names shared by the emitting apps (Airflow, Metabase, Airbyte) and DataHub's side of the
lineage wiring.

Each Secret is created by one component and only referenced by name by the others: the
token Secret by DataHub, the Metabase reader's by Metabase, Airbyte's auth Secret by
Airbyte's own bootloader. Keep these in one place so both sides cannot drift apart.
"""

from __future__ import annotations

GMS_PORT = 8080
"""Port of the DataHub GMS service (chart `datahub`, release `datahub`)."""

GMS_SERVICE = "datahub-datahub-gms"
"""In-cluster service name of GMS for the Helm release named `datahub`."""

LINEAGE_TOKEN_SECRET = "datahub-lineage-token"
"""Secret (created by the DataHub component) holding a GMS access token for lineage emitters."""

LINEAGE_TOKEN_KEY = "token"
"""Key of the token inside `LINEAGE_TOKEN_SECRET`."""

OPENLINEAGE_BASE = "/openapi/openlineage/"
"""GMS' OpenLineage servlet (DataHub v1.7.0 `LineageApiImpl`,
`@RequestMapping("/openapi/openlineage/api/v1")`); the trailing slash matters: the
OpenLineage client joins it with `OPENLINEAGE_ENDPOINT` by `urljoin`."""

OPENLINEAGE_ENDPOINT = "api/v1/lineage"
"""POST target of OpenLineage run events, relative to `OPENLINEAGE_BASE`."""

METABASE_READER_SECRET = "metabase-datahub-credentials"
"""Secret (created by the Metabase component) of the read-only Metabase user DataHub reads
dashboards as: keys `username` (its e-mail) and `password`."""

AIRBYTE_AUTH_SECRET = "airbyte-auth-secrets"
"""Secret Airbyte's bootloader generates at install (chart `global.auth.managedSecretName`
default): the instance admin's application credentials for Airbyte's public API."""
AIRBYTE_CLIENT_ID_KEY = "instance-admin-client-id"
AIRBYTE_CLIENT_SECRET_KEY = "instance-admin-client-secret"


def gms_url(namespace: str) -> str:
    """In-cluster URL of DataHub GMS in `namespace`."""
    return f"http://{GMS_SERVICE}.{namespace}.svc.cluster.local:{GMS_PORT}"


def openlineage_url(namespace: str) -> str:
    """Base URL of GMS' OpenLineage endpoint in `namespace` (OPENLINEAGE_URL)."""
    return gms_url(namespace) + OPENLINEAGE_BASE


def fabric_env(profile: str) -> str:
    """DataHub environment (FabricType) of the domain's entities: PROD in prod, else DEV.

    Every emitter (the recipes' `env`, GMS' `DATAHUB_OPENLINEAGE_ENV` for Airflow's
    OpenLineage events) uses it, so lineage edges join up.
    """
    return "PROD" if profile == "prod" else "DEV"
