"""Profile-dependent sizes kept as data in `profiles/<area>.yaml` (one section per profile)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from foundation import yamlfile

M = TypeVar("M", bound=BaseModel)


@cache
def _read(path: Path) -> dict:
    return yamlfile.read(path) or {}


def profile_section(path: Path, profile: str, model: type[M]) -> M:
    """The `profile` section of the profiles file `path`, validated by `model`."""
    data = _read(path)
    if profile not in data:
        raise ValueError(f"{path.name} has no profile '{profile}'")
    return model.model_validate(data[profile])
