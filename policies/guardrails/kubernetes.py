"""Kubernetes objects: pinned images, sized containers, non-root pods, internal load
balancers, no host paths.

Pod specs are found in every workload kind, at the path the kind keeps its template
(`POD_SPEC`). Objects a Pulumi program creates arrive with their inputs; objects rendered
by a Helm chart (a Release or an Argo CD Application, their parent) arrive the same way
from the offline plan: the type token of their kind (`kubernetes:apps/v1:Deployment`,
`kubernetes:core/v1:Pod`) and the whole object as inputs. `apps.py` governs the charts
themselves. Values are read as a rendered template may carry them: booleans also as
"true", numbers also as doubles or strings ("0").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pulumi_policy import Severity

from guardrails._base import flag, get, integer, items, label, resource_policy

POD_SPEC = {
    "kubernetes:core/v1:Pod": "spec",
    "kubernetes:apps/v1:Deployment": "spec.template.spec",
    "kubernetes:apps/v1:StatefulSet": "spec.template.spec",
    "kubernetes:apps/v1:DaemonSet": "spec.template.spec",
    "kubernetes:apps/v1:ReplicaSet": "spec.template.spec",
    "kubernetes:batch/v1:Job": "spec.template.spec",
    "kubernetes:batch/v1:CronJob": "spec.jobTemplate.spec.template.spec",
    "kubernetes:batch/v1beta1:CronJob": "spec.jobTemplate.spec.template.spec",
    "kubernetes:core/v1:ReplicationController": "spec.template.spec",
    "kubernetes:core/v1:PodTemplate": "template.spec",
}
SERVICE = "kubernetes:core/v1:Service"
PERSISTENT_VOLUME = "kubernetes:core/v1:PersistentVolume"
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
    """Why `image` is not pinned, or None when it has a version tag or a digest."""
    if not image:
        return "has no image"
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"uses '{image}' without a tag (that is ':latest')"
    if last.rsplit(":", 1)[1] == "latest":
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


def check_host_path(args, cfg) -> Iterator[str]:
    if args.resource_type == PERSISTENT_VOLUME:
        if get(args.props, "spec.hostPath"):
            yield (f"{label(args)} is a hostPath volume on a node's disk: use a "
                   "StorageClass-provisioned volume instead")
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
        (SERVICE,), check_load_balancer, severity=Severity.HIGH,
        fix="Annotate the Service as an internal load balancer, or use an Ingress."),
    resource_policy(
        "k8s-no-host-path",
        "Pods do not mount the node's filesystem (hostPath).",
        (*POD_SPEC, PERSISTENT_VOLUME), check_host_path, severity=Severity.HIGH,
        fix="Replace hostPath volumes with PersistentVolumeClaims or emptyDir."),
]
