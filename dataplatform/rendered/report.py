"""Text summary and manifest files of a render."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from dataplatform.rendered import RenderResult


def summary_text(result: RenderResult) -> str:
    """Objects per kind per release, then the errors (one per line)."""
    lines = [f"Render of stack '{result.stack}' (Kubernetes {result.kube_version}): "
             f"{len(result.releases)} releases, "
             f"{sum(len(r.objects) for r in result.releases)} objects, "
             f"{len(result.direct)} objects made by the program"]
    for r in sorted(result.releases, key=lambda r: (r.namespace, r.name)):
        kinds = Counter(o["kind"] for o in r.objects)
        lines.append(f"  {r.namespace}/{r.name}  {r.chart.name} {r.chart.version}  "
                     f"({r.delivery}): {len(r.objects)} objects")
        lines += [f"      {n:>3} {kind}" for kind, n in sorted(kinds.items())]
        if r.left_out:
            lines.append(f"      not rendered (no templates in the chart folder): "
                         f"{', '.join(r.left_out)}")
    lines.append("")
    if result.warnings:
        lines.append(f"Chart warnings ({len(result.warnings)}):")
        lines += [f"  {w}" for w in result.warnings]
    if result.skipped:
        lines.append(f"Not rendered ({len(result.skipped)}):")
        lines += [f"  {line}" for line in result.skipped]
    lines.append(f"Errors ({len(result.errors)}):" if result.errors else "Errors: none")
    lines += [f"  {e}" for e in result.errors]
    return "\n".join(lines)


def write_manifests(result: RenderResult, out: Path) -> list[Path]:
    """One `<namespace>--<release>.yaml` per release, as Helm rendered it."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for r in result.releases:
        path = out / f"{r.namespace}--{r.name}.yaml"
        path.write_text(r.manifest)
        written.append(path)
    return written
