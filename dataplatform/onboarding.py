"""`dataplatform new customer|domain`: stack files for a new customer, or one more domain.

Naming: a stack is named like the resources it creates, `<customer>-<domain>-<env>`
(the model's `naming.base`), the platform stack being `<customer>-platform-<env>`. So a
stack name is a valid DNS label of at most 40 characters, and a domain's namespace is its
stack's name.

Files hold only what the model cannot default: identity (customer, domain, environment,
profile, cloud, kind), region/project, owner and cost center (given, or marked
placeholders), the platform reference, on local the kubeconfig context, the API
endpoint's allowed CIDRs (given; a marked placeholder on gcp, whose endpoint needs one), and
in prod the alert receivers the model requires (an email receiver: `--alert-email` and
`--smtp-relay`, or marked placeholders at example.com, which reaches no one).
Sizes come from the profile (`profiles/`), everything else from the model's defaults.
Every file is rendered, read back and validated (the config model, then the components'
preflight) before any file is written, and no existing file is overwritten. Its first line
points editors at the schema of stack files (`docs/reference/stack.schema.json`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dataplatform._onboarding_render import render_stack_file, secret_keys
from dataplatform.docs import modeline
from foundation.config import quota_fit
from foundation.config.app import AppConfig
from foundation.config.apps import Apps
from foundation.config.cluster import workload_capacity
from foundation.config.database import MANAGED_CLOUDS
from foundation.config.isolation import QuotaConfig
from foundation.config.loader import (
    PROJECT,
    STACKS_DIR,
    ConfigError,
    _display,
    available_stacks,
    load_stack_config,
    parse_stack_config,
    stack_file,
)
from foundation.config.quota_fit import FIELDS, cluster_fit, need
from foundation.config.stack import StackConfig
from foundation.naming import default_kube_context

# Environments that get the prod profile; any other environment gets dev.
PROD_ENVIRONMENTS = ("prod", "production", "prd", "live")
DEFAULT_COST_CENTER = "cc-unassigned"
# A new domain's quota admits its apps' footprint plus a quarter: room for the surge pods
# of a rolling update and for a few dbt jobs added later (each runs one more pod).
QUOTA_HEADROOM = 0.25
RECEIVER_NOTE = ("Prod alerts must reach someone: an email receiver below; slack (webhookUrl), "
                 "pagerduty\n(routingKey) or webhook (url) instead take a config secret "
                 "(pulumi config set --secret --path).")
QUOTA_NOTE = ("isolation.quota: the apps' footprint (profiles/footprints.yaml) plus a "
              "quarter,\nin whole cores and GiB.")
PLACEHOLDER_CIDR = "203.0.113.0/24"  # TEST-NET-3 (RFC 5737): routes nowhere
# example.com (RFC 2606) receives no mail: placeholders of a prod stack's email receiver.
PLACEHOLDER_ALERT_TO = "oncall@example.com"
PLACEHOLDER_ALERT_FROM = "alertmanager@example.com"
PLACEHOLDER_SMTP_RELAY = "smtp.example.com:587"
# Built-in domain apps: the `apps.<app>` sections that are AppConfigs (not Argo CD).
APP_CHOICES = tuple(n for n, f in Apps.model_fields.items() if n != "argocd"
                    and isinstance(f.annotation, type) and issubclass(f.annotation, AppConfig))


class OnboardingError(ValueError):
    """Bad command-line input (exit code 2)."""


@dataclass(frozen=True)
class NewStack:
    """One stack file to write: its name, path, text and validated config."""

    name: str
    path: Path
    text: str
    cfg: StackConfig

    @property
    def display(self) -> str:
        return _display(self.path)

    @property
    def summary(self) -> str:
        cfg = self.cfg
        where = cfg.cloud + (f" {cfg.region}" if cfg.region else "")
        role = (f"domain {cfg.domain} on {cfg.platform.stack}" if cfg.platform
                else f"{cfg.kind}")
        return f"{role}  ({where}, profile {cfg.profile})"


def profile_of(environment: str) -> str:
    return "prod" if environment in PROD_ENVIRONMENTS else "dev"


def split_list(value: str, what: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise OnboardingError(f"--{what}: give at least one name (comma-separated)")
    dupes = sorted({v for v in items if items.count(v) > 1})
    if dupes:
        raise OnboardingError(f"--{what}: {', '.join(dupes)} listed more than once")
    return items


def _apps(apps: Sequence[str]) -> dict[str, Any]:
    unknown = [a for a in apps if a not in APP_CHOICES]
    if unknown:
        raise OnboardingError(f"--apps: unknown app(s) {', '.join(unknown)} "
                              f"(built-in apps: {', '.join(APP_CHOICES)})")
    return {a: {"enabled": True} for a in apps}


def _stack(config: dict[str, Any], header: str, stacks_dir: Path,
           placeholders: Collection[str] = ()) -> NewStack:
    """Render, read back and validate one stack file (nothing is written here)."""
    cfg_name = "-".join((config["customer"], config.get("domain", "platform"),
                         config["environment"]))
    path = stack_file(cfg_name, stacks_dir)
    text = render_stack_file(header, config, placeholders, modeline(stacks_dir))
    cfg = parse_stack_config(yaml.safe_load(text), _display(path))
    _preflight(cfg, path)
    return NewStack(cfg.naming.base, path, text, cfg)


def _preflight(cfg: StackConfig, path: Path) -> None:
    """The components' own rules (name limits, node sizes), as `plan` would check them."""
    from dataplatform.program import resolved

    resolved(cfg, path)


def _identity(customer: str, environment: str, cloud: str, region: str | None,
              gcp_project: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"customer": customer, "environment": environment,
                           "profile": profile_of(environment), "cloud": cloud}
    if region:
        out["region"] = region
    if gcp_project:
        out["gcpProject"] = gcp_project.replace("{env}", environment)
    return out


@dataclass(frozen=True)
class Labels:
    """Owner and cost center: given, or placeholders marked in the files."""

    owner: str | None = None
    cost_center: str | None = None

    def owner_for(self, default: str) -> str:
        return self.owner or default

    def placeholders(self, *owners: str) -> set[str]:
        return ({DEFAULT_COST_CENTER} if self.cost_center is None else set()) | (
            set(owners) if self.owner is None else set())

    @property
    def cost(self) -> str:
        return self.cost_center or DEFAULT_COST_CENTER


@dataclass(frozen=True)
class AlertEmail:
    """The email receiver written in prod stacks (a prod stack needs a receiver):
    given, or placeholders marked in the files. The sender is `alertmanager@` the
    recipient's mail domain."""

    to: str | None = None
    smtp_relay: str | None = None

    def receiver(self) -> tuple[dict[str, Any], set[str]]:
        """The receiver, and its placeholder values."""
        to = self.to or PLACEHOLDER_ALERT_TO
        sender = f"alertmanager@{to.rpartition('@')[2]}" if self.to else PLACEHOLDER_ALERT_FROM
        relay = self.smtp_relay or PLACEHOLDER_SMTP_RELAY
        placeholders = ({to, sender} if self.to is None else set()) | (
            {relay} if self.smtp_relay is None else set())
        return {"email": {"to": [to], "from": sender, "smarthost": relay}}, placeholders


def customer_stacks(customer: str, *, cloud: str, region: str | None, domains: Sequence[str],
                    environments: Sequence[str], stacks_dir: Path = STACKS_DIR,
                    gcp_project: str | None = None, labels: Labels = Labels(),
                    kube_context: str | None = None, public_access_cidrs: Sequence[str] = (),
                    apps: Sequence[str] = (), alerts: AlertEmail = AlertEmail()
                    ) -> list[NewStack]:
    """A platform stack per environment, and a domain stack per domain and environment."""
    _check_cloud_args(cloud, region, gcp_project, environments, public_access_cidrs)
    enabled = _apps(apps)
    cidrs, marked = list(public_access_cidrs), set()
    if cloud == "gcp" and not cidrs:
        # GKE's public endpoint needs an allow-list (policy cluster-endpoint-restricted);
        # a documentation range (TEST-NET-3) keeps the file valid until it is replaced.
        cidrs, marked = [PLACEHOLDER_CIDR], {PLACEHOLDER_CIDR}
    out = []
    for env in environments:
        ident = _identity(customer, env, cloud, region, gcp_project)
        owner = labels.owner_for(f"{customer}-platform")
        platform: dict[str, Any] = {**ident, "kind": "platform", "owner": owner,
                                    "costCenter": labels.cost}
        if cloud == "local":
            platform["cluster"] = {"kubeContext": kube_context or default_kube_context(customer)}
        elif cidrs:
            platform["cluster"] = {"publicAccessCidrs": cidrs}
        header = (f"Platform stack of {customer}, environment {env}: the shared cluster, "
                  "Argo CD and monitoring.\nGenerated by `dataplatform new customer`; "
                  "defaults come from the config model and profiles/.")
        alert_marks: set[str] = set()
        if ident["profile"] == "prod":
            receiver, alert_marks = alerts.receiver()
            platform["monitoring"] = {"platformReceiver": receiver}
            header += f"\n{RECEIVER_NOTE}"
        plat = _stack(platform, header, stacks_dir,
                      labels.placeholders(owner) | marked | alert_marks)
        out.append(plat)
        domain_stacks = [_domain(customer, d, env, ident, plat.name, labels, enabled,
                                 stacks_dir, alerts) for d in domains]
        _check_cluster_fit(plat.name, plat.cfg, [s.cfg for s in domain_stacks])
        out += domain_stacks
    return out


def _check_cluster_fit(platform: str, cfg: StackConfig,
                       domains: Sequence[StackConfig]) -> None:
    """A prod platform's workload nodes at their autoscaling maximum (profiles/eks.yaml,
    gke.yaml) can grant every domain's quota requests; else nothing is written. Dev
    overcommits on purpose (one small node) and local is sized by hand; a maximum set by
    hand in the platform stack is its author's call."""
    if (cfg.cloud == "local" or cfg.profile != "prod" or not domains
            or cfg.cluster.autoscaling.max_nodes is not None):
        return
    nodes, allocatable = workload_capacity(cfg.cloud, cfg.profile)
    quotas = [d.isolation.quota.model_dump(by_alias=True) for d in domains]
    short = cluster_fit(quotas, nodes, allocatable)
    if short:
        raise OnboardingError(
            f"{platform}: the domains' quotas do not fit its cluster at the "
            f"{cfg.profile} profile's maximum size ({'; '.join(short)}): onboard fewer "
            "domains per platform, or raise cluster.autoscaling.maxNodes in the platform "
            "stack after writing it")


def _check_cloud_args(cloud: str, region: str | None, gcp_project: str | None,
                      environments: Sequence[str], cidrs: Sequence[str]) -> None:
    if cloud == "local":
        if region or gcp_project or cidrs:
            raise OnboardingError("--region, --gcp-project and --public-access-cidrs are for "
                                  "clouds aws and gcp")
        prod = [e for e in environments if profile_of(e) == "prod"]
        if prod:
            raise OnboardingError(f"cloud local runs the dev profile only, and environment "
                                  f"'{prod[0]}' would be prod: use aws or gcp for it")
    elif not region:
        raise OnboardingError(f"cloud {cloud} needs --region")
    if cloud == "gcp" and not gcp_project:
        raise OnboardingError("cloud gcp needs --gcp-project (it may contain {env}, e.g. "
                              "acme-data-{env})")
    if cloud != "gcp" and gcp_project:
        raise OnboardingError("--gcp-project is for cloud gcp")


def _domain(customer: str, domain: str, env: str, ident: dict[str, Any], platform: str,
            labels: Labels, apps: dict[str, Any], stacks_dir: Path,
            alerts: AlertEmail = AlertEmail()) -> NewStack:
    owner = labels.owner_for(f"{customer}-{domain}")
    config: dict[str, Any] = {"customer": customer, "domain": domain,
                              **{k: v for k, v in ident.items() if k != "customer"},
                              "kind": "domain", "owner": owner, "costCenter": labels.cost,
                              "platform": {"stack": platform}}
    quota = fitting_quota(ident["profile"], ident["cloud"], list(apps))
    if quota:
        config["isolation"] = {"quota": quota}
    if apps:
        config["apps"] = apps
    alert_marks: set[str] = set()
    if ident["profile"] == "prod":
        receiver, alert_marks = alerts.receiver()
        config["alerting"] = {"receivers": [receiver]}
    return _stack(config, f"Domain {domain} of {customer}, environment {env}, on the "
                          f"{platform} cluster.\nGenerated by `dataplatform new`; defaults "
                          "come from the config model and profiles/." + (
                              f"\n{QUOTA_NOTE}" if quota else "") + (
                              f"\n{RECEIVER_NOTE}" if "alerting" in config else ""), stacks_dir,
                  labels.placeholders(owner) | alert_marks)


def fitting_quota(profile: str, cloud: str, apps: Sequence[str]) -> dict[str, str]:
    """isolation.quota for a new domain running `apps`, or {} when the model's default
    fits: the apps' pinned footprint (profiles/footprints.yaml) plus QUOTA_HEADROOM, in
    whole cores and GiB (never below the default)."""
    wanted = need(profile, apps, in_cluster_db=not (profile == "prod"
                                                    and cloud in MANAGED_CLOUDS),
                  local=cloud == "local")
    defaults = QuotaConfig().model_dump(by_alias=True)
    quota = quota_fit.fitting_quota(wanted, defaults, QUOTA_HEADROOM)
    return quota if any(quota[k] != defaults[k] for k, _ in FIELDS) else {}


def domain_stack(domain: str, *, platform: str, stacks_dir: Path = STACKS_DIR,
                 owner: str | None = None, cost_center: str | None = None,
                 apps: Sequence[str] = (), alerts: AlertEmail = AlertEmail()) -> NewStack:
    """One more domain on an existing platform stack (customer, cloud, env from it)."""
    plat = load_stack_config(platform, stacks_dir)
    if plat.kind != "platform":
        raise OnboardingError(f"--platform {platform}: {_display(stack_file(platform, stacks_dir))}"
                              f" is a {plat.kind} stack, not a platform stack")
    ident = _identity(plat.customer, plat.environment, plat.cloud, plat.region,
                      plat.gcp_project)
    ident["profile"] = plat.profile  # follow the platform, whatever its environment's name
    new = _domain(plat.customer, domain, plat.environment, ident, platform,
                  Labels(owner, cost_center or plat.cost_center), _apps(apps), stacks_dir,
                  alerts)
    _check_cluster_fit(platform, plat, [*_domains_on(platform, stacks_dir), new.cfg])
    return new


def _domains_on(platform: str, stacks_dir: Path) -> list[StackConfig]:
    """The valid domain stacks of `stacks_dir` on `platform`'s cluster."""
    out = []
    for name in available_stacks(stacks_dir):
        try:
            cfg = load_stack_config(name, stacks_dir)
        except ConfigError:
            continue  # its own plan reports it
        if cfg.platform is not None and cfg.platform.stack == platform:
            out.append(cfg)
    return out


def write(stacks: Sequence[NewStack]) -> None:
    """Write every file, or none: an existing file (or a repeated name) stops it all, and
    so does an existing stack whose derived names a new one would take."""
    names = [s.name for s in stacks]
    clash = [s.display for s in stacks if s.path.exists()]
    clash += sorted({s.display for s in stacks if names.count(s.name) > 1})
    if clash:
        raise OnboardingError(f"refusing to overwrite {', '.join(clash)} (nothing written)")
    if taken := _taken_names(stacks):
        raise OnboardingError("; ".join(taken) + ": choose another customer name, or "
                              "environment (nothing written)")
    written: list[Path] = []
    try:
        for s in stacks:
            s.path.parent.mkdir(parents=True, exist_ok=True)
            with s.path.open("x", encoding="utf-8") as f:  # "x": never overwrite
                written.append(s.path)
                f.write(s.text)
    except OSError as exc:  # a read-only or missing folder, a file in its place, a full disk
        for path in written:
            path.unlink(missing_ok=True)
        where = Path(exc.filename) if exc.filename else s.path
        reason = exc.strerror or str(exc)
        if where != s.path:  # the folder; `mkdir` of a file says "File exists"
            reason = "not a folder" if isinstance(exc, FileExistsError) else reason
            reason = f"{_display(where)}: {reason}"
        raise OnboardingError(f"cannot write {_display(s.path)}: {reason} (nothing written)"
                              ) from None


def _taken_names(stacks: Sequence[NewStack]) -> list[str]:
    """New stacks whose cluster, namespace and bucket names (all derived from customer,
    domain and environment) an existing stack on the same cloud already uses, e.g. a
    consultant's `new customer acme` next to the shipped `acme` examples: both would claim
    one cluster. (Clouds apart, the names live in different accounts and never meet.)"""
    folders = {s.path.parent for s in stacks}
    existing: dict[tuple[str, str], str] = {}
    for folder in folders:
        for name in available_stacks(folder):
            try:
                cfg = load_stack_config(name, folder)
            except ConfigError:
                continue  # an invalid file is reported by plan, not here
            existing.setdefault((cfg.cloud, cfg.naming.base),
                                _display(stack_file(name, folder)))
    return [f"{s.display} would use the names of {existing[key]} ('{s.cfg.naming.base}' "
            f"on {s.cfg.cloud}: cluster, namespaces, buckets)"
            for s in stacks if (key := (s.cfg.cloud, s.cfg.naming.base)) in existing]


def notes(stacks: Sequence[NewStack]) -> list[str]:
    """Cloud-specific hints for the stacks just written."""
    out = []
    contexts = sorted({s.cfg.cluster.kube_context for s in stacks if s.cfg.cluster.kube_context})
    for ctx in contexts:
        out.append(f"cloud local: create the cluster first, e.g. `kind create cluster --name "
                   f"{ctx.removeprefix('kind-')}` (context {ctx}).")
    cidrs = f"`pulumi config set --path '{PROJECT}:cluster.publicAccessCidrs[0]' CIDR -s STACK`"
    platforms = [s.cfg for s in stacks if s.cfg.kind == "platform" and s.cfg.cloud != "local"]
    if any(not c.cluster.public_access_cidrs for c in platforms):
        out.append("The cluster API endpoint is private: run `pulumi up` from inside the "
                   f"network, or allow your CI runners and VPN with {cidrs}.")
    if any(PLACEHOLDER_CIDR in c.cluster.public_access_cidrs for c in platforms):
        out.append(f"cluster.publicAccessCidrs holds the placeholder {PLACEHOLDER_CIDR}: "
                   f"list your CI runners' and VPN's CIDRs instead ({cidrs}).")
    if any(PLACEHOLDER_ALERT_TO in s.text or PLACEHOLDER_SMTP_RELAY in s.text for s in stacks):
        out.append("The prod stacks' alert receivers hold placeholders at example.com, which "
                   "reaches no one: give --alert-email and --smtp-relay, edit the email "
                   "receiver, or use slack, pagerduty or a webhook with its config secret.")
    if not any(s.cfg.apps.model_fields_set for s in stacks if s.cfg.kind == "domain"):
        out.append(f"No app is enabled yet: `pulumi config set --path "
                   f"'{PROJECT}:apps.airflow.enabled' true -s STACK` "
                   f"(apps: {', '.join(APP_CHOICES)}), or pass --apps.")
    return out


def stack_secret_keys() -> list[str]:
    return secret_keys(StackConfig)
