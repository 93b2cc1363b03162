"""Check each planned resource's inputs against the provider SDK's own generated input types.

The mock engine accepts any property map, so a misspelt or mistyped input (`resources.limts`
in a container, a string where a list belongs) plans cleanly and fails only at `pulumi
preview`, or is silently dropped. Here each custom resource's wire inputs (camelCase keys, as
`dataplatform plan --json` prints them) are walked against its SDK class's `pulumi.input_type`
args class, nested input types included:

- the type token is mapped to its class through the registry the SDKs fill at import
  (`_utilities.register(resource_modules=...)`), importing only the module needed;
- each args class's wire names and types come from `pulumi._types.input_type_types`, which
  resolves forward references in the class's module namespace;
- an unknown key (with the closest valid one), a missing required field, a value of the wrong
  kind (string / integer / number / boolean / list / map / object) or outside a `Literal` is an
  error. "[secret]" and "[unknown]" match anything; keys starting with `__` are engine-reserved;
- null stands for "unset" in an object or map (Kubernetes reads `storageClassName: null` as
  the default class), so it passes unless the field is required;
- provider resources (`pulumi:providers:*`) get every non-string input JSON-encoded on the
  wire, so a string is decoded before checking it against a non-string type.

Component resources, reads (StackReference) and types with no SDK class (a Kubernetes
CustomResource such as `kubernetes:argoproj.io/v1alpha1:Application`) are skipped and named.
"""

from __future__ import annotations

import collections.abc as abc
import difflib
import enum
import importlib
import inspect
import json
import sys
import types
import typing
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import pulumi
from pulumi import _types
from pulumi.runtime import rpc

if TYPE_CHECKING:
    from dataplatform.plan.engine import Plan, PlannedResource

PLACEHOLDERS = frozenset({"[secret]", "[unknown]"})
_SEQUENCES = (list, abc.Sequence)  # what typing.get_origin returns for List, Sequence…
_MAPPINGS = (dict, abc.Mapping)
_KIND_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean",
               list: "list", dict: "map"}


class CheckResult(NamedTuple):
    """`errors` (one line each), how many resources were `checked`, `skipped` type -> why."""

    errors: list[str]
    checked: int
    skipped: dict[str, str]


@cache
def _sdk_module(pkg: str) -> bool:
    """Import the SDK's top-level package (which registers its modules); False if absent."""
    try:
        importlib.import_module(f"pulumi_{pkg.replace('-', '_')}")
    except ImportError:
        return False
    return True


@cache
def args_class(token: str) -> type | str:
    """The input-type class of a resource type token, or why there is none."""
    parts = token.split(":")
    if len(parts) != 3:
        return "not a pkg:module:Type token"
    pkg, mod, name = parts
    if pkg == "pulumi" and mod == "providers":
        pkg = name
    if pkg == "pulumi" or not _sdk_module(pkg):
        return "engine built-in" if pkg == "pulumi" else f"no SDK installed for '{pkg}'"
    if parts[:2] == ["pulumi", "providers"]:
        package = rpc.get_resource_package(pkg, "")
        info = getattr(package, "pkg_info", None)
        fqn, cls_name = (info["fqn"], info["class"]) if info else ("", "")
    else:
        module = rpc.get_resource_module(pkg, mod, "")
        info = getattr(module, "mod_info", None)
        fqn, cls_name = (info["fqn"], info["classes"].get(token, "")) if info else ("", "")
    if not cls_name and pkg == "kubernetes":
        return "no SDK class (a CustomResource, e.g. of a CRD)"
    if not cls_name:
        return f"no class for this token in the installed pulumi_{pkg} (a newer SDK's type?)"
    cls = getattr(importlib.import_module(fqn), cls_name)
    namespace = vars(sys.modules[cls.__module__])
    for candidate in (f"{cls_name}InitArgs", f"{cls_name}Args"):  # Kubernetes: *InitArgs
        found = namespace.get(candidate)
        if isinstance(found, type) and _types.is_input_type(found):
            return found
    return f"no input type for SDK class {fqn}.{cls_name}"


@cache
def _fields(cls: type[Any]) -> tuple[dict[str, Any], frozenset[str]]:
    """Wire name -> type of an input-type class, and its required wire names."""
    field_types = _types.input_type_types(cls)
    py_to_wire = _types.input_type_py_to_pulumi_names(cls)
    required = frozenset(
        py_to_wire[p.name] for p in inspect.signature(cls.__init__).parameters.values()
        if p.default is inspect.Parameter.empty and p.name in py_to_wire)
    return field_types, required


def _members(tp: Any) -> list[Any]:
    """The alternatives a value may take: unions flattened, None/Awaitable/Output dropped.

    An `XxxArgsDict` TypedDict is dropped next to its `XxxArgs` (its keys are Python names).
    """
    if typing.get_origin(tp) in (typing.Union, types.UnionType):  # Optional[X], X | None
        out = [m for a in typing.get_args(tp) for m in _members(a)]
        plain = [m for m in out if not typing.is_typeddict(m)]
        return plain or out
    origin = typing.get_origin(tp)
    if tp is type(None) or origin in (pulumi.Output, abc.Awaitable):
        return []
    return [tp]


def _accepts(value: Any, tp: Any) -> bool:
    """Whether `value` has the shape of `tp` (without looking inside it)."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        return value in typing.get_args(tp)
    if origin in _SEQUENCES:
        return isinstance(value, list)
    if origin in _MAPPINGS:
        return isinstance(value, dict)
    if not isinstance(tp, type):
        return True  # Any, a TypeVar, an annotation we do not model: accept
    if issubclass(tp, enum.Enum):
        base = next((b for b in (str, int, float) if issubclass(tp, b)), object)
        return _accepts(value, base)
    if tp is bool:
        return isinstance(value, bool)
    if tp in (int, float):
        ok = isinstance(value, int) or (tp is float and isinstance(value, float))
        return ok and not isinstance(value, bool)
    if tp is str or issubclass(tp, pulumi.Resource):  # a resource travels as its URN
        return isinstance(value, str)
    if tp in (list, tuple):
        return isinstance(value, list)
    if tp is dict or _types.is_input_type(tp) or issubclass(tp, (pulumi.Asset, pulumi.Archive)):
        return isinstance(value, dict)
    return True


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " or ".join(repr(a) for a in typing.get_args(tp))
    if origin in _SEQUENCES:
        return "list"
    if origin in _MAPPINGS:
        return "map"
    if isinstance(tp, type) and _types.is_input_type(tp):
        return f"object ({tp.__name__})"
    return _KIND_NAMES.get(tp, getattr(tp, "__name__", str(tp)))


def _child(path: str, key: str) -> str:
    plain = key.replace("_", "").replace("-", "").isalnum()
    return f"{path}.{key}" if plain else f"{path}[{key!r}]"


def _check(value: Any, tp: Any, path: str, errors: list[str], json_strings: bool) -> None:
    """Append to `errors` each way `value` (at `path`) does not fit the SDK type `tp`."""
    if isinstance(value, str) and value in PLACEHOLDERS:
        return
    members = _members(tp)
    if not members:
        return
    first_failure: list[str] | None = None
    for member in members:
        if not _accepts(value, member):
            continue
        found: list[str] = []
        _check_member(value, member, path, found, json_strings)
        if not found:
            return
        first_failure = first_failure if first_failure is not None else found
    if first_failure is not None:
        errors.extend(first_failure)
        return
    if json_strings and isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = value
        if decoded is not value and not isinstance(decoded, str):
            _check(decoded, tp, path, errors, json_strings=False)
            return
    kind = _KIND_NAMES.get(type(value), type(value).__name__)
    expected = " or ".join(dict.fromkeys(_describe(m) for m in members))
    errors.append(f"{path}: expected {expected}, got {kind} {_short(value)}")


def _check_member(value: Any, tp: Any, path: str, errors: list[str],
                  json_strings: bool) -> None:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in _SEQUENCES and args:
        for i, item in enumerate(value):
            _check(item, args[0], f"{path}[{i}]", errors, json_strings)
    elif origin in _MAPPINGS and len(args) == 2:
        for key, item in value.items():
            if item is not None:  # a null map value means unset, like an absent key
                _check(item, args[1], _child(path, key), errors, json_strings)
    elif isinstance(tp, type) and _types.is_input_type(tp):
        _check_object(value, tp, path, errors, json_strings)


def _check_object(value: dict[str, Any], cls: type, path: str, errors: list[str],
                  json_strings: bool) -> None:
    fields, required = _fields(cls)
    for key, item in value.items():
        if key.startswith("__"):
            continue  # engine-reserved (e.g. a bridged provider's `__defaults`)
        if key in fields and item is None:
            continue  # null is how the wire says "unset" (a required one is caught below)
        if key in fields:
            _check(item, fields[key], _child(path, key), errors, json_strings)
            continue
        close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else f"valid: {', '.join(sorted(fields))}"
        errors.append(f"{_child(path, key)}: unknown field of {cls.__name__}; {hint}")
    for key in sorted(required - {k for k, v in value.items() if v is not None}):
        errors.append(f"{_child(path, key)}: required field of {cls.__name__} is missing")


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def check_resource(resource: PlannedResource) -> list[str] | str:
    """Errors in one custom resource's inputs, or why it cannot be checked."""
    cls = args_class(resource.type)
    if isinstance(cls, str):
        return cls
    errors: list[str] = []
    provider = resource.type.startswith("pulumi:providers:")
    _check_object(resource.inputs, cls, "inputs", errors, json_strings=provider)
    return [f"{resource.urn}: {e}" for e in errors]


def check_plan_inputs(plan: Plan) -> CheckResult:
    """Check every custom resource of `plan` against its provider SDK's input types."""
    errors: list[str] = []
    checked = 0
    skipped: dict[str, str] = {}
    for resource in plan.resources:
        if not resource.custom:
            skipped[resource.type] = "component resource (its children are checked)"
            continue
        found = check_resource(resource)
        if isinstance(found, str):
            skipped[resource.type] = found
            continue
        checked += 1
        errors.extend(found)
    return CheckResult(errors, checked, skipped)
