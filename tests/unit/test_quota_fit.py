"""A domain stack whose apps ask more than its ResourceQuota admits is a config error
(foundation/config/quota_fit.py, from the pinned profiles/footprints.yaml)."""

from __future__ import annotations

import math

import pytest
from receivers import with_receivers
from stackdir import SHIPPED_STACKS, shipped_examples

from foundation.config import ConfigError
from foundation.config.apps import Apps
from foundation.config.loader import load_stack_config
from foundation.config.quota_fit import (
    FIELDS,
    FOOTPRINTS_FILE,
    footprints,
    need,
    quota_problems,
    stack_need,
)
from foundation.quantity import parse_quantity as quantity

pytestmark = pytest.mark.unit

APPS = ["airbyte", "airflow", "metabase", "datahub"]
JOB = {"name": "daily", "schedule": "0 5 * * *", "command": "dbt build"}


def domain(stacks, name="q", quota=None, apps=APPS, app_config=None):
    """A prod domain stack on the shipped aws-platform."""
    config = {"customer": "acme", "domain": "sales", "environment": "prod", "profile": "prod",
              "cloud": "aws", "region": "eu-west-1", "kind": "domain", "owner": "sales",
              "costCenter": "cc-1", "platform": {"stack": "aws-platform"},
              "apps": app_config or {a: {"enabled": True} for a in apps}}
    if quota is not None:
        config["isolation"] = {"quota": quota}
    stacks.write(name, with_receivers(config))
    return name


def refusal(stacks, name) -> dict[str, str]:
    with pytest.raises(ConfigError) as err:
        load_stack_config(name, stacks.path)
    return {p.key: p.message for p in err.value.problems}


# --- the pinned figures

def test_every_domain_app_has_figures_in_every_profile():
    domain_apps = [a for a in Apps.built_in() if a != "argocd"]
    for profile in ("dev", "prod"):
        pinned = footprints(profile)
        assert set(domain_apps) <= set(pinned), (profile, sorted(pinned))
        assert "postgres" in pinned
        for app in domain_apps:
            assert pinned[app]["standing" if app != "dbt" else "batch"][0] > 0, app
    assert "minio" in footprints("dev")  # cloud local runs dev only


def test_the_figures_are_quota_quantities_with_the_quota_names():
    from foundation.yamlfile import read

    data = read(FOOTPRINTS_FILE)
    for apps in data.values():
        for parts in apps.values():
            assert set(parts) <= {"standing", "batch"}
            for figures in parts.values():
                assert list(figures) == [k for k, _ in FIELDS]
                assert all(quantity(v) >= 0 for v in figures.values())


# --- the rule

def test_a_quota_too_small_names_the_key_both_figures_and_the_apps(stacks):
    problems = refusal(stacks, domain(stacks))  # the model's default quota: 8 / 24Gi
    cpu = problems["dataplatform:isolation.quota.requestsCpu"]
    wanted = math.ceil(stack_need(load_config_unchecked(stacks, "q")).totals[0] * 10) / 10
    assert wanted > 8
    assert cpu.startswith(f"the enabled apps request {wanted:g} CPU (airbyte ")
    assert "datahub" in cpu and "largest batch pod" in cpu and "profile prod" in cpu
    assert cpu.endswith(f"but the quota admits 8: raise it to at least {wanted:g}")
    mem = problems["dataplatform:isolation.quota.requestsMemory"]
    assert "but the quota admits 24Gi: raise it to at least" in mem and "Gi (airbyte" in mem


def load_config_unchecked(stacks, name):
    """The stack's model without the loader's rules (to compute what it asks)."""
    import yaml

    from foundation.config.stack import StackConfig

    data = yaml.safe_load((stacks.path / f"Pulumi.{name}.yaml").read_text())["config"]
    return StackConfig.model_validate({k.split(":", 1)[1]: v for k, v in data.items()})


def test_only_the_figures_the_quota_does_not_admit_are_reported(stacks):
    problems = refusal(stacks, domain(stacks, quota={"requestsCpu": "100",
                                                     "requestsMemory": "1Gi"}))
    assert list(problems) == ["dataplatform:isolation.quota.requestsMemory",
                              "dataplatform:isolation.quota.limitsCpu",
                              "dataplatform:isolation.quota.limitsMemory"]
    assert "the enabled apps' limits add up to" in problems[
        "dataplatform:isolation.quota.limitsCpu"]


def test_the_suggested_figures_are_admitted(stacks):
    problems = refusal(stacks, domain(stacks, quota={"requestsCpu": "1"}))
    suggested = problems["dataplatform:isolation.quota.requestsCpu"].rsplit(" ", 1)[1]
    load_stack_config(domain(stacks, "q2", quota={"requestsCpu": suggested,
                                                  "requestsMemory": "100Gi",
                                                  "limitsCpu": "100",
                                                  "limitsMemory": "200Gi"}), stacks.path)


def test_exactly_the_footprint_is_admitted_and_a_millicore_less_is_not(stacks):
    cfg = load_config_unchecked(stacks, domain(stacks))
    totals = stack_need(cfg).totals
    quota = {"requestsCpu": f"{round(totals[0] * 1000)}m",
             "requestsMemory": f"{round(totals[1] / 2**20)}Mi",
             "limitsCpu": f"{round(totals[2] * 1000)}m",
             "limitsMemory": f"{round(totals[3] / 2**20)}Mi"}
    load_stack_config(domain(stacks, "fits", quota=quota), stacks.path)
    less = {**quota, "requestsCpu": f"{round(totals[0] * 1000) - 1}m"}
    assert list(refusal(stacks, domain(stacks, "short", quota=less))) == [
        "dataplatform:isolation.quota.requestsCpu"]


def test_each_declared_dbt_job_counts_one_pod(stacks):
    def dbt(jobs: int) -> dict:
        return {"dbt": {"enabled": True, "projects": [{
            "name": "p", "gitUrl": "https://github.com/acme/dbt.git",
            "jobs": [{**JOB, "name": f"j{i}"} for i in range(jobs)]}]}}

    one = load_config_unchecked(stacks, domain(stacks, "one", app_config=dbt(1)))
    five = load_config_unchecked(stacks, domain(stacks, "five", app_config=dbt(5)))
    job = footprints("prod")["dbt"]["batch"]
    assert stack_need(five).totals[0] - stack_need(one).totals[0] == pytest.approx(4 * job[0])
    assert ("dbt 5 jobs", pytest.approx(5 * job[0])) in stack_need(five).parts[0]


def test_in_cluster_postgres_and_the_largest_batch_pod_count():
    pinned = footprints("prod")
    managed = need("prod", ["metabase"], in_cluster_db=False, local=False)
    in_cluster = need("prod", ["metabase"], in_cluster_db=True, local=False)
    # the largest batch pod counts once: Postgres' provisioning Job over Metabase's setup Job
    assert in_cluster.totals[0] - managed.totals[0] == pytest.approx(
        pinned["postgres"]["standing"][0] + pinned["postgres"]["batch"][0]
        - pinned["metabase"]["batch"][0])
    both = need("prod", ["airbyte", "datahub"], in_cluster_db=False, local=False)
    largest = max(pinned[a]["batch"][0] for a in ("airbyte", "datahub"))
    assert both.totals[0] == pytest.approx(
        pinned["airbyte"]["standing"][0] + pinned["datahub"]["standing"][0] + largest)


def test_platform_stacks_and_argocd_are_not_counted():
    assert need("prod", ["argocd"], in_cluster_db=False, local=False).totals == [0.0] * 4
    for stack in ("aws-platform", "gcp-platform"):
        cfg = load_stack_config(stack)
        assert stack_need(cfg) is None and quota_problems(cfg) == []


@pytest.mark.parametrize("stack", shipped_examples())
def test_shipped_stacks_fit_their_quota(stack):
    cfg = load_stack_config(stack, SHIPPED_STACKS)  # the loader would raise ConfigError otherwise
    wanted = stack_need(cfg)
    if wanted is not None:
        q = cfg.isolation.quota
        admitted = [q.requests_cpu, q.requests_memory, q.limits_cpu, q.limits_memory]
        assert all(w <= quantity(a) for w, a in zip(wanted.totals, admitted, strict=True))
