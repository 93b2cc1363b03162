"""Read and validate `stacks/Pulumi.<stack>.yaml` before any resource exists.

Every problem in a file is collected and reported at once, each with the file and the
dotted config key (the one `pulumi config set --path` takes), as a `ConfigError`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dataplatform.config.model import Apps, RuleViolations, StackConfig

PROJECT = "dataplatform"
STACKS_DIR = Path(__file__).resolve().parents[2] / "stacks"
# Namespaces Pulumi passes to providers untouched (e.g. `aws:profile` for a local run).
PROVIDER_NAMESPACES = {"aws", "gcp", "kubernetes"}
# Top-level keys a Pulumi stack file may hold besides `config`.
FILE_KEYS = {"config", "secretsprovider", "encryptionsalt", "encryptedkey", "environment"}
MAX_NODES = 20_000  # YAML nodes after alias expansion: stops "billion laughs" files
MAX_BYTES = 1_000_000


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
        return "\n".join([head, *(f"  - {p.key}: {p.message}" for p in self.problems)])


def stack_file(stack: str, stacks_dir: Path = STACKS_DIR) -> Path:
    return stacks_dir / f"Pulumi.{stack}.yaml"


def available_stacks(stacks_dir: Path = STACKS_DIR) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir.glob("Pulumi.*.yaml"))


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


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


def _read_yaml(path: Path, source: str) -> Any:
    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        raise ConfigError(source, [Problem("(file)", f"larger than {MAX_BYTES} bytes")])
    try:
        text = raw.decode("utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None and _expanded_size(node, {}) > MAX_NODES:
            raise ConfigError(source, [Problem(
                "(file)", f"more than {MAX_NODES} values once YAML aliases are expanded")])
        return yaml.safe_load(text)
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(source, [Problem("(file)", f"not valid YAML: {detail}")]) from None


def _key(loc: tuple[Any, ...]) -> str:
    return f"{PROJECT}:" + ".".join(str(p) for p in loc) if loc else f"{PROJECT}"


def _problems(exc: ValidationError) -> list[Problem]:
    out = []
    known_apps = list(Apps.model_fields)
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, RuleViolations):
            prefix = ".".join(str(p) for p in loc)
            out += [Problem(_key(tuple(filter(None, (prefix, k)))), m) for k, m in cause.problems]
            continue
        if err["type"] == "extra_forbidden":
            name = str(loc[-1])
            if loc[:-1] == ("apps",):
                msg = f"unknown app '{name}' (known apps: {', '.join(known_apps)})"
            else:
                parent = _submodel_fields(loc[:-1])
                near = difflib.get_close_matches(name, parent, n=1)
                msg = "unknown key" + (f" (did you mean '{near[0]}'?)" if near else "")
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
    try:
        cfg = StackConfig.model_validate(ours)
    except ValidationError as exc:
        problems.extend(_problems(exc))
        raise ConfigError(source, problems) from None
    if problems:
        raise ConfigError(source, problems)
    return cfg


def load_stack_config(stack: str, stacks_dir: Path = STACKS_DIR) -> StackConfig:
    """Load `stacks/Pulumi.<stack>.yaml`, check cross-stack references, or raise ConfigError."""
    path = stack_file(stack, stacks_dir)
    source = _display(path)
    if not path.is_file():
        known = ", ".join(available_stacks(stacks_dir)) or "none"
        raise ConfigError(source, [Problem("(stack)", f"unknown stack '{stack}' (known: {known})")])
    cfg = parse_stack_config(_read_yaml(path, source), source)
    if cfg.platform is not None:
        _check_platform_ref(cfg, stacks_dir, source)
    return cfg


def _check_platform_ref(cfg: StackConfig, stacks_dir: Path, source: str) -> None:
    ref = cfg.platform.stack
    key = f"{PROJECT}:platform.stack"
    path = stack_file(ref, stacks_dir)
    if not path.is_file():
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
