"""The stack's outputs, read with the Pulumi CLI, and where its cluster is.

`pulumi stack output --json --show-secrets=false` prints every secret as `[secret]`. The
Automation API's `Stack.outputs()` runs the same CLI but with `--show-secrets`, decrypting
every secret output; here only a `kubeconfig` output is revealed, on its own, when the
cluster is reached through it, and it stays in memory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from dataplatform.status import StatusError
from foundation.layout import REPO_ROOT

ACCESS = "appsAccess"
"""The output naming each app of the stack (DomainStack, PlatformStack)."""
SECRET = "[secret]"
"""How the CLI prints a secret output without --show-secrets."""
EXIT_UNHEALTHY, EXIT_INPUT = 1, 2


class OutputsReader(Protocol):
    def outputs(self, stack: str) -> dict[str, Any]:
        """The stack's outputs, secrets masked."""

    def reveal(self, stack: str, key: str) -> str:
        """One secret output in plain text."""


Runner = Callable[..., subprocess.CompletedProcess]


class PulumiCli:
    """`pulumi stack output` in the project folder, against the logged-in backend."""

    def __init__(self, project_dir: Path = REPO_ROOT, binary: str | None = None,
                 runner: Runner = subprocess.run):
        self.project_dir, self.binary, self.runner = project_dir, binary, runner

    def _run(self, stack: str, *args: str) -> str:
        binary = self.binary or shutil.which("pulumi")
        if binary is None:
            raise StatusError("status: the Pulumi CLI is not on PATH; it reads the stack's "
                              "outputs (https://www.pulumi.com/docs/install/)", EXIT_INPUT)
        try:
            done = self.runner([binary, "stack", "output", *args, "--stack", stack,
                                "--non-interactive"], cwd=self.project_dir,
                               capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StatusError(f"status: cannot run the Pulumi CLI: {exc}",
                              EXIT_UNHEALTHY) from None
        if done.returncode != 0:
            raise _cli_error(stack, done.stderr)
        return str(done.stdout)

    def outputs(self, stack: str) -> dict[str, Any]:
        text = self._run(stack, "--json", "--show-secrets=false")
        try:
            data = json.loads(text or "{}")
        except ValueError:
            raise StatusError(f"status: `pulumi stack output --json` for {stack} printed "
                              "no JSON", EXIT_UNHEALTHY) from None
        if not isinstance(data, dict):
            raise StatusError(f"status: the outputs of {stack} are not an object",
                              EXIT_UNHEALTHY)
        return data

    def reveal(self, stack: str, key: str) -> str:
        return self._run(stack, key, "--show-secrets").rstrip("\n")


def _cli_error(stack: str, stderr: str) -> StatusError:
    lines = [ln.strip() for ln in (stderr or "").splitlines() if ln.strip()]
    reason = next((ln for ln in lines if ln.lower().startswith("error")), lines[-1]
                  if lines else "no message").removeprefix("error: ")
    if "no stack named" in reason.lower() or "not found" in reason.lower():
        return StatusError(f"status: stack '{stack}' is not in the current Pulumi backend "
                           f"({reason}); `pulumi login` to its backend, and `pulumi up -s "
                           f"{stack}` first", EXIT_INPUT)
    return StatusError(f"status: cannot read the outputs of stack '{stack}': {reason}",
                       EXIT_UNHEALTHY)


@dataclass(frozen=True)
class ClusterTarget:
    """How to reach the cluster: a kubeconfig's content or the default file, a context."""

    kubeconfig: str | None
    context: str | None
    source: str
    """Where that came from, for the report."""


@dataclass(frozen=True)
class StackView:
    """What the status needs from the stack and, for a domain, its platform stack."""

    outputs: Mapping[str, Any]
    access: Mapping[str, Any]
    cluster: ClusterTarget
    alertmanager: tuple[str, str, int] | None
    """(namespace, Service, port) of the cluster's Alertmanager, when known."""


def stack_view(stack: str, platform: str | None, kube_context: str | None,
               reader: OutputsReader) -> StackView:
    """Outputs of `stack`; its cluster from its own `kubeconfig`/`kubeContext` outputs, its
    platform stack's, the stack file's `cluster.kubeContext`, or the default context."""
    own = reader.outputs(stack)
    access = own.get(ACCESS)
    if not isinstance(access, dict):
        raise StatusError(f"status: stack '{stack}' has no `{ACCESS}` output: run `pulumi up "
                          f"-s {stack}` with this version of the project", EXIT_INPUT)
    holder, held = stack, own
    if "kubeconfig" not in own and "kubeContext" not in own and platform:
        holder, held = platform, reader.outputs(platform)
    if held.get("kubeconfig") not in (None, ""):
        text = held["kubeconfig"]
        if text == SECRET:
            text = reader.reveal(holder, "kubeconfig")
        target = ClusterTarget(text, held.get("kubeContext"), f"kubeconfig output of {holder}")
    elif held.get("kubeContext"):
        target = ClusterTarget(None, held["kubeContext"],
                               f"context {held['kubeContext']} (output of {holder})")
    elif kube_context:
        target = ClusterTarget(None, kube_context, f"context {kube_context} (stack file)")
    else:
        target = ClusterTarget(None, None, "the current kubeconfig context")
    return StackView(own, access, target, _alertmanager(access, held))


def _alertmanager(access: Mapping[str, Any],
                  holder: Mapping[str, Any]) -> tuple[str, str, int] | None:
    for source in (access, holder.get(ACCESS) or {}):
        entry = source.get("monitoring") if isinstance(source, Mapping) else None
        am = entry.get("alertmanager") if isinstance(entry, Mapping) else None
        if isinstance(entry, Mapping) and isinstance(am, Mapping) and am.get("service"):
            return str(entry["namespace"]), str(am["service"]), int(am["port"])
    return None
