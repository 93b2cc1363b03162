"""Allow lists judged by what they cover together (issue: hostile input, network exposure).

The rule is the policy pack's own (`policies/guardrails/_cidrs.py`): the config model, the
EKS and GKE arguments and the pack judge a CIDR set by one definition.
"""

from __future__ import annotations

import dataclasses

import pytest
from receivers import with_receivers

from dataplatform.resolve.cluster import eks_args, gke_args
from foundation import cidrs
from foundation.config import ConfigError, StackConfig, load_stack_config

pytestmark = pytest.mark.unit

SPLIT = ["0.0.0.0/1", "128.0.0.0/1"]
SIXTEENTHS = [f"{i * 16}.0.0.0/4" for i in range(16)]
PUBLIC = [["0.0.0.0/0"], SPLIT, SIXTEENTHS, ["::/0"], ["2000::/3"],
          ["10.0.0.0/8", "0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/3"],
          [f"{i}.0.0.0/8" for i in range(1, 3)]]
NOT_PUBLIC = [[], ["203.0.113.0/24"], ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
              ["198.51.100.0/24", "8.8.8.0/24"], ["2001:db8::/32"], ["100.64.0.0/10"]]


@pytest.mark.parametrize("cidr_set", PUBLIC)
def test_sets_that_cover_the_internet_are_public(cidr_set):
    assert cidrs.covers_public(cidr_set)


@pytest.mark.parametrize("cidr_set", NOT_PUBLIC)
def test_a_few_networks_are_not_public(cidr_set):
    assert not cidrs.covers_public(cidr_set)


def test_the_rule_is_the_policy_packs_own():
    """One definition: the loader runs the very file the pack imports, and the two agree."""
    import importlib
    import sys
    from pathlib import Path

    from foundation.layout import REPO_ROOT

    sys.path.insert(0, str(REPO_ROOT / "policies"))
    try:
        pack = importlib.import_module("guardrails._cidrs")
    finally:
        sys.path.remove(str(REPO_ROOT / "policies"))
    assert Path(cidrs._pack.__file__).resolve() == Path(pack.__file__).resolve()
    for cidr_set in PUBLIC + NOT_PUBLIC:
        assert cidrs.covers_public(cidr_set) == pack.covers_public(cidr_set), cidr_set


@pytest.mark.parametrize("cidr_set", [SPLIT, SIXTEENTHS, ["0.0.0.0/0"]])
def test_a_prod_stack_may_not_open_its_endpoint_in_pieces(stacks, cidr_set):
    cfg = stacks.shipped("aws-platform")
    cfg["cluster"] = {**cfg.get("cluster", {}), "publicAccessCidrs": cidr_set}
    stacks.write("open", cfg)
    with pytest.raises(ConfigError) as info:
        load_stack_config("open", stacks.path)
    [problem] = [p for p in info.value.problems if p.key.endswith("publicAccessCidrs")]
    assert "cover the internet" in problem.message and cidr_set[0] in problem.message


def test_a_dev_stack_may_open_its_endpoint(stacks):
    cfg = stacks.shipped("aws-platform")
    assert cfg["profile"] == "prod"
    cfg.update(profile="dev", environment="dev")
    cfg["cluster"] = {**cfg.get("cluster", {}), "publicAccessCidrs": SPLIT}
    stacks.write("dev-open", cfg)
    load_stack_config("dev-open", stacks.path)


def _prod(cloud: str) -> StackConfig:
    base = {"customer": "acme", "kind": "platform", "environment": "prod", "profile": "prod",
            "cloud": cloud, "region": "europe-west1" if cloud == "gcp" else "eu-west-1",
            "owner": "data", "costCenter": "cc-1"}
    if cloud == "gcp":
        base["gcpProject"] = "acme-data-prod"
    return StackConfig.model_validate(with_receivers(base))


@pytest.mark.parametrize("make,field", [(eks_args, "public_access_cidrs"),
                                        (gke_args, "authorized_cidrs")])
def test_cluster_arguments_refuse_the_internet_in_pieces_in_prod(make, field):
    """Validated at construction too: arguments built by hand get the same rule."""
    args = make(_prod("aws" if make is eks_args else "gcp"))
    with pytest.raises(ValueError, match="opens the prod API endpoint to the internet"):
        dataclasses.replace(args, **{field: tuple(SPLIT)})
    dataclasses.replace(args, **{field: ("203.0.113.0/24",)})
