"""`dataplatform chart-data [--from DIR] [--out DIR]`: refresh the chart data the checks read
(`chartcheck.shared_charts_dir`): `defaults/<chart>/` (`values.yaml`, `values.schema.json`,
`Chart.yaml`, the same per bundled subchart under `charts/<sub>/`), `src/<chart>/` (the
unpacked chart, CRDs included: `render` reads them there), `charts.lock.yaml`. CI has
`../shared/charts`; a clone makes `.chart-data/` from `helm pull` or `--from DIR`. A chart
whose Chart.yaml name, version or appVersion is not the pin is refused; nothing is written.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from dataplatform.chartcheck import LOCAL_CHART_DATA
from foundation import yamlfile
from foundation.charts import ChartPin
from foundation.layout import display

DEFAULT_FILES = ("values.yaml", "values.schema.json", "Chart.yaml")
"""What `defaults/<chart>/` keeps of a chart and of each subchart (../shared/README.md)."""
LOCK_NOTE = "# Written by `dataplatform chart-data`: the pinned charts this folder holds.\n"


class ChartDataError(Exception):
    """A chart cannot be had, or is not the pinned one (one message; exit 2)."""


@dataclass
class Written:
    """What the command wrote for one chart (`defaults`: files under defaults/<chart>/)."""
    pin: ChartPin
    source: str
    defaults: list[str]
    src_files: int
    crd_files: int
    notes: list[str]


def _writable(root: Path) -> None:
    """Copies of a read-only cache (../shared is) stay read-only: let us replace them."""
    for p in [root, *root.rglob("*")]:
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | 0o200)


def _extract(tgz: Path, into: Path) -> Path:
    """The chart folder a `.tgz` holds (one top folder), extracted under `into`."""
    into.mkdir(parents=True)
    try:
        with tarfile.open(tgz) as tar:
            tar.extractall(into, filter="data")  # no absolute paths, `..` or devices
    except (tarfile.TarError, OSError) as exc:
        raise ChartDataError(f"{display(tgz)}: not a chart archive ({exc})") from exc
    tops = [p for p in into.iterdir() if (p / "Chart.yaml").is_file()]
    if len(tops) != 1:
        raise ChartDataError(f"{display(tgz)}: not a chart archive (no single folder with "
                             "a Chart.yaml)")
    return tops[0]


def _unpack_subcharts(chart: Path) -> None:
    """`charts/<sub>-<version>.tgz` -> `charts/<sub>/` at every depth (what the checks read)."""
    subs = chart / "charts"
    for tgz in sorted(subs.glob("*.tgz")):
        top = _extract(tgz, subs / f".unpack-{tgz.name}")
        if not (subs / top.name).exists():
            top.rename(subs / top.name)
        shutil.rmtree(subs / f".unpack-{tgz.name}")
        tgz.unlink()
    for sub in sorted(p for p in subs.glob("*") if p.is_dir()):
        _unpack_subcharts(sub)


def _meta(chart: Path) -> dict:
    try:
        meta = yamlfile.read(chart / "Chart.yaml")
    except (OSError, yaml.YAMLError) as exc:
        raise ChartDataError(f"{display(chart / 'Chart.yaml')}: unreadable ({exc})") from exc
    if not isinstance(meta, Mapping):
        raise ChartDataError(f"{display(chart / 'Chart.yaml')}: not a chart's Chart.yaml")
    return dict(meta)


def _versions(path: Path) -> str:
    """The version a candidate (folder or .tgz) declares, for a refusal message."""
    with tempfile.TemporaryDirectory() as tmp:
        return str(_meta(path if path.is_dir() else _extract(path, Path(tmp) / "x")).get("version"))


def _from_dir(pin: ChartPin, folder: Path, stage: Path) -> tuple[Path, str]:
    """Stage `pin`'s chart from `folder`: `<chart>/` or `<chart>-<version>.tgz`."""
    unpacked, tgz = folder / pin.name, folder / f"{pin.name}-{pin.version}.tgz"
    if (unpacked / "Chart.yaml").is_file() and _versions(unpacked) == pin.version:
        shutil.copytree(unpacked, stage / pin.name, copy_function=shutil.copyfile)
        return stage / pin.name, display(unpacked)
    if tgz.is_file():
        return _extract(tgz, stage / f".tgz-{pin.name}").rename(stage / pin.name), display(tgz)
    # Only other versions (or nothing): say which, so a stale folder is not taken for it.
    others = [p for p in [unpacked, *folder.glob(f"{pin.name}-*.tgz")]
              if (p.is_dir() and (p / "Chart.yaml").is_file())
              or (p.is_file() and p.name[len(pin.name) + 1:][:1].isdigit())]
    if others:
        seen = ", ".join(f"{display(p)} is {_versions(p)}" for p in others)
        raise ChartDataError(f"chart {pin.name}: charts.lock.yaml pins {pin.version}, but {seen}")
    raise ChartDataError(f"chart {pin.name} {pin.version} is not in {display(folder)} "
                         f"(no {pin.name}/ folder, no {tgz.name})")


def _pull(pin: ChartPin, helm: str, stage: Path) -> tuple[Path, str]:
    """`helm pull` of the pinned chart, untarred into `stage`."""
    ref = [f"{pin.repo.rstrip('/')}/{pin.name}"] if pin.repo.startswith("oci://") else \
        [pin.name, "--repo", pin.repo]
    cmd = [helm, "pull", *ref, "--version", pin.version, "--untar", "--untardir",
           str(stage / f".pull-{pin.name}")]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    pulled = stage / f".pull-{pin.name}" / pin.name
    if done.returncode != 0 or not (pulled / "Chart.yaml").is_file():
        why = " ".join(done.stderr.split())[:400] or f"helm exited {done.returncode}"
        raise ChartDataError(f"chart {pin.name} {pin.version}: `helm pull {' '.join(ref)} "
                             f"--version {pin.version}` failed: {why} (no network? pass "
                             "--from DIR with the charts)")
    return pulled.rename(stage / pin.name), f"{pin.repo} (helm pull)"


def find_helm() -> str:
    """A Helm to pull with (`rendered.helm.helm_binary`), or the way out without one."""
    from dataplatform.rendered.helm import RenderError, helm_binary

    try:
        return helm_binary()
    except RenderError as exc:
        raise ChartDataError(f"{exc}; or pass --from DIR: a folder of unpacked charts "
                             "(<chart>/, as ../shared/charts/src) or <chart>-<version>.tgz "
                             "files") from exc


def check_pin(pin: ChartPin, chart: Path, allow_repackage: Iterable[str] = ()) -> list[str]:
    """Refuse a chart that is not `pin` (name, version, appVersion); the notes to report.
    `allow_repackage`: charts whose other appVersion is accepted (../shared's airflow)."""
    meta = _meta(chart)
    name, version = str(meta.get("name")), str(meta.get("version"))
    app = "" if meta.get("appVersion") is None else str(meta["appVersion"])
    where = display(chart / "Chart.yaml")
    if name != pin.name:
        raise ChartDataError(f"{where} is chart {name!r}, not {pin.name!r}")
    if version != pin.version:
        raise ChartDataError(f"{where} is {pin.name} version {version}; charts.lock.yaml "
                             f"pins {pin.version}")
    if app == pin.app_version:
        return []
    said = (f"{pin.name} {pin.version} declares appVersion {app or '(none)'}; charts.lock.yaml "
            f"says the chart at {pin.repo} declares {pin.app_version or '(none)'}")
    if pin.name not in allow_repackage:
        raise ChartDataError(f"{said}: a repackaged chart, refused (take the chart from its "
                             f"repository, or pass --allow-repackage {pin.name})")
    return [f"{said}: accepted as a repackage (--allow-repackage)"]


def _defaults(chart: Path, out: Path, rel: str = "") -> list[str]:
    """Copy `DEFAULT_FILES` of `chart` and of each subchart folder into `out`."""
    written = []
    for name in DEFAULT_FILES:
        if (chart / name).is_file():
            out.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(chart / name, out / name)
            written.append(f"{rel}{name}")
    subs = chart / "charts"
    for sub in sorted(p for p in subs.iterdir() if p.is_dir()) if subs.is_dir() else []:
        written += _defaults(sub, out / "charts" / sub.name, f"{rel}charts/{sub.name}/")
    return written


def _stage(pin: ChartPin, chart: Path, origin: str, stage: Path, kept: Path,
           allow_repackage: Iterable[str]) -> Written:
    """Check the staged `chart` against `pin`, unpack its subcharts, stage its defaults."""
    _writable(chart)
    _unpack_subcharts(chart)
    files = [p.relative_to(chart).parts for p in chart.rglob("*") if p.is_file()]
    out = stage / ".defaults" / pin.name
    item = Written(pin, origin, _defaults(chart, out), len(files),
                   sum("crds" in f[:-1] for f in files), check_pin(pin, chart, allow_repackage))
    missing = [str(d.get("name")) for d in _meta(chart).get("dependencies") or []
               if isinstance(d, Mapping) and not (chart / "charts" / str(d.get("name"))).is_dir()]
    # A subchart kept as defaults only (../shared's kube-prometheus-stack): `render` stubs it
    # from the chart data folder `--from` belongs to; its defaults come from there too.
    found = [sub for sub in missing if (kept / sub).is_dir()]
    for sub in found:
        item.defaults += _defaults(kept / sub, out / "charts" / sub, f"charts/{sub}/")
    if missing:
        item.notes.append(f"subcharts without sources (not rendered): {', '.join(missing)}"
                          + (f"; defaults of {', '.join(found)} from {display(kept)}"
                             if found else ""))
    return item


def refresh(pins: Mapping[str, ChartPin], root: Path = LOCAL_CHART_DATA,
            source: Path | None = None, helm: str | None = None,
            allow_repackage: Iterable[str] = (), only: Iterable[str] = ()) -> list[Written]:
    """Stage and check every chart of `pins` (or those named in `only`), from `source`,
    else `helm pull` with `helm`; then replace `root`'s data for them and write
    `root/charts.lock.yaml`. A refusal (ChartDataError) comes before `root` changes."""
    if source is not None and not source.is_dir():
        raise ChartDataError(f"--from {display(source)}: not a folder")
    # Only replace charts inside a chart data folder: never `rm -r` in some other folder.
    if root.is_dir() and any(root.iterdir()) and not (root / "charts.lock.yaml").is_file():
        raise ChartDataError(f"{display(root)} is not a chart data folder (no "
                             "charts.lock.yaml): choose a new or empty folder with --out")
    helm = helm or (find_helm() if source is None else None)
    created = not root.exists()  # an empty folder left behind would pass for chart data
    root.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=root, prefix=".staging-"))
    try:
        done = []
        for name, pin in pins.items():
            if only and name not in only:
                continue
            chart, origin = (_from_dir(pin, source, stage) if source is not None
                             else _pull(pin, str(helm), stage))
            kept = (source.parent if source else stage) / "defaults" / name / "charts"
            done.append(_stage(pin, chart, origin, stage, kept, allow_repackage))
        for item in done:  # every chart is good: now replace them
            for kind, staged in (("defaults", stage / ".defaults" / item.pin.name),
                                 ("src", stage / item.pin.name)):
                target = root / kind / item.pin.name
                if target.exists():
                    _writable(target)
                    shutil.rmtree(target)
                target.parent.mkdir(exist_ok=True)
                staged.rename(target)
        lock = root / "charts.lock.yaml"
        old = (yamlfile.read(lock) or {}).get("charts") or {} \
            if lock.is_file() else {}
        # Charts refreshed earlier and still pinned at that version stay listed.
        held = {n: p for n, p in pins.items() if str((old.get(n) or {}).get("version"))
                == p.version} | {i.pin.name: i.pin for i in done}
        lock.write_text(LOCK_NOTE + yaml.safe_dump({"charts": {
            n: {"repo": p.repo, "version": p.version,
                **({"appVersion": p.app_version} if p.app_version else {})}
            for n, p in sorted(held.items())}}, sort_keys=False), encoding="utf-8")
        return done
    finally:
        _writable(stage)
        shutil.rmtree(stage)
        if created and not (root / "charts.lock.yaml").exists():
            shutil.rmtree(root)


def report(item: Written) -> list[str]:
    """The lines `chart-data` prints for one chart."""
    subs = sorted({f.rsplit("/", 1)[0].removeprefix("charts/").replace("/charts/", "/")
                   for f in item.defaults if "/" in f})
    return [f"{item.pin.name} {item.pin.version} from {item.source}:",
            f"  defaults/{item.pin.name}/: {len(item.defaults)} files"
            + (f" (subcharts: {', '.join(subs)})" if subs else ""),
            f"  src/{item.pin.name}/: {item.src_files} files, {item.crd_files} CRD files",
            *(f"  note: {n}" for n in item.notes)]


def command(args: argparse.Namespace) -> int:
    """`dataplatform chart-data`: refresh, report per chart; exit 2 with one message."""
    from dataplatform.chartcheck import shared_charts_dir
    from foundation.chartkeys import closest
    from foundation.charts import chart_pins

    pins = chart_pins()
    for name in [*args.chart, *args.allow_repackage]:
        if name not in pins:
            near = closest(name, pins)
            print(f"chart-data: no chart {name!r} in charts.lock.yaml"
                  + (f" (did you mean {near!r}?)" if near else ""), file=sys.stderr)
            return 2
    out: Path = args.out or LOCAL_CHART_DATA
    try:
        done = refresh(pins, out, args.source, allow_repackage=args.allow_repackage,
                       only=args.chart)
    except ChartDataError as exc:
        print(f"chart-data: {exc}; nothing written", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"chart-data: {display(exc.filename or out)}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    for item in done:
        print("\n".join(report(item)))
    print(f"wrote {display(out / 'charts.lock.yaml')}: {', '.join(i.pin.name for i in done)}")
    read = shared_charts_dir()
    if read is None or read.resolve() != out.resolve():
        print(f"note: the checks read {display(read) if read else 'no chart data'}; set "
              f"DATAPLATFORM_CHART_DATA={out.resolve()} to read this folder")
    return 0
