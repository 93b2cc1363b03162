"""Apps: every Helm chart, whether a Pulumi Helm Release or an Argo CD Application, is an
exact version from an allow-listed repository.

The allow-list defaults to the repositories of the project's `charts.lock.yaml` (read
when the pack starts from this repository); `extraAllowedRepos` extends it and
`allowedRepos` replaces it. A pack published without the repository has an empty
default and needs `allowedRepos` in its config.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from pulumi_policy import Severity

from guardrails._base import get, items, label, resource_policy

RELEASES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
LOCK_FILE = Path(__file__).resolve().parents[2] / "charts.lock.yaml"
EXACT = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def locked_repos(path: Path = LOCK_FILE) -> list[str]:
    """The repositories of charts.lock.yaml, or [] without the file."""
    try:
        import yaml

        charts = (yaml.safe_load(path.read_text()) or {}).get("charts") or {}
    except (OSError, ImportError, AttributeError, ValueError):
        return []
    return sorted({str(c["repo"]) for c in charts.values() if isinstance(c, dict) and "repo" in c})


def normalize(repo: str) -> str:
    return repo.strip().rstrip("/").lower()


def charts(args) -> Iterator[tuple[str, Mapping | None, str, str]]:
    """(where, source, repo, version) of each chart the resource installs.

    `source` is the Argo CD source (None for Helm releases); only sources with a `chart`
    are Helm charts, the others are Git paths (their repo still has to be allowed).
    """
    props = args.props
    if args.resource_type in RELEASES:
        chart = str(get(props, "chart") or "")
        repo = get(props, "repositoryOpts.repo") or (chart.rsplit("/", 1)[0]
                                                      if "://" in chart else "")
        yield f"chart '{chart}'", None, str(repo), str(get(props, "version") or "")
        return
    sources = items(get(props, "spec.sources"))
    if get(props, "spec.source"):
        sources.insert(0, get(props, "spec.source"))
    for s in sources:
        name = get(s, "chart") or get(s, "path") or "?"
        yield (f"source '{name}'", s, str(get(s, "repoURL") or ""),
               str(get(s, "targetRevision") or ""))


def check_version(args, cfg) -> Iterator[str]:
    for where, source, _, version in charts(args):
        if source is not None and not get(source, "chart"):
            continue  # a Git source: targetRevision is a Git ref, not a chart version
        if not EXACT.match(version):
            field = "targetRevision" if source is not None else "version"
            shown = f"'{version}'" if version else "no version (the newest chart)"
            yield (f"{label(args)}: {where} has {field} {shown}; pin an exact chart version "
                   "such as 1.18.0 (no ranges, '*' or 'latest'), as in charts.lock.yaml")


def check_repository(args, cfg) -> Iterator[str]:
    allowed = {normalize(r) for r in [*cfg["allowedRepos"], *cfg["extraAllowedRepos"]]}
    for where, _, repo, _ in charts(args):
        if normalize(repo) not in allowed:
            shown = f"'{repo}'" if repo else "no repository (a local chart)"
            yield (f"{label(args)}: {where} comes from {shown}, which is not allow-listed: "
                   "use a repository of charts.lock.yaml, or add it to the policy config's "
                   "extraAllowedRepos after review")


_urls = {"type": "array", "items": {"type": "string"}}

POLICIES = [
    resource_policy(
        "chart-version-pinned",
        "Helm releases and Argo CD Applications pin an exact chart version.",
        (*RELEASES, APPLICATION), check_version, severity=Severity.HIGH,
        fix="Set version (Helm Release) or spec.source.targetRevision (Argo CD) to an exact "
            "version from charts.lock.yaml."),
    resource_policy(
        "chart-repository-allowed",
        "Helm charts come from allow-listed repositories.",
        (*RELEASES, APPLICATION), check_repository, severity=Severity.HIGH,
        config={"allowedRepos": {**_urls, "default": locked_repos(),
                                 "description": "Allowed chart repositories (default: "
                                                "those of charts.lock.yaml)."},
                "extraAllowedRepos": {**_urls, "default": [],
                                      "description": "Repositories allowed in addition."}},
        fix="Use the repositories of charts.lock.yaml or extend extraAllowedRepos."),
]
