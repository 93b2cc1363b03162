"""Chart-rendered objects through the pack: values as templates carry them (strings for
booleans and numbers), messages naming the object, the container and the chart, and
unknown values (preview) that the stack rule does not judge."""

from __future__ import annotations

import pytest
from cases_platform import container, pod
from cases_pods import node_exporter, pdb, rendered, svc, web
from policy_helpers import run

pytestmark = pytest.mark.policy

POD_RULES = {"k8s-no-privileged", "k8s-run-as-non-root", "k8s-image-pinned",
             "k8s-resources-set", "k8s-no-host-path", "k8s-prod-ha"}


def _stringly(**security):
    """A rendered Deployment whose every boolean and number is a string."""
    c = container(securityContext={"allowPrivilegeEscalation": "false", **security},
                  ports=[{"containerPort": "8080", "name": "http"}])
    labels = {"app.kubernetes.io/name": "web"}
    spec = {"replicas": "2", "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                         "spec": {**pod([c], runAsNonRoot="true", runAsUser="1000"),
                                  "hostNetwork": "false"}}}
    return rendered("apps/v1:Deployment", "web", {"spec": spec})


def _mine(findings):
    return [f for f in findings if f["policy"] in POD_RULES]


def test_strings_for_booleans_and_numbers_pass_when_compliant(pack):
    assert not _mine(run(pack, [_stringly(), svc(), pdb()]))


@pytest.mark.parametrize(("security", "policy", "words"), [
    ({"privileged": "true"}, "k8s-no-privileged", "is privileged"),
    ({"allowPrivilegeEscalation": "true"}, "k8s-no-privileged", "allows privilege escalation"),
    ({"runAsUser": "0"}, "k8s-run-as-non-root", "may run as root"),
    ({"runAsUser": "0.0"}, "k8s-run-as-non-root", "may run as root"),
    ({"runAsNonRoot": "false"}, "k8s-run-as-non-root", "may run as root"),
])
def test_strings_for_booleans_and_numbers_fail_when_violating(pack, security, policy, words):
    findings = _mine(run(pack, [_stringly(**security), svc(), pdb()]))
    assert [f["policy"] for f in findings] == [policy], findings
    assert words in findings[0]["message"]


def test_the_message_names_the_object_the_container_the_chart_and_the_fix(pack):
    findings = _mine(run(pack, [_stringly(privileged="true", capabilities={
        "add": ["NET_BIND_SERVICE", "sys_admin"]})]))
    messages = sorted(f["message"] for f in findings if f["policy"] == "k8s-no-privileged")
    assert len(messages) == 2, messages
    for m in messages:
        assert m.startswith("Deployment 'data/web' (rendered by Release 'airflow'): "
                            "container 'app' ")
    assert "adds capabilities SYS_ADMIN: remove them" in messages[0]
    assert "is privileged (securityContext.privileged: true): remove privileged" in messages[1]


def test_host_namespaces_are_reported_one_by_one_and_advisory_in_dev(pack):
    findings = [f for f in run(pack, [node_exporter], "dev")
                if f["policy"] == "k8s-no-privileged"]
    assert sorted(f["message"].split(" (")[2].split(":")[0] for f in findings) == [
        "hostNetwork", "hostPID"]
    assert {f["level"] for f in findings} == {"advisory"}


def test_one_serving_workload_gets_both_ha_findings(pack):
    findings = [f for f in run(pack, [web(replicas=None), svc()]) if f["policy"] == "k8s-prod-ha"]
    assert len(findings) == 2
    assert {f["urn"] for f in findings} == {web().urn}
    assert any("runs 1 replica(s) in prod (spec.replicas (unset))" in f["message"]
               for f in findings)
    assert any("e.g. {app.kubernetes.io/name: web}" in f["message"] for f in findings)


def test_unknown_replicas_are_not_judged_and_do_not_stop_the_stack_rule(pack):
    unknown = web(replicas="[unknown]")
    findings = [f for f in run(pack, [unknown, svc()]) if f["policy"] == "k8s-prod-ha"]
    assert [f["message"].split(" has no ")[1][:19] for f in findings] == ["PodDisruptionBudget"]


def test_a_workload_without_namespace_is_matched_in_default_and_says_so(pack):
    findings = [f for f in run(pack, [web(ns=None), svc(ns=None), pdb(ns="data")])
                if f["policy"] == "k8s-prod-ha"]
    assert len(findings) == 1
    assert "in namespace 'default' (metadata.namespace unset)" in findings[0]["message"]
    assert not [f for f in run(pack, [web(ns=None), svc(ns=None), pdb(ns="default")])
                if f["policy"] == "k8s-prod-ha"]


def test_the_message_names_a_clients_service_before_a_headless_one(pack):
    findings = [f for f in run(pack, [web(), svc("web-headless", headless=True), svc("web")])
                if f["policy"] == "k8s-prod-ha"]
    assert findings and all("served by Service 'web'," in f["message"] for f in findings)


def test_the_readmes_list_the_pack_policies():
    """The pack's README lists exactly its policies, each with its dev and prod levels; the
    project README links it, with the right count."""
    import re
    from pathlib import Path

    from policy_helpers import guardrails

    root = Path(__file__).resolve().parents[2]
    names = [p.name for p in guardrails().POLICIES]
    rows = re.findall(r"(?m)^\| `([a-z0-9-]+)` \| ([a-z ]+) \| ([a-z ]+) \|",
                      (root / "policies" / "README.md").read_text())
    assert sorted(r[0] for r in rows) == sorted(names)
    assert {(dev, prod) for _, dev, prod in rows} <= {("advisory", "mandatory"),
                                                       ("not checked", "mandatory")}
    # The project README points at that table instead of keeping a second copy of it.
    readme = (root / "README.md").read_text()
    assert not re.findall(r"(?m)^\| `([a-z0-9-]+)` \|", readme)
    assert f"Every rule ({len(names)})" in readme and "(policies/README.md)" in readme
