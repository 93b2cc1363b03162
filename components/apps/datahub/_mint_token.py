"""Mint a DataHub access token for the lineage emitters, once, and keep it valid.

Runs in the token CronJob (this file is mounted from a ConfigMap; Python standard library
only, so the DataHub ingestion image runs it). Each run:
1. reads Secret `$TOKEN_SECRET` (created empty by Pulumi) through the Kubernetes API;
2. if it holds a token GMS still accepts, stops: the run is a no-op;
3. otherwise asks GMS, as the system client (`Basic <client id>:<client secret>`, the
   credential GMS and the frontend share), for a non-expiring personal access token of
   `$TOKEN_ACTOR`, and writes it into the Secret (RBAC: get/patch on that Secret only).
A revoked or lost token is thus replaced within one schedule period.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
API = "https://kubernetes.default.svc"
ME = "{ me { corpUser { urn } } }"
MINT = ("mutation mint($input: CreateAccessTokenInput!) { createAccessToken(input: $input) "
        "{ accessToken } }")

Http = Callable[[str, str, dict[str, str], bytes | None], tuple[int, bytes]]


def http(method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
    """One request; (status, body). Network errors raise (the Job then retries)."""
    context = ssl.create_default_context(cafile=f"{SA_DIR}/ca.crt") \
        if url.startswith(API) else None
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def graphql(send: Http, gms: str, auth: str, query: str,
            variables: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    status, raw = send("POST", f"{gms}/api/graphql", {
        "Authorization": auth, "Content-Type": "application/json"}, body)
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        return status, {}


def token_works(send: Http, gms: str, token: str) -> bool:
    status, data = graphql(send, gms, f"Bearer {token}", ME)
    if status >= 500:
        raise RuntimeError(f"GMS answered {status}: not ready yet")
    return status == 200 and not data.get("errors") and bool(
        (data.get("data") or {}).get("me"))


def mint(send: Http, gms: str, client_id: str, client_secret: str, actor: str,
         name: str) -> str:
    status, data = graphql(send, gms, f"Basic {client_id}:{client_secret}", MINT, {"input": {
        "type": "PERSONAL", "actorUrn": actor, "duration": "NO_EXPIRY", "name": name,
        "description": "Lineage emitters (Airflow OpenLineage, ingestion CronJobs); managed by "
                       "the platform's token CronJob."}})
    token = ((data.get("data") or {}).get("createAccessToken") or {}).get("accessToken")
    if status != 200 or not token:
        raise RuntimeError(f"GMS refused to mint a token ({status}): {data.get('errors')}")
    return token


def run(environ: dict[str, str], send: Http, sa_token: str, namespace: str) -> str:
    """Ensure the Secret holds a working token; returns what was done."""
    gms, name, key = environ["DATAHUB_GMS_URL"], environ["TOKEN_SECRET"], environ["TOKEN_KEY"]
    secret_url = f"{API}/api/v1/namespaces/{namespace}/secrets/{name}"
    kube = {"Authorization": f"Bearer {sa_token}", "Accept": "application/json"}
    status, raw = send("GET", secret_url, kube, None)
    if status != 200:
        raise RuntimeError(f"cannot read Secret {name} ({status})")
    current = (json.loads(raw).get("data") or {}).get(key)
    if current and token_works(send, gms, base64.b64decode(current).decode()):
        return "kept"
    token = mint(send, gms, environ["DATAHUB_SYSTEM_CLIENT_ID"],
                 environ["DATAHUB_SYSTEM_CLIENT_SECRET"], environ["TOKEN_ACTOR"],
                 f"lineage-{namespace}")
    patch = json.dumps({"data": {key: base64.b64encode(token.encode()).decode()}}).encode()
    status, _ = send("PATCH", secret_url, {
        **kube, "Content-Type": "application/merge-patch+json"}, patch)
    if status != 200:
        raise RuntimeError(f"cannot write Secret {name} ({status})")
    return "minted"


def main() -> int:
    with open(f"{SA_DIR}/token") as f:
        sa_token = f.read().strip()
    with open(f"{SA_DIR}/namespace") as f:
        namespace = f.read().strip()
    try:
        print(f"lineage token: {run(dict(os.environ), http, sa_token, namespace)}")
    except (RuntimeError, OSError) as exc:
        print(f"lineage token: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
