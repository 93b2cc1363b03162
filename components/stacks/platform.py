"""PlatformStack: the shared cluster of a customer environment, with Argo CD."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from components.cloud_provider import cloud_provider
from components.frontdoor import StackRoutes, StackRoutesArgs
from components.stacks._cluster_owner import OwnedCluster, build_owned_cluster
from components.stacks.args import PlatformStackArgs


class PlatformStack(pulumi.ComponentResource):
    """The shared cluster, its GitOps engine and its monitoring stack."""

    cluster_name: pulumi.Output[str]
    argocd_namespace: pulumi.Output[str | None]
    exports: dict[str, pulumi.Output]

    def __init__(self, name: str, args: PlatformStackArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:stack:PlatformStack", name, None, opts)
        provider = cloud_provider(name, args.site, pulumi.ResourceOptions(parent=self))
        owned = build_owned_cluster(name, args.owned, self, provider)
        self.cluster_name = owned.handle.name
        self.argocd_namespace = pulumi.Output.from_input(
            owned.argocd.namespace if owned.argocd else None)
        urls = front_door_routes(name, args.routes, owned, self)
        naming = args.site.naming
        # What domain stacks read through their StackReference.
        self.exports = {**owned.handle.outputs(), "argocdNamespace": self.argocd_namespace,
                        # None: no monitoring stack, so no CRDs for the domains' monitors.
                        "monitoringNamespace": pulumi.Output.from_input(
                            owned.monitoring.namespace if owned.monitoring else None),
                        "customer": pulumi.Output.from_input(naming.customer),
                        "environment": pulumi.Output.from_input(naming.environment),
                        "appsAccess": pulumi.Output.from_input(cluster_access(
                            owned, args.routes.urls() if args.routes else {})),
                        "urls": urls, "frontDoor": pulumi.Output.from_input(
                            owned.front_door.exports if owned.front_door else None)}
        self.register_outputs(self.exports)


def front_door_routes(name: str, routes: StackRoutesArgs | None, owned: OwnedCluster | None,
                      parent: pulumi.Resource, provider: pulumi.ProviderResource | None = None,
                      depends_on: list[pulumi.Resource] | None = None
                      ) -> pulumi.Output[dict[str, str]]:
    """The stack's HTTPRoutes (components/frontdoor/routes.py), after the cluster's front
    door and the apps they route; its `urls` output (app -> https URL, empty without)."""
    if routes is None:
        return pulumi.Output.from_input({})
    deps = [r for r in (owned.front_door, owned.argocd, owned.monitoring) if r] \
        if owned else []
    return StackRoutes(f"{name}-routes", routes, opts=pulumi.ResourceOptions(
        parent=parent, provider=provider or (owned.handle.provider if owned else None),
        depends_on=[*deps, *(depends_on or [])])).urls


ARGOCD_LOGIN = ("user admin, password in key `password` of Secret argocd-initial-admin-secret "
                "(made by Argo CD at its first start, not by this stack; delete it once the "
                "password is changed)")


def cluster_access(owned: OwnedCluster, public: Mapping[str, str] | None = None
                   ) -> dict[str, dict]:
    """The `appsAccess` entries of a cluster owner's own releases (Argo CD, monitoring), in the
    shape of DomainStack's per-app entries, for `dataplatform status`. Service names follow
    the charts' fullnames for these release names; `publicUrl` is the front door's URL of
    the app (`public`: app -> URL; None when not routed)."""
    out: dict[str, dict] = {}
    public = public or {}

    def entry(release, service: str, port: int, app: str, **extra) -> dict:
        ns = release.namespace
        return {"namespace": ns, "delivery": "helm", "argocdNamespace": None,
                "releases": [release.release_name], "publicUrl": public.get(app),
                "url": pulumi.Output.format("http://{0}-{1}.{2}.svc.cluster.local:{3}",
                                            release.release_name, service, ns, port),
                **extra}

    if owned.argocd:
        out["argocd"] = entry(owned.argocd.release, "server", 80, "argocd", adminSecret=None,
                              login=ARGOCD_LOGIN)
    if owned.monitoring:
        release = owned.monitoring.release
        out["monitoring"] = entry(
            release, "grafana", 80, "grafana", adminSecret=owned.monitoring.grafana_secret,
            login="Grafana: keys admin-user and admin-password",
            alertmanager={"service": release.release_name.apply(lambda r: f"{r}-alertmanager"),
                          "port": 9093})
    return out
