"""Airbyte: the domain's ELT connections, chart `airbyte` (the v2 chart), pinned in the lock.

- Database: the domain's Postgres (`airbyte-db-credentials`), managed in prod (TLS
  required) and in-cluster in dev; the chart's own Postgres and MinIO are off.
- Storage: state, logs and workload output in the domain's `artifacts` bucket: S3 through
  IRSA on aws, MinIO on local; on gcp the chart can only use a GCS key file, see
  `_airbyte_values.storage_values`.
- Identity: on aws/gcp every pod, job pods included, runs as the `airbyte` ServiceAccount
  created with workload identity; as the chart then creates no RBAC, the Role the
  workload launcher needs is created here.
- Access: the API and web UI at `airbyte-airbyte-server-svc:8001`, inside the cluster only;
  in prod the server, the workload API server and the manifest server run 2+ replicas,
  each with a PodDisruptionBudget created here (the chart has no PDB setting).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.apps.airbyte._values import (
    APP,
    SERVER_LABELS,
    computed_values,
    server_url,
)
from components.apps.context import AppContext
from components.helm_app import HelmApp, helm_child_opts
from foundation.config.app import AppConfig

# What the chart's own Role grants its ServiceAccount (templates/serviceaccount.yaml),
# minus its `apiGroups: ["*"]`: the launcher runs job pods, the bootloader writes the
# `airbyte-auth-secrets` Secret, the server reads pod logs.
WORKLOAD_RULES = [
    {"apiGroups": [""], "resources": ["configmaps", "endpoints", "pods", "pods/log",
                                      "pods/exec", "pods/attach", "secrets"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"apiGroups": ["batch"], "resources": ["jobs"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
]


SERVING = {"server": "server", "workloadApiServer": "workload-api-server",
           "manifestServer": "manifest-server"}
"""Components behind a Service that others call (values key: pod name label). Each
gets a PodDisruptionBudget once it runs 2+ replicas; Temporal stays one instance (its
auto-setup image migrates the schema at start), cron is a scheduler."""


def replicas(values: Mapping[str, Any], component: str) -> int:
    """Replicas of a component in the merged static values (0 when it is disabled)."""
    settings = values.get(component) or {}
    if settings.get("enabled") is False:
        return 0
    return int(settings.get("replicaCount", 1))


class Airbyte(pulumi.ComponentResource):
    """Airbyte on the domain's database, lake bucket and workload identity."""

    url: pulumi.Output[str]
    service_account: pulumi.Output[str]
    values: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, settings: AppConfig, ctx: AppContext,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:apps:Airbyte", name, None, opts)
        args = ctx.helm_args(APP, settings)
        static = args.static_values
        meta = {"namespace": ctx.namespace,
                "labels": {**ctx.labels, "app.kubernetes.io/name": APP}}
        sa = ctx.service_account(APP)
        computed = computed_values(ctx, settings.values)
        if ctx.cloud == "gcp":
            pulumi.log.warn(
                "Airbyte stores state and logs in GCS with a service-account key only (its "
                "chart cannot use workload identity there): provide Secret "
                f"'{computed['global']['storage']['secretName']}' with key "
                f"GOOGLE_APPLICATION_CREDENTIALS_JSON in {ctx.namespace} (name settable as "
                "apps.airbyte.values.global.storage.secretName)", resource=self)
        rbac = self._workload_rbac(name, sa, meta) if sa else []
        helm = HelmApp(f"{name}-helm", args.with_computed(computed),
                       opts=helm_child_opts(self, name, [*ctx.depends_on, *rbac]))
        for component, pod_name in SERVING.items():
            if replicas(static, component) >= 2:
                # Keeps one pod up through node drains and cluster upgrades.
                k8s.policy.v1.PodDisruptionBudget(
                    f"{name}-{pod_name}-pdb",
                    metadata={"name": f"{APP}-{pod_name}", **meta},
                    spec={"minAvailable": 1, "selector": {"matchLabels": {
                        **SERVER_LABELS, "app.kubernetes.io/name": pod_name}}},
                    opts=pulumi.ResourceOptions(parent=self))
        self.url = pulumi.Output.from_input(server_url(ctx.namespace))
        # local: the chart's own ServiceAccount (global.serviceAccountName, `airbyte-admin`).
        self.service_account = pulumi.Output.from_input(
            sa or (static.get("global") or {}).get("serviceAccountName") or "airbyte-admin")
        self.values = helm.values
        self.register_outputs({"url": self.url, "service_account": self.service_account,
                               "values": self.values})

    def _workload_rbac(self, name: str, sa: str,
                       meta: Mapping[str, Any]) -> list[pulumi.Resource]:
        """The Role the chart would create with its own ServiceAccount, for ours."""
        child = pulumi.ResourceOptions(parent=self)
        role = k8s.rbac.v1.Role(f"{name}-workloads-role",
                                metadata={"name": f"{APP}-workloads", **meta},
                                rules=WORKLOAD_RULES, opts=child)
        binding = k8s.rbac.v1.RoleBinding(
            f"{name}-workloads-binding",
            metadata={"name": f"{APP}-workloads", **meta},
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                      "name": f"{APP}-workloads"},
            subjects=[{"kind": "ServiceAccount", "name": sa,
                       "namespace": meta["namespace"]}],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role]))
        return [role, binding]


def build(name: str, settings: AppConfig, ctx: AppContext) -> Airbyte:
    return Airbyte(name, settings, ctx, opts=ctx.opts)
