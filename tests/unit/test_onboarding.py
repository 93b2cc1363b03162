"""`dataplatform new customer|domain`: valid files, plannable stacks, nothing overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dataplatform import cli
from dataplatform.plan.engine import plan_stack
from foundation.config import parse_stack_config
from foundation.config.quota_fit import MAX_DOMAINS_PER_CLUSTER
from foundation.naming import BASE_MAX

pytestmark = pytest.mark.unit

# customer <= 16, domain <= 20, environment <= 10, customer-domain-environment <= 40
LONGEST = ("a1-b2-c3-d4-e5f6", "d0m-a1n-b2c3", "e1-v2-3x4y")
LONGEST_PROD = (*LONGEST[:2], "production")
for names in (LONGEST, LONGEST_PROD):
    assert len("-".join(names)) == BASE_MAX and len(names[0]) == 16 and len(names[2]) == 10

CLOUD_ARGS = {"aws": ["--region", "eu-west-1"],
              "gcp": ["--region", "europe-west1", "--gcp-project", "acme-data-{env}"],
              "local": []}


def new(tmp_path: Path, *args: str) -> int:
    return cli.main(["new", *args, "--stacks-dir", str(tmp_path)])


def customer(tmp_path, name="acme", cloud="local", domains="sales", envs="dev", *extra):
    return new(tmp_path, "customer", name, "--cloud", cloud, *CLOUD_ARGS[cloud],
               "--domains", domains, "--environments", envs, *extra)


def config(tmp_path: Path, stack: str) -> dict:
    data = yaml.safe_load((tmp_path / f"Pulumi.{stack}.yaml").read_text())
    return {k.split(":", 1)[1]: v for k, v in data["config"].items()}


def files(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.glob("Pulumi.*.yaml"))


def no_mandatory_findings(stack: str, stacks_dir: Path) -> None:
    """The domain stack and its platform plan, and pass the mandatory policies."""
    from dataplatform.plan.policy import check_plan

    cfg = config(stacks_dir, stack)
    for name in (cfg["platform"]["stack"], stack):
        plan = plan_stack(name, stacks_dir)
        assert plan.resources
        findings = check_plan(plan, stacks_dir, None)
        assert not [f for f in findings if f["level"] == "mandatory"], findings


# --- every cloud: the generated stacks plan offline

def test_aws_prod_customer_plans_and_passes_mandatory_policies(tmp_path, capsys):
    assert customer(tmp_path, "acme", "aws", "sales", "prod") == 0
    assert files(tmp_path) == ["Pulumi.acme-platform-prod.yaml", "Pulumi.acme-sales-prod.yaml"]
    assert config(tmp_path, "acme-sales-prod")["profile"] == "prod"
    assert "cluster" not in config(tmp_path, "acme-platform-prod")  # private endpoint only
    no_mandatory_findings("acme-sales-prod", tmp_path)


def test_gcp_prod_customer_with_the_longest_names_plans_and_passes_mandatory_policies(
        tmp_path):
    # gcp has the tightest limits (GKE cluster 40, service accounts 30 characters)
    name, domain, env = LONGEST_PROD
    assert customer(tmp_path, name, "gcp", domain, env) == 0
    cfg = config(tmp_path, f"{name}-{domain}-{env}")
    assert (cfg["gcpProject"], cfg["profile"]) == (f"acme-data-{env}", "prod")
    # GKE's endpoint needs an allow-list: a marked placeholder until the consultant sets one
    plat = (tmp_path / f"Pulumi.{name}-platform-{env}.yaml").read_text()
    assert "- 203.0.113.0/24  # placeholder: replace" in plat
    no_mandatory_findings(f"{name}-{domain}-{env}", tmp_path)


def test_local_customer_plans(tmp_path):
    assert customer(tmp_path, "globex9", "local", "ops-2", "dev") == 0
    assert config(tmp_path, "globex9-platform-dev")["cluster"] == {"kubeContext": "kind-globex9"}
    assert plan_stack("globex9-ops-2-dev", tmp_path).outputs["clusterName"]


@pytest.mark.parametrize("cloud", ["aws", "gcp", "local"])
def test_longest_names_validate_on_every_cloud(tmp_path, cloud):
    name, domain, env = LONGEST
    assert customer(tmp_path, name, cloud, domain, env) == 0
    for f in files(tmp_path):
        parse_stack_config(yaml.safe_load((tmp_path / f).read_text()), f)


# --- what the files hold

def test_files_hold_only_what_the_model_cannot_default(tmp_path):
    assert customer(tmp_path, "acme", "aws", "sales,hr", "dev,prod") == 0
    assert len(files(tmp_path)) == 6
    assert set(config(tmp_path, "acme-platform-dev")) == {
        "customer", "environment", "profile", "cloud", "region", "kind", "owner", "costCenter"}
    dom = config(tmp_path, "acme-hr-prod")
    assert dom["platform"] == {"stack": "acme-platform-prod"}
    assert (dom["domain"], dom["kind"], dom["profile"]) == ("hr", "domain", "prod")
    assert config(tmp_path, "acme-hr-dev")["profile"] == "dev"
    text = (tmp_path / "Pulumi.acme-hr-dev.yaml").read_text()
    assert text.splitlines()[1].startswith("# Domain hr of acme")  # after the schema modeline
    assert "dataplatform:owner: acme-hr  # placeholder: replace" in text
    assert "dataplatform:costCenter: cc-unassigned  # placeholder: replace" in text


def test_given_labels_and_cidrs_are_not_placeholders(tmp_path):
    assert customer(tmp_path, "acme", "aws", "sales", "prod", "--owner", "data-team",
                    "--cost-center", "cc-42", "--public-access-cidrs", "198.51.100.0/24",
                    "--alert-email", "oncall@acme.io", "--smtp-relay", "smtp.acme.io:587") == 0
    plat = config(tmp_path, "acme-platform-prod")
    assert plat["cluster"] == {"publicAccessCidrs": ["198.51.100.0/24"]}
    assert (plat["owner"], plat["costCenter"]) == ("data-team", "cc-42")
    email = {"email": {"to": ["oncall@acme.io"], "from": "alertmanager@acme.io",
                       "smarthost": "smtp.acme.io:587"}}
    assert plat["monitoring"] == {"platformReceiver": email}
    assert config(tmp_path, "acme-sales-prod")["alerting"] == {"receivers": [email]}
    for stack in ("acme-platform-prod", "acme-sales-prod"):
        assert "placeholder" not in (tmp_path / f"Pulumi.{stack}.yaml").read_text()


def test_prod_stacks_get_receivers_marked_as_placeholders_and_dev_stacks_none(
        tmp_path, capsys):
    from dataplatform.plan.placeholders import placeholder_warnings
    from foundation.config import load_stack_config

    assert customer(tmp_path, "acme", "aws", "sales", "dev,prod") == 0
    out = capsys.readouterr().out
    assert "alert receivers hold placeholders at example.com" in out
    assert "monitoring" not in config(tmp_path, "acme-platform-dev")
    assert "alerting" not in config(tmp_path, "acme-sales-dev")
    plat = (tmp_path / "Pulumi.acme-platform-prod.yaml").read_text()
    dom = (tmp_path / "Pulumi.acme-sales-prod.yaml").read_text()
    for text in (plat, dom):
        assert "- oncall@example.com  # placeholder: replace" in text
        assert "smarthost: smtp.example.com:587  # placeholder: replace" in text
    # the plan warns about them, naming the key (as for owner and cost center)
    for stack, key in (("acme-platform-prod", "monitoring.platformReceiver"),
                       ("acme-sales-prod", "alerting.receivers")):
        path = tmp_path / f"Pulumi.{stack}.yaml"
        warnings = placeholder_warnings(load_stack_config(stack, tmp_path), path)
        assert any(f"{key} holds values marked `# placeholder`" in w for w in warnings)
    dev = tmp_path / "Pulumi.acme-sales-dev.yaml"
    assert not any("holds values marked" in w for w in placeholder_warnings(
        load_stack_config("acme-sales-dev", tmp_path), dev))
    # one more domain on the prod platform gets its receiver too
    assert new(tmp_path, "domain", "hr", "--platform", "acme-platform-prod",
               "--alert-email", "hr-oncall@acme.io") == 0
    hr = config(tmp_path, "acme-hr-prod")["alerting"]["receivers"][0]["email"]
    assert (hr["to"], hr["from"]) == (["hr-oncall@acme.io"], "alertmanager@acme.io")
    assert "smtp.example.com:587  # placeholder" in (tmp_path / "Pulumi.acme-hr-prod.yaml"
                                                     ).read_text()


def test_next_steps_name_stack_init_secrets_and_up_order(tmp_path, capsys):
    assert customer(tmp_path, "acme", "aws", "sales", "dev,prod") == 0
    out = capsys.readouterr().out
    lines = [line.strip() for line in out.splitlines()]
    inits = [line.split()[-1] for line in lines if line.startswith("pulumi stack init")]
    ups = [line.split()[-1] for line in lines if line.startswith("pulumi up -s")]
    assert inits == ups == ["acme-platform-dev", "acme-platform-prod", "acme-sales-dev",
                            "acme-sales-prod"]
    assert "pulumi config set --secret --path 'dataplatform:warehouse.password'" in out
    assert "warehouse.password" in out.split("Secret keys:")[1]


def test_environment_decides_the_profile(tmp_path):
    assert customer(tmp_path, "acme", "gcp", "sales", "staging,production") == 0
    assert config(tmp_path, "acme-sales-staging")["profile"] == "dev"
    assert config(tmp_path, "acme-sales-production")["profile"] == "prod"


def test_apps_option(tmp_path, capsys):
    assert customer(tmp_path, "acme", "local", "sales", "dev", "--apps", "metabase") == 0
    assert config(tmp_path, "acme-sales-dev")["apps"] == {"metabase": {"enabled": True}}
    assert customer(tmp_path, "b", "local", "sales", "dev", "--apps", "superset") == 2
    assert "unknown app(s) superset" in capsys.readouterr().err


# --- quotas that fit: every generated domain loads with its apps

BIG_APPS = "airbyte,airflow,metabase,datahub"


def test_a_50_stack_customer_gets_quotas_that_fit_its_apps(tmp_path, capsys):
    from foundation.config import ConfigError
    from foundation.config.loader import load_stack_config
    from foundation.config.quota_fit import stack_need
    from foundation.quantity import parse_quantity as quantity

    # 44 dev domains on one platform, 6 prod ones (what a prod cluster's maximum grants)
    domains = ",".join(f"d{i:02d}" for i in range(44))
    assert customer(tmp_path, "acme", "aws", domains, "dev", "--apps", BIG_APPS) == 0
    domains = ",".join(f"d{i:02d}" for i in range(MAX_DOMAINS_PER_CLUSTER))
    assert customer(tmp_path, "acme", "aws", domains, "prod", "--apps", BIG_APPS) == 0
    domain_stacks = [f[len("Pulumi."):-len(".yaml")] for f in files(tmp_path)
                     if "-platform-" not in f]
    assert len(domain_stacks) == 50
    for stack in domain_stacks:
        cfg = load_stack_config(stack, tmp_path)  # raises ConfigError if the quota is short
        q, wanted = cfg.isolation.quota, stack_need(cfg)
        assert wanted is not None
        admitted = [quantity(v) for v in (q.requests_cpu, q.requests_memory, q.limits_cpu,
                                          q.limits_memory)]
        # a quarter of headroom (rounded up to whole cores and GiB), or the model's default
        assert all(a >= w * 1.25 for a, w in zip(admitted, wanted.totals, strict=True))
    prod = config(tmp_path, "acme-d00-prod")["isolation"]["quota"]
    assert quantity(prod["requestsCpu"]) > 8 and quantity(prod["requestsMemory"]) > 24 * 2**30
    assert "isolation.quota: the apps' footprint" in (
        tmp_path / "Pulumi.acme-d00-prod.yaml").read_text()
    # the default quota (8 CPU / 24Gi requests) is refused, with both figures
    path = tmp_path / "Pulumi.acme-d00-prod.yaml"
    data = yaml.safe_load(path.read_text())
    del data["config"]["dataplatform:isolation"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_stack_config("acme-d00-prod", tmp_path)
    problems = {p.key: p.message for p in err.value.problems}
    cpu = problems["dataplatform:isolation.quota.requestsCpu"]
    assert "the enabled apps request " in cpu and "but the quota admits 8: raise it to at " \
        "least " in cpu
    assert "but the quota admits 24Gi" in problems["dataplatform:isolation.quota.requestsMemory"]


def test_a_domain_whose_apps_fit_the_default_quota_gets_none(tmp_path):
    assert customer(tmp_path, "acme", "aws", "sales", "dev,prod", "--apps", "metabase") == 0
    assert "isolation" not in config(tmp_path, "acme-sales-dev")
    assert "isolation" not in config(tmp_path, "acme-sales-prod")


# --- refusals: exit 2, one clear message, nothing written

def refused(tmp_path, capsys, code: int, *needles: str) -> None:
    assert code == 2
    err = capsys.readouterr().err
    assert all(n in err for n in needles), err
    assert "Traceback" not in err


def test_refuses_to_overwrite_and_writes_nothing(tmp_path, capsys):
    assert customer(tmp_path, "acme", "local", "sales", "dev") == 0
    capsys.readouterr()
    before = {f: (tmp_path / f).read_text() for f in files(tmp_path)}
    refused(tmp_path, capsys, customer(tmp_path, "acme", "local", "sales,hr", "dev"),
            "refusing to overwrite", "Pulumi.acme-platform-dev.yaml", "nothing written")
    assert {f: (tmp_path / f).read_text() for f in files(tmp_path)} == before


def test_one_name_too_long_is_refused_before_anything_is_written(tmp_path, capsys):
    name, domain, env = LONGEST
    refused(tmp_path, capsys, customer(tmp_path, name, "aws", domain + "x", env),
            "dataplatform:environment", f"longer than {BASE_MAX}")
    refused(tmp_path, capsys, customer(tmp_path, name + "x", "aws", "d", "dev"),
            "dataplatform:customer")
    refused(tmp_path, capsys, customer(tmp_path, "acme", "aws", "Sales_1", "dev"),
            "dataplatform:domain")
    assert files(tmp_path) == []


@pytest.mark.parametrize(("args", "needle"), [
    (["--cloud", "local", "--environments", "dev,prod"], "local runs the dev profile only"),
    (["--cloud", "local", "--region", "eu-west-1", "--environments", "dev"], "--region"),
    (["--cloud", "aws", "--environments", "dev"], "needs --region"),
    (["--cloud", "aws", "--region", "eu-wst-1", "--environments", "dev"],
     "did you mean 'eu-west-1'"),
    (["--cloud", "gcp", "--region", "europe-west1", "--environments", "dev"],
     "needs --gcp-project"),
    (["--cloud", "local", "--environments", "dev,dev"], "dev listed more than once"),
    (["--cloud", "local", "--environments", ","], "at least one"),
    (["--cloud", "aws", "--region", "eu-west-1", "--environments", "prod",
      "--public-access-cidrs", "0.0.0.0/0"], "dataplatform:cluster.publicAccessCidrs"),
])
def test_bad_input_is_refused(tmp_path, capsys, args, needle):
    code = new(tmp_path, "customer", "acme", "--domains", "sales", *args)
    refused(tmp_path, capsys, code, needle)
    assert files(tmp_path) == []


# --- new domain

def test_new_domain_follows_its_platform(tmp_path, capsys):
    assert customer(tmp_path, "acme", "gcp", "sales", "prod") == 0
    capsys.readouterr()
    assert new(tmp_path, "domain", "risk-2", "--platform", "acme-platform-prod",
               "--cost-center", "cc-77") == 0
    out = capsys.readouterr().out
    cfg = config(tmp_path, "acme-risk-2-prod")
    plat = config(tmp_path, "acme-platform-prod")
    for key in ("customer", "environment", "profile", "cloud", "region", "gcpProject"):
        assert cfg[key] == plat[key], key
    assert (cfg["platform"], cfg["costCenter"]) == ({"stack": "acme-platform-prod"}, "cc-77")
    assert "pulumi up -s acme-risk-2-prod" in out and "pulumi stack init acme-risk-2-prod" in out
    refused(tmp_path, capsys, new(tmp_path, "domain", "risk-2", "--platform",
                                  "acme-platform-prod"), "refusing to overwrite")


def test_new_domain_needs_a_platform_stack(tmp_path, capsys):
    assert customer(tmp_path, "acme", "local", "sales", "dev") == 0
    capsys.readouterr()
    refused(tmp_path, capsys, new(tmp_path, "domain", "hr", "--platform", "acme-sales-dev"),
            "not a platform stack")
    refused(tmp_path, capsys, new(tmp_path, "domain", "hr", "--platform", "nope"),
            "unknown stack 'nope'")
    assert "Pulumi.acme-hr-dev.yaml" not in files(tmp_path)


def test_a_customer_whose_names_an_existing_stack_uses_is_refused(tmp_path, capsys):
    """The README's own example next to the shipped `acme` examples was a trap: the new
    acme-finance-prod would claim aws-finance's cluster, namespace and buckets."""
    import shutil

    from foundation.config.loader import STACKS_DIR

    for name in ("aws-platform", "aws-finance"):
        shutil.copy(STACKS_DIR / f"Pulumi.{name}.yaml", tmp_path)
    code = cli.main(["new", "customer", "acme", "--cloud", "aws", "--region", "eu-west-1",
                     "--domains", "finance", "--environments", "prod",
                     "--stacks-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Pulumi.acme-finance-prod.yaml would use the names of" in err
    assert "Pulumi.aws-finance.yaml" in err and "Pulumi.aws-platform.yaml" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "Pulumi.aws-finance.yaml", "Pulumi.aws-platform.yaml"], "nothing written"
    # another cloud keeps its names in other accounts: no clash
    assert cli.main(["new", "customer", "acme", "--cloud", "local", "--domains", "finance",
                     "--environments", "dev", "--stacks-dir", str(tmp_path)]) == 0


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_prod_domains_beyond_what_the_cluster_grants_are_refused(tmp_path, capsys, cloud):
    """Their quota requests exceed the workload nodes at the prod profile's maximum: the
    message names the figure short and the knob; nothing is written. Dev overcommits."""
    count = MAX_DOMAINS_PER_CLUSTER  # the documented bound fits (test_autoscaling); find
    while count < 50:                 # the first count that does not
        domains = ",".join(f"d{i:02d}" for i in range(count))
        if customer(tmp_path, "acme", cloud, domains, "prod", "--apps", BIG_APPS) == 2:
            break
        for f in tmp_path.glob("Pulumi.*.yaml"):
            f.unlink()
        count += 1
    assert MAX_DOMAINS_PER_CLUSTER < count < 50
    err = capsys.readouterr().err
    assert "acme-platform-prod: the domains' quotas do not fit its cluster" in err
    assert f"{count} domain quotas request" in err
    assert "cluster.autoscaling.maxNodes" in err
    assert files(tmp_path) == []
    assert customer(tmp_path, "acme", cloud, domains, "dev", "--apps", BIG_APPS) == 0
