"""Text of the files and messages `dataplatform new` produces."""

from __future__ import annotations

import types
import typing
from collections.abc import Collection, Sequence
from typing import Any

import yaml
from pydantic import BaseModel

from foundation.config.loader import PROJECT
from foundation.config.secrets import SecretValue

MARK = "  # placeholder: replace"


def render_stack_file(header: str, config: dict[str, Any],
                      placeholders: Collection[str] = (), modeline: str | None = None) -> str:
    """A stack file in the style of the shipped ones: a comment, then `config:`.

    `config` is keyed without the namespace, in the order to write; lines holding one of
    the `placeholders` values are marked for the consultant to replace. `modeline`, the
    editor's schema comment (`dataplatform.docs.modeline`), is the first line when given.
    """
    lines = [modeline] if modeline else []
    lines += [f"# {line}".rstrip() for line in header.splitlines()]
    lines.append("config:")
    for key, value in config.items():
        dumped = yaml.safe_dump({f"{PROJECT}:{key}": value}, sort_keys=False,
                                default_flow_style=False, width=100).rstrip("\n")
        for line in dumped.splitlines():
            marked = any(line.endswith((f": {v}", f"- {v}")) for v in placeholders)
            lines.append(f"  {line}{MARK if marked else ''}")
    return "\n".join(lines) + "\n"


def _unwrap(annotation: Any) -> list[tuple[str, Any]]:
    """(path suffix, type) pairs an annotation can hold: Optional, list, dict unwrapped."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [p for a in typing.get_args(annotation) for p in _unwrap(a)]
    if origin in (list, tuple):
        return [("[0]" + s, t) for s, t in _unwrap(typing.get_args(annotation)[0])]
    if origin is dict:
        return [(".<name>" + s, t) for s, t in _unwrap(typing.get_args(annotation)[1])]
    return [("", annotation)]


def secret_keys(model: type[BaseModel], prefix: str = "", depth: int = 0) -> list[str]:
    """Every key of the stack config that takes a Pulumi secret, in `--path` syntax."""
    out: list[str] = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        for suffix, typ in _unwrap(field.annotation):
            if typ is SecretValue:
                out.append(key + suffix)
            elif isinstance(typ, type) and issubclass(typ, BaseModel) and depth < 8:
                out += secret_keys(typ, f"{key}{suffix}.", depth + 1)
    return sorted(set(out))


def next_steps(written: Sequence[tuple[str, str, str]], secrets: Sequence[str],
               notes: Sequence[str], plan_args: str = "") -> str:
    """What to do after `dataplatform new`: (stack, file, summary) per written file."""
    width = max(len(f) for _, f, _ in written)
    platforms = [s for s, _, summary in written if summary.startswith("platform")]
    domains = [s for s, _, _ in written if s not in platforms]
    ordered = platforms + domains
    example = "warehouse.password" if "warehouse.password" in secrets else (
        secrets[0] if secrets else "KEY")
    out = [f"Wrote {len(written)} stack file{'s' if len(written) != 1 else ''}:"]
    out += [f"  {f:<{width}}  {summary}" for _, f, summary in written]
    out += ["", "Replace the values marked `# placeholder` before deploying.", "",
            "Next steps:",
            "1. Plan offline (no credentials, no cluster; a domain's plan includes its "
            "platform's):",
            *(f"     dataplatform plan {s}{plan_args}" for s in (domains or ordered)),
            "2. Create the stacks in your Pulumi backend (after `pulumi login`):",
            *(f"     pulumi stack init {s}" for s in ordered),
            "3. Secrets: the generated files need none. A feature that takes one reads a "
            "config secret, set per stack (the CLI prompts for the value), e.g.",
            f"     pulumi config set --secret --path '{PROJECT}:{example}' -s STACK",
            f"   Secret keys: {', '.join(secrets) or 'none'}.",
            "4. Deploy, platform stacks first (domains read them through a StackReference):",
            *(f"     pulumi up -s {s}" for s in ordered)]
    if notes:
        out += ["", "Notes:", *(f"- {n}" for n in notes)]
    return "\n".join(out)
