"""Mock outputs of AWS resources: what AWS would add (ids, ARNs, endpoints, certificates).

Everything is derived from the inputs and names (sha256 where an id is needed), so two
runs produce the same plan. The region is the resource's `region` input, else the region
of the last explicit `aws` provider registered (a program has one), else REGION.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from dataplatform.plan.mocks import ACCOUNT_ID

REGION = "eu-west-1"  # when neither the inputs nor a provider say
EKS_PLATFORM_VERSION = "eks.8"
EBS_CSI_VERSION = "v1.48.0-eksbuild.2"
_provider_region: dict[str, str] = {}

Inputs = dict[str, Any]


def _hex(seed: str, n: int, upper: bool = False) -> str:
    h = hashlib.sha256(seed.encode()).hexdigest()
    while len(h) < n:
        h += hashlib.sha256(h.encode()).hexdigest()
    return h[:n].upper() if upper else h[:n]


def _uuid(seed: str) -> str:
    h = _hex(seed, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def _region(inputs: Inputs) -> str:
    return inputs.get("region") or _provider_region.get("region") or REGION


def _seed(kind: str, inputs: Inputs, name: str) -> str:
    """What makes a resource unique beyond its logical name (two stacks, same names)."""
    tags = inputs.get("tags") or {}
    keys = ("cidrBlock", "vpcId", "subnetId", "allocationId", "routeTableId", "description")
    parts = [kind, name, str(tags.get("Name", "")), *(str(inputs.get(k, "")) for k in keys)]
    return "/".join(parts)


def _ec2_id(prefix: str):
    """EC2-style ids: `vpc-0` + 16 hex digits."""
    def fn(inputs: Inputs, name: str) -> Inputs:
        rid = f"{prefix}-0{_hex(_seed(prefix, inputs, name), 16)}"
        arn_type = {"vpc": "vpc", "subnet": "subnet", "igw": "internet-gateway",
                    "rtb": "route-table", "nat": "natgateway",
                    "eipalloc": "elastic-ip"}.get(prefix)
        out = {"id": rid, "ownerId": ACCOUNT_ID, "region": _region(inputs)}
        if arn_type:
            out["arn"] = f"arn:aws:ec2:{_region(inputs)}:{ACCOUNT_ID}:{arn_type}/{rid}"
        return out
    return fn


def _vpc(inputs: Inputs, name: str) -> Inputs:
    out = _ec2_id("vpc")(inputs, name)
    out["defaultSecurityGroupId"] = f"sg-0{_hex(f'vpc-sg/{name}', 16)}"
    out["mainRouteTableId"] = f"rtb-0{_hex(f'vpc-rtb/{name}', 16)}"
    return out


def _subnet(inputs: Inputs, name: str) -> Inputs:
    out = _ec2_id("subnet")(inputs, name)
    az = inputs.get("availabilityZone") or f"{_region(inputs)}a"
    out["availabilityZoneId"] = f"{_zone_prefix(az[:-1])}-az{ord(az[-1]) - ord('a') + 1}"
    return out


def _eip(inputs: Inputs, name: str) -> Inputs:
    out = _ec2_id("eipalloc")(inputs, name)
    h = hashlib.sha256(_seed("eip", inputs, name).encode()).digest()
    out.update(allocationId=out["id"], publicIp=f"52.{h[0] % 64 + 16}.{h[1]}.{max(h[2], 1)}",
               domain=inputs.get("domain", "vpc"))
    return out


def _nat(inputs: Inputs, name: str) -> Inputs:
    out = _ec2_id("nat")(inputs, name)
    out["connectivityType"] = inputs.get("connectivityType", "public")
    return out


def _iam_role(inputs: Inputs, name: str) -> Inputs:
    role = inputs.get("name") or name
    return {"id": role, "name": role, "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{role}",
            "uniqueId": f"AROA{_hex(f'role/{role}', 17, upper=True)}"}


def _attachment(inputs: Inputs, name: str) -> Inputs:
    return {"id": f"{inputs.get('role', name)}-{_hex(f'attach/{name}', 20)}"}


def _kms_key(inputs: Inputs, name: str) -> Inputs:
    key_id = _uuid(_seed("kms", inputs, name))
    return {"id": key_id, "keyId": key_id, "region": _region(inputs),
            "arn": f"arn:aws:kms:{_region(inputs)}:{ACCOUNT_ID}:key/{key_id}",
            "rotationPeriodInDays": inputs.get("rotationPeriodInDays", 365)}


def _log_group(inputs: Inputs, name: str) -> Inputs:
    group = inputs.get("name") or name
    return {"id": group, "name": group,
            "arn": f"arn:aws:logs:{_region(inputs)}:{ACCOUNT_ID}:log-group:{group}"}


def _ca_data(seed: str) -> str:
    body = base64.b64encode(hashlib.sha512(seed.encode()).digest() * 6).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    pem = "\n".join(["-----BEGIN CERTIFICATE-----", *lines, "-----END CERTIFICATE-----", ""])
    return base64.b64encode(pem.encode()).decode()


def _eks_cluster(inputs: Inputs, name: str) -> Inputs:
    cluster, region = inputs.get("name") or name, _region(inputs)
    oidc_id = _hex(f"oidc/{region}/{cluster}", 32, upper=True)
    vpc_config = dict(inputs.get("vpcConfig") or {})
    vpc_config.setdefault("vpcId", f"vpc-0{_hex(f'vpc/{cluster}', 16)}")
    vpc_config["clusterSecurityGroupId"] = f"sg-0{_hex(f'eks-sg/{cluster}', 16)}"
    return {
        "id": cluster, "name": cluster, "region": region, "clusterId": _uuid(f"eks/{cluster}"),
        "arn": f"arn:aws:eks:{region}:{ACCOUNT_ID}:cluster/{cluster}",
        "endpoint": f"https://{_hex(f'eks/{region}/{cluster}', 32, upper=True)}"
                    f".gr7.{region}.eks.amazonaws.com",
        "certificateAuthority": {"data": _ca_data(f"ca/{cluster}")},
        "identities": [{"oidcs": [{
            "issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{oidc_id}"}]}],
        "version": inputs.get("version") or "1.33",
        "platformVersion": EKS_PLATFORM_VERSION,
        "status": "ACTIVE",
        "vpcConfig": vpc_config,
    }


def _node_group(inputs: Inputs, name: str) -> Inputs:
    cluster, group = inputs.get("clusterName", "cluster"), inputs.get("nodeGroupName") or name
    region = _region(inputs)
    return {"id": f"{cluster}:{group}", "nodeGroupName": group, "status": "ACTIVE",
            "arn": f"arn:aws:eks:{region}:{ACCOUNT_ID}:nodegroup/{cluster}/{group}/"
                   f"{_uuid(f'ng/{cluster}/{group}')}",
            "resources": [{"autoscalingGroups": [
                {"name": f"eks-{group}-{_uuid(f'asg/{cluster}/{group}')}"}]}]}


def _addon(inputs: Inputs, name: str) -> Inputs:
    cluster, addon = inputs.get("clusterName", "cluster"), inputs.get("addonName", name)
    return {"id": f"{cluster}:{addon}", "addonVersion": inputs.get("addonVersion")
            or EBS_CSI_VERSION,
            "arn": f"arn:aws:eks:{_region(inputs)}:{ACCOUNT_ID}:addon/{cluster}/{addon}/"
                   f"{_uuid(f'addon/{cluster}/{addon}')}"}


def _oidc_provider(inputs: Inputs, name: str) -> Inputs:
    host = (inputs.get("url") or f"oidc.example/{name}").removeprefix("https://")
    arn = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}"
    return {"id": arn, "arn": arn}


def _aws_provider(inputs: Inputs, name: str) -> Inputs:
    """Not an output: remembers the program's region for the resources that follow."""
    if inputs.get("region"):
        _provider_region["region"] = inputs["region"]
    return {}


OUTPUTS = {
    "pulumi:providers:aws": _aws_provider,
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _subnet,
    "aws:ec2/internetGateway:InternetGateway": _ec2_id("igw"),
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/natGateway:NatGateway": _nat,
    "aws:ec2/routeTable:RouteTable": _ec2_id("rtb"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _ec2_id("rtbassoc"),
    "aws:iam/role:Role": _iam_role,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _attachment,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:kms/key:Key": _kms_key,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:eks/addon:Addon": _addon,
}

_DIRECTIONS = {"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
               "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}


def _zone_prefix(region: str) -> str:
    """`eu-west-1` -> `euw1`, `ap-southeast-2` -> `apse2` (AWS zone-id style)."""
    parts = region.split("-")
    if len(parts) < 3:
        return region
    return parts[0] + _DIRECTIONS.get(parts[1], parts[1][:1]) + "".join(parts[2:])


def _availability_zones(args: Inputs) -> Inputs:
    region = _region(args)
    names = [f"{region}{s}" for s in "abc"]
    return {"id": region, "names": names, "groupNames": [region] * 3,
            "zoneIds": [f"{_zone_prefix(region)}-az{i}" for i in (1, 2, 3)],
            "state": args.get("state")}


def _caller_identity(args: Inputs) -> Inputs:
    return {"id": ACCOUNT_ID, "accountId": ACCOUNT_ID,
            "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/pulumi-deployer",
            "userId": f"AIDA{_hex('caller', 17, upper=True)}"}


def _region_call(args: Inputs) -> Inputs:
    region = _region(args)
    return {"id": region, "name": region, "region": region,
            "endpoint": f"ec2.{region}.amazonaws.com", "description": region}


def _partition(args: Inputs) -> Inputs:
    return {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com",
            "reverseDnsPrefix": "com.amazonaws"}


CALLS = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getRegion:getRegion": _region_call,
    "aws:index/getPartition:getPartition": _partition,
}
