"""Resource footprint of every chart app for one profile, from values files alone.

    .venv/bin/python bench/footprint.py [--profile dev|prod]

For each `charts-values/<app>/` folder named after a chart of `charts.lock.yaml` (others,
such as `minio` or `postgres`, configure our own manifests and are skipped), merges the
chart defaults from `../shared/charts/defaults/<app>/` with our `values.yaml` and
`<profile>.yaml`, then sums CPU/memory requests and limits over the enabled components,
times their replicas, and lists the components left without requests/memory limit.
Heuristics (see `dataplatform.chartcheck.iter_components`): DaemonSets count once, init
containers add up like regular ones, stack overrides and values computed in code are not
included. Exits 0 with a note when `../shared` is absent, 1 if a component lacks resources.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components._values import deep_merge, static_values
from dataplatform.chartcheck import (
    containers_without_resources,
    iter_components,
    load_chart,
    parse_quantity,
    shared_charts_dir,
)
from dataplatform.charts import VALUES_DIR, chart_pins

FIELDS = (("requests", "cpu"), ("requests", "memory"), ("limits", "cpu"), ("limits", "memory"))


def cpu(cores: float) -> str:
    return f"{cores * 1000:.0f}m"


def mem(size: float) -> str:
    return f"{size / 2**30:.2f}Gi" if size >= 2**30 else f"{size / 2**20:.0f}Mi"


def app_footprint(app: str, profile: str, chart_dir: Path) -> tuple[list[float], list[str]]:
    """Summed (cpu req, mem req, cpu lim, mem lim) and the paths lacking resources."""
    merged = deep_merge(load_chart(chart_dir).defaults, static_values(app, profile))
    totals = [0.0] * len(FIELDS)
    for comp in iter_components(merged, chart_dir):
        res = comp.resources if isinstance(comp.resources, dict) else {}
        for i, (kind, name) in enumerate(FIELDS):
            value = (res.get(kind) or {}).get(name)
            if value not in (None, ""):
                totals[i] += parse_quantity(value) * comp.replicas
    return totals, containers_without_resources(merged, chart_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["dev", "prod"], default="dev")
    args = parser.parse_args(argv)
    shared = shared_charts_dir()
    if shared is None:
        print("skipped: ../shared/charts is absent, no chart defaults to merge with",
              file=sys.stderr)
        return 0
    pins = chart_pins()
    apps = sorted(d.name for d in VALUES_DIR.iterdir() if d.is_dir() and d.name in pins)
    header = f"{'app':<24}{'cpu req':>10}{'mem req':>10}{'cpu lim':>10}{'mem lim':>10}"
    print(f"profile: {args.profile}\n{header}\n{'-' * len(header)}")
    grand = [0.0] * len(FIELDS)
    missing: dict[str, list[str]] = {}
    for app in apps:
        chart_dir = shared / "defaults" / app
        if not chart_dir.is_dir():
            print(f"{app:<24}  (no defaults under {chart_dir}: skipped)")
            continue
        totals, missing[app] = app_footprint(app, args.profile, chart_dir)
        grand = [g + t for g, t in zip(grand, totals, strict=True)]
        print(f"{app:<24}{cpu(totals[0]):>10}{mem(totals[1]):>10}"
              f"{cpu(totals[2]):>10}{mem(totals[3]):>10}")
    print(f"{'-' * len(header)}\n{'TOTAL':<24}{cpu(grand[0]):>10}{mem(grand[1]):>10}"
          f"{cpu(grand[2]):>10}{mem(grand[3]):>10}")
    missing = {app: paths for app, paths in missing.items() if paths}
    print("\ncomponents without requests.cpu/requests.memory/limits.memory:"
          + ("" if missing else " none"))
    for app, paths in missing.items():
        print(f"  {app}: {', '.join(paths)}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
