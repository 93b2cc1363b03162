"""ClusterGateway: Envoy Gateway (the pinned chart) and the cluster's one Gateway.

The Gateway listens on 443 for the cluster owner's own hostnames (Argo CD, Grafana), and on
80 only to redirect to https. Domains on the cluster attach ListenerSets for their own
wildcard (components/frontdoor/routes.py): the Gateway admits them from domain namespaces
(label `dataplatform.io/domain-id`) only. The proxies it starts are sized by an EnvoyProxy
(charts-values/gateway-helm/envoy-proxy/), and scraped by a PodMonitor when the cluster
runs kube-prometheus-stack.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from components._values import typed_settings
from components.frontdoor.args import GATEWAY, NAMESPACE, PROXY_LABELS, FrontDoorArgs
from components.frontdoor.routes import (
    ENVOY_API,
    GATEWAY_API,
    https_listener,
    wildcard_certificate,
)
from components.helm_app import HelmApp, HelmAppArgs

APP = "gateway-helm"
CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"
DOMAIN_LABEL = "dataplatform.io/domain-id"


class _Resources(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requests: dict[str, str]
    limits: dict[str, str]


class ProxySettings(BaseModel):
    """charts-values/gateway-helm/envoy-proxy/: the Envoy proxies' size."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    replicas: int
    envoy: _Resources
    shutdownManager: _Resources  # the file's keys
    localNodePorts: dict[str, int]


def envoy_proxy_spec(cloud: str, settings: ProxySettings) -> dict[str, Any]:
    """The EnvoyProxy of the GatewayClass: sized containers (the shutdown manager's limits
    through a patch: Envoy Gateway sets only its requests), and the Service: a public
    network load balancer on aws, the default L4 one on gcp, fixed node ports locally
    (kind's extraPortMappings reach them)."""
    service: dict[str, Any] = {"type": "LoadBalancer", "externalTrafficPolicy": "Local"}
    if cloud == "aws":
        service["annotations"] = {
            "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
            "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"}
    elif cloud == "local":
        ports = settings.localNodePorts
        service = {"type": "NodePort", "externalTrafficPolicy": "Cluster", "patch": {
            "type": "StrategicMerge", "value": {"spec": {"ports": [
                {"port": 80, "nodePort": ports["http"]},
                {"port": 443, "nodePort": ports["https"]}]}}}}
    return {"provider": {"type": "Kubernetes", "kubernetes": {
        "envoyService": service,
        "envoyDeployment": {
            "replicas": settings.replicas,
            "container": {"resources": settings.envoy.model_dump()},
            "patch": {"type": "StrategicMerge", "value": {"spec": {"template": {"spec": {
                "containers": [{"name": "shutdown-manager",
                                "resources": settings.shutdownManager.model_dump()}]}}}}},
        }}}}


class ClusterGateway(pulumi.ComponentResource):
    """Envoy Gateway, its GatewayClass and EnvoyProxy, the Gateway, the https redirect."""

    namespace: pulumi.Output[str]
    gateway: pulumi.Output[str]

    def __init__(self, name: str, args: FrontDoorArgs, issuer: pulumi.Resource | None,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:frontdoor:ClusterGateway", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = dict(args.labels)
        ns = k8s.core.v1.Namespace(f"{name}-namespace", metadata={"name": NAMESPACE, "labels": {
            **labels, "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "restricted"}}, opts=child)
        # A Helm release applied by Pulumi: the Gateway API CRDs must exist before the
        # program's Gateway, ListenerSets and HTTPRoutes.
        release = HelmApp(f"{name}-chart", HelmAppArgs(
            app=APP, namespace=ns.metadata["name"], profile=args.profile, delivery="helm",
            release_name="envoy-gateway"), opts=pulumi.ResourceOptions(
                parent=self, depends_on=[ns]))
        after = pulumi.ResourceOptions(parent=self, depends_on=[release])
        settings = typed_settings(f"{APP}/envoy-proxy", args.profile, ProxySettings)
        proxy = k8s.apiextensions.CustomResource(
            f"{name}-envoy-proxy", api_version=ENVOY_API, kind="EnvoyProxy",
            metadata={"name": GATEWAY, "namespace": NAMESPACE, "labels": labels},
            spec=envoy_proxy_spec(args.cloud, settings), opts=after)
        gateway_class = k8s.apiextensions.CustomResource(
            f"{name}-class", api_version=GATEWAY_API, kind="GatewayClass",
            metadata={"name": GATEWAY, "labels": labels},
            spec={"controllerName": CONTROLLER, "parametersRef": {
                "group": "gateway.envoyproxy.io", "kind": "EnvoyProxy", "name": GATEWAY,
                "namespace": NAMESPACE}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[release, proxy]))
        owner, tls = args.owner, args.tls != "off"
        deps: list[pulumi.Resource] = [gateway_class]
        secret = None
        if tls:
            deps.append(wildcard_certificate(
                f"{name}-certificate", owner.owner, NAMESPACE, owner.wildcard, labels,
                pulumi.ResourceOptions(parent=self, depends_on=[release, *(
                    [issuer] if issuer else [])])))
            secret = f"{owner.owner}-tls"
        section = f"{owner.owner}-{'https' if tls else 'http-hosts'}"
        listeners = [
            {"name": "http", "protocol": "HTTP", "port": 80, "allowedRoutes": {
                "namespaces": {"from": "Same"}}},
            https_listener(section, owner.wildcard, secret, list(owner.route_namespaces)),
        ]
        gateway = k8s.apiextensions.CustomResource(
            f"{name}-gateway", api_version=GATEWAY_API, kind="Gateway",
            metadata={"name": GATEWAY, "namespace": NAMESPACE, "labels": labels},
            spec={"gatewayClassName": GATEWAY, "listeners": listeners,
                  "allowedListeners": {"namespaces": {"from": "Selector", "selector": {
                      "matchExpressions": [{"key": DOMAIN_LABEL, "operator": "Exists"}]}}}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps))
        if tls:  # plain HTTP only redirects
            k8s.apiextensions.CustomResource(
                f"{name}-https-redirect", api_version=GATEWAY_API, kind="HTTPRoute",
                metadata={"name": "https-redirect", "namespace": NAMESPACE, "labels": labels},
                spec={"parentRefs": [{"name": GATEWAY, "sectionName": "http"}], "rules": [{
                    "filters": [{"type": "RequestRedirect", "requestRedirect": {
                        "scheme": "https", "statusCode": 301}}]}]},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]))
        if args.monitoring:
            k8s.apiextensions.CustomResource(
                f"{name}-proxy-monitor", api_version="monitoring.coreos.com/v1",
                kind="PodMonitor",
                metadata={"name": "envoy-proxy", "namespace": NAMESPACE, "labels": labels},
                spec={"selector": {"matchLabels": dict(PROXY_LABELS)},
                      "podMetricsEndpoints": [{"port": "metrics", "path": "/stats/prometheus",
                                               "interval": "30s"}]},
                opts=after)
        self.namespace = ns.metadata["name"]
        self.gateway = gateway.metadata["name"]
        self.register_outputs({"namespace": self.namespace, "gateway": self.gateway})
