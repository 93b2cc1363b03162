"""Every alert rule fires on sample series, and stays silent when it should: promtool.

Convention (monitoring/rules/tests/README.md):
- one case file per rule family: monitoring/rules/tests/<stem>.test.yaml for
  monitoring/rules/<stem>.yaml, in promtool's own unit-test format (`evaluation_interval`,
  `tests:` of `interval`, `input_series`, `alert_rule_test`, `promql_expr_test`) but with
  no `rule_files`;
- the harness (tests/promtool.py) renders the family with the project's own code
  (components/observability/_rules.py) for one sample domain, `promtool.SCOPE`: domain
  `marketing`, namespace `acme-marketing-dev`, Argo CD project `acme-marketing-dev`, the
  default thresholds, every `requires` component present, `notify: domain`; writes it and
  the case file (with `rule_files`) to a temporary folder and runs `promtool test rules`;
- every alert of the family has a firing case (`exp_alerts` with its labels `domain`,
  `severity`, `notify` and all its annotations, as promtool compares them exactly) and a
  silent one (`exp_alerts: []`) in a test whose input series feed the rule's metrics;
- input series use only metric names some scrape target exports
  (tests/data/known_metrics.yaml, the same oracle as the rules and dashboards).

promtool comes from $DATAPLATFORM_PROMTOOL, PATH or .tools/ (.ci/run unpacks Debian's
`prometheus` package there); without one the promtool tests skip, loudly, except in CI.
"""

from __future__ import annotations

from typing import Any

import promtool
import pytest
from promtool import (
    CASES_DIR,
    case_file,
    families,
    load_cases,
    rendered_group,
    run,
    run_cases,
)
from test_observability_content import KNOWN, metric_names

pytestmark = pytest.mark.unit

STEMS = sorted(families())


def fed_metrics(test: dict[str, Any]) -> set[str]:
    """Metric names of one test's input series."""
    return set().union(*(metric_names(s["series"]) for s in test.get("input_series") or []))


def coverage_problems(group: dict[str, Any], cases: dict[str, Any]) -> list[str]:
    """What the cases miss: an alert without a firing or a meaningful silent case, a case of
    an alert the family does not have (promtool passes `exp_alerts: []` for any name), a
    firing case without the rendered labels."""
    rules = {r["alert"]: r for r in group["rules"]}
    firing: set[str] = set()
    silent: set[str] = set()
    problems = []
    for test in cases.get("tests") or []:
        fed = fed_metrics(test)
        for case in test.get("alert_rule_test") or []:
            name = case.get("alertname")
            if name not in rules:
                problems.append(f"a case tests {name!r}, not an alert of {group['name']}")
                continue
            expected = case.get("exp_alerts") or []
            if expected:
                firing.add(name)
                for alert in expected:
                    labels = alert.get("exp_labels") or {}
                    if {k: labels.get(k) for k in rules[name]["labels"]} != rules[name]["labels"]:
                        problems.append(f"{name} at {case.get('eval_time')}: exp_labels lack "
                                        f"{rules[name]['labels']}")
            elif fed & metric_names(rules[name]["expr"]):
                silent.add(name)  # quiet although the rule's inputs are there
    problems += [f"{name}: no case where it fires" for name in rules if name not in firing]
    problems += [f"{name}: no case where it stays silent (exp_alerts: []) with its metrics fed"
                 for name in rules if name not in silent]
    return problems


def test_every_rule_family_has_its_case_file():
    found = sorted(p.name.removesuffix(".test.yaml") for p in CASES_DIR.glob("*.test.yaml"))
    assert found == STEMS, (f"one case file per family in {CASES_DIR}: <stem>.test.yaml for "
                            "monitoring/rules/<stem>.yaml")
    assert (CASES_DIR / "README.md").is_file()  # the convention, for whoever adds a rule


@pytest.mark.parametrize("stem", STEMS)
def test_case_files_leave_the_rule_files_to_the_harness(stem):
    cases = load_cases(stem)
    assert "rule_files" not in cases, (f"{case_file(stem)}: no rule_files, the harness renders "
                                       f"monitoring/rules/{stem}.yaml for the sample domain")
    assert cases.get("tests"), f"{case_file(stem)}: no tests"


@pytest.mark.parametrize("stem", STEMS)
def test_every_alert_fires_in_a_case_and_stays_silent_in_another(stem):
    problems = coverage_problems(rendered_group(stem), load_cases(stem))
    assert not problems, f"{case_file(stem)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("stem", STEMS)
def test_cases_feed_only_metrics_some_target_exports(stem):
    """A case must not prove a rule on a series no deployed target emits."""
    for test in load_cases(stem)["tests"]:
        exprs = [s["series"] for s in test.get("input_series") or []]
        exprs += [c["expr"] for c in test.get("promql_expr_test") or []]
        for expr in exprs:
            unknown = metric_names(expr) - KNOWN
            assert not unknown, (f"{case_file(stem)}: {sorted(unknown)} not in "
                                 f"tests/data/known_metrics.yaml: {expr}")


@pytest.mark.parametrize("stem", STEMS)
def test_promtool_accepts_the_rendered_family(stem, tmp_path):
    rules = promtool.render_family(stem, tmp_path)
    proc = run("check", "rules", str(rules))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("stem", STEMS)
def test_promtool_unit_tests_pass(stem, tmp_path):
    proc = run_cases(stem, load_cases(stem), tmp_path)
    assert proc.returncode == 0, f"{case_file(stem)}:\n{proc.stdout}{proc.stderr}"


# --- the harness itself

def test_promtool_fails_an_alert_that_does_not_fire(tmp_path):
    """The rendered rules are really loaded: an expectation they cannot meet fails."""
    rule = rendered_group("platform")["rules"][0]
    cases = {"evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": [],
        "alert_rule_test": [{"eval_time": "1m", "alertname": rule["alert"],
                             "exp_alerts": [{"exp_labels": rule["labels"]}]}]}]}
    proc = run_cases("platform", cases, tmp_path)
    assert proc.returncode != 0 and rule["alert"] in proc.stdout + proc.stderr


def test_coverage_names_each_gap():
    group = {"name": "marketing-x", "rules": [
        {"alert": "A", "expr": "up == 0", "labels": {"domain": "marketing"}},
        {"alert": "B", "expr": "pg_up == 0", "labels": {"domain": "marketing"}}]}
    cases = {"tests": [
        {"input_series": [{"series": 'up{job="x"}', "values": "0x5"}], "alert_rule_test": [
            {"eval_time": "1m", "alertname": "A", "exp_alerts": [{"exp_labels": {}}]},
            {"eval_time": "1m", "alertname": "B", "exp_alerts": []},  # pg_up not fed
            {"eval_time": "1m", "alertname": "Typo", "exp_alerts": []}]}]}
    assert coverage_problems(group, cases) == [
        "A at 1m: exp_labels lack {'domain': 'marketing'}",
        "a case tests 'Typo', not an alert of marketing-x",
        "B: no case where it fires",
        "A: no case where it stays silent (exp_alerts: []) with its metrics fed",
        "B: no case where it stays silent (exp_alerts: []) with its metrics fed"]


def test_without_promtool_the_tests_skip_loudly_but_fail_in_ci(monkeypatch, tmp_path):
    monkeypatch.setenv(promtool.PROMTOOL_ENV, str(tmp_path / "missing"))
    monkeypatch.delenv(promtool.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get download prometheus"):
        promtool.promtool()
    monkeypatch.setenv(promtool.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="DATAPLATFORM_REQUIRE_PROMTOOL=1"):
        promtool.promtool()
