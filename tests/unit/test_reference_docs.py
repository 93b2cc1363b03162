"""The generated reference (`docs/reference/`) is current, and the schema is right.

- drift: the committed files are what `dataplatform docs` generates now;
- every shipped stack file validates against the schema, and names it on its first line;
- the schema refuses what the loader refuses (unknown key, wrong type, a plain value for a
  secret) and accepts provider keys;
- the component reference lists every ComponentResource class of `components/`.
"""

from __future__ import annotations

import ast
import copy
import inspect
import json
from pathlib import Path

import pulumi
import pytest
import yaml
from jsonschema import Draft202012Validator
from stackdir import SHIPPED_STACKS, shipped_examples

from dataplatform import cli, docs
from foundation.config import ConfigError, parse_stack_config
from foundation.config.loader import stack_file

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
REFRESH = "stale: run `dataplatform docs` and commit docs/reference/"
SECRET = {"secure": "v1:c2VjcmV0"}


@pytest.fixture(scope="module")
def schema() -> dict:
    return docs.stack_schema()


@pytest.fixture(scope="module")
def validator(schema) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.fixture(scope="module")
def reference() -> str:
    return docs.component_reference()


# --- (a) drift


def test_committed_schema_is_generated_from_the_model():
    assert docs.SCHEMA_FILE.is_file(), f"{docs.SCHEMA_FILE.name} is missing: {REFRESH}"
    assert docs.SCHEMA_FILE.read_text(encoding="utf-8") == docs.schema_text(), \
        f"docs/reference/stack.schema.json is {REFRESH}"


def test_committed_component_reference_is_generated_from_the_code(reference):
    assert docs.COMPONENTS_FILE.is_file(), f"{docs.COMPONENTS_FILE.name} is missing: {REFRESH}"
    assert docs.COMPONENTS_FILE.read_text(encoding="utf-8") == reference, \
        f"docs/reference/components.md is {REFRESH}"


def test_docs_command_writes_then_check_passes_and_flags_a_stale_file(tmp_path, monkeypatch,
                                                                      capsys):
    monkeypatch.setattr(docs, "SCHEMA_FILE", tmp_path / "ref" / "stack.schema.json")
    monkeypatch.setattr(docs, "COMPONENTS_FILE", tmp_path / "ref" / "components.md")
    assert cli.main(["docs", "--check"]) == 1  # nothing written yet: both missing
    assert cli.main(["docs"]) == 0
    assert docs.SCHEMA_FILE.read_text(encoding="utf-8") == docs.schema_text()
    assert cli.main(["docs", "--check"]) == 0
    docs.COMPONENTS_FILE.write_text("# edited by hand\n", encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["docs", "--check"]) == 1
    err = capsys.readouterr().err
    assert "components.md is stale" in err and "`dataplatform docs`" in err
    assert "stack.schema.json is stale" not in err


# --- (b) the shipped stack files


@pytest.mark.parametrize("stack", shipped_examples())
def test_shipped_stack_validates_against_the_schema(stack, validator):
    data = yaml.safe_load(stack_file(stack, SHIPPED_STACKS).read_text())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(data)]
    assert not errors, errors


@pytest.mark.parametrize("stack", shipped_examples())
def test_shipped_stack_names_the_schema_on_its_first_line(stack):
    path = stack_file(stack, SHIPPED_STACKS)
    first = path.read_text().splitlines()[0]
    assert first == docs.modeline(SHIPPED_STACKS)
    target = first.removeprefix(docs.MODELINE_PREFIX)
    assert (path.parent / target).resolve() == docs.SCHEMA_FILE.resolve()


def test_new_stack_files_name_the_schema(tmp_path):
    assert cli.main(["new", "customer", "acme", "--cloud", "local", "--domains", "sales",
                     "--environments", "dev", "--stacks-dir", str(tmp_path)]) == 0
    for path in sorted(tmp_path.glob("Pulumi.*.yaml")):
        first = path.read_text().splitlines()[0]
        assert first.startswith(docs.MODELINE_PREFIX), path.name
        target = first.removeprefix(docs.MODELINE_PREFIX)
        assert (path.parent / target).resolve() == docs.SCHEMA_FILE.resolve(), path.name


# --- (c) what the schema refuses and accepts, as the loader does


@pytest.fixture(scope="module")
def local() -> dict:
    return yaml.safe_load(stack_file("local").read_text())


def changed(base: dict, **config) -> dict:
    data = copy.deepcopy(base)
    data["config"].update({k.replace("__", ":"): v for k, v in config.items()})
    return data


def loader_accepts(data: dict) -> bool:
    try:
        parse_stack_config(copy.deepcopy(data), "test")
        return True
    except ConfigError:
        return False


WAREHOUSE = {"type": "postgres", "host": "db.example.com", "database": "analytics",
             "user": "dbt"}
REFUSED = {
    "unknown dataplatform key": {"dataplatform__clustr": {"mode": "dedicated"}},
    "unknown nested key": {"dataplatform__cluster": {"mode": "dedicated",
                                                     "kubeContext": "kind-x", "zones": 3}},
    "wrong type": {"dataplatform__owner": 42},
    "wrong nested type": {"dataplatform__apps": {"airbyte": {"enabled": "yes"}}},
    "not a choice": {"dataplatform__profile": "staging"},
    "plain value for a secret": {"dataplatform__warehouse": {**WAREHOUSE,
                                                             "password": "s3cr3t"}},
    "empty secret": {"dataplatform__warehouse": {**WAREHOUSE, "password": {"secure": ""}}},
    "unknown namespace": {"azure__location": "westeurope"},
    "no namespace": {"customer": "acme"},
}


def test_the_base_and_the_secret_form_are_accepted(local, validator):
    assert validator.is_valid(local)
    with_secret = changed(local, dataplatform__warehouse={**WAREHOUSE, "password": SECRET})
    assert loader_accepts(with_secret)  # the example is valid config...
    assert validator.is_valid(with_secret)  # ...and the schema agrees


@pytest.mark.parametrize("case", REFUSED)
def test_schema_refuses_what_the_loader_refuses(case, local, validator):
    bad = changed(local, **REFUSED[case])
    assert not loader_accepts(bad), f"{case}: the loader accepts it, fix the test"
    assert not validator.is_valid(bad), f"{case}: the schema accepts it"


def test_schema_refuses_a_missing_required_key_and_unknown_file_keys(local, validator):
    missing = copy.deepcopy(local)
    del missing["config"]["dataplatform:customer"]
    assert not validator.is_valid(missing)
    assert not validator.is_valid({**local, "confg": {}})
    assert not validator.is_valid({"secretsprovider": "passphrase"})  # no config


@pytest.mark.parametrize("key", ["aws:region", "gcp:project", "kubernetes:context"])
def test_schema_accepts_provider_keys(key, local, validator):
    data = changed(local, **{key.replace(":", "__"): "x"})
    assert loader_accepts(data)
    assert validator.is_valid(data)
    assert validator.is_valid({**data, "encryptionsalt": "v1:abc", "secretsprovider": "x"})


def test_schema_keeps_descriptions_and_hoists_defs(schema):
    props = schema["properties"]["config"]["properties"]
    assert props["dataplatform:customer"]["description"]
    assert "$defs" not in props["dataplatform:cluster"] and "$defs" in schema
    refs = {v for node in docs._walk(schema) for k, v in node.items() if k == "$ref"}
    assert refs and all(r.removeprefix("#/$defs/") in schema["$defs"] for r in refs)
    assert json.loads(docs.schema_text()) == schema


# --- (d) the component reference


def _cell(text: str) -> str:
    return " ".join(inspect.cleandoc(text).split()).replace("|", "\\|")


def _fields(cls: ast.ClassDef) -> list[tuple[str, str, str]]:
    """(name, annotation, attribute docstring) declared in a class body."""
    out = []
    for i, stmt in enumerate(cls.body):
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            nxt = cls.body[i + 1] if i + 1 < len(cls.body) else None
            doc = nxt.value.value if isinstance(nxt, ast.Expr) and isinstance(
                nxt.value, ast.Constant) and isinstance(nxt.value.value, str) else ""
            out.append((stmt.target.id, ast.unparse(stmt.annotation), doc))
    return out


def source_components() -> dict[str, tuple[str | None, ast.ClassDef, ast.ClassDef | None]]:
    """Class -> (type token, class, Args class) of every ComponentResource subclass in
    components/, read from the source (independent of the generator and its imports)."""
    classes = {}
    for path in sorted((REPO / "components").rglob("*.py")):
        classes.update({(path, n.name): n for n in ast.walk(ast.parse(path.read_text()))
                        if isinstance(n, ast.ClassDef)})
    found = {}
    for (path, name), node in classes.items():
        if not any(ast.unparse(b).endswith("ComponentResource") for b in node.bases):
            continue
        init = next((s for s in node.body
                     if isinstance(s, ast.FunctionDef) and s.name == "__init__"), None)
        calls = sorted((c for c in ast.walk(init) if isinstance(c, ast.Call)
                        and ast.unparse(c.func) == "super().__init__"),
                       key=lambda c: c.lineno) if init else []
        token = next((a.value for c in calls[:1] for a in c.args
                      if isinstance(a, ast.Constant) and isinstance(a.value, str)), None)
        arg = next((a for a in init.args.args if a.arg == "args"), None) if init else None
        args_name = ast.unparse(arg.annotation) if arg and arg.annotation else None
        args_cls = classes.get((path, args_name)) or next(
            (c for (_, n), c in sorted(classes.items()) if n == args_name), None)
        found[name] = (token, node, args_cls)
    return found


def section(reference: str, name: str) -> str:
    assert f"\n## {name}\n" in reference, f"{name} has no section in the reference"
    return reference.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]


def test_reference_lists_every_component_with_its_token(reference):
    found = source_components()
    assert len(found) >= 15, sorted(found)
    missing = [f"{name} ({token})" for name, (token, _, _) in sorted(found.items())
               if f"| [{name}](#{name.lower()}) | `{token or '?'}` |" not in reference
               or f"\n## {name}\n" not in reference]
    assert not missing, f"components missing from the reference: {missing}"
    for name, (token, _, _) in found.items():
        assert f"- Type token: `{token or '?'}`" in section(reference, name), name


def test_reference_documents_args_fields_and_outputs(reference):
    checked = 0
    for name, (_, node, args_cls) in sorted(source_components().items()):
        text = section(reference, name)
        outputs = text.split("### Outputs", 1)[1]
        for field, annotation, doc in _fields(node):
            if "Output[" in annotation and not field.startswith("_"):
                assert f"| `{field}` | `{_cell(annotation)}` | {_cell(doc)} |" in outputs, \
                    (name, field)
        if args_cls is None:
            continue
        assert f"### `args`: {args_cls.name}" in text, name
        for field, annotation, doc in _fields(args_cls):
            row = f"| `{field}` | `{_cell(annotation)}` | "
            assert row in text, (name, field)
            assert _cell(doc) in text.split(row, 1)[1].split("\n", 1)[0], (name, field)
            checked += 1
    assert checked >= 50, checked
    helm = section(reference, "HelmApp")
    assert "### SyncSettings" in helm  # a dataclass nested in HelmAppArgs


# A component as unusual as the generator must survive: no args, untyped parameters,
# an Args that is neither a dataclass nor a model, a token held in a constant.
TOKEN = "dataplatform:test:Odd"


class PlainArgs:
    """Not a dataclass."""


class Odd(pulumi.ComponentResource):
    out: pulumi.Output[str]
    """A documented output."""
    helper: int

    def __init__(self, name, args: PlainArgs, extra, opts=None):
        super().__init__(TOKEN, name, None, opts)


class NoInit(pulumi.ComponentResource):
    """Inherits ComponentResource's own constructor."""


def test_reference_survives_unusual_components():
    odd = docs._describe(Odd, __name__, "tests/unit/test_reference_docs.py")
    assert odd.token == TOKEN
    assert odd.outputs == [("out", "pulumi.Output[str]", "A documented output.")]
    assert [n for n, _, _ in odd.others] == ["helper"]
    assert any("not a dataclass or pydantic model" in n for n in odd.notes)
    bare = docs._describe(NoInit, __name__, "tests/unit/test_reference_docs.py")
    assert bare.token is None and bare.notes
    text = docs._reference([odd, bare], [("components.broken", "ImportError: x")])
    assert f"- Type token: `{TOKEN}`" in text and "## NoInit" in text
    assert "`components.broken`: ImportError: x" in text
