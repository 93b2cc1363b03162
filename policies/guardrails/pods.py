"""Pods do not reach into their node: no privileged or escalating containers, no added
capabilities beyond a short allowed list, no host namespaces, no host ports, no Windows
host processes, no unmasked /proc.

It covers every kind of `kubernetes.POD_SPEC`, the objects a chart renders included.
`allowPrivilegeEscalation` is flagged only when a container sets it to true: unset, the
namespace's Pod Security level decides (restricted refuses it), and charts rarely set it.
A privileged container is reported as such, not also as escalating. Node agents that need
the host (a node exporter, a CSI driver) are listed in `exempt` by the platform team.
"""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase

from pulumi_policy import Severity

from guardrails._base import (
    EXEMPT_PATTERNS,
    flag,
    get,
    integer,
    items,
    k8s_label,
    known,
    resource_policy,
    string_list,
)
from guardrails.kubernetes import POD_SPEC, containers, pod_spec

HOST_NAMESPACES = {
    "hostNetwork": "the node's network namespace",
    "hostPID": "the node's process namespace",
    "hostIPC": "the node's IPC namespace",
}


def exempt(r, patterns) -> bool:
    """Whether `r` matches a pattern of `exempt`: its metadata.name, namespace/name, or its
    Pulumi name, as shell-style wildcards (`*node-exporter*`, `monitoring/*`)."""
    name, ns = known(r.props, "metadata.name"), known(r.props, "metadata.namespace")
    names = {r.name, *([name] if name else []), *([f"{ns}/{name}"] if name and ns else [])}
    return any(fnmatchcase(n, str(p)) for n in names for p in patterns)


def capability(value) -> str:
    """A capability's name as Kubernetes compares it: upper case, no CAP_ prefix."""
    name = str(value).strip().upper()
    return name[4:] if name.startswith("CAP_") else name


def container_problems(c, allowed: set[str]) -> Iterator[str]:
    """What lets container `c` reach into its node, each with its fix."""
    sc = get(c, "securityContext") or {}
    if flag(get(sc, "privileged")):
        yield ("is privileged (securityContext.privileged: true): remove privileged and add "
               "only the capabilities it needs")
    elif flag(get(sc, "allowPrivilegeEscalation")):
        yield ("allows privilege escalation: set securityContext.allowPrivilegeEscalation: "
               "false")
    if flag(get(sc, "windowsOptions.hostProcess")):
        yield ("is a Windows host process (securityContext.windowsOptions.hostProcess: "
               "true), with the node's full access: remove hostProcess")
    if str(get(sc, "procMount") or "").strip().lower() == "unmasked":
        yield ("mounts /proc unmasked (securityContext.procMount: Unmasked): remove procMount "
               "(Default masks the node's kernel files)")
    add = get(sc, "capabilities.add")
    add = [add] if isinstance(add, str) else items(add)  # a lone string still adds it
    added = sorted({capability(a) for a in add} - allowed)
    if added:
        yield (f"adds capabilities {', '.join(added)}: remove them from "
               "securityContext.capabilities.add (allowed: "
               f"{', '.join(sorted(allowed)) or 'none'})")
    for p in items(get(c, "ports")):
        host_port = integer(get(p, "hostPort"))
        if host_port:
            port = integer(get(p, "containerPort")) or "?"
            yield (f"binds hostPort {host_port} on its node: remove hostPort and use a "
                   f"Service (or the ingress controller) to reach port {port}")


def check_privileged(args, cfg) -> Iterator[str]:
    if exempt(args, cfg["exempt"]):
        return
    what = k8s_label(args)
    spec = pod_spec(args)
    for field, namespace in HOST_NAMESPACES.items():
        if flag(get(spec, field)):
            yield (f"{what} shares {namespace} ({field}: true): remove {field} from the pod "
                   "spec (or list the object in this policy's exempt)")
    if flag(get(spec, "securityContext.windowsOptions.hostProcess")):
        yield (f"{what} runs as Windows host processes (securityContext.windowsOptions."
               "hostProcess: true): remove hostProcess (or list the object in exempt)")
    allowed = {capability(a) for a in cfg["allowedCapabilities"]}
    for where, c in containers(spec):
        for problem in container_problems(c, allowed):
            yield f"{what}: {where} {problem}"


POLICIES = [
    resource_policy(
        "k8s-no-privileged",
        "Containers are not privileged, do not escalate, add no capabilities beyond the "
        "allowed ones, and use no host namespaces or host ports.",
        POD_SPEC, check_privileged, severity=Severity.CRITICAL,
        config={
            "allowedCapabilities": string_list(
                ["NET_BIND_SERVICE"], "Capabilities a container may add (with or without CAP_)."),
            "exempt": string_list([], f"Objects not checked (node agents): {EXEMPT_PATTERNS}.")},
        fix="Remove privileged, allowPrivilegeEscalation, added capabilities, host "
            "namespaces and hostPorts; set allowPrivilegeEscalation: false."),
]
