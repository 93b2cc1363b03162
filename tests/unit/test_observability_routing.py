"""Alert routing: each domain's alerts reach its own receivers, the rest the platform team.

The local stack with domain receivers and a platform receiver is planned; everything that
decides where an alert goes (the Alertmanager's own configuration in the chart values, the
domain's AlertmanagerConfig, the Secrets they name) is kept as a golden file with secrets
masked, and sample alerts are walked through the tree the operator generates, the way
Alertmanager matches routes.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from golden_files import assert_golden
from observability_fixtures import AMC, NS, RECEIVERS, SECRET_T, TOP, walk

from components.observability._alerting import alertmanager_config_spec, alertmanager_receiver
from dataplatform.plan.engine import SECRET
from foundation.config.monitoring import Receiver
from foundation.config.secrets import PLACEHOLDER

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def routed(tmp_path_factory):
    """The local stack with domain receivers and a platform receiver."""
    from stackdir import StackDir

    stacks = StackDir(tmp_path_factory.mktemp("stacks"))
    stacks.write("obs-routing", {**stacks.shipped("local"), **RECEIVERS})
    return stacks.plan("obs-routing")


def routing_of(plan) -> dict[str, Any]:
    """Everything that decides where an alert goes, as the plan records it."""
    values = plan.get("kubernetes:helm.sh/v3:Release",
                      f"{TOP}-monitoring-chart-release").inputs["values"]
    amc = plan.get(AMC, f"{TOP}-domain-monitoring-routing")
    return {
        "alertmanager.config": values["alertmanager"]["config"],
        "alertmanagerSpec.secrets": values["alertmanager"]["alertmanagerSpec"]["secrets"],
        "platform receiver Secret": {
            "name": plan.get(SECRET_T, f"{TOP}-monitoring-platform-receiver").inputs[
                "metadata"]["name"],
            "stringData": plan.get(SECRET_T, f"{TOP}-monitoring-platform-receiver").inputs[
                "stringData"]},
        "domain AlertmanagerConfig": {
            "apiVersion": amc.inputs["apiVersion"],
            "metadata": {k: amc.inputs["metadata"][k] for k in ("name", "namespace")},
            "selected by": {"dataplatform.io/alerting": amc.inputs["metadata"]["labels"][
                "dataplatform.io/alerting"]},
            "spec": amc.inputs["spec"]},
        "domain receivers Secret": plan.get(SECRET_T, f"{TOP}-domain-monitoring-receivers")
        .inputs["stringData"],
    }


def test_alertmanager_routing_golden(routed):
    routing = routing_of(routed)
    assert_golden("observability/alertmanager-routing", routing)
    # secrets masked in the plan, and no config secret (placeholder) outside a Secret
    assert set(walk(routing["domain receivers Secret"])) == {SECRET}
    assert set(walk(routing["platform receiver Secret"]["stringData"])) == {SECRET}
    for resource in routed.resources:
        if resource.type != SECRET_T:
            text = repr(resource.inputs)
            assert PLACEHOLDER not in text and "v1:bm90" not in text, resource.name


MATCHER = re.compile(r'^\s*(\w+)\s*(=~|!~|!=|=)\s*"(.*)"\s*$')


def _matches(matchers: list[str], labels: dict[str, str]) -> bool:
    for m in matchers:
        name, op, value = MATCHER.match(m).groups()
        have = labels.get(name, "")
        ok = {"=": have == value, "!=": have != value,
              "=~": re.fullmatch(value, have) is not None,
              "!~": re.fullmatch(value, have) is None}[op]
        if not ok:
            return False
    return True


def _route(node: dict[str, Any], labels: dict[str, str]) -> list[str] | None:
    """Alertmanager's Route.Match: children in order, stop at a match without continue."""
    if not _matches(node.get("matchers", []), labels):
        return None
    found: list[str] = []
    for child in node.get("routes", []):
        hit = _route(child, labels)
        if hit is not None:
            found += hit
            if not child.get("continue"):
                break
    return found or [node["receiver"]]


def operator_tree(config: dict[str, Any], amcs: list[tuple[str, str, dict[str, Any]]]
                  ) -> dict[str, Any]:
    """The tree the operator generates: each AlertmanagerConfig's route first, continuing."""
    generated = [{"receiver": f"{ns}/{name}/{spec['route']['receiver']}", "continue": True,
                  "matchers": [f'{m["name"]}{m["matchType"]}"{m["value"]}"'
                               for m in spec["route"]["matchers"]]}
                 for ns, name, spec in amcs]
    root = config["route"]
    return {**root, "routes": generated + root["routes"]}


def test_routing_sends_each_domain_s_alerts_to_its_own_receivers(routed):
    routing = routing_of(routed)
    marketing = routing["domain AlertmanagerConfig"]
    finance = alertmanager_config_spec("finance", [], "alerting-receivers")
    tree = operator_tree(routing["alertmanager.config"], [
        (NS, marketing["metadata"]["name"], marketing["spec"]),
        ("acme-finance-dev", "domain-alerts", finance)])
    receivers = {r["name"] for r in routing["alertmanager.config"]["receivers"]}
    assert receivers == {"null", "platform-team"}

    def to(**labels: str) -> list[str]:
        """Receivers that notify: `null` has no integration (it only ends a path)."""
        return [r for r in _route(tree, labels) if r != "null"]

    assert to(alertname="DbtJobFailed", domain="marketing", notify="domain",
              severity="critical") == [f"{NS}/domain-alerts/marketing"]
    assert to(alertname="DbtJobFailed", domain="finance", notify="domain") == [
        "acme-finance-dev/domain-alerts/finance"]
    # a domain without receivers: its alerts (notify=platform) go to the platform team
    assert to(alertname="PodCrashLooping", domain="sales", notify="platform") == [
        "platform-team"]
    assert to(alertname="KubeNodeNotReady", severity="warning") == ["platform-team"]
    assert to(alertname="Watchdog", severity="none") == []
    assert _route(tree, {"alertname": "Watchdog"}) == ["null"]
    # the platform receiver's webhook is a file from the mounted Secret
    platform = next(r for r in routing["alertmanager.config"]["receivers"]
                    if r["name"] == "platform-team")
    assert platform["slack_configs"][0]["api_url_file"] == (
        "/etc/alertmanager/secrets/alertmanager-platform-receiver/slack-webhook-url")
    assert routing["alertmanagerSpec.secrets"] == ["alertmanager-platform-receiver"]


def test_domain_receivers_of_every_kind_read_their_secret_from_the_receivers_secret(routed):
    routing = routing_of(routed)
    (receiver,) = routing["domain AlertmanagerConfig"]["spec"]["receivers"]
    ref = {"name": "alerting-receivers"}
    assert receiver["slackConfigs"][0]["apiURL"] == {**ref, "key": "slack-webhook-url-0"}
    assert receiver["emailConfigs"][0]["authPassword"] == {**ref, "key": "smtp-password-1"}
    # v1alpha1 field names (the CRD of the pinned chart): routingKey, urlSecret
    assert receiver["pagerdutyConfigs"] == [
        {"routingKey": {**ref, "key": "pagerduty-routing-key-2"}, "sendResolved": True}]
    assert receiver["webhookConfigs"] == [
        {"urlSecret": {**ref, "key": "webhook-url-3"}, "sendResolved": True}]


@pytest.mark.parametrize(("receiver", "field", "key"), [
    ({"pagerduty": {"routingKey": {"secure": "v1:x"}}}, "pagerduty_configs",
     {"routing_key_file": "pagerduty-routing-key"}),
    ({"webhook": {"url": {"secure": "v1:x"}}}, "webhook_configs", {"url_file": "webhook-url"}),
])
def test_platform_receivers_read_their_secret_as_a_mounted_file(receiver, field, key):
    out = alertmanager_receiver("platform-team", Receiver.model_validate(receiver), "s")
    ((name, file),) = key.items()
    assert out[field] == [{name: f"/etc/alertmanager/secrets/s/{file}", "send_resolved": True}]
