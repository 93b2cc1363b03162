"""`dataplatform chart-data`: the chart data a clone without ../shared makes for the checks,
and the one place that decides which chart data the checks read."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
import yaml

from dataplatform import chartcheck
from dataplatform.cli import main
from dataplatform.rendered import helm
from foundation.charts import chart_pin, chart_pins

pytestmark = pytest.mark.unit

SHARED = chartcheck.SHARED_CHART_DATA  # ../shared/charts itself, whatever else is set
# Where ../shared's own defaults are not what its chart sources ship (the command copies the
# sources faithfully): its redis-ha Chart.yaml says 4.39.0 where argo-cd 10.1.1 bundles
# 4.38.0, and its datahub-prerequisites Chart.yaml is re-formatted (comments dropped).
KNOWN_DIVERGENCES = {"argo-cd/charts/redis-ha/Chart.yaml", "datahub-prerequisites/Chart.yaml"}


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file()}


def tiny_chart(folder: Path, name: str = "metabase", version: str | None = None,
               app: str | None = None, subs: tuple[str, ...] = ()) -> Path:
    """A small chart `folder/name` (the pinned metabase unless told otherwise)."""
    pin = chart_pin("metabase")
    chart = folder / name
    (chart / "templates").mkdir(parents=True)
    meta = {"apiVersion": "v2", "name": name, "version": version or pin.version,
            "appVersion": pin.app_version if app is None else app,
            "dependencies": [{"name": s, "version": "1.0.0"} for s in subs]}
    (chart / "Chart.yaml").write_text(yaml.safe_dump(meta))
    (chart / "values.yaml").write_text("replicaCount: 1\n")
    (chart / "values.schema.json").write_text("{}\n")
    (chart / "templates" / "cm.yaml").write_text("kind: ConfigMap\n")
    (chart / "crds").mkdir()
    (chart / "crds" / "thing.yaml").write_text("kind: CustomResourceDefinition\n")
    return chart


def _tgz(chart: Path, target: Path, extra: dict[str, bytes] | None = None) -> Path:
    with tarfile.open(target, "w:gz") as tar:
        tar.add(chart, arcname=chart.name)
        for member, data in (extra or {}).items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target


def run(capsys, *argv: str | Path) -> tuple[int, str, str]:
    code = main(["chart-data", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


# --- from ../shared's chart sources: the same defaults the checks read today

@pytest.fixture(scope="module")
def from_shared(tmp_path_factory) -> Path:
    if not (SHARED / "src").is_dir():
        pytest.skip("../shared/charts/src is absent: no chart sources to refresh chart data from")
    shared_lock = yaml.safe_load((SHARED / "charts.lock.yaml").read_text())["charts"]
    charts = [c for c in chart_pins() if c in shared_lock]
    out = tmp_path_factory.mktemp("chart-data") / "data"
    argv = ["chart-data", "--from", str(SHARED / "src"), "--out", str(out),
            "--allow-repackage", "airflow", *(a for c in charts for a in ("--chart", c))]
    assert main(argv) == 0
    return out


def test_shared_sources_give_the_shared_defaults_byte_for_byte(from_shared):
    ours, theirs = _files(from_shared / "defaults"), _files(SHARED / "defaults")
    assert set(ours) - set(theirs) == set()  # nothing but what the checks read
    differ = {f for f in theirs if ours.get(f) != theirs[f]}
    assert differ <= KNOWN_DIVERGENCES, sorted(differ - KNOWN_DIVERGENCES)
    assert {f.split("/")[0] for f in ours} == {p.name for p in (SHARED / "defaults").iterdir()}
    assert set(theirs) - set(ours) == set()  # grafana & co.: defaults only, from ../defaults
    # The unpacked charts (CRD files included) for `render`, and a lock the checks accept.
    assert _files(from_shared / "src") == _files(SHARED / "src")
    lock = yaml.safe_load((from_shared / "charts.lock.yaml").read_text())["charts"]
    for name, entry in lock.items():
        pin = chart_pin(name)
        assert (entry["repo"], entry["version"], entry.get("appVersion", "")) == \
            (pin.repo, pin.version, pin.app_version)


def test_the_checks_read_the_refreshed_data_alike(from_shared):
    for chart in ("argo-cd", "airflow"):
        assert chartcheck.key_tree(from_shared / "defaults" / chart) == \
            chartcheck.key_tree(SHARED / "defaults" / chart)


def test_a_refresh_replaces_a_chart_and_keeps_the_others(from_shared, capsys):
    stale = from_shared / "defaults" / "metabase" / "stale.yaml"
    stale.write_text("old: true\n")
    before = (from_shared / "charts.lock.yaml").read_text()
    code, out, _ = run(capsys, "--from", SHARED / "src", "--out", from_shared,
                       "--chart", "metabase")
    assert code == 0 and not stale.exists()
    assert "metabase 2.26.0 from" in out and "defaults/metabase/: 2 files" in out
    assert (from_shared / "charts.lock.yaml").read_text() == before
    assert not list(from_shared.glob(".staging-*"))
    mode = (from_shared / "src" / "metabase").stat().st_mode
    assert mode & stat.S_IWUSR  # ../shared is read-only; the copy can be refreshed again


# --- refusals: a chart that is not the pin, and nothing written

@pytest.mark.parametrize(("field", "value", "said"), [
    ("version", "2.25.0", "charts.lock.yaml pins 2.26.0, but"),
    ("version", "v2.26.0", "metabase is v2.26.0"),
    ("app", "v0.60.0", "declares appVersion v0.60.0"),
    ("app", "", "declares appVersion (none)"),
])
def test_a_chart_that_is_not_the_pin_is_refused(tmp_path, capsys, field, value, said):
    good = tmp_path / "good"
    tiny_chart(good)
    out = tmp_path / "data"
    assert run(capsys, "--from", good, "--out", out, "--chart", "metabase")[0] == 0
    before = _files(out)
    bad = tmp_path / "bad"
    tiny_chart(bad, **{field: value})
    code, stdout, err = run(capsys, "--from", bad, "--out", out, "--chart", "metabase")
    assert code == 2 and stdout == ""
    assert said in err and err.rstrip().endswith("nothing written"), err
    assert _files(out) == before  # the previous data is untouched


def test_a_repackage_passes_only_when_named(tmp_path, capsys):
    tiny_chart(tmp_path / "in", app="v9")
    args = ("--from", tmp_path / "in", "--out", tmp_path / "data", "--chart", "metabase")
    code, _, err = run(capsys, *args)
    assert code == 2 and "--allow-repackage metabase" in err
    assert not (tmp_path / "data").exists()  # no empty folder to pass for chart data
    code, out, _ = run(capsys, *args, "--allow-repackage", "metabase")
    assert code == 0 and "accepted as a repackage" in out


def test_another_chart_under_the_pinned_name_is_refused(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    tiny_chart(tmp_path, name="metabase2").rename(tmp_path / "in" / "metabase")
    code, _, err = run(capsys, "--from", tmp_path / "in", "--out", tmp_path / "d",
                       "--chart", "metabase")
    assert code == 2 and "is chart 'metabase2', not 'metabase'" in err


def test_a_missing_or_other_version_chart_is_named(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    code, _, err = run(capsys, "--from", folder, "--out", tmp_path / "d", "--chart", "metabase")
    assert code == 2 and "metabase 2.26.0 is not in" in err
    _tgz(tiny_chart(tmp_path / "src", version="2.20.0"), folder / "metabase-2.20.0.tgz")
    code, _, err = run(capsys, "--from", folder, "--out", tmp_path / "d", "--chart", "metabase")
    assert code == 2 and "metabase-2.20.0.tgz is 2.20.0" in err
    # An archive named for the pin is opened, not trusted.
    _tgz(tmp_path / "src" / "metabase", folder / "metabase-2.26.0.tgz")
    code, _, err = run(capsys, "--from", folder, "--out", tmp_path / "d", "--chart", "metabase")
    assert code == 2 and "is metabase version 2.20.0; charts.lock.yaml pins 2.26.0" in err


def test_archives_and_their_subchart_archives_are_unpacked(tmp_path, capsys):
    chart = tiny_chart(tmp_path / "src", subs=("sub",))
    (chart / "charts").mkdir()
    _tgz(tiny_chart(tmp_path / "subsrc", name="sub", version="1.0.0", app="1"),
         chart / "charts" / "sub-1.0.0.tgz")
    (tmp_path / "in").mkdir()
    _tgz(chart, tmp_path / "in" / "metabase-2.26.0.tgz")
    code, out, _ = run(capsys, "--from", tmp_path / "in", "--out", tmp_path / "d",
                       "--chart", "metabase")
    assert code == 0, out
    assert sorted(_files(tmp_path / "d" / "defaults" / "metabase")) == [
        "Chart.yaml", "charts/sub/Chart.yaml", "charts/sub/values.schema.json",
        "charts/sub/values.yaml", "values.schema.json", "values.yaml"]
    src = tmp_path / "d" / "src" / "metabase"
    assert (src / "charts" / "sub" / "crds" / "thing.yaml").is_file()
    assert not list(src.glob("charts/*.tgz"))
    assert "2 CRD files" in out


def test_an_archive_reaching_outside_its_folder_is_refused(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    _tgz(tiny_chart(tmp_path / "src"), tmp_path / "in" / "metabase-2.26.0.tgz",
         {"metabase/../../escaped.txt": b"x"})
    code, _, err = run(capsys, "--from", tmp_path / "in", "--out", tmp_path / "d",
                       "--chart", "metabase")
    assert code == 2 and "not a chart archive" in err
    assert not list(tmp_path.rglob("escaped.txt"))


def test_only_a_chart_data_folder_is_written_into(tmp_path, capsys):
    tiny_chart(tmp_path / "in")
    (tmp_path / "home" / "src" / "metabase").mkdir(parents=True)
    code, _, err = run(capsys, "--from", tmp_path / "in", "--out", tmp_path / "home",
                       "--chart", "metabase")
    assert code == 2 and "is not a chart data folder" in err
    assert (tmp_path / "home" / "src" / "metabase").is_dir()


def test_an_unknown_chart_name_is_refused_with_a_suggestion(capsys):
    code, _, err = run(capsys, "--chart", "metabse")
    assert code == 2 and "no chart 'metabse' in charts.lock.yaml (did you mean 'metabase'?)" in err


# --- helm pull, and without a Helm

@pytest.fixture
def no_cached_helm():
    helm.helm_binary.cache_clear()
    yield
    helm.helm_binary.cache_clear()


def test_without_helm_or_from_it_says_what_to_do(tmp_path, capsys, monkeypatch,
                                                 no_cached_helm):
    monkeypatch.delenv("DATAPLATFORM_HELM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(helm, "LAYER_PACKAGE", "no_such_layer_package")
    code, _, err = run(capsys, "--out", tmp_path / "d")
    assert code == 2
    assert "no Helm: install one on PATH, set DATAPLATFORM_HELM" in err
    assert "or pass --from DIR" in err
    assert not (tmp_path / "d").exists()


FAKE_HELM = """#!/bin/sh
echo "$@" >> {log}
[ -n "{fail}" ] && {{ echo "Error: looks like the repo is not reachable" >&2; exit 1; }}
for a; do last=$a; done
mkdir -p "$last" && cp -r {chart} "$last/"
"""


@pytest.mark.parametrize("fail", [False, True])
def test_charts_are_pulled_with_helm_at_the_pinned_version(tmp_path, capsys, monkeypatch,
                                                           no_cached_helm, fail):
    chart = tiny_chart(tmp_path / "upstream")
    fake = tmp_path / "helm"
    fake.write_text(FAKE_HELM.format(log=tmp_path / "log", chart=chart, fail="1" if fail else ""))
    fake.chmod(0o755)
    monkeypatch.setenv("DATAPLATFORM_HELM", str(fake))
    code, out, err = run(capsys, "--out", tmp_path / "d", "--chart", "metabase")
    pin = chart_pin("metabase")
    argv = (tmp_path / "log").read_text().split()
    assert argv[:6] == ["pull", "metabase", "--repo", pin.repo, "--version", pin.version]
    assert argv[6:8] == ["--untar", "--untardir"]
    if fail:
        assert code == 2 and "`helm pull metabase --repo" in err and "--from DIR" in err
        assert "not reachable" in err
    else:
        assert code == 0 and f"metabase 2.26.0 from {pin.repo} (helm pull)" in out
        assert (tmp_path / "d" / "defaults" / "metabase" / "values.yaml").is_file()


# --- which chart data the checks read

@pytest.fixture
def places(tmp_path, monkeypatch):
    env, shared, local = (tmp_path / n for n in ("env", "shared", "local"))
    monkeypatch.setattr(chartcheck, "SHARED_CHART_DATA", shared)
    monkeypatch.setattr(chartcheck, "LOCAL_CHART_DATA", local)
    monkeypatch.delenv(chartcheck.CHART_DATA_ENV, raising=False)
    return env, shared, local


def test_the_environment_beats_shared_which_beats_the_local_copy(places, monkeypatch):
    env, shared, local = places
    assert chartcheck.shared_charts_dir() is None
    assert helm.chart_data_src() == shared / "src"  # what a missing-chart message names
    local.mkdir()
    assert chartcheck.shared_charts_dir() == local  # a clone without ../shared
    shared.mkdir()
    assert chartcheck.shared_charts_dir() == shared  # CI here
    monkeypatch.setenv(chartcheck.CHART_DATA_ENV, str(env))
    assert chartcheck.shared_charts_dir() == shared  # set, but not a folder: next one
    env.mkdir()
    assert chartcheck.shared_charts_dir() == env
    assert helm.chart_data_src() == env / "src"
    assert os.fspath(chartcheck.chart_data_dirs()[0]) == os.fspath(env)


# --- the suite's summary: every chart-data skip counted, and the way out named

def test_the_summary_names_the_command_and_every_place_searched():
    from chart_data import summary_line

    line = summary_line(95)
    assert line.startswith("95 checks skipped: chart data missing from")
    assert "`dataplatform chart-data`" in line
    assert all(p in line for p in ("$DATAPLATFORM_CHART_DATA", "../shared/charts", ".chart-data"))


def test_a_module_skipped_whole_counts_each_of_its_tests():
    """tests/policy/test_rendered_objects.py skips at import: its 3 checks, not 1; the
    skips of tests/app_plans.py name ../shared/charts/defaults/<chart>."""
    from types import SimpleNamespace

    from chart_data import chart_data_skips

    module = SimpleNamespace(when="collect", nodeid="tests/policy/test_rendered_objects.py",
                             longrepr=("x", 16, "Skipped: ../shared/charts/src is absent: "
                                       "no charts to render"))
    app = SimpleNamespace(when="call", nodeid="tests/unit/test_app_airflow.py::test_x",
                          longrepr=("x", 1, "Skipped: ../shared/charts/defaults/airflow is "
                                    "absent from this checkout"))
    other = SimpleNamespace(when="collect", nodeid="tests/unit/test_render.py",
                            longrepr=("x", 1, "Skipped: actionlint is not installed"))
    assert chart_data_skips([module]) == 3
    assert chart_data_skips([module, app, other]) == 4
    assert chart_data_skips([SimpleNamespace(when="setup", longrepr=(
        "x", 1, f"Skipped: {helm.chart_data_src()} is absent: no chart sources"))]) == 1
