"""Every kind of bad stack file: one clear message naming file and key, exit 2, no resource."""

import subprocess
import sys

import pytest

from dataplatform import cli
from dataplatform.plan import engine
from foundation.config import ConfigError, load_stack_config

pytestmark = pytest.mark.unit


def errors_for(stacks, config) -> ConfigError:
    stacks.write("bad", config)
    with pytest.raises(ConfigError) as info:
        load_stack_config("bad", stacks.path)
    return info.value


def with_(base: dict, **changes) -> dict:
    cfg = dict(base)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = cfg
        for p in parents:
            node[p] = dict(node.get(p) or {})
            node = node[p]
        node[leaf] = value
    return cfg


@pytest.fixture
def local(stacks):
    return stacks.shipped("local")


CASES = {
    "unknown top-level key": (dict(colud="aws"), "dataplatform:colud", "unknown key (did you mean 'cloud'?)"),
    "unknown nested key": (dict(cluster__kubeContxt="kind-x"), "dataplatform:cluster.kubeContxt",
                           "did you mean 'kubeContext'"),
    "unknown deep key": (dict(isolation__quota__cpus="4"), "dataplatform:isolation.quota.cpus",
                         "unknown key"),
    "wrong type": (dict(isolation__quota__pods="many"), "dataplatform:isolation.quota.pods",
                   "valid integer"),
    "wrong type bool": (dict(apps__airflow={"enabled": "yes"}), "dataplatform:apps.airflow.enabled",
                        "valid boolean"),
    "uppercase name": (dict(customer="Acme"), "dataplatform:customer", "not a valid name"),
    "bad characters": (dict(domain="mark_eting"), "dataplatform:domain", "DNS-1123"),
    "too long name": (dict(domain="d" * 21), "dataplatform:domain", "at most 20"),
    "invalid CIDR": (dict(cluster__network={"vpcCidr": "10.0.0.0/33"}),
                     "dataplatform:cluster.network.vpcCidr", "not a valid CIDR"),
    "CIDR with host bits": (dict(isolation__egressCidrs=["10.0.0.1/8"]),
                            "dataplatform:isolation.egressCidrs.0", "not a valid CIDR"),
    "overlapping CIDRs": (dict(cluster__network={"vpcCidr": "10.40.0.0/16", "podCidr": "10.40.128.0/17"}),
                          "dataplatform:cluster.network.podCidr", "overlaps vpcCidr"),
    "admin group everyone": (dict(isolation__adminGroups=["system:authenticated"]),
                             "dataplatform:isolation.adminGroups.0", "Kubernetes fills itself"),
    "admin group superusers": (dict(isolation__adminGroups=["System:Masters"]),
                               "dataplatform:isolation.adminGroups.0", "Kubernetes fills itself"),
    "admin group service accounts": (
        dict(isolation__adminGroups=["system:serviceaccounts:acme-marketing-dev"]),
        "dataplatform:isolation.adminGroups.0", "Kubernetes fills itself"),
    "admin group padded": (dict(isolation__adminGroups=[" system:masters"]),
                           "dataplatform:isolation.adminGroups.0", "no blanks"),
    "reserved label": (dict(labels={"cost_center": "x"}), "dataplatform:labels.cost_center",
                       "reserved"),
    "reserved label other spelling": (dict(labels={"managedby": "me"}),
                                      "dataplatform:labels.managedby", "reserved"),
    "reserved label domain id": (dict(labels={"domain-id": "other"}),
                                 "dataplatform:labels.domain-id", "reserved"),
    "unknown app": (dict(apps__supserset={"enabled": True}), "dataplatform:apps.supserset",
                    "unknown app 'supserset' (known apps:"),
    "prod on local": (dict(profile="prod"), "dataplatform:profile",
                      "profile 'prod' is not allowed on cloud 'local'"),
    "domain without platform or dedicated cluster": (
        dict(cluster={"kubeContext": "kind-x"}), "dataplatform:platform.stack",
        "needs platform.stack (a shared cluster) or cluster.mode: dedicated"),
    "missing required key": ({"owner": None}, "dataplatform:owner", "required key is missing"),
    "name budget": (dict(customer="c" * 16, domain="d" * 20, environment="staging"),
                    "dataplatform:environment", "longer than 40"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_error_names_the_file_and_the_dotted_key(stacks, local, case):
    changes, key, fragment = CASES[case]
    cfg = {k: v for k, v in with_(local, **changes).items() if v is not None}
    err = errors_for(stacks, cfg)
    text = str(err)
    assert text.startswith(f"{stacks.path}/Pulumi.bad.yaml: "), text
    matching = [p for p in err.problems if p.key == key]
    assert matching, f"no problem for {key}: {text}"
    assert fragment in matching[0].message, text


def test_every_problem_is_reported_at_once(stacks, local):
    cfg = with_(local, customer="Acme", colud="aws", cluster__kubeContxt="x",
                apps__foo={}, isolation__quota__pods="x")
    err = errors_for(stacks, cfg)
    assert {p.key for p in err.problems} >= {
        "dataplatform:customer", "dataplatform:colud", "dataplatform:cluster.kubeContxt",
        "dataplatform:apps.foo", "dataplatform:isolation.quota.pods"}
    assert "5 problems" in str(err)


def test_conflicting_cluster_choice(stacks, local):
    err = errors_for(stacks, with_(local, platform={"stack": "local"}))
    assert any(p.key == "dataplatform:cluster.mode" and "choose one" in p.message
               for p in err.problems)


@pytest.mark.parametrize("content,fragment", [
    ("", "the file is empty"),
    ("config: [1, 2", "not valid YAML"),
    ("just a string", "expected a mapping"),
    ("config:\n  customer: acme\n", "config keys are namespaced"),
    ("config:\n  foo:bar: 1\n", "unknown config namespace 'foo'"),
    ("confg: {}\n", "unknown top-level key"),
])
def test_malformed_files(stacks, content, fragment):
    err = errors_for(stacks, content)
    assert fragment in str(err)


def test_yaml_bomb_is_refused_quickly(stacks):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, "
              f"*a{i-1}, *a{i-1}, *a{i-1}]" for i in range(1, 9)]
    bomb = "config:\n  dataplatform:labels:\n" + "\n".join("    " + line for line in lines)
    err = errors_for(stacks, bomb + "\n")
    assert "aliases are expanded" in str(err)


def test_platform_reference_must_exist_and_be_a_platform(stacks, local):
    shared = {k: v for k, v in local.items() if k != "cluster"}
    err = errors_for(stacks, {**shared, "platform": {"stack": "nowhere"}})
    assert err.problems[0].key == "dataplatform:platform.stack"
    assert "has no file" in err.problems[0].message
    err = errors_for(stacks, {**shared, "platform": {"stack": "local"}})
    assert "it is not a platform stack" in err.problems[0].message


def test_unknown_stack_lists_the_known_ones(stacks):
    with pytest.raises(ConfigError) as info:
        load_stack_config("nope", stacks.path)
    assert "unknown stack 'nope' (known: " in str(info.value)
    assert "local" in str(info.value)


def test_cli_exits_2_without_traceback_and_registers_nothing(stacks, local, capsys, monkeypatch):
    stacks.write("bad", with_(local, customer="Acme"))
    ran = []
    monkeypatch.setattr(engine, "run_program", lambda *a, **k: ran.append(a))
    code = cli.main(["plan", "bad", "--stacks-dir", str(stacks.path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Pulumi.bad.yaml" in err and "dataplatform:customer" in err
    assert ran == [], "no program may run (and no resource be registered) on bad config"


def test_cli_subprocess_exit_code_and_message(stacks, local):
    stacks.write("bad", with_(local, cloud="azure"))
    proc = subprocess.run([sys.executable, "-m", "dataplatform.cli", "plan", "bad",
                           "--stacks-dir", str(stacks.path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "dataplatform:cloud" in proc.stderr and "'aws', 'gcp' or 'local'" in proc.stderr
    assert proc.stdout == ""
