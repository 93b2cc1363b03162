"""`dataplatform status`: against recorded Kubernetes and Alertmanager API responses.

The real Kubernetes client runs end to end (its API classes, its models, its JSON
decoding); only its transport (`ApiClient.rest_client`) is a fake that answers from
tests/data/status/. The Pulumi CLI is a fake reader of recorded `pulumi stack output
--json` documents, and the clock a fake that never sleeps.
"""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from kubernetes import client
from kubernetes.client.rest import RESTResponse
from urllib3.exceptions import MaxRetryError, NewConnectionError

from dataplatform import cli
from dataplatform.status import StatusError
from dataplatform.status.command import POLL_SECONDS, Deps, run
from dataplatform.status.outputs import SECRET, ClusterTarget, PulumiCli, stack_view

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data" / "status"
APPLICATIONS = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications"
ALERTS = ("/api/v1/namespaces/monitoring/services/kube-prometheus-stack-alertmanager:9093"
          "/proxy/api/v2/alerts?active=true&silenced=false")


def helm(namespace: str, release: str) -> str:
    return f"/api/v1/namespaces/{namespace}/secrets?labelSelector=owner=helm,name={release}"


LOCAL_RELEASES = {helm("argocd", "argocd"): "secrets-argocd-argocd.json",
                  helm("monitoring", "kube-prometheus-stack"):
                  "secrets-monitoring-kube-prometheus-stack.json"}


class _Http:
    """What urllib3 hands RESTResponse: status, reason, body, headers."""

    def __init__(self, status: int, body: bytes, reason: str = "OK"):
        self.status, self.reason, self.data = status, reason, body
        self.headers = {"content-type": "application/json"}


Answer = str | tuple[int, str] | Callable[[], Any] | Iterator[str]


class FakeTransport:
    """Stands in for the client's RESTClientObject: answers each GET (path and query,
    decoded) from a recorded file, a (status, reason), a callable that raises, or an
    iterator of files (one per call: the polls of --wait)."""

    def __init__(self, routes: dict[str, Answer]):
        self.routes, self.calls = routes, []

    def request(self, method: str, url: str, headers=None, body=None, post_params=None,
                _request_timeout=None) -> RESTResponse:
        parts = urlsplit(url)
        key = parts.path + ("?" + "&".join(f"{k}={v}" for k, v in parse_qsl(parts.query))
                            if parts.query else "")
        self.calls.append((method, key, _request_timeout))
        answer = self.routes.get(key, (404, "Not Found"))
        if callable(answer):
            answer = answer()
        elif isinstance(answer, Iterator):
            answer = next(answer)
        if isinstance(answer, tuple):
            status, reason = answer
            return RESTResponse(_Http(status, json.dumps(
                {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                 "reason": reason, "code": status}).encode(), reason))
        return RESTResponse(_Http(200, (DATA / answer).read_bytes()))


def api_client(transport: FakeTransport) -> client.ApiClient:
    api = client.ApiClient(client.Configuration(host="https://127.0.0.1:6443"))
    api.rest_client = transport  # type: ignore[assignment]
    return api


class FakeReader:
    """Recorded `pulumi stack output --json` documents, per stack."""

    def __init__(self, outputs: dict[str, dict[str, Any]], secrets: dict | None = None):
        self.data, self.secrets, self.revealed = outputs, secrets or {}, []

    def outputs(self, stack: str) -> dict[str, Any]:
        if stack not in self.data:
            raise StatusError(f"status: stack '{stack}' is not in the current Pulumi backend",
                              2)
        return self.data[stack]

    def reveal(self, stack: str, key: str) -> str:
        self.revealed.append((stack, key))
        return self.secrets[(stack, key)]


class FakeClock:
    def __init__(self):
        self.t, self.sleeps = 1000.0, []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def recorded(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"outputs-{name}.json").read_text())


def status(argv: list[str], routes: dict[str, Answer], reader: FakeReader | None = None,
           clock: FakeClock | None = None) -> tuple[int, str, str, list[ClusterTarget]]:
    """Run `dataplatform status ARGV` with the fakes: (exit code, stdout, stderr, the
    targets it connected to)."""
    transport, targets = FakeTransport(routes), []
    out, err = io.StringIO(), io.StringIO()

    def connect(target: ClusterTarget) -> client.ApiClient:
        targets.append(target)
        return api_client(transport)

    args = cli.parser().parse_args(["status", *argv])
    deps = Deps(reader=reader or FakeReader({"local": recorded("local"),
                                             "local-extra": recorded("local-extra")}),
                connect=connect, clock=clock or FakeClock(), out=out, err=err)
    code = run(args, deps)
    return code, out.getvalue(), err.getvalue(), targets


def local_routes(applications: Answer = "applications-healthy.json",
                 alerts: Answer = "alerts-quiet.json") -> dict[str, Answer]:
    return {APPLICATIONS: applications, ALERTS: alerts, **LOCAL_RELEASES}


def test_healthy_argocd_stack():
    code, out, err, targets = status(["local"], local_routes())
    assert (code, err) == (0, "")
    assert targets == [ClusterTarget(None, "kind-dataplatform",
                                     "context kind-dataplatform (stack file)")]
    lines = out.splitlines()
    assert "ok airflow     argocd    Synced/Healthy" in lines
    assert ("ok datahub     argocd    datahub-prerequisites Synced/Healthy, datahub "
            "Synced/Healthy") in lines
    # The newest Helm revision decides (v1 superseded, v2 deployed).
    assert "ok argocd      helm      deployed" in lines
    assert "ok dbt         manifests applied by Pulumi (no release)" in lines
    assert ("     url    http://airflow-api-server.acme-marketing-dev.svc.cluster.local:8080 "
            "(in cluster)") in lines
    at = lines.index("     open   kubectl -n acme-marketing-dev port-forward svc/airflow-api-server "
                     "8080:8080")
    assert lines[at + 1] == "            then http://localhost:8080"
    # Ports below 1024 move up, and two apps never share a local port.
    at = lines.index("     open   kubectl -n argocd port-forward svc/argocd-server 8081:80")
    assert lines[at + 1] == "            then http://localhost:8081"
    assert all(len(line) <= 100 for line in lines)
    assert ("     admin  Secret airflow-admin-credentials in acme-marketing-dev (keys "
            "username and password)") in lines
    assert "     admin  Secret grafana-admin in monitoring (Grafana: keys admin-user and admin-password)" in lines
    at = lines.index("     admin  Secret metabase-admin-credentials in acme-marketing-dev (keys "
                     "username (an e-mail) and")
    assert lines[at + 1] == "            password)"
    assert any(ln.startswith("     admin  no admin Secret from this stack: Airbyte's") for ln in lines)
    assert lines[-1] == "Alerts firing: none"  # Watchdog (severity none) is left out


def test_json_report_names_applications_and_releases():
    code, out, _, _ = status(["local", "--json"], local_routes())
    report = json.loads(out)
    assert code == 0 and report["healthy"] and report["alertsChecked"]
    apps = {a["name"]: a for a in report["apps"]}
    assert apps["airflow"]["releases"] == [{
        "release": "airflow", "application": "acme-marketing-dev-airflow", "sync": "Synced",
        "health": "Healthy", "state": "Synced/Healthy", "ready": True, "message": None}]
    assert apps["argocd"]["releases"] == [{"release": "argocd", "revision": 2,
                                           "status": "deployed", "state": "deployed",
                                           "ready": True}]
    assert apps["airbyte"]["adminSecret"] is None
    assert apps["airflow"]["url"] == apps["airflow"]["inClusterUrl"]
    assert apps["airflow"]["portForward"].startswith("kubectl -n acme-marketing-dev")


def test_public_url_replaces_the_in_cluster_one():
    outputs = recorded("local")
    outputs["appsAccess"]["metabase"]["publicUrl"] = "https://metabase.marketing.acme.example"
    reader = FakeReader({"local": outputs})
    code, out, _, _ = status(["local"], local_routes(), reader)
    assert code == 0
    assert "     url    https://metabase.marketing.acme.example" in out.splitlines()


@pytest.mark.parametrize(("superset", "code", "state"), [
    ("secrets-insights-superset.json", 0, "ok superset  helm      deployed"),
    ("secrets-insights-superset-failed.json", 1, "!! superset  helm      failed"),
], ids=["deployed", "failed"])
def test_helm_delivery_stack(superset, code, state):
    routes = {helm("acme-insights-dev-orchestration", "dagster"): "secrets-orchestration-dagster.json",
              helm("acme-insights-dev", "superset"): superset}
    got, out, _, targets = status(["local-extra"], routes)
    assert got == code
    assert state in out.splitlines()
    assert "ok dagster   helm      deployed" in out.splitlines()
    assert "     admin  an extra app: see its chart's documentation" in out.splitlines()
    # No Application is read under helm delivery; no Alertmanager is known to this stack.
    assert targets[0].context == "kind-dataplatform"
    assert out.splitlines()[-1] == "Alerts: not checked (no Alertmanager in the stack's outputs)"


def test_helm_release_never_installed_is_not_ready():
    got, out, _, _ = status(["local-extra"], {})
    assert got == 1
    assert "!! superset  helm      not installed" in out.splitlines()


def test_degraded_app():
    code, out, _, _ = status(["local"], local_routes("applications-degraded.json"))
    assert code == 1
    lines = out.splitlines()
    assert "!! airflow     argocd    Synced/Degraded" in lines
    assert ('     why    airflow: Deployment "airflow-scheduler" exceeded its progress '
            "deadline") in lines
    assert "ok metabase    argocd    Synced/Healthy" in lines


def test_firing_alerts_of_the_stack_shown():
    code, out, _, _ = status(["local"], local_routes(alerts="alerts-firing.json"))
    assert code == 0  # alerts are shown; the exit code follows the apps
    tail = out.split("\n\n")[-1].splitlines()
    assert tail == [
        "Alerts firing (2):",
        "  critical AirflowSchedulerDown [acme-marketing-dev]: Airflow scheduler of acme-marketing-dev sends",
        "           no heartbeat",
        "  warning  KubePodCrashLooping [acme-marketing-dev]: Pod is crash looping",
    ]  # another domain's alert and the Watchdog are left out
    assert "acme-finance-dev" not in out


def test_alertmanager_unreachable_is_said_not_fatal():
    code, out, _, _ = status(["local"], local_routes(alerts=(503, "Service Unavailable")))
    assert code == 0
    assert out.splitlines()[-1] == ("Alerts: not read (Alertmanager monitoring/"
                                    "kube-prometheus-stack-alertmanager: HTTP 503 Service "
                                    "Unavailable)")


def test_wait_succeeds_after_polls():
    polls = iter(["applications-progressing.json"] * 2 + ["applications-healthy.json"])
    clock = FakeClock()
    code, out, err, _ = status(["local", "--wait"], local_routes(polls), clock=clock)
    assert code == 0
    assert clock.sleeps == [POLL_SECONDS, POLL_SECONDS]
    assert err.splitlines() == [
        "status: waiting (datahub (datahub-prerequisites Synced/Healthy, datahub "
        "OutOfSync/Progressing))"] * 2 + ["status: every app is ready (after 3 polls)"]
    assert "ok datahub " in out


def test_wait_timeout_names_the_app_still_waiting():
    polls = iter(["applications-progressing.json"] * 10)
    clock = FakeClock()
    code, out, err, _ = status(["local", "--wait", "--timeout", "25"], local_routes(polls),
                               clock=clock)
    assert code == 1
    assert clock.sleeps == [10, 10, 5]  # never past the deadline
    assert err.splitlines()[-1] == (
        "status: timed out after 25 s; still waiting: datahub (datahub-prerequisites "
        "Synced/Healthy, datahub OutOfSync/Progressing)")
    assert ("     why    datahub: waiting for healthy state of batch/Job/"
            "datahub-system-update") in out.splitlines()


def refused():
    raise MaxRetryError(None, APPLICATIONS, NewConnectionError(  # type: ignore[arg-type]
        None, "Failed to establish a new connection: [Errno 111] Connection refused"))


def test_unreachable_cluster_is_a_message_not_a_traceback():
    code, out, err, _ = status(["local"], {APPLICATIONS: refused})
    assert (code, out) == (1, "")
    assert err.strip() == (
        "status: cannot reach the cluster (context kind-dataplatform (stack file)): Argo CD "
        "Applications in argocd: Failed to establish a new connection: [Errno 111] Connection "
        "refused")


def test_unreachable_cluster_while_waiting_times_out():
    clock = FakeClock()
    code, _, err, _ = status(["local", "--wait", "--timeout", "15"], {APPLICATIONS: refused},
                             clock=clock)
    assert code == 1 and clock.sleeps == [10, 5]
    assert err.splitlines()[-1].startswith(
        "status: timed out after 15 s: cannot reach the cluster (context kind-dataplatform")


def test_forbidden_is_named():
    code, _, err, _ = status(["local"], {APPLICATIONS: (403, "Forbidden")})
    assert code == 1
    assert "Argo CD Applications in argocd: HTTP 403 Forbidden" in err


def test_unknown_stack_exits_2_with_did_you_mean(capsys):
    assert cli.main(["status", "lcoal"]) == 2
    err = capsys.readouterr().err
    assert "unknown stack 'lcoal': did you mean 'local'?" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["local", "--timeout", "30"],
                                  ["local", "--wait", "--timeout", "0"],
                                  ["local", "--wait", "--timeout", "-5"],
                                  ["local", "--wait", "--timeout", "nan"]])
def test_timeout_without_wait_or_not_positive_exits_2(argv):
    code, _, err, targets = status(argv, {})
    assert (code, targets) == (2, [])
    assert "--timeout takes a number of seconds above 0, with --wait" in err


def test_stack_never_deployed_exits_2():
    code, _, err, targets = status(["local"], {}, FakeReader({}))
    assert (code, targets) == (2, [])
    assert "stack 'local' is not in the current Pulumi backend" in err


def test_kubeconfig_output_is_revealed_alone():
    """A domain on a shared cluster reaches it with its platform's kubeconfig output; that
    secret alone is decrypted, and nothing else."""
    reader = FakeReader(
        {"aws-finance": {"appsAccess": {}, "namespaces": ["acme-finance-prod"]},
         "aws-platform": {"kubeconfig": SECRET, "kubeContext": None, "appsAccess": {
             "monitoring": {"namespace": "monitoring", "alertmanager": {
                 "service": "kube-prometheus-stack-alertmanager", "port": 9093}}}}},
        secrets={("aws-platform", "kubeconfig"): "apiVersion: v1\nkind: Config\n"})
    view = stack_view("aws-finance", "aws-platform", None, reader)
    assert view.cluster == ClusterTarget("apiVersion: v1\nkind: Config\n", None,
                                         "kubeconfig output of aws-platform")
    assert reader.revealed == [("aws-platform", "kubeconfig")]
    assert view.alertmanager == ("monitoring", "kube-prometheus-stack-alertmanager", 9093)


def test_stack_deployed_before_access_output_exits_2():
    with pytest.raises(StatusError) as exc:
        stack_view("local", None, None, FakeReader({"local": {"namespace": "x"}}))
    assert exc.value.code == 2 and "has no `appsAccess` output" in str(exc.value)


def test_pulumi_cli_reads_masked_outputs_and_names_missing_stacks(tmp_path):
    calls = []

    def runner(argv, **kwargs):
        calls.append(argv)
        if argv[3] == "--json":
            return subprocess.CompletedProcess(argv, 0, '{"kubeconfig": "[secret]"}', "")
        return subprocess.CompletedProcess(argv, 255, "", "error: no stack named 'nope' found")

    cli_reader = PulumiCli(tmp_path, binary="/usr/bin/pulumi", runner=runner)
    assert cli_reader.outputs("local") == {"kubeconfig": SECRET}
    assert calls[0] == ["/usr/bin/pulumi", "stack", "output", "--json", "--show-secrets=false",
                        "--stack", "local", "--non-interactive"]
    with pytest.raises(StatusError) as exc:
        cli_reader.reveal("nope", "kubeconfig")
    assert exc.value.code == 2 and "stack 'nope' is not in the current Pulumi backend" in str(
        exc.value)


CLUSTER_ADD_ONS = {("cert-manager", "cert-manager"), ("envoy-gateway-system", "envoy-gateway"),
                   ("monitoring", "opentelemetry-collector"),
                   ("monitoring", "prometheus-pushgateway")}


def test_access_output_names_what_the_plan_creates(shipped_plan):
    """Every admin Secret the `appsAccess` output names is a Secret the plan creates in that
    namespace, and every release it names is an Application (argocd) or a Release (helm)
    of the plan, so `status` looks for what `pulumi up` makes."""
    plan = shipped_plan("local")
    access = plan.outputs["appsAccess"]
    secrets = {(r.inputs["metadata"].get("namespace"), r.inputs["metadata"]["name"])
               for r in plan.by_type("kubernetes:core/v1:Secret")}
    named = {(e["namespace"], e["adminSecret"]) for e in access.values() if e["adminSecret"]}
    assert named == {("acme-marketing-dev", "airflow-admin-credentials"),
                     ("acme-marketing-dev", "metabase-admin-credentials"),
                     ("acme-marketing-dev", "datahub-root-user"), ("monitoring", "grafana-admin")}
    assert named <= secrets
    # A login Secret the plan makes and `appsAccess` does not name would leave `status`
    # saying "no admin Secret" for an app that has one.
    logins = {s for s in secrets if "admin" in s[1] or "root-user" in s[1]}
    assert logins == named
    applications = {(r.inputs["spec"]["destination"]["namespace"],
                     r.inputs["spec"]["source"]["helm"]["releaseName"])
                    for r in plan.by_type("kubernetes:argoproj.io/v1alpha1:Application")}
    releases = {(r.inputs["namespace"], r.inputs["name"])
                for r in plan.by_type("kubernetes:helm.sh/v3:Release")}
    for name, entry in access.items():
        wanted = {(entry["namespace"], r) for r in entry["releases"]}
        assert wanted <= (applications if entry["delivery"] == "argocd" else releases), name
    # Every Application and Release of the plan belongs to an app of `appsAccess`, but the
    # cluster's add-ons (no UI, no login: the front door's controllers, the collectors).
    listed = {(e["namespace"], r) for e in access.values() for r in e["releases"]}
    assert applications | releases == listed | CLUSTER_ADD_ONS


def test_readme_sample_is_what_status_prints():
    """The README's excerpt (DataHub still syncing) is, line for line, this output."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("```text\n$ dataplatform status local\n", 1)[1].split("```", 1)[0]
    apps, alerts = block.split("\n\n", 2)[1:]
    _, out, _, _ = status(["local"], local_routes("applications-progressing.json",
                                                  "alerts-firing.json"))
    lines = out.splitlines()
    assert block.splitlines()[0] == lines[0]
    shown = apps.splitlines()
    for head in (i for i, ln in enumerate(shown) if not ln.startswith(" ")):
        at = lines.index(shown[head])
        block_end = next((j for j in range(head + 1, len(shown))
                          if not shown[j].startswith(" ")), len(shown))
        assert lines[at:at + block_end - head] == shown[head:block_end]
    assert set(alerts.splitlines()[1:]) <= set(lines)
