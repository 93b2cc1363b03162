"""The pod of one dbt run: fetch the project, run dbt, upload the artifacts.

Three containers run one after the other, which Kubernetes guarantees for init
containers, so nothing polls for a done-marker:

1. `git-sync` (init): git-sync v4 `--one-time` checks the revision out into the `work`
   emptyDir.
2. `dbt` (init): `dbt deps`, the job's command, then `dbt docs generate` into a separate
   target path when the command left no catalog.json (docs generate would otherwise
   overwrite the command's run_results.json). It records its start time and dbt's exit
   code in `work/status/` and always exits 0, so the upload also runs after a failed run
   (run_results.json says what failed). Last, with metrics on, it pushes the run's test
   results to the Pushgateway (`push_results.py`, mounted from a ConfigMap, run by the
   image's own Python); a failed push is logged and changes nothing else.
3. `upload` (main): the cloud's own CLI copies manifest.json, run_results.json and
   catalog.json (those that exist) to `<artifacts>/dbt/<project>/<job>/<start time>/`
   and then over `.../<job>/latest/` (DataHub's fixed path), then exits with dbt's exit
   code, so the Job fails exactly when dbt failed.

Why not a wrapper in the dbt container: the dbt images carry no cloud CLI, and an
uploader sidecar would have to poll and would add its request to the pod's. Run in
sequence, the pod's effective request is the largest container's: the dbt container's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components._k8s import container_security, pod_security, secret_env
from components.apps.context import MINIO_SECRET
from components.apps.dbt._profiles import PROFILE
from components.apps.dbt._settings import DbtSettings
from components.apps.dbt.names import ARTIFACT_FILES, LATEST, TIMESTAMP_FORMAT

WORK, TMP = "/work", "/tmp"
REPO_ROOT = f"{WORK}/git"
REPO_LINK = "repo"
TARGET_PATH, DOCS_PATH, LOG_PATH = f"{WORK}/target", f"{WORK}/docs", f"{WORK}/logs"
STATUS = f"{WORK}/status"
PROFILES_DIR, GIT_SECRET_DIR = "/etc/dbt", "/etc/git-secret"
METRICS_DIR, METRICS_SCRIPT = "/etc/dbt-metrics", "push_results.py"
MINIO_ALIAS = "lake"


@dataclass(frozen=True)
class RunSpec:
    """What differs between the projects' pods."""

    project: str
    """Project name."""
    git_url: str
    revision: str
    sub_path: str
    image: str
    """dbt image."""
    target: str
    """dbt target (DBT_TARGET)."""
    git_secret: str | None
    """Secret with the ssh key and known_hosts, for ssh URLs."""


@dataclass(frozen=True)
class MetricsTarget:
    """Where the runs push their test results, and the grouping labels every run of the
    domain shares (project, job and CronJob are per run)."""

    url: str
    """Pushgateway base URL."""
    domain: str
    """The `domain` label of the alert rules."""
    namespace: str
    """Namespace of the CronJobs."""
    config_map: str
    """ConfigMap holding METRICS_SCRIPT."""


def project_dir(spec: RunSpec) -> str:
    return "/".join(filter(None, (REPO_ROOT, REPO_LINK, spec.sub_path)))


def volumes(profiles_secret: str, spec: RunSpec,
            metrics: MetricsTarget | None = None) -> list[dict[str, Any]]:
    vols = [{"name": "work", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}},
            {"name": "profiles", "secret": {"secretName": profiles_secret, "defaultMode": 0o440,
                                            "items": [{"key": "profiles.yml",
                                                       "path": "profiles.yml"}]}}]
    if spec.git_secret:
        # 0400 as git-sync documents; fsGroup makes it readable by the pod's group.
        vols.append({"name": "git-secret", "secret": {"secretName": spec.git_secret,
                                                      "defaultMode": 0o400}})
    if metrics:
        vols.append({"name": "metrics", "configMap": {"name": metrics.config_map,
                                                      "defaultMode": 0o444}})
    return vols


def git_sync(settings: DbtSettings, spec: RunSpec) -> dict[str, Any]:
    args = [f"--repo={spec.git_url}", f"--ref={spec.revision}", f"--root={REPO_ROOT}",
            f"--link={REPO_LINK}", f"--depth={settings.git_sync.depth}", "--one-time"]
    mounts: list[dict[str, Any]] = [{"name": "work", "mountPath": WORK},
                                    {"name": "tmp", "mountPath": TMP}]
    if spec.git_secret:
        args += [f"--ssh-key-file={GIT_SECRET_DIR}/ssh", "--ssh-known-hosts=true",
                 f"--ssh-known-hosts-file={GIT_SECRET_DIR}/known_hosts"]
        mounts.append({"name": "git-secret", "mountPath": GIT_SECRET_DIR, "readOnly": True})
    return {"name": "git-sync", "image": settings.git_sync.image, "args": args,
            "env": [{"name": "HOME", "value": TMP}],
            "resources": settings.resources.git_sync.model_dump(),
            "securityContext": container_security(), "volumeMounts": mounts}


def dbt_env(spec: RunSpec, credential_env: Sequence[Mapping[str, Any]],
            metrics: MetricsTarget | None = None) -> list[dict[str, Any]]:
    plain = {"HOME": TMP, "DBT_PROFILES_DIR": PROFILES_DIR, "DBT_PROFILE": PROFILE,
             "DBT_TARGET": spec.target, "DBT_PROJECT_DIR": project_dir(spec),
             "DBT_TARGET_PATH": TARGET_PATH, "DBT_LOG_PATH": LOG_PATH,
             "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false"}
    if metrics:  # push_results.py's defaults; the job and CronJob are its arguments
        plain |= {"DBT_METRICS_URL": metrics.url, "DBT_METRICS_DOMAIN": metrics.domain,
                  "DBT_METRICS_PROJECT": spec.project,
                  "DBT_METRICS_NAMESPACE": metrics.namespace}
    return [*({"name": k, "value": v} for k, v in plain.items()), *map(dict, credential_env)]


def dbt_mounts(metrics: bool = False) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = [
        {"name": "work", "mountPath": WORK}, {"name": "tmp", "mountPath": TMP},
        {"name": "profiles", "mountPath": PROFILES_DIR, "readOnly": True}]
    if metrics:
        mounts.append({"name": "metrics", "mountPath": METRICS_DIR, "readOnly": True})
    return mounts


def push_command(job: str, cronjob: str, timeout: int) -> str:
    """The push step (`job` and `cronjob` are validated DNS labels): never fails the
    container, a missing push shows as DbtResultsStale."""
    return (f'python3 {METRICS_DIR}/{METRICS_SCRIPT} --exit-code "$rc" --job {job} '
            f"--cronjob {cronjob} --timeout {timeout} "
            "|| echo 'push_results: test results not pushed' >&2")


def dbt_script(command: str, push: str | None = None) -> str:
    """The dbt container's shell script (`command` is validated: one dbt command);
    `push`: the push step (push_command), run last."""
    return "\n".join(filter(None, [
        "set -u",
        f"mkdir -p {STATUS}",
        f"date -u +{TIMESTAMP_FORMAT} > {STATUS}/started-at",
        "rc=0",
        f"{{ dbt deps && {command}; }} || rc=$?",
        f'if [ "$rc" -eq 0 ] && [ ! -f {TARGET_PATH}/catalog.json ]; then',
        f"  dbt docs generate --target-path {DOCS_PATH} "
        f"&& cp {DOCS_PATH}/catalog.json {TARGET_PATH}/catalog.json "
        "|| echo 'dbt docs generate failed: this run has no catalog.json' >&2",
        "fi",
        f'echo "$rc" > {STATUS}/exit-code',
        push,
    ]))


def dbt_container(settings: DbtSettings, spec: RunSpec, command: str,
                  credential_env: Sequence[Mapping[str, Any]],
                  metrics: MetricsTarget | None = None, push: str | None = None
                  ) -> dict[str, Any]:
    return {"name": "dbt", "image": spec.image,
            "command": ["/bin/sh", "-c", dbt_script(command, push if metrics else None)],
            "workingDir": project_dir(spec), "env": dbt_env(spec, credential_env, metrics),
            "resources": settings.resources.dbt.model_dump(),
            "securityContext": container_security(),
            "volumeMounts": dbt_mounts(metrics is not None)}


@dataclass(frozen=True)
class Uploader:
    """How one cloud copies a file: the image, the env and the copy command."""

    image: str
    env: list[dict[str, Any]]
    setup: str
    copy: str
    """Shell words before `<source> <destination>`."""


def _plain(**values: pulumi.Input[str]) -> list[dict[str, Any]]:
    return [{"name": k, "value": v} for k, v in values.items()]


def uploader(cloud: str, settings: DbtSettings, region: str | None,
             endpoint: pulumi.Input[str]) -> Uploader:
    images = settings.uploader_images
    if cloud == "aws":  # IRSA: the pod identity webhook injects the role and token
        if region is None:  # the stack config requires a region on aws
            raise ValueError("the aws uploader needs the region")
        return Uploader(images.aws, _plain(HOME=TMP, AWS_DEFAULT_REGION=region), "",
                        "aws s3 cp --only-show-errors")
    if cloud == "gcp":  # GKE workload identity: the metadata server answers for the KSA
        env = _plain(HOME=TMP, CLOUDSDK_CONFIG=f"{TMP}/gcloud", CLOUDSDK_CORE_DISABLE_PROMPTS="1",
                     CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK="1")
        return Uploader(images.gcp, env, "", "gcloud storage cp --quiet")
    env = [*_plain(HOME=TMP, MC_CONFIG_DIR=f"{TMP}/.mc", S3_ENDPOINT=endpoint),
           secret_env("MINIO_ROOT_USER", MINIO_SECRET, "rootUser"),
           secret_env("MINIO_ROOT_PASSWORD", MINIO_SECRET, "rootPassword")]
    setup = (f'mc alias set {MINIO_ALIAS} "$S3_ENDPOINT" "$MINIO_ROOT_USER" '
             '"$MINIO_ROOT_PASSWORD" >/dev/null || exit 1')
    return Uploader(images.local, env, setup, "mc cp --quiet")


def artifacts_scheme(cloud: str) -> str:
    """URI prefix of a bucket for the cloud's CLI (MinIO: the mc alias)."""
    return {"aws": "s3://", "gcp": "gs://"}.get(cloud, f"{MINIO_ALIAS}/")


def upload_script(up: Uploader) -> str:
    """Copy the run's artifacts to its timestamped folder, then over `latest/`.

    A file this run did not produce (catalog.json after a failure) keeps its previous
    version in `latest/`: DataHub still finds one.
    """
    files = " ".join(ARTIFACT_FILES)
    return "\n".join(filter(None, [
        "set -u",
        f"rc=$(cat {STATUS}/exit-code 2>/dev/null || echo 1)",
        f'dest="$ARTIFACTS_URI/$(cat {STATUS}/started-at)"',
        f'latest="$ARTIFACTS_URI/{LATEST}"',
        up.setup,
        f"for folder in \"$dest\" \"$latest\"; do for f in {files}; do",
        f'  if [ -f "{TARGET_PATH}/$f" ]; then',
        f'    {up.copy} "{TARGET_PATH}/$f" "$folder/$f" || exit 1',
        '  elif [ "$folder" = "$dest" ]; then echo "this run left no $f" >&2; fi',
        "done; done",
        'echo "artifacts in $dest and $latest; dbt exited with $rc"',
        'exit "$rc"',
    ]))


def upload_container(settings: DbtSettings, up: Uploader,
                     artifacts_uri: pulumi.Input[str]) -> dict[str, Any]:
    return {"name": "upload", "image": up.image,
            "command": ["/bin/sh", "-c", upload_script(up)],
            "env": [{"name": "ARTIFACTS_URI", "value": artifacts_uri}, *up.env],
            "resources": settings.resources.uploader.model_dump(),
            "securityContext": container_security(),
            "volumeMounts": [{"name": "work", "mountPath": WORK, "readOnly": True},
                             {"name": "tmp", "mountPath": TMP}]}


def pod_spec(settings: DbtSettings, service_account: pulumi.Input[str],
             init: list[dict[str, Any]], main: list[dict[str, Any]],
             vols: list[dict[str, Any]]) -> dict[str, Any]:
    return {"serviceAccountName": service_account,
            # IRSA and GKE workload identity need no Kubernetes API token in the pod.
            "automountServiceAccountToken": False,
            "restartPolicy": "Never",
            "securityContext": pod_security(settings.uid),
            "initContainers": init, "containers": main, "volumes": vols}
