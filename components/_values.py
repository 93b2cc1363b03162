"""Helm-values layering, shared by every app and by our own manifest components.

Order (later wins): the chart's own defaults (applied by Helm itself, so not repeated
here), `charts-values/<app>/values.yaml`, `charts-values/<app>/<profile>.yaml`, the stack
file's overrides, then values computed in code (bucket names, endpoints, secret names).
Maps merge deeply; lists and scalars replace; `null` removes a key, as in Helm: it is
kept in the merged values so that Helm removes the chart's own default of that key too.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pulumi
from pydantic import BaseModel, ValidationError

from foundation import yamlfile
from foundation.layout import VALUES_DIR

T = TypeVar("T", bound=BaseModel)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `override` onto a copy of `base` with Helm's semantics."""
    return _merged(base, override, keep_nulls=False)


def layer(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge one of our layers onto the layers below it. Like `deep_merge`, but a `null`
    stays in the result, so Helm deletes the chart default of that key too (a key the
    chart sets, such as a default config file, can only be removed that way)."""
    return _merged(base, override, keep_nulls=True)


def _merged(base: Mapping[str, Any], override: Mapping[str, Any], *,
            keep_nulls: bool) -> dict[str, Any]:
    """A new tree: `base`'s keys in order, then `override`'s new ones. Each value is
    copied once (layers come from cached files, so the result must share nothing)."""
    out: dict[str, Any] = {}
    for key, value in base.items():
        out[key] = _copy(value) if key not in override else value
    for key, value in override.items():
        if value is None and not keep_nulls:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value, keep_nulls=keep_nulls)
        else:
            out[key] = _copy(value)
    return out


def _copy(value: Any) -> Any:
    """A copy of the maps and lists of a values tree; anything else (scalars, Outputs)
    is immutable or not ours to copy, and is kept as it is."""
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    return value


@cache
def _read(path: Path) -> dict[str, Any]:
    data = yamlfile.read(path) if path.is_file() else None
    if data is not None and not isinstance(data, dict):
        raise ValueError(f"{path}: a values file must hold a mapping")
    return data or {}


def file_layers(app: str, profile: str, values_dir: Path = VALUES_DIR) -> list[dict[str, Any]]:
    """The file layers of `app`: its base values, then its profile file (each may be absent)."""
    return [_read(values_dir / app / "values.yaml"), _read(values_dir / app / f"{profile}.yaml")]


def static_values(app: str, profile: str, overrides: Mapping[str, Any] | None = None,
                  values_dir: Path = VALUES_DIR) -> dict[str, Any]:
    """File layers plus the stack overrides: everything known before deployment."""
    merged: dict[str, Any] = {}
    for layer_values in [*file_layers(app, profile, values_dir), dict(overrides or {})]:
        merged = layer(merged, layer_values)
    return merged


def layered_values(app: str, profile: str, overrides: Mapping[str, Any] | None = None,
                   computed: pulumi.Input[Mapping[str, Any]] | None = None,
                   values_dir: Path = VALUES_DIR) -> pulumi.Output[dict[str, Any]]:
    """All layers, the computed ones last. Computed values may hold Outputs."""
    return with_computed(static_values(app, profile, overrides, values_dir), computed)


def with_computed(static: Mapping[str, Any], computed: pulumi.Input[Mapping[str, Any]] | None
                  ) -> pulumi.Output[dict[str, Any]]:
    """The static layers with the values computed in code on top (they may hold Outputs)."""
    return pulumi.Output.from_input(computed or {}).apply(lambda c: layer(static, c))


def typed_settings(app: str, profile: str, model: type[T],
                   overrides: Mapping[str, Any] | None = None,
                   values_dir: Path = VALUES_DIR) -> T:
    """Layered settings of one of our own components, validated by its settings model.

    Our own manifests (MinIO, Postgres) keep their images and sizes in charts-values/
    like the charts do, so one layering rule and one place to look hold for both.
    """
    # Our own manifests have no chart defaults below them: a null only removes.
    merged = _drop_nulls(static_values(app, profile, overrides, values_dir))
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        where = values_dir / app
        raise ValueError(f"invalid settings in {where}/ (values.yaml, {profile}.yaml): "
                         f"{exc}") from None
