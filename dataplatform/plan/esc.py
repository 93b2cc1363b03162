"""Pulumi ESC environments a stack file imports: the offline plan cannot open them.

Opening an environment needs Pulumi Cloud (and often cloud credentials through OIDC), so
the offline plan plans with the stack file's own config and says so, naming the
environments, instead of ignoring them silently.
"""

from __future__ import annotations

from pathlib import Path

from foundation import yamlfile
from foundation.config.loader import esc_imports


def esc_notice(path: Path, source: str) -> str | None:
    """One line for stderr when the stack file imports ESC environments, else None."""
    names = esc_imports(yamlfile.read(path))
    if not names:
        return None
    return (f"{source}: environment imports {', '.join(names)} (Pulumi ESC): the offline plan "
            "cannot open them and planned with this file's own config only; config, secrets "
            "and credentials they would supply are missing here (`pulumi preview` opens them)")
