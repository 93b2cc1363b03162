"""`dataplatform affected`: the stacks a git change touches, so CI plans only those.

The change is `git diff --name-only BASE...HEAD` (the commits of HEAD since it forked from
BASE, as a pull request shows them). Each changed path maps to stacks:

- `stacks/Pulumi.X.yaml` -> X, and every domain stack whose `platform.stack` is X. A file
  deleted at HEAD is reported as removed, never planned.
- `charts-values/<folder>/` -> the stacks that deploy it (`_USES`); a folder we cannot tell
  about affects every stack.
- `policies/config/X.json` -> X (the policy settings of one stack).
- Deployment-neutral paths (docs, Markdown, workflows, tests, benchmarks) -> nothing: CI
  still lints and tests them, but there is nothing to preview or deploy.
- Anything else (`foundation/`, `components/`, `policies/`, `dataplatform/`, `profiles/`,
  `access/`, `monitoring/`, `Pulumi.yaml`,
  `pyproject.toml`, `charts.lock.yaml`, `__main__.py`, or an unknown path) -> every stack.

Stack files are read at HEAD, through the config model (defaults included). A file that
does not validate is kept in every set it might belong to: its plan then fails loudly.
"""

from __future__ import annotations

import difflib
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, get_args

import yaml

from foundation.config.app import AppConfig
from foundation.config.apps import Apps
from foundation.config.loader import ConfigError, load_stack_config
from foundation.config.monitoring import alerting_enabled, monitoring_enabled
from foundation.config.stack import StackConfig

STACKS = "stacks"
STACK_FILE = re.compile(r"stacks/Pulumi\.(?P<stack>[^/]+)\.yaml")
POLICY_CONFIG = re.compile(r"policies/config/(?P<stack>[^/]+)\.json")
# Paths whose change deploys nothing. Workflows included: CI runs them, stacks don't.
NEUTRAL_PREFIXES = ("docs/", ".github/", "tests/", "bench/", ".ci/")
NEUTRAL_FILES = {".gitignore", "LICENSE", "CHANGELOG.md", "renovate.json"}
ALL = "*"
# The values of the --kind and --cloud filters: the config model's own.
KINDS: tuple[str, ...] = get_args(StackConfig.model_fields["kind"].annotation)
CLOUDS: tuple[str, ...] = get_args(StackConfig.model_fields["cloud"].annotation)


class GitError(RuntimeError):
    """A git command failed (unknown ref, not a repository): exit code 2."""


class FilterError(ValueError):
    """A --kind or --cloud value no stack can have (it would select nothing): exit code 2."""


def check_filters(kinds: str | None, clouds: str | None) -> tuple[list[str], list[str]]:
    """The comma-separated --kind and --cloud values as lists (empty: no filter), or
    FilterError naming an unknown or missing value and listing the valid ones."""
    return _values("--kind", kinds, KINDS), _values("--cloud", clouds, CLOUDS)


def _values(flag: str, given: str | None, valid: tuple[str, ...]) -> list[str]:
    values = [v.strip() for v in (given or "").split(",") if v.strip()]
    choices = f"(valid: {', '.join(valid)})"
    if given is not None and not values:
        raise FilterError(f"{flag}: give at least one value {choices}")
    for value in values:
        if value not in valid:
            near = difflib.get_close_matches(value, valid, n=1)
            hint = f": did you mean '{near[0]}'?" if near else ""
            raise FilterError(f"{flag}: unknown value '{value}'{hint} {choices}")
    return values


@dataclass(frozen=True)
class StackInfo:
    """One stack file at HEAD; `cfg` is None when the file does not validate."""

    name: str
    cfg: StackConfig | None
    raw: dict[str, Any]

    def _get(self, key: str) -> Any:
        if self.cfg is not None:
            return getattr(self.cfg, key)
        return self.raw.get(f"dataplatform:{key}")

    @property
    def kind(self) -> str:
        return str(self._get("kind") or "unknown")

    @property
    def platform_stack(self) -> str | None:
        if self.cfg is not None:
            return self.cfg.platform.stack if self.cfg.platform else None
        ref = self.raw.get("dataplatform:platform")
        return ref.get("stack") if isinstance(ref, dict) else None

    @property
    def example(self) -> bool:
        """A shipped example: previewed, never deployed (unknown: not an example)."""
        return self._get("example") is True

    def matrix_entry(self) -> dict[str, str]:
        return {"stack": self.name, "kind": self.kind,
                **{k: str(self._get(k) or "") for k in ("cloud", "profile", "region")}}


@dataclass
class Affected:
    """The outcome: stacks to plan (platform stacks first), removed stacks, and why."""

    stacks: list[StackInfo] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reasons: dict[str, list[str]] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [s.name for s in self.stacks]

    def as_json(self) -> dict[str, Any]:
        return {"stacks": self.names(), "removed": self.removed,
                "reasons": {s: self.reasons[s] for s in self.names()},
                "matrix": {"include": [s.matrix_entry() for s in self.stacks]}}


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {proc.stderr.strip() or 'failed'}")
    return proc.stdout


def changed_files(repo: Path, base: str, head: str) -> list[str]:
    """Paths changed on `head` since it forked from `base`; a rename is a delete + an add."""
    out = git(repo, "diff", "--name-only", "--no-renames", f"{base}...{head}", "--")
    return [line for line in out.splitlines() if line]


def stacks_at(repo: Path, head: str) -> dict[str, StackInfo]:
    """Every stack file at `head`, validated with the model (platform references too)."""
    files = [(p, m["stack"])
             for p in git(repo, "ls-tree", "--name-only", head, f"{STACKS}/").splitlines()
             if (m := STACK_FILE.fullmatch(p))]
    out: dict[str, StackInfo] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path, _ in files:
            (Path(tmp) / PurePosixPath(path).name).write_text(git(repo, "show", f"{head}:{path}"))
        for path, name in files:
            out[name] = StackInfo(name, _load(name, Path(tmp)), _raw(Path(tmp), path))
    return out


def _load(stack: str, folder: Path) -> StackConfig | None:
    try:
        return load_stack_config(stack, folder)
    except ConfigError:
        return None


def _raw(folder: Path, path: str) -> dict[str, Any]:
    """The file's `config` mapping, best effort: enough to order and label a bad stack."""
    try:
        data = yaml.safe_load((folder / PurePosixPath(path).name).read_text())
        config = data.get("config") if isinstance(data, dict) else None
        return config if isinstance(config, dict) else {}
    except yaml.YAMLError:
        return {}


# --- which stacks deploy what is in charts-values/<folder>/

def _app(app: str) -> Callable[[StackConfig], bool]:
    return lambda cfg: cfg.kind == "domain" and getattr(cfg.apps, app).enabled


def _in_cluster_db(cfg: StackConfig) -> bool:
    from foundation.config.database import database_mode

    return cfg.kind == "domain" and database_mode(cfg) == "in-cluster"


_USES: dict[str, Callable[[StackConfig], bool]] = {
    "argo-cd": lambda cfg: cfg.owns_cluster and cfg.apps.argocd.enabled,
    "kube-prometheus-stack": monitoring_enabled,
    "minio": lambda cfg: cfg.kind == "domain" and cfg.cloud == "local",
    "postgres": _in_cluster_db,
    "datahub-prerequisites": _app("datahub"),
    "datahub-lineage": _app("datahub"),  # DataHub's lineage ingestion settings
    # The domain monitoring's exporter of Airbyte's sync history.
    "airbyte-sync-exporter": lambda cfg: _app("airbyte")(cfg) and alerting_enabled(cfg),
    **{app: _app(app) for app, f in Apps.model_fields.items() if app != "argocd"
       and isinstance(f.annotation, type) and issubclass(f.annotation, AppConfig)},
}


def _extra_apps(cfg: StackConfig) -> set[str]:
    """Names of the stack's extra (non built-in) apps, where the model has them."""
    extra = getattr(cfg.apps, "extra", None) or []
    return {str(getattr(e, "name", "")) for e in extra}


def _users(folder: str, stacks: dict[str, StackInfo]) -> set[str]:
    """Stacks deploying charts-values/<folder>/; every stack when we cannot tell."""
    extra_users = {s.name for s in stacks.values() if s.cfg and folder in _extra_apps(s.cfg)}
    if folder not in _USES and not extra_users:
        return {ALL}
    uses = _USES.get(folder, lambda cfg: False)
    return extra_users | {s.name for s in stacks.values() if s.cfg is None or uses(s.cfg)}


def _targets(path: str, stacks: dict[str, StackInfo]) -> set[str]:
    """Stacks (or ALL) that a change of `path` affects."""
    if m := STACK_FILE.fullmatch(path):
        x = m["stack"]
        return {x} | {s.name for s in stacks.values() if s.platform_stack == x}
    if m := POLICY_CONFIG.fullmatch(path):
        return {m["stack"]} & set(stacks)
    if path.startswith("charts-values/") and path.count("/") >= 2:
        return _users(path.split("/")[1], stacks)
    if path.endswith(".md") or path in NEUTRAL_FILES or path.startswith(NEUTRAL_PREFIXES):
        return set()
    return {ALL}


def _order(stacks: Iterable[StackInfo]) -> list[StackInfo]:
    """Platform stacks first (domains read them through StackReferences), then by name."""
    return sorted(stacks, key=lambda s: (s.kind != "platform", s.name))


def affected_stacks(repo: Path, base: str | None, head: str = "HEAD", *,
                    kinds: Iterable[str] = (), clouds: Iterable[str] = (),
                    deployable: bool = False) -> Affected:
    """The stacks the change `base...head` touches; every stack when `base` is None.
    `deployable` leaves out the example stacks (`example: true`)."""
    stacks = stacks_at(repo, head)
    paths = changed_files(repo, base, head) if base is not None else ["--all"]
    reasons: dict[str, list[str]] = {}
    removed: set[str] = set()
    for path in paths:
        if (m := STACK_FILE.fullmatch(path)) and m["stack"] not in stacks:
            removed.add(m["stack"])
        targets = {ALL} if base is None else _targets(path, stacks)
        if ALL in targets:
            targets = set(stacks)
        for name in targets & set(stacks):
            reasons.setdefault(name, []).append(path)
    kinds, clouds = set(kinds), set(clouds)
    chosen = [s for s in stacks.values() if s.name in reasons
              and (not kinds or s.kind in kinds)
              and (not clouds or s.matrix_entry()["cloud"] in clouds)
              and not (deployable and s.example)]
    return Affected(_order(chosen), sorted(removed), reasons)
