"""Per-app states from the stack's `appsAccess` output and the cluster's answers, and the
report: text for people, JSON for scripts."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from dataplatform.status.cluster import Cluster

SEVERITY_ORDER = ("critical", "error", "warning", "info")
QUIET_SEVERITIES = frozenset({"none"})
"""kube-prometheus-stack's Watchdog and InfoInhibitor fire always, by design."""


@dataclass
class AppStatus:
    """One app of the stack, as the cluster reports it."""

    name: str
    namespace: str
    delivery: str
    state: str
    """`Synced/Healthy` (argocd), `deployed` (helm), per release when there are several."""
    ready: bool
    releases: list[dict[str, Any]]
    url: str | None
    """The front door's https URL when there is one, else the in-cluster URL."""
    in_cluster_url: str | None
    port_forward: str | None
    admin_secret: str | None
    login: str


@dataclass
class Report:
    stack: str
    cluster: str
    apps: list[AppStatus] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    alerts_error: str | None = None
    """Why the alerts could not be read (None: read, or no Alertmanager known)."""
    alerts_checked: bool = False

    @property
    def healthy(self) -> bool:
        return all(a.ready for a in self.apps)

    def waiting(self) -> list[AppStatus]:
        return [a for a in self.apps if not a.ready]

    def as_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "cluster": self.cluster, "healthy": self.healthy,
                "apps": [{_camel(k): v for k, v in asdict(a).items()} for a in self.apps],
                "alerts": self.alerts,
                "alertsChecked": self.alerts_checked, "alertsError": self.alerts_error}


def _camel(key: str) -> str:
    first, *rest = key.split("_")
    return first + "".join(w.title() for w in rest)


def _argocd_state(apps: Iterable[Mapping[str, Any]], namespace: str,
                  release: str) -> dict[str, Any]:
    """The Application that installs `release` into `namespace` (matched by its Helm source
    and destination, not by a name rule)."""
    for app in apps:
        spec = app.get("spec") or {}
        helm = (spec.get("source") or {}).get("helm") or {}
        if ((spec.get("destination") or {}).get("namespace") == namespace
                and helm.get("releaseName") == release):
            status = app.get("status") or {}
            sync = (status.get("sync") or {}).get("status") or "Unknown"
            health = status.get("health") or {}
            message = health.get("message") or next(
                (c.get("message") for c in status.get("conditions") or []
                 if c.get("message")), None)
            return {"release": release, "application": (app.get("metadata") or {}).get("name"),
                    "sync": sync, "health": health.get("status") or "Unknown",
                    "state": f"{sync}/{health.get('status') or 'Unknown'}",
                    "ready": sync == "Synced" and health.get("status") == "Healthy",
                    "message": message}
    return {"release": release, "application": None, "state": "no Application",
            "ready": False, "message": None}


def _helm_state(cluster: Cluster, namespace: str, release: str) -> dict[str, Any]:
    found = cluster.helm_release(namespace, release)
    if found is None:
        return {"release": release, "state": "not installed", "ready": False}
    return {"release": release, "revision": found.revision, "status": found.status,
            "state": found.status, "ready": found.status == "deployed"}


def _forward(url: str | None, used: set[int]) -> tuple[str | None, str | None]:
    """`kubectl port-forward` to the Service behind an in-cluster URL, with a local port
    not taken by another app of the report; and the local URL."""
    if not url:
        return None, None
    parts = urlsplit(url)
    host = (parts.hostname or "").split(".")
    if len(host) < 2:
        return None, None
    port = parts.port or 80
    local = port if port >= 1024 else 8000 + port
    while local in used:
        local += 1
    used.add(local)
    return (f"kubectl -n {host[1]} port-forward svc/{host[0]} {local}:{port}",
            f"http://localhost:{local}")


def collect(stack: str, cluster_source: str, access: Mapping[str, Any], cluster: Cluster,
            ) -> Report:
    """The state of every app of `appsAccess`; ClusterUnreachable passes through."""
    report = Report(stack, cluster_source)
    applications: dict[str, list[dict[str, Any]]] = {}
    used: set[int] = set()
    for name in sorted(access):
        entry = access[name]
        ns, delivery = str(entry.get("namespace")), str(entry.get("delivery"))
        releases: list[dict[str, Any]] = []
        for release in entry.get("releases") or []:
            if delivery == "argocd":
                argocd_ns = str(entry.get("argocdNamespace") or "argocd")
                if argocd_ns not in applications:
                    applications[argocd_ns] = cluster.applications(argocd_ns)
                releases.append(_argocd_state(applications[argocd_ns], ns, release))
            else:
                releases.append(_helm_state(cluster, ns, release))
        if releases:
            state = (releases[0]["state"] if len(releases) == 1 else ", ".join(
                f"{r['release']} {r['state']}" for r in releases))
        else:
            state = "applied by Pulumi (no release)"
        forward, local = _forward(entry.get("url"), used)
        report.apps.append(AppStatus(
            name=name, namespace=ns, delivery=delivery, state=state,
            ready=all(r["ready"] for r in releases), releases=releases,
            url=entry.get("publicUrl") or entry.get("url"), in_cluster_url=entry.get("url"),
            port_forward=f"{forward}  then {local}" if forward else None,
            admin_secret=entry.get("adminSecret"), login=str(entry.get("login") or "")))
    return report


def stack_alerts(alerts: Iterable[Mapping[str, Any]], namespaces: set[str],
                 domain: str | None, foreign_prefix: str | None) -> list[dict[str, Any]]:
    """The firing alerts of the stack: in its namespaces or labelled with its domain; for a
    platform stack (`domain` None) those of no domain and outside `foreign_prefix`
    namespaces. Severity `none` (Watchdog) is left out; most severe first."""
    out = []
    for alert in alerts:
        labels = alert.get("labels") or {}
        ns, dom = labels.get("namespace"), labels.get("domain")
        if labels.get("severity") in QUIET_SEVERITIES:
            continue
        if domain is not None:
            mine = ns in namespaces or dom == domain
        else:
            mine = dom is None and (ns is None or ns in namespaces or not (
                foreign_prefix and str(ns).startswith(foreign_prefix)))
        if mine:
            out.append({"name": labels.get("alertname", "?"),
                        "severity": labels.get("severity", ""), "namespace": ns,
                        "startsAt": alert.get("startsAt"),
                        "summary": (alert.get("annotations") or {}).get("summary")
                        or (alert.get("annotations") or {}).get("description") or ""})

    def rank(a: dict[str, Any]) -> tuple[int, str]:
        sev = a["severity"]
        return (SEVERITY_ORDER.index(sev) if sev in SEVERITY_ORDER else len(SEVERITY_ORDER),
                a["name"])
    return sorted(out, key=rank)


WIDTH = 100


def _field(label: str, value: str) -> list[str]:
    """`label  value`, indented under the app and wrapped at WIDTH columns (a URL or a
    command is never broken: it only moves to the next line)."""
    head = f"     {label:<6} "
    return textwrap.wrap(value, WIDTH, initial_indent=head, subsequent_indent=" " * len(head),
                         break_long_words=False, break_on_hyphens=False)


def text(report: Report) -> str:
    """The report for people: one block per app, then the alerts."""
    width = max([len(a.name) for a in report.apps] + [4])
    lines = [f"Stack {report.stack}, cluster: {report.cluster}", ""]
    for app in report.apps:
        mark = "ok" if app.ready else "!!"
        lines.append(f"{mark} {app.name:<{width}}  {app.delivery:<9} {app.state}")
        for r in app.releases:
            if not r["ready"] and r.get("message"):
                lines += _field("why", f"{r['release']}: {r['message']}")
        if app.url:
            where = "" if app.url != app.in_cluster_url else " (in cluster)"
            lines += _field("url", f"{app.url}{where}")
        if app.port_forward:
            forward, _, local = app.port_forward.partition("  ")
            lines += _field("open", forward) + _field("", local)
        if app.admin_secret:
            lines += _field("admin", f"Secret {app.admin_secret} in {app.namespace}"
                            + (f" ({app.login})" if app.login else ""))
        elif app.login:
            lines += _field("admin", app.login)
    lines.append("")
    if report.alerts_error:
        lines.append(f"Alerts: not read ({report.alerts_error})")
    elif not report.alerts_checked:
        lines.append("Alerts: not checked (no Alertmanager in the stack's outputs)")
    elif not report.alerts:
        lines.append("Alerts firing: none")
    else:
        lines.append(f"Alerts firing ({len(report.alerts)}):")
        for a in report.alerts:
            where = f" [{a['namespace']}]" if a["namespace"] else ""
            lines += textwrap.wrap(f"{a['severity'] or '-':<8} {a['name']}{where}: "
                                   f"{a['summary']}".rstrip(": "), WIDTH, initial_indent="  ",
                                   subsequent_indent=" " * 11, break_long_words=False)
    return "\n".join(lines)
