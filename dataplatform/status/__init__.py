"""`dataplatform status STACK`: what `pulumi up` left running, and how to reach it.

- `outputs.py` reads the stack's outputs with the Pulumi CLI (masked; only a `kubeconfig`
  output is revealed, kept in memory) and finds how to reach the stack's cluster;
- `cluster.py` asks the cluster, with the Kubernetes Python client: Argo CD Applications,
  Helm release Secrets, and Alertmanager through the API server's service proxy;
- `report.py` turns the stack's `appsAccess` output and those answers into per-app states and
  prints them; `command.py` is the command (`--wait`, `--timeout`, `--json`, exit codes).
"""

from __future__ import annotations


class StatusError(Exception):
    """A reason the status cannot be read: one message, an exit code, no traceback."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code
