"""Shared by the observability tests: the local stack's names, the resource types they look
up, and the receivers (secrets as ciphertext) planned on top of the local stack."""

from __future__ import annotations

from typing import Any

# The local stack's top component name, which is also its domain namespace.
TOP = NS = "acme-marketing-dev"
SECRET_T = "kubernetes:core/v1:Secret"
AMC = "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig"
ENC = {"secure": "v1:bm90LWEtcmVhbC1jaXBoZXJ0ZXh0"}
RECEIVERS = {
    "alerting": {"receivers": [
        {"slack": {"webhookUrl": ENC, "channel": "#marketing-data"}},
        {"email": {"to": ["data-oncall@acme.io"], "from": "alerts@acme.io",
                   "smarthost": "smtp.acme.io:587", "username": "alerts",
                   "password": ENC}},
        {"pagerduty": {"routingKey": ENC}},
        {"webhook": {"url": ENC}}]},
    "monitoring": {"platformReceiver": {"slack": {"webhookUrl": ENC,
                                                  "channel": "#platform"}}},
}


def walk(value: Any) -> list[Any]:
    """Every leaf of nested dicts and lists."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in walk(v)]
    if isinstance(value, list):
        return [x for v in value for x in walk(v)]
    return [value]
