"""The front door, phase 2 (issue 18): each app's native OIDC and group-to-role mapping,
the Gateway's group check in front of Airbyte and Metabase, the shipped stacks' front
doors, publicUrl, the domain admin Role, the platform check of a shared-cluster domain and
the `gateway` rule feature of domains. One plan per cloud (the fixture stacks)."""

from __future__ import annotations

import json

import pytest
import yaml
from stackdir import SHIPPED_STACKS, shipped_examples

from components._values import static_values
from foundation.chartkeys import key_index
from foundation.config import ConfigError, load_stack_config

pytestmark = pytest.mark.unit

ISSUER = "https://login.acme.example"
APP_SET = "kubernetes:argoproj.io/v1alpha1:Application"
RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
SECURITY_POLICY = "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy"
PLACEHOLDER_TEXT = ("AAAAAAAA", "offline-placeholder")


def chart_values(plan, chart: str) -> dict:
    """Final values of `chart` (a Helm Release, or an Argo CD Application's Helm source)."""
    for r in plan.resources:
        if r.type == RELEASE and r.inputs["chart"].rsplit("/", 1)[-1] == chart:
            return r.inputs["values"]
        if r.type == APP_SET and r.inputs["spec"]["source"].get("chart") == chart:
            return r.inputs["spec"]["source"]["helm"]["valuesObject"]
    raise AssertionError(f"no {chart} in the plan")


def secret(plan, name: str) -> dict:
    (found,) = [r.inputs for r in plan.by_type(SECRET) if r.inputs["metadata"]["name"] == name]
    return found


def env(entries: list[dict]) -> dict[str, dict]:
    return {e["name"]: e for e in entries}


def no_plain_secret(values: dict) -> None:
    text = json.dumps(values, default=str)
    assert not any(p in text for p in PLACEHOLDER_TEXT), "client secret in values"


def unknown_keys(chart: str, version: str, values: dict) -> list:
    index = key_index(chart, version)
    assert index is not None
    return index.unknown(values)


# --- the cluster owner's apps (platform stacks, per cloud)


@pytest.mark.parametrize(("stack", "env_name"), [("aws-platform", "prod"),
                                                 ("gcp-platform", "dev")])
def test_argocd_signs_on_through_the_issuer_behind_the_gateway(shipped_plan, stack, env_name):
    plan = shipped_plan(stack)
    values = chart_values(plan, "argo-cd")
    host = f"argocd.platform.{env_name}.data.acme.example"
    configs = values["configs"]
    assert configs["params"]["server.insecure"] is True  # TLS ends at the Gateway
    assert configs["cm"]["url"] == f"https://{host}" and values["global"]["domain"] == host
    oidc = yaml.safe_load(configs["cm"]["oidc.config"])
    assert oidc["issuer"] == ISSUER and oidc["clientID"] == "data-platform"
    assert oidc["clientSecret"] == "$argocd-oidc:client-secret"  # a reference, not the value
    assert configs["rbac"]["policy.csv"].splitlines() == [
        "g, acme-platform-admins, role:admin", "g, acme-platform-viewers, role:readonly"]
    assert configs["rbac"]["policy.default"] == "" and configs["rbac"]["scopes"] == "[groups]"
    no_plain_secret(values)
    ref = secret(plan, "argocd-oidc")
    assert ref["metadata"]["namespace"] == "argocd"
    assert ref["metadata"]["labels"]["app.kubernetes.io/part-of"] == "argocd"
    assert unknown_keys("argo-cd", "10.1.1", values) == []


@pytest.mark.parametrize("stack", ["aws-platform", "gcp-platform"])
def test_grafana_maps_groups_to_admin_and_viewer(shipped_plan, stack):
    plan = shipped_plan(stack)
    grafana = chart_values(plan, "kube-prometheus-stack")["grafana"]
    ini = grafana["grafana.ini"]
    assert ini["server"]["root_url"].startswith("https://grafana.platform.")
    oauth = ini["auth.generic_oauth"]
    assert oauth["enabled"] is True and oauth["role_attribute_strict"] is True
    assert oauth["client_id"] == "data-platform" and "client_secret" not in oauth
    assert oauth["role_attribute_path"] == (
        "(contains(\"groups\"[*], 'acme-platform-admins')) && 'Admin' || "
        "(contains(\"groups\"[*], 'acme-platform-viewers')) && 'Viewer'")
    assert grafana["envValueFrom"] == {"GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET": {
        "secretKeyRef": {"name": "grafana-oidc", "key": "client-secret"}}}
    assert secret(plan, "grafana-oidc")["metadata"]["namespace"] == "monitoring"
    no_plain_secret(grafana)
    assert unknown_keys("kube-prometheus-stack", "88.5.3", {"grafana": grafana}) == []


# --- a domain's apps (per cloud)


@pytest.mark.parametrize(("stack", "admins", "viewers"), [
    ("aws-finance", "acme-finance-admins", "acme-finance-viewers"),
    ("gcp-marketing", "acme-marketing-dev-admins", "acme-marketing-viewers@acme.example")])
def test_domain_apps_sign_on_natively_with_the_domains_groups(shipped_plan, stack, admins,
                                                               viewers):
    plan = shipped_plan(stack)
    airflow = chart_values(plan, "airflow")
    api = airflow["apiServer"]
    assert "AUTH_TYPE = AUTH_OAUTH" in api["apiServerConfig"]
    assert "{{" not in api["apiServerConfig"]  # the chart tpl's it
    variables = env(api["env"])
    assert json.loads(variables["AIRFLOW_SSO_ROLES"]["value"]) == {
        admins: ["Admin"], viewers: ["Viewer"]}
    assert variables["AIRFLOW_SSO_CLIENT_SECRET"]["valueFrom"] == {
        "secretKeyRef": {"name": "airflow-oidc", "key": "client-secret"}}
    assert variables["AIRFLOW_SSO_DISCOVERY_URL"]["value"] == \
        f"{ISSUER}/.well-known/openid-configuration"
    assert airflow["config"]["api"]["base_url"].startswith("https://airflow.")
    assert unknown_keys("airflow", "1.18.0", airflow) == []
    frontend = env(chart_values(plan, "datahub")["datahub-frontend"]["extraEnvs"])
    assert frontend["AUTH_OIDC_ENABLED"]["value"] == "true"
    assert frontend["AUTH_OIDC_JIT_PROVISIONING_ENABLED"]["value"] == "true"
    assert frontend["AUTH_OIDC_GROUPS_CLAIM"]["value"] == "groups"
    assert frontend["AUTH_OIDC_BASE_URL"]["value"].startswith("https://datahub.")
    assert frontend["AUTH_OIDC_CLIENT_SECRET"]["valueFrom"] == {
        "secretKeyRef": {"name": "datahub-oidc", "key": "client-secret"}}
    for app in ("airflow", "datahub"):
        no_plain_secret(chart_values(plan, app))
        assert secret(plan, f"{app}-oidc")["metadata"]["namespace"].startswith("acme-")
    project = next(r.inputs for r in plan.by_type("kubernetes:argoproj.io/v1alpha1:AppProject"))
    roles = {r["name"]: r for r in project["spec"]["roles"]}
    name = project["metadata"]["name"]
    assert roles["admin"]["groups"] == [admins] and roles["viewer"]["groups"] == [viewers]
    assert roles["viewer"]["policies"] == [
        f"p, proj:{name}:viewer, applications, get, {name}/*, allow"]


def test_gateway_admits_only_the_groups_to_airbyte_and_metabase(shipped_plan):
    plan = shipped_plan("aws-finance")
    policies = {r.inputs["metadata"]["name"]: r.inputs["spec"]
                for r in plan.by_type(SECURITY_POLICY)}
    assert set(policies) == {"airbyte-sso", "metabase-sso"}
    for name, spec in policies.items():
        header = spec["oidc"]["forwardIDToken"]["header"]
        (provider,) = spec["jwt"]["providers"]
        assert provider["extractFrom"] == {"headers": [{"name": header}]}
        assert provider["remoteJWKS"] == {"uri": f"{ISSUER}/keys"}
        assert provider["issuer"] == ISSUER and provider["audiences"] == ["data-platform"]
        authz = spec["authorization"]
        assert authz["defaultAction"] == "Deny"
        (rule,) = authz["rules"]
        (claim,) = rule["principal"]["jwt"]["claims"]
        assert rule["action"] == "Allow" and rule["principal"]["jwt"]["provider"] == "issuer"
        assert claim["name"] == "groups" and claim["valueType"] == "StringArray"
        # Airbyte OSS has no read-only role: its admins only.
        expected = ["acme-finance-admins"] if name == "airbyte-sso" else [
            "acme-finance-admins", "acme-finance-viewers"]
        assert claim["values"] == expected


# --- shipped stacks, publicUrl, README


@pytest.mark.parametrize("stack", shipped_examples())
def test_every_shipped_stack_has_the_front_door(stack):
    cfg = load_stack_config(stack, SHIPPED_STACKS)
    fd = cfg.front_door
    assert fd.enabled and fd.base_domain in ("localhost", "data.acme.example")
    if cfg.cloud == "local":
        assert fd.tls.mode == "selfSigned" and fd.oidc.issuer is None
    else:
        assert fd.tls.mode == "acme" and fd.oidc.issuer == ISSUER
        assert fd.oidc.client_secret is not None  # {secure: ...}: the loader's only form


@pytest.mark.parametrize("stack", ["local", "aws-finance", "aws-platform"])
def test_apps_access_public_url_is_the_front_doors(shipped_plan, stack):
    out = shipped_plan(stack).outputs
    urls, access = out["urls"], out["appsAccess"]
    assert urls
    for key, entry in access.items():
        app = "grafana" if key == "monitoring" else key
        assert entry["publicUrl"] == urls.get(app)


def test_readme_shows_the_urls_from_the_stack_outputs(shipped_plan):
    from stackdir import FIXTURE_STACKS

    readme = (FIXTURE_STACKS.parents[2] / "README.md").read_text()
    section = readme.split("## Reaching the apps", 1)[1].split("\n## ", 1)[0]
    for stack in ("local", "aws-finance", "aws-platform"):
        block = section.split(f"$ pulumi stack output urls -s {stack}\n", 1)[1]
        shown = json.loads(block[:block.index("}") + 1])
        assert shown == shipped_plan(stack).outputs["urls"], stack


# --- the domain admin Role, the platform check, the rule feature


def test_domain_admins_may_route_but_never_listen(shipped_plan):
    plan = shipped_plan("aws-finance")
    roles = [r.inputs for r in plan.by_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
             if r.inputs["metadata"]["name"] == "domain-admin"]
    assert roles
    for role in roles:
        gateway = [r for r in role["rules"] if {"gateway.networking.k8s.io", "*"} & set(
            r["apiGroups"])]
        assert gateway == [{"apiGroups": ["gateway.networking.k8s.io"], "verbs": [
            "get", "list", "watch", "create", "update", "patch", "delete",
            "deletecollection"], "resources": ["httproutes"]}]
        assert not [r for r in role["rules"] if {"cert-manager.io", "gateway.envoyproxy.io"}
                    & set(r["apiGroups"])]


def test_a_domain_refuses_a_platform_without_its_front_door(stacks):
    stacks.write("aws-platform", {**stacks.shipped("aws-platform"),
                                  "frontDoor": {"enabled": False}})
    with pytest.raises(ValueError, match=r"frontDoor\.enabled: platform stack .* publishes no "
                       r"front door"):
        stacks.plan("aws-finance")


def test_a_domain_refuses_another_base_domain(stacks):
    finance = stacks.shipped("aws-finance")
    fd = {**finance["frontDoor"], "baseDomain": "apps.acme.example"}
    stacks.write("aws-finance", {**finance, "frontDoor": fd})
    with pytest.raises(ValueError, match=r"frontDoor\.baseDomain: 'apps\.acme\.example' differs"):
        stacks.plan("aws-finance")


def test_domain_rules_watch_front_door_logins(shipped_plan, stacks):
    def alerts(plan) -> set[str]:
        return {rule["alert"] for r in plan.by_type(
            "kubernetes:monitoring.coreos.com/v1:PrometheusRule")
            if r.inputs["metadata"]["namespace"].startswith("acme-finance")
            for g in r.inputs["spec"]["groups"] for rule in g["rules"]}

    # ...and the expiry of the wildcard its cert-manager issues (scraped, honorLabels)
    watched = {"SecurityFrontDoorLoginFailures", "CertificateExpiringSoon"}
    assert watched <= alerts(shipped_plan("aws-finance"))
    stacks.write("off", {**stacks.shipped("aws-finance"), "frontDoor": {"enabled": False}})
    assert not watched & alerts(stacks.plan("off"))
    monitor = static_values("cert-manager", "prod")["prometheus"]["servicemonitor"]
    assert monitor == {"enabled": True, "honorLabels": True}


# --- config rules of sign-on


def keys_of(stacks, base: str, change) -> list[str]:
    cfg = stacks.shipped(base)
    stacks.write("bad", {**cfg, **change(cfg)})
    with pytest.raises(ConfigError) as exc:
        load_stack_config("bad", stacks.path)
    return [p.key.removeprefix("dataplatform:") for p in exc.value.problems]


def _oidc(**change):
    def apply(cfg):
        return {"frontDoor": {**cfg["frontDoor"], "oidc": {**cfg["frontDoor"]["oidc"],
                                                           **change}}}
    return apply


@pytest.mark.parametrize(("base", "change", "key"), [
    ("aws-platform", _oidc(adminGroups=[]), "frontDoor.oidc.adminGroups"),
    ("aws-finance", _oidc(adminGroups=["x"]), "frontDoor.oidc.adminGroups"),
    ("aws-finance", _oidc(jwksUri=None), "frontDoor.oidc.jwksUri"),
    ("aws-platform", _oidc(tokenEndpoint=None), "frontDoor.oidc.tokenEndpoint"),
    ("aws-platform", _oidc(jwksUri="http://login.acme.example/keys"), "frontDoor.oidc.jwksUri"),
    ("aws-platform", _oidc(groupsClaim="a.b"), "frontDoor.oidc.groupsClaim"),
    ("aws-platform", _oidc(scopes=["email"]), "frontDoor.oidc.scopes"),
    ("aws-platform", _oidc(adminGroups=["ops', 'x"]), "frontDoor.oidc.adminGroups.0"),
    ("aws-platform", _oidc(viewerGroups=["a,b"]), "frontDoor.oidc.viewerGroups.0"),
    ("aws-finance", lambda c: {"isolation": {**c["isolation"], "viewerGroups": ['a"b']}},
     "isolation.viewerGroups.0"),
    ("aws-finance", lambda c: {"isolation": {**c["isolation"], "viewerGroups": ["a\\b"]}},
     "isolation.viewerGroups.0"),
])
def test_sign_on_errors_name_the_key(stacks, base, change, key):
    assert keys_of(stacks, base, change) == [key]
