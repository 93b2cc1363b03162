"""`apps.airflow`: the typed settings of the Airflow app (chart `airflow` 1.18.0, Airflow 3).

Only what the platform wires is typed here: the executor, where DAGs come from (git-sync),
and the Airflow image. Sizes and topology stay in `charts-values/airflow/`, free-form
tweaks in `values`. The deploy key of a private DAG repository is a config secret
(`pulumi config set --secret --path dataplatform:apps.airflow.dags.sshKey < key`).

Rules that need the rest of the stack file (the profile) are in `airflow_rules`, which
returns problems keyed from the stack file root like the other cross-section rules.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from foundation.config.app import AppConfig
from foundation.config.base import Model, RuleViolations
from foundation.config.secrets import SecretValue

if TYPE_CHECKING:
    from foundation.config.stack import StackConfig

# git@host:org/repo.git (scp-like) or ssh://user@host[:port]/path
SSH_URL = re.compile(r"^(ssh://[\w.-]+@[\w.-]+(:\d+)?/\S+|[\w.-]+@[\w.-]+:[^/\s]\S*)$")
HTTPS_URL = re.compile(r"^https://[\w.-]+(:\d+)?/\S+$")
BRANCH = re.compile(r"^[\w][\w./-]*$")
Executor = Literal["KubernetesExecutor", "CeleryExecutor"]
# values keys the typed settings own: a stack override there would be silently replaced.
OWNED_VALUES = {
    ("executor",): "apps.airflow.executor",
    ("images", "airflow"): "apps.airflow.image",
    ("dags", "gitSync"): "apps.airflow.dags",
}



class AirflowDags(Model):
    """The domain's DAG repository, synced into every Airflow pod by git-sync."""

    repo: str = Field(
        description="Clone URL: https://host/org/repo.git (public) or an ssh URL "
        "(git@host:org/repo.git, private, needs sshKey).")
    branch: str = Field("main", description="Branch to follow.")
    sub_path: str = Field(
        "dags", description="Folder of the repository holding the DAGs ('' for its root).")
    ssh_key: SecretValue | None = Field(
        None, description="Private deploy key (read-only) for an ssh URL, a config secret: "
        "`pulumi config set --secret --path dataplatform:apps.airflow.dags.sshKey < key`.")
    known_hosts: str | None = Field(
        None, description="known_hosts lines of the Git host (ssh URLs): without them "
        "git-sync cannot verify the host it pulls DAGs from.")

    @model_validator(mode="after")
    def _url_and_key(self) -> AirflowDags:
        p: list[tuple[str, str]] = []
        ssh = bool(SSH_URL.match(self.repo))
        if re.match(r"^https?://[^/]*@", self.repo):
            p.append(("repo", "credentials in the URL would be stored in plain text: use an "
                              "ssh URL with a deploy key (sshKey) for a private repository"))
        elif self.repo.startswith("http://"):
            p.append(("repo", "plain http is not allowed: use https:// (public repository) "
                              "or an ssh URL with sshKey (private repository)"))
        elif not ssh and not HTTPS_URL.match(self.repo):
            p.append(("repo", f"'{self.repo}' is not a Git clone URL: use https://host/org/"
                              "repo.git or git@host:org/repo.git"))
        elif ssh and self.ssh_key is None:
            p.append(("sshKey", "an ssh repository URL needs a deploy key: set it with "
                                "`pulumi config set --secret --path "
                                "dataplatform:apps.airflow.dags.sshKey < key`, or use an "
                                "https URL for a public repository"))
        elif not ssh and self.ssh_key is not None:
            p.append(("sshKey", "an https repository URL takes no sshKey: use an ssh URL "
                                "(git@host:org/repo.git) to pull with the deploy key"))
        if self.known_hosts is not None and not ssh:
            p.append(("knownHosts", "knownHosts is for ssh repository URLs"))
        if not BRANCH.match(self.branch) or ".." in self.branch:
            p.append(("branch", f"'{self.branch}' is not a branch name"))
        if self.sub_path.startswith("/") or ".." in self.sub_path.split("/"):
            p.append(("subPath", "a folder relative to the repository root, without '..'"))
        if p:
            raise RuleViolations(p)
        return self

    @property
    def is_ssh(self) -> bool:
        return bool(SSH_URL.match(self.repo))


class AirflowImage(Model):
    """The image of every Airflow container (scheduler, API server, task pods...)."""

    repository: str = Field("apache/airflow", min_length=1, description="Image repository.")
    tag: str = Field(
        "3.0.2", pattern=r"^[\w][\w.-]{0,127}$",
        description="Image tag. A custom image must be built on Airflow 3.0.2 (the chart's "
        "airflowVersion); with DataHub on, it must keep the OpenLineage provider "
        "(apache-airflow-providers-openlineage, in the stock image).")


class AirflowConfig(AppConfig):
    """`apps.airflow`: Airflow and how the platform wires it."""

    executor: Executor = Field(
        "KubernetesExecutor",
        description="KubernetesExecutor (a pod per task, nothing idle; the only choice in "
        "profile dev) or CeleryExecutor (prod: always-on workers and Redis, lower task "
        "latency).")
    dags: AirflowDags | None = Field(
        None, description="The DAG repository; without it Airflow runs the DAGs baked into "
        "its image.")
    image: AirflowImage = Field(default_factory=AirflowImage)

    @model_validator(mode="after")
    def _values_keep_to_what_is_not_wired(self) -> AirflowConfig:
        p = [(f"values.{'.'.join(path)}", f"set {key} instead (the platform computes this "
                                          "value and would replace yours)")
             for path, key in OWNED_VALUES.items() if _has(self.values, path)]
        # (credentials in the values are refused by the loader, as anywhere in the file)
        if p:
            raise RuleViolations(p)
        return self


def _has(values: dict[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = values
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def airflow_rules(cfg: StackConfig) -> list[tuple[str, str]]:
    """Problems of `apps.airflow` that depend on the profile, keyed from the file root."""
    airflow: AirflowConfig = cfg.apps.airflow
    p: list[tuple[str, str]] = []
    if cfg.profile == "dev" and airflow.executor != "KubernetesExecutor":
        p.append(("apps.airflow.executor", "profile 'dev' runs KubernetesExecutor (no idle "
                                           "workers or Redis in the dev budget): "
                                           f"{airflow.executor} is for profile prod"))
    dags = airflow.dags
    if cfg.profile == "prod" and dags is not None and dags.is_ssh and not dags.known_hosts:
        p.append(("apps.airflow.dags.knownHosts", "profile 'prod' verifies the Git host: set "
                                                  "the host's known_hosts lines (ssh-keyscan "
                                                  "<host>)"))
    return p
