"""The `template:` section of `Pulumi.yaml` (what `pulumi new` asks), from the config model.

The model is the one source of truth: each template key's description is the model field's
description (plus its choices), and its default is the model's; keys without one default to
the quickstart's answers (`QUICKSTART`), so `pulumi new --yes` writes a stack that validates.
`tests/unit/test_template.py` fails when Pulumi.yaml drifts; regenerate it with

    python -m dataplatform._onboarding_template --write
"""

from __future__ import annotations

import sys
import typing
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticUndefined

from foundation.config.loader import PROJECT
from foundation.config.stack import StackConfig

PULUMI_YAML = Path(__file__).resolve().parents[1] / "Pulumi.yaml"
# The keys a new stack must (or usually does) set; everything else has a model default.
# (gcpProject is left out: `pulumi new` would write an empty, invalid id on other clouds.)
KEYS = ("customer", "domain", "environment", "kind", "cloud", "region", "profile", "owner",
        "cost_center")
QUICKSTART = {"customer": "demo", "environment": "dev", "kind": "platform", "cloud": "local",
              "region": "", "profile": "dev", "owner": "changeme"}
"""`pulumi new --yes` answers where the model has no default: a local dev platform stack
that validates as written (on the context `kind-demo`). Owner and cost center are
placeholders, which the plan warns about until someone fills them in."""
PROBE_MAX = 100
HEAD = {"description": "A data-mesh domain (or the shared platform) on Kubernetes",
        "important": True}


def _choices(annotation: Any) -> list[str]:
    args = typing.get_args(annotation)
    return [str(a) for a in args] if typing.get_origin(annotation) is typing.Literal else []


@cache
def _max_len(name: str) -> int | None:
    """The longest name field `name` accepts (probed), or None if unlimited."""
    field = StackConfig.model_fields[name]
    if not field.metadata:
        return None
    # The field's type with its constraints, built at run time: no static type to give.
    form: Any = typing.Annotated[(field.annotation, *field.metadata)]
    adapter: TypeAdapter[Any] = TypeAdapter(form)

    def ok(n: int) -> bool:
        try:
            adapter.validate_python("a" * n, strict=True)
            return True
        except ValidationError:
            return False

    if not ok(1) or ok(PROBE_MAX):
        return None
    return max(n for n in range(1, PROBE_MAX) if ok(n))


def template_config() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name in KEYS:
        field = StackConfig.model_fields[name]
        text = field.description or ""
        choices = _choices(field.annotation)
        if choices:
            text += f" ({' | '.join(choices)})"
        elif (limit := _max_len(name)) is not None:
            text += f" (at most {limit} characters)"
        entry = {"description": text}
        if field.default not in (PydanticUndefined, None):
            entry["default"] = field.default
        elif name == "cost_center":
            from dataplatform.onboarding import DEFAULT_COST_CENTER  # what `new` writes too

            entry["default"] = DEFAULT_COST_CENTER
        else:
            entry["default"] = QUICKSTART[name]
        out[f"{PROJECT}:{field.alias or name}"] = entry
    return out


def template_section() -> str:
    body = {"template": {**HEAD, "config": template_config()}}
    return yaml.safe_dump(body, sort_keys=False, width=100)


def write(path: Path = PULUMI_YAML) -> None:
    """Replace the `template:` section (the file's last top-level key) in place."""
    text = path.read_text()
    start = text.index("\ntemplate:") + 1
    path.write_text(text[:start] + template_section())


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write()
    else:
        print(template_section(), end="")
