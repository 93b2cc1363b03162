"""Admin groups that reach people: on each cloud, the groups the domain's RoleBindings bind
are the groups a real login lands in.

- aws: an EKS access entry per `isolation.adminPrincipals` role, carrying exactly the
  RoleBindings' groups, with no access policy (RBAC alone authorizes);
- gcp: Google Groups for RBAC on the cluster (`cluster.gcp.securityGroup`), and admin
  groups named by their Google Group emails;
- local: the README's kubectl commands use the group and namespace the local stack binds.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dataplatform.plan.engine import Plan
from dataplatform.program import load
from foundation.config import ConfigError

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
POLICY_ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
SSO_ROLE = ("arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
            "AWSReservedSSO_FinanceAdmin_0123456789abcdef")
ROLE = "arn:aws:iam::123456789012:role/finance-oncall"
USER = "arn:aws:iam::210987654321:user/break-glass"


def bound_groups(plan: Plan) -> dict[str, list[str]]:
    """Namespace -> the groups its `domain-admins` RoleBinding binds."""
    out = {}
    for rb in plan.by_type(ROLE_BINDING):
        meta = rb.inputs["metadata"]
        if meta["name"] == "domain-admins":
            assert {s["kind"] for s in rb.inputs["subjects"]} == {"Group"}
            out[meta["namespace"]] = [s["name"] for s in rb.inputs["subjects"]]
    assert out, "no domain-admins RoleBinding"
    return out


def entries(plan: Plan) -> dict[str, dict]:
    """principalArn -> the inputs of its access entry."""
    found = {e.inputs["principalArn"]: e.inputs for e in plan.by_type(ACCESS_ENTRY)}
    assert len(found) == len(plan.by_type(ACCESS_ENTRY)), "one entry per principal"
    return found


def assert_maps_to_bindings(plan: Plan, principals: list[str], cluster_name: str) -> None:
    (groups,) = {tuple(g) for g in bound_groups(plan).values()}  # the same in every namespace
    made = entries(plan)
    assert sorted(made) == sorted(principals)
    for principal, inputs in made.items():
        assert inputs["clusterName"] == cluster_name, principal
        assert inputs["kubernetesGroups"] == list(groups), principal
        assert inputs["type"] == "STANDARD", principal
        assert "userName" not in inputs  # EKS derives it from the role session
    # Authorization is the RoleBindings' alone: EKS grants nothing beside them.
    assert plan.by_type(POLICY_ASSOCIATION) == []
    aws_provider = next(r.urn for r in plan.resources if r.type == "pulumi:providers:aws")
    assert {e.provider for e in plan.by_type(ACCESS_ENTRY)} == {aws_provider}


# --- aws -----------------------------------------------------------------------------------

def test_shipped_finance_domain_maps_its_sso_role_to_its_admin_group(shipped_plan):
    plan = shipped_plan("aws-finance")
    assert bound_groups(plan) == {"acme-finance-prod": ["acme-finance-admins"]}
    cluster = shipped_plan("aws-platform").outputs["clusterName"]
    assert_maps_to_bindings(plan, [SSO_ROLE], cluster)


@pytest.fixture(scope="module")
def dedicated_aws(tmp_path_factory) -> Plan:
    """A dedicated aws domain with the default admin group, an extra namespace and three
    principals (a role, an Identity Center role, a user of another account)."""
    from stackdir import StackDir

    stacks = StackDir(tmp_path_factory.mktemp("stacks"))
    cfg = stacks.on_own_cluster(stacks.shipped("aws-finance"))
    cfg.update(environment="dev", profile="dev", apps={"dbt": cfg["apps"]["dbt"]})
    cfg["isolation"] = {"extraNamespaces": ["ops"], "adminPrincipals": [ROLE, SSO_ROLE, USER]}
    stacks.write("aws-finance-dedicated", cfg)
    return stacks.plan("aws-finance-dedicated")


def test_dedicated_domain_maps_principals_to_the_default_group_on_its_own_cluster(
        dedicated_aws):
    assert bound_groups(dedicated_aws) == {
        "acme-finance-dev": ["acme-finance-dev-admins"],
        "acme-finance-dev-ops": ["acme-finance-dev-admins"]}
    (cluster,) = dedicated_aws.by_type(EKS_CLUSTER)
    assert_maps_to_bindings(dedicated_aws, [ROLE, SSO_ROLE, USER], cluster.inputs["name"])


def test_access_entries_come_after_the_role_bindings(dedicated_aws):
    """A principal never lands in a group before its bindings (and fence) exist."""
    bindings = {r.urn for r in dedicated_aws.by_type(ROLE_BINDING)}
    assert len(bindings) == 2
    for entry in dedicated_aws.by_type(ACCESS_ENTRY):
        assert bindings <= set(entry.depends_on), entry.name


def test_no_principals_no_access_entries(shipped_plan):
    assert shipped_plan("aws-platform").by_type(ACCESS_ENTRY) == []
    assert shipped_plan("gcp-marketing").by_type(ACCESS_ENTRY) == []


# --- gcp -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gcp_groups(tmp_path_factory) -> tuple[Plan, Plan]:
    """gcp-platform with Google Groups for RBAC, gcp-marketing naming a Google Group."""
    from stackdir import StackDir

    stacks = StackDir(tmp_path_factory.mktemp("stacks"))
    platform = stacks.shipped("gcp-platform")
    platform["cluster"] = {**platform["cluster"],
                           "gcp": {"securityGroup": "gke-security-groups@acme.example"}}
    stacks.write("gcp-platform", platform)
    domain = stacks.shipped("gcp-marketing")
    domain["isolation"] = {**domain["isolation"],
                           "adminGroups": ["marketing-admins@acme.example"]}
    stacks.write("gcp-marketing", domain)
    return stacks.plan("gcp-platform"), stacks.plan("gcp-marketing")


def test_gke_cluster_takes_groups_from_the_security_group(gcp_groups):
    (cluster,) = gcp_groups[0].by_type(GKE_CLUSTER)
    assert cluster.inputs["authenticatorGroupsConfig"] == {
        "securityGroup": "gke-security-groups@acme.example"}


def test_gcp_domain_binds_its_google_group(gcp_groups):
    assert bound_groups(gcp_groups[1]) == {
        "acme-marketing-dev": ["marketing-admins@acme.example"]}


def test_gke_without_security_group_has_no_groups_config(shipped_plan):
    (cluster,) = shipped_plan("gcp-platform").by_type(GKE_CLUSTER)
    assert "authenticatorGroupsConfig" not in cluster.inputs


# --- local ---------------------------------------------------------------------------------

def kubectl_access_section() -> str:
    readme = (REPO / "README.md").read_text()
    match = re.search(r"^## kubectl access on each cloud\n(.*?)(?=^## )", readme, re.S | re.M)
    assert match, "README.md has no '## kubectl access on each cloud' section"
    return match.group(1)


def test_readme_local_access_uses_the_group_and_namespace_the_local_stack_binds(shipped_plan):
    section = kubectl_access_section()
    local = section[section.index("**local"):]
    bound = bound_groups(shipped_plan("local"))
    documented = set(re.findall(r"--as-group[= ](\S+)", local))
    certified = set(re.findall(r"/O=([^/`\s]+)", local))
    namespaces = set(re.findall(r"(?:-n|--namespace)[= ](\S+)", local))
    assert documented and certified and namespaces
    assert namespaces <= set(bound)
    for ns in namespaces:
        assert documented == certified == set(bound[ns]), (ns, bound[ns])


def test_readme_names_the_config_keys_of_each_cloud():
    section = kubectl_access_section()
    for key in ("isolation.adminPrincipals", "isolation.adminGroups",
                "cluster.gcp.securityGroup", "aws-reserved/sso.amazonaws.com/"):
        assert key in section, key


# --- config errors -------------------------------------------------------------------------

@pytest.mark.parametrize("stack,isolation,cluster,key,fragment", [
    ("aws-finance", {"adminPrincipals": ["arn:aws:iam::123456789012:role/AWSReservedSSO_X_1"]},
     None, "isolation.adminPrincipals.0", "lacks its path"),
    ("aws-finance", {"adminPrincipals": ["arn:aws:sts::123456789012:assumed-role/admin/bob"]},
     None, "isolation.adminPrincipals.0", "STS session"),
    ("aws-finance", {"adminPrincipals": ["arn:aws:iam::123456789012:group/admins"]},
     None, "isolation.adminPrincipals.0", "not an IAM role or user ARN"),
    ("aws-finance", {"adminPrincipals": [
        "arn:aws:iam::123456789012:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS"]},
     None, "isolation.adminPrincipals.0", "service-linked"),
    ("aws-finance", {"adminPrincipals": [ROLE, ROLE]}, None, "isolation.adminPrincipals",
     "more than once"),
    ("gcp-marketing", {"adminPrincipals": [ROLE]}, None, "isolation.adminPrincipals",
     "cloud 'aws' only"),
    ("local", {"adminPrincipals": [ROLE]}, None, "isolation.adminPrincipals",
     "cloud 'aws' only"),
    ("gcp-marketing", {"adminGroups": ["marketing-admins"]}, None,
     "isolation.adminGroups.0", "not a Google Group email"),
    ("aws-platform", {"adminPrincipals": [ROLE]}, None, "isolation", "a domain's"),
    ("gcp-platform", None, {"gcp": {"securityGroup": "k8s-admins@acme.example"}},
     "cluster.gcp.securityGroup", "gke-security-groups@"),
])
def test_admin_config_errors(stacks, stack, isolation, cluster, key, fragment):
    cfg = stacks.shipped(stack)
    if isolation is not None:
        cfg["isolation"] = {**cfg.get("isolation", {}), **isolation}
    if cluster is not None:
        cfg["cluster"] = {**cfg.get("cluster", {}), **cluster}
    stacks.write(stack, cfg)
    with pytest.raises(ConfigError) as info:
        load(stack, stacks.path)
    problem = next(p for p in info.value.problems if p.key == f"dataplatform:{key}")
    assert fragment in problem.message
