"""The text plan people read: a tree per component, a line per app, 100 columns, mocked
values marked `(offline)`, and warnings for placeholder owner and cost center."""

from __future__ import annotations

import pytest
from stackdir import SHIPPED_STACKS, shipped_examples

from dataplatform import cli
from dataplatform.plan.engine import Plan, PlannedResource
from dataplatform.plan.mocks import ACCOUNT_ID, PlatformMocks, offline_value
from dataplatform.plan.placeholders import (
    looks_like_placeholder,
    marked_keys,
    placeholder_warnings,
)
from dataplatform.plan.render import LEGEND, OFFLINE, WIDTH, fit, to_text
from foundation.config.loader import available_stacks, load_stack_config, stack_file

pytestmark = pytest.mark.unit


def _lines(text: str, start: str) -> list[str]:
    """The lines from the one starting with `start` to the next blank line."""
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith(start))
    return lines[i:lines.index("", i)]


def _output(text: str, key: str) -> str:
    """An output's line(s) in the text plan, joined."""
    out = _lines(text, "Outputs:")
    i = next(i for i, line in enumerate(out) if line.startswith(f"  {key}:"))
    more = [line for line in out[i + 1:]]
    end = next((j for j, line in enumerate(more) if line.startswith("  ") and
                not line.startswith("   ")), len(more))
    return "\n".join([out[i], *more[:end]])


# --- 100 columns


@pytest.mark.parametrize("stack", available_stacks())
def test_every_line_of_every_shipped_text_plan_fits_100_columns(shipped_plan, stack):
    text = to_text(shipped_plan(stack))
    long = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not long, "\n".join(long)


def test_fit_breaks_at_spaces_then_separators_and_loses_nothing():
    urn = ("urn:pulumi:prod::dataplatform::dataplatform:stack:DomainStack$dataplatform:apps:"
           "Airflow$kubernetes:argoproj.io/v1alpha1:Application::acme-finance-prod-airflow-helm")
    lines = fit(f"at {urn}", "      ", "         ", width=60)
    assert all(len(line) <= 60 for line in lines)
    assert "".join(line.strip() for line in lines) == f"at{urn}"  # the one space broken at
    assert lines[0] == "      at"  # a space is the first choice, then `/ : $ , . @ -`
    assert all(line.strip()[-1] in "/:$,.@-" for line in lines[1:-1])
    words = fit("a " * 80, "", "", width=20)
    assert all(len(line) <= 20 and not line.startswith(" ") for line in words)


def _resource(name: str, type_: str, parent: str | None = None, **inputs) -> PlannedResource:
    return PlannedResource(urn=f"urn:pulumi:s::dataplatform::{type_}::{name}", type=type_,
                           name=name, parent=parent, custom=True, inputs=inputs,
                           protect=False, retain_on_delete=False, depends_on=[],
                           provider=None)


def test_long_names_types_values_and_findings_wrap_within_100_columns():
    root = _resource("x" * 120, "dataplatform:stack:DomainStack")
    kid = _resource("k" * 60, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", root.urn)
    plan = Plan("dataplatform", "s", [root, kid], outputs={
        "endpoint": "https://" + "a" * 150, "list": [f"item-{i}" for i in range(40)]},
        policy=[{"level": "mandatory", "policy": "p", "message": "word " * 40 + "\nmore",
                 "urn": kid.urn + "$" + "y" * 120}])
    text = to_text(plan)
    assert all(len(line) <= WIDTH for line in text.splitlines()), text
    flat = text.replace("\n", "").replace(" ", "").replace("│", "")
    for whole in (root.name, kid.name, kid.type, "a" * 150, "y" * 120):
        assert whole in flat, f"{whole[:20]}… was cut"
    assert "      more" in text.splitlines()  # a message's second line, indented


# --- the tree and its app lines


def test_tree_groups_resources_under_their_component(shipped_plan):
    plan = shipped_plan("local")
    text = to_text(plan)
    tree = _lines(text, "└─ ")
    assert tree[0] == "└─ acme-marketing-dev  (dataplatform:stack:DomainStack)"
    helm = plan.get("dataplatform:apps:HelmApp", "acme-marketing-dev-airflow-helm")
    assert helm.parent == plan.get("dataplatform:apps:Airflow", "acme-marketing-dev-airflow").urn
    i = tree.index("   ├─ acme-marketing-dev-airflow  (dataplatform:apps:Airflow)")
    assert "   │  ├─ acme-marketing-dev-airflow-helm  (dataplatform:apps:HelmApp)" in tree[i:]


def test_each_app_component_has_a_line_with_chart_version_delivery_namespace(shipped_plan):
    plan = shipped_plan("local")
    tree = _lines(to_text(plan), "└─ ")
    app = plan.get("kubernetes:argoproj.io/v1alpha1:Application",
                   "acme-marketing-dev-airflow-helm-application")
    source = app.inputs["spec"]["source"]
    i = next(i for i, line in enumerate(tree) if "acme-marketing-dev-airflow-helm  (" in line)
    assert tree[i + 1] == (f"   │  │  │  app: chart airflow {source['targetRevision']}, "
                           "delivery argocd, namespace acme-marketing-dev")
    release = plan.get("kubernetes:helm.sh/v3:Release", "acme-marketing-dev-argocd-chart-release")
    i = next(i for i, line in enumerate(tree) if "acme-marketing-dev-argocd-chart  (" in line)
    assert tree[i + 1].endswith(f"app: chart argo-cd {release.inputs['version']}, "
                                "delivery helm, namespace argocd")
    helm_apps = plan.by_type("dataplatform:apps:HelmApp")
    assert sum("app: chart " in line for line in tree) == len(helm_apps)


def test_a_patched_chart_is_an_app_delivered_by_helm(shipped_plan):
    tree = _lines(to_text(shipped_plan("local-extra")), "└─ ")
    i = next(i for i, line in enumerate(tree) if "acme-insights-dev-dagster-helm  (" in line)
    assert "app: chart dagster " in tree[i + 1]
    assert tree[i + 1].endswith("delivery helm, namespace acme-insights-dev-orchestration")


# --- (offline) marks


def test_mocked_cloud_identifiers_are_marked_offline(shipped_plan):
    text = to_text(shipped_plan("aws-platform"))
    for key in ("clusterEndpoint", "oidcIssuer", "oidcProviderArn"):
        assert OFFLINE in _output(text, key), key
    network = _output(text, "network")
    assert network.startswith("  network:\n"), "mixed or long: one line per value"
    assert '    vpcId: "vpc-' in network and network.count(OFFLINE) == 5
    for key in ("clusterName", "argocdNamespace", "customer"):
        assert OFFLINE not in _output(text, key), key
    assert text.count(LEGEND) == 1


def test_values_the_program_knows_stay_unmarked(shipped_plan):
    finance = to_text(shipped_plan("aws-finance"))
    assert OFFLINE in _output(finance, "databaseHost")  # an RDS endpoint with a hash
    assert OFFLINE not in _output(finance, "objectStorageEndpoint")  # from the region
    accounts = _output(finance, "serviceAccounts")
    assert accounts.count(ACCOUNT_ID) == accounts.count(OFFLINE) > 0  # the role ARNs only
    marketing = to_text(shipped_plan("gcp-marketing"))
    # Service account emails are built from the configured project and account ids: real.
    assert ".iam.gserviceaccount.com" in marketing and OFFLINE not in marketing
    assert LEGEND not in marketing
    assert OFFLINE in _output(to_text(shipped_plan("gcp-platform")), "clusterEndpoint")  # IP
    local = to_text(shipped_plan("local"))
    assert OFFLINE not in local and LEGEND not in local


def test_offline_values_of_the_platform_stay_offline_in_its_domains(shipped_plan):
    platform, domain = shipped_plan("aws-platform"), shipped_plan("aws-finance")
    assert platform.offline_values and platform.offline_values <= domain.offline_values


def test_json_plan_is_unchanged_by_the_marks(shipped_plan):
    plan = shipped_plan("aws-platform")
    assert set(plan.as_json()) == {"project", "stack", "resources", "outputs", "policy"}
    assert "offline" not in repr(plan)


def test_offline_value_rules():
    known = {"acme-data-dev", "acme-marketing-dev-airbyte", "eu-west-1", "10.0.0.1"}
    assert offline_value(f"arn:aws:iam::{ACCOUNT_ID}:role/x", known)
    assert offline_value("vpc-057022ab857b454c6", known)
    assert offline_value("https://34.78.221.124", known)
    assert not offline_value("acme-marketing-dev-airbyte@acme-data-dev.iam.gserviceaccount.com",
                             known)
    assert not offline_value("https://10.0.0.1", known)  # an address the inputs gave
    assert not offline_value("ACTIVE", known) and not offline_value("deployed", known)
    assert not offline_value("eu-west-1", known)


def test_mocks_remember_what_they_made_not_what_they_were_given():
    mocks = PlatformMocks(offline={"from-the-platform-0a1b2c"})
    mocks._made({"name": "role-a1b2c3d4"}, {"id": "role-a1b2c3d4", "arn":
                f"arn:aws:iam::{ACCOUNT_ID}:role/role-a1b2c3d4", "status": "ACTIVE"}, "r")
    assert mocks.offline == {"from-the-platform-0a1b2c",
                             f"arn:aws:iam::{ACCOUNT_ID}:role/role-a1b2c3d4"}
    # An input passing a made-up value on does not make it known.
    mocks._made({"roleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/role-a1b2c3d4"},
                {"arn": f"arn:aws:iam::{ACCOUNT_ID}:policy/p"})
    assert f"arn:aws:iam::{ACCOUNT_ID}:policy/p" in mocks.offline


# --- placeholder owner and cost center


@pytest.mark.parametrize("value", ["TODO", "changeme", "change-me", "tbd", "owner",
                                   "cost-center", "cc-0000", "cc-unassigned", "<team>",
                                   "placeholder", "your-team", "xxx", "CC-XXXX"])
def test_placeholder_values(value):
    assert looks_like_placeholder(value)


@pytest.mark.parametrize("value", ["marketing-data", "platform-team", "cc-4711", "cc-1000",
                                   "finance-data", "todoist-team", "owners-club"])
def test_real_values_are_not_placeholders(value):
    assert not looks_like_placeholder(value)


@pytest.mark.parametrize("stack", shipped_examples())
def test_shipped_stacks_hold_no_placeholder(stack):
    cfg = load_stack_config(stack, SHIPPED_STACKS)
    assert placeholder_warnings(cfg, stack_file(stack, SHIPPED_STACKS)) == []


def test_the_plan_warns_about_placeholders_on_stderr(stacks, capsys):
    path = stacks.path / "Pulumi.local.yaml"
    text = path.read_text()
    path.write_text(text.replace("dataplatform:owner: marketing-data",
                                 "dataplatform:owner: acme-marketing  # placeholder: replace")
                    .replace("dataplatform:costCenter: cc-4711", "dataplatform:costCenter: TODO"))
    assert cli.main(["plan", "local", "--no-policy", "--stacks-dir", str(stacks.path)]) == 0
    out, err = capsys.readouterr()
    assert "Plan of stack 'local'" in out and "placeholder" not in out
    assert "owner 'acme-marketing' is marked `# placeholder`: set the team" in err
    assert "costCenter 'TODO' is a placeholder: set the stack's cost center" in err


def test_what_dataplatform_new_leaves_to_fill_in_is_warned_about(tmp_path, capsys):
    assert cli.main(["new", "customer", "zeta", "--cloud", "local", "--domains", "sales",
                     "--environments", "dev", "--stacks-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    written = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in tmp_path.glob("Pulumi.*"))
    assert written
    for stack in written:
        path = stack_file(stack, tmp_path)
        assert marked_keys(path.read_text()) == {"owner", "costCenter"}
        warnings = placeholder_warnings(load_stack_config(stack, tmp_path), path)
        assert [w.split(": ", 2)[1].split()[0] for w in warnings] == ["owner", "costCenter"]
    assert cli.main(["new", "customer", "eta", "--cloud", "local", "--domains", "sales",
                     "--environments", "dev", "--owner", "sales-data", "--cost-center",
                     "cc-5100", "--stacks-dir", str(tmp_path)]) == 0
    given = [p for p in tmp_path.glob("Pulumi.eta-*.yaml")]
    assert given and all(not marked_keys(p.read_text()) for p in given)
