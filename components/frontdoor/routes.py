"""StackRoutes: the hostnames of one stack on the cluster's Gateway.

- a domain on a shared cluster gets a ListenerSet in its main namespace, for its wildcard
  `*.<domain>.<environment>.<baseDomain>` only, with its wildcard Certificate beside it;
  the platform stack alone may create ListenerSets (the AppProject and the domain-admin
  Role refuse them), so a domain cannot claim another's names;
- an HTTPRoute per routed app, in the app's namespace, attached to that listener;
- for apps with no OIDC of their own, an Envoy Gateway SecurityPolicy (its OIDC filter)
  on the route, reading the client secret from a Secret in that namespace; with the
  issuer's JWKS, the same policy verifies the ID token the filter forwards (its JWT
  filter runs after the OIDC one) and admits only the groups allowed in the app.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.frontdoor.args import (
    GATEWAY,
    ISSUER,
    NAMESPACE,
    OIDC_SECRET,
    Route,
    StackRoutesArgs,
)
from foundation.config.secrets import config_secret

GATEWAY_API = "gateway.networking.k8s.io/v1"
ENVOY_API = "gateway.envoyproxy.io/v1alpha1"
CERT_API = "cert-manager.io/v1"
ID_TOKEN_HEADER = "x-front-door-id-token"
"""Header the OIDC filter forwards the ID token in, for the JWT filter's group check."""
ADMINS_ONLY = frozenset({"airbyte"})
"""Airbyte OSS has one instance admin and no read-only role: viewer groups stay out."""


def https_listener(name: str, wildcard: str, secret: str | None,
                   namespaces: list[str]) -> dict:
    """An HTTPS listener for `wildcard` (HTTP on 80 when `secret` is None: tls off),
    admitting the HTTPRoutes of `namespaces` only."""
    listener: dict = {"name": name, "hostname": wildcard, "allowedRoutes": {
        "kinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
        "namespaces": {"from": "Selector", "selector": {"matchExpressions": [{
            "key": "kubernetes.io/metadata.name", "operator": "In",
            "values": sorted(set(namespaces))}]}}}}
    if secret is None:
        return {**listener, "protocol": "HTTP", "port": 80}
    return {**listener, "protocol": "HTTPS", "port": 443, "tls": {
        "mode": "Terminate", "certificateRefs": [{"group": "", "kind": "Secret",
                                                  "name": secret}]}}


def wildcard_certificate(name: str, owner: str, namespace: str, wildcard: str,
                         labels: dict, opts: pulumi.ResourceOptions
                         ) -> k8s.apiextensions.CustomResource:
    """The stack's wildcard Certificate from the front door's ClusterIssuer."""
    return k8s.apiextensions.CustomResource(
        name, api_version=CERT_API, kind="Certificate",
        metadata={"name": f"{owner}-tls", "namespace": namespace, "labels": labels},
        spec={"secretName": f"{owner}-tls", "dnsNames": [wildcard],
              "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer",
                            "name": ISSUER},
              "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}},
        opts=opts)


class StackRoutes(pulumi.ComponentResource):
    """A stack's listener (ListenerSet) when it has one, its HTTPRoutes and SSO policies."""

    urls: pulumi.Output[dict[str, str]]
    target_ports: pulumi.Output[list[int]]

    def __init__(self, name: str, args: StackRoutesArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:frontdoor:StackRoutes", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = dict(args.labels)
        tls = args.tls != "off"
        section = "https" if tls else "http-hosts"
        parent = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY,
                  "namespace": NAMESPACE, "sectionName": f"{args.owner}-{section}"}
        deps: list[pulumi.Resource] = []
        if args.listener == "listenerset":
            secret = None
            if tls:
                deps.append(wildcard_certificate(f"{name}-certificate", args.owner,
                                                 args.namespace, args.wildcard, labels, child))
                secret = f"{args.owner}-tls"
            deps.append(k8s.apiextensions.CustomResource(
                f"{name}-listenerset", api_version=GATEWAY_API, kind="ListenerSet",
                metadata={"name": args.owner, "namespace": args.namespace, "labels": labels},
                spec={"parentRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                    "name": GATEWAY, "namespace": NAMESPACE},
                      "listeners": [https_listener(section, args.wildcard, secret,
                                                   list(args.route_namespaces))]},
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(deps))))
            parent = {"group": "gateway.networking.k8s.io", "kind": "ListenerSet",
                      "name": args.owner, "namespace": args.namespace, "sectionName": section}
        after = pulumi.ResourceOptions(parent=self, depends_on=deps)
        secrets: dict[str, k8s.core.v1.Secret] = {}
        for route in args.routes:
            k8s.apiextensions.CustomResource(
                f"{name}-{route.app}-route", api_version=GATEWAY_API, kind="HTTPRoute",
                metadata={"name": route.app, "namespace": route.namespace,
                          "labels": {**labels, "app.kubernetes.io/name": route.app}},
                spec={"parentRefs": [parent], "hostnames": [route.host], "rules": [{
                    "backendRefs": [{"name": route.service, "port": route.port}]}]},
                opts=after)
            if route.sso_proxy and args.oidc is not None:
                if route.namespace not in secrets:
                    secrets[route.namespace] = k8s.core.v1.Secret(
                        f"{name}-{route.namespace}-oidc-secret",
                        metadata={"name": OIDC_SECRET, "namespace": route.namespace,
                                  "labels": labels},
                        type="Opaque",
                        string_data={"client-secret": config_secret(args.oidc.secret_path)},
                        opts=child)
                self._sso(name, route, args, secrets[route.namespace], tls)
        self.urls = pulumi.Output.from_input(args.urls())
        self.target_ports = pulumi.Output.from_input(
            sorted({r.target_port for r in args.routes}))
        self.register_outputs({"urls": self.urls, "target_ports": self.target_ports})

    def _sso(self, name: str, route: Route, args: StackRoutesArgs, secret: k8s.core.v1.Secret,
             tls: bool) -> None:
        """The Gateway's OIDC filter on `route`: unauthenticated requests go to the issuer;
        the session lives in cookies scoped to the app's own hostname."""
        assert args.oidc is not None
        scheme = "https" if tls else "http"
        k8s.apiextensions.CustomResource(
            f"{name}-{route.app}-sso", api_version=ENVOY_API, kind="SecurityPolicy",
            metadata={"name": f"{route.app}-sso", "namespace": route.namespace,
                      "labels": dict(args.labels)},
            spec=sso_policy(route, args, scheme),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[secret]))


def sso_policy(route: Route, args: StackRoutesArgs, scheme: str) -> dict:
    """The SecurityPolicy spec of a proxied route: the OIDC filter, and with the issuer's
    JWKS, the ID token (forwarded by that filter in a header) verified and its groups
    claim matched: admin groups, and viewer groups unless the app has no viewer role;
    every other request is denied."""
    oidc = args.oidc
    assert oidc is not None
    spec: dict = {
        "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute",
                        "name": route.app}],
        "oidc": {"provider": {"issuer": oidc.issuer}, "clientID": oidc.client_id,
                 "clientSecret": {"group": "", "kind": "Secret", "name": OIDC_SECRET},
                 "redirectURL": f"{scheme}://{route.host}/oauth2/callback",
                 "logoutPath": "/oauth2/logout", "scopes": list(oidc.scopes)}}
    if oidc.jwks_uri is None:
        return spec
    groups = [*oidc.admin_groups, *(() if route.app in ADMINS_ONLY else oidc.viewer_groups)]
    spec["oidc"]["forwardIDToken"] = {"header": ID_TOKEN_HEADER}
    spec["jwt"] = {"providers": [{
        "name": "issuer", "issuer": oidc.issuer, "audiences": [oidc.client_id],
        "remoteJWKS": {"uri": oidc.jwks_uri},
        "extractFrom": {"headers": [{"name": ID_TOKEN_HEADER}]}}]}
    spec["authorization"] = {"defaultAction": "Deny", "rules": [{
        "name": "sign-on-groups", "action": "Allow", "principal": {"jwt": {
            "provider": "issuer", "claims": [{
                "name": oidc.groups_claim, "valueType": "StringArray",
                "values": sorted(set(groups))}]}}}]}
    return spec
