"""Mock outputs of GCP resources: what Google would add (ids, self links, endpoints).

Everything is derived from the inputs and names (sha256 where a number or address is
needed), so two runs produce the same plan.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from typing import Any

from dataplatform.plan.mocks import GCP_PROJECT

REGION = "europe-west1"  # when neither the inputs nor the location say
COMPUTE = "https://www.googleapis.com/compute/v1"
CONTAINER = "https://container.googleapis.com/v1"
GKE_VERSION = "1.33.5-gke.1080000"


def _digits(seed: str, n: int) -> str:
    """n deterministic decimal digits, not starting with 0."""
    value = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return str(10 ** (n - 1) + value % (9 * 10 ** (n - 1)))


def _ip(seed: str, prefix: str = "34.78") -> str:
    h = hashlib.sha256(seed.encode()).digest()
    return f"{prefix}.{h[0]}.{max(h[1], 1)}"


def _project(inputs: dict[str, Any]) -> str:
    return inputs.get("project") or GCP_PROJECT


def _last(ref: str) -> str:
    return ref.rstrip("/").rsplit("/", 1)[-1]


def _network(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    n, p = inputs.get("name") or name, _project(inputs)
    return {"id": f"projects/{p}/global/networks/{n}", "name": n,
            "selfLink": f"{COMPUTE}/projects/{p}/global/networks/{n}",
            "numericId": _digits(f"network/{p}/{n}", 19)}


def _regional(collection: str):
    def fn(inputs: dict[str, Any], name: str) -> dict[str, Any]:
        n, p, r = inputs.get("name") or name, _project(inputs), inputs.get("region") or REGION
        out = {"id": f"projects/{p}/regions/{r}/{collection}/{n}", "name": n, "region": r,
               "selfLink": f"{COMPUTE}/projects/{p}/regions/{r}/{collection}/{n}"}
        if collection == "subnetworks" and inputs.get("ipCidrRange"):
            net = ipaddress.ip_network(inputs["ipCidrRange"])
            out["gatewayAddress"] = str(net.network_address + 1)
        return out
    return fn


def _router_nat(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    n, p, r = inputs.get("name") or name, _project(inputs), inputs.get("region") or REGION
    return {"id": f"{p}/{r}/{_last(inputs.get('router', 'router'))}/{n}", "name": n}


_CA_PEM = (b"-----BEGIN CERTIFICATE-----\nMIIELTCCApWgAwIBAgIRAMockGkeClusterCaCertificate"
           b"==\n-----END CERTIFICATE-----\n")


def _cluster(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    n, p = inputs.get("name") or name, _project(inputs)
    loc = inputs.get("location") or REGION
    endpoint = _ip(f"cluster/{p}/{loc}/{n}")
    private = dict(inputs.get("privateClusterConfig") or {})
    if private.get("masterIpv4CidrBlock"):
        master = ipaddress.ip_network(private["masterIpv4CidrBlock"])
        private["privateEndpoint"] = str(master.network_address + 2)
    private["publicEndpoint"] = endpoint
    return {
        "id": f"projects/{p}/locations/{loc}/clusters/{n}", "name": n, "location": loc,
        "selfLink": f"{CONTAINER}/projects/{p}/locations/{loc}/clusters/{n}",
        "endpoint": endpoint,
        "masterAuth": {"clusterCaCertificate": base64.b64encode(_CA_PEM).decode(),
                       "clientCertificateConfig": {"issueClientCertificate": False}},
        "masterVersion": inputs.get("minMasterVersion") or GKE_VERSION,
        "privateClusterConfig": private,
        "labelFingerprint": hashlib.sha256(n.encode()).hexdigest()[:8],
    }


def _node_pool(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    n, p = inputs.get("name") or name, _project(inputs)
    loc = inputs.get("location") or REGION
    cluster = _last(inputs.get("cluster") or "cluster")
    group = f"gke-{cluster}-{n}-{hashlib.sha256(f'{cluster}/{n}'.encode()).hexdigest()[:8]}-grp"
    zone = loc if loc.count("-") == 2 else f"{loc}-b"
    return {
        "id": f"projects/{p}/locations/{loc}/clusters/{cluster}/nodePools/{n}", "name": n,
        "version": GKE_VERSION,
        "instanceGroupUrls": [f"{COMPUTE}/projects/{p}/zones/{zone}/instanceGroupManagers/"
                              f"{group}"],
        "managedInstanceGroupUrls": [f"{COMPUTE}/projects/{p}/zones/{zone}/instanceGroups/"
                                     f"{group}"],
    }


def _key_ring(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    n, p = inputs.get("name") or name, _project(inputs)
    return {"id": f"projects/{p}/locations/{inputs.get('location') or REGION}/keyRings/{n}",
            "name": n}


def _crypto_key(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    n, ring = inputs.get("name") or name, inputs.get("keyRing") or ""
    if not ring.startswith("projects/"):
        ring = f"projects/{GCP_PROJECT}/locations/{REGION}/keyRings/{ring or 'ring'}"
    return {"id": f"{ring}/cryptoKeys/{n}", "name": n, "primary": [{
        "name": f"{ring}/cryptoKeys/{n}/cryptoKeyVersions/1", "state": "ENABLED"}]}


def _etag(seed: str) -> str:
    return "BwY" + base64.b64encode(hashlib.sha256(seed.encode()).digest()[:6]).decode()


def _key_member(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    key, role, member = inputs.get("cryptoKeyId"), inputs.get("role"), inputs.get("member")
    return {"id": f"{key}/{role}/{member}", "etag": _etag(f"{key}/{role}/{member}")}


def _project_member(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    p, role, member = _project(inputs), inputs.get("role"), inputs.get("member")
    return {"id": f"{p}/{role}/{member}", "etag": _etag(f"{p}/{role}/{member}")}


def _account(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    p = _project(inputs)
    email = f"{inputs.get('accountId') or name}@{p}.iam.gserviceaccount.com"
    return {"id": f"projects/{p}/serviceAccounts/{email}", "email": email,
            "name": f"projects/{p}/serviceAccounts/{email}",
            "member": f"serviceAccount:{email}", "uniqueId": _digits(email, 21)}


def _get_project(args: dict[str, Any]) -> dict[str, Any]:
    p = args.get("projectId") or GCP_PROJECT
    return {"id": f"projects/{p}", "projectId": p, "name": p, "number": _digits(p, 12),
            "labels": {}, "effectiveLabels": {}}


OUTPUTS = {
    "gcp:compute/network:Network": _network,
    "gcp:compute/subnetwork:Subnetwork": _regional("subnetworks"),
    "gcp:compute/router:Router": _regional("routers"),
    "gcp:compute/routerNat:RouterNat": _router_nat,
    "gcp:container/cluster:Cluster": _cluster,
    "gcp:container/nodePool:NodePool": _node_pool,
    "gcp:kms/keyRing:KeyRing": _key_ring,
    "gcp:kms/cryptoKey:CryptoKey": _crypto_key,
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": _key_member,
    "gcp:projects/iAMMember:IAMMember": _project_member,
    "gcp:serviceaccount/account:Account": _account,
}

CALLS = {
    "gcp:organizations/getProject:getProject": _get_project,
}
