"""Kubernetes objects: pinned images, sized containers, non-root pods, internal load
balancers, no host paths.

Pod specs are found in every kind that carries a pod template, in every API version and
as its `*Patch` type, at the path the kind keeps its template (`POD_SPEC`, derived from
`POD_TEMPLATE_KINDS`: the one list every pod rule uses). Objects a Pulumi program creates
arrive with their inputs; objects rendered by a Helm chart (a Release or an Argo CD
Application, their parent) arrive the same way from the offline plan: the type token of
their kind (`kubernetes:apps/v1:Deployment`, `kubernetes:core/v1:Pod`) and the whole
object as inputs. `apps.py` governs the charts
themselves. Values are read as a rendered template may carry them: booleans also as
"true", numbers also as doubles or strings ("0").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from pulumi_policy import Severity

from guardrails._base import flag, get, integer, items, label, resource_policy

TEMPLATE = "spec.template.spec"
CRONJOB = "spec.jobTemplate.spec.template.spec"
POD_TEMPLATE_KINDS = {  # kind -> (API versions, where its pod spec sits)
    "Pod": (("core/v1",), "spec"),
    "PodTemplate": (("core/v1",), "template.spec"),
    "ReplicationController": (("core/v1",), TEMPLATE),
    "Deployment": (("apps/v1", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"), TEMPLATE),
    "StatefulSet": (("apps/v1", "apps/v1beta1", "apps/v1beta2"), TEMPLATE),
    "DaemonSet": (("apps/v1", "apps/v1beta2", "extensions/v1beta1"), TEMPLATE),
    "ReplicaSet": (("apps/v1", "apps/v1beta2", "extensions/v1beta1"), TEMPLATE),
    "Job": (("batch/v1",), TEMPLATE),
    "CronJob": (("batch/v1", "batch/v1beta1", "batch/v2alpha1"), CRONJOB),
}
"""Every Kubernetes kind that carries a pod template, in every API version the Kubernetes
provider has it (a test checks this against the provider SDK), and its pod spec's path."""


def _with_patches(kinds: dict[str, tuple[tuple[str, ...], str]]) -> dict[str, str]:
    """Type token -> pod spec path, for each kind and API version and its `*Patch` type
    (server-side apply patches carry the same fields, any of them possibly absent)."""
    out = {}
    for kind, (versions, path) in kinds.items():
        for version in versions:
            for suffix in ("", "Patch"):
                out[f"kubernetes:{version}:{kind}{suffix}"] = path
    return out


POD_SPEC = _with_patches(POD_TEMPLATE_KINDS)
"""Type token -> where its pod spec sits: the one list every pod rule uses."""
SERVICE = "kubernetes:core/v1:Service"
PERSISTENT_VOLUMES = ("kubernetes:core/v1:PersistentVolume",
                      "kubernetes:core/v1:PersistentVolumePatch")
DIGEST = re.compile(r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")
"""An image digest as OCI defines the registered algorithms: lower-case hex of full length."""
INTERNAL_LB = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true",),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("internal",),
    "cloud.google.com/load-balancer-type": ("internal",),
}


def pod_spec(args) -> Mapping:
    return get(args.props, POD_SPEC[args.resource_type]) or {}


def containers(spec: Mapping, *, ephemeral: bool = True) -> Iterator[tuple[str, Mapping]]:
    """(`kind 'name'`, container) for the containers, init containers (and ephemeral ones)."""
    kinds = ("containers", "initContainers") + (("ephemeralContainers",) if ephemeral else ())
    for kind in kinds:
        for c in items(get(spec, kind)):
            yield f"{kind[:-1]} '{get(c, 'name', '?')}'", c


def image_problem(image: str) -> str | None:
    """Why `image` is not pinned, or None when it has a version tag or a well-formed digest
    (`@sha256:` and 64 lower-case hex digits; a malformed digest pins nothing)."""
    if not image:
        return "has no image"
    if "@" in image:
        digest = image.rsplit("@", 1)[1]
        if DIGEST.match(digest):
            return None
        return (f"uses '{image}', whose digest '{digest}' is not @sha256: and 64 hex "
                "digits (the runtime refuses it, or it names no fixed image)")
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"uses '{image}' without a tag (that is ':latest')"
    tag = last.rsplit(":", 1)[1].strip()
    if not tag:
        return f"uses '{image}', whose tag is empty (that is ':latest')"
    if tag.lower() == "latest":
        return f"uses '{image}' (':latest' moves)"
    return None


def check_images(args, cfg) -> Iterator[str]:
    for where, c in containers(pod_spec(args)):
        problem = image_problem(str(get(c, "image") or ""))
        if problem:
            yield (f"{label(args)}: {where} {problem}; pin a version tag (e.g. postgres:16.6) "
                   "or a digest (@sha256:...)")


def check_resources(args, cfg) -> Iterator[str]:
    for where, c in containers(pod_spec(args), ephemeral=False):
        missing = [f"{kind}.{r}" for kind, wanted in (("requests", cfg["requests"]),
                                                      ("limits", cfg["limits"]))
                   for r in wanted if get(get(c, "resources") or {}, f"{kind}.{r}") in (None, "")]
        if missing:
            yield (f"{label(args)}: {where} sets no {', '.join(missing)}: set "
                   "resources.requests and resources.limits so the scheduler and the "
                   "namespace quota can account for it")


def check_non_root(args, cfg) -> Iterator[str]:
    spec = pod_spec(args)
    pod_sc = get(spec, "securityContext") or {}
    for where, c in containers(spec):
        sc = get(c, "securityContext") or {}
        non_root = get(sc, "runAsNonRoot")
        non_root = flag(get(pod_sc, "runAsNonRoot") if non_root is None else non_root)
        uid = integer(get(sc, "runAsUser"))
        uid = integer(get(pod_sc, "runAsUser")) if uid is None else uid
        if not non_root or uid == 0:
            yield (f"{label(args)}: {where} may run as root: set securityContext "
                   "runAsNonRoot=True (on the pod or the container) with a non-zero runAsUser")


def check_load_balancer(args, cfg) -> Iterator[str]:
    if get(args.props, "spec.type") != "LoadBalancer":
        return
    annotations = get(args.props, "metadata.annotations") or {}
    if not any(str(annotations.get(k, "")).lower() in v for k, v in INTERNAL_LB.items()):
        yield (f"{label(args)} is an internet-facing LoadBalancer: annotate it "
               "service.beta.kubernetes.io/aws-load-balancer-scheme: internal (EKS) or "
               "networking.gke.io/load-balancer-type: Internal (GKE), or expose it through "
               "the ingress controller")


LOCAL_VOLUMES = {"hostPath": "a hostPath volume on a node's disk",
                 "local": "a local volume, bound to one node's disk"}


def check_host_path(args, cfg) -> Iterator[str]:
    if args.resource_type in PERSISTENT_VOLUMES:
        for field, what in LOCAL_VOLUMES.items():
            if get(args.props, f"spec.{field}"):
                yield (f"{label(args)} is {what} (spec.{field}): use a "
                       "StorageClass-provisioned volume instead (the data dies with the node)")
        return
    for v in items(get(pod_spec(args), "volumes")):
        if get(v, "hostPath"):
            yield (f"{label(args)}: volume '{get(v, 'name', '?')}' mounts the node's "
                   f"{get(v, 'hostPath.path', 'filesystem')} (hostPath): use a "
                   "PersistentVolumeClaim, emptyDir, ConfigMap or Secret instead")


_strings = {"type": "array", "items": {"type": "string", "enum": ["cpu", "memory"]}}

POLICIES = [
    resource_policy(
        "k8s-image-pinned",
        "Containers run pinned images, never ':latest' or untagged.",
        POD_SPEC, check_images, severity=Severity.HIGH,
        fix="Give every image a version tag or a digest."),
    resource_policy(
        "k8s-resources-set",
        "Every container states its resource requests and limits.",
        POD_SPEC, check_resources, severity=Severity.MEDIUM,
        config={"requests": {**_strings, "default": ["cpu", "memory"],
                             "description": "Resources every container must request."},
                "limits": {**_strings, "default": ["cpu", "memory"],
                           "description": "Resources every container must limit."}},
        fix="Set resources.requests and resources.limits on every container."),
    resource_policy(
        "k8s-run-as-non-root",
        "Pods run as a non-root user.",
        POD_SPEC, check_non_root, severity=Severity.HIGH,
        fix="Set securityContext.runAsNonRoot=True and a non-zero runAsUser."),
    resource_policy(
        "k8s-internal-load-balancer",
        "LoadBalancer Services are internal unless exposed through the ingress controller.",
        (SERVICE, f"{SERVICE}Patch"), check_load_balancer, severity=Severity.HIGH,
        fix="Annotate the Service as an internal load balancer, or use an Ingress."),
    resource_policy(
        "k8s-no-host-path",
        "Pods do not mount the node's filesystem (hostPath); no hostPath or local "
        "PersistentVolumes.",
        (*POD_SPEC, *PERSISTENT_VOLUMES), check_host_path, severity=Severity.HIGH,
        fix="Replace hostPath volumes with PersistentVolumeClaims or emptyDir, and hostPath "
            "or local PersistentVolumes with StorageClass-provisioned ones."),
]
