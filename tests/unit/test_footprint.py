"""bench/footprint.py: how it finds and sums containers (a benchmark, checked for sanity)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

from dataplatform.chartcheck import shared_charts_dir

pytestmark = pytest.mark.unit

_SPEC = importlib.util.spec_from_file_location(
    "bench_footprint", Path(__file__).resolve().parents[2] / "bench" / "footprint.py")
fp = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = fp  # dataclasses look their module up there
_SPEC.loader.exec_module(fp)


def test_own_manifests_containers_replicas_and_lists():
    values = {"image": "x", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                                          "limits": {"memory": "128Mi"}},
              "workers": {"replicas": 3, "resources": {"requests": {"cpu": "1"}}},
              "sidecars": [{"name": "a", "resources": {"limits": {"cpu": "200m"}}}]}
    comps = {c.path: c.replicas for c in fp.own_components(values)}
    assert comps == {"resources": 1, "workers.resources": 3, "sidecars[0].resources": 1}
    totals = fp._own_totals("any", list(fp.own_components(values)))
    assert totals == pytest.approx([3.1, 64 * 2**20, 0.2, 128 * 2**20])


def test_containers_run_one_at_a_time_count_their_largest():
    values = {"resources": {
        "dbt": {"requests": {"cpu": "100m", "memory": "256Mi"}},
        "gitSync": {"requests": {"cpu": "50m", "memory": "512Mi"}}}}
    totals = fp._own_totals("dbt", list(fp.own_components(values)))
    assert totals[:2] == pytest.approx([0.1, 512 * 2**20])  # max per resource, as Kubernetes


def test_our_data_layer_is_counted():
    postgres = fp.footprint("postgres", "dev", shared_charts_dir())
    assert postgres.kind == "manifests" and postgres.missing == []
    assert postgres.totals[0] > 0 and postgres.totals[1] > 0


def test_extra_apps_are_read_from_the_stack_files(tmp_path):
    (tmp_path / "Pulumi.x.yaml").write_text(yaml.safe_dump({"config": {
        "dataplatform:apps": {"extra": [{"name": "superset"}, {"chart": "no-name"}]}}}))
    (tmp_path / "Pulumi.y.yaml").write_text("config:\n  dataplatform:customer: acme\n")
    assert fp.extra_apps(tmp_path) == {"superset"}


def test_budget_groups():
    assert fp.budget_of("datahub-prerequisites")[0] == "datahub"
    assert fp.budget_of("postgres") is None


@pytest.mark.parametrize("app", ["airbyte", "metabase"])
def test_chart_apps_fit_their_dev_share(app):
    shared = shared_charts_dir()
    if shared is None:
        pytest.skip("../shared/charts is absent from this checkout")
    found = fp.footprint(app, "dev", shared)
    max_cpu, max_mem = fp.BUDGETS[app]
    assert found.kind == "chart" and found.missing == []
    assert found.totals[0] <= max_cpu + 1e-9 and found.totals[1] <= max_mem


def test_report_prints_the_dev_domain_against_its_budget(capsys):
    fp.report("dev", shared_charts_dir())
    out = capsys.readouterr().out
    assert "dev domain" in out and "4000m" in out and "12.00Gi" in out


# --- the shipped domains' quotas admit their apps -------------------------------------------

def domain_apps(stack: str) -> tuple[object, list[str]]:
    """The stack config and the values folders of what runs in its main namespace."""
    from dataplatform.resolve.domain import apps as domain_apps_args
    from foundation.config.database import database_mode
    from foundation.config.loader import load_stack_config

    cfg = load_stack_config(stack)
    apps = list(domain_apps_args(cfg).built_in)
    if "datahub" in apps:
        apps += ["datahub-prerequisites", "datahub-lineage"]
    if cfg.cloud == "local":
        apps.append("minio")
    if database_mode(cfg) == "in-cluster":
        apps.append("postgres")
    return cfg, apps


@pytest.mark.parametrize("stack", ["local", "aws-finance", "gcp-marketing"])
def test_the_domain_quota_admits_its_apps(stack):
    """A quota below the apps' requests or limits leaves pods unscheduled without a word."""
    shared = shared_charts_dir()
    if shared is None:
        pytest.skip("../shared/charts is absent: no chart defaults to size the apps from")
    cfg, apps = domain_apps(stack)
    totals = [sum(fp.footprint(a, cfg.profile, shared).totals[i] for a in apps)
              for i in range(len(fp.FIELDS))]
    q = cfg.isolation.quota
    wanted = {".".join(f): t for f, t in zip(fp.FIELDS, totals, strict=True)}
    assert set(wanted) == {"requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}
    quota = {"requests.cpu": q.requests_cpu, "requests.memory": q.requests_memory,
             "limits.cpu": q.limits_cpu, "limits.memory": q.limits_memory}
    from foundation.quantity import parse_quantity

    over = {k: (wanted[k], v) for k, v in quota.items()
            if wanted[k] > parse_quantity(v)}
    assert not over, f"{stack}: apps need more than the quota allows: {over}"


# --- profiles/footprints.yaml: the pinned figures the loader checks quotas with ---------------

@pytest.fixture(scope="module")
def measured() -> str:
    """What `dataplatform footprints` would write now (two plans and renders, ~25 s)."""
    from dataplatform import footprints
    from dataplatform.rendered.helm import SHARED_CHARTS

    if not SHARED_CHARTS.is_dir():
        pytest.skip(f"{SHARED_CHARTS} is absent: no chart sources to measure "
                    "profiles/footprints.yaml from (run `dataplatform footprints --check` "
                    "where ../shared/charts/src is, or pass --charts DIR)")
    return footprints.text()


def test_the_pinned_footprints_are_current(measured):
    import difflib

    from foundation.config.quota_fit import FOOTPRINTS_FILE

    pinned = FOOTPRINTS_FILE.read_text()
    diff = "\n".join(difflib.unified_diff(pinned.splitlines(), measured.splitlines(),
                                          "pinned", "measured", lineterm=""))
    assert pinned == measured, f"stale: run `dataplatform footprints`\n{diff}"


def test_the_rendered_airflow_counts_its_airflow_3_components(measured):
    """The shared airflow chart is a repackage whose pre-release appVersion drops the
    api-server, dag-processor and triggerer: they are measured from a stamped copy."""
    from foundation.quantity import parse_quantity as quantity

    airflow = yaml.safe_load(measured)["dev"]["airflow"]["standing"]
    # scheduler + statsd alone request 120m; the api-server, dag-processor and triggerer
    # add a request each
    assert quantity(airflow["requestsCpu"]) > 0.2


def test_footprints_check_exits_1_when_stale_and_0_when_current(measured, monkeypatch,
                                                                 tmp_path, capsys):
    from dataplatform import cli, footprints

    monkeypatch.setattr(footprints, "text", lambda charts=None: measured)
    stale = tmp_path / "footprints.yaml"
    stale.write_text("dev: {}\n")
    assert footprints.write(check=True, target=stale) is True
    assert stale.read_text() == "dev: {}\n"  # --check writes nothing
    assert "stale: run `dataplatform footprints`" in capsys.readouterr().err
    assert footprints.write(target=stale) is True and stale.read_text() == measured
    assert footprints.write(check=True, target=stale) is False
    # the command itself, on the project's file
    assert cli.main(["footprints", "--check"]) == 0
