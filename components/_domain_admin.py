"""What a domain's admins may do in their namespaces: Kubernetes' built-in `admin`, less
the power to take down their own fence.

`admin` (and `edit`) may create, change and delete NetworkPolicies, so a domain admin
could delete `default-deny` or add an allow-all policy beside it. This Role grants the
same day-to-day work (workloads, config, Secrets, Services, Jobs, RBAC within the
namespace) but only reads NetworkPolicies, ResourceQuotas, LimitRanges and
AlertmanagerConfigs. Of the Gateway API it grants HTTPRoutes alone (the domain's own
routes, which only its ListenerSet admits): never Gateways, ListenerSets, Certificates.
RBAC's escalation check keeps it that way: a subject can only grant,
or write into a Role, permissions it already holds, so the admins cannot widen this Role
or bind a wider one.
"""

from __future__ import annotations

ROLE = "domain-admin"
READ = ["get", "list", "watch"]
WRITE = [*READ, "create", "update", "patch", "delete", "deletecollection"]

RULES = [
    {"apiGroups": [""], "verbs": WRITE, "resources": [
        "pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "pods/eviction",
        "services", "services/proxy", "endpoints", "configmaps", "secrets", "serviceaccounts",
        "serviceaccounts/token", "persistentvolumeclaims", "replicationcontrollers",
        "replicationcontrollers/scale"]},
    {"apiGroups": [""], "verbs": READ, "resources": [
        "pods/log", "pods/status", "events", "namespaces", "resourcequotas", "limitranges",
        "resourcequotas/status"]},
    {"apiGroups": ["apps"], "verbs": WRITE, "resources": [
        "deployments", "deployments/scale", "deployments/rollback", "statefulsets",
        "statefulsets/scale", "daemonsets", "replicasets", "replicasets/scale",
        "controllerrevisions"]},
    {"apiGroups": ["batch"], "verbs": WRITE, "resources": ["jobs", "cronjobs"]},
    {"apiGroups": ["autoscaling"], "verbs": WRITE, "resources": ["horizontalpodautoscalers"]},
    {"apiGroups": ["policy"], "verbs": WRITE, "resources": ["poddisruptionbudgets"]},
    {"apiGroups": ["networking.k8s.io"], "verbs": WRITE, "resources": ["ingresses"]},
    {"apiGroups": ["networking.k8s.io"], "verbs": READ, "resources": ["networkpolicies"]},
    {"apiGroups": ["gateway.networking.k8s.io"], "verbs": WRITE, "resources": ["httproutes"]},
    {"apiGroups": ["discovery.k8s.io"], "verbs": READ, "resources": ["endpointslices"]},
    {"apiGroups": ["coordination.k8s.io"], "verbs": WRITE, "resources": ["leases"]},
    {"apiGroups": ["rbac.authorization.k8s.io"], "verbs": WRITE,
     "resources": ["roles", "rolebindings"]},
    {"apiGroups": ["monitoring.coreos.com"], "verbs": WRITE,
     "resources": ["servicemonitors", "podmonitors", "prometheusrules"]},
    {"apiGroups": ["monitoring.coreos.com"], "verbs": READ, "resources": ["alertmanagerconfigs"]},
]

FENCE = {("networking.k8s.io", "networkpolicies"), ("", "resourcequotas"),
         ("", "limitranges"), ("monitoring.coreos.com", "alertmanagerconfigs")}
"""(apiGroup, resource) of the fence: never writable by the domain's admins."""
