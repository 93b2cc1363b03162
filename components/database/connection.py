"""The typed connection details an app needs to reach its metadata database."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class DatabaseConnection:
    """Where an app's database is, and the Secret holding its credentials.

    Apps reference `secret_name` (keys host, port, database, username, password),
    `existingSecret`-style. `password` exists only for charts that take nothing but a
    connection URI (Airflow): it may only ever go into a Secret's string_data.
    """

    host: pulumi.Output[str]
    port: pulumi.Output[int]
    database: pulumi.Output[str]
    user: pulumi.Output[str]
    secret_name: pulumi.Output[str]
    password: pulumi.Output[str] | None = None
    """The app's password, a secret Output (None: not handed out)."""

    def as_dict(self) -> dict[str, pulumi.Output]:
        return {k: v for k, v in self.__dict__.items() if k != "password"}
