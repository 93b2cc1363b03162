"""Stack-wide, prod only: Kubernetes volumes outlive a mistaken delete.

- A PersistentVolumeClaim the program creates is protected and retained on delete, as
  the stack's other data is (see `stack.py` for `__retainOnDelete`). One a chart renders
  (its parent is a Helm Release or Chart, or an Argo CD Application) cannot carry Pulumi
  options: it needs the annotation `helm.sh/resource-policy: keep` (Helm leaves it on
  uninstall) or `argocd.argoproj.io/sync-options: Delete=false` (Argo CD leaves it on
  prune and delete).
- A StatefulSet's `volumeClaimTemplates` survive the StatefulSet unless
  `persistentVolumeClaimRetentionPolicy.whenDeleted` is `Delete`: that is allowed only on
  a protected StatefulSet. A `*Patch` that sets `Delete` is judged the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pulumi_policy import PolicyResource, Severity

from guardrails._base import KEEP_FIX, get, items, k8s_label, known, protection_gaps, stack_policy

PVCS = ("kubernetes:core/v1:PersistentVolumeClaim",)
STATEFUL_SETS = tuple(f"kubernetes:{v}:StatefulSet{p}" for v in
                      ("apps/v1", "apps/v1beta1", "apps/v1beta2") for p in ("", "Patch"))
CHART_PARENTS = ("Release", "Chart", "Application")
KEEP = {"helm.sh/resource-policy": "keep", "argocd.argoproj.io/sync-options": "delete=false"}


def rendered(r: PolicyResource) -> bool:
    """Whether a chart (Helm Release or Chart, Argo CD Application) made `r`."""
    parent = r.opts.parent or ""
    if parent.count("::") < 3:
        return False
    kind = parent.rsplit("::", 2)[1].rsplit("$", 1)[-1].rsplit(":", 1)[-1]
    return kind in CHART_PARENTS


def kept_by_annotation(r: PolicyResource) -> bool:
    annotations = known(r.props, "metadata.annotations") or {}
    return any(want in [v.strip().lower() for v in str(annotations.get(k, "")).split(",")]
               for k, want in KEEP.items())


def check_volumes(resources: Sequence[PolicyResource], cfg) -> Iterator[tuple[str, str]]:
    for r in resources:
        if r.resource_type in PVCS:
            if rendered(r):
                if not kept_by_annotation(r):
                    yield r.urn, (f"{k8s_label(r)} holds data but its chart would delete it: "
                                  "annotate it helm.sh/resource-policy: keep (or "
                                  "argocd.argoproj.io/sync-options: Delete=false)")
                continue
            if missing := protection_gaps(r):
                yield r.urn, (f"{k8s_label(r)} holds data but lacks "
                              f"{' and '.join(missing)}: {KEEP_FIX}")
        elif r.resource_type in STATEFUL_SETS:
            policy = get(r.props, "spec.persistentVolumeClaimRetentionPolicy") or {}
            deleted = str(get(policy, "whenDeleted") or "Retain").strip()
            templates = items(get(r.props, "spec.volumeClaimTemplates"))
            if deleted.lower() == "delete" and not r.opts.protect:
                names = ", ".join(str(get(t, "metadata.name", "?")) for t in templates)
                yield r.urn, (f"{k8s_label(r)} deletes its volumes ({names or 'its claims'}) "
                              "with it (persistentVolumeClaimRetentionPolicy.whenDeleted: "
                              "Delete): set whenDeleted: Retain (the default), or protect "
                              "the StatefulSet")


POLICIES = [
    stack_policy(
        "prod-volumes-retained",
        "In prod, PersistentVolumeClaims are protected (or kept by their chart) and "
        "StatefulSets do not delete their volume claims with them.",
        check_volumes, prod_only=True, severity=Severity.HIGH,
        fix="Create PVCs with protect=True and retain_on_delete=True (charts: annotate "
            "helm.sh/resource-policy: keep); keep StatefulSets' "
            "persistentVolumeClaimRetentionPolicy.whenDeleted at Retain."),
]
