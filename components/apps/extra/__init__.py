"""Extra apps (`apps.extra`): any pinned chart, through the built-in apps' one path.

An extra app is a HelmApp made with the domain's AppContext like every built-in app:
values from `charts-values/<name>/` (when the folder exists), then the stack's `values`;
the stack's delivery (an Argo CD Application in the domain's AppProject, or a Pulumi
Helm release); the domain namespace or one of its extra namespaces, so its quota,
LimitRange and NetworkPolicies apply. There is no computed wiring: an extra app gets no
bucket, database or identity of its own (reference Secrets by name in its values).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import pulumi

from components.apps.context import AppContext
from components.helm_app import HelmApp, helm_child_opts
from foundation.charts import ChartPin
from foundation.config.extra import ExtraApp as ExtraAppSpec


class ExtraApp(pulumi.ComponentResource):
    """One extra app of a domain."""

    chart_version: pulumi.Output[str]
    namespace: pulumi.Output[str]
    values: pulumi.Output[dict]

    def __init__(self, name: str, ctx: AppContext, app: ExtraAppSpec,
                 depends_on: list[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:apps:ExtraApp", name, None, opts)
        namespace = (ctx.site.naming.namespace(app.namespace) if app.namespace
                     else ctx.namespace)
        args = dataclasses.replace(
            ctx.helm_args(app.name, sync_wave=app.sync_wave, overrides=app.values,
                          chart=ChartPin(app.chart, app.repo, app.version),
                          patches=tuple(app.patches)),
            namespace=namespace)
        helm = HelmApp(f"{name}-helm", args,
                       opts=helm_child_opts(self, name, [*ctx.depends_on, *depends_on]))
        self.chart_version = helm.chart_version
        self.namespace = helm.namespace
        self.values = helm.values
        self.register_outputs({"chart_version": self.chart_version,
                               "namespace": self.namespace, "values": self.values})


def build_extra_apps(name: str, apps: Sequence[ExtraAppSpec], ctx: AppContext,
                     built: Mapping[str, pulumi.Resource]) -> dict[str, ExtraApp]:
    """The domain's extra apps, each after the apps it names in `dependsOn`.

    `built` holds the built-in app components already created; config rules guarantee
    every name in `dependsOn` is one of them or another extra app, without cycles.
    """
    done: dict[str, pulumi.Resource] = dict(built)
    out: dict[str, ExtraApp] = {}
    for app in apps:  # in dependency order (the resolve step sorts them)
        component = ExtraApp(f"{name}-{app.name}", ctx, app,
                             [done[d] for d in app.depends_on], opts=ctx.opts)
        done[app.name] = out[app.name] = component
    return out
