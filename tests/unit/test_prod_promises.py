"""Prod promises a stack file cannot undo silently: HA replicas and PDBs of the prod
profile's values, and a managed metadata database."""

from __future__ import annotations

import pytest

from foundation.config import ConfigError, load_stack_config
from foundation.config.prod_promises import SECTIONS, promises, undone

pytestmark = pytest.mark.unit


def _refusal(stacks, name: str, cfg: dict) -> dict[str, str]:
    stacks.write(name, cfg)
    with pytest.raises(ConfigError) as info:
        load_stack_config(name, stacks.path)
    return {p.key: p.message for p in info.value.problems}


def test_the_promises_come_from_the_prod_values_files():
    """Read, not restated: each user-facing service the prod files run HA is promised."""
    assert (("apiServer", "replicas"), "replicas") in promises("airflow")
    assert (("apiServer", "podDisruptionBudget", "enabled"), "pdb") in promises("airflow")
    assert (("replicaCount",), "replicas") in promises("metabase")
    assert (("pdb", "create"), "pdb") in promises("metabase")
    assert (("datahub-frontend", "replicaCount"), "replicas") in promises("datahub")
    assert (("server", "replicaCount"), "replicas") in promises("airbyte")
    assert (("server", "replicas"), "replicas") in promises("argo-cd")
    assert all(promises(folder) for folder in SECTIONS.values())


@pytest.mark.parametrize("override,key", [
    ({"apiServer": {"replicas": 1}}, "apiServer.replicas"),
    ({"apiServer": {"replicas": "1"}}, "apiServer.replicas"),
    ({"apiServer": {"replicas": 1.0}}, "apiServer.replicas"),
    ({"apiServer": {"replicas": None}}, "apiServer.replicas"),
    ({"apiServer": {"replicas": "two"}}, "apiServer.replicas"),
    ({"apiServer": None}, "apiServer"),
    ({"apiServer": {"podDisruptionBudget": {"enabled": False}}},
     "apiServer.podDisruptionBudget.enabled"),
    ({"apiServer": {"podDisruptionBudget": {"enabled": "false"}}},
     "apiServer.podDisruptionBudget.enabled"),
    ({"apiServer": {"podDisruptionBudget": None}}, "apiServer.podDisruptionBudget"),
])
def test_every_spelling_of_an_undone_promise_is_found(override, key):
    assert [k for k, _ in undone(override, "airflow")] == [key]


@pytest.mark.parametrize("override", [
    {}, {"apiServer": {"replicas": 3}}, {"apiServer": {"replicas": "4"}},
    {"apiServer": {"resources": {"limits": {"cpu": "3"}}}},
    {"apiServer": {"podDisruptionBudget": {"config": {"maxUnavailable": 1}}}},
    {"dagProcessor": {"replicas": 1}}])
def test_what_keeps_the_promise_passes(override):
    assert undone(override, "airflow") == []


def test_a_prod_domain_may_not_drop_to_one_replica(stacks):
    cfg = stacks.shipped("aws-finance")
    cfg["apps"] = {**cfg.get("apps", {}), "metabase": {
        "enabled": True, "values": {"replicaCount": 1, "pdb": {"create": False}}}}
    problems = _refusal(stacks, "single", cfg)
    assert "fewer than the 2 replicas" in problems["dataplatform:apps.metabase.values.replicaCount"]
    assert "PodDisruptionBudget" in problems["dataplatform:apps.metabase.values.pdb.create"]


def test_a_dev_stack_may_run_one_replica(stacks):
    cfg = stacks.shipped("local")
    cfg["apps"] = {**cfg.get("apps", {}), "metabase": {
        "enabled": True, "values": {"replicaCount": 1}}}
    stacks.write("dev-single", cfg)
    load_stack_config("dev-single", stacks.path)


def test_a_prod_platform_may_not_weaken_alertmanager(stacks):
    cfg = stacks.shipped("aws-platform")
    cfg["monitoring"] = {**cfg.get("monitoring", {}), "values": {
        "alertmanager": {"alertmanagerSpec": {"replicas": 1}}}}
    problems = _refusal(stacks, "am", cfg)
    assert "dataplatform:monitoring.values.alertmanager.alertmanagerSpec.replicas" in problems


def test_a_prod_stack_with_an_in_cluster_database_states_why(stacks):
    cfg = stacks.shipped("aws-finance")
    cfg["database"] = {**cfg.get("database", {}), "mode": "in-cluster"}
    problems = _refusal(stacks, "incluster", cfg)
    assert "inClusterReason" in problems["dataplatform:database.mode"]
    cfg["database"]["inClusterReason"] = "Lab tenant, rebuilt nightly from the lake; RPO 24h."
    stacks.write("incluster", cfg)
    load_stack_config("incluster", stacks.path)


def test_a_reason_without_an_in_cluster_prod_database_is_refused(stacks):
    cfg = stacks.shipped("aws-finance")
    cfg["database"] = {**cfg.get("database", {}), "inClusterReason": "because we can, really"}
    problems = _refusal(stacks, "reason", cfg)
    assert "only for a prod stack" in problems["dataplatform:database.inClusterReason"]
