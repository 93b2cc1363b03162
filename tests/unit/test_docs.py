"""The commands in README.md and docs/*.md: each runs, or is checked.

Every fenced `bash`/`sh`/`console` block is split into simple commands:
- `dataplatform …` parses with the real CLI parser; the cheap ones run (`stacks`,
  `plan local` without the policy pack, `new …` into a scratch folder, which must succeed);
  the stacks they name exist (shipped, or written by a `new` example of the docs);
- `pulumi …` uses a known subcommand with known flags; `config set` keys exist in the
  config model; `-s` names a known stack;
- anything else is one of a few known tools.
"""

from __future__ import annotations

import re
import shlex
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from dataplatform import cli
from foundation.config.loader import available_stacks
from foundation.config.stack import StackConfig

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LANGS = ("bash", "sh", "shell", "console")
OPERATORS = {"&&", "||", ";", "|", "&"}
REDIRECTS = {">", ">>", "<", "2>", "2>&1"}
TOOLS = {"python3", "python", "pip", ".venv/bin/pip", ".venv/bin/pytest", ".venv/bin/ruff",
         "git", "kubectl", "argocd", "velero", "kind", "helm", "aws", "gcloud", "jq", "grep",
         "diff", "$EDITOR", "cd", "export"}
STACK = {"-s", "--stack"}
UP = STACK | {"--policy-pack", "--policy-pack-config", "--replace", "--target", "-t",
              "--target-dependents", "--refresh", "-r", "--diff", "--message", "-m"}
PULUMI: dict[tuple[str, ...], set[str]] = {
    ("login",): {"--local", "--cloud-url"},
    ("logout",): set(),
    ("whoami",): set(),
    ("stack",): STACK | {"--show-urns", "--show-ids"},
    ("stack", "init"): STACK | {"--secrets-provider"},
    ("stack", "select"): STACK | {"--create", "-c", "--secrets-provider"},
    ("stack", "ls"): set(),
    ("stack", "rm"): STACK | {"--yes", "-y", "--force", "-f", "--preserve-config"},
    ("stack", "history"): STACK | {"--json", "-j", "--full-dates"},
    ("stack", "export"): STACK | {"--file"},
    ("stack", "import"): STACK | {"--file"},
    ("stack", "output"): STACK | {"--json", "-j"},
    ("stack", "change-secrets-provider"): STACK,
    ("config", "set"): STACK | {"--secret", "--plaintext", "--path"},
    ("config", "get"): STACK | {"--path", "--json"},
    ("config", "rm"): STACK | {"--path"},
    ("preview",): UP,
    ("up",): UP | {"--yes", "-y", "--skip-preview", "-f"},
    ("destroy",): STACK | {"--yes", "-y", "--target", "-t", "--exclude-protected",
                           "--skip-preview"},
    ("refresh",): STACK | {"--yes", "-y", "--skip-preview"},
    ("cancel",): STACK | {"--yes", "-y"},
    ("state", "delete"): STACK | {"--yes", "-y"},
    ("state", "unprotect"): STACK | {"--yes", "-y", "--all"},
}


def blocks(path: Path) -> list[tuple[str, str]]:
    return re.findall(r"^```(\w+)\n(.*?)^```", path.read_text(), re.S | re.M)


def command_lines(lang: str, body: str) -> list[str]:
    body = re.sub(r"\\\n\s*", " ", body)
    lines = body.splitlines()
    if lang == "console":
        return [line[2:] for line in lines if line.startswith("$ ")]
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def simple_commands(line: str) -> list[list[str]]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    out: list[list[str]] = [[]]
    tokens = list(lexer)
    skip = False
    for tok in tokens:
        if skip:
            skip = False
        elif tok in OPERATORS:
            out.append([])
        elif tok in REDIRECTS or tok.endswith(">"):
            skip = True
        else:
            out[-1].append(tok)
    return [c for c in out if c]


def all_commands() -> list[tuple[str, list[str]]]:
    return [(path.relative_to(REPO).as_posix(), cmd) for path in DOCS
            for lang, body in blocks(path) if lang in LANGS
            for line in command_lines(lang, body) for cmd in simple_commands(line)]


COMMANDS = all_commands()


# --- dataplatform: parse, and run the cheap ones (in document order)

@pytest.fixture(scope="module")
def example_stacks(tmp_path_factory) -> set[str]:
    """Run every `dataplatform new` example (one scratch folder per document)."""
    written: set[str] = set()
    folders: dict[str, Path] = {}
    for doc, cmd in COMMANDS:
        if Path(cmd[0]).name == "dataplatform" and cmd[1:2] == ["new"]:
            folder = folders.setdefault(doc, tmp_path_factory.mktemp("docs-new"))
            before = set(available_stacks(folder))
            assert cli.main([*cmd[1:], "--stacks-dir", str(folder)]) == 0, (doc, cmd)
            written |= set(available_stacks(folder)) - before
    return written


def known_stack(name: str, examples: set[str]) -> bool:
    placeholder = name.isupper() or "<" in name
    return placeholder or name in examples or name in available_stacks()


DATAPLATFORM = [(doc, cmd[1:]) for doc, cmd in COMMANDS if Path(cmd[0]).name == "dataplatform"]


@pytest.mark.parametrize(("doc", "args"), DATAPLATFORM, ids=[" ".join(a) for _, a in DATAPLATFORM])
def test_dataplatform_command(doc, args, example_stacks, capsys):
    try:
        ns = cli.parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"{doc}: `dataplatform {' '.join(args)}` does not parse: "
                    f"{capsys.readouterr().err}")
    if args[0] == "plan":
        for stack in ns.stacks:
            assert known_stack(stack, example_stacks), f"{doc}: unknown stack {stack}"
    if args[0] == "stacks" or args[:2] == ["plan", "local"]:
        extra = ["--no-policy"] if args[0] == "plan" and "--no-policy" not in args else []
        assert cli.main([*args, *extra]) == 0, f"{doc}: {' '.join(args)}"


def test_docs_have_commands_and_new_examples(example_stacks):
    assert len(DATAPLATFORM) >= 10 and {"hooli-platform-prod", "hooli-hr-prod"} <= example_stacks


# --- pulumi: known subcommands and flags, real config keys, known stacks

def model_has_path(path: str) -> bool:
    """True when `a.b[0].c` is a key of the stack config (below `dataplatform:`)."""
    model: typing.Any = StackConfig
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return model is dict  # free-form maps (values, labels) take any key
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        if part not in fields:
            return False
        model = _inner(fields[part].annotation)
    return True


def _inner(annotation: typing.Any) -> typing.Any:
    """The model (or dict) a field holds, through Optional, list and Annotated."""
    origin = typing.get_origin(annotation)
    if origin is dict:
        return dict
    if origin is not None:
        inner = [_inner(a) for a in typing.get_args(annotation) if a is not type(None)]
        models = [a for a in inner if a is dict or (isinstance(a, type) and issubclass(a, BaseModel))]
        return models[0] if models else inner[0]
    return annotation


PULUMI_CMDS = [(doc, cmd[1:]) for doc, cmd in COMMANDS if cmd[0] == "pulumi"]


@pytest.mark.parametrize(("doc", "args"), PULUMI_CMDS, ids=[" ".join(a) for _, a in PULUMI_CMDS])
def test_pulumi_command(doc, args, example_stacks):
    positional = [a for a in args if not a.startswith("-")]
    sub = max((k for k in PULUMI if tuple(positional[: len(k)]) == k), key=len, default=None)
    assert sub is not None, f"{doc}: `pulumi {' '.join(args)}`: unknown subcommand"
    for i, arg in enumerate(args):
        if arg.startswith("-"):
            flag = arg.split("=")[0]
            assert flag in PULUMI[sub], f"{doc}: `pulumi {' '.join(sub)}` has no flag {flag}"
            if flag in STACK:
                assert known_stack(args[i + 1], example_stacks), f"{doc}: stack {args[i + 1]}"
    if sub in (("config", "set"), ("config", "get"), ("config", "rm")):
        key = next(a for a in args[2:] if not a.startswith("-"))
        ns, _, path = key.partition(":")
        assert ns == "dataplatform" and model_has_path(path), f"{doc}: no config key {key}"


def test_model_path_lookup():
    assert model_has_path("warehouse.password")
    assert model_has_path("cluster.publicAccessCidrs[0]")
    assert model_has_path("apps.airflow.values.webserver")
    assert not model_has_path("warehouse.passwd")


# --- other tools

def test_other_commands_use_known_tools():
    unknown = [(doc, cmd) for doc, cmd in COMMANDS
               if Path(cmd[0]).name not in ("dataplatform", "pulumi") and cmd[0] not in TOOLS]
    assert not unknown, unknown
