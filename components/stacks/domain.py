"""DomainStack: one data-mesh domain, on its platform's cluster or on a dedicated one."""

from __future__ import annotations

import pulumi

from components._labels import k8s_labels
from components.cluster import SharedCluster, SharedClusterArgs
from components.database.incluster_postgres import InClusterPostgres, InClusterPostgresArgs
from components.helm_app import ArgoCDTarget, HelmApp, HelmAppArgs
from components.isolation import AppProjectArgs, DomainIsolation, DomainIsolationArgs
from components.stacks._cluster_owner import build_owned_cluster
from components.storage.minio import MinioStorage, MinioStorageArgs
from dataplatform.charts import allowed_repos
from dataplatform.config.model import StackConfig
from dataplatform.naming import LAKE_ZONES

# Built-in apps delivered from their pinned chart (app key = chart name in the lock).
CHART_APPS = ("airbyte", "airflow", "metabase", "datahub")
# Apps that keep their metadata in the domain's Postgres.
DATABASE_APPS = ("airbyte", "airflow", "metabase")


class DomainStack(pulumi.ComponentResource):
    """Namespace(s), isolation, storage, metadata database and apps of one domain."""

    namespace: pulumi.Output[str]
    buckets: pulumi.Output[dict[str, str]]
    apps: dict[str, HelmApp]
    exports: dict[str, pulumi.Output]

    def __init__(self, name: str, cfg: StackConfig,
                 opts: pulumi.ResourceOptions | None = None):
        if cfg.kind != "domain":
            raise ValueError(f"DomainStack {name}: stack kind is '{cfg.kind}'")
        if cfg.cloud != "local":
            # Lake buckets and managed databases on aws/gcp arrive with the cloud layer;
            # refuse rather than plan a domain without storage.
            raise ValueError(f"DomainStack {name}: cloud '{cfg.cloud}' domains need the "
                             "cloud layer (buckets, managed Postgres)")
        super().__init__("dataplatform:stack:DomainStack", name, None, opts)
        naming, labels = cfg.naming, k8s_labels(cfg)
        if cfg.owns_cluster:
            owned = build_owned_cluster(name, cfg, self)
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

        namespaces = [naming.namespace(), *(naming.namespace(x)
                                            for x in cfg.isolation.extra_namespaces)]
        main_ns = namespaces[0]
        isolation = DomainIsolation(f"{name}-isolation", DomainIsolationArgs(
            domain_id=naming.base, namespaces=namespaces, settings=cfg.isolation,
            labels=labels,
            app_project=AppProjectArgs(argocd_ns, allowed_repos())
            if cfg.delivery == "argocd" else None,
        ), opts=pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(
            depends_on=gitops_deps)))
        after_fence = pulumi.ResourceOptions.merge(
            in_cluster, pulumi.ResourceOptions(depends_on=[isolation]))

        storage = MinioStorage(f"{name}-storage", MinioStorageArgs(
            namespace=main_ns, profile=cfg.profile, labels=labels,
            buckets={z: naming.bucket(z, cfg.cloud) for z in LAKE_ZONES}), opts=after_fence)
        enabled = [a for a in CHART_APPS if getattr(cfg.apps, a).enabled]
        database = InClusterPostgres(f"{name}-postgres", InClusterPostgresArgs(
            namespace=main_ns, profile=cfg.profile, labels=labels,
            databases=[a for a in DATABASE_APPS if a in enabled]), opts=after_fence)

        target = (ArgoCDTarget(namespace=argocd_ns, project=isolation.app_project)
                  if cfg.delivery == "argocd" else None)
        self.apps = {
            app: HelmApp(f"{name}-{app}", HelmAppArgs(
                app=app, namespace=main_ns, profile=cfg.profile, delivery=cfg.delivery,
                overrides=getattr(cfg.apps, app).values, argocd=target, labels=labels),
                opts=pulumi.ResourceOptions.merge(after_fence, pulumi.ResourceOptions(
                    depends_on=[storage, database])))
            for app in enabled
        }
        self.namespace = pulumi.Output.from_input(main_ns)
        self.buckets = storage.buckets
        self.exports = {
            "namespace": self.namespace,
            "namespaces": isolation.namespaces,
            "buckets": self.buckets,
            "objectStorageEndpoint": storage.endpoint,
            "databaseHost": database.host,
            "clusterName": handle.name,
            "apps": pulumi.Output.from_input(sorted(self.apps)),
        }
        self.register_outputs(self.exports)
