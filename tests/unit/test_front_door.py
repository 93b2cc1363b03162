"""The front door (issue 18): Gateway API with Envoy Gateway, cert-manager, external-dns,
per-domain ListenerSets and HTTPRoutes, SSO at the Gateway, the config rules, and the
domain's NetworkPolicy and AppProject rules. One plan per cloud."""

from __future__ import annotations

import itertools
import json

import pytest

from foundation.config import ConfigError, load_stack_config
from foundation.naming import FRONT_DOOR_APPS, Naming, hostname, wildcard_host

pytestmark = pytest.mark.unit

RELEASE = "kubernetes:helm.sh/v3:Release"
GW = "kubernetes:gateway.networking.k8s.io/v1:"
CERT = "kubernetes:cert-manager.io/v1:"
SECURITY_POLICY = "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
SECRET = {"secure": "v1:AAAAAAAAAAAAAAAA"}
OIDC = {"issuer": "https://login.acme.example", "clientId": "data-platform",
        "clientSecret": SECRET, "jwksUri": "https://login.acme.example/keys",
        "authorizationEndpoint": "https://login.acme.example/auth",
        "tokenEndpoint": "https://login.acme.example/token"}
PLATFORM_OIDC = {**OIDC, "adminGroups": ["acme-platform-admins"]}
ZONE = "acme.example"


def cloud_front_door(oidc: dict = OIDC, **dns) -> dict:
    return {"enabled": True, "baseDomain": f"data.{ZONE}", "oidc": oidc,
            "tls": {"mode": "acme", "acmeEmail": f"ops@{ZONE}"}, "dns": {"zone": ZONE, **dns}}


def write(stacks, name: str, base: str, front_door: dict, **extra) -> None:
    stacks.write(name, {**stacks.shipped(base), "frontDoor": front_door, **extra})


def releases(plan) -> dict[str, dict]:
    return {r.inputs["chart"].rsplit("/", 1)[-1]: r.inputs for r in plan.by_type(RELEASE)}


def one(plan, type_: str, name: str | None = None):
    found = [r for r in plan.by_type(type_)
             if name is None or r.inputs["metadata"]["name"] == name]
    assert len(found) == 1, [r.name for r in plan.by_type(type_)]
    return found[0].inputs


# --- hostnames


def test_hostnames_follow_one_rule_and_never_collide():
    stacks = [Naming("acme", d, e) for d, e in itertools.product(
        ("platform", "marketing", "finance", "sales"), ("dev", "prod"))]
    names = [hostname(a, n, "data.acme.example") for n in stacks for a in FRONT_DOOR_APPS]
    assert len(set(names)) == len(names)
    assert hostname("airflow", Naming("acme", "marketing", "dev"), "data.acme.example") \
        == "airflow.marketing.dev.data.acme.example"
    # Each stack's names lie under its own wildcard, and under no other stack's.
    for m in stacks:
        suffix = wildcard_host(m, "data.acme.example").removeprefix("*")
        inside = [h for h in names if h.endswith(suffix) and h.count(".") == suffix.count(".")]
        assert inside == [hostname(a, m, "data.acme.example") for a in FRONT_DOOR_APPS]


# --- plans, per cloud


def test_off_by_default_nothing_is_routed(stacks):
    cfg = {k: v for k, v in stacks.shipped("local").items() if k != "frontDoor"}
    stacks.write("off", cfg)
    plan = stacks.plan("off")
    assert not plan.by_type(GW + "Gateway") and "gateway-helm" not in releases(plan)
    assert plan.outputs["urls"] == {}


def test_local_dedicated_domain(stacks):
    write(stacks, "fd", "local", {"enabled": True, "baseDomain": "localhost"})
    plan = stacks.plan("fd")
    rel = releases(plan)
    assert {"gateway-helm", "cert-manager"} <= set(rel) and "external-dns" not in rel
    assert rel["gateway-helm"]["chart"] == "oci://docker.io/envoyproxy/gateway-helm"
    assert rel["gateway-helm"].get("repositoryOpts") in (None, {})
    # A self-signed CA chain: selfSigned issuer -> CA Certificate -> CA issuer.
    issuers = {r.inputs["metadata"]["name"]: r.inputs["spec"]
               for r in plan.by_type(CERT + "ClusterIssuer")}
    assert issuers == {"front-door-selfsigned": {"selfSigned": {}},
                       "front-door": {"ca": {"secretName": "front-door-ca"}}}
    assert one(plan, CERT + "Certificate", "front-door-ca")["spec"]["isCA"] is True
    gateway = one(plan, GW + "Gateway")["spec"]
    http, https = gateway["listeners"]
    assert (http["port"], http["allowedRoutes"]) == (80, {"namespaces": {"from": "Same"}})
    assert https["hostname"] == "*.marketing.dev.localhost" and https["protocol"] == "HTTPS"
    assert https["allowedRoutes"]["namespaces"]["selector"]["matchExpressions"][0]["values"] \
        == ["acme-marketing-dev", "argocd", "monitoring"]
    redirect = one(plan, GW + "HTTPRoute", "https-redirect")["spec"]
    assert redirect["rules"][0]["filters"][0]["requestRedirect"]["scheme"] == "https"
    assert plan.outputs["urls"] == {a: f"https://{a}.marketing.dev.localhost" for a in (
        "airbyte", "airflow", "metabase", "datahub", "argocd", "grafana")}
    # No issuer locally: no SSO filter, the apps' own logins.
    assert not plan.by_type(SECURITY_POLICY)
    proxy = one(plan, "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy")["spec"]
    service = proxy["provider"]["kubernetes"]["envoyService"]
    assert service["type"] == "NodePort"
    assert {p["nodePort"] for p in service["patch"]["value"]["spec"]["ports"]} == {30080, 30443}


def test_aws_platform_installs_the_three_releases_with_zone_scoped_roles(stacks):
    write(stacks, "fd-platform", "aws-platform", cloud_front_door(PLATFORM_OIDC, route53ZoneId="Z0ACME123"))
    plan = stacks.plan("fd-platform")
    rel = releases(plan)
    assert {"gateway-helm", "cert-manager", "external-dns"} <= set(rel)
    dns = rel["external-dns"]["values"]
    assert dns["provider"] == {"name": "aws"} and dns["domainFilters"] == [f"data.{ZONE}"]
    assert dns["extraArgs"] == ["--zone-id-filter=Z0ACME123"]
    assert dns["txtOwnerId"] == "acme-platform-prod" and dns["enableGatewayListenerSets"]
    issuer = one(plan, CERT + "ClusterIssuer", "front-door")["spec"]["acme"]
    assert issuer["server"].startswith("https://acme-v02.api.letsencrypt.org")
    assert issuer["solvers"] == [{"selector": {"dnsZones": [ZONE]}, "dns01": {"route53": {
        "region": "eu-west-1", "hostedZoneID": "Z0ACME123"}}}]
    policies = {r.name: json.loads(r.inputs["policy"])
                for r in plan.by_type("aws:iam/rolePolicy:RolePolicy") if "front-door" in r.name}
    assert len(policies) == 2
    for policy in policies.values():
        for stmt in policy["Statement"]:
            if any(a.startswith("route53:Change") for a in stmt["Action"]):
                assert stmt["Resource"] == ["arn:aws:route53:::hostedzone/Z0ACME123"]
            else:
                assert stmt["Resource"] != ["*"] or set(stmt["Action"]) <= {
                    "route53:ListHostedZones", "route53:ListHostedZonesByName"}
    cert_manager = next(p for n, p in policies.items() if "cert-manager" in n)
    change = next(s for s in cert_manager["Statement"] if s["Sid"] == "ZoneRecords")
    assert change["Condition"]["ForAllValues:StringEquals"] == {
        "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"]}
    trust = [json.loads(r.inputs["assumeRolePolicy"]) for r in plan.by_type(
        "aws:iam/role:Role") if "front-door" in r.name]
    subjects = sorted(v for t in trust for s in t["Statement"]
                      for k, v in s["Condition"]["StringEquals"].items() if k.endswith(":sub"))
    assert subjects == ["system:serviceaccount:cert-manager:cert-manager",
                        "system:serviceaccount:external-dns:external-dns"]
    assert plan.outputs["urls"] == {"argocd": f"https://argocd.platform.prod.data.{ZONE}",
                                    "grafana": f"https://grafana.platform.prod.data.{ZONE}"}
    assert not plan.policy  # no finding: the zone lookups are the only `*` statements


def test_aws_domain_attaches_a_listenerset_routes_and_sso(stacks):
    write(stacks, "fd-finance", "aws-finance", cloud_front_door())
    plan = stacks.plan("fd-finance")
    assert "gateway-helm" not in releases(plan)  # the platform's
    ns = "acme-finance-prod"
    listeners = one(plan, GW + "ListenerSet")
    assert listeners["metadata"]["namespace"] == ns
    (listener,) = listeners["spec"]["listeners"]
    assert listener["hostname"] == f"*.finance.prod.data.{ZONE}"
    assert listener["tls"]["certificateRefs"] == [{"group": "", "kind": "Secret",
                                                   "name": f"{ns}-tls"}]
    assert listeners["spec"]["parentRef"]["name"] == "front-door"
    cert = one(plan, CERT + "Certificate")
    assert cert["spec"]["dnsNames"] == [f"*.finance.prod.data.{ZONE}"]
    assert cert["spec"]["issuerRef"]["kind"] == "ClusterIssuer"
    routes = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in plan.by_type(
        GW + "HTTPRoute")}
    assert set(routes) == set(plan.outputs["urls"])
    for app, spec in routes.items():
        assert spec["hostnames"] == [f"{app}.finance.prod.data.{ZONE}"]
        assert spec["parentRefs"][0]["kind"] == "ListenerSet"
    sso = {r.inputs["spec"]["targetRefs"][0]["name"]: r.inputs["spec"]["oidc"]
           for r in plan.by_type(SECURITY_POLICY)}
    assert set(sso) == {"airbyte", "metabase"} & set(routes)  # no OIDC of their own
    for app, oidc in sso.items():
        assert oidc["provider"]["issuer"] == OIDC["issuer"]
        assert oidc["redirectURL"] == f"https://{app}.finance.prod.data.{ZONE}/oauth2/callback"
    secret = one(plan, "kubernetes:core/v1:Secret", "front-door-oidc")
    assert "s3cr3t" not in json.dumps(secret) and "AAAA" not in json.dumps(secret)


def test_gcp_platform_identity_is_scoped_to_the_managed_zone(stacks):
    write(stacks, "fd-gcp", "gcp-platform", cloud_front_door(PLATFORM_OIDC, cloudDnsZone="acme-zone"))
    plan = stacks.plan("fd-gcp")
    assert releases(plan)["external-dns"]["values"]["provider"] == {"name": "google"}
    zone_grants = plan.by_type("gcp:dns/dnsManagedZoneIamMember:DnsManagedZoneIamMember")
    assert sorted((g.inputs["managedZone"], g.inputs["role"]) for g in zone_grants) == [
        ("acme-zone", "roles/dns.admin")] * 2
    roles = plan.by_type("gcp:projects/iAMCustomRole:IAMCustomRole")
    assert [r.inputs["permissions"] for r in roles if "front-door" in r.name] == [
        ["dns.managedZones.list"]] * 2
    assert not [m for m in plan.by_type("gcp:projects/iAMMember:IAMMember")
                if "front-door" in m.name and m.inputs["role"].startswith("roles/dns")]
    wi = sorted(m.inputs["member"] for m in plan.by_type(
        "gcp:serviceaccount/iAMMember:IAMMember") if "front-door" in m.name)
    assert wi == [f"serviceAccount:{stacks.shipped('gcp-platform')['gcpProject']}.svc.id.goog"
                  f"[{n}/{n}]" for n in ("cert-manager", "external-dns")]
    solver = one(plan, CERT + "ClusterIssuer", "front-door")["spec"]["acme"]["solvers"][0]
    assert solver["dns01"]["cloudDNS"]["hostedZoneName"] == "acme-zone"


def test_gcp_domain_routes(stacks):
    write(stacks, "fd-marketing", "gcp-marketing", cloud_front_door())
    plan = stacks.plan("fd-marketing")
    assert one(plan, GW + "ListenerSet")["spec"]["listeners"][0]["hostname"] \
        == f"*.marketing.dev.data.{ZONE}"
    assert plan.outputs["urls"]


# --- isolation


def test_network_policy_opens_only_the_routed_ports_to_the_proxies(stacks):
    write(stacks, "fd", "local", {"enabled": True, "baseDomain": "localhost",
                                  "apps": ["airflow", "metabase"]})
    plan = stacks.plan("fd")
    spec = one(plan, NETPOL, "allow-front-door")["spec"]
    (rule,) = spec["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 3000}, {"protocol": "TCP", "port": 8080}]
    (peer,) = rule["from"]
    assert peer["namespaceSelector"] == {"matchLabels": {
        "kubernetes.io/metadata.name": "envoy-gateway-system"}}
    assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "proxy"
    stacks.write("off", {k: v for k, v in stacks.shipped("local").items() if k != "frontDoor"})
    assert not [r for r in stacks.plan("off").by_type(NETPOL)
                if r.inputs["metadata"]["name"] == "allow-front-door"]


def test_app_project_may_route_but_never_listen(stacks):
    write(stacks, "fd", "local", {"enabled": True, "baseDomain": "localhost"})
    plan = stacks.plan("fd")
    refused = {(e["group"], e["kind"])
               for e in one(plan, APP_PROJECT)["spec"]["namespaceResourceBlacklist"]}
    assert {("gateway.networking.k8s.io", "Gateway"), ("gateway.networking.k8s.io",
            "ListenerSet"), ("cert-manager.io", "Certificate")} <= refused
    assert not {k for _, k in refused if k in ("HTTPRoute", "*")}
    assert one(plan, APP_PROJECT)["spec"]["clusterResourceWhitelist"] == []  # no GatewayClass


# --- config errors (exit 2 with the key: tests/bad_configs/front-door-*.yaml too)


def keys_of(stacks, base: str, front_door: dict, **extra) -> list[str]:
    write(stacks, "bad", base, front_door, **extra)
    with pytest.raises(ConfigError) as exc:
        load_stack_config("bad", stacks.path)
    return [p.key.removeprefix("dataplatform:") for p in exc.value.problems]


@pytest.mark.parametrize(("change", "key"), [
    ({"tls": {"mode": "off"}}, "frontDoor.tls.mode"),
    ({"tls": {"mode": "selfSigned"}}, "frontDoor.tls.mode"),
    ({"oidc": {}}, "frontDoor.oidc.issuer"),
    ({"baseDomain": "data.evilacme.example"}, "frontDoor.baseDomain"),
    ({"baseDomain": "acme.example.evil.example"}, "frontDoor.baseDomain"),
    ({"baseDomain": "Data.ACME.example"}, "frontDoor.baseDomain"),
    ({"baseDomain": "data.acme.example."}, "frontDoor.baseDomain"),
    ({"oidc": {**OIDC, "issuer": "http://login.acme.example"}}, "frontDoor.oidc.issuer"),
    ({"oidc": {**OIDC, "issuer": "https://user:pw@login.acme.example"}},
     "frontDoor.oidc.issuer"),
    ({"oidc": {**OIDC, "clientSecret": "plain"}}, "frontDoor.oidc.clientSecret"),
    ({"apps": ["superset"]}, "frontDoor.apps.0"),
    ({"apps": ["argocd"]}, "frontDoor.apps.0"),  # the platform's, not a domain's
    ({"dns": {"zone": ZONE, "cloudDnsZone": "acme-zone"}}, "frontDoor.dns.cloudDnsZone"),
])
def test_prod_domain_errors_name_the_key(stacks, change, key):
    assert keys_of(stacks, "aws-finance", {**cloud_front_door(), **change}) == [key]


def test_a_route_to_a_disabled_app_is_refused(stacks):
    cfg = stacks.shipped("local")
    apps = {**cfg["apps"], "metabase": {"enabled": False}}
    assert keys_of(stacks, "local", {"enabled": True, "baseDomain": "localhost",
                                     "apps": ["airflow", "metabase"]}, apps=apps) \
        == ["frontDoor.apps.1"]


@pytest.mark.parametrize(("front_door", "key"), [
    ({"enabled": True}, "frontDoor.baseDomain"),
    ({"enabled": True, "baseDomain": "localhost", "tls": {"mode": "acme",
                                                           "acmeEmail": "a@b.example"}},
     "frontDoor.tls.mode"),
    ({"enabled": True, "baseDomain": "localhost", "dns": {"zone": "localhost"}},
     "frontDoor.dns.zone"),
    ({"enabled": True, "baseDomain": "localhost", "oidc": {"issuer": "https://x.example"}},
     "frontDoor.oidc.clientId"),
])
def test_local_errors_name_the_key(stacks, front_door, key):
    assert key in keys_of(stacks, "local", front_door)


def test_a_platform_needs_the_zone_it_writes(stacks):
    assert keys_of(stacks, "aws-platform", cloud_front_door(PLATFORM_OIDC)) == [
        "frontDoor.dns.route53ZoneId"]


def test_local_dev_may_run_without_an_issuer(stacks):
    write(stacks, "fd", "local", {"enabled": True, "baseDomain": "localhost"})
    assert load_stack_config("fd", stacks.path).front_door.oidc.issuer is None
