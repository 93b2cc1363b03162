"""Values computed in code for the datahub and datahub-prerequisites charts.

Only wiring lives here: endpoints (Postgres, Kafka, search), names of Secrets and of the
recipe ConfigMaps, the ingestion crons, and the restricted-profile security contexts
(from components/_k8s.py, shared with our own manifests). Sizes and switches that do not
depend on the stack config are in charts-values/.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from components._k8s import container_security, pod_security
from components.apps.context import AppContext
from components.apps.datahub._settings import (
    AUTH_SECRET,
    ENCRYPTION_KEY,
    ENCRYPTION_SECRET,
    FRONTEND_KEY,
    FRONTEND_SECRET,
    KAFKA_BOOTSTRAP,
    KRAFT_SECRET,
    OPENSEARCH_HOST,
    OPENSEARCH_PORT,
    ROOT_USER_SECRET,
    SEARCH_SECRET,
    USER_PROPS,
    USER_PROPS_PATH,
    LineageSettings,
)
from components.lineage.names import fabric_env
from components.lineage.recipes import GMS_URL_ENV
from components.lineage.sources import (
    BUCKET_ENV,
    ENDPOINT_ENV,
    LOCAL_ARTIFACTS,
    ScheduledRecipe,
)
from foundation.config.datahub import DataHubConfig

UID = 1000  # the DataHub images' user
# The standalone consumers run in prod only, but their restricted-PSS settings are set
# everywhere, so enabling them never brings a pod the namespace refuses.
APP_COMPONENTS = ("datahub-gms", "datahub-frontend", "acryl-datahub-actions",
                  "datahubSystemUpdate", "datahub-ingestion-cron", "datahub-mae-consumer",
                  "datahub-mce-consumer")


def recipe_configmap(key: str) -> str:
    return f"datahub-recipe-{key}"


def restricted_security(uid: int) -> dict[str, Any]:
    pod = pod_security(uid)
    return {"podSecurityContext": pod, "securityContext": {
        **container_security(read_only_root=False), "runAsNonRoot": True, "runAsUser": uid,
        "runAsGroup": uid, "seccompProfile": pod["seccompProfile"]}}


def kafka_endpoint(dh: DataHubConfig) -> tuple[str, bool]:
    """(bootstrap servers, TLS) DataHub connects to."""
    kafka = dh.kafka
    if kafka.mode == "managed":
        return kafka.bootstrap_servers or "", kafka.tls
    return KAFKA_BOOTSTRAP, False


def search_endpoint(dh: DataHubConfig) -> tuple[str, int, bool]:
    """(host, port, TLS) of the search engine."""
    search = dh.search
    if search.mode == "managed":
        return search.host or "", search.port, search.use_ssl
    return OPENSEARCH_HOST, OPENSEARCH_PORT, False


def _wait_container(dh: DataHubConfig, settings: LineageSettings) -> dict[str, Any]:
    """Init container of the setup Job: wait until Kafka and search accept connections.

    The real ordering gate in both delivery modes: under Argo CD the Applications sync
    independently of their sync waves (see components/apps/datahub/).
    """
    servers, _ = kafka_endpoint(dh)
    host, port, _ = search_endpoint(dh)
    first = servers.split(",")[0].rsplit(":", 1)
    targets = f"{first[0]}:{first[1]} {host}:{port}"
    script = (f"for t in {targets}; do until nc -z -w 3 ${{t%:*}} ${{t##*:}}; do "
              "echo waiting for $t; sleep 5; done; done")
    return {"name": "wait-for-prerequisites", "image": settings.wait_image,
            "command": ["sh", "-c", script], "resources": settings.wait_resources.model_dump(),
            "securityContext": restricted_security(UID)["securityContext"]}


def _datasource(ctx: AppContext) -> pulumi.Output[dict[str, Any]]:
    db = ctx.database("datahub")
    query = "?sslmode=require" if ctx.managed_database else ""

    def render(v: list[Any]) -> dict[str, Any]:
        host, port, database, user, secret = v
        return {"host": f"{host}:{port}", "hostForMysqlClient": host, "port": str(port),
                "url": f"jdbc:postgresql://{host}:{port}/{database}{query}",
                "database": database, "username": user,
                "password": {"secretRef": secret, "secretKey": "password"}}

    return pulumi.Output.all(db.host, db.port, db.database, db.user, db.secret_name).apply(
        render)


def _crons(ctx: AppContext, recipes: list[ScheduledRecipe], settings: LineageSettings,
           env: Mapping[str, pulumi.Input[str]]) -> dict[str, Any]:
    sa = ctx.service_account("datahub-ingestion")
    crons: dict[str, Any] = {}
    for r in recipes:
        cron: dict[str, Any] = {
            "schedule": r.schedule,
            "recipe": {"configmapName": recipe_configmap(r.key), "fileName": r.file_name},
            "env": {var: env[var] for var in r.env},
            "envFromSecrets": {var: {"secret": ref.secret, "key": ref.key}
                               for var, ref in r.secret_env.items()},
            "resources": settings.cron_resources.model_dump(),
            "concurrencyPolicy": "Forbid", "backoffLimit": 2,
            "successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 3,
            "securityContext": restricted_security(UID)["securityContext"],
        }
        if sa:
            cron["serviceAccountName"] = sa
        if r.gcs_copies:
            copy = " && ".join(f"mkdir -p {dst} && gcloud storage cp "
                               f"'gs://$({BUCKET_ENV})/{src}/*' {dst}/"
                               for src, dst in r.gcs_copies.items())
            volume = {"name": "artifacts", "mountPath": LOCAL_ARTIFACTS}
            cron |= {
                "extraVolumes": [{"name": "artifacts", "emptyDir": {}}],
                "extraVolumeMounts": [volume],
                "extraInitContainers": [{
                    "name": "fetch-artifacts", "image": settings.gcs_image,
                    "command": ["sh", "-c", copy],
                    "env": [{"name": BUCKET_ENV, "value": env[BUCKET_ENV]},
                            {"name": "CLOUDSDK_CONFIG", "value": "/tmp/gcloud"}],
                    "volumeMounts": [volume], "resources": settings.gcs_resources.model_dump(),
                    "securityContext": restricted_security(UID)["securityContext"]}]}
        crons[r.key] = cron
    return crons


def _extend(static: Mapping[str, Any], component: str, key: str,
            extra: list[Any]) -> list[Any]:
    """A list of the static layers (files, stack) extended: a computed list replaces."""
    return [*((static.get(component) or {}).get(key) or []), *extra]


def root_user_values(static: Mapping[str, Any]) -> dict[str, Any]:
    """The frontend mounts Secret `datahub-root-user` over the image's default user.props
    (`datahub:datahub`), so no default password survives a deploy. The chart's own
    `defaultUserCredentials` is not used: its Secret holds either a `randAlphaNum` that
    each Argo CD render re-rolls or a plain-text `manualValues`."""
    volume = "datahub-root-user"
    return {
        "extraVolumes": _extend(static, "datahub-frontend", "extraVolumes", [{
            "name": volume, "secret": {"secretName": ROOT_USER_SECRET, "defaultMode": 0o440,
                                       "items": [{"key": USER_PROPS, "path": USER_PROPS}]}}]),
        "extraVolumeMounts": _extend(static, "datahub-frontend", "extraVolumeMounts", [{
            "name": volume, "mountPath": USER_PROPS_PATH, "subPath": USER_PROPS,
            "readOnly": True}]),
    }


def openlineage_env(ctx: AppContext, static: Mapping[str, Any]) -> list[Any]:
    """GMS' OpenLineage endpoint writes the domain's fabric (DEV/PROD, as the recipes do;
    GMS' default is PROD), so Airflow's datasets join dbt's and the warehouse's."""
    return _extend(static, "datahub-gms", "extraEnvs", [
        {"name": "DATAHUB_OPENLINEAGE_ENV", "value": fabric_env(ctx.profile)}])


def datahub_values(ctx: AppContext, dh: DataHubConfig, recipes: list[ScheduledRecipe],
                   settings: LineageSettings, gms_url: str,
                   static: Mapping[str, Any]) -> dict[str, Any]:
    """Computed values of the datahub chart (may hold Outputs, never a secret)."""
    servers, kafka_tls = kafka_endpoint(dh)
    host, port, search_tls = search_endpoint(dh)
    kafka: dict[str, Any] = {"bootstrap": {"server": servers}}
    replicas = 3 if ctx.profile == "prod" else 1
    if replicas > 1:  # DataHub creates its topics with this factor (default 1)
        kafka |= {"replicationFactor": replicas, "partitions": replicas}
    search: dict[str, Any] = {"host": host, "port": str(port),
                              "useSSL": "true" if search_tls else "false"}
    if dh.search.mode == "managed" and dh.search.username:
        search["auth"] = {"username": dh.search.username,
                          "password": {"secretRef": SEARCH_SECRET, "secretKey": "password"}}
    env: dict[str, pulumi.Input[str]] = {
        GMS_URL_ENV: gms_url, BUCKET_ENV: ctx.bucket("artifacts"),
        ENDPOINT_ENV: ctx.storage_endpoint}
    global_: dict[str, Any] = {
        "sql": {"datasource": _datasource(ctx)},
        "kafka": kafka,
        "elasticsearch": search,
        "datahub": {
            "metadata_service_authentication": {
                "systemClientSecret": {"secretRef": AUTH_SECRET,
                                       "secretKey": "system_client_secret"},
                "tokenService": {
                    "signingKey": {"secretRef": AUTH_SECRET,
                                   "secretKey": "token_service_signing_key"},
                    "salt": {"secretRef": AUTH_SECRET, "secretKey": "token_service_salt"}}},
            "encryptionKey": {"secretRef": ENCRYPTION_SECRET, "secretKey": ENCRYPTION_KEY}},
    }
    if kafka_tls:
        global_["springKafkaConfigurationOverrides"] = {"security.protocol": "SSL"}
    values: dict[str, Any] = {
        "global": global_,
        "datahub-frontend": {"existingGmsSecret": {"name": FRONTEND_SECRET,
                                                   "key": FRONTEND_KEY},
                             **root_user_values(static)},
        "datahub-gms": {"extraEnvs": openlineage_env(ctx, static)},
        "datahub-ingestion-cron": {"enabled": bool(recipes),
                                   "crons": _crons(ctx, recipes, settings, env)},
        "datahubSystemUpdate": {"extraInitContainers": [_wait_container(dh, settings)]},
    }
    for component in APP_COMPONENTS:
        values.setdefault(component, {}).update(restricted_security(UID))
    return values


def prerequisites_values(dh: DataHubConfig) -> dict[str, Any]:
    """Computed values of the datahub-prerequisites chart."""
    values: dict[str, Any] = {
        "kafka": {"enabled": dh.kafka.mode == "in-cluster"},
        "opensearch": {"enabled": dh.search.mode == "in-cluster"},
    }
    if dh.kafka.mode == "in-cluster":
        values["kafka"]["kraft"] = {"existingClusterIdSecret": KRAFT_SECRET}
    if dh.search.mode == "in-cluster":
        # OpenSearch's image runs as uid 1000; its chart omits seccomp and privilege escalation.
        restricted = restricted_security(1000)
        values["opensearch"] |= {"podSecurityContext": restricted["podSecurityContext"],
                                 "securityContext": restricted["securityContext"]}
    return values
