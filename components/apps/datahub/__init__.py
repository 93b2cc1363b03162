"""DataHub: the domain's metadata catalog, its prerequisites and its lineage wiring.

- **Store:** the domain's Postgres (`ctx.database("datahub")`, TLS when managed); the
  prerequisites' MySQL is off.
- **Kafka and search:** the `datahub-prerequisites` chart (release `datahub-prerequisites`)
  runs whichever of the two `apps.datahub.kafka/search.mode` keeps in the cluster (the
  default); managed endpoints (MSK, OpenSearch Service, or the GCP equivalents) replace
  them, and with both managed the chart is not installed.
- **Ordering:** `helm` delivery: the DataHub Release depends on the prerequisites Release,
  which Helm only reports installed once its pods are ready, so DataHub's setup hook Job
  finds Kafka and OpenSearch up. `argocd` delivery: the Applications carry sync waves 0 and
  1, but waves only order resources inside one sync (an app of apps); Pulumi creates these
  two Applications directly, so Argo CD syncs them independently, and since Argo CD 1.8 an
  Application's health is not assessed by a parent without a custom health check. The
  gate that holds in both modes is the setup Job's init container, which waits until
  Kafka and the search engine accept connections (then the Job's own retries).
- **Secrets and auth:** token authentication on; every DataHub secret generated with
  pulumi-random (`_secrets.py`) and referenced by name, the root user's password too
  (Secret `datahub-root-user`, mounted over the image's default `datahub:datahub`).
- **Lineage:** the recipes of `components/lineage/` as ConfigMaps run by the chart's
  datahub-ingestion-cron, and the lineage token Secret (`_token.py`) that they and
  Airflow's OpenLineage events (GMS' `/openapi/openlineage/`, fabric from
  `DATAHUB_OPENLINEAGE_ENV`) use. docs/lineage.md has the table per tool.
- **Prod volumes:** the prerequisites component is `protect`ed, so removing DataHub from a
  prod stack is a deliberate `pulumi state unprotect`. The Kafka/OpenSearch PVCs are made
  by StatefulSets, not by Pulumi or Helm: uninstalling leaves them; the StorageClass's
  reclaim policy decides whether a disk outlives a deleted PVC (Retain on EKS prod).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components._values import typed_settings
from components.apps.context import AppContext
from components.apps.datahub._secrets import build_secrets
from components.apps.datahub._settings import (
    LINEAGE,
    PREREQUISITES,
    RELEASE,
    LineageSettings,
)
from components.apps.datahub._token import build_token_minter
from components.apps.datahub._values import (
    datahub_values,
    prerequisites_values,
    recipe_configmap,
)
from components.frontdoor.sso import datahub_frontend_env, oidc_secret
from components.helm_app import HelmApp, helm_child_opts
from components.lineage.names import LINEAGE_TOKEN_SECRET, gms_url
from components.lineage.sources import LineageSources, domain_recipes
from foundation.config.datahub import DataHubConfig
from foundation.config.dbt import DbtProject

PREREQUISITES_WAVE, DATAHUB_WAVE = 0, 1
PDB_COMPONENTS = ("datahub-gms", "datahub-frontend", "acryl-datahub-actions",
                  "datahub-mae-consumer")
"""Prod workloads that run 2 replicas (charts-values/datahub/prod.yaml); the chart makes
no PDB. The MCE consumer is the chart's singleton with managed ingestion."""


OIDC_SECRET = "datahub-oidc"
"""Secret (key client-secret) the frontend reads the OIDC client secret from."""


@dataclass(frozen=True)
class DataHubSettings:
    """What DataHub takes from the stack file: its section, and the dbt projects whose
    artifacts its lineage recipes read."""

    config: DataHubConfig
    """`apps.datahub`."""
    dbt_projects: Sequence[DbtProject] = ()
    """`apps.dbt.projects`, when dbt runs in the domain."""


class DataHub(pulumi.ComponentResource):
    """DataHub on the domain's Postgres, with Kafka/search and lineage recipes."""

    gms_url: pulumi.Output[str]
    lineage_token_secret: pulumi.Output[str]
    recipes: pulumi.Output[list[str]]
    values: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, settings: DataHubSettings, ctx: AppContext,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:apps:DataHub", name, None, opts)
        dh, prod = settings.config, ctx.profile == "prod"
        recipes, warnings = domain_recipes(LineageSources(
            site=ctx.site, ingestion=dh.ingestion, dbt_projects=settings.dbt_projects,
            warehouse=ctx.warehouse), ctx.enabled, ctx.namespace)
        for warning in warnings:
            pulumi.log.warn(warning, resource=self)
        lineage = typed_settings(LINEAGE, ctx.profile, LineageSettings)
        url = gms_url(ctx.namespace)
        labels = {**ctx.labels, "app.kubernetes.io/part-of": RELEASE}

        secrets = build_secrets(name, ctx, dh, self, {
            ref.secret for r in recipes for ref in r.secret_env.values()}, protect=prod)
        configmaps = [k8s.core.v1.ConfigMap(
            f"{name}-recipe-{r.key}",
            metadata={"name": recipe_configmap(r.key), "namespace": ctx.namespace,
                      "labels": {**labels, "app.kubernetes.io/component": "ingestion"}},
            data={r.file_name: r.recipe.to_yaml()},
            opts=pulumi.ResourceOptions(parent=self)) for r in recipes]

        before: list[pulumi.Resource] = [*ctx.depends_on, *secrets, *configmaps]
        prerequisites = None
        if dh.needs_prerequisites:
            prerequisites = HelmApp(f"{name}-prerequisites", ctx.helm_args(
                PREREQUISITES, computed=prerequisites_values(dh), sync_wave=PREREQUISITES_WAVE,
                overrides=dh.prerequisites.values),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*ctx.depends_on,
                                                                     *secrets],
                                            protect=prod or None))
            before.append(prerequisites)
        args = ctx.helm_args(RELEASE, dh, sync_wave=DATAHUB_WAVE)
        computed = datahub_values(ctx, dh, recipes, lineage, url, args.static_values)
        sign_on = ctx.sign_on.get("datahub")
        if sign_on is not None and sign_on.oidc is not None:  # the frontend's own OIDC
            before.append(oidc_secret(f"{name}-oidc-secret", ctx.namespace, OIDC_SECRET,
                                      sign_on.oidc, labels,
                                      pulumi.ResourceOptions(parent=self)))
            frontend = computed.setdefault("datahub-frontend", {})
            frontend["extraEnvs"] = [
                *(frontend.get("extraEnvs") or (args.static_values.get(
                    "datahub-frontend") or {}).get("extraEnvs") or []),
                *datahub_frontend_env(sign_on, OIDC_SECRET)]
        app = HelmApp(f"{name}-helm", args.with_computed(computed),
                      opts=helm_child_opts(self, name, before))

        image = args.static_values["datahub-ingestion-cron"]["image"]
        build_token_minter(name, ctx, self, lineage,
                           f"{image['repository']}:{image['tag']}", url, [app, *secrets])
        if prod:
            for component in PDB_COMPONENTS:
                k8s.policy.v1.PodDisruptionBudget(
                    f"{name}-{component.removeprefix('datahub-')}-pdb",
                    metadata={"name": component, "namespace": ctx.namespace,
                              "labels": labels},
                    spec={"minAvailable": 1, "selector": {"matchLabels": {
                        "app.kubernetes.io/name": component,
                        "app.kubernetes.io/instance": RELEASE}}},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[app]))

        self.gms_url = pulumi.Output.from_input(url)
        self.lineage_token_secret = pulumi.Output.from_input(LINEAGE_TOKEN_SECRET)
        self.recipes = pulumi.Output.from_input([r.key for r in recipes])
        self.values = app.values
        self.register_outputs({"gms_url": self.gms_url,
                               "lineage_token_secret": self.lineage_token_secret,
                               "recipes": self.recipes, "values": self.values})


def build(name: str, settings: DataHubSettings, ctx: AppContext) -> DataHub:
    return DataHub(name, settings, ctx, opts=ctx.opts)
