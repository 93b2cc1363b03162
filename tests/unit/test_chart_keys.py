"""Stack values overrides against the keys each pinned chart version knows (`chart-keys/`).

Helm ignores a misspelt values key without a word, so the loader refuses a key of
`apps.<app>.values`, `monitoring.values`, `apps.datahub.prerequisites.values` or an extra
app's `values` that the pinned chart does not know (`foundation/config/values_keys.py`),
from the committed key index (`dataplatform chart-keys`, which this checks is current).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from stackdir import SHIPPED_STACKS, shipped_examples

from dataplatform import chart_keys, cli
from dataplatform._chart_exceptions import PASS_THROUGH, TEMPLATE_ONLY_KEYS
from dataplatform.chartcheck import shared_charts_dir
from foundation.chartkeys import index_file, key_index
from foundation.charts import chart_pins
from foundation.config import ConfigError, load_stack_config
from foundation.config.values_keys import CHART_SECTIONS
from foundation.layout import CHART_KEYS_DIR

pytestmark = pytest.mark.unit

PINS = chart_pins()
MAX_INDEX_BYTES = 100_000


def _defaults(chart: str) -> Path:
    shared = shared_charts_dir()
    path = (shared / "defaults" / chart) if shared else None
    if path is None or not path.is_dir():
        pytest.skip(f"no chart defaults for {chart!r} under ../shared/charts/defaults/{chart}: "
                    "the committed chart-keys/ index cannot be regenerated to compare")
    return path


# --- the index: generated, current, one per pinned version, small

@pytest.mark.parametrize("chart", sorted(PINS))
def test_index_is_current(chart: str) -> None:
    _defaults(chart)
    name = index_file(chart, PINS[chart].version)
    fresh = chart_keys.texts(_defaults(chart).parent)[name]
    committed = CHART_KEYS_DIR / name
    assert committed.is_file() and committed.read_text() == fresh, (
        f"chart-keys/{name} is stale: run `dataplatform chart-keys`")


@pytest.mark.parametrize("chart", sorted(PINS))
def test_every_pinned_chart_version_has_a_small_index(chart: str) -> None:
    version = PINS[chart].version
    index = key_index(chart, version)
    assert index is not None, (f"no chart-keys/{index_file(chart, version)}: run "
                               "`dataplatform chart-keys` after a pin moves")
    assert index.repo == PINS[chart].repo
    size = (CHART_KEYS_DIR / index_file(chart, version)).stat().st_size
    assert size < MAX_INDEX_BYTES, f"{chart}: {size} bytes (keys only, no values)"


def test_no_index_for_a_version_no_longer_pinned() -> None:
    pinned = {index_file(c, p.version) for c, p in PINS.items()}
    assert {p.name for p in CHART_KEYS_DIR.glob("*.json")} == pinned


def test_check_flags_a_stale_file(tmp_path: Path) -> None:
    charts = _defaults("metabase").parent
    assert chart_keys.write(charts=charts, target=tmp_path) is True
    assert chart_keys.write(check=True, charts=charts, target=tmp_path) is False
    name = index_file("metabase", PINS["metabase"].version)
    doc = json.loads((tmp_path / name).read_text())
    doc["keys"]["replicaCont"] = None
    (tmp_path / name).write_text(json.dumps(doc, indent=1) + "\n")
    (tmp_path / "metabase-0.0.1.json").write_text("{}")
    assert chart_keys.write(check=True, charts=charts, target=tmp_path) is True
    assert chart_keys.write(charts=charts, target=tmp_path) is True
    assert not (tmp_path / "metabase-0.0.1.json").exists()
    assert "replicaCont" not in (tmp_path / name).read_text()


def test_command_without_chart_defaults_says_which(tmp_path: Path, capsys) -> None:
    assert cli.main(["chart-keys", "--check", "--charts", str(tmp_path)]) == cli.EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.startswith("chart-keys: no defaults for chart ") and "Chart.yaml" in err


def test_the_built_in_sections_are_pinned_charts() -> None:
    assert set(CHART_SECTIONS.values()) <= set(PINS)


# --- the rule, at load time

def _problems(stacks, config: dict[str, Any], name: str = "typo") -> dict[str, str]:
    stacks.write(name, config)
    with pytest.raises(ConfigError) as info:
        load_stack_config(name, stacks.path)
    return {p.key: p.message for p in info.value.problems}


def _loads(stacks, config: dict[str, Any], name: str = "fine") -> None:
    stacks.write(name, config)
    load_stack_config(name, stacks.path)


def _local(**apps: Any) -> dict[str, Any]:
    return {"customer": "acme", "domain": "marketing", "environment": "dev",
            "profile": "dev", "cloud": "local", "kind": "domain", "owner": "data",
            "costCenter": "cc-1", "cluster": {"mode": "dedicated", "kubeContext": "kind-x"},
            "apps": apps}


def _airflow(values: dict[str, Any]) -> dict[str, Any]:
    return _local(airflow={"enabled": True, "values": values})


KEY = "dataplatform:apps.airflow.values"
AIRFLOW = f"chart airflow {PINS['airflow'].version}"


def test_a_typo_at_the_top_level_is_refused_with_the_closest_key(stacks) -> None:
    assert _problems(stacks, _airflow({"defaultAirflowTg": "3.0.2"})) == {
        f"{KEY}.defaultAirflowTg":
            f"unknown values key for {AIRFLOW} (did you mean 'defaultAirflowTag'?)"}


def test_a_nested_typo_is_refused_with_the_closest_sibling(stacks) -> None:
    assert _problems(stacks, _airflow({"apiServer": {"replicaCont": 2}})) == {
        f"{KEY}.apiServer.replicaCont":
            f"unknown values key for {AIRFLOW} (did you mean 'replicas'?)"}


def test_a_typo_under_a_subchart_alias_is_refused(stacks) -> None:
    problems = _problems(stacks, _local(datahub={"enabled": True, "values": {
        "datahub-gms": {"replicaCount": 2, "resorces": {}}}}))
    assert problems == {"dataplatform:apps.datahub.values.datahub-gms.resorces":
                        f"unknown values key for chart datahub {PINS['datahub'].version} "
                        "(did you mean 'resources'?)"}


def test_a_typo_in_monitoring_values_is_refused(stacks) -> None:
    cfg = _local()
    cfg["monitoring"] = {"values": {"grafana": {"replicaz": 2}}}
    problems = _problems(stacks, cfg)
    assert problems == {"dataplatform:monitoring.values.grafana.replicaz":
                        "unknown values key for chart kube-prometheus-stack "
                        f"{PINS['kube-prometheus-stack'].version} (did you mean 'replicas'?)"}


def test_typos_in_a_list_element_and_argocd_and_prerequisites_are_refused(stacks) -> None:
    cfg = _local(datahub={"enabled": True, "prerequisites": {"values": {
        "kafka": {"enabeld": True}}}})
    cfg.update(kind="platform", domain="platform")
    cfg["apps"]["argocd"] = {"values": {"server": {"httproute": {"rules": [
        {"matches": []}, {"matchez": []}]}}}}
    problems = _problems(stacks, cfg)
    assert set(problems) == {
        "dataplatform:apps.datahub.prerequisites.values.kafka.enabeld",
        "dataplatform:apps.argocd.values.server.httproute.rules.1.matchez"}


def test_a_dotted_key_is_told_to_nest(stacks) -> None:
    problems = _problems(stacks, _airflow({"apiServer.replicas": 2}))
    assert problems[f"{KEY}.apiServer.replicas"].endswith(
        "nest it as YAML maps, apiServer: {replicas: …}")


def test_keys_under_free_form_maps_pass(stacks) -> None:
    _loads(stacks, _airflow({
        "config": {"core": {"anything_airflow_reads": "x"}},          # PASS_THROUGH
        "apiServer": {"podAnnotations": {"example.com/any": "x"},     # {} default
                      "nodeSelector": {"pool": "system"},
                      "resources": {"requests": {"cpu": "1"}}},
        "env": [{"name": "TZ", "value": "UTC"}],                      # list of scalars/empty
        "section_order": ["core"],                                    # the schema only
        "labels": {"team": "data"}}))


def test_a_chart_exception_passes(stacks) -> None:
    assert "javaOpts" in TEMPLATE_ONLY_KEYS["metabase"]
    _loads(stacks, _local(metabase={"enabled": True, "values": {"javaOpts": "-Xmx1g"}}))
    assert "alertmanager.config" in PASS_THROUGH["kube-prometheus-stack"]
    cfg = _local()
    cfg["monitoring"] = {"values": {"alertmanager": {"config": {"anything": {"x": 1}}}}}
    _loads(stacks, cfg)


EXTRA = {"name": "bi", "repo": PINS["metabase"].repo, "chart": "metabase",
         "version": PINS["metabase"].version}


def test_an_extra_app_with_an_indexed_chart_is_checked(stacks) -> None:
    problems = _problems(stacks, _local(extra=[{**EXTRA, "values": {"replicaCont": 2}}]))
    assert problems == {"dataplatform:apps.extra.0.values.replicaCont":
                        f"unknown values key for chart metabase {PINS['metabase'].version} "
                        "(did you mean 'replicaCount'?)"}
    _loads(stacks, _local(extra=[{**EXTRA, "values": {"replicaCount": 2}}]))


@pytest.mark.parametrize("change", [{"version": "2.25.0"}, {"chart": "superset"}])
def test_an_extra_app_without_an_index_is_not_checked(stacks, change) -> None:
    _loads(stacks, _local(extra=[{**EXTRA, **change, "values": {"replicaCont": 2}}]))


def test_a_credential_in_an_unknown_key_keeps_the_credential_message(stacks) -> None:
    cfg = _local()
    cfg["monitoring"] = {"values": {"grafana": {"ADMIN_PASSWORD": "hunter2"}}}
    problems = _problems(stacks, cfg)
    assert list(problems) == ["dataplatform:monitoring.values.grafana.ADMIN_PASSWORD"]
    assert "credential in plain text" in problems[
        "dataplatform:monitoring.values.grafana.ADMIN_PASSWORD"]


@pytest.mark.parametrize("stack", shipped_examples())
def test_every_shipped_stack_still_loads(stack: str) -> None:
    load_stack_config(stack, SHIPPED_STACKS)
