"""Compliant and violating resources for the platform policies: clusters, Kubernetes
objects, charts, tags. Each case goes through the real pack (see test_policies.py)."""

from __future__ import annotations

import json

from policy_helpers import AWS, GCP, TAGS, bad, ok, res

EKS, NODES = "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup"
GKE, POOL = "gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool"
RELEASE = "kubernetes:helm.sh/v3:Release"
APP = "kubernetes:argoproj.io/v1alpha1:Application"
ARGO_REPO = "https://argoproj.github.io/argo-helm"


def eks(**inputs):
    base = {"name": "c", "version": "1.33",
            "encryptionConfig": {"resources": ["secrets"],
                                 "provider": {"keyArn": "arn:aws:kms:key/1"}},
            "vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": True,
                          "publicAccessCidrs": ["203.0.113.0/24"]},
            "enabledClusterLogTypes": ["api", "audit", "authenticator", "scheduler"]}
    return res(EKS, "eks", {**base, **inputs}, provider=AWS)


def gke(**inputs):
    base = {"name": "g", "releaseChannel": {"channel": "REGULAR"},
            "databaseEncryption": {"state": "ENCRYPTED", "keyName": "projects/p/k"},
            "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": False},
            "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "203.0.113.0/24"}],
                                               "gcpPublicCidrsAccessEnabled": False},
            "loggingConfig": {"enableComponents": ["SYSTEM_COMPONENTS", "WORKLOADS"]}}
    return res(GKE, "gke", {**base, **inputs}, provider=GCP)


def container(name="app", **kw):
    base = {"name": name, "image": "docker.io/library/postgres:16.6",
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                          "limits": {"cpu": "1", "memory": "512Mi"}}}
    return {**base, **kw}


def pod(containers=None, init=None, volumes=None, **security):
    spec = {"containers": containers or [container()],
            "securityContext": security or {"runAsNonRoot": True, "runAsUser": 999}}
    if init:
        spec["initContainers"] = init
    if volumes:
        spec["volumes"] = volumes
    return spec


def workload(kind="apps/v1:Deployment", **pod_kw):
    spec = {"template": {"spec": pod(**pod_kw)}}
    if kind == "batch/v1:CronJob":
        spec = {"jobTemplate": {"spec": spec}}
    return res(f"kubernetes:{kind}", kind.split(":")[1].lower(), {"spec": spec})


def service(type_="ClusterIP", **annotations):
    return res("kubernetes:core/v1:Service", "svc", {
        "metadata": {"annotations": annotations}, "spec": {"type": type_}})


def release(version="10.1.1", repo=ARGO_REPO, chart="argo-cd"):
    inputs = {"chart": chart, "version": version, "repositoryOpts": {"repo": repo}}
    return res(RELEASE, "release", {k: v for k, v in inputs.items() if v is not None})


def app(revision="1.18.0", repo="https://airflow.apache.org", chart="airflow"):
    source = {"repoURL": repo, "targetRevision": revision, "chart": chart}
    return res(APP, "application", {"spec": {"source": source}})


loose = res("aws:s3/bucket:Bucket", "loose", {"bucket": "b"})  # default provider: no tags
no_owner = res("pulumi:providers:aws", "aws-no-owner", {"defaultTags": json.dumps(
    {"tags": {k: v for k, v in TAGS.items() if k != "owner"}})})
sql = "gcp:sql/databaseInstance:DatabaseInstance"
internal = {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}
gke_internal = {"networking.gke.io/load-balancer-type": "Internal"}
mounts_host = [{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}]

CASES = [
    ok("cluster-secrets-encryption", "eks-kms", eks()),
    ok("cluster-secrets-encryption", "gke-kms", gke()),
    ok("cluster-secrets-encryption", "dev-not-checked", eks(encryptionConfig=None),
       profile="dev"),
    bad("cluster-secrets-encryption", "eks-none", eks(encryptionConfig=None)),
    bad("cluster-secrets-encryption", "gke-google-keys", gke(databaseEncryption=None)),

    ok("cluster-endpoint-restricted", "eks-allow-listed", eks()),
    ok("cluster-endpoint-restricted", "eks-private-only", eks(vpcConfig={
        "endpointPrivateAccess": True, "endpointPublicAccess": False})),
    ok("cluster-endpoint-restricted", "gke-allow-listed", gke()),
    bad("cluster-endpoint-restricted", "eks-whole-internet", eks(vpcConfig={
        "endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]})),
    bad("cluster-endpoint-restricted", "eks-public-default", eks(vpcConfig={})),
    bad("cluster-endpoint-restricted", "eks-whole-internet-dev", eks(vpcConfig={
        "publicAccessCidrs": ["0.0.0.0/0"]}), profile="dev"),
    bad("cluster-endpoint-restricted", "gke-no-allow-list",
        gke(masterAuthorizedNetworksConfig=None)),
    bad("cluster-endpoint-restricted", "gke-public-nodes",
        gke(privateClusterConfig={"enablePrivateNodes": False})),

    ok("cluster-logging", "eks-all", eks()),
    ok("cluster-logging", "gke-system", gke()),
    bad("cluster-logging", "eks-none", eks(enabledClusterLogTypes=[])),
    bad("cluster-logging", "eks-no-audit", eks(enabledClusterLogTypes=["api", "authenticator"])),
    bad("cluster-logging", "gke-none", gke(loggingService="none")),
    bad("cluster-logging", "gke-workloads-only", gke(loggingConfig={
        "enableComponents": ["WORKLOADS"]})),

    ok("cluster-kubernetes-version", "eks-1.33", eks()),
    ok("cluster-kubernetes-version", "gke-channel", gke()),
    ok("cluster-kubernetes-version", "nodes-follow", res(NODES, "ng", {"clusterName": "c"})),
    ok("cluster-kubernetes-version", "gke-pinned-new", gke(
        releaseChannel={"channel": "UNSPECIFIED"}, minMasterVersion="1.32.4-gke.100")),
    bad("cluster-kubernetes-version", "eks-1.29", eks(version="1.29")),
    bad("cluster-kubernetes-version", "eks-unpinned", eks(version=None)),
    bad("cluster-kubernetes-version", "nodes-1.30", res(NODES, "ng", {"version": "1.30"})),
    bad("cluster-kubernetes-version", "gke-pinned-old", gke(
        releaseChannel={"channel": "UNSPECIFIED"}, minMasterVersion="1.28")),
    bad("cluster-kubernetes-version", "gke-pool-old", res(POOL, "p", {"version": "1.27.3"})),
    bad("cluster-kubernetes-version", "eks-1.33-below-configured-1.34", eks(),
        overrides={"cluster-kubernetes-version": {"minimumVersion": "1.34"}}),

    ok("k8s-image-pinned", "tag", workload()),
    ok("k8s-image-pinned", "digest", workload(containers=[container(
        image="ghcr.io/acme/app@sha256:" + "a" * 64)])),
    ok("k8s-image-pinned", "registry-port", workload(containers=[container(
        image="localhost:5000/app:1.2.3")])),
    bad("k8s-image-pinned", "untagged", workload(containers=[container(image="nginx")])),
    bad("k8s-image-pinned", "latest-init", workload(init=[container("init", image="busybox:latest")])),
    bad("k8s-image-pinned", "cronjob-latest", workload(
        "batch/v1:CronJob", containers=[container(image="acme/job:latest")])),
    bad("k8s-image-pinned", "registry-port-untagged", res("kubernetes:core/v1:Pod", "pod", {
        "spec": pod(containers=[container(image="localhost:5000/app")])})),

    ok("k8s-resources-set", "all-set", workload("apps/v1:StatefulSet")),
    bad("k8s-resources-set", "no-limits", workload(containers=[container(
        resources={"requests": {"cpu": "1", "memory": "1Gi"}})])),
    bad("k8s-resources-set", "init-unsized", workload("batch/v1:Job", init=[
        {"name": "init", "image": "busybox:1.36"}])),

    ok("k8s-run-as-non-root", "pod-level", workload()),
    ok("k8s-run-as-non-root", "container-level", workload("apps/v1:DaemonSet", containers=[
        container(securityContext={"runAsNonRoot": True, "runAsUser": 1000})],
        allowPrivilegeEscalation=False)),
    bad("k8s-run-as-non-root", "unset", workload(allowPrivilegeEscalation=False)),
    bad("k8s-run-as-non-root", "container-override", workload(containers=[
        container(securityContext={"runAsNonRoot": False})])),
    bad("k8s-run-as-non-root", "uid-0", workload(runAsNonRoot=True, runAsUser=0)),

    ok("k8s-internal-load-balancer", "cluster-ip", service()),
    ok("k8s-internal-load-balancer", "aws-internal", service("LoadBalancer", **internal)),
    ok("k8s-internal-load-balancer", "gke-internal", service("LoadBalancer", **gke_internal)),
    bad("k8s-internal-load-balancer", "public", service("LoadBalancer")),
    bad("k8s-internal-load-balancer", "public-in-dev", service("LoadBalancer"), profile="dev"),

    ok("k8s-no-host-path", "empty-dir", workload(volumes=[{"name": "tmp", "emptyDir": {}}])),
    bad("k8s-no-host-path", "daemonset-socket", workload("apps/v1:DaemonSet", volumes=mounts_host)),
    bad("k8s-no-host-path", "persistent-volume", res("kubernetes:core/v1:PersistentVolume", "pv", {
        "spec": {"hostPath": {"path": "/data"}}})),

    ok("chart-version-pinned", "release", release()),
    ok("chart-version-pinned", "application", app()),
    ok("chart-version-pinned", "git-source-is-not-a-chart", res(APP, "git", {"spec": {"source": {
        "repoURL": "https://github.com/acme/dbt.git", "path": "deploy", "targetRevision": "main"}}})),
    bad("chart-version-pinned", "release-range", release(version="^10.1")),
    bad("chart-version-pinned", "release-unpinned", release(version=None)),
    bad("chart-version-pinned", "application-star", app(revision="*")),
    bad("chart-version-pinned", "application-latest", app(revision="latest")),
    bad("chart-version-pinned", "application-x-range", app(revision="1.18.x")),

    ok("chart-repository-allowed", "release-locked", release()),
    ok("chart-repository-allowed", "application-locked", app()),
    ok("chart-repository-allowed", "trailing-slash", app(repo="https://helm.datahubproject.io",
                                                          chart="datahub", revision="1.1.0")),
    ok("chart-repository-allowed", "extra-allowed", release(repo="https://charts.example.com"),
       overrides={"chart-repository-allowed": {"extraAllowedRepos": ["https://charts.example.com"]}}),
    bad("chart-repository-allowed", "release-unknown", release(repo="https://charts.example.com")),
    bad("chart-repository-allowed", "application-unknown", app(repo="https://evil.example.com")),
    bad("chart-repository-allowed", "replaced-list", release(),
        overrides={"chart-repository-allowed": {"allowedRepos": ["https://airflow.apache.org"]}}),

    ok("cloud-resource-tags", "aws-provider-defaults", res("aws:s3/bucket:Bucket", "b", {}, provider=AWS)),
    ok("cloud-resource-tags", "aws-own-tags", res("aws:kms/key:Key", "k", {"tags": TAGS})),
    ok("cloud-resource-tags", "not-taggable", res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", {})),
    ok("cloud-resource-tags", "gcp-provider-defaults", res("gcp:storage/bucket:Bucket", "g", {}, provider=GCP)),
    ok("cloud-resource-tags", "cloudsql-own-labels", res(sql, "s", {"settings": {"userLabels": TAGS}}, provider=GCP)),
    bad("cloud-resource-tags", "aws-default-provider", loose),
    bad("cloud-resource-tags", "aws-provider-without-owner", no_owner,
        res("aws:rds/instance:Instance", "db", {}, provider=no_owner)),
    bad("cloud-resource-tags", "unlisted-type-with-partial-tags", res("aws:sqs/queueV9:Queue", "q", {"tags": {"owner": "x"}})),
    bad("cloud-resource-tags", "cloudsql-ignores-provider-labels", res(sql, "s", {"settings": {}}, provider=GCP)),
    bad("cloud-resource-tags", "gke-default-provider", res(GKE, "gke", {"resourceLabels": {"owner": "x"}})),
]
