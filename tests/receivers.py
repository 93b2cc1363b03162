"""Alert receivers for the prod configs tests build: a prod stack needs one for its
platform and one per domain (foundation/config/monitoring.py, `receiver_rules`).

`with_receivers(config)` adds what the stack's kind and cluster mode need: the platform
receiver where the stack owns its cluster, the domain's receivers in a domain. Email needs
no config secret, so the configs stay valid offline.
"""

from __future__ import annotations

from typing import Any

EMAIL = {"email": {"to": ["oncall@acme.example"], "from": "alertmanager@acme.example",
                   "smarthost": "smtp.acme.example:587"}}
PLATFORM_RECEIVER = {"platformReceiver": EMAIL}
"""`monitoring:` of a stack that owns its cluster."""
DOMAIN_RECEIVERS = {"receivers": [EMAIL]}
"""`alerting:` of a domain."""


def with_receivers(config: dict[str, Any], *, namespaced: bool = False) -> dict[str, Any]:
    """`config` (keys without `dataplatform:`, or with it when `namespaced`) with the
    receivers a prod stack of its kind needs, merged into its own sections; a dev config
    is returned as is."""
    prefix = "dataplatform:" if namespaced else ""
    out = dict(config)
    if out.get(f"{prefix}profile") != "prod":
        return out
    cluster = out.get(f"{prefix}cluster") or {}
    kind = out.get(f"{prefix}kind", "domain")
    if kind == "platform" or cluster.get("mode") == "dedicated":
        out[f"{prefix}monitoring"] = {**PLATFORM_RECEIVER, **(out.get(f"{prefix}monitoring") or {})}
    if kind == "domain":
        out[f"{prefix}alerting"] = {**DOMAIN_RECEIVERS, **(out.get(f"{prefix}alerting") or {})}
    return out
