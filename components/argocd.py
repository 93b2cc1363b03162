"""ArgoCD: the GitOps engine of a cluster, installed as a pinned Helm release.

Behind the front door it serves plain HTTP to the Gateway (TLS ends there) at its public
URL; with an OIDC issuer, people sign in through it and the issuer's groups map to roles
(components/frontdoor/sso.py); the client secret is read from Secret `argocd-oidc`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.frontdoor.args import SignOn
from components.frontdoor.sso import ARGOCD_SECRET_LABELS, argocd_values, oidc_secret
from components.helm_app import HelmApp, HelmAppArgs

APP = "argo-cd"
OIDC_SECRET = "argocd-oidc"


@dataclass(frozen=True)
class ArgoCDArgs:
    """Inputs of ArgoCD."""

    profile: str
    """Profile whose values file is layered in (dev: single replicas; prod: HA)."""
    namespace: str = "argocd"
    """Namespace Argo CD runs in; Applications and AppProjects live there too."""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """Values from the stack file (`apps.argocd.values`)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels for the namespace."""
    sign_on: SignOn | None = None
    """Public URL and OIDC when the front door routes Argo CD; None: in-cluster only."""


class ArgoCD(pulumi.ComponentResource):
    """Argo CD itself. It cannot deliver itself, so it is always a Helm release."""

    namespace: pulumi.Output[str]
    release: HelmApp

    def __init__(self, name: str, args: ArgoCDArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("dataplatform:gitops:ArgoCD", name, None, opts)
        ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": args.namespace, "labels": {
                **args.labels, "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/warn": "restricted"}},
            opts=pulumi.ResourceOptions(parent=self))
        deps: list[pulumi.Resource] = [ns]
        computed = None
        if args.sign_on is not None:
            computed = argocd_values(args.sign_on, OIDC_SECRET)
            if args.sign_on.oidc is not None:
                deps.append(oidc_secret(
                    f"{name}-oidc-secret", ns.metadata["name"], OIDC_SECRET,
                    args.sign_on.oidc, {**args.labels, **ARGOCD_SECRET_LABELS},
                    pulumi.ResourceOptions(parent=self, depends_on=[ns])))
        self.release = HelmApp(
            f"{name}-chart",
            HelmAppArgs(app=APP, namespace=ns.metadata["name"], profile=args.profile,
                        delivery="helm", overrides=args.overrides, release_name="argocd",
                        computed=computed),
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps))
        self.namespace = ns.metadata["name"]
        self.register_outputs({"namespace": self.namespace})
