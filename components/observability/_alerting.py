"""Receivers from the stack config, as Alertmanager sees them; secrets only by reference.

Two forms of the same receiver:
- the platform team's, in the Alertmanager's own configuration (`alertmanager.config` of the
  chart): secrets are files (`api_url_file`, `auth_password_file`, `routing_key_file`,
  `url_file`: Alertmanager >= 0.26, the chart pins 0.34) mounted from a Secret
  listed in `alertmanager.alertmanagerSpec.secrets` (at /etc/alertmanager/secrets/<name>/);
- a domain's, in an AlertmanagerConfig (monitoring.coreos.com/v1alpha1) in the domain's
  namespace: secrets are Secret key references the operator resolves (`apiURL`,
  `authPassword`, `routingKey`, `urlSecret` of the v1alpha1 CRD).
The secret values come from the stack's config secrets (`config_secret`), into a Kubernetes
Secret created by the caller; Helm values and the AlertmanagerConfig only name it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from foundation.config.monitoring import EmailReceiver, Receiver
from foundation.config.secrets import config_secret

SECRETS_MOUNT = "/etc/alertmanager/secrets"
SLACK_TITLE = ('[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}'
               '{{ with .CommonLabels.domain }} ({{ . }}){{ end }}')
SLACK_TEXT = ('{{ range .Alerts }}*{{ .Labels.severity }}* {{ .Annotations.summary }}\n'
              '{{ .Annotations.runbook_url }}\n{{ end }}')

SECRET_FIELDS: dict[str, tuple[str, str]] = {
    "slack": ("slack-webhook-url", "slack.webhookUrl"),
    "email": ("smtp-password", "email.password"),
    "pagerduty": ("pagerduty-routing-key", "pagerduty.routingKey"),
    "webhook": ("webhook-url", "webhook.url"),
}
"""Receiver kind -> (key in the receivers' Secret, config path below the receiver)."""


def secret_key(receiver: Receiver, index: int | None = None) -> str | None:
    """Key of the receiver's secret in the receivers' Secret (None: it has none)."""
    if receiver.email and not receiver.email.password:
        return None
    key = SECRET_FIELDS[receiver.kind][0]
    return key if index is None else f"{key}-{index}"


def _config_path(receiver: Receiver, prefix: str) -> str:
    return f"{prefix}.{SECRET_FIELDS[receiver.kind][1]}"


def secret_data(receivers: Sequence[tuple[Receiver, str, int | None]]
                ) -> dict[str, pulumi.Output[str]]:
    """Secret keys -> decrypted config secrets, for (receiver, config path, index) triples."""
    return {key: config_secret(_config_path(r, prefix))
            for r, prefix, index in receivers if (key := secret_key(r, index))}


def _email(receiver: Receiver) -> EmailReceiver:
    """The email integration of a receiver of kind email."""
    if receiver.email is None:
        raise ValueError(f"a {receiver.kind} receiver has no email settings")
    return receiver.email


def alertmanager_receiver(name: str, receiver: Receiver | None, secret: str | None
                          ) -> dict[str, Any]:
    """A receiver of the Alertmanager configuration (snake_case, secrets as files)."""
    out: dict[str, Any] = {"name": name}
    if receiver is None:
        return out  # no integration: the alerts stay visible in Alertmanager and Grafana
    key = secret_key(receiver)
    path = f"{SECRETS_MOUNT}/{secret}/{key}" if key else None
    if receiver.slack:
        slack = {"api_url_file": path, "send_resolved": True, "title": SLACK_TITLE,
                 "text": SLACK_TEXT}
        if receiver.slack.channel:
            slack["channel"] = receiver.slack.channel
        out["slack_configs"] = [slack]
    elif receiver.pagerduty:
        out["pagerduty_configs"] = [{"routing_key_file": path, "send_resolved": True}]
    elif receiver.webhook:
        out["webhook_configs"] = [{"url_file": path, "send_resolved": True}]
    else:
        e = _email(receiver)
        email = {"to": ", ".join(e.to), "from": e.from_address, "smarthost": e.smarthost,
                 "require_tls": e.require_tls, "send_resolved": True}
        if e.username:
            email.update(auth_username=e.username, auth_password_file=path)
        out["email_configs"] = [email]
    return out


def alertmanager_config_spec(domain: str, receivers: Sequence[Receiver], secret: str
                             ) -> dict[str, Any]:
    """Spec of a domain's AlertmanagerConfig: its alerts to all its receivers.

    One Alertmanager receiver holds every integration of the domain, so each alert is sent
    once to each channel. The route matches `domain` and `notify=domain`; the operator puts
    it before the platform's routes with continue: true, and the platform's tree then drops
    `notify=domain` alerts (charts-values/kube-prometheus-stack/values.yaml).
    """
    slack, email, pagerduty, webhook = [], [], [], []
    for i, r in enumerate(receivers):
        ref = {"name": secret, "key": secret_key(r, i)}
        if r.slack:
            cfg = {"apiURL": ref, "sendResolved": True, "title": SLACK_TITLE,
                   "text": SLACK_TEXT}
            if r.slack.channel:
                cfg["channel"] = r.slack.channel
            slack.append(cfg)
        elif r.pagerduty:
            pagerduty.append({"routingKey": ref, "sendResolved": True})
        elif r.webhook:
            webhook.append({"urlSecret": ref, "sendResolved": True})
        else:
            e = _email(r)
            cfg = {"to": ", ".join(e.to), "from": e.from_address, "smarthost": e.smarthost,
                   "requireTLS": e.require_tls, "sendResolved": True}
            if e.username:
                cfg.update(authUsername=e.username, authPassword=ref)
            email.append(cfg)
    receiver: dict[str, Any] = {"name": domain}
    if slack:
        receiver["slackConfigs"] = slack
    if email:
        receiver["emailConfigs"] = email
    if pagerduty:
        receiver["pagerdutyConfigs"] = pagerduty
    if webhook:
        receiver["webhookConfigs"] = webhook
    return {
        "route": {
            "receiver": domain,
            "matchers": [{"name": "domain", "value": domain, "matchType": "="},
                         {"name": "notify", "value": "domain", "matchType": "="}],
            "groupBy": ["alertname", "namespace"],
            "groupWait": "30s", "groupInterval": "5m", "repeatInterval": "4h",
        },
        "receivers": [receiver],
    }
