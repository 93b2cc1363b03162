"""The quickstart stack `local`: a dedicated dev domain on a kind/k3d cluster."""

import pytest

from foundation.charts import chart_pin

pytestmark = pytest.mark.unit

TOP = "acme-marketing-dev"
NS = "acme-marketing-dev"


@pytest.fixture
def plan(shipped_plan):
    return shipped_plan("local")


def test_component_tree(plan):
    top = plan.get("dataplatform:stack:DomainStack", TOP)
    assert top.parent.endswith("::pulumi:pulumi:Stack::dataplatform-local")
    children = {(r.type, r.name) for r in plan.resources if r.parent == top.urn}
    assert children == {
        ("dataplatform:cluster:LocalCluster", f"{TOP}-cluster"),
        ("dataplatform:gitops:ArgoCD", f"{TOP}-argocd"),
        ("dataplatform:domain:DomainIsolation", f"{TOP}-isolation"),
        ("dataplatform:storage:MinioStorage", f"{TOP}-storage"),
        ("dataplatform:database:InClusterPostgres", f"{TOP}-postgres"),
        ("dataplatform:observability:Monitoring", f"{TOP}-monitoring"),
        ("dataplatform:observability:DomainMonitoring", f"{TOP}-domain-monitoring"),
        ("dataplatform:apps:Airbyte", f"{TOP}-airbyte"),
        ("dataplatform:apps:Airflow", f"{TOP}-airflow"),
        ("dataplatform:apps:DbtRunners", f"{TOP}-dbt"),
        ("dataplatform:apps:Metabase", f"{TOP}-metabase"),
        ("dataplatform:apps:DataHub", f"{TOP}-datahub"),
        # the front door (Gateway, CA, routes) and the audit-signal rules of the cluster owner
        ("dataplatform:frontdoor:FrontDoor", f"{TOP}-front-door"),
        ("dataplatform:frontdoor:StackRoutes", f"{TOP}-routes"),
        ("dataplatform:observability:AuditSignals", f"{TOP}-security"),
    }
    for r in plan.resources:
        if r.name != TOP:
            assert r.name.startswith(TOP + "-"), f"{r.name} is not named after its stack"
            assert r.parent is not None


def test_every_in_cluster_resource_uses_the_context_provider(plan):
    provider = plan.get("pulumi:providers:kubernetes", f"{TOP}-cluster-provider")
    assert provider.inputs["context"] == "kind-dataplatform"
    k8s = [r for r in plan.resources if r.type.startswith("kubernetes:")]
    assert k8s and all(r.provider == provider.urn for r in k8s)


def test_argocd_is_a_pinned_helm_release(plan):
    rel = plan.get("kubernetes:helm.sh/v3:Release", f"{TOP}-argocd-chart-release")
    pin = chart_pin("argo-cd")
    assert (rel.inputs["chart"], rel.inputs["version"]) == ("argo-cd", pin.version)
    assert rel.inputs["repositoryOpts"]["repo"] == pin.repo
    assert rel.inputs["namespace"] == "argocd"
    ns = plan.get("kubernetes:core/v1:Namespace", f"{TOP}-argocd-namespace")
    assert ns.urn in rel.depends_on or any(d.endswith(f"{TOP}-argocd-namespace")
                                           for d in rel.depends_on)


def test_namespace_is_labelled_for_pod_security_and_ownership(plan):
    ns = plan.get("kubernetes:core/v1:Namespace", f"{TOP}-isolation-main-namespace")
    labels = ns.inputs["metadata"]["labels"]
    assert ns.inputs["metadata"]["name"] == NS
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["dataplatform.io/cost-center"] == "cc-4711"
    assert labels["dataplatform.io/owner"] == "marketing-data"
    assert labels["dataplatform.io/domain-id"] == NS


def test_quota_and_limit_range_come_from_the_stack_file(plan):
    quota = plan.get("kubernetes:core/v1:ResourceQuota", f"{TOP}-isolation-main-quota")
    hard = quota.inputs["spec"]["hard"]
    assert (hard["requests.cpu"], hard["requests.memory"]) == ("4", "12Gi")
    assert (hard["limits.cpu"], hard["limits.memory"]) == ("24", "32Gi")
    lr = plan.get("kubernetes:core/v1:LimitRange", f"{TOP}-isolation-main-limits")
    assert lr.inputs["spec"]["limits"][0]["default"] == {"cpu": "500m", "memory": "512Mi"}


def test_network_policies_deny_by_default_and_allow_explicitly(plan):
    pols = {r.inputs["metadata"]["name"]: r.inputs["spec"]
            for r in plan.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    assert set(pols) == {"default-deny", "allow-same-domain", "allow-dns", "allow-kube-api",
                         "allow-external-egress", "allow-monitoring-scrape",
                         "allow-metrics-push", "allow-ingress-controller",
                         "allow-otlp-push", "allow-front-door"}
    assert pols["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = pols["allow-dns"]["egress"][0]
    assert {p["port"] for p in dns["ports"]} == {53}
    scrape = pols["allow-monitoring-scrape"]["ingress"][0]["from"][0]
    assert scrape["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "monitoring"}
    external = pols["allow-external-egress"]["egress"][0]["to"][0]["ipBlock"]
    assert external == {"cidr": "0.0.0.0/0",
                        "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}



def test_ipv6_egress_excepts_private_ipv6_and_mixes_with_ipv4(stacks):
    """A dual-stack egress list plans (it raised TypeError on the IPv4 private ranges);
    each block excepts the private ranges of its own IP version only."""
    cfg = stacks.shipped("local")
    cfg["isolation"] = {**cfg["isolation"], "egressCidrs": ["0.0.0.0/0", "::/0", "2001:db8::/32"]}
    stacks.write("dual", cfg)
    plan = stacks.plan("dual")
    policy = next(r for r in plan.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                  if r.inputs["metadata"]["name"] == "allow-external-egress")
    blocks = [t["ipBlock"] for t in policy.inputs["spec"]["egress"][0]["to"]]
    assert blocks == [
        {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]},
        {"cidr": "::/0", "except": ["fc00::/7", "fe80::/10"]},
        {"cidr": "2001:db8::/32", "except": []},
    ]

def test_domain_team_is_admin_in_its_namespace_only(plan):
    rb = plan.get("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", f"{TOP}-isolation-main-admins")
    assert rb.inputs["metadata"]["namespace"] == NS
    assert rb.inputs["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                    "name": "domain-admin"}
    assert rb.inputs["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                      "name": "acme-marketing-admins"}]
    assert not plan.by_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    role = plan.get("kubernetes:rbac.authorization.k8s.io/v1:Role",
                    f"{TOP}-isolation-main-admin-role")
    assert role.inputs["metadata"]["namespace"] == NS
    assert role.inputs["metadata"]["name"] == "domain-admin"


def _grants(rules, group, resource) -> set[str]:
    return {v for r in rules if group in r["apiGroups"] or "*" in r["apiGroups"]
            if resource in r["resources"] or "*" in r["resources"] for v in r["verbs"]}


def test_domain_admins_cannot_undo_their_own_fence(plan):
    """Built-in `admin` may delete NetworkPolicies: the domain's Role may only read the
    fence, and still runs the day-to-day work."""
    rules = plan.get("kubernetes:rbac.authorization.k8s.io/v1:Role",
                     f"{TOP}-isolation-main-admin-role").inputs["rules"]
    for group, resource in [("networking.k8s.io", "networkpolicies"), ("", "resourcequotas"),
                            ("", "limitranges"), ("monitoring.coreos.com", "alertmanagerconfigs")]:
        assert _grants(rules, group, resource) == {"get", "list", "watch"}, resource
    assert not any("*" in r["verbs"] or "escalate" in r["verbs"] or "bind" in r["verbs"]
                   for r in rules)
    for group, resource in [("apps", "deployments"), ("", "secrets"), ("", "pods/exec"),
                            ("batch", "cronjobs"), ("rbac.authorization.k8s.io", "rolebindings")]:
        assert {"create", "update", "delete"} <= _grants(rules, group, resource), resource


def test_app_project_is_restricted(plan):
    proj = plan.get("kubernetes:argoproj.io/v1alpha1:AppProject", f"{TOP}-isolation-appproject")
    spec = proj.inputs["spec"]
    assert proj.inputs["metadata"] == {**proj.inputs["metadata"], "name": NS, "namespace": "argocd"}
    assert spec["destinations"] == [{"server": "https://kubernetes.default.svc", "namespace": NS}]
    assert chart_pin("airflow").repo in spec["sourceRepos"]
    assert "*" not in spec["sourceRepos"]
    assert spec["clusterResourceWhitelist"] == []
    assert {b["kind"] for b in spec["namespaceResourceBlacklist"]} == {
        "ResourceQuota", "LimitRange", "NetworkPolicy", "AlertmanagerConfig",
        # the front door: a domain routes (HTTPRoute), it never listens nor issues
        "Gateway", "ListenerSet", "XListenerSet", "EnvoyProxy", "EnvoyPatchPolicy",
        "Certificate", "CertificateRequest", "Issuer"}
    assert "HTTPRoute" not in {b["kind"] for b in spec["namespaceResourceBlacklist"]}


def test_minio_store_and_bucket_job(plan):
    sts = plan.get("kubernetes:apps/v1:StatefulSet", f"{TOP}-storage-statefulset")
    pod = sts.inputs["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["image"].startswith("quay.io/minio/minio:RELEASE.")
    assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert {e["name"] for e in c["env"]} == {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"}
    assert all("valueFrom" in e for e in c["env"]), "credentials come from the Secret"
    job = plan.get("kubernetes:batch/v1:Job", f"{TOP}-storage-buckets")
    script = job.inputs["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    for zone in ("raw", "staging", "curated", "artifacts", "logs"):
        assert f"mc mb --ignore-existing lake/{NS}-{zone}" in script
    assert sts.urn in job.depends_on


def test_postgres_runs_in_cluster_with_generated_superuser(plan):
    sts = plan.get("kubernetes:apps/v1:StatefulSet", f"{TOP}-postgres-statefulset")
    c = sts.inputs["spec"]["template"]["spec"]["containers"][0]
    assert c["image"].startswith("docker.io/library/postgres:16")
    assert c["env"][0]["valueFrom"]["secretKeyRef"] == {"name": "postgres-superuser",
                                                         "key": "password"}
    assert plan.get("random:index/randomPassword:RandomPassword",
                    f"{TOP}-postgres-superuser-password")


def test_secrets_are_masked(plan):
    secrets = plan.by_type("kubernetes:core/v1:Secret")
    # The lineage token Secret is created empty: a CronJob in the cluster fills it.
    filled = [s for s in secrets if s.inputs["metadata"]["name"] != "datahub-lineage-token"]
    assert filled and all(s.inputs["stringData"] == "[secret]" for s in filled)
    assert not {"data", "stringData"} & set(
        plan.get("kubernetes:core/v1:Secret", f"{TOP}-datahub-lineage-token").inputs)


def test_dev_has_no_protection(plan):
    assert not any(r.protect or r.retain_on_delete for r in plan.resources)


def test_outputs(plan):
    out = plan.outputs
    assert out["namespace"] == NS
    assert out["buckets"]["logs"] == f"{NS}-logs"
    assert out["objectStorageEndpoint"] == f"http://minio.{NS}.svc.cluster.local:9000"
