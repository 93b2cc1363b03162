"""DomainStack: one data-mesh domain, on its platform's cluster or on a dedicated one."""

from __future__ import annotations

import pulumi

from components._labels import k8s_labels
from components.apps import build_app, database_apps, enabled_apps
from components.apps.context import AppContext
from components.apps.extra import build_extra_apps
from components.cloud_provider import cloud_provider
from components.cluster import SharedCluster, SharedClusterArgs
from components.helm_app import ArgoCDTarget
from components.isolation import AppProjectArgs, DomainIsolation, DomainIsolationArgs
from components.observability import DomainMonitoring, DomainMonitoringArgs
from components.stacks._cluster_owner import build_owned_cluster
from components.stacks._data_layer import (
    build_database,
    build_identities,
    build_lake,
    check_args,
    private_service_ports,
)
from dataplatform.charts import allowed_repos
from dataplatform.config.model import StackConfig
from dataplatform.config.observability import alerting_enabled


class DomainStack(pulumi.ComponentResource):
    """Namespace(s), isolation, storage, metadata database and apps of one domain."""

    namespace: pulumi.Output[str]
    buckets: pulumi.Output[dict[str, str]]
    apps: dict[str, pulumi.ComponentResource]
    exports: dict[str, pulumi.Output]

    def __init__(self, name: str, cfg: StackConfig,
                 opts: pulumi.ResourceOptions | None = None):
        if cfg.kind != "domain":
            raise ValueError(f"DomainStack {name}: stack kind is '{cfg.kind}'")
        check_args(cfg)
        super().__init__("dataplatform:stack:DomainStack", name, None, opts)
        naming, labels = cfg.naming, k8s_labels(cfg)
        cloud = cloud_provider(name, cfg, pulumi.ResourceOptions(parent=self))
        if cfg.owns_cluster:
            owned = build_owned_cluster(name, cfg, self, cloud)
            handle, argocd_ns = owned.handle, (owned.argocd.namespace if owned.argocd else None)
            gitops_deps = [owned.argocd] if owned.argocd else []
        else:
            ref = cfg.platform
            shared = SharedCluster(f"{name}-platform", SharedClusterArgs(
                f"{ref.organization}/{pulumi.get_project()}/{ref.stack}"),
                opts=pulumi.ResourceOptions(parent=self))
            handle, argocd_ns, gitops_deps = shared.handle, shared.argocd_namespace, []
        if cfg.delivery == "argocd" and argocd_ns is None:
            raise ValueError(f"DomainStack {name}: delivery 'argocd' but the cluster has no "
                             "Argo CD (enable apps.argocd or use delivery: helm)")
        in_cluster = pulumi.ResourceOptions(parent=self, providers=[handle.provider])
        in_cloud = pulumi.ResourceOptions(parent=self, providers=[cloud] if cloud else None)

        namespaces = [naming.namespace(), *(naming.namespace(x)
                                            for x in cfg.isolation.extra_namespaces)]
        main_ns = namespaces[0]
        isolation = DomainIsolation(f"{name}-isolation", DomainIsolationArgs(
            domain_id=naming.base, namespaces=namespaces, settings=cfg.isolation,
            labels=labels,
            app_project=AppProjectArgs(argocd_ns, allowed_repos(cfg.apps.allowed_repos))
            if cfg.delivery == "argocd" else None,
            private_ports=private_service_ports(cfg),
        ), opts=pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(
            depends_on=gitops_deps)))
        after_fence = pulumi.ResourceOptions.merge(
            in_cluster, pulumi.ResourceOptions(depends_on=[isolation]))

        enabled = enabled_apps(cfg)
        lake = build_lake(name, cfg, main_ns, labels, after_fence, in_cloud)
        database = build_database(name, cfg, main_ns, database_apps(cfg, enabled), handle,
                                  labels, after_fence, pulumi.ResourceOptions.merge(
                                      in_cloud, pulumi.ResourceOptions(depends_on=[isolation])))
        identities = build_identities(
            name, cfg, main_ns, lake, handle, enabled, labels,
            pulumi.ResourceOptions.merge(in_cloud, pulumi.ResourceOptions(
                depends_on=[isolation])))

        target = (ArgoCDTarget(namespace=argocd_ns, project=isolation.app_project)
                  if cfg.delivery == "argocd" else None)
        deps = (isolation, lake.component, database.component, *identities.resources)
        ctx = AppContext(
            name=name, cfg=cfg, namespace=main_ns, labels=labels, enabled=frozenset(enabled),
            buckets=lake.buckets, storage_endpoint=lake.endpoint,
            databases=database.connections, service_accounts=identities.names,
            argocd=target, depends_on=deps,
            opts=pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(
                depends_on=list(deps))))
        self.apps = {app: build_app(app, f"{name}-{app}", ctx) for app in enabled}
        self.apps.update(build_extra_apps(name, ctx, self.apps))  # apps.extra, after these
        if alerting_enabled(cfg):  # scrape targets, alert rules and alert routing
            stack_monitoring = [owned.monitoring] if cfg.owns_cluster and owned.monitoring else []
            DomainMonitoring(f"{name}-domain-monitoring", DomainMonitoringArgs.from_context(
                ctx, namespaces), opts=pulumi.ResourceOptions.merge(
                    in_cluster, pulumi.ResourceOptions(depends_on=[isolation, *stack_monitoring])))
        self.namespace = pulumi.Output.from_input(main_ns)
        self.buckets = lake.buckets
        self.exports = {
            "namespace": self.namespace,
            "namespaces": isolation.namespaces,
            "buckets": self.buckets,
            "objectStorageEndpoint": lake.endpoint,
            "databaseHost": database.host,
            "serviceAccounts": identities.service_accounts,
            "clusterName": handle.name,
            "apps": pulumi.Output.from_input(sorted(self.apps)),
        }
        self.register_outputs(self.exports)
