"""What every guardrail shares: property lookups, the stack's profile, policy factories.

A check is a plain generator. A resource check gets the validation args and the policy's
effective config (schema defaults, then the configured values, then the resolved
`profile`) and yields violation messages; a stack check gets the stack's resources and
the config and yields `(urn, message)` pairs. Every message says what is wrong *and* how
to fix it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

PROFILE_KEY = "dataplatform:profile"
PROFILES = ("dev", "prod")
PROFILE_SCHEMA = {
    "profile": {
        "type": "string",
        "enum": list(PROFILES),
        "description": "The stack's profile. Unset: the stack config's dataplatform:profile "
        "(which `pulumi preview` passes to the pack), else prod.",
    }
}
RETAIN_KEY = "__retainOnDelete"
"""Set by the offline plan on stack resources: the analyzer protocol carries `protect` but
not `retainOnDelete`. Absent under `pulumi preview`, where retain cannot be checked."""

Config = Mapping[str, Any]
ResourceCheck = Callable[[ResourceValidationArgs, Config], Iterable[str]]
StackCheck = Callable[[Sequence[PolicyResource], Config], Iterable[tuple[str, str]]]


def get(obj: Any, path: str, default: Any = None) -> Any:
    """The value at dotted `path` in nested mappings, else `default`.

    An unknown value (during `pulumi preview`) raises, so the policy reports that it
    cannot decide instead of guessing.
    """
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return default
        cur = cur[part]
    return cur


def known(obj: Any, path: str, default: Any = None) -> Any:
    """Like `get`, but an unknown value counts as missing (for matching, never judging)."""
    try:
        return get(obj, path, default)
    except UnknownValueError:
        return default


def items(value: Any) -> list[Any]:
    """A list value as a list; anything else (missing, a string, a map) as []."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return []


def num(value: Any) -> Any:
    """A number as people write it: protobuf Structs carry every number as a double."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def flag(value: Any) -> bool:
    """Whether a boolean field is true, also as a rendered template may carry it ("true")."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def integer(value: Any) -> int | None:
    """A whole number as it may arrive (int, a protobuf double, "0", "8080"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    return value if isinstance(value, int) else None


def string_list(default: list[str], description: str) -> dict[str, Any]:
    """The config schema of a policy setting that is a list of strings."""
    return {"type": "array", "items": {"type": "string"}, "default": default,
            "description": description}


EXEMPT_PATTERNS = "shell-style patterns of metadata.name, namespace/name or the Pulumi name"
"""What an `exempt` setting of the pod rules matches (see `pods.exempt`)."""


def as_map(value: Any) -> Mapping[str, Any]:
    """A map value, also when it arrives JSON-encoded (provider inputs are strings)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, Mapping) else {}


def stack_profile() -> str | None:
    """`dataplatform:profile` from the stack config the Pulumi CLI hands the pack."""
    try:
        config = json.loads(os.environ.get("PULUMI_CONFIG") or "{}")
    except ValueError:
        return None
    value = config.get(PROFILE_KEY) if isinstance(config, dict) else None
    return value if value in PROFILES else None


def profile(config: Config) -> str:
    """The stack's profile: the policy config's, else the stack config's, else prod."""
    value = config.get("profile")
    return value if value in PROFILES else (stack_profile() or "prod")


def default_enforcement_level() -> EnforcementLevel:
    """Mandatory in prod stacks, advisory in dev; mandatory when the profile is unknown.

    The policy config (`all` or per policy) overrides it, as usual in CrossGuard.
    """
    return EnforcementLevel.ADVISORY if stack_profile() == "dev" else EnforcementLevel.MANDATORY


def effective(config: Config, schema: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Schema defaults, then the configured values, then the resolved profile."""
    merged = {k: v["default"] for k, v in schema.items() if "default" in v}
    merged.update(config)
    merged["profile"] = profile(config)
    return merged


def _schema(config: Mapping[str, Mapping[str, Any]] | None,
            uses_profile: bool) -> dict[str, dict[str, Any]]:
    # PolicyConfigSchema takes dicts: copy each property's schema into one.
    schema = {key: dict(prop) for key, prop in (config or {}).items()}
    if uses_profile:
        schema.update(PROFILE_SCHEMA)
    return schema


def resource_policy(name: str, description: str, types: Iterable[str], check: ResourceCheck,
                    *, fix: str, severity: Severity = Severity.HIGH,
                    config: Mapping[str, Mapping[str, Any]] | None = None,
                    prod_only: bool = False, uses_profile: bool = False,
                    type_filter: Callable[[str], bool] | None = None) -> ResourceValidationPolicy:
    """A policy over resources of `types` (or those `type_filter` accepts)."""
    wanted = frozenset(types)
    schema = _schema(config, prod_only or uses_profile)

    def validate(args: ResourceValidationArgs, report) -> None:
        if args.resource_type not in wanted and not (type_filter and
                                                     type_filter(args.resource_type)):
            return
        cfg = effective(args.get_config(), schema)
        if prod_only and cfg["profile"] != "prod":
            return
        for message in check(args, cfg):
            report(message)

    return ResourceValidationPolicy(
        name=name, description=description, validate=validate, severity=severity,
        config_schema=PolicyConfigSchema(schema) if schema else None, remediation_steps=fix)


def stack_policy(name: str, description: str, check: StackCheck, *, fix: str,
                 severity: Severity = Severity.HIGH,
                 config: Mapping[str, Mapping[str, Any]] | None = None,
                 prod_only: bool = False, uses_profile: bool = False) -> StackValidationPolicy:
    """A policy over the whole stack, reporting against each offending resource."""
    schema = _schema(config, prod_only or uses_profile)

    def validate(args: StackValidationArgs, report) -> None:
        cfg = effective(args.get_config(), schema)
        if prod_only and cfg["profile"] != "prod":
            return
        for urn, message in check(args.resources, cfg):
            report(message, urn)

    return StackValidationPolicy(
        name=name, description=description, validate=validate, severity=severity,
        config_schema=PolicyConfigSchema(schema) if schema else None, remediation_steps=fix)


def label(r: ResourceValidationArgs | PolicyResource) -> str:
    """How a message names a resource: its type's short name and its Pulumi name."""
    kind = r.resource_type.rsplit(":", 1)[-1]
    return f"{kind} '{r.name}'"


def k8s_label(r: ResourceValidationArgs | PolicyResource) -> str:
    """How a message names a Kubernetes object: kind, namespace/name, and the chart (the
    Helm Release or Argo CD Application that rendered it) when it has one."""
    kind = r.resource_type.rsplit(":", 1)[-1]
    name, ns = known(r.props, "metadata.name"), known(r.props, "metadata.namespace")
    text = f"{kind} '{ns}/{name}'" if name and ns else f"{kind} '{name or r.name}'"
    parent = r.opts.parent or ""
    if parent.count("::") >= 3:
        parent_type, parent_name = parent.rsplit("::", 2)[1:]
        parent_kind = parent_type.rsplit("$", 1)[-1].rsplit(":", 1)[-1]
        if parent_kind in ("Release", "Application", "Chart"):
            text += f" (rendered by {parent_kind} '{parent_name}')"
    return text


KEEP_FIX = "create it with pulumi.ResourceOptions(protect=True, retain_on_delete=True)"


def protection_gaps(r: PolicyResource) -> list[str]:
    """What a data-holding resource of the stack lacks to survive `destroy` and
    replacement: `protect=True`, `retain_on_delete=True` (as the offline plan reports it)."""
    missing = [] if r.opts.protect else ["protect=True"]
    if known(r.props, RETAIN_KEY) is False:
        missing.append("retain_on_delete=True")
    return missing
