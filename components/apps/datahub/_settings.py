"""Names and settings shared by the DataHub modules (components/apps/datahub/)."""

from __future__ import annotations

from pydantic import Field

from components._k8s import Resources
from foundation.config.base import Model

RELEASE = "datahub"
PREREQUISITES = "datahub-prerequisites"
"""Chart key in charts.lock.yaml, charts-values/ folder and Helm release name."""
LINEAGE = "datahub-lineage"
"""charts-values/ folder of our own manifests' settings (not a chart)."""

# Secrets Pulumi generates (pulumi-random) and the chart references by name.
AUTH_SECRET = "datahub-auth-secrets"
AUTH_KEYS = {"system_client_secret": 48, "token_service_signing_key": 64,
             "token_service_salt": 32}
"""Key -> length of each generated value (the chart's default key names)."""
ENCRYPTION_SECRET, ENCRYPTION_KEY = "datahub-encryption-secrets", "encryption_key_secret"
FRONTEND_SECRET, FRONTEND_KEY = "datahub-frontend-secret", "datahub.gms.secret"
KRAFT_SECRET, KRAFT_KEY = "datahub-kafka-kraft-cluster-id", "kraft-cluster-id"
SEARCH_SECRET = "datahub-search-credentials"
ROOT_USER_SECRET = "datahub-root-user"
"""The root user `datahub`: key `user.props` (`datahub:<password>`, the JAAS file the
frontend reads) and keys `username`, `password` for people."""
ROOT_USER, USER_PROPS = "datahub", "user.props"
USER_PROPS_PATH = "/datahub-frontend/conf/user.props"
"""Where the frontend image keeps its default `datahub:datahub` file (DataHub's guide,
"Changing the default user credentials", Helm chart)."""
SYSTEM_CLIENT_ID = "__datahub_system"

# In-cluster endpoints of the prerequisites chart for release `datahub-prerequisites`.
KAFKA_BOOTSTRAP = f"{PREREQUISITES}-kafka:9092"
OPENSEARCH_HOST, OPENSEARCH_PORT = "opensearch-cluster-master", 9200

# Kubernetes securityContext objects, passed verbatim by the charts; their defaults name only
# some fields, so the restricted-profile fields are set from code (components/_k8s.py).
SECURITY_KEYS = ("securityContext", "podSecurityContext")


class LineageSettings(Model):
    """charts-values/datahub-lineage/: our manifests around the datahub chart."""

    token_schedule: str = Field(description="Cron schedule of the lineage-token CronJob.")
    token_actor: str = Field(description="User urn the minted access token acts as.")
    token_resources: Resources = Field(description="Token CronJob container resources.")
    cron_resources: Resources = Field(description="Each ingestion CronJob's resources.")
    wait_image: str = Field(description="Image with `nc` for the wait init container.")
    wait_resources: Resources = Field(description="Wait init container resources.")
    gcs_image: str = Field(description="Google Cloud CLI image (gcp artifact copy).")
    gcs_resources: Resources = Field(description="Artifact copy init container resources.")
