"""Config secrets: values set with `pulumi config set --secret --path dataplatform:<key>`.

A stack file holds them only in Pulumi's encrypted form (`{secure: v1:...}`); the loader
never decrypts. A model field typed `SecretValue` accepts exactly that form (a plain value
there is an error), and components read the decrypted value through `config_secret`,
which returns a secret Output: under `pulumi up` the CLI decrypts it, under the offline
plan a placeholder stands in (`offline_config`).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PROJECT = "dataplatform"
PLACEHOLDER = "offline-placeholder"
SECRET_ONLY = ("must be a Pulumi secret, not plain text: set it with "
               "`pulumi config set --secret --path {key} <value>`")


class SecretValue(BaseModel):
    """A Pulumi-encrypted config value; set it with `pulumi config set --secret --path`."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    secure: str = Field(description="Ciphertext written by the Pulumi CLI.")

    @model_validator(mode="before")
    @classmethod
    def _encrypted_only(cls, value: Any) -> Any:
        if not (isinstance(value, dict) and set(value) == {"secure"}) and not isinstance(
                value, SecretValue):
            raise ValueError(SECRET_ONLY)
        return value

    @field_validator("secure")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value:
            raise ValueError("the encrypted value is empty")
        return value




def _dig(value: Any, path: list[str]) -> str:
    for part in path:
        value = value[int(part)] if isinstance(value, list) else value[part]
    return str(value)


def config_secret(path: str) -> pulumi.Output[str]:
    """The decrypted value at `path` (dotted, below `dataplatform:`), as a secret Output."""
    top, *rest = path.split(".")
    conf = pulumi.Config(PROJECT)
    if not rest:
        return pulumi.Output.secret(conf.require_secret(top))
    return pulumi.Output.secret(conf.require_secret_object(top).apply(lambda v: _dig(v, rest)))


def secret_paths(value: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Where SecretValues sit in a (dumped) config, as key paths."""
    if isinstance(value, SecretValue):
        return [path]
    if isinstance(value, BaseModel):
        return [p for name, field in type(value).model_fields.items()
                for p in secret_paths(getattr(value, name), (*path, field.alias or name))]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in secret_paths(v, (*path, str(k)))]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in secret_paths(v, (*path, str(i)))]
    return []


def offline_config(cfg: BaseModel) -> tuple[dict[str, str], list[str]]:
    """Pulumi config for the mock engine: every secret replaced by a placeholder.

    Returns (config, secret_keys) in the form `pulumi.runtime.set_all_config` takes.
    """
    dumped = cfg.model_dump(by_alias=True, mode="json")
    secret_tops: set[str] = set()
    for path in secret_paths(cfg):
        node = dumped
        for part in path[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = path[-1]
        value = f"{PLACEHOLDER}:{'.'.join(path)}"
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
        secret_tops.add(path[0])
    config = {f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v)
              for k, v in dumped.items() if v is not None}
    return config, sorted(f"{PROJECT}:{k}" for k in secret_tops)
