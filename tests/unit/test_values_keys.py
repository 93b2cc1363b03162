"""Our Helm values against the pinned charts' own defaults (`../shared/charts`).

Helm ignores a misspelt values key without a word, so every key under charts-values/ must
exist in what the pinned chart version ships. Also: the checker itself, Argo CD's resources
and topology per profile, the Kubernetes quantity parser, and the chart lock.
Every test needing `../shared` skips with a clear reason when a checkout lacks it.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from components._values import deep_merge, static_values
from dataplatform.chartcheck import (
    containers_without_resources,
    iter_components,
    load_chart,
    shared_charts_dir,
    unknown_keys,
)
from foundation.charts import chart_pins
from foundation.layout import LOCK_FILE, VALUES_DIR
from foundation.quantity import parse_quantity

pytestmark = pytest.mark.unit

SHARED = shared_charts_dir()
NO_SHARED = "../shared/charts is absent from this checkout: no chart defaults to check against"


def chart_dir(chart: str) -> Path:
    if SHARED is None:
        pytest.skip(NO_SHARED)
    path = SHARED / "defaults" / chart
    if not path.is_dir():
        pytest.skip(f"no defaults for chart {chart!r} under {path}")
    return path


def chart_apps() -> list[str]:
    """Folders of charts-values/ named after a chart of the lock (minio, postgres... are not)."""
    pins = chart_pins()
    folders = VALUES_DIR.iterdir() if VALUES_DIR.is_dir() else []
    return sorted(f.name for f in folders if f.is_dir() and f.name in pins)


def profiles(app: str) -> list[str]:
    return sorted(f.stem for f in (VALUES_DIR / app).glob("*.yaml") if f.name != "values.yaml")


def read_yaml(path: Path) -> dict[str, Any]:
    return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}


CASES = [(app, None) for app in chart_apps()] + [
    (app, profile) for app in chart_apps() for profile in profiles(app)]


# --- (a) every key we set exists in the chart

NO_APPS = pytest.param(None, None, marks=pytest.mark.skip(
    reason="no charts-values/<app>/ folder is named after a chart of charts.lock.yaml"))


def indexed_keys_unknown(app: str, layers: dict[str, Any]) -> dict[str, list[str]]:
    """Charts whose defaults ../shared lacks (pinned from upstream tags): the committed
    chart-keys/ index, the same one the loader checks stack overrides against."""
    from foundation.chartkeys import key_index

    index = key_index(app, chart_pins()[app].version)
    if index is None:
        pytest.skip(f"no defaults for chart {app!r} and no chart-keys/ index for it")
    return {name: [".".join(map(str, u.path)) for u in index.unknown(values)]
            for name, values in layers.items()}


@pytest.mark.parametrize(("app", "profile"), CASES or [NO_APPS])
def test_values_keys_exist_in_chart(app: str, profile: str | None) -> None:
    path = SHARED / "defaults" / app if SHARED is not None else None
    if profile is None:
        layers: dict[str, Any] = {"values.yaml": read_yaml(VALUES_DIR / app / "values.yaml")}
    else:
        layers = {f"values.yaml + {profile}.yaml": static_values(app, profile),
                  # the raw layer too: a misspelt key set to null vanishes from the merge
                  f"{profile}.yaml": read_yaml(VALUES_DIR / app / f"{profile}.yaml")}
    if path is not None and path.is_dir():
        bad = {name: unknown_keys(values, path) for name, values in layers.items()}
    elif SHARED is None:
        pytest.skip(NO_SHARED)
    else:
        bad = indexed_keys_unknown(app, layers)
    bad = {name: keys for name, keys in bad.items() if keys}
    assert not bad, (f"charts-values/{app}: keys unknown to chart {app} "
                     f"{chart_pins()[app].version} (Helm would ignore them): {bad}")


# --- (b) the checker itself

def test_misspelt_keys_are_reported() -> None:
    ours = {"controler": {"replicas": 2},
            "server": {"resources": {"requests": {"cpu": "1"}}, "resourcs": {"limits": {}}}}
    assert unknown_keys(ours, chart_dir("argo-cd")) == ["controler", "server.resourcs"]


def test_free_form_maps_are_accepted() -> None:
    ours = {"server": {"podAnnotations": {"a/b": "c"}, "nodeSelector": {"pool": "system"},
                       "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}},
            "global": {"additionalLabels": {"team": "data"}},
            "extraObjects": [{"apiVersion": "v1", "kind": "ConfigMap"}],
            # pass-through blocks: argocd-cm / argocd-cmd-params-cm keys are Argo CD's own
            "configs": {"cm": {"timeout.reconciliation": "180s"},
                        "params": {"controller.status.processors": 20}}}
    assert unknown_keys(ours, chart_dir("argo-cd")) == []


def test_lists_of_maps_are_checked_against_the_first_default_element() -> None:
    ours = {"server": {"httproute": {"rules": [{"matches": []}, {"matchez": []}]}}}
    assert unknown_keys(ours, chart_dir("argo-cd")) == ["server.httproute.rules[1].matchez"]


def test_subchart_keys_are_checked_against_the_subchart() -> None:
    path = chart_dir("argo-cd")
    parent = load_chart(path).defaults["redis-ha"]
    assert "replicas" not in parent["haproxy"] and "quorum" not in parent.get("sentinel", {})
    ours = {"redis-ha": {"enabled": True, "haproxy": {"replicas": 3, "replicaz": 3},
                         "sentinel": {"quorum": 2}, "sentinal": {"quorum": 2}},
            # known from the redis-ha subchart's own `global` only
            "global": {"compatibility": {"openshift": {"adaptSecurityContext": "auto"}},
                       "domian": "x"}}
    assert unknown_keys(ours, path) == ["global.domian", "redis-ha.haproxy.replicaz",
                                        "redis-ha.sentinal"]


def test_schema_only_keys_are_accepted() -> None:
    path = chart_dir("airflow")
    chart = load_chart(path)
    assert chart.schema is not None, "airflow is expected to ship values.schema.json"
    assert "section_order" not in chart.defaults  # declared only by the schema
    assert unknown_keys({"section_order": ["core"]}, path) == []
    # the schema does not make everything free-form
    assert unknown_keys({"workers": {"replicaz": 2}, "section_ordr": []}, path) == [
        "section_ordr", "workers.replicaz"]


# --- (c) Argo CD: resources for every enabled container, sizes and topology per profile

def argocd_merged(profile: str, **changes: Any) -> tuple[dict[str, Any], Path]:
    path = chart_dir("argo-cd")
    ours = deep_merge(static_values("argo-cd", profile), changes)
    return deep_merge(load_chart(path).defaults, ours), path


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_argocd_every_enabled_container_has_resources(profile: str) -> None:
    merged, path = argocd_merged(profile)
    assert containers_without_resources(merged, path) == []
    no_cpu_limit = [c.path for c in iter_components(merged, path)
                    if not (c.resources.get("limits") or {}).get("cpu")]
    assert no_cpu_limit == []


@pytest.mark.parametrize(("profile", "changes", "flagged"), [
    ("dev", {"server": {"resources": None}}, "server.resources"),
    ("dev", {"redisSecretInit": {"resources": {"limits": None}}}, "redisSecretInit.resources"),
    ("prod", {"redis-ha": {"haproxy": {"resources": {"requests": {"cpu": None}}}}},
     "redis-ha.haproxy.resources"),
    ("prod", {"dex": {"enabled": True}}, "dex.resources"),  # disabled components are skipped
])
def test_argocd_checker_flags_a_component_without_resources(
        profile: str, changes: dict[str, Any], flagged: str) -> None:
    merged, path = argocd_merged(profile)
    assert flagged not in containers_without_resources(merged, path)
    merged, path = argocd_merged(profile, **changes)
    assert flagged in containers_without_resources(merged, path)


def test_argocd_dev_fits_its_share_of_the_domain_budget() -> None:
    merged, path = argocd_merged("dev")
    comps = list(iter_components(merged, path))
    cpu = sum(parse_quantity(c.resources["requests"]["cpu"]) * c.replicas for c in comps)
    mem = sum(parse_quantity(c.resources["requests"]["memory"]) * c.replicas for c in comps)
    assert cpu <= 0.5 and mem <= 2**30, f"dev requests {cpu} vCPU, {mem / 2**20} MiB"


def test_argocd_prod_is_highly_available() -> None:
    merged, _ = argocd_merged("prod")
    assert merged["redis-ha"]["enabled"] and merged["redis-ha"]["haproxy"]["enabled"]
    assert merged["redis"]["enabled"] is False
    for component in ("server", "repoServer", "applicationSet"):
        assert merged[component]["replicas"] >= 2, component
        assert merged[component]["pdb"]["enabled"], component
    assert merged["controller"]["replicas"] == 1  # the chart's HA recommendation


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_argocd_metrics_on_service_monitors_off_no_sso(profile: str) -> None:
    merged, _ = argocd_merged(profile)
    assert merged["dex"]["enabled"] is False
    for component in ("controller", "server", "repoServer", "applicationSet",
                      "notifications", "redis"):
        assert merged[component]["metrics"]["enabled"] is True, component
        assert merged[component]["metrics"]["serviceMonitor"]["enabled"] is False, component


# --- quantities

@pytest.mark.parametrize(("quantity", "expected"), [
    ("250m", 0.25), ("1", 1.0), ("1.5", 1.5), (2, 2.0), (0.5, 0.5), ("100n", 1e-7),
    ("128Mi", 128 * 2**20), ("1Gi", 2**30), ("64Ki", 65536), ("2Ti", 2 * 2**40),
    ("1k", 1000), ("500M", 5e8), ("1G", 1e9), ("1e3", 1000), ("1.5E2", 150), ("1E", 1e18),
])
def test_parse_quantity(quantity: str | float, expected: float) -> None:
    assert parse_quantity(quantity) == pytest.approx(expected)


@pytest.mark.parametrize("bad", ["", "1MB", "Mi", "1.2.3", "-", "1 Gi", True])
def test_parse_quantity_rejects_garbage(bad: Any) -> None:
    with pytest.raises(ValueError):
        parse_quantity(bad)


# --- (d) the chart lock pins what ../shared describes

def test_chart_lock_matches_shared_lock() -> None:
    if SHARED is None:
        pytest.skip(NO_SHARED)
    shared = yaml.safe_load((SHARED / "charts.lock.yaml").read_text())["charts"]
    ours = yaml.safe_load(LOCK_FILE.read_text())["charts"]
    keys = ("repo", "version", "appVersion")
    wrong = {name: {"ours": {k: str(ours[name].get(k)) for k in keys}
                    if name in ours else None,
                    "shared": {k: str(pin.get(k)) for k in keys}}
             for name, pin in shared.items()
             if name not in ours or any(str(ours[name].get(k)) != str(pin.get(k))
                                        for k in keys)}
    assert not wrong, f"charts.lock.yaml differs from ../shared/charts/charts.lock.yaml: {wrong}"
    # A chart ../shared does not pin (cluster-autoscaler) is allowed, and reported: its
    # keys are checked against its committed chart-keys/ index instead.
    extra = sorted(set(ours) - set(shared))
    if extra:
        warnings.warn(f"charts without upstream defaults in ../shared: {extra}", stacklevel=1)
