"""The data-quality metrics contract: what the push script sends, what the rules read.

`push_results.py` (beside this module, run in the dbt container after each run) pushes
the results to the platform's Pushgateway with the grouping key {job, domain, project};
monitoring/rules/data_quality.yaml alerts on them. The thresholds of those rules
(`alerting.thresholds.dataQuality`) may differ per project, model and job: PromQL has no
lookup table, so each threshold is rendered as a vector with the same labels as the value
it is compared with, built from the most specific level down (model or job, project,
default) with `or`, which keeps the left side's element for a label set both sides have.
Without overrides it is the default number. Pure functions: no Pulumi here.
"""

from __future__ import annotations

from pathlib import Path

from foundation.config.monitoring import DataQualityThresholds

PUSH_SCRIPT = Path(__file__).with_name("push_results.py")
"""Mounted into every dbt run (ConfigMap `dbt-metrics-script`)."""

TEST_RESULTS = "dbt_test_results"
LAST_RESULTS = "dbt_run_last_timestamp_seconds"
METRICS = (TEST_RESULTS, "dbt_model_status", "dbt_run_success", LAST_RESULTS,
           "dbt_run_duration_seconds")
"""Every metric the push script sends (tests/data/known_metrics.yaml, target `dbt-push`)."""

TEST_LABELS = "namespace, cronjob, project, job, model"
"""What the test rules aggregate by (one alert per model of a job)."""
RUN_LABELS = "namespace, cronjob, project, job"
"""What the staleness rule aggregates by (one alert per job)."""


def _vector(agg: str, metric: str, base: str, levels: list[tuple[str, int]],
            default: int) -> str:
    """`default`, or a vector giving each series of `agg by (...) (metric{base})` the
    value of the first level (extra matchers, value) it matches, else `default`."""
    if not levels:
        return str(default)
    parts = [f"(0 * {agg} ({metric}{{{base}, {matchers}}}) + {value})"
             for matchers, value in levels]
    parts.append(f"(0 * {agg} ({metric}{{{base}}}) + {default})")
    return "(\n  " + "\n  or\n  ".join(parts) + "\n)"


def max_warnings(domain: str, t: DataQualityThresholds) -> str:
    """Threshold of `sum by (TEST_LABELS) (dbt_test_results{domain, status="warn"})`."""
    models, projects = [], []
    for name, project in sorted(t.projects.items()):
        for model, limits in sorted(project.models.items()):
            if limits.max_warnings is not None:
                models.append((f'project="{name}", model="{model}"', limits.max_warnings))
        if project.max_warnings is not None:
            projects.append((f'project="{name}"', project.max_warnings))
    return _vector(f"sum by ({TEST_LABELS})", TEST_RESULTS,
                   f'domain="{domain}", status="warn"', models + projects, t.max_warnings)


def results_max_age_seconds(domain: str, t: DataQualityThresholds) -> str:
    """Threshold of `time() - max by (RUN_LABELS) (dbt_run_last_timestamp_seconds{domain})`."""
    jobs, projects = [], []
    for name, project in sorted(t.projects.items()):
        for job, limits in sorted(project.jobs.items()):
            if limits.results_max_age_hours is not None:
                jobs.append((f'project="{name}", job="{job}"',
                             limits.results_max_age_hours * 3600))
        if project.results_max_age_hours is not None:
            projects.append((f'project="{name}"', project.results_max_age_hours * 3600))
    return _vector(f"max by ({RUN_LABELS})", LAST_RESULTS, f'domain="{domain}"',
                   jobs + projects, t.results_max_age_hours * 3600)


def placeholders(domain: str, t: DataQualityThresholds) -> dict[str, str]:
    """The `%{...}` values of monitoring/rules/data_quality.yaml."""
    return {"dbt_max_warnings": max_warnings(domain, t),
            "dbt_results_max_age_seconds": results_max_age_seconds(domain, t),
            "dbt_results_max_age_hours": str(t.results_max_age_hours),
            "dbt_test_labels": TEST_LABELS, "dbt_run_labels": RUN_LABELS}
