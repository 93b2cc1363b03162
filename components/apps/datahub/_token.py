"""The lineage token: Secret `datahub-lineage-token` (key `token`) and what fills it.

DataHub's emitters (Airflow's OpenLineage events, the ingestion CronJobs) authenticate
with a personal access token, which only GMS can mint. Pulumi creates the Secret with no data
(and ignores its data afterwards), so it exists and is deleted with DataHub; a small
CronJob (`_mint_token.py`, every `tokenSchedule`) fills it: it keeps a token GMS
still accepts and otherwise mints one as the system client. Its ServiceAccount may only
get and patch that one Secret. Consumers start once the first run has minted the token
(GMS must be up: a few minutes after install).
"""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from components._k8s import secret_env
from components.apps.context import AppContext
from components.apps.datahub._settings import AUTH_SECRET, SYSTEM_CLIENT_ID, LineageSettings
from components.apps.datahub._values import UID, restricted_security
from components.lineage.names import LINEAGE_TOKEN_KEY, LINEAGE_TOKEN_SECRET

NAME = "datahub-lineage-token"
SCRIPT = Path(__file__).with_name("_mint_token.py")
MOUNT = "/scripts"


def build_token_minter(name: str, ctx: AppContext, parent: pulumi.Resource,
                       settings: LineageSettings, image: str, gms_url: str,
                       depends_on: list[pulumi.Resource]) -> list[pulumi.Resource]:
    """The token Secret, the minting CronJob and its RBAC; returns the created resources."""
    opts = pulumi.ResourceOptions(parent=parent)
    meta = {"namespace": ctx.namespace, "labels": {
        **ctx.labels, "app.kubernetes.io/name": NAME}}
    token = k8s.core.v1.Secret(
        f"{name}-lineage-token", metadata={"name": LINEAGE_TOKEN_SECRET, **meta},
        type="Opaque",
        # The CronJob owns the data: Pulumi must neither reset nor diff it.
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["data", "stringData"]))
    account = k8s.core.v1.ServiceAccount(f"{name}-token-sa", metadata={"name": NAME, **meta},
                                         opts=opts)
    role = k8s.rbac.v1.Role(f"{name}-token-role", metadata={"name": NAME, **meta}, rules=[{
        "apiGroups": [""], "resources": ["secrets"], "resourceNames": [LINEAGE_TOKEN_SECRET],
        "verbs": ["get", "patch"]}], opts=opts)
    binding = k8s.rbac.v1.RoleBinding(
        f"{name}-token-rolebinding", metadata={"name": NAME, **meta},
        role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME},
        subjects=[{"kind": "ServiceAccount", "name": NAME, "namespace": ctx.namespace}],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[account, role]))
    script = k8s.core.v1.ConfigMap(
        f"{name}-token-script", metadata={"name": f"{NAME}-script", **meta},
        data={"mint_token.py": SCRIPT.read_text()}, opts=opts)
    restricted = restricted_security(UID)
    container = {
        "name": "mint", "image": image,
        "command": ["python3", f"{MOUNT}/mint_token.py"],
        "env": [
            {"name": "DATAHUB_GMS_URL", "value": gms_url},
            {"name": "TOKEN_SECRET", "value": LINEAGE_TOKEN_SECRET},
            {"name": "TOKEN_KEY", "value": LINEAGE_TOKEN_KEY},
            {"name": "TOKEN_ACTOR", "value": settings.token_actor},
            {"name": "DATAHUB_SYSTEM_CLIENT_ID", "value": SYSTEM_CLIENT_ID},
            secret_env("DATAHUB_SYSTEM_CLIENT_SECRET", AUTH_SECRET, "system_client_secret"),
        ],
        "volumeMounts": [{"name": "script", "mountPath": MOUNT, "readOnly": True}],
        "resources": settings.token_resources.model_dump(),
        "securityContext": {**restricted["securityContext"], "readOnlyRootFilesystem": True},
    }
    cron = k8s.batch.v1.CronJob(
        f"{name}-token-cronjob", metadata={"name": NAME, **meta}, spec={
            "schedule": settings.token_schedule, "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 600, "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {"spec": {
                "backoffLimit": 3, "activeDeadlineSeconds": 600,
                "template": {"metadata": {"labels": meta["labels"]}, "spec": {
                    "serviceAccountName": NAME, "automountServiceAccountToken": True,
                    "restartPolicy": "Never",
                    "securityContext": restricted["podSecurityContext"],
                    "containers": [container],
                    "volumes": [{"name": "script", "configMap": {
                        "name": f"{NAME}-script", "defaultMode": 0o444}}],
                }}}}},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[
            token, binding, script, *depends_on]))
    return [token, account, role, binding, script, cron]
