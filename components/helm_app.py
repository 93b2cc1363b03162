"""HelmApp: one chart, its layered values, and how it is delivered.

Every app goes through here, so values layering and the delivery choice exist once:
- `argocd`: an Argo CD `Application` with a Helm source, the pinned chart version and
  the merged values as `valuesObject`, with automated sync, self-heal and retry;
- `helm`: a Pulumi `helm.v3.Release`, for clusters without Argo CD (and for Argo CD
  itself). An app with patches is a `helm.v4.Chart` instead: Pulumi renders it and a
  resource transform patches each object before it is registered (docs/extending.md says
  why; Argo CD cannot patch a chart from a Helm repository, so `argocd` takes none).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components._patches import PatchTransform
from components._values import static_values, with_computed
from foundation.charts import ChartPin, chart_pin
from foundation.config.extra import Patch

Delivery = Literal["argocd", "helm"]


@dataclass(frozen=True)
class ArgoCDTarget:
    """Where Argo CD Applications live, and what they may touch."""

    namespace: pulumi.Input[str]
    """Namespace Argo CD runs in; Applications are created there."""
    project: pulumi.Input[str] = "default"
    """AppProject the Application belongs to (a domain's own project)."""
    destination_server: str = "https://kubernetes.default.svc"
    """API server Argo CD deploys to (the cluster it runs in by default)."""


@dataclass(frozen=True)
class SyncSettings:
    """Advanced Argo CD sync settings; the defaults suit every built-in app."""

    prune: bool = True
    """Delete objects that left the chart."""
    self_heal: bool = True
    """Revert drift made outside Git/Pulumi."""
    retry_limit: int = 5
    """Sync attempts before giving up."""
    backoff: tuple[str, int, str] = ("10s", 2, "5m")
    """Retry backoff: first duration, factor, ceiling."""
    sync_wave: int | None = None
    """`argocd.argoproj.io/sync-wave` of the Application (ordering under an app of apps)."""


@dataclass(frozen=True)
class HelmAppArgs:
    """Inputs of HelmApp."""

    app: str
    """App key: the folder under charts-values/ and, unless `chart` is given, the lock entry."""
    namespace: pulumi.Input[str]
    """Namespace the chart's objects go into."""
    profile: str
    """Profile whose values file is layered in (dev or prod)."""
    delivery: Delivery
    """`argocd` (an Application) or `helm` (a Pulumi Release)."""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """Values from the stack file."""
    computed: pulumi.Input[Mapping[str, Any]] | None = None
    """Values computed in code, applied last; may hold Outputs, never secrets."""
    chart: ChartPin | None = None
    """Chart pin; default: the `app` entry of charts.lock.yaml."""
    release_name: str | None = None
    """Helm release name; default: `app`."""
    argocd: ArgoCDTarget | None = None
    """Required for `argocd` delivery."""
    sync: SyncSettings = field(default_factory=SyncSettings)
    """Advanced sync settings (`argocd` delivery)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels for the Application / release metadata."""
    patches: Sequence[Patch] = ()
    """Changes to rendered objects (`helm` delivery only); one matching nothing fails."""

    @cached_property
    def static_values(self) -> dict[str, Any]:
        """The layers known before deployment: charts-values/<app>/values.yaml, the profile
        file, the stack's overrides. Apps read their settings here (replicas, pgbouncer)."""
        return static_values(self.app, self.profile, self.overrides)

    def with_computed(self, computed: pulumi.Input[Mapping[str, Any]]) -> HelmAppArgs:
        """These args with the values computed in code, layered once: the static layers
        already merged are carried over, not merged again."""
        out = dataclasses.replace(self, computed=computed)
        out.__dict__["static_values"] = self.static_values
        return out


class HelmApp(pulumi.ComponentResource):
    """A pinned chart with layered values, delivered by Argo CD or by Pulumi's Helm."""

    values: pulumi.Output[dict[str, Any]]
    chart_version: pulumi.Output[str]
    release_name: pulumi.Output[str]
    namespace: pulumi.Output[str]

    def __init__(self, name: str, args: HelmAppArgs,
                 opts: pulumi.ResourceOptions | None = None):
        if args.delivery == "argocd" and args.argocd is None:
            raise ValueError(f"HelmApp {name}: delivery 'argocd' needs an ArgoCDTarget")
        if args.delivery not in ("argocd", "helm"):
            raise ValueError(f"HelmApp {name}: unknown delivery '{args.delivery}'")
        if args.patches and (args.delivery != "helm" or not isinstance(args.namespace, str)):
            raise ValueError(f"HelmApp {name}: patches need delivery 'helm' and a known "
                             "namespace (Argo CD has no Helm post-renderer)")
        # Declared patches are inputs of the component, so a plan shows them.
        declared = {"patches": [p.model_dump(by_alias=True, exclude_none=True)
                                for p in args.patches]} if args.patches else None
        super().__init__("dataplatform:apps:HelmApp", name, declared, opts)
        chart = args.chart or chart_pin(args.app)
        release = args.release_name or args.app
        values = with_computed(args.static_values, args.computed)
        # A component's dependencies do not hold back its children: pass them on, so the
        # release waits for what the app needs (its database, Secrets, identity).
        child = pulumi.ResourceOptions(parent=self, depends_on=opts.depends_on if opts else None)
        if args.delivery == "argocd":
            assert args.argocd is not None  # checked above: 'argocd' needs an ArgoCDTarget
            self._application(name, args, args.argocd, chart, release, values, child)
        elif args.patches:
            self._patched_chart(name, args, chart, release, values, child)
        else:
            oci = chart.repo.startswith("oci://")  # an OCI chart is its full reference
            k8s.helm.v3.Release(
                f"{name}-release",
                k8s.helm.v3.ReleaseArgs(
                    name=release,
                    chart=f"{chart.repo.rstrip('/')}/{chart.name}" if oci else chart.name,
                    version=chart.version,
                    repository_opts=None if oci else k8s.helm.v3.RepositoryOptsArgs(
                        repo=chart.repo),
                    namespace=args.namespace,
                    values=values,
                    atomic=True,
                    cleanup_on_fail=True,
                    max_history=10,
                    timeout=900,
                ),
                opts=child,
            )
        self.values = values
        self.chart_version = pulumi.Output.from_input(chart.version)
        self.release_name = pulumi.Output.from_input(release)
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.register_outputs({
            "values": self.values,
            "chart_version": self.chart_version,
            "release_name": self.release_name,
            "namespace": self.namespace,
        })

    def _patched_chart(self, name: str, args: HelmAppArgs, chart: ChartPin, release: str,
                       values: pulumi.Output[dict[str, Any]],
                       opts: pulumi.ResourceOptions) -> None:
        transform = PatchTransform(release, args.patches, str(args.namespace))
        rendered = k8s.helm.v4.Chart(
            f"{name}-chart",
            k8s.helm.v4.ChartArgs(
                name=release,
                chart=chart.name,
                version=chart.version,
                repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=chart.repo),
                namespace=args.namespace,
                values=values,
            ),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                transforms=[transform])),
        )
        # `resources` resolves once every object was rendered and passed the transform.
        rendered.resources.apply(transform.check)

    @staticmethod
    def _application(name: str, args: HelmAppArgs, target: ArgoCDTarget, chart: ChartPin,
                     release: str, values: pulumi.Output[dict[str, Any]],
                     opts: pulumi.ResourceOptions):
        sync = args.sync
        annotations = {} if sync.sync_wave is None else {
            "argocd.argoproj.io/sync-wave": str(sync.sync_wave)}
        first, factor, ceiling = sync.backoff
        k8s.apiextensions.CustomResource(
            f"{name}-application",
            api_version="argoproj.io/v1alpha1",
            kind="Application",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=pulumi.Output.concat(args.namespace, "-", release),
                namespace=target.namespace,
                labels=dict(args.labels),
                annotations=annotations,
                # Without the finalizer, deleting the Application would orphan the app.
                finalizers=["resources-finalizer.argocd.argoproj.io"],
            ),
            spec={
                "project": target.project,
                "source": {
                    "repoURL": chart.repo,
                    "chart": chart.name,
                    "targetRevision": chart.version,
                    "helm": {"releaseName": release, "valuesObject": values},
                },
                "destination": {"server": target.destination_server,
                                "namespace": args.namespace},
                "syncPolicy": {
                    "automated": {"prune": sync.prune, "selfHeal": sync.self_heal},
                    "retry": {"limit": sync.retry_limit, "backoff": {
                        "duration": first, "factor": factor, "maxDuration": ceiling}},
                    "syncOptions": ["ServerSideApply=true", "CreateNamespace=false"],
                },
            },
            opts=opts,
        )


def helm_child_opts(parent: pulumi.Resource, parent_name: str,
                    depends_on: Sequence[pulumi.Input[pulumi.Resource]]) -> pulumi.ResourceOptions:
    """Options of an app's HelmApp, named `f"{parent_name}-helm"`.

    Until 0.2 it had its parent's own name; the alias moves a deployed app's HelmApp in
    place, and Pulumi derives its children's aliases from it (their names start with it).
    """
    return pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on),
                                  aliases=[pulumi.Alias(name=parent_name)])
