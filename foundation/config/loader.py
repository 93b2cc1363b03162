"""Read and validate `stacks/Pulumi.<stack>.yaml` before any resource exists.

Every problem in a file is collected and reported at once, each with the file and the
dotted config key (the one `pulumi config set --path` takes), as a `ConfigError`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from foundation import credentials
from foundation.chartkeys import closest
from foundation.config.apps import Apps
from foundation.config.base import RuleViolations
from foundation.config.quota_fit import quota_problems
from foundation.config.secrets import SECRET_ONLY, secret_paths
from foundation.config.stack import StackConfig
from foundation.layout import STACKS_DIR
from foundation.layout import display as _display

PROJECT = "dataplatform"
# Namespaces Pulumi passes to providers untouched (e.g. `aws:profile` for a local run).
PROVIDER_NAMESPACES = {"aws", "gcp", "kubernetes"}
# Top-level keys a Pulumi stack file may hold besides `config`.
FILE_KEYS = {"config", "secretsprovider", "encryptionsalt", "encryptedkey", "environment"}
MAX_NODES = 20_000  # YAML nodes after alias expansion: stops "billion laughs" files
MAX_BYTES = 256 * 1024  # a stack file is a few KiB; parsing 1 MB of YAML takes seconds
MAX_DEPTH = 64  # nesting levels: deeper documents overflow the stack in the YAML composer
MAX_ECHO = 300  # characters of a key or message echoed back
CREDENTIAL_HINT = ("keep it out of the stack file: point the chart at a Kubernetes Secret (its "
                   "existingSecret-style key; the platform generates app credentials into "
                   "Secrets), or use a key documented as a config secret (`pulumi config set "
                   "--secret`)")
PROVIDER_HINT = "encrypt it: `pulumi config set --secret {key} <value>`"
SECRET_HINT = ("an encrypted secret ({secure: ...}), but this key takes a plain value: only "
               "the keys documented as secrets (passwords, tokens, webhooks) take one")


@dataclass(frozen=True)
class Problem:
    key: str
    message: str


class ConfigError(Exception):
    """Invalid or unknown stack: a readable message, exit code 2, no traceback."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"{self.source}: {n} problem{'s' if n != 1 else ''} in stack config"
        return "\n".join([head, *(f"  - {_echo(p.key)}: {_echo(p.message)}"
                                  for p in self.problems)])


def _echo(text: str) -> str:
    """One printable line, head and tail of at most MAX_ECHO characters: a value from the
    file must not flood stderr, break the one-line-per-problem format or hold escapes."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    half = MAX_ECHO // 2
    return text if len(text) <= MAX_ECHO else f"{text[:half]}…{text[-half:]}"


def stack_file(stack: str, stacks_dir: Path = STACKS_DIR) -> Path:
    return stacks_dir / f"Pulumi.{stack}.yaml"


def available_stacks(stacks_dir: Path = STACKS_DIR) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir.glob("Pulumi.*.yaml"))


class _Loader(yaml.SafeLoader):
    """SafeLoader that stops at MAX_DEPTH nesting levels instead of exhausting the stack."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1
                raise yaml.YAMLError(f"nested more than {MAX_DEPTH} levels deep (line {line})")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Node count with aliases expanded, memoised so the count itself stays linear."""
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = MAX_NODES + 1  # a cycle counts as too big
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(v, memo) for v in node.value)
    else:
        size = 1
    memo[id(node)] = size = min(size, MAX_NODES + 1)
    return size


def _duplicate_keys(node: yaml.Node, path: tuple[str, ...], seen: set[int]) -> list[Problem]:
    """Keys given twice in one mapping (PyYAML keeps the last; Pulumi refuses the file),
    keyed like `dataplatform:cluster.mode` (under `config`) or by their file path."""
    if id(node) in seen or isinstance(node, yaml.ScalarNode):
        return []
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        return [p for i, v in enumerate(node.value)
                for p in _duplicate_keys(v, (*path, str(i)), seen)]
    out: list[Problem] = []
    first: dict[tuple[str, str], int] = {}
    for k, v in node.value:
        here = (*path, str(k.value) if isinstance(k, yaml.ScalarNode) else "?")
        if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
            if (k.tag, k.value) in first:
                key = ".".join(here[1:] if here[0] == "config" and len(here) > 1 else here)
                out.append(Problem(key, f"key given twice (lines {first[k.tag, k.value]} and "
                                        f"{k.start_mark.line + 1}): remove one"))
            first.setdefault((k.tag, k.value), k.start_mark.line + 1)
        out += _duplicate_keys(v, here, seen)
    return out


def _read_yaml(path: Path, source: str) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:  # unreadable, a folder in its place...: this stack, not the batch
        raise ConfigError(source, [Problem("(file)", "cannot read the stack file: "
                                                     f"{exc.strerror or exc}")]) from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(source, [Problem("(file)", f"larger than {MAX_BYTES} bytes")])
    try:
        loader = _Loader(raw.decode("utf-8"))  # the reader refuses control characters here
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_NODES:
            raise ConfigError(source, [Problem(
                "(file)", f"more than {MAX_NODES} values once YAML aliases are expanded")])
        duplicates = _duplicate_keys(node, (), set())
        if duplicates:
            raise ConfigError(source, duplicates)
        return loader.construct_document(node)
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        raise ConfigError(source, [Problem("(file)", f"not valid YAML: {_detail(exc)}")]) \
            from None


def _detail(exc: Exception) -> str:
    """What is wrong and where, on one line: PyYAML's own messages span several."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return ": ".join(filter(None, (exc.context, exc.problem))) + where
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _key(loc: tuple[Any, ...]) -> str:
    # pydantic marks a bad dict key with a trailing "[key]": the key is the path itself.
    loc = tuple(p for p in loc if p != "[key]")
    return f"{PROJECT}:" + ".".join(str(p) for p in loc) if loc else f"{PROJECT}"


def _secrets(value: Any, loc: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Where `{secure: ...}` values are: Pulumi's encrypted form, which we never decrypt."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return [loc]
        return [p for k, v in value.items() for p in _secrets(v, (*loc, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _secrets(v, (*loc, i))]
    return []


def _problems(exc: ValidationError, skip: list[tuple[Any, ...]]) -> list[Problem]:
    out = []
    known_apps = Apps.built_in()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if any(loc[: len(s)] == s for s in skip):
            continue  # already reported as a secret
        msg = err["msg"].removeprefix("Value error, ")
        if msg == SECRET_ONLY:  # `pulumi config set --path` writes list items as [i]
            msg = msg.format(key=f"{PROJECT}:" + "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip("."))
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, RuleViolations):
            prefix = ".".join(str(p) for p in loc)
            out += [Problem(_key(tuple(filter(None, (prefix, k)))), m) for k, m in cause.problems]
            continue
        if err["type"] == "extra_forbidden":
            name = str(loc[-1])
            if loc[:-1] == ("apps",):
                msg = (f"unknown app '{name}' (known apps: {', '.join(known_apps)}; any "
                       "other chart goes in apps.extra)")
            else:
                near = closest(name, _submodel_fields(loc[:-1]))
                msg = "unknown key" + (f" (did you mean '{near}'?)" if near else "")
                if "." in name:
                    head, _, rest = name.partition(".")
                    msg = (f"unknown key: nest it as YAML maps, {head}: {{{rest}: …}} (the "
                           "dotted form is for `pulumi config set --path`)")
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif "input" in err and err["type"].endswith("_type"):
            msg = f"{msg}, got {type(err['input']).__name__} {err['input']!r}"[:300]
        out.append(Problem(_key(loc), msg))
    return out


def _submodel_fields(loc: tuple[Any, ...]) -> list[str]:
    """camelCase keys allowed at `loc`, for 'did you mean' hints."""
    model: Any = StackConfig
    for part in loc:
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        field = fields.get(part)
        ann = getattr(field, "annotation", None)
        candidates = (ann, *getattr(ann, "__args__", ()))
        model = next((a for a in candidates if hasattr(a, "model_fields")), None)
        if model is None:
            return []
    return [f.alias or n for n, f in model.model_fields.items()]


def parse_stack_config(data: Any, source: str) -> StackConfig:
    """Validate the parsed content of one stack file."""
    if data is None:
        raise ConfigError(source, [Problem("(file)", "the file is empty")])
    if not isinstance(data, dict):
        raise ConfigError(source, [Problem("(file)", "expected a mapping with a 'config' key")])
    problems = [Problem(str(k), "unknown top-level key") for k in data if k not in FILE_KEYS]
    if "environment" in data and esc_imports(data) is None:
        problems.append(Problem("environment", "a list of Pulumi ESC environment names "
                                               "(project/name), or {imports: [...]}"))
    config = data.get("config")
    if not isinstance(config, dict):
        problems.append(Problem("config", "missing, or not a mapping of config keys"))
        raise ConfigError(source, problems)
    ours: dict[str, Any] = {}
    for full_key, value in config.items():
        ns, sep, key = str(full_key).partition(":")
        if not sep:
            problems.append(Problem(str(full_key), f"config keys are namespaced: '{PROJECT}:{ns}'"))
        elif ns == PROJECT:
            ours[key] = value
        elif ns not in PROVIDER_NAMESPACES:
            problems.append(Problem(str(full_key), f"unknown config namespace '{ns}'"))
        else:
            problems += [Problem(k := _provider_key(full_key, f.path), f"{f.what}: "
                                 + PROVIDER_HINT.format(key=k))
                         for f in credentials.find({str(full_key): value})]
    clear = [Problem(_key(f.path), f"{f.what}: {CREDENTIAL_HINT}")
             for f in credentials.find(ours)]
    try:
        cfg = StackConfig.model_validate(ours)
    except ValidationError as exc:
        # Encrypted values are welcome only where the model takes a SecretValue.
        # (A SecretValue key's own errors, like an empty ciphertext, are reported as such.)
        secrets = [loc for loc in _secrets(ours) if any(
            tuple(e["loc"]) == loc or (tuple(e["loc"]) == (*loc, "secure")
                                       and e["type"] == "extra_forbidden")
            for e in exc.errors())]
        problems += [Problem(_key(loc), f"is {SECRET_HINT}") for loc in secrets]
        problems += _with_credentials(_problems(exc, secrets), clear)
        raise ConfigError(source, problems) from None
    allowed = {tuple(p) for p in secret_paths(cfg)}
    problems += [Problem(_key(loc), f"is {SECRET_HINT}") for loc in _secrets(ours)
                 if tuple(map(str, loc)) not in allowed]
    problems += clear
    problems += [Problem(_key((k,)), m) for k, m in quota_problems(cfg)]
    if problems:
        raise ConfigError(source, problems)
    return cfg


def _provider_key(full_key: Any, path: tuple[str | int, ...]) -> str:
    """`aws:assumeRole.externalId`: the form `pulumi config set --path` takes."""
    return str(full_key) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                                   for p in path[1:])


def _with_credentials(model: list[Problem], clear: list[Problem]) -> list[Problem]:
    """The model's problems merged with the credentials found in clear: a key the model
    already refuses (a token in a Git URL) keeps the model's more specific message, and
    what lies below a credential is not reported again."""
    said = {p.key for p in model}
    below = tuple(f"{c.key}." for c in clear)
    return [*(c for c in clear if c.key not in said),
            *(p for p in model if not p.key.startswith(below))]


def esc_imports(data: Any) -> list[str] | None:
    """The ESC environments a stack file imports (`environment: [a, b]` or
    `environment: {imports: [...]}`); None when the key is malformed."""
    env = data.get("environment") if isinstance(data, dict) else None
    if isinstance(env, dict) and set(env) <= {"imports"}:
        env = env.get("imports")
    if env is None:
        return []
    if isinstance(env, list) and all(isinstance(e, str) and e.strip() for e in env):
        return list(env)
    return None


def load_stack_config(stack: str, stacks_dir: Path = STACKS_DIR) -> StackConfig:
    """Load `stacks/Pulumi.<stack>.yaml`, check cross-stack references, or raise ConfigError."""
    path = stack_file(stack, stacks_dir)
    source = _display(path)
    if not os.path.lexists(path):  # a folder or an unreadable file in its place: read, named
        try:
            os.listdir(stacks_dir)  # else the glob below lists nothing and says not why
        except OSError as exc:
            raise ConfigError(_display(stacks_dir), [Problem(
                "(file)", f"cannot read the stacks folder: {exc.strerror or exc}")]) from None
        stacks = available_stacks(stacks_dir)
        near = closest(stack, stacks)
        raise ConfigError(source, [Problem("(stack)", f"unknown stack '{stack}'"
                                           + (f": did you mean '{near}'?" if near else "")
                                           + f" (known: {', '.join(stacks) or 'none'})")])
    cfg = parse_stack_config(_read_yaml(path, source), source)
    if cfg.platform is not None:
        _check_platform_ref(cfg, cfg.platform.stack, stacks_dir, source)
    return cfg


def _check_platform_ref(cfg: StackConfig, ref: str, stacks_dir: Path, source: str) -> None:
    key = f"{PROJECT}:platform.stack"
    path = stack_file(ref, stacks_dir)
    if not os.path.lexists(path):
        raise ConfigError(source, [Problem(key, f"platform stack '{ref}' has no file "
                                                f"{_display(path)}")])
    try:
        plat = parse_stack_config(_read_yaml(path, _display(path)), _display(path))
    except ConfigError as exc:
        raise ConfigError(source, [Problem(key, f"platform stack '{ref}' is invalid "
                                                f"({len(exc.problems)} problem(s) in "
                                                f"{exc.source})")]) from None
    wrong = [
        f"its {attr} is '{getattr(plat, attr)}', not '{getattr(cfg, attr)}'"
        for attr in ("customer", "cloud", "environment")
        if getattr(plat, attr) != getattr(cfg, attr)
    ]
    if plat.kind != "platform":
        wrong.insert(0, "it is not a platform stack")
    if wrong:
        raise ConfigError(source, [Problem(key, f"'{ref}' cannot host this domain: "
                                                + "; ".join(wrong))])
