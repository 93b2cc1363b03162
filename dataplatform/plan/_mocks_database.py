"""Mock outputs of the managed metadata databases: RDS (with its subnet, parameter and
security groups) and Cloud SQL (with private services access): endpoints, ARNs, ids,
private addresses. KMS keys and aliases are the aws/lake areas' (`_mocks_aws`,
`_mocks_lake`), not repeated here.

Everything is derived from the inputs and names (sha256 where a number, an id or an
address is needed), so two runs produce the same plan.
"""

from __future__ import annotations

import hashlib
from typing import Any

from dataplatform.plan.mocks import ACCOUNT_ID, GCP_PROJECT

AWS_REGION = "eu-west-1"  # when neither the inputs nor the program's aws provider say
GCP_REGION = "europe-west1"
COMPUTE = "https://www.googleapis.com/compute/v1"
SQLADMIN = "https://sqladmin.googleapis.com/sql/v1beta4"
RDS_PORT = 5432
# What RDS reports as the running version when only the major version is pinned.
RDS_MINOR = {"13": "13.20", "14": "14.17", "15": "15.12", "16": "16.8", "17": "17.4"}


def _hash(seed: str) -> bytes:
    return hashlib.sha256(seed.encode()).digest()


def _hex(seed: str, n: int) -> str:
    return _hash(seed).hex()[:n]


def _upper(seed: str, n: int) -> str:
    """n characters of [A-Z0-9], like RDS resource ids."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    value = int.from_bytes(_hash(seed), "big")
    out = []
    for _ in range(n):
        value, i = divmod(value, len(alphabet))
        out.append(alphabet[i])
    return "".join(out)


def _region(inputs: dict[str, Any], default: str) -> str:
    return inputs.get("region") or default


def _aws_region(inputs: dict[str, Any]) -> str:
    """The inputs' region, else the program's aws provider's (noted by the aws area)."""
    try:
        from dataplatform.plan._mocks_aws import _provider_region
    except ImportError:
        return _region(inputs, AWS_REGION)
    return inputs.get("region") or _provider_region.get("region") or AWS_REGION


def _arn(service: str, region: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{resource}"


def _rds_instance(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    ident, region = inputs.get("identifier") or name, _aws_region(inputs)
    port = int(inputs.get("port") or RDS_PORT)
    address = f"{ident}.{_hex(f'rds/{region}', 12)}.{region}.rds.amazonaws.com"
    major = str(inputs.get("engineVersion") or "16").split(".")[0]
    resource_id = f"db-{_upper(f'rds/{region}/{ident}', 26)}"
    return {"id": resource_id, "identifier": ident, "resourceId": resource_id,
            "address": address, "endpoint": f"{address}:{port}", "port": port,
            "arn": _arn("rds", region, f"db:{ident}"),
            "engineVersionActual": RDS_MINOR.get(major, f"{major}.1"),
            "status": "available"}


def _rds_named(kind: str):
    def fn(inputs: dict[str, Any], name: str) -> dict[str, Any]:
        n, region = inputs.get("name") or name, _aws_region(inputs)
        return {"id": n, "name": n, "arn": _arn("rds", region, f"{kind}:{n}")}
    return fn


def _security_group(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    n, region = inputs.get("name") or name, _aws_region(inputs)
    vpc = inputs.get("vpcId") or "vpc"
    sg = f"sg-{_hex(f'sg/{region}/{vpc}/{n}', 17)}"
    return {"id": sg, "name": n, "ownerId": ACCOUNT_ID,
            "arn": _arn("ec2", region, f"security-group/{sg}")}


def _ip(seed: str) -> str:
    h = _hash(seed)
    return f"10.{h[0]}.{h[1]}.{max(h[2], 2)}"


def _sql_instance(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    n = inputs.get("name") or name
    p, r = inputs.get("project") or GCP_PROJECT, _region(inputs, GCP_REGION)
    private_ip = _ip(f"sql/{p}/{r}/{n}")
    return {"id": n, "name": n, "project": p, "region": r,
            "connectionName": f"{p}:{r}:{n}",
            "selfLink": f"{SQLADMIN}/projects/{p}/instances/{n}",
            "privateIpAddress": private_ip, "firstIpAddress": private_ip,
            "publicIpAddress": "",
            "ipAddresses": [{"ipAddress": private_ip, "type": "PRIVATE"}],
            "serviceAccountEmailAddress":
                f"p{int(_hex(p, 10), 16) % 10**12}-{_hex(n, 6)}@gcp-sa-cloud-sql.iam"
                ".gserviceaccount.com"}


def _sql_database(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    n, p = inputs.get("name") or name, inputs.get("project") or GCP_PROJECT
    inst = inputs.get("instance") or "instance"
    path = f"projects/{p}/instances/{inst}/databases/{n}"
    return {"id": path, "name": n, "selfLink": f"{SQLADMIN}/{path}"}


def _sql_user(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    # Postgres users have no host: the id is `<name>//<instance>`.
    n = inputs.get("name") or name
    return {"id": f"{n}//{inputs.get('instance') or 'instance'}", "name": n}


def _global_address(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    n, p = inputs.get("name") or name, inputs.get("project") or GCP_PROJECT
    h = _hash(f"address/{p}/{n}")
    return {"id": f"projects/{p}/global/addresses/{n}", "name": n,
            "selfLink": f"{COMPUTE}/projects/{p}/global/addresses/{n}",
            "address": f"10.{100 + h[0] % 100}.{(h[1] % 16) * 16}.0"}


def _peering(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    network = inputs.get("network") or "network"
    service = inputs.get("service") or "servicenetworking.googleapis.com"
    return {"id": f"{network}:{service}", "peering": service.replace(".", "-")}


OUTPUTS = {
    "aws:rds/instance:Instance": _rds_instance,
    "aws:rds/subnetGroup:SubnetGroup": _rds_named("subgrp"),
    "aws:rds/parameterGroup:ParameterGroup": _rds_named("pg"),
    "aws:ec2/securityGroup:SecurityGroup": _security_group,
    "gcp:sql/databaseInstance:DatabaseInstance": _sql_instance,
    "gcp:sql/database:Database": _sql_database,
    "gcp:sql/user:User": _sql_user,
    "gcp:compute/globalAddress:GlobalAddress": _global_address,
    "gcp:servicenetworking/connection:Connection": _peering,
}
