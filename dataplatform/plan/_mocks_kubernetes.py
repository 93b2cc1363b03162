"""Mock outputs of Kubernetes resources: what the API server adds to an object."""

from __future__ import annotations

import hashlib
from typing import Any


def _object(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    meta = dict(inputs.get("metadata") or {})
    meta.setdefault("name", name)
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    meta.setdefault("uid", f"00000000-0000-4000-8000-{digest}")
    ns = meta.get("namespace")
    return {"metadata": meta, "id": f"{ns}/{meta['name']}" if ns else meta["name"]}


def _release(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    release = inputs.get("name") or name
    return {
        "id": f"{inputs.get('namespace', 'default')}/{release}",
        "status": {"name": release, "namespace": inputs.get("namespace"), "status": "deployed",
                   "revision": 1, "chart": inputs.get("chart"),
                   "version": inputs.get("version")},
    }


OUTPUTS = {
    "kubernetes:helm.sh/v3:Release": _release,
}
# Every other Kubernetes kind gets API-server metadata; filled lazily by prefix.
PREFIX_OUTPUTS = {"kubernetes:": _object}
