"""DomainIsolation: the fence around one domain on a cluster.

Per namespace: Pod Security labels, a ResourceQuota and LimitRange, default-deny
NetworkPolicies with explicit allows, and a RoleBinding of the domain team to a Role that
may not change that fence (components/_domain_admin.py).
Plus the domain's Argo CD AppProject, restricted to its namespaces and chart repos, and
forbidden to touch the objects that make up the fence.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import _domain_admin as domain_admin
from foundation.config.isolation import IsolationConfig

PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
PRIVATE_RANGES_V6 = ["fc00::/7", "fe80::/10"]
"""Unique-local and link-local IPv6: what an IPv6 egress block excepts, as the IPv4 one
excepts RFC 1918 (pod and node addresses of a dual-stack cluster live there)."""
# A domain team may not change its own fence through Argo CD.
# Kinds a domain's Argo CD project may not manage: its own fence, and the monitoring objects
# that could read or re-route other domains' alerts.
FENCE_KINDS = ["ResourceQuota", "LimitRange", "NetworkPolicy", "AlertmanagerConfig"]
# The front door's: a domain routes its apps with HTTPRoutes, but listeners (hostnames),
# certificates and Envoy patches are the platform's (docs/front-door.md).
FRONT_DOOR_KINDS = [("gateway.networking.k8s.io", k) for k in ("Gateway", "ListenerSet")] + [
    ("gateway.networking.x-k8s.io", "XListenerSet"),
    ("gateway.envoyproxy.io", "EnvoyPatchPolicy"), ("gateway.envoyproxy.io", "EnvoyProxy"),
    *(("cert-manager.io", k) for k in ("Certificate", "CertificateRequest", "Issuer"))]
GATEWAY_NAMESPACE = "envoy-gateway-system"  # components/frontdoor/args.py
GATEWAY_PROXY = {"app.kubernetes.io/component": "proxy",
                 "app.kubernetes.io/managed-by": "envoy-gateway"}


@dataclass(frozen=True)
class AppProjectArgs:
    """The domain's Argo CD AppProject."""

    argocd_namespace: pulumi.Input[str]
    """Namespace Argo CD runs in (AppProjects live there)."""
    source_repos: Sequence[str]
    """Chart repositories the domain may deploy from."""
    roles: Sequence[Mapping[str, Any]] = ()
    """Project roles for single sign-on groups (components/frontdoor/sso.py)."""


@dataclass(frozen=True)
class DomainIsolationArgs:
    """Inputs of DomainIsolation."""

    domain_id: str
    """`<customer>-<domain>-<env>`: the main namespace, AppProject and group label."""
    namespaces: Sequence[str]
    """Every namespace of the domain, the main one first."""
    settings: IsolationConfig
    """Isolation settings from the stack config."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels for every object."""
    app_project: AppProjectArgs | None = None
    """Create the AppProject (Argo CD delivery)."""
    private_ports: Sequence[int] = ()
    """TCP ports pods may reach on private addresses: managed databases and warehouses
    live in the VPC, which `allow-external-egress` leaves out."""
    gateway_ports: Sequence[int] = ()
    """Pod ports the front door's HTTPRoutes target: open to the Gateway's proxies only."""


class DomainIsolation(pulumi.ComponentResource):
    """Namespaces, quotas, network isolation, RBAC and AppProject of one domain."""

    namespaces: pulumi.Output[list[str]]
    app_project: pulumi.Output[str | None]

    def __init__(self, name: str, args: DomainIsolationArgs,
                 opts: pulumi.ResourceOptions | None = None):
        if not args.namespaces:
            raise ValueError(f"DomainIsolation {name}: at least one namespace is needed")
        super().__init__("dataplatform:domain:DomainIsolation", name, None, opts)
        s = args.settings
        group_label = {"dataplatform.io/domain-id": args.domain_id}
        created = []
        for ns_name in args.namespaces:
            role = "main" if ns_name == args.namespaces[0] else ns_name.removeprefix(
                f"{args.domain_id}-")
            ns = k8s.core.v1.Namespace(
                f"{name}-{role}-namespace",
                metadata={"name": ns_name, "labels": {
                    **args.labels, **group_label,
                    "pod-security.kubernetes.io/enforce": s.pod_security,
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/audit": "restricted",
                }},
                opts=pulumi.ResourceOptions(parent=self),
            )
            in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
            self._quota(f"{name}-{role}", ns_name, args, in_ns)
            self._network(f"{name}-{role}", ns_name, args, in_ns)
            admin_role = k8s.rbac.v1.Role(
                f"{name}-{role}-admin-role",
                metadata={"name": domain_admin.ROLE, "namespace": ns_name, "labels": args.labels},
                rules=domain_admin.RULES, opts=in_ns)
            k8s.rbac.v1.RoleBinding(
                f"{name}-{role}-admins",
                metadata={"name": "domain-admins", "namespace": ns_name, "labels": args.labels},
                role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                          "name": domain_admin.ROLE},
                subjects=[{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g}
                          for g in s.effective_admin_groups(args.domain_id)],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[admin_role]),
            )
            created.append(ns)
        project = None
        if args.app_project is not None:
            project = self._app_project(name, args, args.app_project,
                                        pulumi.ResourceOptions(parent=self))
        self.namespaces = pulumi.Output.all(*[ns.metadata["name"] for ns in created])
        self.app_project = pulumi.Output.from_input(project)
        self.register_outputs({"namespaces": self.namespaces, "app_project": self.app_project})

    @staticmethod
    def _quota(prefix: str, ns: str, args: DomainIsolationArgs, opts: pulumi.ResourceOptions):
        q, lr = args.settings.quota, args.settings.limit_range
        meta = {"namespace": ns, "labels": args.labels}
        k8s.core.v1.ResourceQuota(f"{prefix}-quota", metadata={"name": "domain-quota", **meta},
                                  spec={"hard": {
                                      "requests.cpu": q.requests_cpu,
                                      "requests.memory": q.requests_memory,
                                      "limits.cpu": q.limits_cpu,
                                      "limits.memory": q.limits_memory,
                                      "pods": str(q.pods),
                                      "persistentvolumeclaims": str(q.persistent_volume_claims),
                                      "requests.storage": q.storage,
                                  }}, opts=opts)
        k8s.core.v1.LimitRange(f"{prefix}-limits", metadata={"name": "domain-limits", **meta},
                               spec={"limits": [{
                                   "type": "Container",
                                   "defaultRequest": {"cpu": lr.default_request_cpu,
                                                      "memory": lr.default_request_memory},
                                   "default": {"cpu": lr.default_limit_cpu,
                                               "memory": lr.default_limit_memory},
                               }]}, opts=opts)

    @staticmethod
    def _network(prefix: str, ns: str, args: DomainIsolationArgs,
                 opts: pulumi.ResourceOptions):
        s = args.settings
        by_name = "kubernetes.io/metadata.name"
        domain_peer = {"namespaceSelector": {"matchLabels": {
            "dataplatform.io/domain-id": args.domain_id}}}
        policies = {
            # Everything not allowed below is denied, both ways.
            "default-deny": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            "allow-same-domain": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                                  "ingress": [{"from": [domain_peer]}],
                                  "egress": [{"to": [domain_peer]}]},
            "allow-dns": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                "to": [{"namespaceSelector": {"matchLabels": {by_name: "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                "ports": [{"protocol": p, "port": 53} for p in ("UDP", "TCP")]}]},
            # Executors and operators (Airflow, Airbyte) start pods through the API server,
            # whose address is cluster-specific: allow its ports, not its IP.
            "allow-kube-api": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                "ports": [{"protocol": "TCP", "port": p} for p in (443, 6443)]}]},
            # Sources, object storage and Git live outside; other tenants' pods do not.
            "allow-external-egress": {"podSelector": {}, "policyTypes": ["Egress"],
                                      "egress": [{"to": [
                                          {"ipBlock": {"cidr": c, "except": [
                                              r for r in (*PRIVATE_RANGES, *PRIVATE_RANGES_V6)
                                              if _contains(c, r)]}}
                                          for c in s.egress_cidrs]}]},
            **({"allow-private-services": {"podSelector": {}, "policyTypes": ["Egress"],
                                           "egress": [{
                                               "to": [{"ipBlock": {"cidr": r}}
                                                      for r in PRIVATE_RANGES],
                                               "ports": [{"protocol": "TCP", "port": p}
                                                         for p in sorted(args.private_ports)],
                                           }]}} if args.private_ports else {}),
            "allow-monitoring-scrape": {"podSelector": {}, "policyTypes": ["Ingress"],
                                        "ingress": [{"from": [{"namespaceSelector": {
                                            "matchLabels": {by_name: s.monitoring_namespace}}}]}]},
            # Batch jobs (dbt runs) push their results to the cluster's Pushgateway, and
            # to nothing else in its namespace (components/observability/monitoring.py).
            "allow-metrics-push": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                "to": [{"namespaceSelector": {"matchLabels": {by_name: s.monitoring_namespace}},
                        "podSelector": {"matchLabels": {
                            "app.kubernetes.io/name": "prometheus-pushgateway"}}}],
                "ports": [{"protocol": "TCP", "port": 9091}]}]},
            # Apps that speak OTLP (Airflow's traces...) send to the cluster's collector,
            # gRPC 4317 and HTTP 4318 only (components/observability/otel.py).
            "allow-otlp-push": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                "to": [{"namespaceSelector": {"matchLabels": {by_name: s.monitoring_namespace}},
                        "podSelector": {"matchLabels": {
                            "app.kubernetes.io/name": "opentelemetry-collector"}}}],
                "ports": [{"protocol": "TCP", "port": p} for p in (4317, 4318)]}]},
            **({"allow-front-door": {"podSelector": {}, "policyTypes": ["Ingress"],
                                     "ingress": [{"from": [{"namespaceSelector": {
                                         "matchLabels": {by_name: GATEWAY_NAMESPACE}},
                                         "podSelector": {"matchLabels": GATEWAY_PROXY}}],
                                         "ports": [{"protocol": "TCP", "port": p}
                                                   for p in sorted(args.gateway_ports)]}]}}
               if args.gateway_ports else {}),
            "allow-ingress-controller": {"podSelector": {}, "policyTypes": ["Ingress"],
                                         "ingress": [{"from": [{"namespaceSelector": {
                                             "matchLabels": {by_name: s.ingress_namespace}}}]}]},
        }
        for policy, spec in policies.items():
            k8s.networking.v1.NetworkPolicy(
                f"{prefix}-{policy}",
                metadata={"name": policy, "namespace": ns, "labels": args.labels},
                spec=spec, opts=opts)

    @staticmethod
    def _app_project(name: str, args: DomainIsolationArgs, ap: AppProjectArgs,
                     opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
        project = k8s.apiextensions.CustomResource(
            f"{name}-appproject",
            api_version="argoproj.io/v1alpha1",
            kind="AppProject",
            metadata={"name": args.domain_id, "namespace": ap.argocd_namespace,
                      "labels": args.labels},
            spec={
                "description": f"Apps of domain {args.domain_id}",
                "sourceRepos": list(ap.source_repos),
                "destinations": [{"server": "https://kubernetes.default.svc", "namespace": n}
                                 for n in args.namespaces],
                # No cluster-scoped objects, and not the domain's own fence.
                "clusterResourceWhitelist": [],
                "namespaceResourceBlacklist": [{"group": "*", "kind": k} for k in FENCE_KINDS]
                + [{"group": g, "kind": k} for g, k in FRONT_DOOR_KINDS],
                **({"roles": [dict(r) for r in ap.roles]} if ap.roles else {}),
            },
            opts=opts,
        )
        return project.metadata["name"]


def _contains(outer: str, inner: str) -> bool:
    """Whether `inner` lies within `outer`; never across IP versions (an IPv6 egress
    block holds no IPv4 range, and the other way round)."""
    o, i = ipaddress.ip_network(outer), ipaddress.ip_network(inner)
    if isinstance(o, ipaddress.IPv4Network) and isinstance(i, ipaddress.IPv4Network):
        return i.subnet_of(o)
    if isinstance(o, ipaddress.IPv6Network) and isinstance(i, ipaddress.IPv6Network):
        return i.subnet_of(o)
    return False
