"""What the API server would refuse: the Kubernetes OpenAPI schema of the cluster's
version (the strict JSON schemas the `kubernetes-validate` package ships), and the
CRDs the platform installs (their `openAPIV3Schema`, unknown fields refused as a
`kubectl apply --validate=strict` would)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from referencing import Registry, Resource

Obj = Mapping[str, Any]
OPAQUE = ("[secret]", "[unknown]")


def _is_builtin(api_version: str) -> bool:
    group = api_version.rpartition("/")[0]
    # Gateway API is `*.k8s.io` but ships as CRDs (Envoy Gateway's chart installs them).
    return "." not in group or (group.endswith(".k8s.io") and group not in CRD_K8S_GROUPS)


CRD_K8S_GROUPS = frozenset({"gateway.networking.k8s.io"})


@cache
def _schema_dir(kube_version: str) -> Any:
    root = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    wanted = tuple(int(x) for x in kube_version.split(".")[:2])
    versions = sorted(
        (tuple(int(x) for x in m.group(1).split(".")[:2]), p.name)
        for p in root.iterdir() if (m := re.match(r"v(\d+\.\d+)\.\d+-local-strict$", p.name)))
    fitting = [name for v, name in versions if v <= wanted]
    if not fitting:
        raise ValueError(f"no Kubernetes schema for version {kube_version}")
    return root / fitting[-1]


@cache
def _registry(kube_version: str) -> Registry:
    defs = json.loads((_schema_dir(kube_version) / "_definitions.json").read_text())
    return Resource.from_contents(defs) @ Registry()


@cache
def _builtin_validator(kube_version: str, kind: str, api_version: str):
    name = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = _schema_dir(kube_version) / f"{kind.lower()}-{name}.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    return jsonschema.Draft202012Validator(schema, registry=_registry(kube_version))


def _strict(schema: Any) -> Any:
    """A CRD schema with unknown fields refused where the CRD does not keep them."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    if out.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    return out


_ERRORS: dict[tuple[str, tuple[tuple[str, str], ...], str], list[str]] = {}


class Validator:
    """Validates objects for one cluster version and one set of installed CRDs."""

    def __init__(self, kube_version: str, crds: Iterable[Obj] = ()):
        self.kube_version = kube_version
        self.crd_schemas: dict[tuple[str, str], Any] = {}
        self.crd_scope: dict[tuple[str, str], str] = {}
        for crd in crds:
            spec = crd.get("spec", {})
            kind = spec.get("names", {}).get("kind")
            for version in spec.get("versions", []):
                key = (f"{spec.get('group')}/{version.get('name')}", kind)
                schema = version.get("schema", {}).get("openAPIV3Schema", {})
                self.crd_schemas[key] = jsonschema.Draft7Validator(_strict(schema))
                self.crd_scope[key] = spec.get("scope", "Namespaced")

    @property
    def api_versions(self) -> list[str]:
        """The CRD API versions, for `helm template --api-versions`."""
        return sorted({f"{gv}/{kind}" for gv, kind in self.crd_schemas} |
                      {gv for gv, _ in self.crd_schemas})

    def errors(self, obj: Obj) -> list[str]:
        """Why the API server would refuse `obj` (empty when it would take it)."""
        # The same object, version and CRDs give the same answer: judged once per process.
        key = (self.kube_version, tuple(sorted(self.crd_schemas)),
               json.dumps(obj, sort_keys=True, default=str))
        if key not in _ERRORS:
            _ERRORS[key] = self._errors(obj)
        return list(_ERRORS[key])

    def _errors(self, obj: Obj) -> list[str]:
        api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
        if not api_version or not kind:
            return ["no apiVersion or kind"]
        if _is_builtin(api_version):
            validator = _builtin_validator(self.kube_version, kind, api_version)
            if validator is None:
                return [f"{api_version} {kind} does not exist in Kubernetes "
                        f"{self.kube_version}"]
        else:
            validator = self.crd_schemas.get((api_version, kind))
            if validator is None:
                return [f"{api_version} {kind}: no CRD for it is installed by the platform"]
        # A value the offline plan cannot know (a masked secret, an unknown) is not judged.
        return [f"{'.'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message[:300]}"
                for e in sorted(validator.iter_errors(obj), key=lambda e: str(list(e.path)))
                if e.instance not in OPAQUE]


CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "StorageClass", "PriorityClass", "IngressClass",
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "APIService",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "RuntimeClass",
    "CSIDriver", "VolumeSnapshotClass", "ClusterIssuer", "CertificateSigningRequest",
})


def cluster_scoped(obj: Obj, validator: Validator) -> bool:
    key = (str(obj.get("apiVersion")), str(obj.get("kind")))
    if key in validator.crd_scope:
        return validator.crd_scope[key] == "Cluster"
    return key[1] in CLUSTER_SCOPED
