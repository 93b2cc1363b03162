"""`dataplatform docs`: the generated reference under `docs/reference/`.

- `stack.schema.json`: the JSON Schema (draft 2020-12) of a whole stack file,
  `stacks/Pulumi.<stack>.yaml`, exported from the config model (`StackConfig`). Editors
  pick it up through the modeline on the first line of each stack file
  (`# yaml-language-server: $schema=../docs/reference/stack.schema.json`) and then
  complete keys, show their descriptions and flag unknown keys and wrong types while
  typing. The loader stays the judge: names, CIDRs, regions and cross-field rules are
  checked by it, not by the schema.
- `components.md`: every ComponentResource under `components/`, with its type token, its
  Args (fields, types, defaults, descriptions) and its outputs, read from the code.

Both are generated, never edited: `dataplatform docs` rewrites them, `dataplatform docs
--check` (CI, `tests/unit/test_reference_docs.py`) fails when they are stale.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import json
import os
import pkgutil
import re
import sys
import types
import typing
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeGuard

import pulumi
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from foundation.config.loader import FILE_KEYS, PROJECT, PROVIDER_NAMESPACES
from foundation.config.secrets import SecretValue
from foundation.config.stack import StackConfig
from foundation.layout import REPO_ROOT

REPO = REPO_ROOT
REFERENCE_DIR = REPO / "docs" / "reference"
SCHEMA_FILE = REFERENCE_DIR / "stack.schema.json"
COMPONENTS_FILE = REFERENCE_DIR / "components.md"
COMPONENTS_PACKAGE = "components"
REFRESH = "dataplatform docs"
SCHEMA_ID = "urn:dataplatform:stack-file"
MODELINE_PREFIX = "# yaml-language-server: $schema="
# Stack-file keys besides `config` (Pulumi's own; the loader lets them through).
FILE_KEY_SCHEMAS: dict[str, dict[str, Any]] = {
    "secretsprovider": {"type": "string", "description": "Pulumi: the stack's secrets "
                        "provider (e.g. awskms://..., gcpkms://..., passphrase)."},
    "encryptionsalt": {"type": "string", "description": "Pulumi: salt of the passphrase "
                       "secrets provider (written by the CLI)."},
    "encryptedkey": {"type": "string", "description": "Pulumi: the data key encrypted by "
                     "a cloud KMS secrets provider (written by the CLI)."},
    "environment": {"description": "Pulumi ESC environments the stack imports."},
}


# --- the stack file schema


def modeline(stack_dir: Path) -> str:
    """The first line of a stack file in `stack_dir`: where its schema is, relatively."""
    try:
        where = Path(os.path.relpath(SCHEMA_FILE, stack_dir.resolve())).as_posix()
    except ValueError:  # another drive (Windows): no relative path
        where = SCHEMA_FILE.as_uri()
    return MODELINE_PREFIX + where


def _walk(node: Any):
    """Every dict of a JSON document (the schema), depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _secret_schema() -> dict[str, Any]:
    secure = SecretValue.model_fields["secure"]
    return {
        "type": "object",
        "title": "SecretValue",
        "description": (inspect.cleandoc(SecretValue.__doc__ or "") + " In the file: "
                        "{secure: v1:...}, written by the CLI; a plain value is refused."),
        "properties": {"secure": {"type": "string", "minLength": 1,
                                  "description": secure.description or ""}},
        "required": ["secure"],
        "additionalProperties": False,
    }


def stack_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a whole stack file, from `StackConfig`.

    The file's `config` holds one `dataplatform:<key>` per top-level model field, and
    provider keys (`aws:*`, `gcp:*`, `kubernetes:*`) that pass through untouched.
    """
    model = StackConfig.model_json_schema(by_alias=True, mode="validation")
    defs: dict[str, Any] = model.pop("$defs", {})
    for node in _walk([model, defs]):
        # Property titles are the aliases capitalised ("Gcpproject"): noise in an editor.
        for prop in (node.get("properties") or {}).values():
            if isinstance(prop, dict):
                prop.pop("title", None)
    for name in list(defs):  # pydantic prefixes a def's name with its module on a clash
        if name == SecretValue.__name__ or name.endswith(f"__{SecretValue.__name__}"):
            defs[name] = _secret_schema()
    aliases = [f.alias or name for name, f in StackConfig.model_fields.items()]
    required = set(model.get("required", []))
    providers = "|".join(sorted(PROVIDER_NAMESPACES))
    config = {
        "type": "object",
        "description": (f"Pulumi config: the `{PROJECT}:<key>` keys are the stack config "
                        "(foundation/config/stack.py); provider keys ("
                        + ", ".join(f"{p}:*" for p in sorted(PROVIDER_NAMESPACES))
                        + ") pass through to the providers untouched."),
        "properties": {f"{PROJECT}:{alias}": model["properties"][alias] for alias in aliases},
        "required": [f"{PROJECT}:{alias}" for alias in aliases if alias in required],
        "patternProperties": {
            f"^({providers}):": {"description": "Provider config, passed to the provider "
                                                "untouched (e.g. aws:profile for a local run)."}
        },
        "additionalProperties": False,
    }
    extra_keys = sorted(FILE_KEYS - {"config"})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "dataplatform stack file (stacks/Pulumi.<stack>.yaml)",
        "description": ("A Pulumi stack file of the data platform. Generated from "
                        "foundation/config/stack.py by `dataplatform docs`: do not edit. The "
                        "loader checks more than this schema (names, CIDRs, regions, rules "
                        "across keys): `dataplatform plan <stack>` has the last word."),
        "type": "object",
        "properties": {"config": config, **{k: FILE_KEY_SCHEMAS.get(k, {}) for k in extra_keys}},
        "required": ["config"],
        "additionalProperties": False,
        "$defs": defs,
    }


def schema_text() -> str:
    return json.dumps(stack_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- the component reference


@dataclass
class _Table:
    """One documented class: a heading, a note and rows of fields."""

    title: str
    note: str
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    nested: list[type] = field(default_factory=list)


@dataclass
class _Component:
    cls: type
    module: str
    file: str
    token: str | None
    signature: str
    inputs: list[_Table]
    outputs: list[tuple[str, str, str]]
    others: list[tuple[str, str, str]]
    notes: list[str]


@cache
def _module_ast(filename: str) -> ast.Module | None:
    try:
        return ast.parse(Path(filename).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None


def _class_ast(cls: type) -> ast.ClassDef | None:
    """The class statement of `cls` in its module's source, or None."""
    module = sys.modules.get(cls.__module__)
    try:
        filename = inspect.getsourcefile(module) if module else None
    except TypeError:
        filename = None
    tree = _module_ast(filename) if filename else None
    if tree is None:
        return None
    body: list[ast.stmt] = tree.body
    found: ast.ClassDef | None = None
    for part in cls.__qualname__.split("."):
        found = next((s for s in body if isinstance(s, ast.ClassDef) and s.name == part), None)
        if found is None:
            return None
        body = found.body
    return found


def _clean(text: str | None) -> str:
    """A docstring on one table line."""
    return " ".join(inspect.cleandoc(text or "").split())


@cache
def _own(cls: type) -> bool:
    """A class of this project (not pulumi's, pydantic's or the standard library's)."""
    if cls.__module__.split(".")[0] in (COMPONENTS_PACKAGE, "foundation", "dataplatform"):
        return True
    try:
        path = Path(inspect.getsourcefile(cls) or "").resolve()
    except (TypeError, OSError):
        return False
    return path.is_relative_to(REPO) and not path.is_relative_to(REPO / ".venv") \
        and "site-packages" not in path.parts


def _attributes(cls: type) -> dict[str, tuple[str, str, type]]:
    """name -> (annotation as written, attribute docstring, class that declares it), over
    the class and its bases of this project."""
    out: dict[str, tuple[str, str, type]] = {}
    for klass in reversed(cls.__mro__):
        node = _class_ast(klass) if _own(klass) else None
        if node is None:
            continue
        for i, stmt in enumerate(node.body):
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                nxt = node.body[i + 1] if i + 1 < len(node.body) else None
                doc = (nxt.value.value if isinstance(nxt, ast.Expr)
                       and isinstance(nxt.value, ast.Constant)
                       and isinstance(nxt.value.value, str) else "")
                out[stmt.target.id] = (ast.unparse(stmt.annotation), _clean(doc), klass)
    return out


def _type_text(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        return annotation.__name__
    return re.sub(r"\b(typing|collections\.abc|builtins)\.", "", repr(annotation))


def _default_text(default: Any = PydanticUndefined, factory: Any = None) -> str:
    if factory is not None:
        empty = {dict: "{}", list: "[]", tuple: "()", set: "set()", frozenset: "frozenset()"}
        return empty.get(factory, f"{getattr(factory, '__name__', 'factory')}()")
    if default is PydanticUndefined or default is dataclasses.MISSING:
        return "required"
    if isinstance(default, Path) and default.is_relative_to(REPO_ROOT):
        # The checkout's own location must not leak into the reference (it differs per clone).
        return default.relative_to(REPO_ROOT).as_posix()
    text = repr(default)
    return type(default).__name__ + "(...)" if " at 0x" in text or len(text) > 80 else text


def _eval(text: str, namespace: dict[str, Any]) -> Any:
    try:
        return eval(text, dict(namespace))
    except Exception:
        return None


def _by_name(name: str) -> type | None:
    """The one class called `name` in the loaded modules of this project, or None."""
    found = {obj for mod_name, mod in sorted(sys.modules.items())
             if mod_name.split(".")[0] in (COMPONENTS_PACKAGE, "foundation")
             for obj in [getattr(mod, name, None)] if isinstance(obj, type)}
    return found.pop() if len(found) == 1 else None


def _annotation_classes(owner: type, text: str) -> list[type]:
    """The classes an annotation's text names in `owner`'s module. Names imported only for
    type checking are looked up by name among the project's loaded modules."""
    if not text:
        return []
    namespace = vars(sys.modules[owner.__module__]) if owner.__module__ in sys.modules else {}
    resolved = _eval(text, namespace)
    if resolved is not None:
        return _classes_in(resolved)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return []
    out: list[type] = []
    names = [n for n in ast.walk(tree) if isinstance(n, ast.Name | ast.Attribute)]
    for node in sorted(names, key=lambda n: n.col_offset):
        obj = _eval(ast.unparse(node), namespace)
        if obj is None and isinstance(node, ast.Name):
            obj = _by_name(node.id)
        if isinstance(obj, type):
            out.append(obj)
    return list(dict.fromkeys(out))


def _classes_in(annotation: Any, depth: int = 0) -> list[type]:
    """The classes an annotation mentions (through Optional, unions, containers)."""
    if depth > 8 or annotation is None:
        return []
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        return [annotation]
    out: list[type] = []
    for arg in typing.get_args(annotation):
        out += _classes_in(arg, depth + 1)
    origin = typing.get_origin(annotation)
    if isinstance(origin, type) and origin is not types.UnionType:
        out.append(origin)
    return out


def _is_model(cls: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(cls, type) and issubclass(cls, BaseModel)


def _documentable(cls: Any) -> bool:
    """A project class worth a table: a dataclass, or a pydantic model of components/.

    The stack config sections (pydantic, `foundation.config`) are documented by the
    schema instead.
    """
    if not isinstance(cls, type) or not cls.__module__.startswith(
            (f"{COMPONENTS_PACKAGE}.", "foundation.")):
        return False
    if dataclasses.is_dataclass(cls):
        return True
    return _is_model(cls) and not cls.__module__.startswith("foundation.config")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") if text else ""


def _table_of(cls: type, title: str) -> _Table:
    """Fields of a dataclass or pydantic model: field, type, default, description."""
    attrs = _attributes(cls)
    kind = "dataclass" if dataclasses.is_dataclass(cls) else "pydantic model"
    doc = _clean(cls.__dict__.get("__doc__"))
    table = _Table(title, f"`{cls.__name__}` ({kind}, `{cls.__module__}`)"
                   + (f": {doc}" if doc else ""))
    nested: list[type] = []
    if dataclasses.is_dataclass(cls):
        for f in dataclasses.fields(cls):
            text, doc, owner = attrs.get(f.name, (_type_text(f.type), "", cls))
            factory = None if f.default_factory is dataclasses.MISSING else f.default_factory
            table.rows.append((f.name, text, _default_text(f.default, factory), doc))
            nested += (_annotation_classes(owner, text) if isinstance(f.type, str)
                       else _classes_in(f.type))
    elif _is_model(cls):
        for name, info in cls.model_fields.items():
            text, doc, _ = attrs.get(name, (_type_text(info.annotation), "", cls))
            shown = name if not info.alias or info.alias == name else f"{name} ({info.alias})"
            table.rows.append((shown, text, _default_text(info.default, info.default_factory),
                               info.description or doc))
            nested += _classes_in(info.annotation)
    table.nested = [c for c in dict.fromkeys(nested) if c is not cls and _documentable(c)]
    return table


def _init_ast(cls: type) -> tuple[type, ast.FunctionDef] | None:
    """The nearest `__init__` statement in the class or its bases of this project."""
    for klass in cls.__mro__:
        node = _class_ast(klass) if _own(klass) else None
        init = next((s for s in node.body if isinstance(s, ast.FunctionDef)
                     and s.name == "__init__"), None) if node else None
        if init is not None:
            return klass, init
    return None


def _type_token(cls: type) -> str | None:
    """The first string argument of `super().__init__(...)` in `__init__`, from the source."""
    found = _init_ast(cls)
    if found is None:
        return None
    klass, init = found
    calls = sorted((n for n in ast.walk(init) if isinstance(n, ast.Call)),
                   key=lambda n: (n.lineno, n.col_offset))
    for call in calls:
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "__init__"):
            continue
        target = func.value
        is_super = (isinstance(target, ast.Call) and isinstance(target.func, ast.Name)
                    and target.func.id == "super")
        if not (is_super or ast.unparse(target).endswith("ComponentResource")):
            continue
        for arg in [*call.args, *(k.value for k in call.keywords if k.arg == "t")]:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                return arg.value
            if isinstance(arg, ast.Name):
                value = getattr(sys.modules.get(klass.__module__), arg.id, None)
                if isinstance(value, str):
                    return value
        return None
    return None


def _signature(cls: type) -> tuple[str, list[tuple[str, str]]]:
    """`Class(params)` as written, and (parameter, annotation text) of its inputs."""
    found = _init_ast(cls)
    if found is None:
        return f"{cls.__name__}(...)", []
    init = found[1]
    params = re.sub(r"^self(,\s*|$)", "", ast.unparse(init.args))
    inputs = [(a.arg, ast.unparse(a.annotation) if a.annotation else "")
              for a in [*init.args.posonlyargs, *init.args.args, *init.args.kwonlyargs]
              if a.arg not in ("self", "name", "opts")]
    return f"{cls.__name__}({params})", inputs


def _is_output_or_resource(classes: list[type], text: str) -> bool:
    if any(c is pulumi.Output or issubclass(c, pulumi.Resource) for c in classes):
        return True
    return not classes and bool(re.search(r"\bOutput\[", text))


def _describe(cls: type, module: str, file: str) -> _Component:
    notes: list[str] = []
    token = _type_token(cls)
    if token is None:
        notes.append("Type token not found: `__init__` passes no string literal to "
                     "`super().__init__`.")
    signature, params = _signature(cls)
    inputs: list[_Table] = []
    documented: set[type] = set()
    if "args" not in [p for p, _ in params]:
        notes.append("No `args` parameter: the constructor's parameters are listed instead.")
    for pname, text in params:
        resolved = _annotation_classes(cls, text)
        targets = [c for c in resolved if _documentable(c)]
        for target in targets:
            inputs.append(_table_of(target, f"`{pname}`: {target.__name__}"))
            documented.add(target)
        if targets:
            continue
        if pname == "args":
            notes.append(f"`args: {text or 'untyped'}` is not a dataclass or pydantic model "
                         "that could be read.")
        config = any(_is_model(c) and c.__module__.startswith("foundation.config")
                     for c in resolved)
        inputs.append(_Table(f"`{pname}`", f"`{text or 'untyped'}`" + (
            " (the stack config: see [stack.schema.json](stack.schema.json))" if config
            else "")))
    queue = [c for t in inputs for c in t.nested]
    while queue:
        nested = queue.pop(0)
        if nested in documented:
            continue
        documented.add(nested)
        twin = any(c.__name__ == nested.__name__ for c in documented if c is not nested)
        title = f"{nested.__name__} (`{nested.__module__}`)" if twin else nested.__name__
        table = _table_of(nested, title)
        inputs.append(table)
        queue += table.nested
    outputs: list[tuple[str, str, str]] = []
    others: list[tuple[str, str, str]] = []
    for name, (text, doc, owner) in _attributes(cls).items():
        if name.startswith("_") or re.match(r"(typing\.)?ClassVar\b", text):
            continue
        row = (name, text, doc)
        is_output = _is_output_or_resource(_annotation_classes(owner, text), text)
        (outputs if is_output else others).append(row)
    return _Component(cls, module, file, token, signature, inputs, outputs, others, notes)


def _module_names(package: str) -> list[str]:
    """Every module under `package`, found on disk (a broken package still lists)."""
    root = importlib.import_module(package)
    out: list[str] = []

    def walk(paths: list[str], prefix: str) -> None:
        for info in pkgutil.iter_modules(paths, prefix):
            out.append(info.name)
            if info.ispkg:
                walk([os.path.join(p, info.name.rsplit(".", 1)[-1]) for p in paths],
                     info.name + ".")

    walk(list(root.__path__), package + ".")
    return sorted(out)


def _source_path(module: types.ModuleType) -> str:
    name = module.__name__.replace(".", "/")
    is_pkg = Path(module.__file__ or "").name == "__init__.py"
    return f"{name}/__init__.py" if is_pkg else f"{name}.py"


def components() -> tuple[list[_Component], list[tuple[str, str]]]:
    """Every ComponentResource defined under `components/`, and modules that failed."""
    base = pulumi.ComponentResource
    modules: list[types.ModuleType] = []
    failed: list[tuple[str, str]] = []
    for name in _module_names(COMPONENTS_PACKAGE):
        try:
            modules.append(importlib.import_module(name))
        except Exception as exc:
            first = (str(exc).splitlines() or [""])[0].replace(f"{REPO}{os.sep}", "")
            failed.append((name, f"{type(exc).__name__}: {first}"))
    # Described once every module is loaded: names imported only for type checking are
    # then found whatever the import order.
    found = [_describe(obj, module.__name__, _source_path(module))
             for module in modules for _, obj in sorted(vars(module).items())
             if isinstance(obj, type) and issubclass(obj, base) and obj is not base
             and obj.__module__ == module.__name__]
    found.sort(key=lambda c: (c.module, c.cls.__name__))
    return found, failed


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _render_table(t: _Table, level: str) -> list[str]:
    out = [f"{level} {t.title}", "", t.note, ""]
    if t.rows:
        out += ["| field | type | default | description |", "| --- | --- | --- | --- |"]
        out += [f"| `{_cell(n)}` | `{_cell(ty)}` | {d if d == 'required' else f'`{_cell(d)}`'} "
                f"| {_cell(doc)} |" for n, ty, d, doc in t.rows]
        out.append("")
    return out


def component_reference() -> str:
    """Markdown reference of every component under `components/`."""
    return _reference(*components())


def _reference(comps: list[_Component], failed: list[tuple[str, str]]) -> str:
    out = ["# Component reference", "",
           "Generated from the ComponentResources under `components/` by `dataplatform docs`; "
           "do not edit. `dataplatform docs --check` fails when this file is stale. The stack "
           "file's keys are in [stack.schema.json](stack.schema.json).", ""]
    if failed:
        out += ["**Modules that could not be imported** (their components are missing "
                "below):", ""]
        out += [f"- `{m}`: {_cell(err)}" for m, err in failed]
        out.append("")
    out += ["| component | type token | module |", "| --- | --- | --- |"]
    out += [f"| [{c.cls.__name__}](#{_slug(c.cls.__name__)}) | `{c.token or '?'}` | "
            f"`{c.module}` |" for c in comps]
    out.append("")
    for c in comps:
        out += [f"## {c.cls.__name__}", "",
                f"- Type token: `{c.token or '?'}`",
                f"- Module: `{c.module}` (`{c.file}`)",
                f"- Constructor: `{c.signature}`", ""]
        doc = inspect.cleandoc(c.cls.__dict__.get("__doc__") or "")
        out += [doc, ""] if doc else []
        out += [f"> {n}" for n in c.notes] + ([""] if c.notes else [])
        for t in c.inputs:
            out += _render_table(t, "###")
        out += ["### Outputs", ""]
        if c.outputs:
            out += ["| output | type | description |", "| --- | --- | --- |"]
            out += [f"| `{n}` | `{_cell(ty)}` | {_cell(doc)} |" for n, ty, doc in c.outputs]
        else:
            out.append("None declared (no class-level `pulumi.Output` or resource annotation).")
        out.append("")
        if c.others:
            out += ["Other attributes: " + ", ".join(
                f"`{n}: {ty}`" + (f" ({doc})" if doc else "") for n, ty, doc in c.others), ""]
    return "\n".join(out).rstrip("\n") + "\n"


# --- writing and checking


def _display(path: Path) -> str:
    try:
        return path.relative_to(REPO).as_posix()
    except ValueError:
        return str(path)


def write(check: bool = False) -> int:
    """Write the reference files; with `check`, only compare (1 when one is stale)."""
    comps, failed = components()
    for module, error in failed:
        print(f"warning: {module} does not import, its components are left out of "
              f"{_display(COMPONENTS_FILE)}: {error}", file=sys.stderr)
    stale = []
    for path, text in {COMPONENTS_FILE: _reference(comps, failed),
                       SCHEMA_FILE: schema_text()}.items():
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        if check:
            stale.append(path)
            print(f"{_display(path)} is stale: refresh it with `{REFRESH}`", file=sys.stderr)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            print(f"wrote {_display(path)}")
    return 1 if stale else 0
