"""`monitoring:` and `alerting:` in the stack model: defaults, receivers, cross-section rules."""

from __future__ import annotations

from typing import Any

import pytest

from foundation.config.loader import MAX_ECHO, ConfigError, parse_stack_config
from foundation.config.monitoring import (
    AlertThresholds,
    alerting_enabled,
    monitoring_enabled,
)

pytestmark = pytest.mark.unit

SECRET = {"secure": "v1:abcdef"}
LOCAL = {"customer": "acme", "domain": "marketing", "environment": "dev", "profile": "dev",
         "cloud": "local", "kind": "domain", "owner": "marketing-data", "costCenter": "cc-1",
         "cluster": {"mode": "dedicated", "kubeContext": "kind-dataplatform"}}
SHARED = {**LOCAL, "cluster": {}, "platform": {"stack": "local-platform"}}
PLATFORM = {**LOCAL, "domain": "platform", "kind": "platform", "cluster": {
    "kubeContext": "kind-dataplatform"}}


def parse(base: dict[str, Any], **extra: Any):
    data = {f"dataplatform:{k}": v for k, v in {**base, **extra}.items()}
    return parse_stack_config({"config": data}, "test.yaml")


def problems(base: dict[str, Any], **extra: Any) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as exc:
        parse(base, **extra)
    return [(p.key, p.message) for p in exc.value.problems]


def test_cluster_owners_get_monitoring_and_domains_alerting_by_default():
    local, shared, platform = parse(LOCAL), parse(SHARED), parse(PLATFORM)
    assert monitoring_enabled(local) and alerting_enabled(local)
    assert not monitoring_enabled(shared) and alerting_enabled(shared)
    assert monitoring_enabled(platform) and not alerting_enabled(platform)
    m = local.monitoring
    assert (m.namespace, m.retention, m.storage_size, m.platform_receiver) == (
        "monitoring", None, None, None)  # None: the profile's values file decides
    assert local.alerting.receivers == [] and local.alerting.thresholds == AlertThresholds()


def test_a_dedicated_domain_without_monitoring_gets_no_alerting_unless_asked():
    cfg = parse(LOCAL, monitoring={"enabled": False})
    assert not monitoring_enabled(cfg) and not alerting_enabled(cfg)
    assert problems(LOCAL, monitoring={"enabled": False}, alerting={"enabled": True}) == [
        ("dataplatform:alerting.enabled", "needs the cluster's monitoring stack: set "
                                          "monitoring.enabled or drop alerting.enabled")]
    assert not alerting_enabled(parse(SHARED, alerting={"enabled": False}))


def test_receivers_take_secrets_only_as_config_secrets():
    cfg = parse(LOCAL, alerting={"receivers": [
        {"slack": {"webhookUrl": SECRET, "channel": "#data-alerts"}},
        {"email": {"to": ["oncall@acme.io"], "from": "alerts@acme.io",
                   "smarthost": "smtp.acme.io:587", "username": "alerts",
                   "password": SECRET}}]},
        monitoring={"platformReceiver": {"email": {"to": ["ops@acme.io"],
                                                   "from": "am@acme.io",
                                                   "smarthost": "relay.acme.io:25",
                                                   "requireTls": False}}})
    slack, email = cfg.alerting.receivers
    assert slack.kind == "slack" and slack.slack.channel == "#data-alerts"
    assert email.email.from_address == "alerts@acme.io" and email.email.require_tls
    assert cfg.monitoring.platform_receiver.email.username is None
    plain = problems(LOCAL, alerting={"receivers": [{"slack": {"webhookUrl": "https://x"}}]})
    assert plain[0][0] == "dataplatform:alerting.receivers.0.slack.webhookUrl"
    assert "must be a Pulumi secret" in plain[0][1]


@pytest.mark.parametrize(("receiver", "key", "fragment"), [
    ({}, "alerting.receivers.0.slack", "exactly one of slack, email, pagerduty or webhook"),
    ({"slack": {"webhookUrl": SECRET}, "email": {"to": ["a@b.io"], "from": "c@b.io",
                                                 "smarthost": "s.b.io:25"}},
     "alerting.receivers.0.slack", "exactly one of slack, email, pagerduty or webhook"),
    ({"slack": {"webhookUrl": SECRET, "channel": "data alerts"}},
     "alerting.receivers.0.slack.channel", "not a Slack channel"),
    ({"email": {"to": ["not-an-address"], "from": "c@b.io", "smarthost": "s.b.io:25"}},
     "alerting.receivers.0.email.to.0", "should match pattern"),
    ({"email": {"to": ["a@b.io"], "from": "c@b.io", "smarthost": "smtp.b.io"}},
     "alerting.receivers.0.email.smarthost", "should match pattern"),
    ({"email": {"to": ["a@b.io"], "from": "c@b.io", "smarthost": "s.b.io:25",
                "password": SECRET}},
     "alerting.receivers.0.email.username", "username and password go together"),
])
def test_bad_receivers_name_their_key(receiver, key, fragment):
    found = problems(LOCAL, alerting={"receivers": [receiver]})
    assert any(k == f"dataplatform:{key}" and fragment in m for k, m in found), found


def test_monitoring_belongs_to_the_cluster_owner_and_alerting_to_domains():
    assert ("dataplatform:monitoring", "monitoring runs in the stack that owns the cluster "
            "(the platform stack); a domain configures `alerting`") in problems(
        SHARED, monitoring={"retention": "30d"})
    assert problems(PLATFORM, alerting={"receivers": []})[0][0] == "dataplatform:alerting"


def test_storage_and_retention_are_checked():
    assert problems(LOCAL, monitoring={"storageClass": "gp3"}) == [
        ("dataplatform:monitoring.storageClass", "needs monitoring.storageSize (the dev "
                                                 "profile keeps Prometheus on an emptyDir)")]
    assert parse(LOCAL, monitoring={"storageClass": "gp3", "storageSize": "20Gi"})
    bad = dict(problems(LOCAL, monitoring={"retention": "15 days", "retentionSize": "45G",
                                           "storageSize": "lots"}))
    assert set(bad) == {"dataplatform:monitoring.retention",
                        "dataplatform:monitoring.retentionSize",
                        "dataplatform:monitoring.storageSize"}


def test_the_monitoring_namespace_must_be_the_one_the_fence_lets_in():
    assert problems(LOCAL, monitoring={"namespace": "observability"}) == [
        ("dataplatform:isolation.monitoringNamespace",
         "must be 'observability' (monitoring.namespace): NetworkPolicies let that namespace "
         "scrape the domain")]
    assert parse(LOCAL, monitoring={"namespace": "observability"},
                 isolation={"monitoringNamespace": "observability"})


def test_thresholds_have_bounds():
    bad = dict(problems(LOCAL, alerting={"thresholds": {"cpuLimitPercent": 150,
                                                        "queuedTasks": 0}}))
    assert set(bad) == {"dataplatform:alerting.thresholds.cpuLimitPercent",
                        "dataplatform:alerting.thresholds.queuedTasks"}
    assert problems(LOCAL, alerting={"thresholds": {"cpuLimitPercnt": 80}})[0] == (
        "dataplatform:alerting.thresholds.cpuLimitPercnt",
        "unknown key (did you mean 'cpuLimitPercent'?)")


PROD_PLATFORM = {**PLATFORM, "profile": "prod", "environment": "prod", "cloud": "aws",
                 "region": "eu-west-1", "cluster": {}}
PROD_DOMAIN = {**SHARED, "profile": "prod", "environment": "prod", "cloud": "aws",
               "region": "eu-west-1", "platform": {"stack": "aws-platform"}}


def test_prod_alerts_must_reach_someone():
    platform = dict(problems(PROD_PLATFORM))
    assert list(platform) == ["dataplatform:monitoring.platformReceiver"]
    message = platform["dataplatform:monitoring.platformReceiver"]
    assert message.startswith("a prod cluster's alerts must reach the platform team: add "
                              "one: slack (webhookUrl), email (to, from, smarthost), "
                              "pagerduty (routingKey) or webhook (url)")
    assert ("`pulumi config set --secret --path 'dataplatform:monitoring.platformReceiver."
            "pagerduty.routingKey' KEY`") in message
    domain = dict(problems(PROD_DOMAIN))
    assert list(domain) == ["dataplatform:alerting.receivers"]
    assert domain["dataplatform:alerting.receivers"].startswith(
        "a prod domain's alerts must reach its team: add one or more: slack (webhookUrl)")
    assert "'dataplatform:alerting.receivers[0].pagerduty.routingKey'" in domain[
        "dataplatform:alerting.receivers"]
    # printed whole: the loader clips a message longer than MAX_ECHO
    assert all(len(m) <= MAX_ECHO for m in (*platform.values(), *domain.values()))
    # a dedicated prod domain needs both
    dedicated = {**PROD_DOMAIN, "platform": None, "cluster": {"mode": "dedicated"}}
    assert {k for k, _ in problems(dedicated)} == {"dataplatform:monitoring.platformReceiver",
                                                   "dataplatform:alerting.receivers"}


@pytest.mark.parametrize("receiver", [
    {"slack": {"webhookUrl": SECRET}},
    {"email": {"to": ["a@b.io"], "from": "c@b.io", "smarthost": "s.b.io:25"}},
    {"pagerduty": {"routingKey": SECRET}},
    {"webhook": {"url": SECRET}},
])
def test_any_receiver_kind_satisfies_prod(receiver):
    assert parse(PROD_PLATFORM, monitoring={"platformReceiver": receiver})
    cfg = parse(PROD_DOMAIN, alerting={"receivers": [receiver]})
    assert cfg.alerting.receivers[0].kind == next(iter(receiver))


def test_dev_and_switched_off_stacks_may_stay_silent():
    assert parse(PLATFORM) and parse(SHARED) and parse(LOCAL)
    assert parse(PROD_PLATFORM, monitoring={"enabled": False})
    assert parse(PROD_DOMAIN, alerting={"enabled": False})


@pytest.mark.parametrize(("receiver", "key"), [
    ({"pagerduty": {"routingKey": "0123456789abcdef0123456789abcdef"}},
     "alerting.receivers.0.pagerduty.routingKey"),
    ({"webhook": {"url": "https://hooks.example.io/T0K3N"}}, "alerting.receivers.0.webhook.url"),
])
def test_pagerduty_keys_and_webhook_urls_are_config_secrets(receiver, key):
    found = problems(LOCAL, alerting={"receivers": [receiver]})
    assert any(k == f"dataplatform:{key}" and "must be a Pulumi secret" in m
               for k, m in found), found
