"""Push the results of one dbt run (or one Great Expectations validation) to the Pushgateway.

Runs in the dbt container right after dbt (components/apps/dbt/_pod.py mounts this file
from the ConfigMap `dbt-metrics-script`), with the dbt image's own Python and its standard
library only: no curl, no client library. It reads `run_results.json` and `manifest.json`
(which names the model each test is attached to) from dbt's target path, writes the
Prometheus text exposition format and PUTs it to
`<url>/metrics/job/<job>/domain/<domain>/project/<project>` (the grouping key: a run
replaces everything its previous run pushed, so a model that lost its tests loses its
series). Metrics (docs/data-quality.md):

- `dbt_test_results{model, status}`: tests of the run per attached model and status
  (pass, warn, fail, error, skipped), zeros included; `suite` too for Great Expectations.
- `dbt_model_status{model, status}`: 1 on the status of each model, seed and snapshot
  built (success, error, skipped), 0 on the others.
- `dbt_run_success`: 1 when dbt exited 0; `dbt_run_last_timestamp_seconds`: when the
  results were generated; `dbt_run_duration_seconds`: dbt's elapsed time.

Every series also carries `namespace` and `cronjob` (given by the runner), so the rules
can tell a retired or suspended CronJob's last results from a live one's. A run that left
no run_results.json (dbt failed before running anything) POSTs `dbt_run_success` alone:
the previous results stay, and grow stale. Exit code 0 on success, 1 when the push
failed, 2 on bad input; the caller logs a failure and carries on (the run's own outcome
is dbt's exit code). Python 3.9 or later: a project's own dbt image may be older than
the project's.

    python3 push_results.py --target-path target --exit-code 0 --print
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

TEST_STATUSES = ("pass", "warn", "fail", "error", "skipped")
MODEL_STATUSES = ("success", "error", "skipped")
TEST_TYPES = ("test", "unit_test")
MODEL_TYPES = ("model", "seed", "snapshot")
RELATION_TYPES = ("model", "seed", "snapshot", "source")
NO_MODEL = "(none)"
"""`model` of a test attached to no single relation (a singular test over several)."""
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
HELP = {
    "dbt_test_results": "Tests of the latest run per attached model and status.",
    "dbt_model_status": "1 on the status of each model built by the latest run, else 0.",
    "dbt_run_success": "1 when the latest dbt run exited 0.",
    "dbt_run_last_timestamp_seconds": "When the latest results were generated (Unix time).",
    "dbt_run_duration_seconds": "Elapsed time of the latest dbt run.",
}

Sample = tuple[str, dict[str, str], float]


class InputError(Exception):
    """A file this script cannot read as dbt or Great Expectations output."""


def read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: {exc}") from exc


def relation_name(uid: str, manifest: dict[str, Any]) -> str:
    """A model's, seed's or snapshot's name; a source table as `source.table`."""
    parts = uid.split(".")
    if parts[0] == "source":
        src = (manifest.get("sources") or {}).get(uid) or {}
        if src.get("source_name") and src.get("name"):
            return f"{src['source_name']}.{src['name']}"
        return ".".join(parts[2:]) or uid
    node = (manifest.get("nodes") or {}).get(uid) or {}
    return str(node.get("name") or (parts[2] if len(parts) > 2 else uid))


def attached_model(uid: str, manifest: dict[str, Any]) -> str:
    """The relation a test is about: its `attached_node` (generic tests), the only
    relation it depends on (singular tests), a unit test's `model`, else NO_MODEL."""
    if uid.startswith("unit_test."):
        unit = (manifest.get("unit_tests") or {}).get(uid) or {}
        return str(unit.get("model") or NO_MODEL)
    node = (manifest.get("nodes") or {}).get(uid) or {}
    target = node.get("attached_node")
    if not target:
        deps = [d for d in (node.get("depends_on") or {}).get("nodes") or []
                if d.split(".")[0] in RELATION_TYPES]
        target = deps[0] if len(set(deps)) == 1 else None
    return relation_name(target, manifest) if target else NO_MODEL


def timestamp(generated_at: Any) -> float | None:
    if not isinstance(generated_at, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(generated_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:  # dbt writes UTC
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)  # noqa: UP017 (py < 3.11)
    return parsed.timestamp()


def dbt_samples(run_results: dict[str, Any], manifest: dict[str, Any]) -> list[Sample]:
    """The samples of one run_results.json (labels without the common ones)."""
    tests: dict[str, dict[str, int]] = {}
    models: dict[str, str] = {}
    for result in run_results.get("results") or []:
        uid = str(result.get("unique_id") or "")
        kind, status = uid.split(".")[0], str(result.get("status") or "").lower()
        if kind in TEST_TYPES:
            counts = tests.setdefault(attached_model(uid, manifest), dict.fromkeys(
                TEST_STATUSES, 0))
            if status in counts:
                counts[status] += 1
            else:
                print(f"push_results: {uid}: unknown test status '{status}'", file=sys.stderr)
        elif kind in MODEL_TYPES and status in MODEL_STATUSES:
            models[relation_name(uid, manifest)] = status
    out: list[Sample] = []
    for model in sorted(tests):
        out += [("dbt_test_results", {"model": model, "status": s}, float(n))
                for s, n in tests[model].items()]
    for model in sorted(models):
        out += [("dbt_model_status", {"model": model, "status": s},
                 1.0 if models[model] == s else 0.0) for s in MODEL_STATUSES]
    generated = timestamp((run_results.get("metadata") or {}).get("generated_at"))
    out.append(("dbt_run_last_timestamp_seconds", {},
                generated if generated is not None else time.time()))
    elapsed = run_results.get("elapsed_time")
    if isinstance(elapsed, (int, float)):
        out.append(("dbt_run_duration_seconds", {}, float(elapsed)))
    return out


def ge_samples(validation: dict[str, Any], suite: str | None, model: str | None
               ) -> list[Sample]:
    """The samples of one Great Expectations validation result (an
    ExpectationSuiteValidationResult as JSON): each expectation is a test of `model` (the
    batch's data asset) in `suite`; a raised exception counts as `error`."""
    meta = validation.get("meta") or {}
    suite = suite or meta.get("expectation_suite_name") or validation.get("suite_name")
    batch = meta.get("active_batch_definition") or meta.get("batch_spec") or {}
    model = model or batch.get("data_asset_name")
    if not suite or not model:
        raise InputError("a Great Expectations result needs its suite and data asset "
                         "(meta.expectation_suite_name, meta.active_batch_definition."
                         "data_asset_name) or --suite and --model")
    counts = dict.fromkeys(TEST_STATUSES, 0)
    for result in validation.get("results") or []:
        raised = (result.get("exception_info") or {}).get("raised_exception")
        counts["error" if raised else "pass" if result.get("success") else "fail"] += 1
    out: list[Sample] = [("dbt_test_results", {"model": str(model), "suite": str(suite),
                                               "status": s}, float(n))
                         for s, n in counts.items()]
    generated = timestamp(meta.get("run_id", {}).get("run_time")
                          if isinstance(meta.get("run_id"), dict) else None)
    out.append(("dbt_run_last_timestamp_seconds", {},
                generated if generated is not None else time.time()))
    return out


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def exposition(samples: list[Sample], common: dict[str, str]) -> str:
    """Prometheus text format 0.0.4, one HELP/TYPE per family, families in first-seen
    order; `common` labels first on every sample."""
    lines: list[str] = []
    seen: set[str] = set()
    for name, labels, value in samples:
        if name not in seen:
            seen.add(name)
            lines += [f"# HELP {name} {HELP[name]}", f"# TYPE {name} gauge"]
        merged = {**common, **labels}
        text = ",".join(f'{k}="{escape(v)}"' for k, v in merged.items())
        lines.append(f"{name}{{{text}}} {number(value)}" if text else f"{name} {number(value)}")
    return "\n".join(lines) + "\n"


def segment(label: str, value: str) -> str:
    """One grouping-key pair of the URL path (base64 when `/` or empty, as documented)."""
    if value and "/" not in value:
        return f"{label}/{urllib.parse.quote(value, safe='')}"
    encoded = base64.urlsafe_b64encode(value.encode()).decode() or "="
    return f"{label}@base64/{encoded}"


def group_path(domain: str, project: str, job: str) -> str:
    return "/metrics/" + "/".join(segment(k, v) for k, v in (
        ("job", job), ("domain", domain), ("project", project)))


def push(url: str, method: str, body: str, timeout: float, attempts: int = 3) -> None:
    request = urllib.request.Request(url, data=body.encode("utf-8"), method=method,
                                     headers={"Content-Type": CONTENT_TYPE})
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
            return
        except (urllib.error.URLError, OSError) as exc:
            if attempt == attempts:
                raise
            print(f"push_results: attempt {attempt} failed ({exc}), retrying",
                  file=sys.stderr)
            time.sleep(2 * attempt)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--target-path", default=env("DBT_TARGET_PATH", "target"),
                   help="dbt's target folder (run_results.json, manifest.json)")
    p.add_argument("--exit-code", type=int, default=None, help="dbt's exit code")
    p.add_argument("--ge-validation", default=None,
                   help="a Great Expectations validation result (JSON) instead of dbt's")
    p.add_argument("--suite", default=None, help="Great Expectations suite name")
    p.add_argument("--model", default=None, help="Great Expectations data asset name")
    p.add_argument("--url", default=env("DBT_METRICS_URL"), help="Pushgateway base URL")
    for label in ("domain", "project", "job", "namespace", "cronjob"):
        p.add_argument(f"--{label}", default=env(f"DBT_METRICS_{label.upper()}"),
                       required=label in ("domain", "project", "job")
                       and not env(f"DBT_METRICS_{label.upper()}"))
    p.add_argument("--timeout", type=float, default=10.0, help="HTTP timeout (seconds)")
    p.add_argument("--attempts", type=int, default=3, help="tries before giving up")
    p.add_argument("--print", action="store_true",
                   help="print the method, URL path and body instead of pushing")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    common = {k: v for k in ("namespace", "cronjob") if (v := getattr(args, k))}
    try:
        if args.ge_validation:
            samples, method = ge_samples(read_json(args.ge_validation), args.suite,
                                         args.model), "PUT"
        else:
            results = os.path.join(args.target_path, "run_results.json")
            if os.path.isfile(results):
                manifest_path = os.path.join(args.target_path, "manifest.json")
                manifest = read_json(manifest_path) if os.path.isfile(manifest_path) else {}
                samples, method = dbt_samples(read_json(results), manifest), "PUT"
            else:  # keep the previous results: they go stale, which the rules report
                print(f"push_results: no {results}: pushing dbt_run_success only",
                      file=sys.stderr)
                samples, method = [], "POST"
            if args.exit_code is not None:
                samples.insert(0, ("dbt_run_success", {}, 1.0 if args.exit_code == 0
                                   else 0.0))
    except InputError as exc:
        print(f"push_results: {exc}", file=sys.stderr)
        return 2
    if not samples:
        print("push_results: nothing to push", file=sys.stderr)
        return 0
    body = exposition(samples, common)
    path = group_path(args.domain, args.project, args.job)
    if args.print:
        sys.stdout.write(f"{method} {path}\n\n{body}")
        return 0
    if not args.url:
        print("push_results: no Pushgateway URL (--url or DBT_METRICS_URL)", file=sys.stderr)
        return 2
    try:
        push(args.url.rstrip("/") + path, method, body, args.timeout,
             max(1, args.attempts))
    except (urllib.error.URLError, OSError) as exc:
        print(f"push_results: push to {args.url} failed: {exc}", file=sys.stderr)
        return 1
    print(f"push_results: pushed {len(samples)} samples to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
