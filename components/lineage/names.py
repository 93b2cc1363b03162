"""Names shared by the Airflow side and the DataHub side of the lineage wiring.

The DataHub helper creates the token Secret; Airflow only references it by name.
Keep these in one place so both sides cannot drift apart.
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


def gms_url(namespace: str) -> str:
    """In-cluster URL of DataHub GMS in `namespace`."""
    return f"http://{GMS_SERVICE}.{namespace}.svc.cluster.local:{GMS_PORT}"


def fabric_env(profile: str) -> str:
    """DataHub environment (FabricType) of the domain's entities: PROD in prod, else DEV.

    Every emitter (Airflow plugin `cluster`, dbt and warehouse recipes `env`) uses it, so
    lineage edges join up.
    """
    return "PROD" if profile == "prod" else "DEV"
