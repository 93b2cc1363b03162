"""`apps.dbt`: the dbt projects a domain runs, and their scheduled jobs.

Each project is a Git repository (or a folder of one) holding a `dbt_project.yml`; each
job is one dbt command on a cron schedule, run as a Kubernetes CronJob by
`components/apps/dbt/`. Images and sizes are not here: they are the platform's
settings in `charts-values/dbt/` (overridable with `apps.dbt.values`).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from foundation.config._checks import matching
from foundation.config.app import AppConfig
from foundation.config.base import Model, RuleViolations
from foundation.config.secrets import SecretValue
from foundation.naming import is_dns_label

NAME_MAX = 30
CRONJOB_NAME_MAX = 52  # the Job controller appends an 11-character suffix (63 - 11)
MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (name, lowest, highest, names counted from `lowest`): the bounds Kubernetes accepts.
CRON_FIELDS = (("minute", 0, 59, ()), ("hour", 0, 23, ()), ("day-of-month", 1, 31, ()),
               ("month", 1, 12, MONTHS), ("day-of-week", 0, 6, DAYS))
CRON_ITEM = re.compile(r"(?P<range>\*|\?|(?P<lo>\w+)(-(?P<hi>\w+))?)(/(?P<step>\d+))?")
CRON_HELP = ("5 fields: minute hour day-of-month month day-of-week, e.g. '0 6 * * *', "
             f"or one of {', '.join(MACROS)}")
SHELL_OPERATORS = (";", "&", "|", "<", ">", "`", "$(", "\n", "\r")
GIT_HTTPS = re.compile(r"https://(?P<authority>[^/\s]+)/\S+")
GIT_SSH = re.compile(r"(ssh://\S+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:\S+)")
IMAGE = re.compile(r"[a-z0-9][a-z0-9._/:-]*(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})")
TARGET = re.compile(r"[a-z][a-z0-9_-]{0,30}")
REVISION = re.compile(r"[A-Za-z0-9._/-]+")


def _dns_name(value: str) -> str:
    if not is_dns_label(value, NAME_MAX):
        raise ValueError(f"'{value}' is not a valid name: use at most {NAME_MAX} lowercase "
                         "letters, digits and '-', starting and ending with a letter or digit")
    return value


def _cron_value(token: str, lo: int, hi: int, names: tuple[str, ...]) -> int:
    if token.upper() in names:
        return lo + names.index(token.upper())
    if not token.isdigit():
        raise ValueError(f"'{token}' is not a number")
    value = int(token)
    if not lo <= value <= hi:
        raise ValueError(f"{value} is outside {lo}-{hi}")
    return value


def cron_problem(schedule: str) -> str | None:
    """Why `schedule` is not a cron schedule Kubernetes accepts, or None."""
    if schedule in MACROS:
        return None
    if "TZ=" in schedule:
        return "time zones are not allowed in the schedule (schedules run in UTC)"
    fields = schedule.split()
    if len(fields) != len(CRON_FIELDS):
        return f"it has {len(fields)} field(s), not {len(CRON_FIELDS)}"
    for text, (name, lo, hi, names) in zip(fields, CRON_FIELDS, strict=True):
        for item in text.split(","):
            m = CRON_ITEM.fullmatch(item)
            if not m or (m["range"] == "?" and name not in ("day-of-month", "day-of-week")):
                return f"{name} '{text}' is not valid"
            try:
                if m["lo"] is not None:
                    first = _cron_value(m["lo"], lo, hi, names)
                    last = _cron_value(m["hi"], lo, hi, names) if m["hi"] else first
                    if last < first:
                        return f"{name} range '{item}' is backwards"
            except ValueError as exc:
                return f"{name} '{text}': {exc}"
            if m["step"] is not None and int(m["step"]) == 0:
                return f"{name} step in '{item}' is 0"
    return None


def _cron(value: str) -> str:
    problem = cron_problem(value)
    if problem:
        raise ValueError(f"'{value}' is not a cron schedule: {problem} ({CRON_HELP})")
    return value


def _command(value: str) -> str:
    if not value.startswith("dbt ") or not value[4:].strip():
        raise ValueError(f"'{value}' must be a dbt command, starting with 'dbt ' "
                         "(e.g. 'dbt build --select tag:daily')")
    bad = [op for op in SHELL_OPERATORS if op in value]
    if bad:
        raise ValueError(f"'{value}' must be one dbt command, without shell operators "
                         f"({' '.join(repr(b) for b in bad)}): add a job per command")
    if value.split()[1:3] == ["docs", "serve"]:
        raise ValueError("'dbt docs serve' starts a web server, not a batch job")
    return value


def pinned_image(value: str) -> str:
    if not IMAGE.fullmatch(value) or value.endswith(":latest") or ":" not in value.rsplit(
            "/", 1)[-1]:
        raise ValueError(f"'{value}' is not a pinned image: give it a version tag or a "
                         "digest (e.g. ghcr.io/dbt-labs/dbt-postgres:1.9.0)")
    return value


def _sub_path(value: str) -> str:
    parts = value.strip("/").split("/") if value.strip("/") else []
    if value.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"'{value}' must be a relative folder of the repository, "
                         "without '.' or '..' (e.g. 'analytics/dbt')")
    return "/".join(parts)


Name = Annotated[str, AfterValidator(_dns_name)]


class DbtJob(Model):
    """One scheduled dbt command of a project (one CronJob)."""

    name: Name = Field(description="Job name, unique in the project (DNS label).")
    schedule: Annotated[str, AfterValidator(_cron)] = Field(
        description="Cron schedule, in UTC (5 fields, e.g. '0 6 * * *', or '@daily').")
    command: Annotated[str, AfterValidator(_command)] = Field(
        description="One dbt command, run after `dbt deps` (e.g. 'dbt build --select "
                    "tag:daily').")
    timeout_minutes: int | None = Field(
        None, ge=1, le=1440, description="Kill a run after this many minutes; default: "
                                         "activeDeadlineSeconds of charts-values/dbt.")


class DbtProject(Model):
    """One dbt project: where its code is, how it connects, and its jobs."""

    name: Name = Field(description="Project name (DNS label), unique in the domain.")
    git_url: str = Field(description="Repository URL: https://… (public) or an ssh URL "
                                     "(git@host:org/repo.git) with gitSshKey.")
    revision: Annotated[str, matching(REVISION, "a valid Git branch, tag or commit")] = Field(
        "main", description="Branch, tag or commit to run.")
    sub_path: Annotated[str, AfterValidator(_sub_path)] = Field(
        "", description="Folder of dbt_project.yml in the repository; '' for its root.")
    image: Annotated[str, AfterValidator(pinned_image)] | None = Field(
        None, description="dbt image, pinned; default: the warehouse type's adapter image "
                          "of charts-values/dbt.")
    target: Annotated[str, matching(TARGET, "a valid dbt target name")] | None = Field(
        None, description="dbt target (`target.name` in models); default: the stack's "
                          "profile (dev or prod).")
    jobs: list[DbtJob] = Field(description="Scheduled commands (at least one).")
    git_ssh_key: SecretValue | None = Field(
        None, description="Private deploy key for an ssh gitUrl, a config secret: `pulumi "
                          "config set --secret --path 'dataplatform:apps.dbt.projects[0]."
                          "gitSshKey' < key`.")
    git_known_hosts: str | None = Field(
        None, description="known_hosts lines of the Git host (ssh); default: the hosts "
                          "listed in charts-values/dbt (GitHub, GitLab).")

    @model_validator(mode="after")
    def _git(self) -> DbtProject:
        p: list[tuple[str, str]] = []
        if not self.jobs:
            p.append(("jobs", f"project '{self.name}' has no jobs: add one with its name, "
                              "schedule and command"))
        https, ssh = GIT_HTTPS.fullmatch(self.git_url), GIT_SSH.fullmatch(self.git_url)
        if https and "@" in https["authority"]:
            p.append(("gitUrl", "credentials do not belong in the URL: use an ssh URL "
                                "and gitSshKey (a config secret)"))
        elif not (https or ssh):
            p.append(("gitUrl", f"'{self.git_url}' is not an https:// or ssh Git URL"))
        elif ssh and self.git_ssh_key is None:
            p.append(("gitSshKey", "an ssh gitUrl needs gitSshKey (a deploy key); use an "
                                   "https:// URL for a public repository"))
        elif https and (self.git_ssh_key is not None or self.git_known_hosts is not None):
            p.append(("gitSshKey", "gitSshKey and gitKnownHosts are for ssh URLs only"))
        if p:
            raise RuleViolations(p)
        return self


class DbtConfig(AppConfig):
    """The dbt runners: one CronJob per job of each project.

    `values` overrides the runners' settings (charts-values/dbt/: images, resources,
    Job limits), like a chart's values.
    """

    projects: list[DbtProject] = Field(
        default_factory=list, description="dbt projects (at least one when enabled).")

    @model_validator(mode="after")
    def _rules(self) -> DbtConfig:
        p: list[tuple[str, str]] = []
        if self.enabled and not self.projects:
            p.append(("projects", "dbt is enabled but lists no projects: add one with its "
                                  "gitUrl and jobs, or disable apps.dbt"))
        if getattr(self, "patches", None):  # a patch must never be a silent no-op
            p.append(("patches", "the dbt runners are the platform's own manifests, not a "
                                 "chart: set their images, resources and Job limits with "
                                 "apps.dbt.values (see charts-values/dbt)"))
        seen: set[str] = set()
        for i, project in enumerate(self.projects):
            if project.name in seen:
                p.append((f"projects.{i}.name", f"project '{project.name}' is listed twice"))
            seen.add(project.name)
            jobs: set[str] = set()
            for j, job in enumerate(project.jobs):
                key = f"projects.{i}.jobs.{j}.name"
                if job.name in jobs:
                    p.append((key, f"job '{job.name}' is listed twice in project "
                                   f"'{project.name}'"))
                jobs.add(job.name)
                cronjob = cronjob_name(project.name, job.name)
                if len(cronjob) > CRONJOB_NAME_MAX:
                    p.append((key, f"CronJob name '{cronjob}' is longer than "
                                   f"{CRONJOB_NAME_MAX} characters: shorten the project "
                                   "or job name"))
        if p:
            raise RuleViolations(p)
        return self


def cronjob_name(project: str, job: str) -> str:
    """Kubernetes name of the CronJob running `job` of `project`."""
    return f"dbt-{project}-{job}"
