"""Pod Security admission, as the API server enforces it on a namespace labelled
`pod-security.kubernetes.io/enforce`: the checks of the `baseline` and `restricted`
levels that a rendered pod template can fail (Kubernetes' Pod Security Standards)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

POD_PATHS = {  # where each workload kind keeps its pod spec
    "Deployment": ("spec", "template", "spec"), "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"), "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"), "Pod": ("spec",),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
ENFORCE = "pod-security.kubernetes.io/enforce"
BASELINE_CAPS = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                 "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}


def pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    path = POD_PATHS.get(str(obj.get("kind")))
    if path is None:
        return None
    spec: Any = obj
    for part in path:
        spec = (spec or {}).get(part)
    return spec or {}


def violations(spec: Mapping[str, Any], level: str) -> Iterator[str]:
    """Why `spec` would be refused at `level` (baseline or restricted)."""
    if level not in ("baseline", "restricted"):
        return
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            yield f"{field} is set"
    for v in spec.get("volumes") or []:
        if "hostPath" in v:
            yield f"volume {v.get('name')} is a hostPath"
    pod_sc = spec.get("securityContext") or {}
    for kind in ("initContainers", "containers", "ephemeralContainers"):
        for c in spec.get(kind) or []:
            where = f"{kind[:-1]} {c.get('name')}"
            sc = c.get("securityContext") or {}
            caps = sc.get("capabilities") or {}
            if sc.get("privileged"):
                yield f"{where} is privileged"
            if any(p.get("hostPort") for p in c.get("ports") or []):
                yield f"{where} uses a hostPort"
            added = set(caps.get("add") or [])
            allowed = {"NET_BIND_SERVICE"} if level == "restricted" else BASELINE_CAPS
            if added - allowed:
                yield f"{where} adds capabilities {sorted(added - allowed)}"
            if level != "restricted":
                continue
            if sc.get("allowPrivilegeEscalation") is not False:
                yield f"{where} does not set allowPrivilegeEscalation=false"
            if "ALL" not in (caps.get("drop") or []):
                yield f"{where} does not drop ALL capabilities"
            if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
                yield f"{where} does not set runAsNonRoot=true"
            if 0 in (sc.get("runAsUser"), pod_sc.get("runAsUser")):
                yield f"{where} runs as uid 0"
            seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {})
            if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
                yield f"{where} has no RuntimeDefault or Localhost seccomp profile"


def namespace_levels(objects: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The enforced level of each namespace the program creates."""
    return {str(o["metadata"]["name"]): str(o["metadata"]["labels"][ENFORCE])
            for o in objects if o.get("kind") == "Namespace"
            and ENFORCE in ((o.get("metadata") or {}).get("labels") or {})}
