"""Patches on rendered Kubernetes objects: JSON 6902 operations and strategic merge.

Each patch selects one object by kind, name and optional namespace (objects without a
namespace are in the release's). Patches apply in declaration order; a patch that matches
no object is an error, never a silent no-op (a renamed object in a new chart version must
break the deployment, not quietly drop the change).

Strategic merge follows kubectl for the list fields most patches touch: containers,
initContainers, ephemeralContainers, volumes, env, imagePullSecrets (by name),
volumeMounts (by mountPath), ports (by containerPort, or port for Services), hostAliases
(by ip). Any other list is replaced whole, as in a JSON merge patch (kustomize does the
same for custom resources). `null` removes a key; `$patch: delete` in a keyed list item
removes that item; `$patch: replace` in a map replaces the map instead of merging it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pulumi

from foundation.config.extra import JsonOp, Patch, PatchTarget

MERGE_KEYS = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name",
              "volumes": "name", "env": "name", "imagePullSecrets": "name",
              "volumeMounts": "mountPath", "hostAliases": "ip"}
DIRECTIVE = "$patch"


class PatchError(ValueError):
    """A patch that cannot apply: no matching object, a bad path, a failed test."""


def describe(target: PatchTarget) -> str:
    ns = f" in namespace {target.namespace}" if target.namespace else ""
    return f"{target.kind} '{target.name}'{ns}"


def matches(target: PatchTarget, obj: Mapping[str, Any], default_namespace: str) -> bool:
    """Whether `obj` is the object `target` selects."""
    meta = obj.get("metadata") or {}
    if obj.get("kind") != target.kind or meta.get("name") != target.name:
        return False
    return target.namespace is None or (meta.get("namespace") or default_namespace) == \
        target.namespace


# --- JSON 6902 ----------------------------------------------------------------------------

def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _index(container: list, token: str, pointer: str, *, append: bool = False) -> int:
    if append and token == "-":
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchError(f"{pointer}: '{token}' is not an array index")
    i = int(token)
    if i > len(container) or (i == len(container) and not append):
        raise PatchError(f"{pointer}: index {i} is out of range ({len(container)} items)")
    return i


def _parent(doc: Any, pointer: str) -> tuple[Any, str]:
    """The container holding the last token of `pointer`, and that token."""
    tokens = _tokens(pointer)
    cur = doc
    for token in tokens[:-1]:
        if isinstance(cur, dict) and token in cur:
            cur = cur[token]
        elif isinstance(cur, list):
            cur = cur[_index(cur, token, pointer)]
        else:
            raise PatchError(f"{pointer}: '{token}' does not exist")
    return cur, tokens[-1]


def _get(doc: Any, pointer: str) -> Any:
    parent, token = _parent(doc, pointer)
    if isinstance(parent, dict):
        if token not in parent:
            raise PatchError(f"{pointer}: '{token}' does not exist")
        return parent[token]
    if isinstance(parent, list):
        return parent[_index(parent, token, pointer)]
    raise PatchError(f"{pointer}: the parent is not an object or array")


def _add(doc: Any, pointer: str, value: Any) -> None:
    parent, token = _parent(doc, pointer)
    if isinstance(parent, dict):
        parent[token] = copy.deepcopy(value)
    elif isinstance(parent, list):
        parent.insert(_index(parent, token, pointer, append=True), copy.deepcopy(value))
    else:
        raise PatchError(f"{pointer}: the parent is not an object or array")


def _remove(doc: Any, pointer: str) -> Any:
    value = _get(doc, pointer)
    parent, token = _parent(doc, pointer)
    if isinstance(parent, dict):
        del parent[token]
    else:
        del parent[_index(parent, token, pointer)]
    return value


def _source(op: JsonOp) -> str:
    """The `from` pointer of a move or copy: JsonOp's validator requires it for both."""
    if op.from_ is None:
        raise PatchError("needs from")
    return op.from_


def apply_json6902(obj: Mapping[str, Any], ops: Sequence[JsonOp]) -> dict[str, Any]:
    """`obj` with RFC 6902 `ops` applied (a copy; the input is left alone)."""
    doc = copy.deepcopy(dict(obj))
    for n, op in enumerate(ops):
        try:
            if op.op == "add":
                _add(doc, op.path, op.value)
            elif op.op == "remove":
                _remove(doc, op.path)
            elif op.op == "replace":
                _get(doc, op.path)  # must exist
                _remove(doc, op.path)
                _add(doc, op.path, op.value)
            elif op.op == "move":
                _add(doc, op.path, _remove(doc, _source(op)))
            elif op.op == "copy":
                _add(doc, op.path, _get(doc, _source(op)))
            elif _get(doc, op.path) != op.value:  # test
                raise PatchError(f"{op.path}: test failed, the value is not {op.value!r}")
        except PatchError as exc:
            raise PatchError(f"operation {n} ({op.op}) {exc}") from None
    return doc


# --- strategic merge ----------------------------------------------------------------------

def _merge_key(field: str, items: Iterable[Any]) -> str | None:
    if field == "ports":
        first = next((i for i in items if isinstance(i, Mapping)), {})
        return "containerPort" if "containerPort" in first else "port"
    return MERGE_KEYS.get(field)


def _merge_list(field: str, base: list, patch: list, where: str) -> list:
    key = _merge_key(field, patch)
    if key is None:
        return [_clean(item) for item in patch]
    out = copy.deepcopy(base)
    for item in patch:
        if not isinstance(item, Mapping) or key not in item:
            raise PatchError(f"{where}: each item needs its merge key '{key}'")
        found = next((i for i, b in enumerate(out)
                      if isinstance(b, Mapping) and b.get(key) == item[key]), None)
        if item.get(DIRECTIVE) == "delete":
            if found is None:
                raise PatchError(f"{where}: no item with {key} {item[key]!r} to delete")
            del out[found]
        elif found is None:
            out.append(_clean(item))
        else:
            out[found] = strategic_merge(out[found], item, f"{where}[{key}={item[key]}]")
    return out


def _clean(value: Any) -> Any:
    """A patch value without directives or nulls, for where nothing is merged into."""
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items() if k != DIRECTIVE and v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return copy.deepcopy(value)


def strategic_merge(base: Mapping[str, Any], patch: Mapping[str, Any],
                    where: str = "") -> dict[str, Any]:
    """`patch` merged into a copy of `base` (see the module docstring for the rules)."""
    if patch.get(DIRECTIVE) == "replace":
        return _clean(patch)
    out = copy.deepcopy(dict(base))
    for key, value in patch.items():
        here = f"{where}.{key}" if where else key
        if key == DIRECTIVE:
            continue
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = strategic_merge(out[key], value, here)
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = _merge_list(key, out[key], value, here)
        else:
            out[key] = _clean(value)
    return out


# --- applying patches ---------------------------------------------------------------------

def apply_patch(obj: Mapping[str, Any], patch: Patch) -> dict[str, Any]:
    """`obj` with `patch` applied (the caller has checked that the target matches)."""
    try:
        if patch.type == "json6902":
            return apply_json6902(obj, patch.ops)
        return strategic_merge(obj, patch.patch)
    except PatchError as exc:
        raise PatchError(f"{patch.type} patch of {describe(patch.target)}: {exc}") from None


def unmatched_error(app: str, patches: Sequence[Patch], matched: set[int]) -> PatchError | None:
    missing = [describe(p.target) for i, p in enumerate(patches) if i not in matched]
    if not missing:
        return None
    return PatchError(f"{app}: {len(missing)} patch(es) match no rendered object: "
                      f"{'; '.join(missing)} (check kind, name and namespace against the "
                      "chart's output, e.g. `helm template`)")


def apply_patches(app: str, objects: Iterable[Mapping[str, Any]], patches: Sequence[Patch],
                  default_namespace: str) -> list[dict[str, Any]]:
    """Every object with the patches that select it applied; error if one selects none."""
    out, matched = [], set()
    for obj in objects:
        for i, patch in enumerate(patches):
            if matches(patch.target, obj, default_namespace):
                obj = apply_patch(obj, patch)
                matched.add(i)
        out.append(dict(obj))
    error = unmatched_error(app, patches, matched)
    if error:
        raise error
    return out


class PatchTransform:
    """The patches of one app as a Pulumi resource transform for the chart's children.

    Pulumi calls it for each object a `helm.v4.Chart` renders, before registering it; it
    records which patches matched, so `check()` can fail the deployment once the chart
    has registered all of its objects.
    """

    def __init__(self, app: str, patches: Sequence[Patch], default_namespace: str):
        self.app, self.patches, self.namespace = app, list(patches), default_namespace
        self.matched: set[int] = set()

    def __call__(self, args: pulumi.ResourceTransformArgs):
        props = args.props
        if not isinstance(props, Mapping) or "kind" not in props:
            return None
        changed = False
        for i, patch in enumerate(self.patches):
            if matches(patch.target, props, self.namespace):
                props = apply_patch(props, patch)
                self.matched.add(i)
                changed = True
        return pulumi.ResourceTransformResult(props=props, opts=args.opts) if changed else None

    def check(self, _resources: Any = None) -> None:
        error = unmatched_error(self.app, self.patches, self.matched)
        if error:
            raise error
