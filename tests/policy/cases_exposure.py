"""Compliant and violating cases for what extra apps and patches can bring in: IAM
wildcards, security groups and allow lists judged by coverage, cluster-admin, public
bucket grants, public databases, and prod protection of volumes, EFS and Aurora. Each
case goes through the real pack over gRPC (see test_policies.py).

Property names are the providers' input names as the engine sends them (camelCase).
"""

from __future__ import annotations

import json

from cases_data import cloudsql, rds
from cases_platform import container, eks, gke, pod, workload
from cases_pods import RELEASE_URN, deployment, priv, rendered
from policy_helpers import AWS, GCP, STACK, bad, ok, res

# IAM ----------------------------------------------------------------------------------
IAM = "iam-no-wildcards"
READ = {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject"],
        "Resource": ["arn:aws:s3:::acme-raw/*"]}


def doc(*statements, as_json: bool = True):
    d = {"Version": "2012-10-17", "Statement": list(statements)}
    return json.dumps(d) if as_json else d


def stmt(**kw):
    return {**READ, **kw}


def iam(type_="aws:iam/policy:Policy", *statements, as_json=True, **inputs):
    return res(type_, "app-policy", {"name": "app", "policy": doc(*statements, as_json=as_json),
                                     **inputs}, provider=AWS)


ROLE = "aws:iam/role:Role"
IRSA_TRUST = doc({"Effect": "Allow", "Principal": {
    "Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.example.com/id/X"},
    "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringEquals": {
        "oidc.eks.example.com/id/X:sub": "system:serviceaccount:data:app"}}})


def role(**inputs):
    return res(ROLE, "app-role", {"assumeRolePolicy": IRSA_TRUST, **inputs}, provider=AWS)


ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

# Security groups ----------------------------------------------------------------------
SG_RULES = "security-group-not-public"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def sg(*cidrs, ipv6=(), name="app-sg"):
    ingress = [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": list(cidrs),
                "ipv6CidrBlocks": list(ipv6)}] if cidrs or ipv6 else []
    return res(SG, name, {"vpcId": "vpc-1", "ingress": ingress,
                          "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0,
                                      "cidrBlocks": ["0.0.0.0/0"]}]}, provider=AWS)


def sg_rule(name, *cidrs, type_="ingress", group=None, ipv6=()):
    return res(SG_RULE, name, {"type": type_, "protocol": "tcp", "fromPort": 22, "toPort": 22,
                               "cidrBlocks": list(cidrs), "ipv6CidrBlocks": list(ipv6),
                               "securityGroupId": "sg-0abc"},
               provider=AWS, depends_on=(group,) if group else ())


def vpc_ingress(name, v4=None, v6=None, group_id="sg-0abc"):
    inputs = {"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "securityGroupId": group_id}
    inputs.update({k: v for k, v in (("cidrIpv4", v4), ("cidrIpv6", v6)) if v})
    return res(SG_INGRESS, name, inputs, provider=AWS)


base_sg = sg()
SIXTEEN_SLASH_4 = [f"{16 * i}.0.0.0/4" for i in range(16)]

# Allow lists by coverage (EKS, GKE, Cloud SQL) ----------------------------------------
ENDPOINT = "cluster-endpoint-restricted"


def eks_cidrs(*cidrs):
    return eks(vpcConfig={"endpointPrivateAccess": True, "endpointPublicAccess": True,
                          "publicAccessCidrs": list(cidrs)})


def gke_cidrs(*cidrs):
    return gke(masterAuthorizedNetworksConfig={
        "cidrBlocks": [{"cidrBlock": c, "displayName": f"n{i}"} for i, c in enumerate(cidrs)],
        "gcpPublicCidrsAccessEnabled": False})


def sql_networks(*cidrs, ipv4=False):
    return cloudsql(ipConfiguration={"ipv4Enabled": ipv4, "privateNetwork": "projects/p/vpc",
                                     "authorizedNetworks": [{"value": c} for c in cidrs]})


# cluster-admin ------------------------------------------------------------------------
ADMIN = "k8s-no-cluster-admin"
RBAC = "rbac.authorization.k8s.io/v1"


def binding(kind="ClusterRoleBinding", ref=("ClusterRole", "view"), subjects=None, api=RBAC):
    subjects = subjects or [{"kind": "ServiceAccount", "name": "app", "namespace": "data"}]
    body = {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": ref[0],
                        "name": ref[1]}, "subjects": subjects}
    return rendered(f"{api}:{kind}", "app", body, ns="data" if kind == "RoleBinding" else None)


def role_rules(kind="ClusterRole", *rules, api=RBAC):
    return rendered(f"{api}:{kind}", "app", {"rules": list(rules)},
                    ns="data" if kind == "Role" else None)


READ_PODS = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
EVERYTHING = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}

# Public buckets -----------------------------------------------------------------------
GRANTS = "bucket-no-public-grants"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
TLS_ONLY = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
            "Action": "s3:*", "Resource": ["arn:aws:s3:::acme-raw/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
PUBLIC_READ = {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
               "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-raw/*"}


def bucket_policy(*statements):
    return res(BUCKET_POLICY, "raw-policy", {"bucket": "acme-raw", "policy": doc(*statements)},
               provider=AWS)


def acl(type_="aws:s3/bucketAclV2:BucketAclV2", **inputs):
    return res(type_, "raw-acl", {"bucket": "acme-raw", **inputs}, provider=AWS)


def public_access_block(type_="aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", **flags):
    names = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    inputs = {f: flags.get(f, True) for f in names}
    if "bucket" in type_.lower():
        inputs["bucket"] = "acme-raw"
    return res(type_, "pab", inputs, provider=AWS)


def gcs_member(member, type_="gcp:storage/bucketIAMMember:BucketIAMMember", field="member"):
    return res(type_, "member", {"bucket": "acme-raw", "role": "roles/storage.objectViewer",
                                 field: member}, provider=GCP)


def gcs_policy(*members):
    data = json.dumps({"bindings": [{"role": "roles/storage.objectViewer",
                                     "members": list(members)}]})
    return res("gcp:storage/bucketIAMPolicy:BucketIAMPolicy", "policy",
               {"bucket": "acme-raw", "policyData": data}, provider=GCP)


# Public databases, final snapshots ----------------------------------------------------
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
AURORA = "aws:rds/cluster:Cluster"


def aurora(**inputs):
    base = {"engine": "aurora-postgresql", "deletionProtection": True, "storageEncrypted": True,
            "skipFinalSnapshot": False, "finalSnapshotIdentifier": "aurora-final",
            "backupRetentionPeriod": 7}
    return res(AURORA, "aurora", {**base, **inputs}, provider=AWS, protect=True, retain=True)


# Prod protection of volumes and EFS ---------------------------------------------------
VOLUMES = "prod-volumes-retained"
DATA = "prod-data-protected"
EFS = "aws:efs/fileSystem:FileSystem"
APPLICATION_URN = (f"urn:pulumi:{STACK}::dataplatform::"
                   "kubernetes:argoproj.io/v1alpha1:Application::airflow")


def pvc(annotations=None, parent=None, **kept):
    body = {"spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "10Gi"}}}}
    r = rendered("core/v1:PersistentVolumeClaim", "data", body, parent=parent)
    if annotations:
        r.inputs["metadata"]["annotations"] = annotations
    if kept:
        from dataclasses import replace
        r = replace(r, protect=kept.get("protect", False), retain_on_delete=kept.get(
            "retain", False))
    return r


def stateful(when_deleted=None, protect=False, api="apps/v1", kind="StatefulSet"):
    spec = {"serviceName": "db", "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}}]}
    if when_deleted:
        spec["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": when_deleted,
                                                        "whenScaled": "Retain"}
    r = rendered(f"{api}:{kind}", "db", {"spec": spec}, parent=None)
    if protect:
        from dataclasses import replace
        r = replace(r, protect=True)
    return r


# Pods: digests by their form, local volumes, strings, more ways into the node --------
PINNED = "k8s-image-pinned"
HEX = "0123456789abcdef" * 4
PV = "kubernetes:core/v1:PersistentVolume"


def image(ref):
    return workload(containers=[container(image=ref)])


def pv(type_=PV, **spec):
    return res(type_, "pv", {"spec": {"capacity": {"storage": "10Gi"}, **spec}})


argocd_controller = role_rules("ClusterRole", EVERYTHING)
argocd_controller.inputs["metadata"]["name"] = "argocd-application-controller"

efs_kept = res(EFS, "shared", {"encrypted": True}, provider=AWS, protect=True, retain=True)

CASES = [
    ok(PINNED, "sha256-digest", image(f"ghcr.io/acme/app@sha256:{HEX}")),
    ok(PINNED, "tag-and-digest", image(f"ghcr.io/acme/app:1.2@sha256:{HEX}")),
    ok(PINNED, "sha512-digest", image(f"ghcr.io/acme/app@sha512:{HEX * 2}")),
    bad(PINNED, "at-without-digest", image("ghcr.io/acme/app@latest")),
    bad(PINNED, "short-digest", image("ghcr.io/acme/app@sha256:abc123")),
    bad(PINNED, "digest-not-hex", image("ghcr.io/acme/app@sha256:" + "z" * 64)),
    bad(PINNED, "digest-upper-case", image("ghcr.io/acme/app@sha256:" + HEX.upper())),
    bad(PINNED, "empty-tag", image("ghcr.io/acme/app:")),

    ok("k8s-no-host-path", "pv-csi", pv(csi={"driver": "ebs.csi.aws.com",
                                              "volumeHandle": "vol-1"})),
    bad("k8s-no-host-path", "pv-local", pv(local={"path": "/mnt/disks/ssd1"},
                                           nodeAffinity={"required": {}})),
    bad("k8s-no-host-path", "pv-patch-host-path", pv(f"{PV}Patch", hostPath={"path": "/data"})),

    ok("k8s-no-privileged", "capability-string-allowed", priv(capabilities={
        "add": "NET_BIND_SERVICE"})),
    ok("k8s-no-privileged", "proc-mount-default", priv(procMount="Default")),
    bad("k8s-no-privileged", "capability-string", priv(capabilities={"add": "SYS_ADMIN"})),
    bad("k8s-no-privileged", "proc-mount-unmasked", priv(procMount="Unmasked")),
    bad("k8s-no-privileged", "host-process-container", priv(windowsOptions={
        "hostProcess": "true"})),
    bad("k8s-no-privileged", "host-process-pod", deployment(
        runAsNonRoot=True, runAsUser=1000, windowsOptions={"hostProcess": True})),
    bad("k8s-no-privileged", "host-pid-string", deployment(host={"hostPID": "True"})),
    bad("k8s-no-privileged", "host-port-float", deployment(containers=[container(
        ports=[{"containerPort": 8080.0, "hostPort": 8080.0}])])),

    ok("k8s-run-as-non-root", "uid-string-with-spaces", deployment(
        runAsNonRoot="true", runAsUser=" 1000 ")),
    bad("k8s-run-as-non-root", "uid-string-0-container-over-pod", deployment(
        containers=[container(securityContext={"runAsUser": " 0 "})],
        runAsNonRoot=True, runAsUser=1000)),
    bad("k8s-run-as-non-root", "non-root-string-False", rendered(
        "core/v1:Pod", "p", {"spec": pod(runAsNonRoot="False", runAsUser="1000")})),

    ok("k8s-internal-load-balancer", "service-patch-internal", res(
        "kubernetes:core/v1:ServicePatch", "svc", {"metadata": {"annotations": {
            "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}},
            "spec": {"type": "LoadBalancer"}})),
    bad("k8s-internal-load-balancer", "service-patch-public", res(
        "kubernetes:core/v1:ServicePatch", "svc", {"spec": {"type": "LoadBalancer"}})),

    ok(IAM, "named-actions-and-arns", iam("aws:iam/policy:Policy", READ)),
    ok(IAM, "wide-deny", iam("aws:iam/policy:Policy", READ, stmt(
        Effect="Deny", Action="*", Resource="*"))),
    ok(IAM, "prefix-wildcard-on-named-bucket", iam("aws:iam/rolePolicy:RolePolicy", stmt(
        Action=["s3:Get*", "s3:List*"], Resource="arn:aws:s3:::acme-raw/*"), role="r")),
    ok(IAM, "object-document", iam("aws:iam/userPolicy:UserPolicy", READ, as_json=False,
                                   user="u")),
    ok(IAM, "exempt", iam("aws:iam/policy:Policy", stmt(Action="*")),
       overrides={IAM: {"exempt": ["app"]}}),
    ok(IAM, "irsa-role", role()),
    ok(IAM, "eks-managed-attachment", res(ATTACH, "attach", {
        "role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"})),
    bad(IAM, "star-action", iam("aws:iam/policy:Policy", stmt(Action="*"))),
    bad(IAM, "service-star", iam("aws:iam/policy:Policy", stmt(Action=["s3:*"]))),
    bad(IAM, "star-star", iam("aws:iam/groupPolicy:GroupPolicy", stmt(Action="*:*"),
                              group="g")),
    bad(IAM, "upper-case-service", iam("aws:iam/policy:Policy", stmt(Action="S3:*"))),
    bad(IAM, "star-resource", iam("aws:iam/rolePolicy:RolePolicy", stmt(Resource="*"),
                                  role="r")),
    bad(IAM, "all-buckets", iam("aws:iam/policy:Policy", stmt(Resource="arn:aws:s3:::*"))),
    bad(IAM, "not-action", iam("aws:iam/userPolicy:UserPolicy", {
        "Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::acme-raw"},
        user="u")),
    bad(IAM, "not-resource", iam("aws:iam/policy:Policy", {
        "Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"})),
    bad(IAM, "object-document-single-statement", res("aws:iam/policy:Policy", "p", {
        "policy": {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}})),
    bad(IAM, "in-dev", iam("aws:iam/policy:Policy", stmt(Action="*")), profile="dev"),
    bad(IAM, "role-inline", role(inlinePolicies=[{"name": "inline", "policy": doc(
        stmt(Action="ec2:*"))}])),
    bad(IAM, "role-admin-arn", role(managedPolicyArns=[
        "arn:aws:iam::aws:policy/AdministratorAccess"])),
    bad(IAM, "admin-attachment", res(ATTACH, "attach", {
        "role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})),
    bad(IAM, "trust-anyone", role(assumeRolePolicy=doc({
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}))),
    bad(IAM, "trust-anyone-over-tls", role(assumeRolePolicy=doc({
        "Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:SecureTransport": "true"}}}))),
    ok(IAM, "trust-anyone-in-the-org", role(assumeRolePolicy=doc({
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}))),

    ok(SG_RULES, "from-security-group-only", res(SG, "db-sg", {"ingress": [{
        "protocol": "tcp", "fromPort": 5432, "toPort": 5432, "securityGroups": ["sg-1"]}],
        "egress": [{"cidrBlocks": ["0.0.0.0/0"], "protocol": "-1", "fromPort": 0,
                    "toPort": 0}]})),
    ok(SG_RULES, "corporate-24", sg("198.51.100.0/24", "192.0.2.10/32")),
    ok(SG_RULES, "rfc1918-only", sg("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")),
    ok(SG_RULES, "egress-rule-to-world", base_sg,
       sg_rule("egress", "0.0.0.0/0", type_="egress", group=base_sg)),
    ok(SG_RULES, "vpc-rule-private", vpc_ingress("pg", v4="10.0.0.0/16")),
    ok(SG_RULES, "a-slash-9", sg("3.0.0.0/9")),
    bad(SG_RULES, "inline-world", sg("0.0.0.0/0")),
    bad(SG_RULES, "inline-world-host-bits", sg("0.0.0.1/0")),
    bad(SG_RULES, "inline-ipv6-world", sg(ipv6=["::/0"])),
    bad(SG_RULES, "split-internet-in-two-rules", base_sg,
        sg_rule("low", "0.0.0.0/1", group=base_sg), sg_rule("high", "128.0.0.0/1",
                                                            group=base_sg)),
    bad(SG_RULES, "sixteen-slash-4", sg(*SIXTEEN_SLASH_4)),
    bad(SG_RULES, "a-slash-8", sg("3.0.0.0/8")),
    bad(SG_RULES, "vpc-rules-same-group-id", vpc_ingress("low", v4="0.0.0.0/1"),
        vpc_ingress("high", v4="128.0.0.0/1")),
    bad(SG_RULES, "vpc-rule-ipv6-global", vpc_ingress("v6", v6="2000::/3")),
    bad(SG_RULES, "world-in-dev", sg("0.0.0.0/0"), profile="dev"),

    ok(ENDPOINT, "eks-corporate-24", eks_cidrs("203.0.113.0/24", "198.51.100.7/32")),
    ok(ENDPOINT, "eks-rfc1918", eks_cidrs("10.0.0.0/8")),
    ok(ENDPOINT, "gke-private-only", gke_cidrs("10.0.0.0/8", "192.168.0.0/16")),
    bad(ENDPOINT, "eks-split-internet", eks_cidrs("0.0.0.0/1", "128.0.0.0/1")),
    bad(ENDPOINT, "eks-host-bits", eks_cidrs("0.0.0.1/0")),
    bad(ENDPOINT, "eks-sixteen-slash-4", eks_cidrs(*SIXTEEN_SLASH_4)),
    bad(ENDPOINT, "eks-ipv6-world", eks_cidrs("203.0.113.0/24", "::/0")),
    bad(ENDPOINT, "eks-public-no-cidrs", eks(vpcConfig={"endpointPublicAccess": True})),
    bad(ENDPOINT, "gke-split-internet", gke_cidrs("0.0.0.0/1", "128.0.0.0/1")),
    bad(ENDPOINT, "gke-global-ipv6", gke_cidrs("2000::/3")),
    bad(ENDPOINT, "gke-private-endpoint-string-false", gke(privateClusterConfig={
        "enablePrivateNodes": True, "enablePrivateEndpoint": "false"},
        masterAuthorizedNetworksConfig={"cidrBlocks": [{"cidrBlock": "0.0.0.0/0"}]})),

    ok("db-not-public", "cloudsql-corporate-network", sql_networks("203.0.113.0/24")),
    ok("db-not-public", "aurora-instance-private", res(CLUSTER_INSTANCE, "aurora-1", {
        "clusterIdentifier": "aurora", "publiclyAccessible": False}, provider=AWS)),
    bad("db-not-public", "cloudsql-split-internet", sql_networks("0.0.0.0/1", "128.0.0.0/1")),
    bad("db-not-public", "cloudsql-ipv6-world", sql_networks("::/0")),
    bad("db-not-public", "aurora-instance-public", res(CLUSTER_INSTANCE, "aurora-1", {
        "clusterIdentifier": "aurora", "publiclyAccessible": True}, provider=AWS)),
    bad("db-not-public", "rds-public-string", rds(publiclyAccessible="true")),

    ok("db-final-snapshot", "rds", rds(skipFinalSnapshot=False,
                                       finalSnapshotIdentifier="db-final")),
    ok("db-final-snapshot", "aurora", aurora()),
    ok("db-final-snapshot", "dev-skips", rds(skipFinalSnapshot=True), profile="dev"),
    bad("db-final-snapshot", "rds-skips", rds(skipFinalSnapshot=True)),
    bad("db-final-snapshot", "aurora-skips-string", aurora(skipFinalSnapshot="true")),

    ok("db-deletion-protection", "aurora", aurora()),
    bad("db-deletion-protection", "aurora-unprotected", aurora(deletionProtection=False)),
    ok("db-storage-encrypted", "aurora", aurora()),
    bad("db-storage-encrypted", "aurora-plain", aurora(storageEncrypted=False)),

    ok(ADMIN, "view-binding", binding()),
    ok(ADMIN, "namespace-admin", binding("RoleBinding", ("ClusterRole", "admin"))),
    ok(ADMIN, "read-pods", role_rules("ClusterRole", READ_PODS)),
    ok(ADMIN, "star-verbs-on-pods", role_rules("Role", {**READ_PODS, "verbs": ["*"]})),
    ok(ADMIN, "exempt-controller", binding(ref=("ClusterRole", "cluster-admin")),
       overrides={ADMIN: {"exempt": ["app"]}}),
    ok(ADMIN, "argocd-controller-exempt-by-default", argocd_controller),
    bad(ADMIN, "argocd-controller-when-not-exempt", argocd_controller,
        overrides={ADMIN: {"exempt": []}}),
    bad(ADMIN, "cluster-admin", binding(ref=("ClusterRole", "cluster-admin"))),
    bad(ADMIN, "cluster-admin-in-namespace", binding("RoleBinding",
                                                      ("ClusterRole", "cluster-admin"))),
    bad(ADMIN, "system-masters", binding(subjects=[
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}])),
    bad(ADMIN, "patch", binding("ClusterRoleBindingPatch", ("ClusterRole", "cluster-admin"))),
    bad(ADMIN, "v1beta1", binding(ref=("ClusterRole", "cluster-admin"),
                                  api="rbac.authorization.k8s.io/v1beta1")),
    bad(ADMIN, "star-on-star", role_rules("ClusterRole", READ_PODS, EVERYTHING)),
    bad(ADMIN, "star-on-star-role", role_rules("Role", {**EVERYTHING, "apiGroups": [""]})),
    bad(ADMIN, "in-dev", binding(ref=("ClusterRole", "cluster-admin")), profile="dev"),

    ok(GRANTS, "tls-only-deny", bucket_policy(TLS_ONLY)),
    ok(GRANTS, "named-principal", bucket_policy({**PUBLIC_READ, "Principal": {
        "AWS": "arn:aws:iam::123456789012:role/reader"}})),
    ok(GRANTS, "pinned-to-vpc-endpoint", bucket_policy({**PUBLIC_READ, "Condition": {
        "StringEquals": {"aws:SourceVpce": "vpce-1"}}})),
    ok(GRANTS, "pinned-to-office-ip", bucket_policy({**PUBLIC_READ, "Condition": {
        "IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}})),
    ok(GRANTS, "private-acl", acl(acl="private")),
    ok(GRANTS, "all-blocks", public_access_block()),
    ok(GRANTS, "gcs-service-account", gcs_member("serviceAccount:app@p.iam.gserviceaccount.com")),
    ok(GRANTS, "gcs-policy-group", gcs_policy("group:data@acme.example")),
    bad(GRANTS, "principal-star", bucket_policy(TLS_ONLY, PUBLIC_READ)),
    bad(GRANTS, "principal-aws-star", bucket_policy({**PUBLIC_READ, "Principal": {
        "AWS": ["*"]}})),
    bad(GRANTS, "ip-condition-covers-internet", bucket_policy({**PUBLIC_READ, "Condition": {
        "IpAddress": {"aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}}})),
    bad(GRANTS, "not-condition-pins-nothing", bucket_policy({**PUBLIC_READ, "Condition": {
        "StringNotEquals": {"aws:SourceVpce": "vpce-1"}}})),
    bad(GRANTS, "acl-public-read", acl(acl="public-read")),
    bad(GRANTS, "acl-v1-public-read-write", acl("aws:s3/bucketAcl:BucketAcl",
                                                acl="public-read-write")),
    bad(GRANTS, "acl-authenticated-read", acl(acl="authenticated-read")),
    bad(GRANTS, "acl-grant-all-users", acl(accessControlPolicy={"grants": [{
        "permission": "READ", "grantee": {
            "type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}}],
        "owner": {"id": "o"}})),
    bad(GRANTS, "block-flag-off", public_access_block(blockPublicPolicy=False)),
    bad(GRANTS, "account-block-flag-off", public_access_block(
        "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", restrictPublicBuckets=False)),
    bad(GRANTS, "gcs-all-users", gcs_member("allUsers")),
    bad(GRANTS, "gcs-binding-all-authenticated", gcs_member(
        ["group:data@acme.example", "allAuthenticatedUsers"],
        "gcp:storage/bucketIAMBinding:BucketIAMBinding", "members")),
    bad(GRANTS, "gcs-policy-all-users", gcs_policy("allUsers")),
    bad(GRANTS, "gcs-acl-public-read", res("gcp:storage/bucketACL:BucketACL", "acl", {
        "bucket": "acme-raw", "predefinedAcl": "publicRead"}, provider=GCP)),
    bad(GRANTS, "gcs-access-control-all-users", res(
        "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl", "oac", {
            "bucket": "acme-raw", "entity": "allUsers", "role": "READER"}, provider=GCP)),
    bad(GRANTS, "in-dev", gcs_member("allUsers"), profile="dev"),

    ok(VOLUMES, "pvc-kept", pvc(parent=None, protect=True, retain=True)),
    ok(VOLUMES, "chart-pvc-helm-keep", pvc({"helm.sh/resource-policy": "keep"},
                                           parent=RELEASE_URN)),
    ok(VOLUMES, "chart-pvc-argocd-no-delete", pvc({
        "argocd.argoproj.io/sync-options": "Prune=false,Delete=false"}, parent=APPLICATION_URN)),
    ok(VOLUMES, "statefulset-default-retain", stateful()),
    ok(VOLUMES, "statefulset-retain", stateful("Retain")),
    ok(VOLUMES, "statefulset-delete-but-protected", stateful("Delete", protect=True)),
    ok(VOLUMES, "dev", pvc(parent=None), stateful("Delete"), profile="dev"),
    bad(VOLUMES, "pvc-unprotected", pvc(parent=None)),
    bad(VOLUMES, "pvc-not-retained", pvc(parent=None, protect=True)),
    bad(VOLUMES, "chart-pvc", pvc(parent=RELEASE_URN)),
    bad(VOLUMES, "statefulset-delete", stateful("Delete")),
    bad(VOLUMES, "statefulset-patch-delete", stateful("Delete", kind="StatefulSetPatch")),

    ok(DATA, "efs-kept", efs_kept),
    ok(DATA, "aurora-kept", aurora()),
    bad(DATA, "efs-unprotected", res(EFS, "shared", {"encrypted": True}, provider=AWS)),
    bad(DATA, "aurora-not-retained", res(AURORA, "aurora", {}, protect=True)),
]
