"""Facts about the pinned charts that their values.yaml files do not state.

Read off each chart version's templates and README; re-check them when a chart's pin moves
(docs/upgrading-a-chart.md). `dataplatform.chartcheck` uses them to check our values keys
and to find every component's resources.
"""

from __future__ import annotations

# Blocks a chart passes through verbatim to the application's own configuration
# (argocd-cm, argocd-cmd-params-cm, airflow.cfg, alertmanager.yml, grafana.ini): their keys
# belong to the application, not to the chart, and the application validates them.
PASS_THROUGH: dict[str, tuple[str, ...]] = {
    "argo-cd": ("configs.cm", "configs.params", "configs.rbac"),
    "airflow": ("config",),
    "kube-prometheus-stack": ("alertmanager.config", "grafana.grafana.ini"),
    # deployment.yaml turns every key into a `--<key>` flag of the autoscaler itself
    "cluster-autoscaler": ("extraArgs",),
    # templates/configmap.yaml renders `config` as the collector's own relay.yaml
    "opentelemetry-collector": ("config",),
}

# Kubernetes maps of free-form keys (labels, annotations, node selectors, env as a map),
# by the name of their values key (case-insensitive, `podLabels`, `commonAnnotations`...):
# open even where the chart's default fills in an example, as long as that default is a
# flat map of scalars (airflow's `labels: {app.kubernetes.io/instance: airflow}`).
OPEN_MAP_NAMES = r"(?i)(labels|annotations|nodeselector|^env|^extraenv)$"

# Keys the pinned chart's templates read although its values.yaml leaves them out or only
# shows them in comments (read off the templates of that version, named beside each;
# re-check on a bump). Accepted with everything below them, in our values files and in
# stack overrides alike (they are in chart-keys/: run `dataplatform chart-keys` after a change).
TEMPLATE_ONLY_KEYS: dict[str, tuple[str, ...]] = {
    "airbyte": (
        # templates/config/_database.tpl
        "global.database.userSecretKey", "global.database.passwordSecretKey",
        # templates/config/_storage.tpl (and gcs-log-creds-secret.yaml, minio.yaml)
        "global.storage.s3", "global.storage.gcs", "global.storage.minio.endpoint",
        "global.storage.minio.accessKeyIdSecretKey",
        "global.storage.minio.secretAccessKeySecretKey"),
    # templates/deployment.yaml (`.Values.javaOpts`, `.Values.strategy`,
    # `.Values.database.existingSecret*`); values.yaml shows the database ones commented out.
    "metabase": ("javaOpts", "strategy", *(f"database.{k}" for k in (
        "existingSecret", "existingSecretUsernameKey", "existingSecretPasswordKey",
        "existingSecretHostKey", "existingSecretPortKey", "existingSecretDatabaseNameKey",
        "existingSecretEncryptionKeyKey", "existingSecretConnectionURIKey"))),
    # Read by the 1.1.0 templates, shown only in its README / commented defaults:
    # charts/datahub-frontend/templates/deployment.yaml (existingGmsSecret),
    # templates/kafka-setup-job.yml and datahub-upgrade/_upgrade.tpl (kafka.*, auth).
    "datahub": ("datahub-frontend.existingGmsSecret", "global.kafka.replicationFactor",
                "global.kafka.partitions", "global.elasticsearch.auth"),
    # The opensearch subchart's defaults list only `requests`; its
    # templates/statefulset.yaml renders the whole `resources` map.
    "datahub-prerequisites": ("opensearch.resources.limits",),
    # Its defaults limit only memory; templates/envoy-gateway-deployment.yaml renders the
    # whole `deployment.envoyGateway.resources` map (a cpu limit too).
    "gateway-helm": ("deployment.envoyGateway.resources.limits",),
    # templates/pdb.yaml (0.170.0); values.yaml shows both only commented out.
    "opentelemetry-collector": ("podDisruptionBudget.minAvailable",
                                "podDisruptionBudget.maxUnavailable"),
}

# `resources` keys that size pods the app itself launches at run time (Airbyte's sync and
# check jobs), not chart components: neither checked for requests nor counted in footprints.
RUNTIME_SIZED: dict[str, tuple[str, ...]] = {
    "airbyte": ("global.jobs.resources", "global.workloads.resources"),
}

# Components a chart renders only when another value is set (non-empty): `resources` path ->
# that value's path. Metabase's Cloud SQL Auth proxy sidecar exists only for listed instances.
SWITCHED_BY: dict[str, dict[str, str]] = {
    "metabase": {"database.googleCloudSQL.resources":
                 "database.googleCloudSQL.instanceConnectionNames"},
}

# Helm test hooks (`helm test` pods): neither a Pulumi Release nor Argo CD runs them.
TEST_HOOK_KEYS = frozenset({"test", "tests", "testFramework", "configmapTest"})
