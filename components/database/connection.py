"""The typed connection details an app needs to reach its metadata database."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class DatabaseConnection:
    """Where an app's database is, and the Secret holding its credentials.

    The password itself never appears here: apps reference `secret_name`
    (keys host, port, database, username, password), `existingSecret`-style.
    """

    host: pulumi.Output[str]
    port: pulumi.Output[int]
    database: pulumi.Output[str]
    user: pulumi.Output[str]
    secret_name: pulumi.Output[str]

    def as_dict(self) -> dict[str, pulumi.Output]:
        return dict(self.__dict__)
