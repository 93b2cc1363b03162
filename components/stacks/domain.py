"""DomainStack: one data-mesh domain, on its platform's cluster or on a dedicated one."""

from __future__ import annotations

import dataclasses

import pulumi

from components.apps.airflow._secrets import ADMIN_SECRET as AIRFLOW_ADMIN_SECRET
from components.apps.context import AppContext
from components.apps.datahub._settings import PREREQUISITES as DATAHUB_PREREQUISITES
from components.apps.datahub._settings import RELEASE as DATAHUB_RELEASE
from components.apps.datahub._settings import ROOT_USER_SECRET as DATAHUB_ROOT_SECRET
from components.apps.extra import build_extra_apps
from components.apps.metabase import ADMIN_SECRET as METABASE_ADMIN_SECRET
from components.apps.registry import APPS
from components.cloud_provider import cloud_provider
from components.cluster import SharedCluster, SharedClusterArgs
from components.frontdoor.sso import project_roles
from components.helm_app import ArgoCDTarget
from components.isolation import AppProjectArgs, DomainIsolation
from components.observability import DomainMonitoring, DomainMonitoringArgs
from components.observability.monitoring import pushgateway_url
from components.stacks._cluster_owner import build_owned_cluster
from components.stacks._data_layer import build_database, build_identities, build_lake
from components.stacks.args import DomainStackArgs
from components.stacks.platform import cluster_access, front_door_routes


class DomainStack(pulumi.ComponentResource):
    """Namespace(s), isolation, storage, metadata database and apps of one domain."""

    namespace: pulumi.Output[str]
    buckets: pulumi.Output[dict[str, str]]
    apps: dict[str, pulumi.ComponentResource]
    exports: dict[str, pulumi.Output]

    def __init__(self, name: str, args: DomainStackArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:stack:DomainStack", name, None, opts)
        site, labels = args.site, args.site.k8s_labels
        cloud = cloud_provider(name, site, pulumi.ResourceOptions(parent=self))
        owned = None
        argocd_ns: pulumi.Output[str] | None = None
        gitops_deps: list[pulumi.Resource] = []
        if isinstance(args.cluster, SharedClusterArgs):
            shared = SharedCluster(f"{name}-platform", args.cluster,
                                   opts=pulumi.ResourceOptions(parent=self))
            handle = shared.handle
            if args.delivery == "argocd":  # only Argo CD delivery reads the namespace
                argocd_ns = shared.argocd_namespace.apply(
                    lambda ns: _published_argocd_namespace(name, ns))
        else:
            owned = build_owned_cluster(name, args.cluster, self, cloud)
            handle = owned.handle
            if owned.argocd:
                argocd_ns, gitops_deps = owned.argocd.namespace, [owned.argocd]
        if args.delivery == "argocd" and argocd_ns is None:
            raise ValueError(f"DomainStack {name}: delivery 'argocd' but the cluster has no "
                             "Argo CD (enable apps.argocd or use delivery: helm)")
        in_cluster = pulumi.ResourceOptions(parent=self, providers=[handle.provider])
        in_cloud = pulumi.ResourceOptions(parent=self, providers=[cloud] if cloud else None)

        fence = args.isolation
        if args.source_repos is not None:
            # source_repos come with delivery 'argocd' only (dataplatform/resolve/domain.py),
            # whose Argo CD namespace is checked above.
            if argocd_ns is None:
                raise ValueError(f"DomainStack {name}: an AppProject (source_repos) needs "
                                 "delivery 'argocd'")
            fence = dataclasses.replace(fence, app_project=AppProjectArgs(
                argocd_ns, args.source_repos, roles=project_roles(
                    fence.domain_id, args.routes.oidc if args.routes else None)))
        isolation = DomainIsolation(f"{name}-isolation", fence, opts=pulumi.ResourceOptions.merge(
            in_cluster, pulumi.ResourceOptions(depends_on=gitops_deps)))
        after_fence = pulumi.ResourceOptions.merge(
            in_cluster, pulumi.ResourceOptions(depends_on=[isolation]))
        cloud_after_fence = pulumi.ResourceOptions.merge(
            in_cloud, pulumi.ResourceOptions(depends_on=[isolation]))
        if fence.settings.admin_principals:  # aws only (dataplatform/resolve/domain.py)
            from components.cluster.eks_access import EksAdminAccess, EksAdminAccessArgs

            EksAdminAccess(f"{name}-admin-access", EksAdminAccessArgs(
                handle.name, fence.settings.admin_principals,
                fence.settings.effective_admin_groups(fence.domain_id)),
                opts=cloud_after_fence)

        main_ns, enabled = args.namespace, list(args.apps.built_in)
        lake = build_lake(name, args.lake, site.region, after_fence, in_cloud)
        database = build_database(name, args.database, handle, after_fence, cloud_after_fence)
        identities = build_identities(name, site, main_ns, lake, handle, enabled, labels,
                                      cloud_after_fence)

        target = None
        if args.delivery == "argocd" and argocd_ns is not None:  # (None raised above)
            target = ArgoCDTarget(namespace=argocd_ns, project=isolation.app_project.apply(
                lambda p: _domain_app_project(name, p)))
        deps = (isolation, lake.component, database.component, *identities.resources)
        ctx = AppContext(
            name=name, site=site, delivery=args.delivery, namespace=main_ns, labels=labels,
            enabled=frozenset(enabled), buckets=lake.buckets, storage_endpoint=lake.endpoint,
            databases=database.connections, service_accounts=identities.names,
            argocd=target, depends_on=deps, managed_database=args.managed_database,
            sign_on=args.routes.sign_on() if args.routes else {},
            warehouse=args.apps.warehouse,
            pushgateway_url=pushgateway_url(args.isolation.settings.monitoring_namespace),
            opts=pulumi.ResourceOptions.merge(
                in_cluster, pulumi.ResourceOptions(depends_on=list(deps))))
        self.apps = {app: APPS[app].build(f"{name}-{app}", settings, ctx)
                     for app, settings in args.apps.built_in.items()}
        # apps.extra, after the built-in ones they may depend on
        self.apps.update(build_extra_apps(name, args.apps.extra, ctx, self.apps))
        if args.alerting is not None:  # scrape targets, alert rules and alert routing
            stack_monitoring = [owned.monitoring] if owned and owned.monitoring else []
            DomainMonitoring(f"{name}-domain-monitoring", DomainMonitoringArgs.from_context(
                ctx, fence.namespaces, args.alerting, front_door=args.routes is not None),
                opts=pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(
                    depends_on=[isolation, *stack_monitoring])))
        urls = front_door_routes(name, args.routes, owned, self, handle.provider,
                                 [isolation, *self.apps.values()])
        public = args.routes.urls() if args.routes else {}
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
            "appsAccess": pulumi.Output.from_input({
                **(cluster_access(owned, public) if owned else {}),
                **_apps_access(self.apps, args, argocd_ns, public)}),
            "urls": urls,
        }
        self.register_outputs(self.exports)


def _published_argocd_namespace(name: str, namespace: str | None) -> str:
    """The platform stack's `argocdNamespace` output: None when it runs no Argo CD."""
    if namespace is None:
        raise ValueError(f"DomainStack {name}: delivery 'argocd' but the platform stack "
                         "publishes no argocdNamespace (it runs no Argo CD)")
    return namespace


def _domain_app_project(name: str, project: str | None) -> str:
    """The domain's AppProject: DomainIsolation creates it whenever delivery is 'argocd'
    (source_repos are set exactly then)."""
    if project is None:
        raise ValueError(f"DomainStack {name}: delivery 'argocd' but no AppProject")
    return project


DATAHUB_UI = f"http://{DATAHUB_RELEASE}-datahub-frontend.{{ns}}.svc.cluster.local:9002"
"""The UI (the component publishes GMS, its API): the chart's frontend Service."""

# How a person logs in to each built-in app; the Secret is one this stack creates.
_LOGIN: dict[str, tuple[str | None, str]] = {
    "airflow": (AIRFLOW_ADMIN_SECRET, "keys username and password"),
    "airbyte": (None, "no admin Secret from this stack: Airbyte's bootloader writes Secret "
                      "airbyte-auth-secrets (key instance-admin-password)"),
    "metabase": (METABASE_ADMIN_SECRET, "keys username (an e-mail) and password"),
    "datahub": (DATAHUB_ROOT_SECRET, "keys username and password"),
    "dbt": (None, "no UI: dbt runs as CronJobs"),
}


def _apps_access(apps: dict[str, pulumi.ComponentResource], args: DomainStackArgs,
                 argocd_ns: pulumi.Output[str] | None,
                 public: dict[str, str]) -> dict[str, dict]:
    """Per app: namespace, delivery, Helm releases, in-cluster URL (what the component
    publishes), the front door's URL (`publicUrl`, None when not routed) and admin login,
    for `dataplatform status`."""
    out: dict[str, dict] = {}
    for key, app in apps.items():
        releases = [] if key == "dbt" else [key]  # dbt: CronJobs, no chart
        if key == "datahub" and args.apps.built_in[key].config.needs_prerequisites:
            releases.insert(0, DATAHUB_PREREQUISITES)
        url = (getattr(app, "url", None) or getattr(app, "api_url", None)
               or (DATAHUB_UI.format(ns=args.namespace) if key == "datahub" else None))
        secret, login = _LOGIN.get(key, (None, "an extra app: see its chart's documentation"))
        out[key] = {"namespace": getattr(app, "namespace", args.namespace),
                    "delivery": args.delivery if releases else "manifests",
                    "argocdNamespace": argocd_ns if args.delivery == "argocd" else None,
                    "releases": releases, "url": url, "publicUrl": public.get(key),
                    "adminSecret": secret, "login": login}
    return out
