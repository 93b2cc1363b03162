"""The Kubernetes audit signals: one definition, collected the same way on every cloud.

Each signal is counted from the API server's audit events into a metric with a few labels:
on EKS by a CloudWatch Logs metric filter on the control-plane log group (at most three
dimensions per filter, values from the JSON event), on GKE by a log-based metric on Cloud
Audit Logs (label extractors). Both exporters (YACE, stackdriver_exporter) publish a gauge,
the events of the latest one-minute point, stamped with that point's time, under a name of
their own; the ServiceMonitor renames it `dataplatform_audit_<signal>` with the labels
below, so the rules (monitoring/rules/security.yaml) and the dashboard read one vocabulary.
What a filter fixes (the response code, who the user is) is in its description, not a label.
Pure data: no Pulumi here.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "dataplatform_audit_"
"""Prometheus names of the signals, on every cloud."""
CLOUDWATCH_NAMESPACE = "DataPlatform/Audit"
"""EKS: CloudWatch namespace of the metric filters."""
YACE_PREFIX = "aws_dataplatform_audit_"
"""YACE's name for a metric of CLOUDWATCH_NAMESPACE (`aws_` + lowercased namespace);
the statistic follows the metric name (`_sum`)."""
GCP_METRIC_PREFIX = "dataplatform_audit_"
"""GKE: log-based metric names (`logging.googleapis.com/user/<name>`)."""
STACKDRIVER_PREFIX = "stackdriver_k_8_s_cluster_logging_googleapis_com_user_"
"""stackdriver_exporter's name of a user log metric on the `k8s_cluster` resource (its
normalizer splits `k8s` at the digit)."""

WRITES = ("create", "update", "patch", "delete", "deletecollection")
_EKS_WRITE = " || ".join(f'$.verb = "{v}"' for v in WRITES)
_EKS_HUMAN = '$.user.username != "system:*"'
_EKS_DONE = '$.stage = "ResponseComplete"'
_GCP_AUDIT = ('resource.type="k8s_cluster" AND '
              'logName:"cloudaudit.googleapis.com" AND ')
_GCP_WRITE = "(" + "|".join(WRITES) + ")"
_GCP_HUMAN = 'NOT protoPayload.authenticationInfo.principalEmail=~"^system:"'
# methodName is io.k8s.<group>.<version>.<resource>[.<subresource>].<verb>;
# resourceName is <group>/<version>/namespaces/<ns>/<resource>/<name>[/<subresource>].
_GCP_NAMESPACE = r'REGEXP_EXTRACT(protoPayload.resourceName, "namespaces/([^/]+)/")'
_GCP_RESOURCE = r'REGEXP_EXTRACT(protoPayload.resourceName, "namespaces/[^/]+/([^/]+)")'
_GCP_CLUSTER_RESOURCE = (r'REGEXP_EXTRACT(protoPayload.methodName, '
                         r'"\.(clusterroles|clusterrolebindings)\.[^.]+$")')
_GCP_VERB = r'REGEXP_EXTRACT(protoPayload.methodName, "\.([^.]+)$")'


@dataclass(frozen=True)
class AuditSignal:
    """One audit signal and how each cloud counts it."""

    name: str
    """Suffix of every name: `dataplatform_audit_<name>` in Prometheus."""
    description: str
    """What is counted (the log metric's description, the docs' table)."""
    labels: tuple[str, ...]
    """Labels of the Prometheus series (at most three: CloudWatch's dimension limit)."""
    eks_pattern: str
    """CloudWatch Logs filter pattern on the JSON audit event."""
    eks_dimensions: dict[str, str]
    """Label -> JSON selector of the audit event."""
    gcp_filter: str
    """Cloud Logging filter on GKE's audit log entries."""
    gcp_extractors: dict[str, str]
    """Label -> extractor expression on the log entry."""

    @property
    def metric(self) -> str:
        return PREFIX + self.name

    @property
    def yace_metric(self) -> str:
        return f"{YACE_PREFIX}{self.name}_sum"

    @property
    def stackdriver_metric(self) -> str:
        return STACKDRIVER_PREFIX + GCP_METRIC_PREFIX + self.name


SIGNALS: tuple[AuditSignal, ...] = (
    AuditSignal(
        "forbidden_requests",
        "Requests the API server refused with 403 Forbidden (any user), on namespaced objects.",
        ("namespace", "resource", "verb"),
        "{ " + _EKS_DONE + " && $.responseStatus.code = 403 && $.objectRef.namespace = \"*\" }",
        {"namespace": "$.objectRef.namespace", "resource": "$.objectRef.resource",
         "verb": "$.verb"},
        _GCP_AUDIT + "protoPayload.status.code=7 AND protoPayload.resourceName:\"/namespaces/\"",
        {"namespace": _GCP_NAMESPACE, "resource": _GCP_RESOURCE, "verb": _GCP_VERB}),
    AuditSignal(
        "pod_exec",
        "exec and attach sessions opened into pods (any user).",
        ("namespace", "subresource"),
        "{ " + _EKS_DONE + ' && $.objectRef.resource = "pods" && '
        '($.objectRef.subresource = "exec" || $.objectRef.subresource = "attach") }',
        {"namespace": "$.objectRef.namespace", "subresource": "$.objectRef.subresource"},
        _GCP_AUDIT + 'protoPayload.methodName=~"^io\\.k8s\\.core\\.v1\\.pods\\.(exec|attach)\\.'
        'create$"',
        {"namespace": _GCP_NAMESPACE,
         "subresource": r'REGEXP_EXTRACT(protoPayload.methodName, "pods\.([^.]+)\.create$")'}),
    AuditSignal(
        "rbac_changes",
        "Writes to Roles and RoleBindings by users other than system:* (controllers and "
        "Argo CD's syncs are left out; people and deploy pipelines are counted).",
        ("namespace", "resource", "verb"),
        "{ " + _EKS_DONE + ' && $.objectRef.apiGroup = "rbac.authorization.k8s.io" && '
        '($.objectRef.resource = "roles" || $.objectRef.resource = "rolebindings") && ('
        + _EKS_WRITE + ") && " + _EKS_HUMAN + " }",
        {"namespace": "$.objectRef.namespace", "resource": "$.objectRef.resource",
         "verb": "$.verb"},
        _GCP_AUDIT + 'protoPayload.methodName=~"^io\\.k8s\\.authorization\\.rbac\\.v1\\.'
        f'(roles|rolebindings)\\.{_GCP_WRITE}$" AND {_GCP_HUMAN}',
        {"namespace": _GCP_NAMESPACE, "resource": _GCP_RESOURCE, "verb": _GCP_VERB}),
    AuditSignal(
        "cluster_rbac_changes",
        "Writes to ClusterRoles and ClusterRoleBindings by users other than system:*.",
        ("resource", "verb"),
        "{ " + _EKS_DONE + ' && $.objectRef.apiGroup = "rbac.authorization.k8s.io" && '
        '($.objectRef.resource = "clusterroles" || '
        '$.objectRef.resource = "clusterrolebindings") && (' + _EKS_WRITE + ") && "
        + _EKS_HUMAN + " }",
        {"resource": "$.objectRef.resource", "verb": "$.verb"},
        _GCP_AUDIT + 'protoPayload.methodName=~"^io\\.k8s\\.authorization\\.rbac\\.v1\\.'
        f'(clusterroles|clusterrolebindings)\\.{_GCP_WRITE}$" AND {_GCP_HUMAN}',
        {"resource": _GCP_CLUSTER_RESOURCE, "verb": _GCP_VERB}),
    AuditSignal(
        "networkpolicy_changes",
        "Writes to NetworkPolicies by users other than system:*.",
        ("namespace", "verb"),
        "{ " + _EKS_DONE + ' && $.objectRef.apiGroup = "networking.k8s.io" && '
        '$.objectRef.resource = "networkpolicies" && (' + _EKS_WRITE + ") && "
        + _EKS_HUMAN + " }",
        {"namespace": "$.objectRef.namespace", "verb": "$.verb"},
        _GCP_AUDIT + 'protoPayload.methodName=~"^io\\.k8s\\.networking\\.v1\\.networkpolicies\\.'
        f'{_GCP_WRITE}$" AND {_GCP_HUMAN}',
        {"namespace": _GCP_NAMESPACE, "verb": _GCP_VERB}),
)


def metric_relabelings(cloud: str) -> list[dict[str, object]]:
    """ServiceMonitor metricRelabelings: each exporter's name -> `dataplatform_audit_<name>`,
    its labels -> the signal's; other series of the exporter (its own) are kept as they are.
    A cluster-scoped signal has no namespace: the target's own `namespace` label is dropped
    so it cannot pass for the object's."""
    if cloud == "aws":
        source = "^" + YACE_PREFIX + "(.+)_sum$"
        rename_labels: list[dict[str, object]] = [
            {"action": "labelmap", "regex": "dimension_(.+)", "replacement": "$1"},
            {"action": "labeldrop", "regex": "dimension_.+"}]
    else:
        source = "^" + STACKDRIVER_PREFIX + GCP_METRIC_PREFIX + "(.+)$"
        rename_labels = []  # log metric labels are already named (honorLabels keeps them)
    drop_namespace: list[dict[str, object]] = [
        {"sourceLabels": ["__name__"], "regex": s.metric, "targetLabel": "namespace",
         "replacement": "", "action": "replace"} for s in SIGNALS if "namespace" not in s.labels]
    return [{"sourceLabels": ["__name__"], "regex": source, "targetLabel": "__name__",
             "replacement": PREFIX + "$1", "action": "replace"},
            *rename_labels, *drop_namespace]
